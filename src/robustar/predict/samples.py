"""Samples: an image as the Python API hands it out (views, attribution results), one flat
frozen record with class names, the prediction and the masks it has, ready for a table."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from robustar.db.kinds import MASK_KINDS
from robustar.db.tables import Mask
from robustar.predict.gallery import ImageInfo

_CHUNK = 500  # ids per IN (...) query, as the gallery's


@dataclass(frozen=True)
class Sample:
    """One image with a model version's prediction.

    `label` and `predicted` are class names (`label` None: unlabelled; the prediction's fields
    None: the version has not predicted it, or there is no version); `version` is the model
    version the prediction is from; `annotated` lists the mask kinds the image has a current,
    non-empty mask of ("spurious", "object")."""

    id: int
    split: str
    path: Path
    label: str | None
    predicted: str | None
    confidence: float | None
    loss: float | None
    correct: bool | None
    version: int | None
    annotated: tuple[str, ...]


def annotated_kinds(session: Session, image_ids: list[int]) -> dict[int, tuple[str, ...]]:
    """The kinds of current non-empty masks of each image (images without any left out)."""
    found: dict[int, set[str]] = {}
    unique = sorted(set(image_ids))
    for start in range(0, len(unique), _CHUNK):
        rows = session.execute(
            select(Mask.image_id, Mask.kind).where(
                Mask.is_current, Mask.pixels > 0, Mask.image_id.in_(unique[start : start + _CHUNK])
            )
        )
        for image_id, kind in rows:
            found.setdefault(image_id, set()).add(kind)
    return {i: tuple(k for k in MASK_KINDS if k in kinds) for i, kinds in found.items()}


def to_sample(
    info: ImageInfo, classes: list[str], folder: Path, annotated: tuple[str, ...]
) -> Sample:
    p = info.prediction
    return Sample(
        id=info.id,
        split=info.split,
        path=folder / info.relpath,
        label=None if info.label is None else classes[info.label],
        predicted=None if p is None else classes[p.predicted],
        confidence=None if p is None else p.confidence,
        loss=None if p is None else p.loss,
        correct=None if p is None else p.correct,
        version=None if p is None else p.version_id,
        annotated=annotated,
    )
