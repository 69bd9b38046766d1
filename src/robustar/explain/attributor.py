"""`Workspace.attribution`: build indexes, query one test image, rank suspicious training images."""

from __future__ import annotations

import threading
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np
import torch
from sqlalchemy import delete, insert, select

from robustar.data.images import ImageStore
from robustar.db.tables import Mask, Suspicion
from robustar.errors import DataError, NotFoundError
from robustar.explain.attribution import (
    ATTRIBUTION,
    DEFAULT_METHOD,
    INDEX_DEFAULTS,
    AttributionIndex,
    Attributions,
    Featuriser,
    IndexInfo,
    Readiness,
    Scored,
    save_arrays,
)
from robustar.models.store import ModelStore
from robustar.predict.browse import Browser
from robustar.predict.predictor import Predictor
from robustar.progress import ProgressCallback, report

RANKING = ("ids", "score", "harms_most", "mistake_class")  # the stored ranking's arrays
QUEUE_SIZE = 100  # the gallery's `suspicious` filter: the queue's top K (the page's default)
Ordering = Literal["balanced", "score"]


@dataclass(frozen=True)
class Suspect:
    """A training image in the suspicious queue: its summed harm, the misclassified test
    image it harms most (the mistake to look at next to it) and that mistake's true class,
    and whether the image already has a current non-empty spurious mask."""

    image_id: int
    score: float
    harms_most: int
    mistake_class: int
    annotated: bool


def balanced(suspects: list[Suspect]) -> list[Suspect]:
    """Round-robin over the classes of the mistakes the suspects harm most, each class's
    suspects by score; classes take turns in the order of their strongest suspect, so the
    first suspect is the strongest overall (see decisions.md)."""
    by_class: dict[int, list[Suspect]] = defaultdict(list)
    for s in sorted(suspects, key=lambda s: -s.score):
        by_class[s.mistake_class].append(s)
    turns = list(by_class.values())
    return [
        group[i]
        for i in range(max(map(len, turns), default=0))
        for group in turns
        if i < len(group)
    ]


def _check_ranks(method: str) -> None:
    if not ATTRIBUTION.entry(method).meta["ranks"]:
        ranking = [e.name for e in ATTRIBUTION.entries() if e.meta["ranks"]]
        raise DataError(
            f"the suspicious queue needs one query per misclassified image; {method} is "
            "meant for single queries",
            f"rank with {', '.join(ranking)}",
        )


class Attribution:
    def __init__(
        self,
        images: ImageStore,
        models: ModelStore,
        predictor: Predictor,
        browser: Browser,
        cache: Path,
        workers: int,
    ) -> None:
        self._images, self._models, self._predictor = images, models, predictor
        self._browser = browser
        self._cache, self._workers = cache, workers
        # The last index queried, with its featuriser, keyed by the index's description, the
        # time its meta was written (a rebuild, even in the worker process, changes it) and
        # the device the featuriser's models live on.
        self._prepared: dict[
            tuple[IndexInfo, int, torch.device], tuple[AttributionIndex, Featuriser]
        ] = {}
        # A featuriser keeps state between its forward pass and its gradients (a hook on the
        # last layer), so the server's threads take turns.
        self._lock = threading.Lock()

    def _features(
        self, index: AttributionIndex, image_ids: list[int], targets: list[int] | None = None
    ) -> tuple[AttributionIndex, torch.Tensor]:
        """Test features, and the index to score them with, both kept between queries:
        building a featuriser draws the projection matrix (`trak`) or measures the curvature
        (`influence-cg`), and the index keeps its inverse kernel in memory."""
        key = (index.ready(), index.written(), self._models.device)
        with self._lock:
            prepared = self._prepared.get(key)
            if prepared is None:
                prepared = (index, index.featuriser())
                self._prepared = {key: prepared}
            index, featuriser = prepared
            return index, index.test_features(image_ids, featuriser, targets)

    def index(self, method: str = DEFAULT_METHOD, version: int | None = None) -> AttributionIndex:
        version_id = self._models.get(version).id
        return AttributionIndex(
            self._images, self._models, self._cache, self._workers, version_id, method
        )

    def build(
        self,
        method: str = DEFAULT_METHOD,
        version: int | None = None,
        dim: int = INDEX_DEFAULTS.dim,
        damping: float = INDEX_DEFAULTS.damping,
        progress: ProgressCallback = None,
        fresh: bool = False,
        ensemble: int = 1,
    ) -> IndexInfo:
        """Featurise the train split for the (current) version; resumes an interrupted build.
        `ensemble` (trak) averages over that many of the version's last epoch checkpoints.
        A ranking method then stores the suspicious queue for the galleries (again when the
        build did work, or when none is stored: an index built before the queue was kept)."""
        with self._lock:
            self._prepared = {}  # free the memory; a rebuilt index gets a new key anyway
        index = self.index(method, version)
        before = index.info()
        info = index.build(dim, damping, progress=progress, fresh=fresh, ensemble=ensemble)
        built = fresh or before is None or not before.complete
        if ATTRIBUTION.entry(method).meta["ranks"] and (built or not self._stored(info.version)):
            self.store_queue(method, info.version, progress)
        return info

    def readiness(self, method: str = DEFAULT_METHOD, ranking: bool = False) -> Readiness:
        """Whether the current version's `method` index answers queries (the pages ask this
        instead of catching a 404: nothing built yet is a normal state); `ranking`: for the
        suspicious queue, which only some methods can rank (an error otherwise)."""
        if ranking:
            _check_ranks(method)
        try:
            index = self.index(method)
        except NotFoundError as none:  # no model version yet
            return Readiness("no_model", none.what, none.fix, none.python_fix)
        return index.readiness()

    def status(self, version: int | None = None) -> list[IndexInfo]:
        found = (self.index(m, version).info() for m in ATTRIBUTION)
        return [info for info in found if info is not None]

    def query(
        self,
        image_id: int,
        k: int = 8,
        method: str = DEFAULT_METHOD,
        version: int | None = None,
        target: int | str | None = None,
    ) -> Attributions:
        """The k training images that most support and most oppose the image's `target`
        class (by default its label, or for an unlabelled image the predicted class), each
        with its score and its `Sample` (with the index version's prediction)."""
        index = self.index(method, version)
        chosen = self._images.class_index(target)
        if chosen is None:
            chosen = self._images.record(image_id).label
        if chosen is None:
            chosen = self._predicted(image_id, index.version)
        index, test = self._features(index, [image_id], [chosen])
        scores = index.scores(test)[0]
        ids = index.ids()
        order = np.argsort(scores)
        helpful, harmful = order[::-1][:k], order[:k]
        shown = [int(ids[i]) for i in (*helpful, *harmful)]
        infos = self._browser.images_by_id(shown, index.version)
        samples = {s.id: s for s in self._browser.samples(infos)}
        return Attributions(
            chosen,
            [Scored(float(scores[i]), samples[int(ids[i])]) for i in helpful],
            [Scored(float(scores[i]), samples[int(ids[i])]) for i in harmful],
        )

    def _predicted(self, image_id: int, version: int) -> int:
        predicted = self._predictor.predicted(image_id, version)
        if predicted is None:
            raise DataError(
                f"image {image_id} has neither a label nor a prediction to explain",
                "pass a target class, or run predictions for its split",
            )
        return predicted

    def suspicious(
        self,
        method: str = DEFAULT_METHOD,
        version: int | None = None,
        limit: int = QUEUE_SIZE,
        split: str = "test",
        progress: ProgressCallback = None,
        ordering: Ordering = "balanced",
        exclude_annotated: bool = False,
    ) -> list[Suspect]:
        """Training images ranked by their harmful influence summed over the misclassified
        images of `split` (each test image's scores scaled to unit length first, so no single
        image dominates): the ones to annotate first, each with the mistake it drives most.
        `balanced` takes the mistakes' classes in turn; `score` is the plain ranking."""
        ranked = self._ranked(self._ranking_index(method, version), split, progress)
        if ordering == "balanced":
            ranked = balanced(ranked)
        if exclude_annotated:
            ranked = [s for s in ranked if not s.annotated]
        return ranked[:limit]

    def store_queue(
        self,
        method: str = DEFAULT_METHOD,
        version: int | None = None,
        progress: ProgressCallback = None,
    ) -> int:
        """Rank the queue (balanced) once and keep it, so galleries filter (its top
        `QUEUE_SIZE`) and sort by it; called when an index is built. Returns the stored count."""
        index = self._ranking_index(method, version)
        queue = balanced(self._ranked(index, "test", progress))
        rows = [
            {
                "version_id": index.version,
                "image_id": s.image_id,
                "method": index.method,
                "score": s.score,
                "rank": rank,
                "queued": rank < QUEUE_SIZE,
            }
            for rank, s in enumerate(queue)
        ]
        with self._images.db.session() as session:
            session.execute(delete(Suspicion).where(Suspicion.version_id == index.version))
            if rows:
                session.execute(insert(Suspicion), rows)
        return len(rows)

    def _stored(self, version: int) -> bool:
        with self._images.db.session() as session:
            found = session.scalar(
                select(Suspicion.image_id).where(Suspicion.version_id == version)
            )
            return found is not None

    def _ranking_index(self, method: str, version: int | None) -> AttributionIndex:
        _check_ranks(method)
        index = self.index(method, version)
        index.ready()
        return index

    def _ranked(
        self, index: AttributionIndex, split: str, progress: ProgressCallback
    ) -> list[Suspect]:
        """Every training image with positive summed harm, by score."""
        ranking = self._ranking(index, split, progress)
        annotated = self._annotated()
        return [
            Suspect(int(i), float(score), int(worst), int(mistake), int(i) in annotated)
            for i, score, worst, mistake in zip(
                ranking["ids"],
                ranking["score"],
                ranking["harms_most"],
                ranking["mistake_class"],
                strict=True,
            )
        ]

    def _ranking(
        self, index: AttributionIndex, split: str, progress: ProgressCallback
    ) -> dict[str, np.ndarray]:
        """The ranking as arrays, kept beside the index (ranking-<split>.npz) for as long as
        the index and the split's mistakes are the same: ranking featurises every mistake
        (seconds on the demo), reading it back takes milliseconds, so the Suspicious page
        opens at once after the build that stored it."""
        wrong = np.asarray(self._predictor.misclassified(split, index.version), dtype=np.int64)
        path = index.folder / f"ranking-{split}.npz"
        if path.is_file():
            with np.load(path) as kept:
                if int(kept["written"]) == index.written() and np.array_equal(kept["wrong"], wrong):
                    return {name: kept[name] for name in RANKING}
        ranking = self._rank(index, wrong.tolist(), progress)
        save_arrays(path, written=index.written(), wrong=wrong, **ranking)
        return ranking

    def _rank(
        self, index: AttributionIndex, wrong: list[int], progress: ProgressCallback
    ) -> dict[str, np.ndarray]:
        ids = index.ids()
        size = len(ids)
        total, worst, harms_most = np.zeros(size), np.zeros(size), np.full(size, -1)
        for start in range(0, len(wrong), 64):
            batch = wrong[start : start + 64]
            prepared, test = self._features(index, batch)
            scores = prepared.scores(test)
            scores /= np.linalg.norm(scores, axis=1, keepdims=True) + 1e-12
            harm = np.clip(-scores, 0, None)
            total += harm.sum(0)
            strongest = harm.max(0)
            better = strongest > worst
            worst[better] = strongest[better]
            harms_most[better] = np.asarray(batch)[harm.argmax(0)[better]]
            report(progress, "suspicious training images", start + len(batch), len(wrong))
        order = np.asarray([i for i in np.argsort(-total, kind="stable") if total[i] > 0], int)
        labels = self._images.labels(harms_most[order].tolist())
        return {
            "ids": ids[order].astype(np.int64),
            "score": total[order],
            "harms_most": harms_most[order].astype(np.int64),
            "mistake_class": np.asarray([labels[int(m)] or 0 for m in harms_most[order]], int),
        }  # a mistake has a label

    def _annotated(self) -> set[int]:
        """Images with a current non-empty spurious mask."""
        with self._images.db.session() as session:
            found = session.scalars(
                select(Mask.image_id).where(
                    Mask.is_current, Mask.kind == "spurious", Mask.pixels > 0
                )
            )
            return set(found)
