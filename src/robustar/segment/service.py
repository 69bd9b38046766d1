"""`Workspace.segmentation`: a segmentation workspace's datasets, scoring, browsing and maps."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import torch
from PIL import Image as PILImage
from sqlalchemy import select

from robustar.config import LABELLED_SPLITS, RuntimeConfig
from robustar.data.images import ImageStore
from robustar.data.labelmaps import LabelClasses, read_label_map, write_label_map
from robustar.data.segdataset import LabelMapDataset
from robustar.data.segpairs import label_path, pair
from robustar.data.transforms import to_native
from robustar.db.tables import Image, SegScore, SegSplitScore
from robustar.errors import NotFoundError
from robustar.models.store import ModelStore
from robustar.predict.engine import make_loader
from robustar.progress import ProgressCallback
from robustar.segment.browse import SegFilter, SegImage, SegSort, ShareOf, count, list_images
from robustar.segment.scoring import SplitScores, score_split
from robustar.train.segtrain import SegTask


class Segmentation:
    """Label maps beside the indexed images, a segmenter's scores per image and split, and
    predicted maps at the image's size (computed when first asked for, then kept as PNG)."""

    def __init__(
        self,
        images: ImageStore,
        models: ModelStore,
        classes: LabelClasses,
        runtime: RuntimeConfig,
        cache: Path,
    ) -> None:
        self._images, self._models, self.classes = images, models, classes
        self._runtime, self._cache = runtime, cache / "segmentation"

    @property
    def ignore_index(self) -> int:
        return self.classes.ignore_index

    # ----- data ------------------------------------------------------------------------------

    def dataset(
        self, split: str, ids: list[int] | None = None
    ) -> tuple[list[int], LabelMapDataset]:
        """The split's image ids (in id order, only `ids` when given) and their dataset of
        (image, label map, index) at the model's input size; pool images get ignored maps."""
        folder = self._images.folder(split)
        query = select(Image.id, Image.relpath).where(Image.split == split)
        if ids is not None:
            query = query.where(Image.id.in_(ids))
        with self._images.db.session() as session:
            rows = session.execute(query.order_by(Image.id)).all()
        labelled = split in LABELLED_SPLITS
        items = [pair(folder, r.relpath) if labelled else folder / r.relpath for r in rows]
        dataset = LabelMapDataset(items, self.classes, self._images.config, self._images.reading)
        return [r.id for r in rows], dataset

    def training(self) -> SegTask:
        """What `train_version` needs to train a segmenter on these label maps."""
        return SegTask(
            lambda split: self.dataset(split)[1], len(self.classes.names), self.ignore_index
        )

    def truth(self, image_id: int) -> np.ndarray | None:
        """The image's label map at its size ((H, W) uint8), None for a pool image."""
        record = self._images.record(image_id)
        if record.split not in LABELLED_SPLITS:
            return None
        folder = self._images.folder(record.split)
        return read_label_map(label_path(folder, record.relpath), self.classes)

    # ----- scores ----------------------------------------------------------------------------

    def predict(
        self, split: str, version: int | None = None, progress: ProgressCallback = None
    ) -> SplitScores:
        """Score the (current or given) version on a split and store the figures."""
        info = self._models.get(version)
        ids, dataset = self.dataset(split)
        device = self._models.device
        loader = make_loader(dataset, self._runtime.batch_size, self._runtime.workers, device)
        model = self._models.load(info.id)
        with self._images.db.session() as session:
            return score_split(
                session,
                model,
                loader,
                ids,
                info.id,
                split,
                split in LABELLED_SPLITS,
                device,
                self.ignore_index,
                progress,
            )

    def metrics(self, split: str, version: int | None = None) -> SplitScores | None:
        """The stored figures of a split, None when it was not scored with that version."""
        info = self._models.get(version)
        with self._images.db.session() as session:
            row = session.get(SegSplitScore, (info.id, split))
            if row is None:
                return None
            return SplitScores(
                split, row.images, row.miou, row.pixel_accuracy, list(row.iou), list(row.confusion)
            )

    def guard_score(self, version: int) -> tuple[int, float]:
        """Validation images and mIoU for the regression guard, scoring once if missing."""
        found = self.metrics("validation", version) or self.predict("validation", version)
        return found.images, found.miou or 0.0

    # ----- browsing --------------------------------------------------------------------------

    def _version_id(self, version: int | None) -> int | None:
        with self._images.db.session() as session:
            return self._models.version_id(session, version)

    def filter(
        self,
        split: str,
        class_index: int | str | None = None,
        share_of: ShareOf = "truth",
        min_share: float = 0.0,
    ) -> SegFilter:
        self._images.folder(split)
        return SegFilter(split, self._images.class_index(class_index), share_of, min_share)

    def images(
        self,
        split: str,
        *,
        version: int | None = None,
        sort: SegSort = "id",
        descending: bool = False,
        limit: int | None = None,
        offset: int = 0,
        class_index: int | str | None = None,
        share_of: ShareOf = "truth",
        min_share: float = 0.0,
    ) -> list[SegImage]:
        """A page of a split with the version's scores (None before it is scored)."""
        found = self.filter(split, class_index, share_of, min_share)
        version_id = self._version_id(version)
        with self._images.db.session() as session:
            return list_images(session, found, version_id, sort, descending, limit, offset)

    def count(
        self,
        split: str,
        *,
        version: int | None = None,
        class_index: int | str | None = None,
        share_of: ShareOf = "truth",
        min_share: float = 0.0,
    ) -> int:
        found = self.filter(split, class_index, share_of, min_share)
        with self._images.db.session() as session:
            return count(session, found, self._version_id(version))

    def image(self, image_id: int, version: int | None = None) -> SegImage:
        """One image with the version's scores (None before its split is scored)."""
        record = self._images.record(image_id)
        version_id = self._version_id(version)
        with self._images.db.session() as session:
            row = None if version_id is None else session.get(SegScore, (version_id, image_id))
            return SegImage(
                record.id,
                record.split,
                record.relpath,
                record.width,
                record.height,
                None if row is None else row.miou,
                None if row is None else row.pixel_accuracy,
                None if row is None else list(row.iou),
                None if row is None else row.truth_shares,
                None if row is None else row.predicted_shares,
            )

    # ----- maps ------------------------------------------------------------------------------

    def prediction(self, image_id: int, version: int | None = None) -> np.ndarray:
        """The version's predicted map at the image's size ((H, W) uint8; parts the model
        never saw, under `[image] resize = "crop"`, get the ignore index). Computed on first
        use and kept as a PNG: only maps someone looks at are stored."""
        info = self._models.get(version)
        cached = self._cache / f"v{info.id}" / f"{image_id}.png"
        if cached.is_file():
            return np.asarray(PILImage.open(cached))
        record = self._images.record(image_id)
        config = self._images.config
        picture = self._images.load(image_id)
        model = self._models.load(info.id).eval()
        with torch.inference_mode():
            logits = model(self._images.transform(picture).unsqueeze(0))
        small = logits.argmax(1)[0].numpy().astype(np.uint8)
        native = to_native(
            small,
            record.width,
            record.height,
            config.size,
            config.resize,
            cv2.INTER_NEAREST,
            self.ignore_index,
        )
        cached.parent.mkdir(parents=True, exist_ok=True)
        write_label_map(cached, native, self.classes, palette=False)
        return native

    def require_truth(self, image_id: int) -> np.ndarray:
        found = self.truth(image_id)
        if found is None:
            raise NotFoundError(
                f"image {image_id} is a pool image: it has no label map",
                "open an image of a labelled split",
            )
        return found
