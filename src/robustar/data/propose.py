"""Propose a model architecture and input size from the training images themselves.

`robustar init` used to default to resnet18 at 224 px whatever the data: 48-px images were
upsampled almost 5x into a network sized for photographs. The proposal reads the headers of
a sample of the training images (no decoding) and takes their median longer side.
"""

from __future__ import annotations

import os
import statistics
from dataclasses import dataclass
from pathlib import Path

from PIL import Image

from robustar.data.imageio import IMAGE_EXTENSIONS
from robustar.data.scan import walk_files
from robustar.errors import DataError

SAMPLE = 256  # image headers read, spread evenly over the sorted file list
SMALL_SIDE = 64  # at most this (median, px): the built-in small CNN at native size
SMALL_ARCHITECTURE = "small_cnn"
BUILTIN_CNNS = ("small_cnn", "tiny_cnn")  # any input size of 8 px or more
LARGE_ARCHITECTURE = "resnet18"
LARGE_SIZE = 224  # resnet18's pretraining size: no larger input is proposed
MIN_LARGE_SIZE = 96  # resnet18 downsamples 32x: below this its last maps are 2x2 or less


@dataclass(frozen=True)
class ModelProposal:
    architecture: str
    size: int
    median_side: int  # the sampled images' median longer side, in pixels
    sampled: int
    reason: str


def _sides(folder: Path) -> list[int]:
    files = [
        rel
        for rel, _ in walk_files(folder, folder.resolve(), [])
        if os.path.splitext(rel)[1].lower() in IMAGE_EXTENSIONS
    ]
    step = max(1, len(files) // SAMPLE)
    sides = []
    for rel in files[::step][:SAMPLE]:
        try:
            with Image.open(folder / rel) as image:
                sides.append(max(image.size))
        except (OSError, ValueError):
            continue  # the scan reports unreadable files; the proposal skips them
    return sides


def propose_model(train: str | Path, architecture: str | None = None) -> ModelProposal:
    """An architecture and input size for the images under `train`: the built-in small CNN
    at their native size for small images (median longer side <= 64 px), else resnet18 at
    that side rounded up to a multiple of 32, between 96 and 224 px. A given `architecture`
    is kept and only the size proposed: native for the built-in CNNs, the resnet18 rule for
    any other."""
    folder = Path(train).expanduser()
    return propose_from_sides(_sides(folder) if folder.is_dir() else [], architecture, folder)


def propose_from_sides(
    sides: list[int], architecture: str | None, where: str | Path
) -> ModelProposal:
    """`propose_model` for images whose longer sides are known (`where` names them)."""
    if not sides:
        raise DataError(
            f"{where}: no readable images to propose a model from",
            "check the images, or give --architecture and --image-size",
        )
    side = int(statistics.median(sides))
    chosen = architecture or (SMALL_ARCHITECTURE if side <= SMALL_SIDE else LARGE_ARCHITECTURE)
    why = "given" if architecture else ("small images" if side <= SMALL_SIDE else "larger images")
    if chosen in BUILTIN_CNNS:
        size = max(16, side)
        scaled = "their native size" if size == side else f"{size} px"
    else:
        size = min(LARGE_SIZE, max(MIN_LARGE_SIZE, -(-side // 32) * 32))
        scaled = "their native size" if size == side else f"{size} px"
        if side > size:
            scaled += " (larger images are scaled down)"
    return ModelProposal(
        chosen,
        size,
        side,
        len(sides),
        f"median image side {side} px ({len(sides)} sampled), {why}: {chosen} at {scaled}",
    )
