"""Model versions: list, use, import, architectures; compare two of them."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from robustar.cli.common import (
    Quiet,
    WorkspaceDir,
    app,
    console,
    models_app,
    open_workspace,
    percent,
    print_versions,
    stdout,
)
from robustar.cli.progress import progress_bars

if TYPE_CHECKING:
    from robustar.repair import Comparison


@models_app.command("list")
def models_list(directory: WorkspaceDir) -> None:
    """All model versions with lineage and accuracy; * marks the current one, 'candidate'
    one the regression guard held back."""
    workspace = open_workspace(directory)
    print_versions(workspace.models, list(workspace.folders))


@models_app.command("use")
def models_use(directory: WorkspaceDir, version: int) -> None:
    """Make a model version current (this promotes a candidate the guard held back)."""
    workspace = open_workspace(directory)
    was = workspace.model(version).status
    chosen = workspace.use_model(version)
    promoted = " (promoted from candidate)" if was != chosen.status else ""
    stdout.print(f"model version {chosen.id} ({chosen.name}) is now current{promoted}")


@models_app.command("import")
def models_import(
    directory: WorkspaceDir,
    checkpoint: Path,
    architecture: Annotated[str | None, typer.Option()] = None,
    name: Annotated[str | None, typer.Option()] = None,
) -> None:
    """Import a state dict (.pt/.pth or .safetensors) as a new current version."""
    version = open_workspace(directory).import_model(checkpoint, architecture, name)
    stdout.print(f"imported {checkpoint} as model version {version.id} ({version.architecture})")


@models_app.command("architectures")
def models_architectures() -> None:
    """Model names that `architecture` accepts."""
    from robustar.models.registry import list_models

    for source, names in list_models().items():
        stdout.print(f"[bold]{source}[/] ({len(names)}): {' '.join(names[:60])}")


@app.command()
def compare(
    directory: WorkspaceDir,
    before: Annotated[int | None, typer.Option(help="default: the parent of --after")] = None,
    after: Annotated[int | None, typer.Option(help="default: the current version")] = None,
    predict: Annotated[bool, typer.Option(help="first run the missing predictions")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="machine-readable output")] = False,
    quiet: Quiet = False,
) -> None:
    """A version against another: accuracy per split, fixed / broken / changed predictions,
    accuracy with the annotated spurious regions filled and the saliency inside them."""
    workspace = open_workspace(directory)
    with progress_bars(console, not quiet and predict) as progress:
        report = workspace.compare(before, after, predict, progress)
    if as_json:
        stdout.print_json(json.dumps(asdict(report)))
    else:
        print_comparison(report)


def _points(before: float | None, after: float | None) -> str:
    return "-" if before is None or after is None else f"{100 * (after - before):+.1f}"


def print_comparison(report: Comparison) -> None:
    b, a = f"v{report.before}", f"v{report.after}"
    table = Table("split", "images", b, a, "points", "fixed", "broken", "changed")
    for s in report.splits:
        table.add_row(
            s.split,
            str(s.images),
            percent(s.before),
            percent(s.after),
            _points(s.before, s.after),
            str(s.fixed),
            str(s.broken),
            str(s.changed),
        )
    stdout.print(table)
    filled = report.filled
    if filled is None:
        stdout.print("no annotated test images: no accuracy with the masks filled")
        return
    stdout.print(
        f"{filled.images} annotated test images, as they are and with their spurious masks "
        f"filled ({filled.filler}):"
    )
    rows = (
        ("original", filled.before_original, filled.after_original),
        ("masks filled", filled.before_filled, filled.after_filled),
        ("saliency inside masks", filled.before_saliency_in_mask, filled.after_saliency_in_mask),
    )
    reliance = Table("", b, a, "points")
    for name, old, new in rows:
        reliance.add_row(name, percent(old), percent(new), _points(old, new))
    stdout.print(reliance)
