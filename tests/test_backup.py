"""`Workspace.backup`: a consistent copy while masks are being saved, and its restore (open
the copy as a workspace); PostgreSQL without pg_dump is a clear error without credentials."""

from __future__ import annotations

import subprocess
import threading
import uuid
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import make_url, select

from robustar import Workspace
from robustar.config import load_config, write_config
from robustar.db.tables import Mask
from robustar.errors import ConfigError, DataError
from robustar.housekeeping.backup import backup
from tests import pg_cluster
from tests.conftest import folder_config


def test_a_backup_under_concurrent_mask_saves_keeps_every_acknowledged_mask(
    workspace: Workspace, tmp_path: Path
) -> None:
    images = [workspace.image(i) for i in (1, 2, 3, 4)]
    acknowledged: list[tuple[int, int, int]] = []  # (image, version, pixels) of returned saves
    stop = threading.Event()

    def writer() -> None:
        n = 0
        with Workspace.open(workspace.root) as ws:
            while not stop.is_set():
                image = images[n % len(images)]
                current = ws.masks.current(image.id)
                mask = np.zeros((image.height, image.width), dtype=bool)
                mask.flat[: n % mask.size + 1] = True
                saved = ws.masks.save(image.id, mask, base_version=current and current.version)
                acknowledged.append((image.id, saved.version, int(mask.sum())))
                n += 1

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        while len(acknowledged) < 5:
            stop.wait(0.01)
        before = list(acknowledged)
        result = workspace.backup(tmp_path / "copy")
    finally:
        stop.set()
        thread.join()
    assert len(acknowledged) > len(before)  # saves went on while the backup ran
    assert result.database == "sqlite" and not result.caches
    with Workspace.open(result.folder) as copy:
        for image_id, version, pixels in before:
            _, mask = copy.masks.load(image_id, version=version)
            assert int(mask.sum()) == pixels
        with copy.session() as session:
            files = session.scalars(select(Mask.file)).all()
        assert len(files) >= len(before)
        for file in files:  # every row of the snapshot finds its file
            assert (copy.root / file).is_file()
        assert copy.count("train") == workspace.count("train")


def test_the_backup_folder_must_be_new_and_outside(workspace: Workspace, tmp_path: Path) -> None:
    with pytest.raises(DataError, match="overlaps"):
        workspace.backup(workspace.root / "backup")
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "x").write_text("x")
    with pytest.raises(DataError, match="not empty"):
        workspace.backup(tmp_path / "full")


def test_postgresql_without_pg_dump_names_the_package_not_the_password(
    workspace: Workspace, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # no pg_dump here
    url = "postgresql+psycopg://robustar:s3cret@db.example/robustar"
    with pytest.raises(ConfigError) as error:
        backup(workspace.paths, url, tmp_path / "copy")
    assert "postgresql-client" in str(error.value.fix) and "s3cret" not in str(error.value)


def test_a_backup_of_a_database_kept_elsewhere_opens_its_own_copy(
    tmp_path: Path, folders: dict[str, Path]
) -> None:
    config = folder_config(folders["train"])
    config.database.url = f"sqlite:///{(tmp_path / 'elsewhere.db').as_posix()}"
    with Workspace.create(tmp_path / "ws", config) as ws:
        result = ws.backup(tmp_path / "copy", caches=True)
    assert result.caches and not (tmp_path / "ws" / "robustar.db").exists()
    with Workspace.open(result.folder) as copy:
        assert copy.config.database.url is None and copy.count("train") == 15
        assert (copy.root / "robustar.db").is_file()


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_a_postgresql_backup_restores_with_pg_restore(
    database_url: str, workspace: Workspace, postgres_server: str, tmp_path: Path
) -> None:
    """pg_dump's archive, restored into a new database with pg_restore, holds every mask: the
    README's restore recipe, on a real server."""
    image = workspace.images("train", limit=1)[0]
    mask = np.zeros((image.height, image.width), dtype=bool)
    mask[2:9, 3:7] = True
    workspace.masks.set(image.id, mask)
    result = workspace.backup(tmp_path / "copy")
    assert result.database == "postgresql"
    restored = pg_cluster.create_database(postgres_server, f"restored_{uuid.uuid4().hex[:8]}")
    plain = make_url(restored).set(drivername="postgresql").render_as_string(hide_password=False)
    folder = Path(result.folder)
    dump = folder / "robustar.pgdump"
    subprocess.run(["pg_restore", "--no-owner", "--dbname", plain, str(dump)], check=True)
    config = load_config(folder)
    config.database.url = restored
    write_config(folder, config)
    with Workspace.open(folder) as copy:
        assert np.array_equal(copy.masks.get(image.id), mask)
        assert copy.count("train") == workspace.count("train")
