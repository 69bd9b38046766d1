"""Accuracy, per-class metrics and the confusion matrix, aggregated by the database."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from robustar.db.tables import Image, Prediction


@dataclass(frozen=True)
class ClassMetrics:
    name: str
    support: int
    accuracy: float | None  # recall: share of this class's images predicted as it
    precision: float | None


@dataclass(frozen=True)
class SplitMetrics:
    split: str
    version_id: int
    images: int
    accuracy: float | None
    loss: float | None
    per_class: list[ClassMetrics]
    confusion: list[list[int]]  # rows: true class, columns: predicted class


def _ratio(a: float, b: float) -> float | None:
    return float(a) / float(b) if b else None


def compute_metrics(
    session: Session, version_id: int, split: str, classes: list[str]
) -> SplitMetrics:
    joined = (
        select(Image.label, Prediction.predicted, func.count(), func.sum(Prediction.loss))
        .join(Prediction, Prediction.image_id == Image.id)
        .where(Prediction.version_id == version_id, Image.split == split)
        .where(Image.label.is_not(None))
        .group_by(Image.label, Prediction.predicted)
    )
    n = len(classes)
    confusion = np.zeros((n, n), dtype=np.int64)
    loss_sum = 0.0
    for label, predicted, count, loss in session.execute(joined):
        if 0 <= predicted < n:
            confusion[label, predicted] += count
        loss_sum += loss or 0.0
    total = int(confusion.sum())
    support, predicted_as = confusion.sum(1), confusion.sum(0)
    per_class = [
        ClassMetrics(
            name=classes[k],
            support=int(support[k]),
            accuracy=_ratio(confusion[k, k], support[k]),
            precision=_ratio(confusion[k, k], predicted_as[k]),
        )
        for k in range(n)
    ]
    return SplitMetrics(
        split=split,
        version_id=version_id,
        images=total,
        accuracy=_ratio(np.trace(confusion), total),
        loss=_ratio(loss_sum, total),
        per_class=per_class,
        confusion=confusion.tolist(),
    )
