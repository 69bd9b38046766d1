"""The indexed images of a workspace by id: where each file is, its decoded pixels, its label,
the split datasets. What every later stage is given instead of the whole workspace."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from PIL import Image as PILImage
from sqlalchemy import func, select

from robustar.config import LABELLED_SPLITS, ImageConfig
from robustar.data.dataset import ImageDataset, IndexedImage
from robustar.data.imageio import Reading, load_image
from robustar.data.transforms import ModelInput
from robustar.db.session import Database
from robustar.db.tables import Image
from robustar.errors import DataError, NotFoundError


@dataclass(frozen=True)
class ImageRecord:
    id: int
    split: str
    relpath: str
    label: int | None
    width: int
    height: int
    fingerprint: str


class ImageStore:
    def __init__(
        self, db: Database, folders: dict[str, Path], classes: list[str], config: ImageConfig
    ) -> None:
        self.db = db
        self.folders = folders
        self.classes = classes
        self.config = config
        self.transform = ModelInput(config)
        self.reading = Reading.of(config)

    def folder(self, split: str) -> Path:
        """The split's folder; a clear error when the split is not configured."""
        if split not in self.folders:
            configured = ", ".join(self.folders)
            raise DataError(
                f"split {split!r} is not configured (configured: {configured})",
                f"add '{split} = <folder>' to [data] in robustar.toml",
            )
        return self.folders[split]

    def record(self, image_id: int) -> ImageRecord:
        with self.db.session() as session:
            row = session.get(Image, image_id)
            if row is None:
                raise NotFoundError(
                    f"image {image_id} does not exist in this workspace",
                    "list image ids with Workspace.images(split)",
                )
            return ImageRecord(
                row.id, row.split, row.relpath, row.label, row.width, row.height, row.fingerprint
            )

    def labels(self, image_ids: list[int]) -> dict[int, int | None]:
        """The labels of many images in a few queries (one `record` each is a query each)."""
        found: dict[int, int | None] = {}
        unique = sorted(set(image_ids))
        with self.db.session() as session:
            for start in range(0, len(unique), 500):  # well below any parameter limit
                chunk = unique[start : start + 500]
                rows = session.execute(select(Image.id, Image.label).where(Image.id.in_(chunk)))
                found.update({i: label for i, label in rows})
        return found

    def path(self, image_id: int) -> Path:
        found = self.record(image_id)
        return self.folder(found.split) / found.relpath

    def load(self, image_id: int) -> PILImage.Image:
        """The image as the model sees it (RGB, channels chosen, 8-bit), native size, upright."""
        return load_image(self.path(image_id), self.reading)

    def dataset(self, split: str, ids: list[int] | None = None) -> ImageDataset:
        """The split's images in id order (only `ids` when given), decoded per item."""
        folder = self.folder(split)
        query = select(Image.id, Image.relpath, Image.label).where(Image.split == split)
        if ids is not None:
            query = query.where(Image.id.in_(ids))
        with self.db.session() as session:
            rows = session.execute(query.order_by(Image.id)).all()
        items = [IndexedImage(r.id, folder / r.relpath, r.label) for r in rows]
        return ImageDataset(items, self.transform, self.reading)

    def class_index(self, value: int | str | None) -> int | None:
        """Accept a class index or a class name; a string of digits that names no class is
        read as an index (what a command line passes)."""
        if value is None:
            return None
        if isinstance(value, str) and value in self.classes:
            return self.classes.index(value)
        if isinstance(value, str) and value.isdigit():
            value = int(value)
        if isinstance(value, int) and 0 <= value < len(self.classes):
            return value
        raise DataError(
            f"unknown class {value!r}", f"use a class name ({', '.join(self.classes)}) or index"
        )

    def class_counts(self, split: str) -> dict[str, int]:
        """Images per class name in a labelled split; `(unlabelled)` for the pool."""
        self.folder(split)
        with self.db.session() as session:
            rows = session.execute(
                select(Image.label, func.count()).where(Image.split == split).group_by(Image.label)
            )
            counts = {label: int(n) for label, n in rows}
        if split not in LABELLED_SPLITS:
            return {"(unlabelled)": sum(counts.values())} if counts else {}
        return {name: counts.get(i, 0) for i, name in enumerate(self.classes)}
