"""Predictions of a model version over a split: run, store, aggregate, read back."""

from __future__ import annotations

from sqlalchemy import select

from robustar.config import RuntimeConfig
from robustar.data.images import ImageStore
from robustar.db.tables import Prediction
from robustar.models.store import ModelStore
from robustar.models.versions import get_version
from robustar.predict.engine import make_loader, store_predictions
from robustar.predict.gallery import ImageFilter, list_ids
from robustar.predict.metrics import SplitMetrics, compute_metrics
from robustar.progress import ProgressCallback


class Predictor:
    def __init__(self, images: ImageStore, models: ModelStore, runtime: RuntimeConfig) -> None:
        self.images = images
        self.models = models
        self.runtime = runtime

    def run(
        self, split: str, version: int | None = None, progress: ProgressCallback = None
    ) -> SplitMetrics:
        """Run the model over a split, store the predictions and return the split's metrics."""
        dataset = self.images.dataset(split)
        device = self.models.device
        version_id = self.models.get(version).id
        model = self.models.load(version_id)
        loader = make_loader(dataset, self.runtime.batch_size, self.runtime.workers, device)
        db = self.images.db
        store_predictions(db.session, version_id, split, model, loader, device, progress)
        with db.session() as session:
            result = compute_metrics(session, version_id, split, self.images.classes)
            row = get_version(session, version_id)
            row.metrics = {
                **row.metrics,
                split: {"accuracy": result.accuracy, "loss": result.loss, "images": len(dataset)},
            }
        return result

    def metrics(self, split: str, version: int | None = None) -> SplitMetrics:
        self.images.folder(split)
        with self.images.db.session() as session:
            row = self.models.require(session, version)
            return compute_metrics(session, row.id, split, self.images.classes)

    def predicted(self, image_id: int, version: int) -> int | None:
        """The stored predicted class of an image under a version (None: not predicted)."""
        with self.images.db.session() as session:
            return session.scalar(
                select(Prediction.predicted).where(
                    Prediction.image_id == image_id, Prediction.version_id == version
                )
            )

    def misclassified(self, split: str, version: int) -> list[int]:
        """Ids of the split's images the version got wrong, in name order."""
        self.images.folder(split)
        with self.images.db.session() as session:
            return list_ids(session, ImageFilter(split, correct=False), version, "name")
