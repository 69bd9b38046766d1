"""Which images an assignment covers: chosen ids, a class of a split, or the top of the
suspicious queue; optionally only those without a (non-empty, current) mask of the kind."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from robustar.config import LABELLED_SPLITS
from robustar.data.images import ImageStore
from robustar.db.tables import Image, Mask
from robustar.errors import DataError, NotFoundError

SuspiciousQueue = Callable[[], list[int]]  # the whole class-balanced queue, best first


@dataclass(frozen=True)
class Selection:
    """Exactly one of `ids`, `class_name` (of `split`) or `suspicious` (the queue's top N)."""

    ids: list[int] | None = None
    class_name: str | None = None
    split: str = "train"
    suspicious: int | None = None
    unannotated: bool = False


def resolve(
    session: Session, images: ImageStore, queue: SuspiciousQueue, chosen: Selection, kind: str
) -> tuple[list[int], str]:
    """The selected image ids in order, and the batch's name; an error for a selection that
    names nothing, or holds no image."""
    given = [chosen.ids is not None, chosen.class_name is not None, chosen.suspicious is not None]
    if sum(given) != 1:
        raise DataError(
            "give exactly one selection: image ids, a class, or a slice of the suspicious queue",
            "pass one of --ids 1,2,3, --class NAME [--split S], --suspicious N",
        )
    if chosen.ids is not None:
        ids, batch = _known(session, list(dict.fromkeys(chosen.ids))), "chosen images"
    elif chosen.class_name is not None:
        ids, batch = _of_class(session, images, chosen.class_name, chosen.split)
    else:
        ids, batch = _suspicious(queue, chosen.suspicious or 0)
    if chosen.unannotated:
        ids, batch = _without_mask(session, ids, kind), f"{batch}, without {kind} masks"
    if chosen.suspicious is not None:
        ids = ids[: chosen.suspicious]  # after the filter: the top N still to annotate
    if not ids:
        raise DataError(
            f"the selection ({batch}) holds no images",
            "choose other images"
            + (
                ", or leave out 'unannotated' to include annotated ones"
                if chosen.unannotated
                else ""
            ),
        )
    return ids, batch


def chunks(ids: list[int]) -> list[list[int]]:
    """Pieces well below any database's limit on parameters."""
    return [ids[start : start + 500] for start in range(0, len(ids), 500)]


def _known(session: Session, ids: list[int]) -> list[int]:
    found: set[int] = set()
    for chunk in chunks(ids):
        found.update(session.scalars(select(Image.id).where(Image.id.in_(chunk))))
    missing = [i for i in ids if i not in found]
    if missing:
        shown = ", ".join(map(str, missing[:10])) + (" …" if len(missing) > 10 else "")
        raise NotFoundError(
            f"no image with id {shown} in this workspace",
            "take ids from the gallery or 'robustar images DIR'",
        )
    return ids


def _of_class(session: Session, images: ImageStore, name: str, split: str) -> tuple[list[int], str]:
    images.folder(split)
    if split not in LABELLED_SPLITS:
        raise DataError(
            f"the {split} split has no labels, so no classes",
            "choose a labelled split: "
            + ", ".join(s for s in LABELLED_SPLITS if s in images.folders),
        )
    label = images.class_index(name)
    query = select(Image.id).where(Image.split == split, Image.label == label).order_by(Image.id)
    return list(session.scalars(query)), f"class {images.classes[label or 0]} ({split})"


def _suspicious(queue: SuspiciousQueue, top: int) -> tuple[list[int], str]:
    if top < 1:
        raise DataError(f"a slice of {top} suspicious images is empty", "ask for at least 1")
    return queue(), f"suspicious top {top}"


def _without_mask(session: Session, ids: list[int], kind: str) -> list[int]:
    annotated = set(
        session.scalars(
            select(Mask.image_id).where(Mask.is_current, Mask.kind == kind, Mask.pixels > 0)
        )
    )
    return [i for i in ids if i not in annotated]
