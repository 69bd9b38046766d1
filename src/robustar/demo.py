"""The demo workspace: spurious-digits data, a small CNN baseline and its predictions."""

from __future__ import annotations

import shutil
from pathlib import Path

from robustar.config import DataConfig, ImageConfig, ModelConfig, RuntimeConfig, WorkspaceConfig
from robustar.data.spurious_digits import CLASS_NAMES, DemoSpec, generate_demo
from robustar.errors import ConfigError
from robustar.progress import ProgressCallback
from robustar.train.options import TrainOptions
from robustar.workspace import Workspace

TRUTH_DIR = "truth"  # true masks and the clean variant; the application never reads it
BASELINE = TrainOptions(epochs=6, learning_rate=3e-3, batch_size=64, name="baseline", seed=0)


def demo_config(spec: DemoSpec = DemoSpec()) -> WorkspaceConfig:
    folders = {split: f"data/{split}" for split, _ in spec.counts}
    return WorkspaceConfig(
        data=DataConfig(**folders, classes=CLASS_NAMES),
        image=ImageConfig(size=32, resize="stretch", mean=[0.5] * 3, std=[0.25] * 3),
        model=ModelConfig(architecture="small_cnn"),
        runtime=RuntimeConfig(batch_size=256, workers=0),
    )


def create_demo(
    path: str | Path,
    spec: DemoSpec = DemoSpec(),
    train: bool = True,
    progress: ProgressCallback = None,
) -> Workspace:
    """Generate the data, create the workspace and (by default) train the baseline version."""
    root = Path(path).expanduser().resolve()
    if root.exists() and any(root.iterdir()):
        raise ConfigError(
            f"{root} exists and is not empty", "choose a new folder for the demo workspace"
        )
    try:
        generate_demo(root / "data", root / TRUTH_DIR, spec, progress)
        workspace = Workspace.create(root, demo_config(spec), progress)
    except BaseException:
        shutil.rmtree(root, ignore_errors=True)
        raise
    if train:
        workspace.train(BASELINE, progress=progress)
        if "pool" in workspace.folders:
            workspace.predict("pool", progress=progress)
    return workspace
