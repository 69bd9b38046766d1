"""The local worker process: runs queued jobs one at a time until it is told to stop.

`robustar serve` starts one and supervises it (`jobs/supervisor.py`); `robustar worker DIR`
runs one alone. One worker per workspace folder (one device, jobs in order): it holds
`worker.lock` (`jobs/lock.py`) while it runs, and a second one refuses to start. SIGTERM,
SIGINT, or the death of the process that started it stops it: the running job stops at its
next progress step and is left interrupted, to be resumed. The loop itself is
`jobs/worker.py`; this module opens the workspace around it, so it sits above `Workspace`.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
from pathlib import Path
from types import FrameType

from robustar.errors import RobustarError
from robustar.jobs.lock import worker_lock
from robustar.jobs.worker import POLL_SECONDS, LocalExecutor, work
from robustar.workspace import Workspace

RESTART_LOCK_WAIT = 10.0


def _stop_on_signals(stop: threading.Event) -> None:
    """SIGTERM and SIGINT stop the worker after the running job's current step; a second
    SIGINT (Ctrl+C again) stops it at once, still leaving the job interrupted."""

    def handle(signum: int, _frame: FrameType | None) -> None:
        if signum == signal.SIGINT and stop.is_set():
            raise KeyboardInterrupt
        stop.set()

    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, handle)


def _follow_parent(parent: int, stop: threading.Event) -> None:
    """Stop when the process that started this worker is gone, however it ended (a POSIX
    orphan is handed to another parent, so the parent id changes)."""

    def watch() -> None:
        while os.getppid() == parent:
            if stop.wait(POLL_SECONDS):
                return
        stop.set()

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


def serve_forever(root: Path, parent: int | None = None) -> None:
    """Run queued jobs until a signal (or, with `parent`, until that process is gone)."""
    workspace = Workspace.open(root)
    try:
        # A restarted worker waits a little: processes its dead predecessor forked (data
        # loaders) may hold the lock for a moment longer.
        with worker_lock(workspace.root, wait=0.0 if parent is None else RESTART_LOCK_WAIT):
            stop = threading.Event()
            if threading.current_thread() is threading.main_thread():
                _stop_on_signals(stop)
            if parent is not None:
                _follow_parent(parent, stop)
            work(workspace, LocalExecutor(workspace, stop), stop)
    finally:
        workspace.close()


def main(argv: list[str]) -> int:
    """`python -m robustar.jobs.process DIR [PARENT_PID]`; what `robustar serve` starts."""
    try:
        serve_forever(Path(argv[0]), int(argv[1]) if len(argv) > 1 else None)
    except RobustarError as error:
        print(f"error: {error.what}", file=sys.stderr)
        if error.fix:
            print(f"  fix: {error.fix}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
