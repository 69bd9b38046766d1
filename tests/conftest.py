"""Shared fixtures: small generated image folders and small demo workspaces, on SQLite or,
for the database-facing tests (those that use `database_url`), on PostgreSQL too."""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from robustar import Workspace, WorkspaceConfig
from robustar.config import (
    DatabaseConfig,
    DataConfig,
    ImageConfig,
    ModelConfig,
    RuntimeConfig,
)
from robustar.data.spurious_digits import DemoSpec
from robustar.db.transfer import move_workspace
from robustar.demo import create_demo
from tests import pg_cluster

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


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str]:
    """A throwaway PostgreSQL cluster for the whole run; skipped where PostgreSQL is not
    installed, except in CI (.ci/run installs it), where that is a failure."""
    if pg_cluster.binaries() is None:
        reason = "PostgreSQL is not installed (Debian package 'postgresql'; .ci/run installs it)"
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)
    with pg_cluster.cluster() as url:
        yield url


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest) -> Iterator[str | None]:
    """The database of the test's workspace: None for the workspace's own SQLite file, else
    a new database of its own on the PostgreSQL cluster, dropped afterwards."""
    if request.param == "sqlite":
        yield None
        return
    server = request.getfixturevalue("postgres_server")
    name = f"test_{uuid.uuid4().hex[:12]}"
    yield pg_cluster.create_database(server, name)
    pg_cluster.drop_database(server, name)


def chosen_database(request: pytest.FixtureRequest) -> str | None:
    """`database_url` where the test asked for it (a parameter or usefixtures), else None."""
    if "database_url" in request.fixturenames:
        return request.getfixturevalue("database_url")
    return None


@pytest.fixture
def workspace(
    request: pytest.FixtureRequest, tmp_path: Path, folders: dict[str, Path]
) -> Workspace:
    config = folder_config(folders["train"], test=str(folders["test"]))
    config.database = DatabaseConfig(url=chosen_database(request))
    ws = Workspace.create(tmp_path / "ws", config)
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
def demo(request: pytest.FixtureRequest, tmp_path: Path, _trained_demo_template: Path) -> Workspace:
    """A small trained demo workspace (tiny CNN, 2 epochs); each test gets its own copy."""
    root = tmp_path / "demo"
    shutil.copytree(_trained_demo_template, root)
    if url := chosen_database(request):
        move_workspace(root, url)
    ws = Workspace.open(root)
    yield ws
    ws.close()
