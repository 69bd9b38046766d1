"""Image listing with filters and sorting done by the database (the gallery's query)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from robustar.db.tables import Image, Prediction

SortKey = Literal["name", "loss", "confidence", "id"]


@dataclass(frozen=True)
class ImageFilter:
    """Combinable filters; prediction filters apply to the given model version."""

    split: str
    label: int | None = None
    predicted: int | None = None
    correct: bool | None = None
    min_confidence: float | None = None
    max_confidence: float | None = None


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


def _filtered(query: Select, f: ImageFilter, version_id: int | None) -> Select:
    query = query.where(Image.split == f.split)
    if f.label is not None:
        query = query.where(Image.label == f.label)
    needs_prediction = any(
        v is not None for v in (f.predicted, f.correct, f.min_confidence, f.max_confidence)
    )
    if needs_prediction and version_id is None:
        # No model version: nothing has a prediction, so prediction filters match nothing.
        return query.where(False)
    if f.predicted is not None:
        query = query.where(Prediction.predicted == f.predicted)
    if f.correct is not None:
        query = query.where(Prediction.correct == f.correct)
    if f.min_confidence is not None:
        query = query.where(Prediction.confidence >= f.min_confidence)
    if f.max_confidence is not None:
        query = query.where(Prediction.confidence <= f.max_confidence)
    return query


def _join(query: Select, version_id: int | None) -> Select:
    if version_id is None:
        return query
    return query.outerjoin(
        Prediction, (Prediction.image_id == Image.id) & (Prediction.version_id == version_id)
    )


def count_images(session: Session, f: ImageFilter, version_id: int | None) -> int:
    query = _filtered(_join(select(func.count()).select_from(Image), version_id), f, version_id)
    return int(session.scalar(query) or 0)


def list_images(
    session: Session,
    f: ImageFilter,
    version_id: int | None,
    sort: SortKey = "name",
    descending: bool = False,
    limit: int | None = None,
    offset: int = 0,
) -> list[ImageInfo]:
    columns = [Image]
    if version_id is not None:
        columns.append(Prediction)
    query = _filtered(_join(select(*columns), version_id), f, version_id)
    query = _ordered(query, sort, descending, version_id).offset(offset)
    if limit is not None:
        query = query.limit(limit)
    return [_image_info(row) for row in session.execute(query)]


def _ordered(query: Select, sort: SortKey, descending: bool, version_id: int | None) -> Select:
    """Order by the key, images without a prediction last, then by id so the order is total."""
    if sort in ("loss", "confidence") and version_id is None:
        sort = "name"
    key = {
        "name": Image.relpath,
        "id": Image.id,
        "loss": Prediction.loss,
        "confidence": Prediction.confidence,
    }[sort]
    order = key.desc() if descending else key.asc()
    return query.order_by(order.nulls_last(), Image.id)


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
    query = _ordered(
        _filtered(_join(select(Image.id), version_id), f, version_id), sort, descending, version_id
    )
    ids = session.scalars(query).all()
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


def get_image(session: Session, image_id: int, version_id: int | None) -> ImageInfo | None:
    columns = [Image] if version_id is None else [Image, Prediction]
    row = session.execute(_join(select(*columns), version_id).where(Image.id == image_id)).first()
    return None if row is None else _image_info(row)


def _image_info(row) -> ImageInfo:  # type: ignore[no-untyped-def]
    image, prediction = row[0], (row[1] if len(row) > 1 else None)
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


def class_counts(session: Session, split: str) -> dict[int | None, int]:
    rows = session.execute(
        select(Image.label, func.count()).where(Image.split == split).group_by(Image.label)
    )
    return {label: int(n) for label, n in rows}
