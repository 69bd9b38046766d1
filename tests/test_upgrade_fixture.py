"""A workspace made by the previous release (tests/fixtures/workspace-0.1.0, made by
tests/fixtures/make_workspace_0_1_0.py) opens after migration, and reads back what it held.

The checks are on content, not on a revision number, so they keep holding as migrations are
added."""

import shutil
import socket
import uuid
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import func, select

from robustar import Workspace
from robustar.config import DatabaseConfig, load_config, write_config
from robustar.db.session import revision
from robustar.db.tables import Base, Mask
from tests.pg_cluster import create_database, drop_database
from tests.test_cli import run

FIXTURE = Path(__file__).parent / "fixtures" / "workspace-0.1.0"
SECRET = "s3cret-Passw0rd"


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


def test_db_migrate_moves_every_row_and_id_to_postgresql(
    old_workspace: Path, postgres_server: str, monkeypatch, capsys
) -> None:
    name = f"migrate_{uuid.uuid4().hex[:8]}"
    url = create_database(postgres_server, name).replace("postgres@", f"postgres:{SECRET}@")
    try:
        with Workspace.open(old_workspace) as workspace:  # the SQLite workspace, up to date
            before = table_rows(workspace)
        code, out, err = run(monkeypatch, capsys, "db", "migrate", old_workspace, "--to", url)
        assert code == 0, err
        assert SECRET not in out + err and "postgres:***@" in out
        assert load_config(old_workspace).database.url == url
        with Workspace.open(old_workspace) as workspace:
            assert workspace.engine.dialect.name == "postgresql"
            assert table_rows(workspace) == before  # every row, with its id and values
            reads_back(workspace)
            # the id sequences continue after the copied ids
            assert workspace.jobs.submit("train", {}).id == 2
            first = workspace.images("train", sort="id")[0].id
            assert workspace.masks.save(first, np.ones((8, 8)), base_version=2).version == 3
            with workspace.session() as session:
                assert session.scalar(select(func.max(Mask.id))) == len(before["masks"]) + 1
        # a target that is not empty is refused, and the workspace keeps its database
        code, out, err = run(monkeypatch, capsys, "db", "migrate", old_workspace, "--to", url)
        assert code == 2 and "already uses" in err and SECRET not in out + err
        config = load_config(old_workspace)  # back on its SQLite file, which was kept
        write_config(old_workspace, config.model_copy(update={"database": DatabaseConfig()}))
        code, out, err = run(monkeypatch, capsys, "db", "migrate", old_workspace, "--to", url)
        assert code == 2 and "is not empty" in err and SECRET not in out + err
    finally:
        drop_database(postgres_server, name)


def test_db_migrate_never_shows_the_password(old_workspace: Path, monkeypatch, capsys) -> None:
    with socket.socket() as probe:  # a port where no server listens
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"postgresql+psycopg://someone:{SECRET}@127.0.0.1:{port}/robustar"
    code, out, err = run(monkeypatch, capsys, "db", "migrate", old_workspace, "--to", url)
    assert code == 2 and "cannot open the database" in err
    assert SECRET not in out + err and "someone:***@" in err
    assert load_config(old_workspace).database.url is None  # still on its SQLite file


def table_rows(workspace: Workspace) -> dict[str, list[tuple]]:
    """Every row of every table, in primary-key order."""
    with workspace.engine.connect() as connection:
        return {
            table.name: [
                tuple(row)
                for row in connection.execute(select(table).order_by(*table.primary_key.columns))
            ]
            for table in Base.metadata.sorted_tables
        }
