"""Segmentation metrics from a confusion matrix over classes: pixel accuracy, IoU per class
and mIoU, per image and per split, accumulated batch by batch (no map is kept).

torchmetrics is not a dependency of Robustar, and everything here follows from one
`torch.bincount` (checked in the tests against a hand-computed case). Conventions: pixels whose
truth is the ignore index count nowhere; a class absent from both the truth and the prediction
of an image (or a split) has IoU NaN and is left out of that mIoU, so an image of background
and one object is scored on those two classes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch

from robustar.errors import DataError

IGNORE_INDEX = 255


def _as_labels(values: torch.Tensor | np.ndarray) -> torch.Tensor:
    return torch.as_tensor(values).to(torch.int64)


def batch_confusion(
    pred: torch.Tensor | np.ndarray,
    target: torch.Tensor | np.ndarray,
    num_classes: int,
    ignore_index: int = IGNORE_INDEX,
) -> torch.Tensor:
    """One confusion matrix per image, [N, C, C] (rows: truth, columns: prediction), of
    predicted maps and truths [N, H, W] (or one map each, [H, W], giving [1, C, C])."""
    p, t = _as_labels(pred), _as_labels(target).to(torch.as_tensor(pred).device)
    if p.shape != t.shape:
        raise DataError(
            f"predicted maps {tuple(p.shape)} and label maps {tuple(t.shape)} differ in shape",
            "compare each prediction with the label map of the same image, at the same size",
        )
    if p.ndim == 2:
        p, t = p[None], t[None]
    valid = t != ignore_index
    wrong = valid & ((t < 0) | (t >= num_classes)) | (p < 0) | (p >= num_classes)
    if bool(wrong.any()):
        raise DataError(
            f"class indices outside 0..{num_classes - 1} (and not the ignore index "
            f"{ignore_index}) in the maps",
            "check that the model and the label maps use the same class list",
        )
    image = torch.arange(len(t), device=t.device).view(-1, *([1] * (t.ndim - 1)))
    index = (image * num_classes + t) * num_classes + p
    counts = torch.bincount(index[valid], minlength=len(t) * num_classes**2)
    return counts.view(len(t), num_classes, num_classes)


@dataclass(frozen=True)
class SegScores:
    """The scores of one confusion matrix (one image's or a split's)."""

    pixel_accuracy: float
    iou: list[float]
    miou: float
    pixels: int

    @classmethod
    def of(cls, confusion: torch.Tensor | np.ndarray) -> SegScores:
        matrix = np.asarray(torch.as_tensor(confusion).cpu(), dtype=np.float64)
        hits = np.diag(matrix)
        union = matrix.sum(0) + matrix.sum(1) - hits
        with np.errstate(invalid="ignore", divide="ignore"):
            iou = np.where(union > 0, hits / union, np.nan)
        total = matrix.sum()
        present = iou[~np.isnan(iou)]
        return cls(
            float(hits.sum() / total) if total else float("nan"),
            [float(v) for v in iou],
            float(present.mean()) if len(present) else float("nan"),
            int(total),
        )


def scores(
    pred: torch.Tensor | np.ndarray,
    target: torch.Tensor | np.ndarray,
    num_classes: int,
    ignore_index: int = IGNORE_INDEX,
) -> SegScores:
    """The scores of one predicted map against its truth (or of a batch taken together)."""
    return SegScores.of(batch_confusion(pred, target, num_classes, ignore_index).sum(0))


@dataclass(frozen=True)
class ImageScores:
    image_id: int
    scores: SegScores


class SegMetrics:
    """A split's metrics, streamed: `update` with each batch of predictions (class maps, or
    logits [N, C, H, W]) and truths; the split's confusion matrix is summed and each image's
    scores kept, never the maps."""

    def __init__(
        self, num_classes: int, ignore_index: int = IGNORE_INDEX, per_image: bool = True
    ) -> None:
        self.num_classes, self.ignore_index, self.per_image = num_classes, ignore_index, per_image
        self.confusion = torch.zeros(num_classes, num_classes, dtype=torch.int64)
        self.images: list[ImageScores] = []

    def update(
        self,
        pred: torch.Tensor,
        target: torch.Tensor,
        image_ids: Sequence[int] | None = None,
    ) -> None:
        if pred.ndim == target.ndim + 1:  # logits
            pred = pred.argmax(1)
        each = batch_confusion(pred, target, self.num_classes, self.ignore_index).cpu()
        self.confusion += each.sum(0)
        if self.per_image:
            start = len(self.images)
            ids = list(image_ids) if image_ids is not None else range(start, start + len(each))
            self.images.extend(
                ImageScores(i, SegScores.of(c)) for i, c in zip(ids, each, strict=True)
            )

    def result(self) -> SegScores:
        """The split's scores: its summed confusion matrix's, not a mean of the images'."""
        return SegScores.of(self.confusion)
