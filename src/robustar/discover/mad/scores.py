"""Scoring the pool: every model's answer on every pool image, streamed and stored compactly.

A model's rows are written batch by batch, each batch its own transaction, and only images
without a row of that model are read, so a stopped scoring job resumes where it stopped and
the pool is never held in memory (ids are read in chunks). A row keeps the top-1 class and
probability, the entropy (for the entropy-sampling baseline) and the top `TOP_K` classes
with float16 probabilities: about 40 bytes of values per image and model.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager

import numpy as np
import torch
from sqlalchemy import Select, exists, func, insert, select
from sqlalchemy.orm import Session
from torch import nn

from robustar.db.tables import Image, MadScore
from robustar.predict.engine import infer, make_loader
from robustar.progress import ProgressCallback, report

TOP_K = 5
POOL = "pool"
CHUNK = 4096  # ids read at a time
TOP_DTYPE = np.dtype([("cls", "<u2"), ("p", "<f2")])


def encode_top(probabilities: np.ndarray) -> bytes:
    """The top `TOP_K` (class, probability) pairs of one image as bytes."""
    order = np.argsort(-probabilities)[:TOP_K]
    packed = np.empty(len(order), TOP_DTYPE)
    packed["cls"], packed["p"] = order, probabilities[order]
    return packed.tobytes()


def decode_top(blob: bytes) -> list[tuple[int, float]]:
    packed = np.frombuffer(blob, TOP_DTYPE)
    return [(int(c), float(p)) for c, p in zip(packed["cls"], packed["p"], strict=True)]


def score_rows(
    version_id: int,
    logits: torch.Tensor,
    ids: torch.Tensor,
    class_map: list[int] | None,
    classes: int,
) -> list[dict]:
    """Rows for one batch; `class_map` sends each output to one of our classes (-1: none)."""
    raw = logits.softmax(1).numpy().astype(np.float64)
    entropy = -(raw * np.log(np.clip(raw, 1e-12, None))).sum(1)
    probs = raw
    if class_map is not None:
        probs = np.zeros((len(raw), classes))
        kept = [i for i, c in enumerate(class_map) if c >= 0]
        np.add.at(probs.T, [class_map[i] for i in kept], raw[:, kept].T)
    predicted = probs.argmax(1)
    return [
        {
            "version_id": version_id,
            "image_id": int(image_id),
            "predicted": int(predicted[i]),
            "confidence": float(probs[i, predicted[i]]),
            "entropy": float(entropy[i]),
            "top": encode_top(probs[i]),
        }
        for i, image_id in enumerate(ids.tolist())
    ]


def _unscored(version_id: int) -> Select[int]:
    scored = exists().where(MadScore.version_id == version_id, MadScore.image_id == Image.id)
    return select(Image.id).where(Image.split == POOL, ~scored)


def unscored_count(session: Session, version_id: int) -> int:
    return session.scalar(select(func.count()).select_from(_unscored(version_id).subquery())) or 0


def score_pool(
    sessions: Callable[[], AbstractContextManager[Session]],
    dataset_of: Callable[[list[int]], torch.utils.data.Dataset],
    version_id: int,
    model: nn.Module,
    class_map: list[int] | None,
    classes: int,
    device: torch.device,
    batch_size: int,
    workers: int,
    progress: ProgressCallback = None,
    stage: str = "score pool",
) -> int:
    """Score the pool images this version has no row for; return how many were scored."""
    with sessions() as session:
        total = unscored_count(session, version_id)
    done, last = 0, 0
    while True:
        with sessions() as session:
            query = _unscored(version_id).where(Image.id > last).order_by(Image.id).limit(CHUNK)
            ids = list(session.scalars(query))
        if not ids:
            return done
        loader = make_loader(dataset_of(ids), batch_size, workers, device)
        for logits, _, batch_ids in infer(model, loader, device):
            rows = score_rows(version_id, logits, batch_ids, class_map, classes)
            with sessions() as session:
                session.execute(insert(MadScore), rows)
            done += len(rows)
            report(progress, stage, done, total)
        last = ids[-1]
