"""One training run end to end: model, loaders, objective, epochs, the new model version."""

from __future__ import annotations

import shutil
import time
import uuid
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import select

from robustar.data.masked import MaskedDataset
from robustar.db.tables import Mask
from robustar.models.checkpoint import load_weights
from robustar.models.device import select_device
from robustar.models.registry import create_model
from robustar.predict.engine import make_loader
from robustar.progress import ProgressCallback
from robustar.train.fillers import Pixels
from robustar.train.options import TrainOptions
from robustar.train.paired import PairedLoss, plain_loss
from robustar.train.plain import (
    STATE_FILE,
    EpochResult,
    Loaders,
    seed_everything,
    train_epochs,
)
from robustar.versions import VersionInfo, add_version, to_info

if TYPE_CHECKING:
    from robustar.workspace import Workspace

RUNS_DIR = "runs"


def spurious_masks(workspace: Workspace) -> dict[int, Path]:
    """Current, non-empty spurious masks of the train split, by image id."""
    with workspace.session() as session:
        rows = session.execute(
            select(Mask.image_id, Mask.file).where(
                Mask.is_current, Mask.kind == "spurious", Mask.pixels > 0
            )
        )
        return {image_id: workspace.root / file for image_id, file in rows}


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
    workspace: Workspace,
    options: TrainOptions,
    progress: ProgressCallback = None,
    run_dir: Path | None = None,
    on_epoch: Callable[[EpochResult], None] | None = None,
) -> VersionInfo:
    """Train on the train split and make the result the current version.

    `run_dir` holds the epoch checkpoints and TensorBoard curves; a run given the folder of an
    interrupted run resumes it. The checkpoints move to the new version's folder at the end.
    """
    config = workspace.config
    num_classes = len(workspace.classes)
    device = select_device(options.device or config.runtime.device)
    architecture = options.architecture or config.model.architecture
    generator = seed_everything(options.seed)
    parent_id = None
    if options.init == "current":
        parent = workspace.model()
        architecture, parent_id = parent.architecture, parent.id
        model = workspace.load_model(parent.id)
    else:
        model = create_model(architecture, num_classes)
        if options.init == "checkpoint":
            load_weights(model, Path(options.checkpoint or "").expanduser(), num_classes)
    batch_size = options.batch_size or config.runtime.batch_size
    workers = config.runtime.workers
    train_set = workspace.dataset("train")
    objective = plain_loss
    if options.paired:
        masks = spurious_masks(workspace)
        train_set = MaskedDataset(train_set, masks, config.image.size, config.image.resize)
        pixels = Pixels(config.image.mean, config.image.std, device)
        objective = PairedLoss(
            options.filler,
            options.regularizer,
            options.pair_weight,
            pixels,
            generator,
            options.worst_of,
        )
    loaders = Loaders(make_loader(train_set, batch_size, workers, device, True, generator))
    if "validation" in workspace.folders:
        loaders.validation = make_loader(
            workspace.dataset("validation"), batch_size, workers, device
        )
    if options.evaluate_test and "test" in workspace.folders:
        loaders.test = make_loader(workspace.dataset("test"), batch_size, workers, device)
    run_dir = (
        run_dir
        or workspace.root
        / RUNS_DIR
        / f"run-{time.strftime('%Y%m%d-%H%M%S')}-{uuid.uuid4().hex[:6]}"
    )
    run_dir.mkdir(parents=True, exist_ok=True)
    curves = _tensorboard(run_dir)

    def after_epoch(result: EpochResult) -> None:
        curves(result)
        if on_epoch is not None:
            on_epoch(result)

    epochs = train_epochs(
        model, loaders, options, device, run_dir, objective, generator, progress, after_epoch
    )
    staged = run_dir / "version"
    shutil.rmtree(staged, ignore_errors=True)
    staged.mkdir()
    for checkpoint in run_dir.glob("epoch-*.safetensors"):
        checkpoint.rename(staged / checkpoint.name)
    (run_dir / STATE_FILE).unlink(missing_ok=True)  # finished: nothing left to resume
    with workspace.session() as session:
        row = add_version(
            session,
            workspace.root,
            staged,
            model,
            name=options.name,
            parent_id=parent_id,
            architecture=architecture,
            num_classes=num_classes,
            source="trained",
            config={**options.model_dump(), "run": run_dir.name},
            epochs=epochs,
        )
        return to_info(row)
