"""A consistent copy of a workspace, taken while the server runs.

The database is copied first, as one snapshot (SQLite's online backup, or pg_dump), then the
files. Every file a row points at (a mask, a model version) is written before its row commits
and never rewritten in place, so each row of the snapshot finds its file in the copy; files
written after the snapshot are copied too, harmlessly, with no row pointing at them. Open the
backup folder as a workspace to restore it (with PostgreSQL, pg_restore the dump first).
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import URL, make_url

from robustar.config import load_config, write_config
from robustar.db.session import DB_FILE
from robustar.errors import ConfigError, DataError
from robustar.housekeeping.disk import database_files
from robustar.paths import Paths
from robustar.progress import ProgressCallback, report

PG_DUMP_FILE = "robustar.pgdump"


@dataclass(frozen=True)
class BackupResult:
    folder: str
    database: str  # "sqlite" (robustar.db in the folder) or "postgresql" (robustar.pgdump)
    files: int  # copied besides the database
    bytes: int  # of those files
    caches: bool  # whether cache/ was copied


def _check_destination(root: Path, dest: Path) -> None:
    if dest.is_relative_to(root) or root.is_relative_to(dest):
        raise DataError(
            f"the backup folder {dest} overlaps the workspace {root}",
            "choose a folder outside the workspace",
        )
    if dest.exists() and (not dest.is_dir() or any(dest.iterdir())):
        raise DataError(f"the backup folder {dest} is not empty", "choose a new or empty folder")


def _sqlite_snapshot(url: URL, target: Path) -> None:
    """SQLite's online backup: one read transaction, so a snapshot of committed rows only,
    while writers go on (WAL)."""
    source = sqlite3.connect(str(url.database), timeout=30)
    copy = sqlite3.connect(str(target))
    try:
        with copy:
            source.backup(copy)
    finally:
        copy.close()
        source.close()


def _pg_dump(url: URL, target: Path) -> None:
    """pg_dump in its custom format (restore with pg_restore); the password goes through the
    environment, never onto a command line or into a message."""
    exe = shutil.which("pg_dump")
    shown = url.render_as_string(hide_password=True)
    if exe is None:
        raise ConfigError(
            f"backing up the PostgreSQL database {shown} needs pg_dump, which is not on PATH",
            "install the PostgreSQL client tools (Debian/Ubuntu: apt-get install "
            "postgresql-client; macOS: brew install libpq) matching the server's version",
        )
    env = dict(os.environ)
    if url.password is not None:
        env["PGPASSWORD"] = str(url.password)
    plain = url.set(drivername="postgresql", password=None, query={})
    dbname = plain.render_as_string(hide_password=True)
    done = subprocess.run(
        [exe, "--format=custom", "--no-password", "--file", str(target), "--dbname", dbname],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        target.unlink(missing_ok=True)
        last = (done.stderr.strip().splitlines() or ["no message"])[-1]
        raise DataError(f"pg_dump of {shown} failed: {last}", "check the database URL and access")


def _files(root: Path, skip: set[Path]) -> list[Path]:
    """Files to copy, relative to `root`; in-flight temporaries (.<name>.<hex>.tmp) left out."""
    found = []
    for folder, dirs, files in os.walk(root):
        here = Path(folder)
        dirs[:] = [d for d in dirs if here / d not in skip]
        for name in files:
            path = here / name
            if path in skip or (name.startswith(".") and name.endswith(".tmp")):
                continue
            found.append(path.relative_to(root))
    return found


def backup(
    paths: Paths,
    url: str,
    dest: Path,
    caches: bool = False,
    progress: ProgressCallback = None,
) -> BackupResult:
    """Copy the workspace to `dest`: the database snapshot, then every file under the
    workspace (config, annotations, models, runs, data kept inside it; cache/ only with
    `caches`). Image folders outside the workspace are referenced, not copied."""
    root, dest = paths.root, dest.expanduser().resolve()
    _check_destination(root, dest)
    parsed = make_url(url)
    backend = parsed.get_backend_name()
    dest.mkdir(parents=True, exist_ok=True)
    if backend == "sqlite":
        _sqlite_snapshot(parsed, dest / DB_FILE)
    elif backend == "postgresql":
        _pg_dump(parsed, dest / PG_DUMP_FILE)
    else:
        raise ConfigError(f"cannot back up a {backend} database", "use SQLite or PostgreSQL")
    skip = set(database_files(root)) | ({paths.cache} if not caches else set())
    files, total = _files(root, skip), 0
    for done, rel in enumerate(files, 1):
        target = dest / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            shutil.copy2(root / rel, target)
        except FileNotFoundError:
            continue  # removed since the walk (a cache file, a stale temporary)
        total += target.stat().st_size
        report(progress, "backup", done, len(files))
    if backend == "sqlite":
        _own_database(dest)
    return BackupResult(str(dest), backend, len(files), total, caches)


def _own_database(dest: Path) -> None:
    """A backup opens its own SQLite copy, even where the workspace named another file."""
    config = load_config(dest)
    if config.database.url is not None:
        write_config(
            dest,
            config.model_copy(
                update={"database": config.database.model_copy(update={"url": None})}
            ),
        )
