"""Progress reporting shared by the CLI (progress bars), jobs and the Python API."""

from __future__ import annotations

from collections.abc import Callable

# Called as progress(stage, done, total); None means nobody is listening.
ProgressCallback = Callable[[str, int, int], None] | None


def report(progress: ProgressCallback, stage: str, done: int, total: int) -> None:
    if progress is not None:
        progress(stage, done, total)
