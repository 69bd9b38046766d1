"""Masks: export, import, progress."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from robustar.cli.common import (
    WorkspaceDir,
    masks_app,
    open_workspace,
    stdout,
)

MaskFormat = Annotated[str, typer.Option("--format", help="png (a folder) or coco (a JSON file)")]


MaskKind = Annotated[str, typer.Option("--kind", help="spurious or object")]


@masks_app.command("export")
def masks_export(
    directory: WorkspaceDir,
    out: Path,
    format: MaskFormat = "png",
    kind: MaskKind = "spurious",
    split: Annotated[str | None, typer.Option(help="one split only")] = None,
) -> None:
    """Write the current masks as a PNG folder or a COCO RLE JSON file."""
    count = open_workspace(directory).masks.export_to(out, format, kind, split)
    stdout.print(f"exported {count} {kind} masks to {out}")


@masks_app.command("import")
def masks_import(
    directory: WorkspaceDir, source: Path, format: MaskFormat = "png", kind: MaskKind = "spurious"
) -> None:
    """Read masks (PNG folder or COCO JSON); nothing is stored unless every mask is valid."""
    count = open_workspace(directory).masks.import_from(source, format, kind)
    stdout.print(f"imported {count} {kind} masks from {source}")


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
