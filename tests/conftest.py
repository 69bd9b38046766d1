"""Shared fixtures: small generated image folders and small demo workspaces."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from robustar import Workspace, WorkspaceConfig
from robustar.config import DataConfig, ImageConfig, ModelConfig, RuntimeConfig
from robustar.data.spurious_digits import DemoSpec
from robustar.demo import create_demo

SMALL_DEMO = DemoSpec(counts=(("train", 200), ("validation", 50), ("test", 80), ("pool", 30)))


def write_folder(root: Path, classes: dict[str, int], size: int = 12, seed: int = 0) -> Path:
    """An ImageFolder tree of random PNGs: {class name: image count}."""
    rng = np.random.default_rng(seed)
    for name, count in classes.items():
        (root / name).mkdir(parents=True, exist_ok=True)
        for i in range(count):
            pixels = rng.integers(0, 256, size=(size, size, 3), dtype=np.uint8)
            Image.fromarray(pixels).save(root / name / f"img{i:03d}.png")
    return root


def folder_config(train: Path, **data: str) -> WorkspaceConfig:
    return WorkspaceConfig(
        data=DataConfig(train=str(train), **data),
        image=ImageConfig(size=16, resize="stretch"),
        model=ModelConfig(architecture="tiny_cnn"),
        runtime=RuntimeConfig(batch_size=32, device="cpu"),
    )


@pytest.fixture
def folders(tmp_path: Path) -> dict[str, Path]:
    data = tmp_path / "data"
    return {
        "train": write_folder(data / "train", {"cat": 6, "dog": 5, "eel": 4}, seed=1),
        "test": write_folder(data / "test", {"cat": 3, "dog": 3, "eel": 2}, seed=2),
    }


@pytest.fixture
def workspace(tmp_path: Path, folders: dict[str, Path]) -> Workspace:
    ws = Workspace.create(
        tmp_path / "ws", folder_config(folders["train"], test=str(folders["test"]))
    )
    yield ws
    ws.close()


@pytest.fixture(scope="session")
def _trained_demo_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("template") / "demo"
    ws = create_demo(root, SMALL_DEMO, train=False)
    ws.train(architecture="tiny_cnn", epochs=2, learning_rate=3e-3, batch_size=32, seed=0)
    ws.close()
    return root


@pytest.fixture
def demo(tmp_path: Path, _trained_demo_template: Path) -> Workspace:
    """A small trained demo workspace (tiny CNN, 2 epochs); each test gets its own copy."""
    root = tmp_path / "demo"
    shutil.copytree(_trained_demo_template, root)
    ws = Workspace.open(root)
    yield ws
    ws.close()
