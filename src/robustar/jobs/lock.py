"""One worker per workspace folder: the lock file it holds while it runs."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from filelock import FileLock, Timeout

from robustar.errors import RobustarError

LOCK_FILE = "worker.lock"


@contextmanager
def worker_lock(root: Path, wait: float = 0.0) -> Iterator[None]:
    """Hold the workspace's worker lock; the operating system frees it when the process ends,
    however it ends. A clear error when another worker still holds it after `wait` seconds."""
    path = root / LOCK_FILE
    lock = FileLock(path, timeout=wait)
    try:
        lock.acquire()
    except Timeout:
        holder = path.read_text().strip() if path.is_file() else ""
        raise RobustarError(
            f"another worker{f' (process {holder})' if holder else ''} already runs the jobs "
            f"of {root}",
            "let that one run the queue (start the server with 'robustar serve --no-worker'), "
            "or stop it first",
            "let that one run the queue, or stop it first",
        ) from None
    try:
        path.write_text(f"{os.getpid()}\n")
        yield
    finally:
        lock.release()


def check_free(root: Path) -> None:
    """The same clear error now, before starting a worker that would only refuse."""
    with worker_lock(root):
        pass
