"""The regression guard: a version trained from a parent becomes current only if it keeps the
parent's accuracy on the validation split, clean and with its spurious masks filled, within a
tolerance; otherwise it waits as a candidate until the user promotes it.

Later kinds of repair add their own checks here (region hold-out, edited validation).
"""

from __future__ import annotations

from collections.abc import Callable

from robustar.data.images import ImageStore
from robustar.models.store import ModelStore
from robustar.models.versions import GuardCheck, GuardReport
from robustar.predict.predictor import Predictor
from robustar.repair import Repair
from robustar.verdict import percent

SPLIT = "validation"


def _named(metric: str) -> str:
    """A check's figure in words: '<split> accuracy', or the mIoU a check names."""
    return metric if metric.endswith("mIoU") else f"{metric} accuracy"


class Guard:
    """Judges a new version against its parent and records the verdict."""

    def __init__(
        self,
        images: ImageStore,
        models: ModelStore,
        predictor: Predictor,
        repair: Repair,
        segmentation: Callable[[int], tuple[int, float]] | None = None,
    ) -> None:
        """`segmentation`, in a segmentation workspace, gives a version's validation images
        and mIoU: the guard's one check there."""
        self._images, self._models = images, models
        self._predictor, self._repair = predictor, repair
        self._segmentation = segmentation

    def accuracy(self, version: int) -> tuple[int, float]:
        """Images and clean validation accuracy from the stored predictions, predicting once
        if missing."""
        metrics = self._predictor.metrics(SPLIT, version)
        if metrics.accuracy is None:
            metrics = self._predictor.run(SPLIT, version)
        return metrics.images, metrics.accuracy or 0.0

    def checks(self, parent: int, version: int, tolerance: float) -> list[GuardCheck]:
        """Clean validation accuracy, and accuracy with the masks filled when validation images
        have spurious masks; a check passes when the version loses at most `tolerance` points."""
        slack = tolerance / 100 + 1e-9  # accuracies are ratios of counts: no rounding noise

        def check(metric: str, images: int, before: float, after: float) -> GuardCheck:
            return GuardCheck(metric, images, before, after, after >= before - slack)

        if self._segmentation is not None:
            (images, before), (_, after) = self._segmentation(parent), self._segmentation(version)
            return [check(f"{SPLIT} mIoU", images, before, after)]
        (images, before), (_, after) = self.accuracy(parent), self.accuracy(version)
        found = [check(SPLIT, images, before, after)]
        filled = self._repair.filled_accuracy(parent, version, split=SPLIT, saliency=False)
        if filled is not None:
            assert filled.before_filled is not None and filled.after_filled is not None
            found.append(
                check(
                    f"{SPLIT}, masks filled",
                    filled.images,
                    filled.before_filled,
                    filled.after_filled,
                )
            )
        return found

    def judge(self, version: int, tolerance: float, against: int | None = None) -> GuardReport:
        """The verdict on `version` against its parent, or the version `against` (a repair
        search's candidate against the version current when the search began), in figures
        and in words."""
        parent = against if against is not None else self._models.get(version).parent_id
        assert parent is not None
        if SPLIT not in self._images.folders:
            reason = (
                f"no validation split, so nothing to check v{version} against v{parent} on: "
                "adopted without a check (add [data] validation to robustar.toml to guard)"
            )
            return GuardReport(parent, tolerance, [], True, reason)
        found = self.checks(parent, version, tolerance)
        figures = "; ".join(
            f"{_named(c.metric)} {percent(c.parent)} → {percent(c.candidate)}" for c in found
        )
        if len(found) == 1 and self._segmentation is None:
            figures += "; masks filled: not checked (no spurious masks on validation images)"
        failed = [c.metric for c in found if not c.passed]
        if not failed:
            reason = (
                f"{figures}: within {tolerance:g} points of v{parent}, so v{version} is current"
            )
            return GuardReport(parent, tolerance, found, True, reason)
        reason = (
            f"{' and '.join(map(_named, failed))} fell by more than the {tolerance:g}-point "
            f"tolerance against v{parent} ({figures}): v{version} is kept as a candidate and "
            f"v{parent} stays current; promote v{version} only if you want it anyway "
            f"('robustar models use DIR {version}', the Models page, or ws.use_model({version}))"
        )
        return GuardReport(parent, tolerance, found, False, reason)
