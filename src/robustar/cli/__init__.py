"""The `robustar` command line: a thin face over robustar.Workspace.

Each module registers its commands on the apps in `common`; `main` runs them and turns
expected mistakes into one error line and a fix, with exit status 2.
"""

from __future__ import annotations

import sys

import typer
from rich.markup import escape

from robustar.cli import (  # noqa: F401  (importing registers the commands)
    assignment_commands,
    create_commands,
    db_commands,
    defuse_commands,
    edit_commands,
    explain_commands,
    housekeeping_commands,
    job_commands,
    mad_commands,
    mask_commands,
    model_commands,
    problem_commands,
    proposal_commands,
    run_commands,
    search_commands,
    tile_commands,
    user_commands,
    workspace_commands,
)
from robustar.cli.common import app, console
from robustar.errors import RobustarError

# `--help` lists commands as registered, which follows the modules' import order; a new user
# meets the commands that make and use a workspace first.
FIRST = ("init", "import-hf", "demo", "info", "scan", "predict", "train", "serve", "worker")


def _place(command: typer.models.CommandInfo) -> int:
    name = command.name or (command.callback.__name__.replace("_", "-") if command.callback else "")
    return FIRST.index(name) if name in FIRST else len(FIRST)


app.registered_commands.sort(key=_place)


def main() -> None:
    try:
        app()
    except RobustarError as error:
        # escaped: messages name config fields as "[data] train", which Rich reads as markup
        console.print(f"[red]error[/]: {escape(error.what)}", highlight=False, soft_wrap=True)
        if error.fix:
            console.print(f"  [bold]fix[/]: {escape(error.fix)}", highlight=False, soft_wrap=True)
        sys.exit(2)
    except KeyboardInterrupt:
        console.print("interrupted")
        sys.exit(130)
