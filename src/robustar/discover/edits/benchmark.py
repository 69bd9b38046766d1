"""The robustness benchmark over a stream of images: every edit at every seed, the model's
prediction before and after, tallied per (edit, seed, class); skips and flips counted.

Images stream through one at a time (edited copies live only for their batch), and every
edited image is a function of (image, edit, options, seed), so a flip is shown again by
regenerating it, not by storing it.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np

from robustar.discover.edits.apply import EditSpec, apply
from robustar.discover.edits.donors import DonorPool
from robustar.discover.edits.geometry import check_object
from robustar.discover.edits.inpaint import Backend, remove
from robustar.discover.edits.skips import EditSkipped
from robustar.progress import ProgressCallback, report

# RGB uint8 images -> class probabilities (N, classes)
Classify = Callable[[list[np.ndarray]], np.ndarray]


@dataclass(frozen=True)
class Item:
    """One image of the split: its label, pixels and object mask (None: it has none)."""

    image_id: int
    label: int
    image: np.ndarray
    mask: np.ndarray | None


@dataclass(frozen=True)
class Flip:
    image_id: int
    spec: EditSpec
    seed: int
    truth: int
    before: int
    after: int


@dataclass
class Tally:
    """What a run counted: [images, right before, right after] per (edit label, seed,
    class); skips per edit and reason; the flipped images; the images seen."""

    counts: dict[tuple[str, int, int], list[int]] = field(
        default_factory=lambda: defaultdict(lambda: [0, 0, 0])
    )
    skipped: dict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))
    flips: list[Flip] = field(default_factory=list)
    images: int = 0

    def rows(self) -> list[list[object]]:
        return [[e, s, c, *v] for (e, s, c), v in sorted(self.counts.items())]

    def skips(self) -> dict[str, dict[str, int]]:
        return {edit: dict(reasons) for edit, reasons in self.skipped.items()}


def evaluate(
    items: Iterable[Item],
    specs: Sequence[EditSpec],
    seeds: Sequence[int],
    classify: Classify,
    backend: Backend,
    total: int | None = None,
    progress: ProgressCallback = None,
    stop: Callable[[], bool] = lambda: False,
) -> Tally:
    """Run every edit at every seed on every item with an object mask; `stop` is asked
    between images (a cancelled job ends with what it counted)."""
    tally, pool = Tally(), DonorPool()
    for done, item in enumerate(items, 1):
        if stop():
            break
        _one(item, specs, seeds, classify, backend, pool, tally)
        report(progress, "attribute edits", done, total or done)
    return tally


def _one(
    item: Item,
    specs: Sequence[EditSpec],
    seeds: Sequence[int],
    classify: Classify,
    backend: Backend,
    pool: DonorPool,
    tally: Tally,
) -> None:
    try:
        if item.mask is None:
            raise EditSkipped("no mask")
        check_object(item.mask)
    except EditSkipped as skip:  # the whole image is skipped, counted under every edit
        for spec in specs:
            tally.skipped[spec.label][skip.reason] += 1
        return
    tally.images += 1
    images, made = [item.image], []
    donor = pool.donor(item.image_id, item.mask.shape)
    filled = remove(item.image, item.mask, backend)
    for spec in specs:
        for seed in seeds:
            try:
                edited = apply(
                    spec,
                    item.image,
                    item.mask,
                    seed=seed,
                    image_key=item.image_id,
                    backend=backend,
                    donor=donor,
                    background=filled,
                )
            except EditSkipped as skip:
                tally.skipped[spec.label][skip.reason] += 1
                continue
            images.append(edited.image)
            made.append((spec, seed))
    pool.add(item.image_id, filled)
    predicted = classify(images).argmax(axis=1)
    before = int(predicted[0])
    for (spec, seed), after in zip(made, predicted[1:], strict=True):
        row = tally.counts[(spec.label, seed, item.label)]
        row[0] += 1
        row[1] += before == item.label
        row[2] += int(after) == item.label
        if (before == item.label) != (int(after) == item.label):
            tally.flips.append(Flip(item.image_id, spec, seed, item.label, before, int(after)))
