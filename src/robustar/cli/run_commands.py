"""Unfinished training runs: list them, remove them (resuming is `train --resume`)."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from robustar.cli.common import WorkspaceDir, open_workspace, runs_app, stdout
from robustar.errors import DataError


@runs_app.command("list")
def runs_list(directory: WorkspaceDir) -> None:
    """Runs stopped after an epoch (a killed CLI or Python training), oldest first."""
    runs = open_workspace(directory).unfinished_runs()
    if not runs:
        stdout.print("no unfinished runs")
        return
    table = Table("name", "epochs done", "stopped (UTC)")
    for run in runs:
        done = f"{run.epochs_done}/{run.epochs or '?'}"
        table.add_row(escape(run.name), done, f"{run.stopped_at:%Y-%m-%d %H:%M}")
    stdout.print(table)
    stdout.print("resume one with 'robustar train DIR --resume NAME'")


@runs_app.command("clean")
def runs_clean(
    directory: WorkspaceDir,
    names: Annotated[list[str] | None, typer.Argument(help="runs to remove")] = None,
    every: Annotated[bool, typer.Option("--all", help="remove every unfinished run")] = False,
) -> None:
    """Remove unfinished runs' folders (their epoch checkpoints and curves)."""
    workspace = open_workspace(directory)
    if bool(names) == every:
        raise DataError(
            "name the runs to remove, or give --all (not both)",
            "'robustar runs list DIR' lists them",
        )
    chosen = names or [run.name for run in workspace.unfinished_runs()]
    for name in chosen:
        workspace.delete_run(name)
    stdout.print(f"removed {len(chosen)} unfinished run{'s' if len(chosen) != 1 else ''}")
