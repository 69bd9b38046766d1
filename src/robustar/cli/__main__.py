"""`python -m robustar.cli`, the same as the `robustar` command."""

from robustar.cli import main

main()
