"""Selecting the pool images where two segmenters disagree most: the candidate set M of
Algorithm 1 in "Troubleshooting image segmentation models with a human in the loop" (seed 002),
and the entropy-sampling baseline it is compared with.

For the target f_t and each competitor g_j:
- the discrepancy of an image is 1 - mIoU between the two predicted maps (IoU per class is
  symmetric, so neither map plays the truth);
- the pool is split into overlapping class partitions by the target's map: an image belongs to
  class k's partition when k's share of its pixels lies in [p_k, q_k], the first and third
  quartiles of k's share in the training label maps (over the images that contain k; a class
  the training labels never contain has no partition); the background is no partition;
- each (competitor, class) partition gives its n3 most discrepant images;
- the same again with the roles swapped (the competitor's map decides the partition);
- M is the union.

Everything is streaming: the functions take iterables of per-image summaries (an id, the
discrepancy and each model's class shares: a few numbers), never whole maps, and keep only the
n3 best per partition, so a pool of any size passes in one read per competitor. The
classification MAD (`select.py`) is the model: `exclude` leaves out images picked in earlier
rounds, ties go to the smaller id.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import torch

from robustar.errors import DataError
from robustar.predict.segmetrics import IGNORE_INDEX, SegScores, batch_confusion

LedBy = Literal["target", "competitor"]
BACKGROUND = 0


def class_shares(
    label_map: np.ndarray | torch.Tensor, num_classes: int, ignore_index: int = IGNORE_INDEX
) -> np.ndarray:
    """Each class's share of a map's labelled pixels (ignored pixels count nowhere)."""
    values = torch.as_tensor(label_map).to(torch.int64).flatten()
    values = values[values != ignore_index]
    counts = torch.bincount(values, minlength=num_classes)[:num_classes].double()
    return np.asarray((counts / max(len(values), 1)).cpu())


def share_ranges(
    shares: Iterable[np.ndarray | Sequence[float]], num_classes: int
) -> dict[int, tuple[float, float]]:
    """[p_k, q_k] per class: the first and third quartiles of class k's share over the
    training maps that contain k (`shares`: one `class_shares` vector per training map).
    Classes no training map contains are absent."""
    seen: list[list[float]] = [[] for _ in range(num_classes)]
    for vector in shares:
        for k, share in enumerate(vector):
            if share > 0:
                seen[k].append(float(share))
    return {
        k: (float(np.quantile(values, 0.25)), float(np.quantile(values, 0.75)))
        for k, values in enumerate(seen)
        if values
    }


def discrepancy(
    map_a: np.ndarray | torch.Tensor, map_b: np.ndarray | torch.Tensor, num_classes: int
) -> float:
    """1 - mIoU between two predicted maps of one image."""
    return 1 - SegScores.of(batch_confusion(map_a, map_b, num_classes)[0]).miou


@dataclass(frozen=True)
class PairSummary:
    """What selection needs of one pool image under (target, competitor)."""

    image_id: int
    discrepancy: float
    target_shares: tuple[float, ...]
    competitor_shares: tuple[float, ...]


def summarise(
    image_ids: Sequence[int],
    target: torch.Tensor | np.ndarray,
    competitor: torch.Tensor | np.ndarray,
    num_classes: int,
) -> list[PairSummary]:
    """Summaries of a batch: predicted maps [N, H, W] (or logits [N, C, H, W]) of both
    models, so a scoring pass can drop the maps as soon as they are summarised."""
    a, b = _maps(target), _maps(competitor)
    confusion = batch_confusion(a, b, num_classes)
    return [
        PairSummary(
            int(image_id),
            1 - SegScores.of(confusion[i]).miou,
            tuple(class_shares(a[i], num_classes).tolist()),
            tuple(class_shares(b[i], num_classes).tolist()),
        )
        for i, image_id in enumerate(image_ids)
    ]


def _maps(values: torch.Tensor | np.ndarray) -> torch.Tensor:
    tensor = torch.as_tensor(values)
    return tensor.argmax(1) if tensor.ndim == 4 else tensor


@dataclass(frozen=True)
class SegCandidate:
    """An image chosen for M: the partition it was chosen in and its rank there (1 = most
    discrepant)."""

    image_id: int
    competitor: int
    led_by: LedBy
    class_index: int
    discrepancy: float
    rank: int


def select_candidates(
    summaries: Mapping[int, Iterable[PairSummary]],
    ranges: Mapping[int, tuple[float, float]],
    per_class: int = 25,
    classes: Iterable[int] | None = None,
    exclude: Iterable[int] = (),
) -> list[SegCandidate]:
    """The top `per_class` (n3) images per (competitor, class, role), from each competitor's
    summaries against the target (`summaries`: competitor id → its summaries, read once).
    `classes`: the partitions (default: every class with a range but the background)."""
    if per_class < 1:
        raise DataError(f"n3 = {per_class}", "take at least 1 image per class partition")
    wanted = sorted(set(ranges) - {BACKGROUND} if classes is None else set(classes) & set(ranges))
    excluded = set(exclude)
    chosen: list[SegCandidate] = []
    for competitor, rows in summaries.items():
        heaps: dict[tuple[LedBy, int], list[tuple[float, int]]] = {}
        for row in rows:
            if row.image_id in excluded or math.isnan(row.discrepancy):
                continue
            item = (row.discrepancy, -row.image_id)  # the heap's top is the weakest kept
            roles: tuple[tuple[LedBy, tuple[float, ...]], ...] = (
                ("target", row.target_shares),
                ("competitor", row.competitor_shares),
            )
            for led_by, shares in roles:
                for k in wanted:
                    low, high = ranges[k]
                    if not low <= shares[k] <= high:
                        continue
                    heap = heaps.setdefault((led_by, k), [])
                    if len(heap) < per_class:
                        heapq.heappush(heap, item)
                    elif item > heap[0]:
                        heapq.heapreplace(heap, item)
        for (led_by, k), heap in sorted(heaps.items()):
            for rank, (score, negative_id) in enumerate(sorted(heap, reverse=True), 1):
                chosen.append(SegCandidate(-negative_id, competitor, led_by, k, score, rank))
    return chosen


def candidate_union(candidates: Iterable[SegCandidate]) -> list[int]:
    """M: each chosen image once, most discrepant first (then by id)."""
    best: dict[int, float] = {}
    for c in candidates:
        best[c.image_id] = max(best.get(c.image_id, -math.inf), c.discrepancy)
    return sorted(best, key=lambda i: (-best[i], i))


def main_class(shares: Sequence[float], background: int | None = BACKGROUND) -> int | None:
    """The class with the largest share apart from the background (None when the map is all
    background): what a round's test set caps at 4 images per, as the paper's "main
    foreground object"."""
    best = max(
        (k for k in range(len(shares)) if k != background and shares[k] > 0),
        key=lambda k: (shares[k], -k),
        default=None,
    )
    return best


def mean_pixel_entropy(logits: torch.Tensor) -> torch.Tensor:
    """The entropy baseline's score per image, [N]: the mean over pixels of the predicted
    class distribution's entropy (nats), from logits [N, C, H, W]."""
    log_p = logits.float().log_softmax(1)
    return -(log_p.exp() * log_p).sum(1).flatten(1).mean(1)


def entropy_select(
    scores: Iterable[tuple[int, float]], budget: int, exclude: Iterable[int] = ()
) -> list[int]:
    """The entropy baseline at the same labelling budget: the `budget` images of highest
    mean pixel entropy (`scores`: (image id, entropy) pairs, streamed), highest first."""
    excluded = set(exclude)
    top = heapq.nlargest(
        budget, ((e, -i) for i, e in scores if i not in excluded and not math.isnan(e))
    )
    return [-negative_id for _, negative_id in top]
