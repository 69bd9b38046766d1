"""`Workspace.attribution`: build indexes, query one test image, rank suspicious training images."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from sqlalchemy import delete, insert

from robustar.data.images import ImageStore
from robustar.db.tables import Suspicion
from robustar.errors import DataError
from robustar.explain.attribution import (
    DEFAULT_METHOD,
    METHODS,
    AttributionIndex,
    Attributions,
    Featuriser,
    IndexInfo,
    Scored,
)
from robustar.models.store import ModelStore
from robustar.predict.predictor import Predictor
from robustar.progress import ProgressCallback, report


@dataclass(frozen=True)
class Suspect:
    """A training image in the suspicious queue: its summed harm, and the misclassified test
    image it harms most (the mistake to look at next to it)."""

    image_id: int
    score: float
    harms_most: int


class Attribution:
    def __init__(
        self,
        images: ImageStore,
        models: ModelStore,
        predictor: Predictor,
        cache: Path,
        workers: int,
    ) -> None:
        self._images, self._models, self._predictor = images, models, predictor
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
        dim: int = 1024,
        damping: float = 1e-3,
        progress: ProgressCallback = None,
        fresh: bool = False,
        ensemble: int = 1,
    ) -> IndexInfo:
        """Featurise the train split for the (current) version; resumes an interrupted build.
        `ensemble` (trak) averages over that many of the version's last epoch checkpoints."""
        with self._lock:
            self._prepared = {}  # free the memory; a rebuilt index gets a new key anyway
        index = self.index(method, version)
        return index.build(dim, damping, progress=progress, fresh=fresh, ensemble=ensemble)

    def status(self, version: int | None = None) -> list[IndexInfo]:
        found = (self.index(m, version).info() for m in METHODS)
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
        class: by default its label, or for an unlabelled image the predicted class."""
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
        return Attributions(
            chosen,
            [Scored(int(ids[i]), float(scores[i])) for i in order[::-1][:k]],
            [Scored(int(ids[i]), float(scores[i])) for i in order[:k]],
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
        limit: int = 100,
        split: str = "test",
        progress: ProgressCallback = None,
    ) -> list[Suspect]:
        """Training images ranked by their harmful influence summed over the misclassified
        images of `split` (each test image's scores scaled to unit length first, so no single
        image dominates): the ones to annotate first, each with the mistake it drives most."""
        if method == "influence-cg":
            raise DataError(
                "the suspicious queue needs one conjugate-gradient solve (seconds) per "
                "misclassified image; influence-cg is meant for single queries",
                "rank with cosine, tracin, trak or influence",
            )
        index = self.index(method, version)
        index.ready()
        wrong = self._predictor.misclassified(split, index.version)
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
        rows = zip(ids, total, harms_most, strict=True)
        ranked = [Suspect(int(i), float(t), int(h)) for i, t, h in rows]
        self._store(index, [s for s in ranked if s.score > 0])
        order = np.argsort(-total)[:limit]
        return [ranked[i] for i in order if total[i] > 0]

    def _store(self, index: AttributionIndex, suspects: list[Suspect]) -> None:
        """Keep every positive score, so galleries can filter and sort by suspicion."""
        rows = [
            {
                "version_id": index.version,
                "image_id": s.image_id,
                "method": index.method,
                "score": s.score,
            }
            for s in suspects
        ]
        with self._images.db.session() as session:
            session.execute(delete(Suspicion).where(Suspicion.version_id == index.version))
            if rows:
                session.execute(insert(Suspicion), rows)
