"""The local worker: a separate process that runs queued jobs one at a time.

`robustar serve` starts one and supervises it (`jobs/supervisor.py`); `robustar worker DIR`
runs one alone. One worker per workspace folder (one device, jobs in order): it holds
`worker.lock` (`jobs/lock.py`) while it runs, and a second one refuses to start. SIGTERM,
SIGINT, or the death of the process that started it stops it: the running job stops at its
next progress step and is left interrupted, to be resumed.

How work is handed out is the row protocol of `jobs/store.py`: claim (one conditional
UPDATE), heartbeat, finish only while holding the row. `work` claims rows and gives each to
an `Executor`; the local one runs it here with `run_job`. An executor that runs jobs on other
machines (Ray) would call `run_job` there, whose heartbeat keeps the row alive.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
import traceback
from pathlib import Path
from types import FrameType
from typing import Any, Protocol

from robustar.errors import RobustarError
from robustar.jobs.context import Heartbeat, JobCancelled, JobContext, JobInterrupted
from robustar.jobs.handlers import get_handler
from robustar.jobs.lock import worker_lock
from robustar.jobs.store import (
    WorkerId,
    append_log,
    claim_next,
    finish,
    get_job,
    mark_interrupted,
    this_worker,
)
from robustar.workspace import Workspace

POLL_SECONDS = 0.5
RESTART_LOCK_WAIT = 10.0


class Executor(Protocol):
    """Where a claimed job runs: `run` returns its final status once it has ended."""

    def run(self, job_id: int, worker: WorkerId) -> str: ...


class LocalExecutor:
    """Runs each job in this process; `stop` makes the running job stop at its next step."""

    def __init__(self, workspace: Workspace, stop: threading.Event) -> None:
        self.workspace, self.stop = workspace, stop

    def run(self, job_id: int, worker: WorkerId) -> str:
        return run_job(self.workspace, job_id, self.stop, worker)


def run_job(
    workspace: Workspace,
    job_id: int,
    stop: threading.Event | None = None,
    worker: WorkerId | None = None,
) -> str:
    """Run one claimed job to its end; return its final status."""
    worker = worker or this_worker()
    with workspace.session() as session:
        row = get_job(session, job_id)
        kind, params = row.kind, dict(row.params)
        append_log(row, f"started ({kind}) in process {worker.pid} on {worker.host}")
    with Heartbeat(job_id, worker, workspace.session) as heartbeat:

        def stopping() -> str | None:
            if heartbeat.lost:
                return "the job was taken from this worker, which had been taken for dead"
            return "the worker is stopping" if stop is not None and stop.is_set() else None

        context = JobContext(job_id, workspace.session, stopping)
        status, result, error = "succeeded", None, None
        try:
            result = get_handler(kind)(workspace, params, context)
        except JobCancelled:
            status = "cancelled"
        except JobInterrupted as why:
            status = "interrupted"
            if not heartbeat.lost:
                context.log(f"interrupted: {why}; resume to continue")
        except RobustarError as failure:
            status, error = "failed", str(failure)
        except Exception:
            status, error = "failed", traceback.format_exc(limit=8)
        except BaseException:  # KeyboardInterrupt, SystemExit: leave it resumable, then go
            _finish(workspace, job_id, worker, "interrupted", None, None)
            raise
    return _finish(workspace, job_id, worker, status, result, error)


def _finish(
    workspace: Workspace,
    job_id: int,
    worker: WorkerId,
    status: str,
    result: dict[str, Any] | None,
    error: str | None,
) -> str:
    with workspace.session() as session:
        held = finish(session, job_id, worker, status, result, error)
    return status if held else "interrupted"


def run_next(workspace: Workspace, executor: Executor | None = None) -> int | None:
    """Claim and run the oldest queued job; None when the queue is empty."""
    worker = this_worker()
    with workspace.session() as session:
        row = claim_next(session, worker)
        job_id = None if row is None else row.id
    if job_id is not None:
        (executor or LocalExecutor(workspace, threading.Event())).run(job_id, worker)
    return job_id


def work(workspace: Workspace, executor: Executor, stop: threading.Event) -> None:
    """Until `stop`: interrupt the jobs of dead workers, then run the next queued job."""
    while not stop.is_set():
        with workspace.session() as session:
            mark_interrupted(session)
        if run_next(workspace, executor) is None:
            stop.wait(POLL_SECONDS)


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
    """`python -m robustar.jobs.worker DIR [PARENT_PID]`; what `robustar serve` starts."""
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
