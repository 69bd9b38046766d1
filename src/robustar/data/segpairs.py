"""The label maps of a segmentation split, by the indexed images' paths: `images/a/b.jpg`
pairs with `labels/a/b.png`. Checked whole when the split is scanned, so a bad or missing
label map stops the scan (and nothing is stored) instead of failing a later training run."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path, PurePosixPath

from robustar.data.labelmaps import (
    IMAGES_DIR,
    LABELS_DIR,
    LabelClasses,
    LabelledImage,
    read_pair,
)
from robustar.errors import DataError

_SHOWN = 5


def image_folder(split_root: Path) -> Path:
    """Where a segmentation split's images are; a clear error when it is not there."""
    folder = split_root / IMAGES_DIR
    if not folder.is_dir():
        raise DataError(
            f"{split_root} has no {IMAGES_DIR}/ folder (a segmentation split holds "
            f"{IMAGES_DIR}/ and {LABELS_DIR}/)",
            f"put the images in {folder} and their label maps (same file stem, .png) in "
            f"{split_root / LABELS_DIR}",
        )
    return folder


def label_path(images: Path, relpath: str) -> Path:
    """The label map of the image at `images/relpath`."""
    return images.parent / LABELS_DIR / PurePosixPath(relpath).with_suffix(".png")


def pair(images: Path, relpath: str) -> LabelledImage:
    return LabelledImage(images / relpath, label_path(images, relpath))


def check_pairs(images: Path, relpaths: Iterable[str], classes: LabelClasses) -> int:
    """Read every image's label map and check it (present, same size, known classes, a
    readable mode); label maps without an image are refused too. Returns how many."""
    wanted = {label_path(images, r): r for r in relpaths}
    missing = [r for p, r in wanted.items() if not p.is_file()]
    labels = images.parent / LABELS_DIR
    stray = sorted(
        p.relative_to(labels).as_posix()
        for p in (labels.rglob("*.png") if labels.is_dir() else [])
        if p not in wanted and not any(part.startswith(".") for part in p.parts)
    )
    if missing or stray:
        details = []
        if missing:
            details.append(f"images without a label map: {missing[:_SHOWN]}")
        if stray:
            details.append(f"label maps without an image: {stray[:_SHOWN]}")
        raise DataError(
            f"{images.parent}: {'; '.join(details)}",
            f"give each image in {images} a label map of the same path and stem in {labels} "
            "(a .png), or move unlabelled images to the pool",
        )
    for relpath in wanted.values():
        read_pair(pair(images, relpath), classes)
    return len(wanted)
