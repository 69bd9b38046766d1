"""A throwaway PostgreSQL cluster for the tests and the benchmarks: initdb in a temporary
folder, the server on a free local port, stopped and removed at the end.

Debian keeps the server binaries off PATH (/usr/lib/postgresql/<major>/bin), and initdb refuses
to run as root, so as root (CI) the binaries run as the unprivileged user `nobody`.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg

USER = "postgres"  # the cluster's superuser (trust authentication, local connections only)
UNPRIVILEGED = "nobody"
# A throwaway cluster needs no durability: these make schema creation and commits fast.
FAST = ("fsync=off", "synchronous_commit=off", "full_page_writes=off", "max_connections=200")


def binaries() -> Path | None:
    """The folder of initdb and pg_ctl: PATH first, then Debian's versioned folders."""
    on_path = shutil.which("pg_ctl")
    if on_path and shutil.which("initdb"):
        return Path(on_path).parent
    found = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(p.split("/")[4])
    )
    return Path(found[-1]).parent if found else None


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _run(command: list[str]) -> None:
    """Run a server binary, as `nobody` when this process is root."""
    if os.geteuid() == 0:
        command = ["runuser", "-u", UNPRIVILEGED, "--", *command]
    subprocess.run(command, check=True, capture_output=True, text=True)


@contextmanager
def cluster() -> Iterator[str]:
    """Start a cluster; yields a URL (database `postgres`) for SQLAlchemy with psycopg 3."""
    folder = binaries()
    if folder is None:
        raise FileNotFoundError("PostgreSQL's initdb and pg_ctl (Debian package 'postgresql')")
    home = Path(tempfile.mkdtemp(prefix="robustar-pg-"))
    if os.geteuid() == 0:
        shutil.chown(home, UNPRIVILEGED)
    data, port = home / "data", _free_port()
    options = " ".join(f"-c {setting}" for setting in FAST)
    try:
        _run(
            [str(folder / "initdb"), "-D", str(data), "-U", USER, "-A", "trust", "-E", "UTF8", "-N"]
        )
        _run(
            [
                str(folder / "pg_ctl"),
                "start",
                "-w",
                "-D",
                str(data),
                "-l",
                str(home / "log"),
                "-o",
                f"-p {port} -k {home} -h 127.0.0.1 {options}",
            ]
        )
        try:
            yield f"postgresql+psycopg://{USER}@127.0.0.1:{port}/postgres"
        finally:
            _run([str(folder / "pg_ctl"), "stop", "-D", str(data), "-m", "immediate"])
    finally:
        shutil.rmtree(home, ignore_errors=True)


def _admin(server: str) -> psycopg.Connection:
    url = server.replace("postgresql+psycopg://", "postgresql://")
    return psycopg.connect(url, autocommit=True)


def create_database(server: str, name: str) -> str:
    """A new empty database on the cluster; its URL."""
    with _admin(server) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    return server.rpartition("/")[0] + f"/{name}"


def drop_database(server: str, name: str) -> None:
    """Drop a database even while processes the test started still hold connections."""
    with _admin(server) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
