"""Model versions: list, use, import, architectures; compare two of them."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape
from rich.table import Table

from robustar.cli.common import (
    Mean,
    Quiet,
    Std,
    WorkspaceDir,
    app,
    console,
    models_app,
    open_workspace,
    percent,
    print_versions,
    print_warnings,
    stdout,
)
from robustar.cli.progress import progress_bars

if TYPE_CHECKING:
    from robustar.verdict import RepairReport


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
    mean: Mean = None,
    std: Std = None,
    image_size: Annotated[int | None, typer.Option(help="model input size in pixels")] = None,
) -> None:
    """Import a state dict (.pt/.pth or .safetensors) as a new current version. --mean, --std
    and --image-size change the workspace's image settings (for every version); input
    settings the weights declare otherwise are reported as warnings."""
    workspace = open_workspace(directory)
    others = workspace.models
    if workspace.set_model_input(mean, std, image_size) and others:
        console.print(
            escape(
                f"[image] settings changed for every version; run 'robustar predict {directory}'"
                " again to score the older ones with them"
            )
        )
    version = workspace.import_model(checkpoint, architecture, name)
    stdout.print(f"imported {checkpoint} as model version {version.id} ({version.architecture})")
    print_warnings(version)


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
    report_file: Annotated[
        Path | None,
        typer.Option(
            "--report",
            help="also write the report to share, as HTML (.html) or Markdown (.md)",
            dir_okay=False,
        ),
    ] = None,
    quiet: Quiet = False,
) -> None:
    """A version against another: the verdict in words, accuracy per split, fixed / broken /
    changed predictions, accuracy with the annotated spurious regions filled and the saliency
    inside them."""
    workspace = open_workspace(directory)
    # a wrong suffix fails before any work
    from robustar.report import format_of  # torch and the library: only when run

    chosen = format_of(report_file.name) if report_file is not None else None
    with progress_bars(console, not quiet and predict) as progress:
        report = workspace.compare(before, after, predict, progress)
    if report_file is not None and chosen is not None:
        report_file.write_text(workspace.render_report(report, chosen), encoding="utf-8")
        console.print(f"wrote the report to {report_file}")
    if as_json:
        stdout.print_json(json.dumps(asdict(report)))
    else:
        print_comparison(report)


def _points(before: float | None, after: float | None) -> str:
    return "-" if before is None or after is None else f"{100 * (after - before):+.1f}"


def print_comparison(report: RepairReport) -> None:
    b, a = f"v{report.before}", f"v{report.after}"
    stdout.print(f"[bold]{escape(report.verdict.conclusion)}[/]")
    for sentence in report.verdict.sentences:
        stdout.print(f"- {escape(sentence)}")
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
