"""One training run end to end: model, loaders, epochs, and the new model version."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from robustar.models.checkpoint import load_weights
from robustar.models.device import select_device
from robustar.models.registry import create_model
from robustar.predict.engine import make_loader
from robustar.progress import ProgressCallback
from robustar.train.options import TrainOptions
from robustar.train.plain import seed_everything, train_epochs
from robustar.versions import VersionInfo, add_version, staging_dir, to_info

if TYPE_CHECKING:
    from robustar.workspace import Workspace


def train_version(
    workspace: Workspace, options: TrainOptions, progress: ProgressCallback = None
) -> VersionInfo:
    """Train on the train split (validating on validation if configured); make it current."""
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
    train_loader = make_loader(
        workspace.dataset("train"), batch_size, workers, device, shuffle=True, generator=generator
    )
    val_loader = None
    if "validation" in workspace.folders:
        val_loader = make_loader(workspace.dataset("validation"), batch_size, workers, device)
    with staging_dir(workspace.root) as staged:
        epochs = train_epochs(model, train_loader, val_loader, options, device, staged, progress)
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
                config=options.model_dump(),
                epochs=epochs,
            )
            return to_info(row)
