"""Cut a whole-slide image (a big, possibly tiled and pyramidal TIFF) into tile files that keep
their coordinates: in the name (`<slide>_l<level>_x<x>_y<y>`) and in a sidecar table
(`.robustar-tiles.csv`, one row per tile: slide, level, x, y, size, downsample).

The chosen level is decoded segment by segment into a memory-mapped temporary file (tifffile's
`out="memmap"`), so memory stays bounded whatever the slide's size. Tiles keep the slide's
depth and channels (16-bit multi-channel tiles are TIFFs; 8-bit grey or RGB tiles are PNGs), so
`[image] channels` and the intensity policy apply to them like to any image.
"""

from __future__ import annotations

import csv
import io
from dataclasses import asdict, dataclass, fields
from pathlib import Path

import numpy as np
import tifffile
from PIL import Image

from robustar.data.formats import TIFF_MAGIC, channels_last
from robustar.errors import DataError
from robustar.progress import ProgressCallback, report
from robustar.storage import atomic_bytes

SIDECAR = ".robustar-tiles.csv"


@dataclass(frozen=True)
class Tile:
    file: str  # name inside the output folder
    slide: str  # the slide's file name
    level: int  # pyramid level (0: full resolution)
    x: int  # left edge, in pixels of that level
    y: int  # top edge, in pixels of that level
    width: int
    height: int
    downsample: float  # level-0 pixels per pixel of this level


def starts(length: int, tile: int, overlap: int) -> list[int]:
    """Tile positions along one side: every `tile - overlap` pixels, the last one moved back to
    end at the edge, so every tile is full size and every pixel is covered."""
    if length <= tile:
        return [0]
    found = list(range(0, length - tile + 1, tile - overlap))
    if found[-1] + tile < length:
        found.append(length - tile)
    return found


def _level(slide: Path, level: int) -> tuple[np.ndarray, float]:
    """The level as (height, width, channels), memory-mapped, and its downsample factor."""
    with slide.open("rb") as probe:
        if probe.read(4) not in TIFF_MAGIC:
            raise DataError(
                f"{slide} is not a TIFF", "cut whole-slide images saved as (pyramidal) TIFF"
            )
    try:
        with tifffile.TiffFile(slide) as tif:
            series = tif.series[0]
            if not 0 <= level < len(series.levels):
                raise DataError(
                    f"{slide} has {len(series.levels)} pyramid level(s), not level {level}",
                    f"choose --level between 0 and {len(series.levels) - 1}",
                )
            chosen = series.levels[level]
            full_width = dict(zip(series.axes, series.shape, strict=True))["X"]
            array = chosen.asarray(out="memmap")
            axes = chosen.axes
    except DataError:
        raise
    except Exception as error:
        raise DataError(
            f"{slide} cannot be read: {error}",
            "check the file; compressed slides may need 'pip install imagecodecs'",
        ) from None
    pixels = channels_last(array, axes)
    return pixels, full_width / pixels.shape[1]


def _encode(region: np.ndarray) -> tuple[bytes, str]:
    if region.dtype == np.uint8 and region.shape[2] in (1, 3):
        buffer = io.BytesIO()
        Image.fromarray(region[..., 0] if region.shape[2] == 1 else region).save(buffer, "PNG")
        return buffer.getvalue(), "png"
    buffer = io.BytesIO()
    planes = np.moveaxis(region, -1, 0)  # channels first, recorded as such
    tifffile.imwrite(
        buffer, planes, photometric="minisblack", compression="zlib", metadata={"axes": "CYX"}
    )
    return buffer.getvalue(), "tif"


def make_tiles(
    slide: Path,
    out: Path,
    tile: int,
    overlap: int = 0,
    level: int = 0,
    progress: ProgressCallback = None,
) -> list[Tile]:
    """Write the slide's tiles into `out` and record them in its sidecar (replacing the rows
    of an earlier cut of the same slide); returns the tiles written."""
    if tile < 8 or not 0 <= overlap < tile:
        raise DataError(
            f"tile {tile} with overlap {overlap} cannot cut a slide",
            "use a tile of at least 8 pixels and 0 <= overlap < tile",
        )
    pixels, downsample = _level(slide, level)
    height, width = pixels.shape[:2]
    out.mkdir(parents=True, exist_ok=True)
    tiles: list[Tile] = []
    ys, xs = starts(height, tile, overlap), starts(width, tile, overlap)
    for y in ys:
        for x in xs:
            region = np.ascontiguousarray(pixels[y : y + tile, x : x + tile])
            data, ext = _encode(region)
            name = f"{slide.stem}_l{level}_x{x}_y{y}.{ext}"
            atomic_bytes(out / name, data)
            h, w = region.shape[:2]
            tiles.append(Tile(name, slide.name, level, x, y, w, h, downsample))
            report(progress, f"cut {slide.name}", len(tiles), len(ys) * len(xs))
    _record(out / SIDECAR, slide.name, tiles)
    return tiles


def read_sidecar(path: Path) -> list[Tile]:
    if not path.is_file():
        return []
    with path.open(newline="", encoding="utf-8") as handle:
        return [
            Tile(r["file"], r["slide"], int(r["level"]), int(r["x"]), int(r["y"]),
                 int(r["width"]), int(r["height"]), float(r["downsample"]))
            for r in csv.DictReader(handle)
        ]  # fmt: skip


def _record(path: Path, slide: str, tiles: list[Tile]) -> None:
    rows = [t for t in read_sidecar(path) if t.slide != slide] + tiles
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=[f.name for f in fields(Tile)])
    writer.writeheader()
    writer.writerows(asdict(t) for t in rows)
    atomic_bytes(path, buffer.getvalue().encode("utf-8"))


def tiff_size(path: Path) -> tuple[int, int] | None:
    """(width, height) from a TIFF's header; None for other files or unreadable headers
    (the scan's decoding reports those)."""
    try:
        with path.open("rb") as probe:
            if probe.read(4) not in TIFF_MAGIC:
                return None
        with tifffile.TiffFile(path) as tif:
            series = tif.series[0]
            shape = dict(zip(series.axes, series.shape, strict=True))
    except Exception:
        return None
    return shape.get("X", 0), shape.get("Y", 0)


def cut_large(
    root: Path, relpaths: list[str], threshold: int, tile: int
) -> tuple[dict[str, str], bool]:
    """`[image] large = "tile"` at scan time: TIFFs among `relpaths` whose longer side exceeds
    `threshold` are cut into `<name>_tiles/` next to them (unless an up-to-date cut is there).
    Returns why each slide is left out of the index, and whether new tiles were written."""
    slides: dict[str, str] = {}
    wrote = False
    for rel in relpaths:
        path = root / rel
        size = tiff_size(path)
        if size is None or max(size) <= threshold:
            continue
        out = path.parent / f"{path.stem}_tiles"
        sidecar = out / SIDECAR
        fresh = sidecar.is_file() and sidecar.stat().st_mtime_ns >= path.stat().st_mtime_ns
        try:
            if not (fresh and any(t.slide == path.name for t in read_sidecar(sidecar))):
                make_tiles(path, out, tile)
                wrote = True
        except DataError as error:
            slides[rel] = f"{error.what}; fix: {error.fix}"
            continue
        slides[rel] = (
            f"{max(size)} px is above [image] large_threshold ({threshold}): cut into {tile} px "
            f"tiles in {out.name}/ ([image] large = 'tile'), which are indexed instead"
        )
    return slides, wrote
