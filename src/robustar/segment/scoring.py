"""Score a segmenter on a split in one streaming pass: each batch's maps become per-image
rows (mIoU, pixel accuracy, IoU and class shares) and are dropped; the split keeps only its
summed confusion matrix. Rows replace the version's earlier ones for the split in one
transaction, so a stopped pass leaves the old scores whole."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import torch
from sqlalchemy import delete, insert
from sqlalchemy.orm import Session
from torch import nn
from torch.utils.data import DataLoader

from robustar.db.tables import SegClassShare, SegScore, SegSplitScore
from robustar.predict.segmetrics import SegMetrics, SegScores
from robustar.progress import ProgressCallback, report


def _number(value: float) -> float | None:
    return None if math.isnan(value) else value


def class_shares(labels: torch.Tensor, num_classes: int, ignore_index: int) -> torch.Tensor:
    """[N, C] share of each class among each map's labelled pixels (zeros when none is)."""
    flat = labels.flatten(1)
    valid = flat != ignore_index
    counts = torch.zeros(len(flat), num_classes, dtype=torch.float64, device=flat.device)
    counts.scatter_add_(1, flat.where(valid, 0).long(), valid.double())
    return counts / counts.sum(1, keepdim=True).clamp(min=1)


@dataclass
class SplitScores:
    """A split's figures as stored: images scored, mIoU, pixel accuracy, IoU per class and
    the confusion matrix (rows truth, columns prediction); None where nothing is labelled."""

    split: str
    images: int
    miou: float | None
    pixel_accuracy: float | None
    iou: list[float | None]
    confusion: list[list[int]]


@torch.inference_mode()
def score_split(
    session: Session,
    model: nn.Module,
    loader: DataLoader,
    ids: Sequence[int],
    version_id: int,
    split: str,
    labelled: bool,
    device: torch.device,
    ignore_index: int,
    progress: ProgressCallback = None,
) -> SplitScores:
    """Run `model` over `loader` (items: image, label map, index into `ids`) and store the
    scores; an unlabelled split (the pool) stores the predicted shares only."""
    num_classes = -1
    metrics: SegMetrics | None = None
    session.execute(
        delete(SegScore).where(SegScore.version_id == version_id, SegScore.split == split)
    )
    session.execute(
        delete(SegClassShare).where(
            SegClassShare.version_id == version_id,
            SegClassShare.image_id.in_([int(i) for i in ids]),
        )
    )
    model.eval().to(device)
    done = 0
    for images, labels, index in loader:
        logits = model(images.to(device)).float()
        if metrics is None:
            num_classes = logits.shape[1]
            metrics = SegMetrics(num_classes, ignore_index)
        predicted = logits.argmax(1).cpu()
        batch_ids = [int(ids[int(i)]) for i in index]
        predicted_shares = class_shares(predicted, num_classes, ignore_index)
        truth_shares = class_shares(labels, num_classes, ignore_index) if labelled else None
        if labelled:
            metrics.update(predicted, labels, batch_ids)
        scored = metrics.images[-len(batch_ids) :] if labelled else []
        score_rows: list[dict[str, Any]] = []
        share_rows: list[dict[str, Any]] = []
        for row, image_id in enumerate(batch_ids):
            each: SegScores | None = scored[row].scores if labelled else None
            truth = None if truth_shares is None else truth_shares[row].tolist()
            shares = predicted_shares[row].tolist()
            score_rows.append(
                {
                    "version_id": version_id,
                    "image_id": image_id,
                    "split": split,
                    "miou": None if each is None else _number(each.miou),
                    "pixel_accuracy": None if each is None else _number(each.pixel_accuracy),
                    "iou": [] if each is None else [_number(v) for v in each.iou],
                    "truth_shares": truth,
                    "predicted_shares": shares,
                }
            )
            share_rows.extend(
                {
                    "version_id": version_id,
                    "image_id": image_id,
                    "class_index": k,
                    "truth": None if truth is None else truth[k],
                    "predicted": shares[k],
                }
                for k in range(num_classes)
                if shares[k] > 0 or (truth is not None and truth[k] > 0)
            )
        session.execute(insert(SegScore), score_rows)
        if share_rows:
            session.execute(insert(SegClassShare), share_rows)
        done += len(batch_ids)
        report(progress, f"score {split}", done, len(ids))
    result = _split_scores(split, done, metrics if labelled else None, num_classes)
    session.execute(
        delete(SegSplitScore).where(
            SegSplitScore.version_id == version_id, SegSplitScore.split == split
        )
    )
    session.add(
        SegSplitScore(
            version_id=version_id,
            split=split,
            images=result.images,
            miou=result.miou,
            pixel_accuracy=result.pixel_accuracy,
            iou=result.iou,
            confusion=result.confusion,
        )
    )
    return result


def _split_scores(
    split: str, images: int, metrics: SegMetrics | None, num_classes: int
) -> SplitScores:
    if metrics is None:
        return SplitScores(split, images, None, None, [], [])
    whole = metrics.result()
    return SplitScores(
        split,
        images,
        _number(whole.miou),
        _number(whole.pixel_accuracy),
        [_number(v) for v in whole.iou],
        metrics.confusion.tolist(),
    )
