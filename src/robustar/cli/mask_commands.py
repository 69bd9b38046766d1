"""Masks: export, import, progress, batch auto-annotation."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from robustar.cli.common import (
    MaskKind,
    Quiet,
    WorkspaceDir,
    console,
    masks_app,
    open_workspace,
    stdout,
)
from robustar.cli.derive import Fields, command
from robustar.cli.progress import progress_bars

if TYPE_CHECKING:
    from robustar.annotations.coverage import Coverage
    from robustar.annotations.transfer.options import ImportReport


@command(masks_app, "export")
def masks_export(
    directory: WorkspaceDir,
    out: Annotated[Path, typer.Argument(help="a folder (png), a .zip (png) or a .json file")],
    options: Annotated[
        dict[str, Any], Fields("robustar.annotations.transfer.options:ExportOptions")
    ],
) -> None:
    """Write the current masks for other tools: PNG (0/255), COCO (RLE or polygons) or Label
    Studio brush labels."""
    count = open_workspace(directory).masks.export_to(out, **options)
    kind = options.get("kind", "spurious")
    stdout.print(f"exported {count} {kind} masks to {escape(str(out))}")


@command(masks_app, "import")
def masks_import(
    directory: WorkspaceDir,
    source: Annotated[Path, typer.Argument(help="a PNG folder or .zip, or a JSON file")],
    options: Annotated[
        dict[str, Any], Fields("robustar.annotations.transfer.options:ImportOptions")
    ],
    quiet: Quiet = False,
) -> None:
    """Read masks (PNG, COCO, Label Studio); nothing is stored unless every mask is valid and
    every name matches one image (or --skip-unmatched); --dry-run reports what would change."""
    workspace = open_workspace(directory)
    with progress_bars(console, not quiet) as progress:
        report = workspace.masks.import_from(source, progress=progress, **options)
    print_import(report)


def print_import(report: ImportReport) -> None:
    """The counts, then every name that matched no image or several."""
    changed = (
        f"{report.would_change} would change (dry run: nothing stored)"
        if report.dry_run
        else f"{report.stored} changed and stored"
    )
    stdout.print(f"{report.masks} masks read, {report.matched} images matched, {changed}")
    if report.unmatched:
        stdout.print(f"{len(report.unmatched)} match no image:")
        for name in report.unmatched:
            stdout.print(f"  {escape(name)}")
    if report.ambiguous:
        stdout.print(f"{len(report.ambiguous)} match several images:")
        for name, images in report.ambiguous.items():
            stdout.print(f"  {escape(name)}: {escape(', '.join(images))}")


@masks_app.command("progress")
def masks_progress(directory: WorkspaceDir, kind: MaskKind = "spurious") -> None:
    """Annotated images per split and class."""
    progress = open_workspace(directory).masks.progress(kind)
    table = Table("split", "annotated", "images", "per class (annotated/images)")
    for split, classes in progress.items():
        done = sum(d for d, _ in classes.values())
        total = sum(t for _, t in classes.values())
        detail = " ".join(f"{name}:{d}/{t}" for name, (d, t) in classes.items())
        table.add_row(split, str(done), str(total), detail)
    stdout.print(table)


def print_coverage(report: Coverage, quiet: bool = False) -> None:
    """The per-class table, then the verdict; `quiet` keeps only a skew warning."""
    if not quiet:
        table = Table(
            "class",
            "images",
            "annotated",
            "share",
            title=f"spurious masks, {report.split}",
            caption="share: the class's part of all annotated images",
        )
        for c in report.classes:
            table.add_row(c.name, str(c.images), str(c.annotated), f"{c.share:.0%}")
        table.add_row("all", str(report.images), str(report.annotated), "", style="bold")
        stdout.print(table)
    if report.skewed:
        console.print(f"[yellow]warning[/]: skewed masks: {escape(report.reason)}")
    elif not quiet:
        stdout.print(escape(report.reason))


@masks_app.command("coverage")
def masks_coverage(
    directory: WorkspaceDir,
    split: Annotated[str, typer.Option(help="a labelled split")] = "train",
) -> None:
    """Spurious masks per class (share: the class's part of all annotated images), with a
    warning when they are too skewed for paired training."""
    print_coverage(open_workspace(directory).mask_coverage(split))


@command(masks_app, "auto")
def masks_auto(
    directory: WorkspaceDir,
    request: Annotated[
        dict[str, Any],
        Fields("robustar.annotations.proposals:AutoAnnotate"),
    ],
    queue: Annotated[bool, typer.Option(help="queue a job for the worker instead")] = False,
    quiet: Quiet = False,
) -> None:
    """Propose masks for a split (filtered like the gallery: --filters '{"label": "cat"}');
    proposals wait for review: 'robustar proposals list|accept|reject'."""
    workspace = open_workspace(directory)
    if queue:
        job = workspace.jobs.auto_annotate(**request)
        stdout.print(f"queued auto-annotation as job {job.id}; 'robustar worker' runs it")
        return
    with progress_bars(console, not quiet) as progress:
        made = workspace.masks.auto_annotate(progress, **request)
    stdout.print(
        f"{made.proposals} proposals waiting for review: 'robustar proposals list {directory}'"
    )
    if made.empty:
        stdout.print(f"{made.empty} images got no proposal (the method found nothing)")
