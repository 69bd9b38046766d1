"""Image listing with filters and sorting done by the database (the gallery's query)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
from sqlalchemy import ColumnElement, Select, exists, false, func, select
from sqlalchemy.engine import Row
from sqlalchemy.orm import Session, aliased

from robustar.db.tables import Image, Mask, Prediction, Suspicion

SortKey = Literal["name", "loss", "confidence", "id", "suspicion"]


@dataclass(frozen=True)
class ImageFilter:
    """Combinable filters; prediction filters apply to the given model version."""

    split: str
    label: int | None = None
    predicted: int | None = None
    correct: bool | None = None
    min_confidence: float | None = None
    max_confidence: float | None = None
    annotated: bool | None = None  # has a non-empty current mask of `mask_kind`
    mask_kind: str = "spurious"
    suspicious: bool | None = None  # in the top K of the version's suspicious queue (train)
    versus: int | None = None  # compare with this model version's prediction ...
    flip: Literal["changed", "fixed", "broken"] = "changed"  # ... keep images that flipped so
    ids: tuple[int, ...] | None = None  # only these images (a selection, not a whole split)


@dataclass(frozen=True)
class PredictionInfo:
    version_id: int
    predicted: int
    confidence: float
    loss: float | None
    correct: bool | None
    probabilities: list[float]


@dataclass(frozen=True)
class ImageInfo:
    id: int
    split: str
    relpath: str
    label: int | None
    width: int
    height: int
    fingerprint: str
    prediction: PredictionInfo | None


PREDICTION_SORTS = ("loss", "confidence")
_CHUNK = 500  # ids per IN (...) query, well below every database's parameter limit


def _has_prediction_filter(f: ImageFilter) -> bool:
    filters = (f.predicted, f.correct, f.min_confidence, f.max_confidence, f.versus)
    return any(v is not None for v in filters)


def _where(query: Select, f: ImageFilter, version_id: int | None, driven: bool) -> Select:
    """Filters. `driven`: the predictions table drives the query; its covering indexes hold
    split and label, so filtering and sorting need not touch the images table."""
    if driven:
        query = query.where(Prediction.version_id == version_id, Prediction.split == f.split)
        if f.label is not None:
            query = query.where(Prediction.label == f.label)
    else:
        query = query.where(Image.split == f.split)
        if f.label is not None:
            query = query.where(Image.label == f.label)
    if f.predicted is not None:
        query = query.where(Prediction.predicted == f.predicted)
    if f.correct is not None:
        query = query.where(Prediction.correct == f.correct)
    if f.min_confidence is not None:
        query = query.where(Prediction.confidence >= f.min_confidence)
    if f.max_confidence is not None:
        query = query.where(Prediction.confidence <= f.max_confidence)
    if f.versus is not None:
        other = aliased(Prediction)
        flipped = other.predicted != Prediction.predicted
        if f.flip == "fixed":
            flipped = Prediction.correct.is_(True) & other.correct.is_(False)
        elif f.flip == "broken":
            flipped = Prediction.correct.is_(False) & other.correct.is_(True)
        query = query.where(
            exists().where(
                other.image_id == Prediction.image_id, other.version_id == f.versus, flipped
            )
        )
    image_id = Prediction.image_id if driven else Image.id
    if f.ids is not None:
        query = query.where(image_id.in_(f.ids))
    if f.suspicious is not None:
        queued = exists().where(
            Suspicion.image_id == image_id, Suspicion.version_id == version_id, Suspicion.queued
        )
        query = query.where(queued if f.suspicious else ~queued)
    if f.annotated is not None:
        has_mask = exists().where(
            Mask.image_id == image_id, Mask.is_current, Mask.kind == f.mask_kind, Mask.pixels > 0
        )
        query = query.where(has_mask if f.annotated else ~has_mask)
    return query


def _ids_query(f: ImageFilter, version_id: int | None, sort: SortKey, descending: bool) -> Select:
    """Image ids of the filtered list, in order.

    With a model version and a prediction filter or sort, the predictions table drives the
    query through a covering index, and only images with a prediction are listed. Ties are
    broken by image id in the same direction, so the order is total and an index serves it.
    """
    if version_id is None:
        if _has_prediction_filter(f):
            # No model version: nothing has a prediction, so prediction filters match nothing.
            return select(Image.id).where(false())
        if sort in PREDICTION_SORTS:
            sort = "name"
    driven = version_id is not None and (sort in PREDICTION_SORTS or _has_prediction_filter(f))
    tie = Prediction.image_id if driven else Image.id
    query = select(tie)
    if driven and sort == "name":
        query = query.join(Image, Image.id == Prediction.image_id)
    key: ColumnElement[Any]
    if sort == "suspicion":
        if version_id is None:
            sort = "name"
        else:  # the queue's order (descending: its first first); images outside it come last
            key = func.coalesce(
                -select(Suspicion.rank)
                .where(Suspicion.image_id == tie, Suspicion.version_id == version_id)
                .scalar_subquery(),
                -(2**31),
            )
    if sort != "suspicion":
        columns: dict[str, Any] = {
            "name": Image.relpath,
            "id": tie,
            "loss": Prediction.loss,
            "confidence": Prediction.confidence,
        }
        key = columns[sort]
    order = [key.desc(), tie.desc()] if descending else [key.asc(), tie.asc()]
    return _where(query, f, version_id, driven).order_by(*dict.fromkeys(order))


def count_images(session: Session, f: ImageFilter, version_id: int | None) -> int:
    if _has_prediction_filter(f) and version_id is None:
        return 0
    driven = _has_prediction_filter(f)
    query = select(func.count()).select_from(Prediction if driven else Image)
    return int(session.scalar(_where(query, f, version_id, driven)) or 0)


def list_ids(
    session: Session,
    f: ImageFilter,
    version_id: int | None,
    sort: SortKey = "name",
    descending: bool = False,
    limit: int | None = None,
    offset: int = 0,
) -> list[int]:
    """The ids of a page, from an index-only query (`get_images` reads their rows)."""
    query = _ids_query(f, version_id, sort, descending).offset(offset)
    if limit is not None:
        query = query.limit(limit)
    return list(session.scalars(query).all())


@dataclass(frozen=True)
class Neighbours:
    """Where an image sits in a filtered, sorted list (index counts from 0)."""

    index: int | None
    total: int
    previous_id: int | None
    next_id: int | None


def neighbours(
    session: Session,
    f: ImageFilter,
    version_id: int | None,
    image_id: int,
    sort: SortKey = "name",
    descending: bool = False,
) -> Neighbours:
    """Previous and next image ids around `image_id`; index None if it is not in the list."""
    ids = session.scalars(_ids_query(f, version_id, sort, descending)).all()
    try:
        index = ids.index(image_id)
    except ValueError:
        return Neighbours(None, len(ids), None, ids[0] if ids else None)
    return Neighbours(
        index,
        len(ids),
        ids[index - 1] if index > 0 else None,
        ids[index + 1] if index + 1 < len(ids) else None,
    )


def _rows_query(version_id: int | None) -> Select:
    """(Image,) rows, or (Image, Prediction | None) rows for a model version."""
    if version_id is None:
        return select(Image)
    return select(Image, Prediction).outerjoin(
        Prediction, (Prediction.image_id == Image.id) & (Prediction.version_id == version_id)
    )


def get_image(session: Session, image_id: int, version_id: int | None) -> ImageInfo | None:
    row = session.execute(_rows_query(version_id).where(Image.id == image_id)).first()
    return None if row is None else _image_info(row)


def get_images(session: Session, image_ids: list[int], version_id: int | None) -> list[ImageInfo]:
    """Many images by id in a few queries, in the order given (each once); unknown ids are
    left out."""
    unique = list(dict.fromkeys(image_ids))
    found: dict[int, ImageInfo] = {}
    for start in range(0, len(unique), _CHUNK):
        query = _rows_query(version_id).where(Image.id.in_(unique[start : start + _CHUNK]))
        found.update((row[0].id, _image_info(row)) for row in session.execute(query))
    return [found[i] for i in unique if i in found]


def _image_info(row: Row[Any]) -> ImageInfo:
    image, prediction = row[0], (row[1] if len(row) > 1 else None)  # type: ignore[misc]
    return ImageInfo(
        id=image.id,
        split=image.split,
        relpath=image.relpath,
        label=image.label,
        width=image.width,
        height=image.height,
        fingerprint=image.fingerprint,
        prediction=None if prediction is None else _prediction_info(prediction),
    )


def _prediction_info(p: Prediction) -> PredictionInfo:
    return PredictionInfo(
        version_id=p.version_id,
        predicted=p.predicted,
        confidence=p.confidence,
        loss=p.loss,
        correct=p.correct,
        probabilities=np.frombuffer(p.probabilities, dtype=np.float32).tolist(),
    )
