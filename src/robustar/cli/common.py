"""What every command shares: the Typer apps, the consoles, argument types."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.table import Table

if TYPE_CHECKING:  # imported when a command runs, so that --help stays fast
    from robustar.models.versions import VersionInfo
    from robustar.workspace import Workspace

app = typer.Typer(
    help="Robustar: find and fix what image models get wrong.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
models_app = typer.Typer(help="Model versions: list, import, make current.", no_args_is_help=True)
masks_app = typer.Typer(help="Masks: import, export, progress, coverage.", no_args_is_help=True)
jobs_app = typer.Typer(help="Jobs: list, cancel, resume.", no_args_is_help=True)
attribute_app = typer.Typer(
    help="Data attribution: build, query, suspicious.", no_args_is_help=True
)
proposals_app = typer.Typer(
    help="Auto-annotation proposals: list, accept, reject.", no_args_is_help=True
)
db_app = typer.Typer(help="The workspace database: upgrade, migrate.", no_args_is_help=True)
runs_app = typer.Typer(
    help="Unfinished training runs (stopped outside jobs): list, clean.", no_args_is_help=True
)
app.add_typer(models_app, name="models")
app.add_typer(masks_app, name="masks")
app.add_typer(proposals_app, name="proposals")
app.add_typer(jobs_app, name="jobs")
app.add_typer(attribute_app, name="attribute")
app.add_typer(db_app, name="db")
app.add_typer(runs_app, name="runs")
console = Console(stderr=True)
stdout = Console()

WorkspaceDir = Annotated[Path, typer.Argument(help="workspace folder")]
MaskKind = Annotated[str, typer.Option("--kind", help="spurious or object")]
Quiet = Annotated[bool, typer.Option("--quiet", "-q", help="no progress bars")]


def open_workspace(path: Path) -> Workspace:
    from robustar.workspace import Workspace

    return Workspace.open(path)


def percent(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.1f}%"


def print_versions(versions: list[VersionInfo], splits: list[str]) -> None:
    table = Table("", "id", "name", "parent", "architecture", "source", *splits)
    for v in versions:
        accuracy = [percent(v.metrics.get(s, {}).get("accuracy")) for s in splits]
        table.add_row(
            "*" if v.is_current else v.status if v.status == "candidate" else "",
            str(v.id),
            v.name,
            "-" if v.parent_id is None else str(v.parent_id),
            v.architecture,
            v.source,
            *accuracy,
        )
    stdout.print(table)
