"""The robustness benchmark over a stream of images: every edit at every seed, the model's
prediction before and after, tallied per (edit, seed, class); skips and flips counted.

Images stream through one at a time (edited copies live only for their batch), and every
edited image is a function of (image, edit, options, seed), so a flip is shown again by
regenerating it, not by storing it. Each edited image's object pixel rate and background
complexity are averaged per edit, so the drop can be charted against the measured axes.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np

from robustar.discover.edits.apply import EditSpec, apply
from robustar.discover.edits.background import complexity
from robustar.discover.edits.donors import DonorPool
from robustar.discover.edits.geometry import check_object, rate
from robustar.discover.edits.inpaint import Backend, remove
from robustar.discover.edits.skips import EditSkipped
from robustar.progress import ProgressCallback, report

# RGB uint8 images -> class probabilities (N, classes)
Classify = Callable[[list[np.ndarray]], np.ndarray]
TEN_CROP = " + ten-crop"  # appended to an edit's label for its ten-crop rows
ORIGINAL = "original"  # the measures of the unedited images


def view_label(label: str, view: str) -> str:
    """The row name of an edit seen through a view ("" plain, TEN_CROP)."""
    return label + view


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
    view: str = ""

    @property
    def label(self) -> str:
        return view_label(self.spec.label, self.view)


@dataclass
class Tally:
    """What a run counted: [images, right before, right after] per (edit label, seed,
    class); skips per edit and reason; the flipped images; the images seen; per edit label
    (and ORIGINAL) the sums [images, object pixel rate, background complexity]."""

    counts: dict[tuple[str, int, int], list[int]] = field(
        default_factory=lambda: defaultdict(lambda: [0, 0, 0])
    )
    skipped: dict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))
    flips: list[Flip] = field(default_factory=list)
    images: int = 0
    sums: dict[str, list[float]] = field(default_factory=lambda: defaultdict(lambda: [0, 0, 0]))

    def rows(self) -> list[list[object]]:
        return [[e, s, c, *v] for (e, s, c), v in sorted(self.counts.items())]

    def skips(self) -> dict[str, dict[str, int]]:
        return {edit: dict(reasons) for edit, reasons in self.skipped.items()}

    def measure(self, label: str, image: np.ndarray, mask: np.ndarray) -> None:
        found = self.sums[label]
        found[0] += 1
        found[1] += rate(mask)
        found[2] += complexity(image, mask)

    def measures(self) -> dict[str, dict[str, float]]:
        """Mean object pixel rate and background complexity per edit label."""
        return {
            label: {"object_rate": r / n, "complexity": c / n}
            for label, (n, r, c) in self.sums.items()
            if n
        }


def evaluate(
    items: Iterable[Item],
    specs: Sequence[EditSpec],
    seeds: Sequence[int],
    classify: Classify,
    backend: Backend,
    total: int | None = None,
    progress: ProgressCallback = None,
    stop: Callable[[], bool] = lambda: False,
    ten_crop: Classify | None = None,
) -> Tally:
    """Run every edit at every seed on every item with an object mask; `stop` is asked
    between images (a cancelled job ends with what it counted). With `ten_crop` (the model
    under ten-crop test-time augmentation) the same edited images are counted again under
    labels ending in TEN_CROP."""
    tally, pool = Tally(), DonorPool()
    views = {"": classify, **({TEN_CROP: ten_crop} if ten_crop else {})}
    for done, item in enumerate(items, 1):
        if stop():
            break
        _one(item, specs, seeds, views, backend, pool, tally)
        report(progress, "attribute edits", done, total or done)
    return tally


def _one(
    item: Item,
    specs: Sequence[EditSpec],
    seeds: Sequence[int],
    views: dict[str, Classify],
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
    tally.measure(ORIGINAL, item.image, item.mask)
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
            tally.measure(spec.label, edited.image, edited.mask)
    pool.add(item.image_id, filled)
    for view, classify in views.items():
        predicted = classify(images).argmax(axis=1)
        before = int(predicted[0])
        for (spec, seed), after in zip(made, predicted[1:], strict=True):
            row = tally.counts[(view_label(spec.label, view), seed, item.label)]
            row[0] += 1
            row[1] += before == item.label
            row[2] += int(after) == item.label
            if (before == item.label) != (int(after) == item.label):
                flip = Flip(item.image_id, spec, seed, item.label, before, int(after), view)
                tally.flips.append(flip)
