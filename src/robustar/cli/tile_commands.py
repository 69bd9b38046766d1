"""Whole-slide images: cut one into tiles that keep their coordinates."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from robustar.cli.common import Quiet, app, console, stdout
from robustar.cli.progress import progress_bars

tiles_app = typer.Typer(help="Whole-slide images: cut into tiles.", no_args_is_help=True)
app.add_typer(tiles_app, name="tiles")


@tiles_app.command("make")
def tiles_make(
    slide: Annotated[Path, typer.Argument(help="a (pyramidal) TIFF slide")],
    out: Annotated[Path, typer.Option(help="folder for the tiles, e.g. a class folder of a split")],
    tile: Annotated[int, typer.Option(help="tile side in pixels")] = 256,
    overlap: Annotated[int, typer.Option(help="pixels shared by neighbouring tiles")] = 0,
    level: Annotated[int, typer.Option(help="pyramid level, 0 = full resolution")] = 0,
    quiet: Quiet = False,
) -> None:
    """Write <slide>_l<level>_x<x>_y<y> tiles and record them in OUT/.robustar-tiles.csv;
    then 'robustar scan' indexes them."""
    from robustar.data.tiles import SIDECAR, make_tiles

    with progress_bars(console, not quiet) as progress:
        tiles = make_tiles(slide, out, tile, overlap, level, progress)
    stdout.print(f"{len(tiles)} tiles of {slide.name} in {out} (coordinates in {SIDECAR})")
