"""Mask versions: save (linearizable, with conflict detection), current, history, restore.

A save writes its pixels to a file of its own (the name carries a random token), then, in the
caller's transaction and under a lock on that image's masks, checks that the version it started
from is still current and adds the row that points at the file. Only a committed row makes a
file a version, so a losing save never touches the winner's file, and a crash leaves at most an
unreferenced file, never a row without its pixels. docs/decisions.md has the reasoning.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import numpy as np
from sqlalchemy import event, false, select, update
from sqlalchemy.exc import OperationalError
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
    legacy_author: bool  # `author` is an OS account name (local mode, or before team mode)


def to_info(row: Mask) -> MaskVersion:
    return MaskVersion(
        row.image_id,
        row.kind,
        row.version,
        row.author,
        row.created_at,
        row.pixels,
        row.is_current,
        row.user_id is None,
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
    user_id: int | None = None,
) -> MaskVersion:
    """Store `mask` as the next version. `base_version` is the version the edit started from
    (None: there was none); anything else current means someone saved in between. The version
    exists once the caller's transaction commits."""
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
    _check_base(session, image_id, kind, base_version)  # a stale edit fails before any write
    version = (base_version or 0) + 1
    relative = f"{MASKS_DIR}/{image_id}/{kind}/v{version:04d}-{secrets.token_hex(8)}.png"
    write_mask(mask, root / relative, durable=True)
    _remove_unless_committed(session, root / relative)
    _lock(session, image_id, kind, base_version)
    _check_base(session, image_id, kind, base_version)  # now no other save can come between
    session.execute(
        update(Mask)
        .where(Mask.image_id == image_id, Mask.kind == kind, Mask.is_current)
        .values(is_current=False)
    )
    row = Mask(
        image_id=image_id,
        kind=kind,
        version=version,
        author=author,
        user_id=user_id,
        pixels=int(np.count_nonzero(mask)),
        file=relative,
        is_current=True,
    )
    session.add(row)
    session.flush()
    return to_info(row)


def _check_base(session: Session, image_id: int, kind: str, base: int | None) -> None:
    row = current_row(session, image_id, kind)
    current = None if row is None else row.version
    if current != base:
        by = "" if row is None else f" (saved by {row.author} at {row.created_at:%H:%M} UTC)"
        raise ConflictError(
            f"the {kind} mask of image {image_id} is at version {current}{by}, but this edit "
            f"started from version {base}",
            "reload the mask to see the other change, or save again based on the current "
            "version to overwrite it",
            current,
        )


def _lock(session: Session, image_id: int, kind: str, base: int | None) -> None:
    """Serialise saves of one image's masks until the caller's transaction ends: SQLite's
    database write lock (any write statement takes it; FOR UPDATE is not SQL it knows), a row
    lock on the image elsewhere. The image may have gone since (a rescan): then a 404."""
    try:
        if session.get_bind().dialect.name == "sqlite":
            session.execute(update(Mask).where(false()).values(is_current=Mask.is_current))
        image = session.scalar(
            select(Image.id).where(Image.id == image_id).with_for_update(key_share=True)
        )
    except OperationalError as error:
        if not _gave_up_waiting(error):
            raise
        raise ConflictError(
            f"the {kind} mask of image {image_id} was not saved: the database stayed busy with "
            f"other writes ({error.orig})",
            "save again; nothing was stored",
            base,
        ) from None
    if image is None:
        raise NotFoundError(f"image {image_id} is no longer in this workspace")


def _gave_up_waiting(error: OperationalError) -> bool:
    """SQLite's busy timeout ran out, or PostgreSQL broke a deadlock or hit a lock timeout."""
    state = getattr(error.orig, "sqlstate", None) or getattr(error.orig, "pgcode", None)
    return "database is locked" in str(error.orig) or state in ("40001", "40P01", "55P03")


_NEW_FILES = "robustar.new_mask_files"


def _remove_unless_committed(session: Session, path: Path) -> None:
    """A new version's file is referenced only if the caller's transaction commits; when it
    rolls back instead (a conflict, a later error), nothing points at the file, so it goes.
    Once a commit has been tried the file stays, since the row may exist."""
    session.info.setdefault(_NEW_FILES, []).append(path)
    if not event.contains(session, "after_rollback", _remove_new_files):
        event.listen(session, "after_rollback", _remove_new_files)
        event.listen(session, "before_commit", _keep_new_files)


def _remove_new_files(session: Session) -> None:
    for path in session.info.pop(_NEW_FILES, []):
        path.unlink(missing_ok=True)


def _keep_new_files(session: Session) -> None:
    session.info.pop(_NEW_FILES, None)


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
