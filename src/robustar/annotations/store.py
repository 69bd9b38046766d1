"""Mask versions: save (with conflict detection), current, history, restore.

A save writes the new version's file first and then, in the caller's transaction, marks it
current; the unique (image, kind, version) constraint turns a race between two saves based on
the same version into a conflict instead of a silent overwrite.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import numpy as np
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from robustar.annotations.maskfile import read_mask, write_mask
from robustar.db.kinds import MASK_KINDS, MaskKind, check_kind
from robustar.db.tables import Image, Mask
from robustar.errors import ConflictError, DataError, NotFoundError

__all__ = ["MASK_KINDS", "MaskKind", "check_kind"]
MASKS_DIR = "annotations/masks"


@dataclass(frozen=True)
class MaskVersion:
    image_id: int
    kind: str
    version: int
    author: str
    created_at: datetime
    pixels: int
    is_current: bool


def to_info(row: Mask) -> MaskVersion:
    return MaskVersion(
        row.image_id, row.kind, row.version, row.author, row.created_at, row.pixels, row.is_current
    )


def current_row(session: Session, image_id: int, kind: str) -> Mask | None:
    return session.scalars(
        select(Mask).where(Mask.image_id == image_id, Mask.kind == kind, Mask.is_current)
    ).first()


def save_mask(
    session: Session,
    root: Path,
    image_id: int,
    kind: str,
    mask: np.ndarray,
    base_version: int | None,
    author: str,
) -> MaskVersion:
    """Store `mask` as the next version. `base_version` is the version the edit started from
    (None: there was none); anything else current means someone saved in between."""
    kind = check_kind(kind)
    image = session.get(Image, image_id)
    if image is None:
        raise NotFoundError(f"image {image_id} does not exist in this workspace")
    if mask.shape != (image.height, image.width):
        raise DataError(
            f"the mask is {mask.shape[1]}x{mask.shape[0]} but image {image_id} is "
            f"{image.width}x{image.height}",
            "masks are stored at the image's native size",
        )
    current = current_row(session, image_id, kind)
    current_version = None if current is None else current.version
    if current_version != base_version:
        raise _conflict(image_id, kind, base_version, current_version)
    version = (current_version or 0) + 1
    relative = f"{MASKS_DIR}/{image_id}/{kind}/v{version:04d}.png"
    write_mask(mask, root / relative)
    try:
        if current is not None:
            current.is_current = False
        row = Mask(
            image_id=image_id,
            kind=kind,
            version=version,
            author=author,
            pixels=int(np.count_nonzero(mask)),
            file=relative,
            is_current=True,
        )
        session.add(row)
        session.flush()
    except IntegrityError:
        session.rollback()
        latest = session.scalar(
            select(Mask.version).where(
                Mask.image_id == image_id, Mask.kind == kind, Mask.is_current
            )
        )
        raise _conflict(image_id, kind, base_version, latest) from None
    return to_info(row)


def _conflict(image_id: int, kind: str, base: int | None, current: int | None) -> ConflictError:
    return ConflictError(
        f"the {kind} mask of image {image_id} is at version {current}, but this edit started "
        f"from version {base}",
        "reload the mask to see the other change, or save again based on the current version "
        "to overwrite it",
        current,
    )


def load_mask(
    session: Session, root: Path, image_id: int, kind: str, version: int | None = None
) -> tuple[MaskVersion, np.ndarray]:
    """The current (or given) version of a mask and its pixels."""
    kind = check_kind(kind)
    query = select(Mask).where(Mask.image_id == image_id, Mask.kind == kind)
    query = (
        query.where(Mask.is_current) if version is None else query.where(Mask.version == version)
    )
    row = session.scalars(query).first()
    if row is None:
        which = "any version" if version is None else f"version {version}"
        raise NotFoundError(f"image {image_id} has no {kind} mask ({which})")
    return to_info(row), read_mask(root / row.file)


def history(session: Session, image_id: int, kind: str) -> list[MaskVersion]:
    kind = check_kind(kind)
    rows = session.scalars(
        select(Mask).where(Mask.image_id == image_id, Mask.kind == kind).order_by(Mask.version)
    )
    return [to_info(r) for r in rows]
