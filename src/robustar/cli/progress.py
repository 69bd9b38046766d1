"""Rich progress bars for the CLI, fed by the library's progress callbacks."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from robustar.progress import ProgressCallback


@contextmanager
def progress_bars(console: Console, enabled: bool = True) -> Iterator[ProgressCallback]:
    """Yield a callback drawing one bar per stage; a no-op callback when disabled."""
    if not enabled:
        yield None
        return
    bars = Progress(
        TextColumn("{task.description:<22}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=console,
        transient=False,
    )
    tasks: dict[str, TaskID] = {}

    def update(stage: str, done: int, total: int) -> None:
        key = stage.split(" epoch ")[0]  # one bar for all epochs of a training run
        if key not in tasks:
            tasks[key] = bars.add_task(stage, total=total)
        bars.update(tasks[key], completed=done, total=total, description=stage)

    with bars:
        yield update


def announce_steps(
    progress: ProgressCallback, console: Console, steps: dict[str, str]
) -> ProgressCallback:
    """`progress` that first prints "step i/n: what" when a stage starting with one of
    `steps`' keys begins: a long command says where it is, not only how far."""
    if progress is None:
        return None
    shown: set[str] = set()

    def update(stage: str, done: int, total: int) -> None:
        for i, (prefix, what) in enumerate(steps.items(), 1):
            if stage.startswith(prefix) and prefix not in shown:
                shown.add(prefix)
                console.print(f"[bold]step {i}/{len(steps)}[/]: {what}")
        progress(stage, done, total)

    return update
