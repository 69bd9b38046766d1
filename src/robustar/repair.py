"""Prove a repair: compare two model versions, and measure reliance on painted pixels.

`compare` reports accuracy per split and class and the images whose prediction flipped;
it also reports accuracy on copies of the annotated test images whose spurious regions are
filled, and the share of saliency inside those regions, for the old and the new version (a
model that ignores those pixels keeps its accuracy and looks elsewhere).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from sqlalchemy import ColumnElement, and_, case, func, select
from sqlalchemy.orm import aliased
from torch.utils.data import DataLoader

from robustar.config import LABELLED_SPLITS, RuntimeConfig
from robustar.data.dataset import ImageDataset
from robustar.data.images import ImageStore
from robustar.data.masked import MaskedDataset
from robustar.db.tables import Image, Prediction
from robustar.errors import DataError
from robustar.explain.explainer import Explain
from robustar.models.store import ModelStore
from robustar.predict.engine import make_loader
from robustar.predict.predictor import Predictor
from robustar.train.fillers import FILLERS, Pixels
from robustar.train.run import spurious_masks

SALIENCY_SAMPLE = 200  # annotated test images whose saliency mass is measured


@dataclass(frozen=True)
class ClassDelta:
    name: str
    before: float | None
    after: float | None


@dataclass(frozen=True)
class SplitComparison:
    split: str
    images: int
    before: float | None
    after: float | None
    fixed: int  # wrong before, right after
    broken: int  # right before, wrong after
    changed: int  # predicted class differs
    per_class: list[ClassDelta]


@dataclass(frozen=True)
class FilledAccuracy:
    """Accuracy on a split's annotated images, as they are and with their masks filled."""

    split: str
    images: int
    filler: str
    before_original: float | None
    after_original: float | None
    before_filled: float | None
    after_filled: float | None
    before_saliency_in_mask: float | None  # mean share of saliency inside the painted pixels
    after_saliency_in_mask: float | None  # (None when not measured)


@dataclass(frozen=True)
class Reliance:
    """One version's reliance on painted pixels, measured on a split's annotated images."""

    split: str
    images: int
    fillers: list[str]
    filled: float  # accuracy on the filled copies x'
    consistency: float  # share of x' whose prediction is that of x


@dataclass(frozen=True)
class MissingPrediction:
    version: int
    split: str


@dataclass(frozen=True)
class Comparison:
    """`missing`: the stored predictions comparing needs and lacks (an imported version has
    none); while any is missing, `splits` is empty and `filled` None, and `fix` says how to
    run them."""

    before: int
    after: int
    splits: list[SplitComparison]
    filled: FilledAccuracy | None
    missing: list[MissingPrediction] = field(default_factory=list)
    fix: str | None = None


def _count_if(condition: ColumnElement[bool]) -> ColumnElement[int]:
    """Portable SUM over a condition (PostgreSQL does not sum booleans)."""
    return func.sum(case((condition, 1), else_=0))


@torch.inference_mode()
def reliance_figures(
    model: torch.nn.Module,
    loader: Iterable,
    pixels: Pixels,
    fillers: list[str],
    seed: int,
    device: torch.device,
) -> tuple[float, float]:
    """(accuracy on the filled copies, agreement of their predictions with the originals'),
    means over `fillers`, for batches (images, labels, *_, masks) of annotated images."""
    correct = agree = copies = 0
    generator = torch.Generator().manual_seed(seed)
    for images, labels, *_, m in loader:
        images, labels, m = images.to(device), labels.to(device), m.to(device)
        original = model(images).argmax(1)
        for filler in fillers:
            predicted = model(FILLERS[filler](images, m, pixels, generator)).argmax(1)
            correct += int((predicted == labels).sum())
            agree += int((predicted == original).sum())
            copies += len(labels)
    return correct / max(copies, 1), agree / max(copies, 1)


class Repair:
    """Proving a repair: what changed between two versions, and reliance on painted pixels."""

    def __init__(
        self,
        images: ImageStore,
        models: ModelStore,
        predictor: Predictor,
        explain: Explain,
        runtime: RuntimeConfig,
    ) -> None:
        self._images, self._models, self._predictor = images, models, predictor
        self._explain, self._runtime = explain, runtime

    def missing_predictions(self, before: int, after: int) -> list[tuple[int, str]]:
        """(version, split) pairs of the labelled splits with images but no stored predictions
        of that version (an imported version, or a split added since)."""
        self._models.get(before), self._models.get(after)
        labelled = (s for s in LABELLED_SPLITS if s in self._images.folders)
        splits = [s for s in labelled if sum(self._images.class_counts(s).values())]
        query = (
            select(Prediction.version_id, Prediction.split)
            .where(Prediction.version_id.in_([before, after]), Prediction.split.in_(splits))
            .distinct()
        )
        with self._images.db.session() as session:
            present = {(v, s) for v, s in session.execute(query).all()}
        return [
            (version, split)
            for version in dict.fromkeys((before, after))
            for split in splits
            if (version, split) not in present
        ]

    def compare(
        self, before: int, after: int, filled: bool = True, report_missing: bool = False
    ) -> Comparison:
        """`after` against `before` on every labelled split; both need its predictions. A
        missing one is an error naming it, or with `report_missing` (the API: an imported
        version is a normal state) a comparison that lists them in `missing`."""
        missing = self.missing_predictions(before, after)
        if missing:
            named = ", ".join(f"version {v} on {s}" for v, s in missing)
            versions = sorted({v for v, _ in missing})
            commands = "; ".join(f"robustar predict DIR --version {v}" for v in versions)
            fix = (
                f"run them: {commands} (or robustar compare DIR --predict; the page: queue "
                "the missing predictions)"
            )
            python_fix = "run them: ws.compare(..., predict=True), or ws.predict(split, version)"
            if report_missing:
                listed = [MissingPrediction(v, s) for v, s in missing]
                return Comparison(before, after, [], None, listed, fix)
            raise DataError(
                f"no stored predictions for {named}: comparing needs both versions' predictions",
                fix,
                python_fix,
            )
        splits = [
            self._split(before, after, split)
            for split in LABELLED_SPLITS
            if split in self._images.folders
        ]
        report = self.filled_accuracy(before, after) if filled else None
        return Comparison(before, after, [s for s in splits if s.images], report)

    def _split(self, before: int, after: int, split: str) -> SplitComparison:
        a, b = aliased(Prediction), aliased(Prediction)
        query = (
            select(
                func.count(),
                _count_if(a.correct.is_(False) & b.correct.is_(True)),
                _count_if(a.correct.is_(True) & b.correct.is_(False)),
                _count_if(a.predicted != b.predicted),
            )
            .select_from(a)
            .join(b, and_(b.image_id == a.image_id, b.version_id == after))
            .where(a.version_id == before, a.split == split)
        )
        with self._images.db.session() as session:
            images, fixed, broken, changed = session.execute(query).one()
        old = self._predictor.metrics(split, before)
        new = self._predictor.metrics(split, after)
        return SplitComparison(
            split,
            int(images or 0),
            old.accuracy,
            new.accuracy,
            int(fixed or 0),
            int(broken or 0),
            int(changed or 0),
            [
                ClassDelta(o.name, o.accuracy, n.accuracy)
                for o, n in zip(old.per_class, new.per_class, strict=True)
            ],
        )

    def annotated_ids(self, split: str, masks: dict[int, Path] | None = None) -> list[int]:
        """Ids of the split's images with a current, non-empty spurious mask."""
        if split not in self._images.folders:
            return []
        found = spurious_masks(self._images.db, self._models.root) if masks is None else masks
        with self._images.db.session() as session:
            query = select(Image.id).where(Image.split == split, Image.id.in_(list(found)))
            return list(session.scalars(query.order_by(Image.id)))

    def _annotated(self, split: str) -> tuple[ImageDataset, DataLoader, Pixels] | None:
        """The split's images with spurious masks, a loader of them with their masks, and
        the pixel scale fillers need; None when there is no such image."""
        masks = spurious_masks(self._images.db, self._models.root)
        ids = self.annotated_ids(split, masks)
        if not ids:
            return None
        config = self._images.config
        base = self._images.dataset(split, ids)
        dataset = MaskedDataset(base, masks, config.size, config.resize)
        runtime = self._runtime
        device = self._models.device
        loader = make_loader(dataset, runtime.batch_size, runtime.workers, device)
        return base, loader, Pixels(config.mean, config.std, device)

    def reliance(
        self, version: int, split: str, fillers: list[str], seed: int = 0
    ) -> Reliance | None:
        """One version on the split's annotated images: accuracy with the spurious regions
        filled, and how often the prediction on the filled copy agrees with the original's,
        each a mean over `fillers`; None when the split has no annotated image."""
        found = self._annotated(split)
        if found is None:
            return None
        base, loader, pixels = found
        device = self._models.device
        model = self._models.load(version).eval().to(device)
        filled, agreement = reliance_figures(model, loader, pixels, fillers, seed, device)
        return Reliance(split, len(base), fillers, filled, agreement)

    def filled_accuracy(
        self,
        before: int,
        after: int,
        filler: str = "uniform",
        seed: int = 0,
        split: str = "test",
        saliency: bool = True,
    ) -> FilledAccuracy | None:
        """Both versions on the split's images with spurious masks, original and with the
        masks filled (the same fill for both); None when the split has no such image.
        `saliency` also measures the share of saliency inside the masks (slower)."""
        found = self._annotated(split)
        if found is None:
            return None
        base, loader, pixels = found
        device = self._models.device
        models = [self._models.load(v).eval().to(device) for v in (before, after)]
        correct = {key: 0 for key in ("b0", "a0", "b1", "a1")}
        generator = torch.Generator().manual_seed(seed)
        with torch.inference_mode():
            for images, labels, _, m in loader:
                images, labels, m = images.to(device), labels.to(device), m.to(device)
                filled = FILLERS[filler](images, m, pixels, generator)
                for tag, batch in (("0", images), ("1", filled)):
                    for name, model in zip("ba", models, strict=True):
                        correct[name + tag] += int((model(batch).argmax(1) == labels).sum())
        n = len(base)
        means: list[float | None] = [None, None]
        if saliency:
            sample = base.ids[:SALIENCY_SAMPLE]
            masses = [
                [self._explain.mass_in_mask(i, "spurious", version=v) for i in sample]
                for v in (before, after)
            ]
            means = [float(np.mean([m for m in ms if m is not None])) for ms in masses]
        return FilledAccuracy(
            split,
            n,
            filler,
            correct["b0"] / n,
            correct["a0"] / n,
            correct["b1"] / n,
            correct["a1"] / n,
            means[0],
            means[1],
        )
