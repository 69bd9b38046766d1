"""The segmentation gallery's queries: a split's images with a version's scores, sorted by
mIoU, pixel accuracy or a class's share, filtered to images where a class is present (in
the truth or the prediction) above a share. One indexed query per page."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from sqlalchemy import Select, and_, func, select
from sqlalchemy.orm import Session

from robustar.db.tables import Image, SegClassShare, SegScore
from robustar.errors import DataError

SegSort = Literal["id", "name", "miou", "pixel_accuracy", "share"]
ShareOf = Literal["truth", "predicted"]


@dataclass(frozen=True)
class SegFilter:
    """Images of `split`; with `class_index`, only those whose `share_of` map gives that
    class at least `min_share` of the labelled pixels (present: above 0)."""

    split: str
    class_index: int | None = None
    share_of: ShareOf = "truth"
    min_share: float = 0.0


@dataclass(frozen=True)
class SegImage:
    id: int
    split: str
    relpath: str
    width: int
    height: int
    miou: float | None
    pixel_accuracy: float | None
    iou: list[float | None] | None
    truth_shares: list[float] | None
    predicted_shares: list[float] | None


def _query(columns: list[Any], f: SegFilter, version_id: int | None) -> Select[Any]:
    scores = and_(SegScore.image_id == Image.id, SegScore.version_id == version_id)
    query = select(*columns).select_from(Image).outerjoin(SegScore, scores)
    query = query.where(Image.split == f.split)
    if f.class_index is not None:
        share = SegClassShare.truth if f.share_of == "truth" else SegClassShare.predicted
        query = query.join(
            SegClassShare,
            and_(
                SegClassShare.image_id == Image.id,
                SegClassShare.version_id == version_id,
                SegClassShare.class_index == f.class_index,
            ),
        ).where(share > f.min_share if f.min_share == 0 else share >= f.min_share)
    return query


def count(session: Session, f: SegFilter, version_id: int | None) -> int:
    return int(session.scalar(_query([func.count()], f, version_id)) or 0)


def list_images(
    session: Session,
    f: SegFilter,
    version_id: int | None,
    sort: SegSort = "id",
    descending: bool = False,
    limit: int | None = None,
    offset: int = 0,
) -> list[SegImage]:
    """A page of images; images without scores (not scored yet, or nothing labelled) sort
    after those with, in either direction."""
    if sort == "share" and f.class_index is None:
        raise DataError("sorting by share needs a class", "pass the class to sort by its share")
    columns = [
        Image.id,
        Image.split,
        Image.relpath,
        Image.width,
        Image.height,
        SegScore.miou,
        SegScore.pixel_accuracy,
        SegScore.iou,
        SegScore.truth_shares,
        SegScore.predicted_shares,
    ]
    query = _query(columns, f, version_id)
    key: Any = {
        "id": Image.id,
        "name": Image.relpath,
        "miou": SegScore.miou,
        "pixel_accuracy": SegScore.pixel_accuracy,
        "share": SegClassShare.truth if f.share_of == "truth" else SegClassShare.predicted,
    }[sort]
    ordered = key.desc() if descending else key.asc()
    query = query.order_by(ordered.nulls_last(), Image.id).offset(offset)
    if limit is not None:
        query = query.limit(limit)
    return [SegImage(*row) for row in session.execute(query)]
