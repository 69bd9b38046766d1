"""A workspace made by the previous release (tests/fixtures/workspace-0.1.0, made by
tests/fixtures/make_workspace_0_1_0.py) opens after migration, and reads back what it held.

The checks are on content, not on a revision number, so they keep holding as migrations are
added."""

import shutil
from pathlib import Path

import numpy as np
import pytest

from robustar import Workspace
from robustar.db.session import revision
from tests.test_cli import run

FIXTURE = Path(__file__).parent / "fixtures" / "workspace-0.1.0"


@pytest.fixture
def old_workspace(tmp_path: Path) -> Path:
    return Path(shutil.copytree(FIXTURE, tmp_path / "ws"))


def reads_back(workspace: Workspace) -> None:
    assert workspace.classes == ["cat", "dog"]
    assert (workspace.count("train"), workspace.count("test")) == (8, 4)
    images = workspace.images("train", sort="id")
    assert all(i.prediction is not None and i.prediction.version_id == 1 for i in images)
    assert workspace.count("test", correct=True) + workspace.count("test", correct=False) == 4
    (version,) = workspace.models
    assert (version.id, version.name, version.architecture) == (1, "baseline", "tiny_cnn")
    assert version.is_current and len(workspace.training_curves(1)) == 1
    assert workspace.load_model()  # the weights load into the architecture
    first, second = images[0].id, images[1].id
    expected = np.zeros((8, 8), dtype=bool)
    expected[:4, :4] = True
    assert sorted(v.version for v in workspace.masks.history(first)) == [1, 2]
    assert np.array_equal(workspace.masks.get(first), ~expected)
    assert np.array_equal(workspace.masks.get(first, version=1), expected)
    assert np.array_equal(workspace.masks.get(second, "object"), expected)
    (job,) = workspace.jobs.list()
    assert (job.kind, job.status, job.params["options"]["name"]) == ("train", "queued", "queued")


def test_open_upgrades_automatically(old_workspace: Path) -> None:
    with Workspace.open(old_workspace) as workspace:
        reads_back(workspace)
        assert workspace.masks.set(workspace.images("train", sort="id")[0].id, np.ones((8, 8)))


def test_db_upgrade_command(old_workspace: Path, monkeypatch, capsys) -> None:
    code, out, _ = run(monkeypatch, capsys, "db", "upgrade", old_workspace)
    assert code == 0
    with Workspace.open(old_workspace) as workspace:
        head = revision(workspace.engine)
        assert head is not None and out.rstrip().endswith(head)
        reads_back(workspace)
