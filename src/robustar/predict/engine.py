"""Batched inference over a split with a DataLoader; rows are written batch by batch."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager

import numpy as np
import torch
import torch.nn.functional as F
from sqlalchemy import delete, insert
from sqlalchemy.orm import Session
from torch import nn
from torch.utils.data import DataLoader, Dataset

from robustar.db.tables import Prediction
from robustar.progress import ProgressCallback, report


def make_loader(
    dataset: Dataset,
    batch_size: int,
    workers: int,
    device: torch.device,
    shuffle: bool = False,
    generator: torch.Generator | None = None,
) -> DataLoader:
    return DataLoader(
        dataset,
        batch_size=batch_size,
        shuffle=shuffle,
        num_workers=workers,
        pin_memory=device.type == "cuda",
        persistent_workers=False,
        generator=generator,
    )


@torch.inference_mode()
def infer(
    model: nn.Module,
    loader: DataLoader,
    device: torch.device,
    progress: ProgressCallback = None,
    stage: str = "predict",
) -> Iterator[tuple[torch.Tensor, torch.Tensor, torch.Tensor]]:
    """Yield (logits as float32 on CPU, labels, image ids) per batch."""
    model.eval().to(device)
    total = len(loader)
    for done, (images, labels, ids) in enumerate(loader, 1):
        with torch.autocast(device.type, enabled=device.type == "cuda"):
            logits = model(images.to(device, non_blocking=True))
        yield logits.float().cpu(), labels, ids
        report(progress, stage, done, total)


def _rows(
    version_id: int, split: str, logits: torch.Tensor, labels: torch.Tensor, ids: torch.Tensor
) -> list:
    probabilities = logits.softmax(1)
    confidence, predicted = probabilities.max(1)
    labelled = labels >= 0
    loss = F.cross_entropy(logits, labels.clamp(min=0), reduction="none")
    probs = probabilities.numpy().astype(np.float32)
    return [
        {
            "version_id": version_id,
            "image_id": int(image_id),
            "split": split,
            "label": int(y) if is_labelled else None,
            "predicted": int(p),
            "confidence": float(c),
            "loss": float(lo) if is_labelled else None,
            "correct": bool(p == y) if is_labelled else None,
            "probabilities": probs[i].tobytes(),
        }
        for i, (image_id, p, c, lo, y, is_labelled) in enumerate(
            zip(
                ids.tolist(),
                predicted.tolist(),
                confidence.tolist(),
                loss.tolist(),
                labels.tolist(),
                labelled.tolist(),
                strict=True,
            )
        )
    ]


def store_predictions(
    sessions: Callable[[], AbstractContextManager[Session]],
    version_id: int,
    split: str,
    model: nn.Module,
    loader: DataLoader,
    device: torch.device,
    progress: ProgressCallback = None,
) -> int:
    """Replace the version's predictions on a split; return the row count.

    Each batch is its own short transaction, so a job's progress (and anyone else) can write
    in between; predictions are a cache that a new run replaces whole.
    """
    with sessions() as session:
        session.execute(
            delete(Prediction).where(Prediction.version_id == version_id, Prediction.split == split)
        )
    count = 0
    for logits, labels, ids in infer(model, loader, device, progress, f"predict {split}"):
        rows = _rows(version_id, split, logits, labels, ids)
        with sessions() as session:
            session.execute(insert(Prediction), rows)
        count += len(rows)
    return count
