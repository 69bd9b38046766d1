"""Atomic file writes: a crash or a concurrent reader sees the old file or the new one, never
half of one. Every module that replaces a file goes through here."""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def atomic_path(path: Path, durable: bool = False) -> Iterator[Path]:
    """A temporary sibling of `path` to write to; it replaces `path` when the block succeeds
    and is removed when it fails. `durable`: the file and the rename reach the disk before
    this returns (for a file a database row is about to point at)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    try:
        yield tmp
        if durable:
            _sync(tmp, os.O_RDONLY)
        os.replace(tmp, path)
        if durable and os.name == "posix":  # Windows cannot open folders
            _sync(path.parent, os.O_RDONLY)
    finally:
        tmp.unlink(missing_ok=True)


def _sync(path: Path, flags: int) -> None:
    descriptor = os.open(path, flags)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def atomic_write(path: Path, write: Callable[[Path], object], durable: bool = False) -> None:
    """Call `write(tmp)` and move the result into place."""
    with atomic_path(path, durable) as tmp:
        write(tmp)


def atomic_bytes(path: Path, data: bytes, durable: bool = False) -> None:
    with atomic_path(path, durable) as tmp:
        tmp.write_bytes(data)
