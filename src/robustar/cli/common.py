"""What every command shares: the Typer apps, the consoles, argument types."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
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
users_app = typer.Typer(
    help="Team accounts: add, list, set-role, disable, enable, password, token, revoke.",
    no_args_is_help=True,
)
discover_app = typer.Typer(
    help="Failure discovery beyond the test set (attribute edits).", no_args_is_help=True
)
app.add_typer(discover_app, name="discover")
app.add_typer(runs_app, name="runs")
app.add_typer(users_app, name="users")
console = Console(stderr=True)
stdout = Console()

WorkspaceDir = Annotated[Path, typer.Argument(help="workspace folder")]
MaskKind = Annotated[str, typer.Option("--kind", help="spurious or object")]
Quiet = Annotated[bool, typer.Option("--quiet", "-q", help="no progress bars")]
# Long commands: their work grows with the data (every image of a split, a training run, an
# index), so they report progress and must take -q/--quiet; tests/test_cli_quiet.py checks it.
LONG_COMMANDS = frozenset(
    {
        "init",
        "import-hf",
        "demo",
        "scan",
        "predict",
        "train",
        "explain",
        "compare",
        "repair-search",
        "problems make",
        "masks auto",
        "masks import",
        "tiles make",
        "attribute build",
        "attribute suspicious",
        "discover edits run",
        "discover edits load-masks",
        "discover mad score",
        "discover mad finetune",
        "discover defuse vae",
        "discover defuse search",
        "discover defuse correct",
    }
)


def _floats(text: str) -> list[float]:
    try:
        return [float(v) for v in text.replace(",", " ").split()]
    except ValueError:
        raise typer.BadParameter(
            f"{text!r}: give 3 numbers, one per RGB channel (0.485,0.456,0.406), or 1 for a "
            "grey model (0.5)"
        ) from None


_CHANNELS = "3 numbers (R,G,B) or 1 for grey"
Mean = Annotated[
    Any,
    typer.Option(
        parser=_floats, metavar="R,G,B", help=f"input mean, {_CHANNELS} (ImageNet's unless set)"
    ),
]
Std = Annotated[
    Any,
    typer.Option(
        parser=_floats, metavar="R,G,B", help=f"input std, {_CHANNELS} (ImageNet's unless set)"
    ),
]


def print_warnings(version: VersionInfo) -> None:
    """What an import found questionable (e.g. the weights declare another normalisation)."""
    for warning in version.config.get("warnings", []):
        console.print(f"[yellow]warning[/]: {escape(warning)}", soft_wrap=True)


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
            ("*" if v.is_current else "" if v.status == "ready" else v.status)
            + (" pinned" if v.pinned else ""),
            str(v.id),
            v.name,
            "-" if v.parent_id is None else str(v.parent_id),
            v.architecture,
            v.source,
            *accuracy,
        )
    stdout.print(table)
