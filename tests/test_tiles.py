"""Whole-slide tiling: tiles keep their coordinates, checked against the source pixels."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import tifffile
from PIL import Image
from typer.testing import CliRunner

from robustar.cli.common import app
from robustar.data.tiles import SIDECAR, make_tiles, read_sidecar, starts
from robustar.errors import DataError


def pyramid(path: Path, full: np.ndarray) -> Path:
    """A tiled, zlib-compressed, two-level pyramidal TIFF (the layout of whole-slide images)."""
    with tifffile.TiffWriter(path) as writer:
        options = {"tile": (64, 64), "photometric": "minisblack", "compression": "zlib"}
        writer.write(full, subifds=1, **options)
        writer.write(full[::2, ::2], subfiletype=1, **options)
    return path


def test_positions_cover_every_pixel_with_full_tiles() -> None:
    assert starts(600, 256, 0) == [0, 256, 344]
    assert starts(512, 256, 0) == [0, 256]
    assert starts(500, 256, 56) == [0, 200, 244]
    assert starts(100, 256, 0) == [0]


def test_tiles_hold_the_source_pixels_at_their_coordinates(tmp_path: Path) -> None:
    full = np.random.default_rng(0).integers(0, 60000, (600, 520), dtype=np.uint16)
    slide = pyramid(tmp_path / "slide.tif", full)
    out = tmp_path / "train" / "tumour"
    tiles = make_tiles(slide, out, tile=256)
    assert len(tiles) == 9 and read_sidecar(out / SIDECAR) == tiles
    for t in tiles:
        assert t.file == f"slide_l0_x{t.x}_y{t.y}.tif" and (t.width, t.height) == (256, 256)
        saved = tifffile.imread(out / t.file)
        assert (saved[0] == full[t.y : t.y + 256, t.x : t.x + 256]).all()
    low = make_tiles(slide, out, tile=128, overlap=16, level=1)
    half = full[::2, ::2]
    assert {t.downsample for t in low} == {2.0}
    for t in low:
        assert (tifffile.imread(out / t.file)[0] == half[t.y : t.y + 128, t.x : t.x + 128]).all()
    assert len(read_sidecar(out / SIDECAR)) == len(low)  # a new cut replaces the slide's rows


def test_rgb_tiles_are_pngs_and_the_cli_reports(tmp_path: Path) -> None:
    rgb = np.random.default_rng(1).integers(0, 256, (300, 300, 3), dtype=np.uint8)
    tifffile.imwrite(tmp_path / "he.tif", rgb, photometric="rgb", tile=(64, 64))
    result = CliRunner().invoke(
        app,
        ["tiles", "make", str(tmp_path / "he.tif"), "--tile", "200", "--out", str(tmp_path / "o")],
    )
    assert result.exit_code == 0, result.output
    assert "4 tiles of he.tif" in result.output
    corner = np.asarray(Image.open(tmp_path / "o" / "he_l0_x100_y100.png"))
    assert (corner == rgb[100:, 100:]).all()


def test_bad_slides_and_options_are_clear(tmp_path: Path) -> None:
    (tmp_path / "a.png").write_bytes(b"\x89PNG not a tiff")
    with pytest.raises(DataError, match="is not a TIFF"):
        make_tiles(tmp_path / "a.png", tmp_path / "o", 64)
    slide = pyramid(tmp_path / "s.tif", np.zeros((64, 64), np.uint16))
    with pytest.raises(DataError, match="2 pyramid level"):
        make_tiles(slide, tmp_path / "o", 64, level=5)
    with pytest.raises(DataError, match="overlap < tile"):
        make_tiles(slide, tmp_path / "o", 64, overlap=64)
