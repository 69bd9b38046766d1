"""Every long command takes -q/--quiet (README: 'Long commands show progress bars (-q hides
them)'); a long command is one listed in robustar.cli.common.LONG_COMMANDS."""

from collections.abc import Iterator
from typing import Any

import typer.main
from typer.core import TyperGroup

from robustar.cli import app
from robustar.cli.common import LONG_COMMANDS
from robustar.cli.derive import Deferred


def _commands(group: TyperGroup, prefix: str = "") -> Iterator[tuple[str, Any]]:
    """(name, command) of every command, derived ones built (typer carries its own click)."""
    for name, command in group.commands.items():
        if isinstance(command, TyperGroup):
            yield from _commands(command, f"{prefix}{name} ")
        else:
            yield f"{prefix}{name}", command.build() if isinstance(command, Deferred) else command


def _root() -> TyperGroup:
    root = typer.main.get_command(app)
    assert isinstance(root, TyperGroup)
    return root


def test_every_long_command_takes_quiet() -> None:
    commands = dict(_commands(_root()))
    assert set(commands) >= LONG_COMMANDS, "LONG_COMMANDS names a command that does not exist"
    without = sorted(
        name
        for name in LONG_COMMANDS
        if not {"-q", "--quiet"}
        <= {flag for p in commands[name].params for flag in getattr(p, "opts", [])}
    )
    assert not without, f"long commands without -q/--quiet: {without}"


def test_the_walk_sees_derived_commands_and_groups() -> None:
    """The walk is not vacuous: it reaches sub-commands and the flags of derived commands."""
    commands = dict(_commands(_root()))
    flags = {flag for p in commands["train"].params for flag in getattr(p, "opts", [])}
    assert {"--epochs", "-q"} <= flags and "attribute suspicious" in commands
