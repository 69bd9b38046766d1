"""The Workspace: one folder with configuration, database, models and caches.

The library's main face; the CLI and the server are thin layers over this class.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import torch
from PIL import Image as PILImage
from sqlalchemy import select
from sqlalchemy.orm import Session

from robustar.annotations.masks import Masks
from robustar.annotations.store import check_kind
from robustar.config import (
    CONFIG_FILE,
    LABELLED_SPLITS,
    SPLITS,
    WorkspaceConfig,
    load_config,
    write_config,
)
from robustar.data.classes import resolve_classes
from robustar.data.dataset import ImageDataset, IndexedImage
from robustar.data.imageio import load_image
from robustar.data.scan import ScanReport, scan_split
from robustar.data.transforms import ModelInput
from robustar.db import session as db
from robustar.db.tables import Image, ModelVersion, ScanProblem
from robustar.errors import ConfigError, DataError, NotFoundError
from robustar.explain.attributor import Attribution
from robustar.explain.explainer import Explain
from robustar.gallery import (
    ImageFilter,
    ImageInfo,
    Neighbours,
    SortKey,
    class_counts,
    count_images,
    get_image,
    list_images,
    neighbours,
)
from robustar.jobs.jobs import Jobs
from robustar.media import Media
from robustar.models.check import check_model_config, record_python_path
from robustar.models.checkpoint import load_weights
from robustar.models.device import select_device
from robustar.models.registry import create_model
from robustar.predict.engine import make_loader, store_predictions
from robustar.predict.metrics import SplitMetrics, compute_metrics
from robustar.progress import ProgressCallback
from robustar.repair import Comparison, compare
from robustar.summary import WorkspaceInfo, summarize
from robustar.train.options import TrainOptions, parse_options
from robustar.train.plain import EpochResult
from robustar.train.run import train_version
from robustar.versions import (
    VersionInfo,
    add_version,
    current_version,
    epoch_metrics,
    get_version,
    list_versions,
    set_current,
    staging_dir,
    to_info,
)


def _check_flip(flip: str) -> str:
    if flip not in ("changed", "fixed", "broken"):
        raise DataError(f"unknown flip {flip!r}", "use changed, fixed or broken")
    return flip


class Workspace:
    """Open with `Workspace.open(path)`; create with `Workspace.create(path, config)`."""

    def __init__(self, root: Path, config: WorkspaceConfig) -> None:
        self.root = root
        self.config = config
        self.folders = {
            split: self._resolve(folder)
            for split in SPLITS
            if (folder := config.data.split_folder(split)) is not None
        }
        train = self.folders["train"]
        if not train.is_dir():
            raise DataError(
                f"[data] train: folder {train} does not exist",
                "create it with one sub-folder of images per class, or fix the path",
            )
        for split, folder in self.folders.items():
            if not folder.is_dir():
                raise DataError(
                    f"[data] {split}: folder {folder} does not exist",
                    f"create it, or remove '{split}' from [data] in robustar.toml",
                )
        self.classes = resolve_classes(config.data, train, root)
        if config.model.num_classes not in (None, len(self.classes)):
            raise ConfigError(
                f"[model] num_classes is {config.model.num_classes} but there are "
                f"{len(self.classes)} classes ({', '.join(self.classes)})",
                "remove num_classes (it is derived from the classes) or fix the class list",
            )
        self.engine = db.make_engine(db.database_url(root, config.database.url))
        self._sessions = db.session_factory(self.engine)
        self.transform = ModelInput(config.image)
        self.masks = Masks(self)
        self.jobs = Jobs(self)
        self.explain = Explain(self)
        self.attribution = Attribution(self)
        self.media = Media(self)

    def _resolve(self, folder: str) -> Path:
        path = Path(folder).expanduser()
        return path if path.is_absolute() else self.root / path

    # ----- lifecycle -------------------------------------------------------------------------

    @classmethod
    def open(cls, path: str | Path) -> Workspace:
        root = Path(path).expanduser().resolve()
        workspace = cls(root, load_config(root))
        check_model_config(root, workspace.config.model, len(workspace.classes))
        db.upgrade(workspace.engine)
        return workspace

    @classmethod
    def create(
        cls, path: str | Path, config: WorkspaceConfig, progress: ProgressCallback = None
    ) -> Workspace:
        """Write robustar.toml, create the database and index every split, or leave no trace."""
        root = Path(path).expanduser().resolve()
        if (root / CONFIG_FILE).exists():
            raise ConfigError(
                f"{root} is already a Robustar workspace", "open it, or choose another folder"
            )
        made_root = not root.exists()
        root.mkdir(parents=True, exist_ok=True)
        before = set(root.iterdir())
        workspace = None
        try:
            workspace = cls(root, config)
            record_python_path(root, config.model)
            check_model_config(root, config.model, len(workspace.classes))
            write_config(root, config)
            db.upgrade(workspace.engine)
            workspace.scan(progress=progress)
            if config.model.checkpoint:
                workspace.import_model(workspace._resolve(config.model.checkpoint))
            return workspace
        except BaseException:
            if workspace is not None:
                workspace.close()
            if made_root:
                shutil.rmtree(root, ignore_errors=True)
            else:
                for created in set(root.iterdir()) - before:
                    if created.is_dir():
                        shutil.rmtree(created, ignore_errors=True)
                    else:
                        created.unlink(missing_ok=True)
            raise

    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> Workspace:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session that commits on success and rolls back on any error."""
        with self._sessions() as session, session.begin():
            yield session

    # ----- data ------------------------------------------------------------------------------

    def _split_folder(self, split: str) -> Path:
        if split not in self.folders:
            configured = ", ".join(self.folders)
            raise DataError(
                f"split {split!r} is not configured (configured: {configured})",
                f"add '{split} = <folder>' to [data] in robustar.toml",
            )
        return self.folders[split]

    def scan(
        self, splits: list[str] | None = None, progress: ProgressCallback = None
    ) -> list[ScanReport]:
        """Index new, changed and removed files of the splits, all in one transaction."""
        reports = []
        with self.session() as session:
            for split in splits or list(self.folders):
                classes = self.classes if split in LABELLED_SPLITS else None
                reports.append(
                    scan_split(
                        session,
                        split,
                        self._split_folder(split),
                        classes,
                        self.config.image.max_pixels,
                        workers=max(1, self.config.runtime.workers),
                        progress=progress,
                    )
                )
        return reports

    def images(
        self,
        split: str,
        *,
        sort: SortKey = "name",
        descending: bool = False,
        limit: int | None = None,
        offset: int = 0,
        version: int | None = None,
        **filters: object,
    ) -> list[ImageInfo]:
        """Images of a split with the (current or given) version's predictions.

        Filters: label, predicted (class name or index), correct (bool), min_confidence,
        max_confidence. Sort: name, id, loss, confidence.
        """
        f = self.image_filter(split, **filters)  # type: ignore[arg-type]
        with self.session() as session:
            version_id = self._version_id(session, version)
            return list_images(session, f, version_id, sort, descending, limit, offset)

    def count(self, split: str, *, version: int | None = None, **filters: object) -> int:
        f = self.image_filter(split, **filters)  # type: ignore[arg-type]
        with self.session() as session:
            return count_images(session, f, self._version_id(session, version))

    def neighbours(
        self,
        image_id: int,
        split: str,
        *,
        sort: SortKey = "name",
        descending: bool = False,
        version: int | None = None,
        **filters: object,
    ) -> Neighbours:
        """Previous / next image of `image_id` inside the filtered, sorted list."""
        f = self.image_filter(split, **filters)  # type: ignore[arg-type]
        with self.session() as session:
            version_id = self._version_id(session, version)
            return neighbours(session, f, version_id, image_id, sort, descending)

    def image_filter(
        self,
        split: str,
        label: int | str | None = None,
        predicted: int | str | None = None,
        correct: bool | None = None,
        min_confidence: float | None = None,
        max_confidence: float | None = None,
        annotated: bool | None = None,
        mask_kind: str = "spurious",
        versus: int | None = None,
        flip: str = "changed",
        suspicious: bool | None = None,
    ) -> ImageFilter:
        self._split_folder(split)
        return ImageFilter(
            split,
            self.class_index(label),
            self.class_index(predicted),
            correct,
            min_confidence,
            max_confidence,
            annotated,
            check_kind(mask_kind),
            suspicious,
            None if versus is None else self.model(versus).id,
            _check_flip(flip),
        )

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

    def image(self, image_id: int, version: int | None = None) -> ImageInfo:
        """One image with the (current or given) version's prediction."""
        with self.session() as session:
            found = get_image(session, image_id, self._version_id(session, version))
        if found is None:
            raise NotFoundError(
                f"image {image_id} does not exist in this workspace",
                "list image ids with Workspace.images(split)",
            )
        return found

    def image_path(self, image_id: int) -> Path:
        found = self.image(image_id)
        return self._split_folder(found.split) / found.relpath

    def load_image(self, image_id: int) -> PILImage.Image:
        """The image as RGB at its native resolution, upright."""
        return load_image(self.image_path(image_id), self.config.image.max_pixels)

    def problems(self, split: str | None = None) -> list[tuple[str, str, str]]:
        with self.session() as session:
            query = select(ScanProblem).order_by(ScanProblem.split, ScanProblem.relpath)
            if split is not None:
                query = query.where(ScanProblem.split == split)
            return [(p.split, p.relpath, p.message) for p in session.scalars(query)]

    def class_counts(self, split: str) -> dict[str, int]:
        self._split_folder(split)
        with self.session() as session:
            counts = class_counts(session, split)
        if split not in LABELLED_SPLITS:
            return {"(unlabelled)": sum(counts.values())} if counts else {}
        return {name: counts.get(i, 0) for i, name in enumerate(self.classes)}

    def dataset(self, split: str) -> ImageDataset:
        folder = self._split_folder(split)
        with self.session() as session:
            rows = session.execute(
                select(Image.id, Image.relpath, Image.label)
                .where(Image.split == split)
                .order_by(Image.id)
            ).all()
        items = [IndexedImage(r.id, folder / r.relpath, r.label) for r in rows]
        return ImageDataset(items, self.transform, self.config.image.max_pixels)

    # ----- models ----------------------------------------------------------------------------

    @property
    def device(self) -> torch.device:
        """Where models run: `[runtime] device` (auto: cuda, then mps, then cpu)."""
        return select_device(self.config.runtime.device)

    @property
    def models(self) -> list[VersionInfo]:
        with self.session() as session:
            return list_versions(session)

    @property
    def current_model(self) -> VersionInfo | None:
        with self.session() as session:
            row = current_version(session)
            return None if row is None else to_info(row)

    def model(self, version: int | None = None) -> VersionInfo:
        """A version by id, or the current one; a clear error when there is none."""
        with self.session() as session:
            return to_info(self._require_version(session, version))

    def training_curves(self, version: int) -> list[EpochResult]:
        with self.session() as session:
            return epoch_metrics(session, version)

    def compare(self, before: int | None = None, after: int | None = None) -> Comparison:
        """Version `after` (default: current) against `before` (default: its parent)."""
        new = self.model(after)
        if before is None and new.parent_id is None:
            raise DataError(
                f"model version {new.id} has no parent to compare with",
                "name the version to compare with (before=...)",
            )
        return compare(self, before if before is not None else new.parent_id, new.id)

    def use_model(self, version: int) -> VersionInfo:
        with self.session() as session:
            set_current(session, version)
            return to_info(get_version(session, version))

    def _version_id(self, session: Session, version: int | None) -> int | None:
        if version is not None:
            return get_version(session, version).id
        row = current_version(session)
        return None if row is None else row.id

    def _require_version(self, session: Session, version: int | None) -> ModelVersion:
        version_id = self._version_id(session, version)
        if version_id is None:
            raise NotFoundError(
                "this workspace has no model version yet",
                f"train one with 'robustar train {self.root}' or import a checkpoint with "
                f"'robustar models import {self.root} PATH'",
            )
        return get_version(session, version_id)

    def load_model(self, version: int | None = None) -> torch.nn.Module:
        """The (current or given) version's network with its weights, on the CPU."""
        with self.session() as session:
            row = self._require_version(session, version)
        model = create_model(row.architecture, row.num_classes)
        return load_weights(model, self.root / row.checkpoint, row.num_classes)

    def import_model(
        self, checkpoint: str | Path, architecture: str | None = None, name: str | None = None
    ) -> VersionInfo:
        """Check that the weights fit, then store them (as safetensors) as the current version."""
        architecture = architecture or self.config.model.architecture
        path = Path(checkpoint).expanduser()
        model = load_weights(create_model(architecture, len(self.classes)), path, len(self.classes))
        with staging_dir(self.root) as staged, self.session() as session:
            row = add_version(
                session,
                self.root,
                staged,
                model,
                name=name,
                parent_id=None,
                architecture=architecture,
                num_classes=len(self.classes),
                source="imported",
                config={"checkpoint": str(path)},
            )
            return to_info(row)

    # ----- predictions -----------------------------------------------------------------------

    def predict(
        self, split: str, version: int | None = None, progress: ProgressCallback = None
    ) -> SplitMetrics:
        """Run the model over a split, store the predictions and return the split's metrics."""
        dataset = self.dataset(split)
        device = self.device
        with self.session() as session:
            row = self._require_version(session, version)
        model = self.load_model(row.id)
        loader = make_loader(
            dataset, self.config.runtime.batch_size, self.config.runtime.workers, device
        )
        store_predictions(self.session, row.id, split, model, loader, device, progress)
        with self.session() as session:
            result = compute_metrics(session, row.id, split, self.classes)
            row = get_version(session, row.id)
            row.metrics = {
                **row.metrics,
                split: {"accuracy": result.accuracy, "loss": result.loss, "images": len(dataset)},
            }
        return result

    def metrics(self, split: str, version: int | None = None) -> SplitMetrics:
        self._split_folder(split)
        with self.session() as session:
            row = self._require_version(session, version)
            return compute_metrics(session, row.id, split, self.classes)

    # ----- training --------------------------------------------------------------------------

    def train(
        self,
        options: TrainOptions | None = None,
        progress: ProgressCallback = None,
        predict: bool = True,
        run_dir: Path | None = None,
        on_epoch: Callable[[EpochResult], None] | None = None,
        **kwargs: object,
    ) -> VersionInfo:
        """Train a new version and make it current (paired training with `paired=True`).

        Curves and epoch checkpoints go to `runs/<run>/` (TensorBoard files in its
        `tensorboard/`); afterwards the labelled splits are predicted unless `predict=False`.
        """
        options = options or parse_options(kwargs)
        version = train_version(self, options, progress, run_dir, on_epoch)
        if predict:
            for split in (s for s in LABELLED_SPLITS if s in self.folders):
                self.predict(split, version.id, progress)
        return self.model(version.id)

    # ----- summary ---------------------------------------------------------------------------

    def info(self) -> WorkspaceInfo:
        """Splits with class counts and problems, model versions, the current one."""
        return summarize(self)
