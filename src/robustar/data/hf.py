"""Import a Hugging Face `datasets` image dataset: one saved with `save_to_disk`, or a local
imagefolder. The images are copied byte for byte into the workspace (images/<split>/) and
their labels, the ClassLabel feature's names, become the workspace's labels table; the
dataset's splits are the workspace's. Nothing is written outside the workspace: an
imagefolder is read through a cache folder inside it, removed afterwards."""

from __future__ import annotations

import io
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path, PurePath
from typing import Any

from PIL import Image

from robustar.config import SPLITS
from robustar.data.imageio import IMAGE_EXTENSIONS
from robustar.data.labels import LabelRow, LabelTable
from robustar.errors import DataError
from robustar.progress import ProgressCallback, report

IMAGES_DIR = "images"  # in the workspace: images/<split>/<row number><extension>
_SPLIT_NAMES = {"train": "train", "validation": "validation", "valid": "validation",
                "val": "validation", "dev": "validation", "test": "test", "pool": "pool",
                "unlabeled": "pool", "unlabelled": "pool"}  # fmt: skip
_SAMPLE = 64  # images whose size the model proposal reads


def _datasets() -> Any:
    try:
        import datasets
    except ImportError:
        raise DataError(
            "importing a Hugging Face dataset needs the datasets package, which is not installed",
            "pip install 'robustar[hf]'",
        ) from None
    return datasets


def _split(name: str) -> str:
    if name.lower() in _SPLIT_NAMES:
        return _SPLIT_NAMES[name.lower()]
    raise DataError(
        f"the dataset's split {name!r} is not one Robustar knows ({', '.join(SPLITS)})",
        "rename it (DatasetDict keys) to train, validation, test or pool, or save one split "
        "with --split",
    )


@dataclass
class HFSource:
    """The dataset's splits (Robustar's names -> datasets.Dataset), image and label columns."""

    splits: dict[str, Any]
    image_column: str
    label_column: str
    classes: list[str]

    def workspace_splits(self) -> list[str]:
        """The workspace's splits: the dataset's, and the pool when some image has no label."""
        found = set(self.splits)
        for rows in self.splits.values():
            labels = rows.data.column(self.label_column).to_pylist()
            if any(label is None or label < 0 for label in labels):
                found.add("pool")
        return [s for s in SPLITS if s in found]

    def sides(self) -> list[int]:
        """The longer side of a sample of the training images (headers only)."""
        rows = self.splits.get("train") or next(iter(self.splits.values()))
        column = rows.data.column(self.image_column)
        step = max(1, len(rows) // _SAMPLE)
        sides = []
        for i in range(0, len(rows), step)[:_SAMPLE]:
            with Image.open(io.BytesIO(_bytes(column[i].as_py()))) as image:
                sides.append(max(image.size))
        return sides

    def _rows(self) -> Iterator[tuple[str, int, dict[str, Any], int]]:
        for split, rows in self.splits.items():
            images = rows.data.column(self.image_column)
            labels = rows.data.column(self.label_column)
            for i in range(len(rows)):
                yield split, i, images[i].as_py(), labels[i].as_py()

    def write(self, root: Path, progress: ProgressCallback = None) -> LabelTable:
        """Copy every image into `root`/images and return the labels table (a label of -1,
        datasets' "no label", puts the image in the pool)."""
        total = sum(len(rows) for rows in self.splits.values())
        table = []
        for done, (split, i, image, label) in enumerate(self._rows(), 1):
            data = _bytes(image)
            rel = f"{split}/{i:06d}{_extension(image.get('path'), data)}"
            target = root / IMAGES_DIR / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
            unlabelled = label is None or label < 0 or split == "pool"
            name = None if unlabelled else self.classes[label]
            table.append(LabelRow(rel, name, "pool" if unlabelled else split))
            report(progress, "import images", done, total)
        return LabelTable(table)


def _bytes(image: dict[str, Any] | None) -> bytes:
    if image is None:
        raise DataError("the dataset has a row without an image", "remove that row")
    if image.get("bytes"):
        return bytes(image["bytes"])
    try:
        return Path(image["path"]).read_bytes()
    except (OSError, TypeError) as error:
        raise DataError(
            f"the dataset's image {image.get('path')!r} can no longer be read: {error}",
            "keep the image files next to the dataset, or save it with the images embedded",
        ) from None


def _extension(path: str | None, data: bytes) -> str:
    suffix = PurePath(path).suffix.lower() if path else ""
    if suffix in IMAGE_EXTENSIONS:
        return suffix
    try:
        with Image.open(io.BytesIO(data)) as image:
            found = (image.format or "").lower()
    except (OSError, ValueError):
        return ".png"  # not an image: the scan reports it
    return {"jpeg": ".jpg", "tiff": ".tif"}.get(found, f".{found or 'png'}")


def _columns(features: Any, datasets: Any) -> tuple[str, str, list[str]]:
    images = [n for n, f in features.items() if isinstance(f, datasets.Image)]
    labels = [n for n, f in features.items() if isinstance(f, datasets.ClassLabel)]
    if not images:
        raise DataError(
            f"the dataset has no Image column (columns: {', '.join(features)})",
            "cast the image column with dataset.cast_column(name, datasets.Image())",
        )
    if not labels:
        raise DataError(
            f"the dataset has no ClassLabel column (columns: {', '.join(features)})",
            "cast the label column: dataset.cast_column(name, ClassLabel(names=[...]))",
        )
    label = "label" if "label" in labels else "labels" if "labels" in labels else labels[0]
    return images[0], label, list(features[label].names)


def open_dataset(source: Path, cache: Path, split: str | None = None) -> HFSource:
    """A dataset saved with `save_to_disk` (a folder with dataset_dict.json or
    dataset_info.json), or else an imagefolder (read through `cache`, which the caller
    removes). `split` names the split of a single Dataset (default train)."""
    datasets = _datasets()
    if not source.is_dir():
        raise DataError(f"{source} is not a folder", "give the folder save_to_disk wrote")
    saved = (source / "dataset_dict.json").is_file() or (source / "dataset_info.json").is_file()
    if saved:
        loaded = datasets.load_from_disk(str(source))
    else:
        loaded = datasets.load_dataset("imagefolder", data_dir=str(source), cache_dir=str(cache))
    if isinstance(loaded, datasets.DatasetDict):
        if split is not None:
            raise DataError(
                f"{source} holds splits ({', '.join(loaded)}); --split is for a single Dataset",
                "drop --split: the dataset's own splits are used",
            )
        splits = {_split(name): rows for name, rows in loaded.items()}
    else:
        splits = {_split(split or "train"): loaded}
    image, label, classes = _columns(next(iter(splits.values())).features, datasets)
    if "train" not in splits:
        raise DataError(
            f"{source} has no train split (splits: {', '.join(splits)})",
            "save the training rows as the 'train' split (or give --split train)",
        )
    return HFSource(splits, image, label, classes)
