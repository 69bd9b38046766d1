"""The Workspace: one folder with configuration, database, models and caches.

The library's main face; the CLI and the server are thin layers over this class.
"""

from __future__ import annotations

import shutil
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import cached_property
from pathlib import Path
from typing import Any

import torch
from PIL import Image as PILImage
from sqlalchemy import select
from sqlalchemy.orm import Session
from torch.utils.data import Dataset

from robustar.accounts import Accounts
from robustar.annotations.assignments import Assignments
from robustar.annotations.coverage import Coverage
from robustar.annotations.masks import Masks
from robustar.config import (
    CONFIG_FILE,
    LABELLED_SPLITS,
    SPLITS,
    WorkspaceConfig,
    load_config,
    parse_config,
    write_config,
)
from robustar.data.classes import resolve_classes, segmentation_classes
from robustar.data.dataset import ImageDataset
from robustar.data.images import ImageStore
from robustar.data.labelmaps import LabelClasses
from robustar.data.labels import LABELS_FILE, LabelSource, read_labels
from robustar.data.media import Media
from robustar.data.scan import ScanReport, scan_split
from robustar.data.segpairs import check_pairs, image_folder
from robustar.db.session import Database, database_url
from robustar.db.tables import Image, ScanProblem
from robustar.discover.defuse.service import Defuse
from robustar.discover.edits.service import Edits
from robustar.discover.mad.service import Mad
from robustar.errors import ConfigError, DataError
from robustar.explain.attributor import Attribution
from robustar.explain.explainer import Explain, SaliencyMap
from robustar.explain.saliency import DEFAULT_METHOD as DEFAULT_SALIENCY
from robustar.guard import Guard
from robustar.housekeeping.backup import BackupResult, backup
from robustar.housekeeping.disk import DiskReport, disk_report
from robustar.housekeeping.gc import GcResult, collect
from robustar.housekeeping.retention import Retention
from robustar.jobs.jobs import Jobs
from robustar.models.check import check_model_config, record_python_path
from robustar.models.checkpoint import UPLOAD, Checkpoint
from robustar.models.registry import SEGMENTATION
from robustar.models.store import ModelStore
from robustar.models.versions import CANDIDATE, EpochResult, VersionInfo
from robustar.paths import Paths
from robustar.predict.browse import Browser
from robustar.predict.gallery import ImageFilter, ImageInfo, Neighbours, SortKey
from robustar.predict.metrics import SplitMetrics
from robustar.predict.predictor import Predictor
from robustar.progress import ProgressCallback
from robustar.repair import Repair
from robustar.repair_search import Candidate, SearchResult, run_search
from robustar.report import Format, format_of, render
from robustar.segment.scoring import SplitScores
from robustar.segment.service import Segmentation
from robustar.summary import WorkspaceInfo, summarize
from robustar.train.options import TrainOptions, parse_options
from robustar.train.run import train_version
from robustar.train.runs import UnfinishedRun, delete_run, resumable, unfinished_runs
from robustar.train.search import SearchOptions, parse_search
from robustar.verdict import RepairReport, with_verdict
from robustar.views import View


class Workspace:
    """Open with `Workspace.open(path)`; create with `Workspace.create(path, config)`.

    The top of the library: it builds each stage from the few things that stage needs (the
    database, the indexed images, the model versions, paths) and is the only module that
    knows them all. Stages are attributes (`masks`, `explain`, `attribution`, `jobs`,
    `media`); the methods below are the short paths Python users and the faces call.
    """

    def __init__(self, root: Path, config: WorkspaceConfig) -> None:
        self.root = root
        self.config = config
        self.paths = Paths(root)
        self.folders = {
            split: self.paths.resolve(folder)
            for split in SPLITS
            if (folder := config.data.split_folder(split)) is not None
        }
        train = self.folders["train"]
        if not train.is_dir():
            raise DataError(
                f"[data] train: folder {train} does not exist",
                "create it with one sub-folder of images per class, or fix the path",
            )
        for split, path in self.folders.items():
            if not path.is_dir():
                raise DataError(
                    f"[data] {split}: folder {path} does not exist",
                    f"create it, or remove '{split}' from [data] in robustar.toml",
                )
        self.labels = (
            None
            if config.data.labels is None
            else read_labels(self.paths.resolve(config.data.labels))
        )
        self.task = config.data.task
        self.label_classes: LabelClasses | None = None
        if self.task == SEGMENTATION:  # images/ and labels/ in each split folder
            self.label_classes = segmentation_classes(config.data, root)
            self.classes = list(self.label_classes.names)
            self.folders = {split: image_folder(path) for split, path in self.folders.items()}
        else:
            self.classes = resolve_classes(
                config.data, train, root, None if self.labels is None else self.labels.classes
            )
        if config.model.num_classes not in (None, len(self.classes)):
            raise ConfigError(
                f"[model] num_classes is {config.model.num_classes} but there are "
                f"{len(self.classes)} classes ({', '.join(self.classes)})",
                "remove num_classes (it is derived from the classes) or fix the class list",
            )
        self.db = Database(database_url(root, config.database.url))
        self.engine = self.db.engine
        self.images_store = ImageStore(self.db, self.folders, self.classes, config.image)
        self.transform = self.images_store.transform
        self.model_store = ModelStore(
            self.db,
            root,
            len(self.classes),
            config.model.architecture,
            config.runtime,
            config.image,
            self.task,
        )
        self.predictor = Predictor(self.images_store, self.model_store, config.runtime)
        self.browser = Browser(self.images_store, self.model_store)
        self.media = Media(self.images_store, self.paths.cache)
        self.masks = Masks(
            self.images_store,
            self.browser,
            root,
            config.segmentation,
            config.runtime,
        )
        self.explain = Explain(
            self.images_store,
            self.model_store,
            self.predictor,
            self.paths.cache,
            self.masks.current_pixels,
        )
        self.attribution = Attribution(
            self.images_store,
            self.model_store,
            self.predictor,
            self.browser,
            self.paths.cache,
            config.runtime.workers,
        )
        self.repair = Repair(
            self.images_store, self.model_store, self.predictor, self.explain, config.runtime
        )
        self.segmentation: Segmentation | None = None
        if self.label_classes is not None:
            self.segmentation = Segmentation(
                self.images_store,
                self.model_store,
                self.label_classes,
                config.runtime,
                self.paths.cache,
            )
        self.guard = Guard(
            self.images_store,
            self.model_store,
            self.predictor,
            self.repair,
            None if self.segmentation is None else self.segmentation.guard_score,
        )
        self.jobs = Jobs(self)
        self.accounts = Accounts(self.db)
        self.assignments = Assignments(self.images_store, self._suspicious_ids)

    # ----- lifecycle -------------------------------------------------------------------------

    @classmethod
    def open(cls, path: str | Path) -> Workspace:
        root = Path(path).expanduser().resolve()
        workspace = cls(root, load_config(root))
        check_model_config(root, workspace.config.model, len(workspace.classes), workspace.task)
        workspace.db.upgrade()
        return workspace

    @classmethod
    def create(
        cls,
        path: str | Path,
        config: WorkspaceConfig,
        progress: ProgressCallback = None,
        labels: LabelSource | None = None,
    ) -> Workspace:
        """Write robustar.toml, create the database and index every split, or leave no trace.
        `labels` gives the labels table ([data] labels names where it is kept), e.g.
        `lambda root: read_labels(path, images)`; it may first write images into the folder."""
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
            if labels is not None:
                if config.data.labels is None:
                    raise ConfigError(
                        "labels were given but [data] labels does not say where to keep them",
                        f"set data.labels, e.g. to {LABELS_FILE!r}",
                    )
                labels(root).write(Paths(root).resolve(config.data.labels))
            workspace = cls(root, config)
            record_python_path(root, config.model)
            check_model_config(root, config.model, len(workspace.classes), workspace.task)
            write_config(root, config)
            workspace.db.upgrade()
            workspace.scan(progress=progress)
            if config.model.checkpoint:
                workspace.import_model(workspace.paths.resolve(config.model.checkpoint))
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
        self.db.close()

    def __enter__(self) -> Workspace:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session that commits on success and rolls back on any error."""
        with self.db.session() as session:
            yield session

    # ----- data ------------------------------------------------------------------------------

    def scan(
        self, splits: list[str] | None = None, progress: ProgressCallback = None
    ) -> list[ScanReport]:
        """Index new, changed and removed files of the splits, all in one transaction."""
        reports = []
        with self.session() as session:
            for split in splits or list(self.folders):
                labelled = split in LABELLED_SPLITS and self.label_classes is None
                listed = None if self.labels is None else self.labels.listed(split, self.classes)
                reports.append(
                    scan_split(
                        session,
                        split,
                        self.images_store.folder(split),
                        self.classes if labelled else None,
                        self.images_store.reading,
                        workers=max(1, self.config.runtime.workers),
                        progress=progress,
                        listed=listed,
                        large=self._large_images(),
                    )
                )
                if self.label_classes is not None and split in LABELLED_SPLITS:
                    relpaths = session.scalars(select(Image.relpath).where(Image.split == split))
                    check_pairs(self.folders[split], relpaths, self.label_classes)
        return reports

    def _large_images(self) -> tuple[int, int] | None:
        """(threshold, tile side) when `[image] large = "tile"`, for the scan."""
        image = self.config.image
        return (image.large_threshold, image.size) if image.large == "tile" else None

    def _suspicious_ids(self) -> list[int]:
        """The whole class-balanced suspicious queue of the current version (assignments
        take its top N, as the Suspicious page shows it)."""
        return [s.image_id for s in self.attribution.suspicious(limit=sys.maxsize)]

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
        max_confidence, annotated, mask_kind, versus and flip, suspicious. Sort: name, id,
        loss, confidence, suspicion.
        """
        return self.browser.images(
            split,
            sort=sort,
            descending=descending,
            limit=limit,
            offset=offset,
            version=version,
            **filters,
        )

    def view(self, split: str) -> View:
        """A lazy, chainable view of a split's images, e.g.
        `ws.view("test").wrong().sort_by("loss", reverse=True).take(50)`; iterate it for
        `Sample`s, or call `len()`, `.ids()`, `.first()`, `.to_pandas()`, `.export(out)`."""
        return View(self.browser, self.masks, split)

    def count(self, split: str, *, version: int | None = None, **filters: object) -> int:
        return self.browser.count(split, version=version, **filters)

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
        return self.browser.neighbours(
            image_id, split, sort=sort, descending=descending, version=version, **filters
        )

    def image_filter(self, split: str, **filters: object) -> ImageFilter:
        return self.browser.filter(split, **filters)  # type: ignore[arg-type]

    def class_index(self, value: int | str | None) -> int | None:
        """A class index from a class name or index (or a string of digits)."""
        return self.images_store.class_index(value)

    def images_by_id(self, image_ids: list[int], version: int | None = None) -> list[ImageInfo]:
        """Many images (with the version's predictions) in one go; unknown ids left out."""
        return self.browser.images_by_id(image_ids, version)

    def image(self, image_id: int, version: int | None = None) -> ImageInfo:
        """One image with the (current or given) version's prediction."""
        return self.browser.image(image_id, version)

    def image_path(self, image_id: int) -> Path:
        return self.images_store.path(image_id)

    def load_image(self, image_id: int) -> PILImage.Image:
        """The image as RGB at its native resolution, upright."""
        return self.images_store.load(image_id)

    def problems(self, split: str | None = None) -> list[tuple[str, str, str]]:
        with self.session() as session:
            query = select(ScanProblem).order_by(ScanProblem.split, ScanProblem.relpath)
            if split is not None:
                query = query.where(ScanProblem.split == split)
            return [(p.split, p.relpath, p.message) for p in session.scalars(query)]

    def class_counts(self, split: str) -> dict[str, int]:
        return self.images_store.class_counts(split)

    def dataset(self, split: str) -> ImageDataset:
        return self.images_store.dataset(split)

    # ----- discovery -------------------------------------------------------------------------

    @cached_property
    def edits(self) -> Edits:
        """Attribute edits (ImageNet-E): previews, robustness benchmarks, their tables."""
        return Edits(self.images_store, self.model_store, self.masks)

    @cached_property
    def mad(self) -> Mad:
        """MAD: competing models, pool scoring, rounds of rated candidates, strong labels,
        fine-tuning on them, the per-round table and the model ranking."""
        return Mad(self.images_store, self.model_store, self.config.runtime, self.train)

    @cached_property
    def defuse(self) -> Defuse:
        """Defuse: a VAE of the training images, the latent perturbations the model gets
        wrong, their regions, a label per region and the λ-weighted correction."""
        return Defuse(
            self.images_store, self.model_store, self.config.runtime, self.paths.runs, self.train
        )

    # ----- models ----------------------------------------------------------------------------

    @property
    def device(self) -> torch.device:
        """Where models run: `[runtime] device` (auto: cuda, then mps, then cpu)."""
        return self.model_store.device

    @property
    def default_architecture(self) -> str:
        return self.config.model.architecture

    @property
    def models(self) -> list[VersionInfo]:
        return self.model_store.versions()

    @property
    def current_model(self) -> VersionInfo | None:
        return self.model_store.current()

    def model(self, version: int | None = None) -> VersionInfo:
        """A version by id, or the current one; a clear error when there is none."""
        return self.model_store.get(version)

    def training_curves(self, version: int) -> list[EpochResult]:
        return self.model_store.training_curves(version)

    def compare(
        self,
        before: int | None = None,
        after: int | None = None,
        predict: bool = False,
        progress: ProgressCallback = None,
        report_missing: bool = False,
    ) -> RepairReport:
        """Version `after` (default: current) against `before` (default: its parent, or the
        version the regression guard judged it against), with the
        verdict in words (`.verdict`). Both need predictions of the labelled splits;
        `predict=True` runs the missing ones, `report_missing=True` lists them in `missing`
        instead of raising."""
        new = self.model(after)
        # a paired run from scratch has no parent; the guard judged it against the version
        # current before it, which is what it should be compared with too
        judged = new.guard.parent_id if new.guard is not None else None
        base = before if before is not None else (new.parent_id or judged)
        if base is None:
            held = [v.id for v in self.model_store.versions() if v.status == "candidate"]
            if after is None and held:  # the run the user means was kept back by the guard
                raise DataError(
                    f"the current version {new.id} has no parent; version {held[-1]} is a "
                    "candidate the regression guard kept back",
                    f"compare it: 'robustar compare DIR --after {held[-1]}'",
                    f"ws.compare(after={held[-1]})",
                )
            raise DataError(
                f"model version {new.id} has no parent to compare with",
                "name the version to compare with (before=...)",
            )
        if predict:
            for version, split in self.repair.missing_predictions(base, new.id):
                self.predict(split, version, progress)
        return with_verdict(
            self.repair.compare(base, new.id, report_missing=report_missing), new.guard
        )

    def report(
        self,
        before: int | None = None,
        after: int | None = None,
        format: Format | None = None,
        path: str | Path | None = None,
        predict: bool = False,
    ) -> str:
        """The repair report to share (`compare` with its verdict, the versions and the new
        one's training options) as a self-contained HTML page or as Markdown; also written to
        `path` when given. The format defaults to the path's suffix (.html, .md), else HTML."""
        chosen = format or (format_of(str(path)) if path is not None else "html")
        text = self.render_report(self.compare(before, after, predict), chosen)
        if path is not None:
            Path(path).write_text(text, encoding="utf-8")
        return text

    def render_report(self, report: RepairReport, format: Format) -> str:
        """`report` (from `compare`) as the file `report()` writes."""
        old, new = self.model(report.before), self.model(report.after)
        return render(report, old, new, format)

    def use_model(self, version: int) -> VersionInfo:
        """Make a version current; a candidate the regression guard held back is promoted."""
        return self.model_store.use(version)

    def load_model(self, version: int | None = None) -> torch.nn.Module:
        """The (current or given) version's network with its weights, on the CPU."""
        return self.model_store.load(version)

    def set_model_input(
        self,
        mean: list[float] | None = None,
        std: list[float] | None = None,
        size: int | None = None,
    ) -> bool:
        """Change [image] mean, std and size (given ones only) and write robustar.toml; they
        apply to every version from now on. Returns whether anything changed."""
        given = {"mean": mean, "std": std, "size": size}
        data = self.config.model_dump(exclude_none=True)
        data["image"].update({k: v for k, v in given.items() if v is not None})
        image = parse_config(data, self.root / CONFIG_FILE).image
        changed = [k for k in given if getattr(image, k) != getattr(self.config.image, k)]
        for key in changed:  # in place: the transform and the model store share this object
            setattr(self.config.image, key, getattr(image, key))
        if changed:
            write_config(self.root, self.config)
        return bool(changed)

    def import_model(
        self, checkpoint: str | Path, architecture: str | None = None, name: str | None = None
    ) -> VersionInfo:
        """Check that the weights fit, then store them (as safetensors) as the current version."""
        return self.model_store.import_checkpoint(checkpoint, architecture, name)

    def import_weights(
        self,
        weights: dict[str, torch.Tensor] | Checkpoint,
        architecture: str | None = None,
        name: str | None = None,
        source: str = UPLOAD,
        *,
        num_classes: int | None = None,
        current: bool = True,
    ) -> VersionInfo:
        """`import_model` for weights already in memory (an upload); `source` names them;
        `current=False` keeps them beside the current version (a MAD competitor, which may
        have `num_classes` outputs of another class list)."""
        if not isinstance(weights, Checkpoint):
            weights = Checkpoint(weights, {})
        return self.model_store.import_weights(
            weights, architecture, name, source, num_classes=num_classes, current=current
        )

    # ----- predictions -----------------------------------------------------------------------

    def predict(
        self, split: str, version: int | None = None, progress: ProgressCallback = None
    ) -> SplitMetrics | SplitScores:
        """Run the model over a split, store the predictions and return the split's metrics
        (a segmenter's: `SplitScores`, with mIoU, per image and per split)."""
        if self.segmentation is not None:
            return self.segmentation.predict(split, version, progress)
        return self.predictor.run(split, version, progress)

    def metrics(self, split: str, version: int | None = None) -> SplitMetrics:
        return self.predictor.metrics(split, version)

    # ----- explanations ------------------------------------------------------------------------

    def saliency(
        self,
        image_id: int,
        method: str = DEFAULT_SALIENCY,
        target: int | str | None = None,
        version: int | None = None,
        layer: str | None = None,
    ) -> SaliencyMap:
        """The saliency map of an image at its native size: `.map` is (H, W) float32 for every
        method (`SaliencyMap` says more); `target` (class name or index) defaults to the
        predicted class, `layer` is Grad-CAM's (default: the last convolution)."""
        return self.explain.saliency(image_id, method, target, version, layer)

    # ----- training --------------------------------------------------------------------------

    def mask_coverage(self, split: str = "train") -> Coverage:
        """Spurious masks per class of a split and whether they are too skewed for paired
        training (`skewed`, with the `reason`); the faces show it before a paired run."""
        return self.masks.coverage(split)

    def train(
        self,
        options: TrainOptions | None = None,
        progress: ProgressCallback = None,
        predict: bool = True,
        run_dir: Path | None = None,
        on_epoch: Callable[[EpochResult], None] | None = None,
        resume: str | UnfinishedRun | None = None,
        candidate: bool = False,
        parent: int | None = None,
        extra: Dataset | None = None,
        extra_weights: tuple[float, float] | None = None,
        **kwargs: object,
    ) -> VersionInfo:
        """Train a new version and make it current (paired training with `paired=True`).

        Curves and epoch checkpoints go to `runs/<run>/` (TensorBoard files in its
        `tensorboard/`); afterwards the labelled splits are predicted unless `predict=False`.
        `resume` names an unfinished run (`unfinished_runs()`: one stopped after at least
        one epoch; one stopped sooner leaves nothing) to go on with, with its own options.
        `candidate=True` keeps the new version a candidate, unjudged (a repair search's).
        `parent` is the version `init="current"` starts from (default the current one);
        `extra`, a labelled set apart from the train split, is mixed 1:1 into every batch;
        `extra_weights` (w_train, w_extra) weighs the two halves' cross-entropies.

        A version trained from a parent (`init="current"`), or a paired (repair) run while a
        version is current, passes the regression guard first, against the parent or that
        version: if it loses validation accuracy beyond `guard_tolerance` points it is
        returned as a candidate (`status == "candidate"`, the reason in `guard.reason`), not
        current, until `use_model` promotes it.
        """
        if resume is not None:
            name = resume if isinstance(resume, str) else resume.name
            run_dir, options = resumable(self.paths.runs, name)
        options = options or parse_options(kwargs)
        against = self._repaired(options) if not candidate else None
        version = train_version(
            self.images_store,
            self.model_store,
            self.config.runtime,
            self.paths.runs,
            options,
            progress,
            run_dir,
            on_epoch,
            candidate or against is not None,
            parent,
            extra,
            extra_weights,
            None if self.segmentation is None else self.segmentation.training(),
        )
        if predict:
            for split in (s for s in LABELLED_SPLITS if s in self.folders):
                self.predict(split, version.id, progress)
        if version.status == CANDIDATE and not candidate:
            report = self.guard.judge(version.id, options.guard_tolerance, against)
            return self.model_store.settle(version.id, report)
        return self.model(version.id)

    def _repaired(self, options: TrainOptions) -> int | None:
        """The version a paired run not started from it must not fall behind: the current
        one (a fine-tune is judged against its parent instead)."""
        if not (options.paired and options.guard and options.init != "current"):
            return None
        current = self.model_store.current()
        return current.id if current is not None else None

    def repair_search(
        self,
        options: SearchOptions | dict[str, Any] | None = None,
        progress: ProgressCallback = None,
        on_candidate: Callable[[Candidate], None] | None = None,
        run_prefix: str | None = None,
        **kwargs: object,
    ) -> SearchResult:
        """Train every combination of `grid` over the `base` options as a candidate version
        (none becomes current), measure each on the spurious masks of the validation images
        (else the training images) and choose one without out-of-domain labels.

        `options` (or keyword arguments): base, grid, fillers, tolerance, promote_best; see
        `SearchOptions`. The choice stays a candidate to promote with `use_model`, unless
        `promote_best=True` promotes it through the regression guard.
        """
        if not isinstance(options, SearchOptions):
            options = parse_search({**(options or {}), **kwargs})
        return run_search(self, options, progress, on_candidate, run_prefix)

    def unfinished_runs(self) -> list[UnfinishedRun]:
        """Training runs outside jobs that were stopped after an epoch, oldest first: go on
        with `train(resume=run)`, or remove with `delete_run(run)`."""
        return unfinished_runs(self.paths.runs)

    def delete_run(self, run: str | UnfinishedRun) -> UnfinishedRun:
        """Remove an unfinished run's folder (checkpoints and curves); returns what it was."""
        return delete_run(self.paths.runs, run if isinstance(run, str) else run.name)

    # ----- housekeeping ----------------------------------------------------------------------

    def pin_model(self, version: int, pinned: bool = True) -> VersionInfo:
        """Pin a version so that `gc` always keeps it (`pinned=False` unpins it)."""
        return self.model_store.pin(version, pinned)

    def disk_usage(self) -> DiskReport:
        """Disk used by category (database, models, runs, annotations, each cache, other) and
        by model version (its folder, caches and training run)."""
        return disk_report(self.paths, self.models)

    def gc(
        self,
        dry_run: bool = True,
        archive: str | Path | None = None,
        rule: Retention | None = None,
        **kwargs: Any,
    ) -> GcResult:
        """Remove old model versions (with their caches and runs), orphaned caches and runs,
        and old finished job records under the retention rule (`Retention`: keep_last,
        unfinished, job_days, min_age_hours). A dry run (the default) only says what would
        go; `archive` moves files there instead of deleting them. The current version, its
        parent, pinned versions, what a pending job uses, and annotations always stay."""
        rule = rule or Retention(**kwargs)
        return collect(
            self.db, self.paths, rule, dry_run, None if archive is None else Path(archive)
        )

    def backup(
        self, dest: str | Path, caches: bool = False, progress: ProgressCallback = None
    ) -> BackupResult:
        """A consistent copy of the workspace in `dest` while it is in use: the database
        snapshot, then its files (cache/ only with `caches`); open the copy as a workspace to
        restore it (PostgreSQL: pg_restore its robustar.pgdump first)."""
        url = database_url(self.root, self.config.database.url)
        return backup(self.paths, url, Path(dest), caches, progress)

    # ----- summary ---------------------------------------------------------------------------

    def info(self) -> WorkspaceInfo:
        """Splits with class counts and problems, model versions, the current one."""
        return summarize(self.root, self.images_store, self.paths.runs)
