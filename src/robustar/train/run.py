"""One training run end to end: model, loaders, objective, epochs, the new model version."""

from __future__ import annotations

import shutil
import time
import uuid
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path

from sqlalchemy import select
from torch.utils.data import Dataset

from robustar.config import RuntimeConfig
from robustar.data.images import ImageStore
from robustar.data.masked import MaskedDataset
from robustar.db.session import Database
from robustar.db.tables import Mask
from robustar.errors import ConfigError
from robustar.models.checkpoint import load_weights
from robustar.models.device import select_device
from robustar.models.inputs import write_metadata
from robustar.models.registry import CLASSIFICATION, SEGMENTATION, create_model
from robustar.models.store import ModelStore
from robustar.models.versions import EpochResult, VersionInfo, add_version, to_info
from robustar.predict.engine import make_loader
from robustar.progress import ProgressCallback
from robustar.train.fillers import Pixels
from robustar.train.mixed import WeightedMix, mixed_loader
from robustar.train.options import TrainOptions
from robustar.train.paired import PairedLoss, plain_loss
from robustar.train.plain import STATE_FILE, Loaders, Scoring, seed_everything, train_epochs
from robustar.train.runs import save_options
from robustar.train.segtrain import SegTask


def spurious_masks(db: Database, root: Path, kind: str = "spurious") -> dict[int, Path]:
    """Current, non-empty mask files of a kind (spurious unless told), by image id."""
    with db.session() as session:
        rows = session.execute(
            select(Mask.image_id, Mask.file).where(
                Mask.is_current, Mask.kind == kind, Mask.pixels > 0
            )
        )
        return {image_id: root / file for image_id, file in rows}


def _tensorboard(run_dir: Path) -> Callable[[EpochResult], None]:
    """Write each epoch's curves as TensorBoard event files under the run folder."""
    from torch.utils.tensorboard import SummaryWriter

    writer = SummaryWriter(str(run_dir / "tensorboard"))

    def write(e: EpochResult) -> None:
        for name, value in asdict(e).items():
            if value is not None and name not in ("epoch", "seconds"):
                writer.add_scalar(name.replace("_", "/", 1), value, e.epoch)
        writer.flush()

    return write


def train_version(
    images: ImageStore,
    models: ModelStore,
    runtime: RuntimeConfig,
    runs: Path,
    options: TrainOptions,
    progress: ProgressCallback = None,
    run_dir: Path | None = None,
    on_epoch: Callable[[EpochResult], None] | None = None,
    candidate: bool = False,
    parent: int | None = None,
    extra: Dataset | None = None,
    extra_weights: tuple[float, float] | None = None,
    segmentation: SegTask | None = None,
) -> VersionInfo:
    """Train on the train split and make the result the current version; a version trained
    from a parent with the guard on is added as a candidate for the regression guard to judge,
    and so is every version with `candidate=True` (a repair search's).

    `parent` is the version `init="current"` starts from (default: the current one); with
    `extra` (a labelled set kept apart from the train split) every batch is half train
    images, half `extra`; `extra_weights` (w_train, w_extra) weighs the two halves' losses
    (default: one cross-entropy over the whole batch).

    `run_dir` holds the epoch checkpoints and TensorBoard curves; a run given the folder of an
    interrupted run resumes it. The checkpoints move to the new version's folder at the end.
    `segmentation` trains a segmenter on label maps with `options.loss` instead.
    """
    _check_task(options, segmentation, extra)
    image = images.config
    num_classes = len(images.classes)
    device = select_device(options.device or runtime.device)
    architecture = options.architecture or models.architecture
    generator = seed_everything(options.seed)
    parent_id = None
    if options.init == "current":
        start = models.get(parent)
        architecture, parent_id = start.architecture, start.id
        model = models.load(start.id)
    else:
        task = CLASSIFICATION if segmentation is None else SEGMENTATION
        model = create_model(architecture, num_classes, task)
        if options.init == "checkpoint":
            load_weights(model, Path(options.checkpoint or "").expanduser(), num_classes)
    batch_size = options.batch_size or runtime.batch_size
    workers = runtime.workers
    dataset = images.dataset if segmentation is None else segmentation.dataset
    train_set: Dataset = dataset("train")
    objective = plain_loss if segmentation is None else segmentation.objective(options.loss)
    if options.paired:
        masks = spurious_masks(images.db, models.root)
        train_set = MaskedDataset(images.dataset("train"), masks, image.size, image.resize)
        pixels = Pixels(image.mean, image.std, device)
        objective = PairedLoss(
            options.filler,
            options.regularizer,
            options.pair_weight,
            pixels,
            generator,
            options.worst_of,
            options.borrow,
            options.copy_loss,
        )
    elif options.background_swap > 0:  # the object masks ride along for the augmentation
        masks = spurious_masks(images.db, models.root, "object")
        train_set = MaskedDataset(images.dataset("train"), masks, image.size, image.resize)
    if extra is not None and len(extra):  # type: ignore[arg-type]
        if options.paired or options.background_swap > 0:
            raise ConfigError(
                "paired training and background swap cannot mix in a separate labelled set",
                "train the new labels without paired=True and with background_swap=0",
            )
        first = mixed_loader(train_set, extra, batch_size, workers, device, generator)
        if extra_weights is not None:
            objective = WeightedMix(first.batch_sampler.take_second, extra_weights)  # type: ignore[union-attr]
    else:
        first = make_loader(train_set, batch_size, workers, device, True, generator)
    loaders = Loaders(first)
    if "validation" in images.folders:
        loaders.validation = make_loader(dataset("validation"), batch_size, workers, device)
    if options.evaluate_test and "test" in images.folders:
        loaders.test = make_loader(dataset("test"), batch_size, workers, device)
    new_run = run_dir is None or not run_dir.exists()
    run_dir = run_dir or runs / f"run-{time.strftime('%Y%m%d-%H%M%S')}-{uuid.uuid4().hex[:6]}"
    run_dir.mkdir(parents=True, exist_ok=True)
    save_options(run_dir, options)  # so that a run stopped midway can be resumed by name
    curves = _tensorboard(run_dir)

    def after_epoch(result: EpochResult) -> None:
        curves(result)
        if on_epoch is not None:
            on_epoch(result)

    try:
        scoring = Scoring() if segmentation is None else segmentation.scoring(options.loss)
        epochs = train_epochs(
            model,
            loaders,
            options,
            device,
            run_dir,
            objective,
            generator,
            progress,
            after_epoch,
            scoring,
        )
    except BaseException:
        if new_run and not (run_dir / STATE_FILE).is_file():
            shutil.rmtree(run_dir, ignore_errors=True)  # stopped in its first epoch: no trace
        raise
    staged = run_dir / "version"
    shutil.rmtree(staged, ignore_errors=True)
    staged.mkdir()
    for checkpoint in run_dir.glob("epoch-*.safetensors"):
        checkpoint.rename(staged / checkpoint.name)
    (run_dir / STATE_FILE).unlink(missing_ok=True)  # finished: nothing left to resume
    with images.db.session() as session:
        row = add_version(
            session,
            models.root,
            staged,
            model,
            name=options.name,
            parent_id=parent_id,
            architecture=architecture,
            num_classes=num_classes,
            source="trained",
            config={**options.model_dump(), "run": run_dir.name},
            epochs=epochs,
            current=not candidate and (parent_id is None or not options.guard),
            metadata=write_metadata(image),
        )
        return to_info(row)


def _check_task(options: TrainOptions, segmentation: SegTask | None, extra: object) -> None:
    """Refuse options the workspace's task has no use for, rather than ignore them."""
    if segmentation is None:
        if options.loss != "ce":
            raise ConfigError(
                f"training option loss={options.loss!r} is for segmentation workspaces",
                "leave loss at 'ce': classifiers train with cross-entropy",
            )
        return
    if options.paired or options.background_swap > 0 or extra is not None:
        raise ConfigError(
            "paired training, background swap and a separate labelled set are for "
            "classification workspaces",
            "train the segmenter with paired=False and background_swap=0",
        )
