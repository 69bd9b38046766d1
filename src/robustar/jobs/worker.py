"""Running queued jobs: claim a row, run its handler, finish it while still holding it.

The worker process around this loop is `jobs/process.py`. How work is handed out is the row
protocol of `jobs/store.py`: claim (one conditional UPDATE), heartbeat, finish only while
holding the row. `work` claims rows and gives each to an `Executor`; the local one runs it here
with `run_job`. An executor that runs jobs on other machines (Ray) would call `run_job` there,
whose heartbeat keeps the row alive.
"""

from __future__ import annotations

import threading
import traceback
from typing import Any, Protocol

from robustar.errors import RobustarError
from robustar.jobs.context import Heartbeat, JobCancelled, JobContext, JobInterrupted
from robustar.jobs.handlers import JobHost, get_handler
from robustar.jobs.store import (
    WorkerId,
    append_log,
    claim_next,
    finish,
    get_job,
    mark_interrupted,
    this_worker,
)

POLL_SECONDS = 0.5


class Executor(Protocol):
    """Where a claimed job runs: `run` returns its final status once it has ended."""

    def run(self, job_id: int, worker: WorkerId) -> str: ...


class LocalExecutor:
    """Runs each job in this process; `stop` makes the running job stop at its next step."""

    def __init__(self, workspace: JobHost, stop: threading.Event) -> None:
        self.workspace, self.stop = workspace, stop

    def run(self, job_id: int, worker: WorkerId) -> str:
        return run_job(self.workspace, job_id, self.stop, worker)


def run_job(
    workspace: JobHost,
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
            status, error = "failed", failure.text()
        except Exception:
            status, error = "failed", traceback.format_exc(limit=8)
        except BaseException:  # KeyboardInterrupt, SystemExit: leave it resumable, then go
            _finish(workspace, job_id, worker, "interrupted", None, None)
            raise
    return _finish(workspace, job_id, worker, status, result, error)


def _finish(
    workspace: JobHost,
    job_id: int,
    worker: WorkerId,
    status: str,
    result: dict[str, Any] | None,
    error: str | None,
) -> str:
    with workspace.session() as session:
        held = finish(session, job_id, worker, status, result, error)
    return status if held else "interrupted"


def run_next(workspace: JobHost, executor: Executor | None = None) -> int | None:
    """Claim and run the oldest queued job; None when the queue is empty."""
    worker = this_worker()
    with workspace.session() as session:
        row = claim_next(session, worker)
        job_id = None if row is None else row.id
    if job_id is not None:
        (executor or LocalExecutor(workspace, threading.Event())).run(job_id, worker)
    return job_id


def work(workspace: JobHost, executor: Executor, stop: threading.Event) -> None:
    """Until `stop`: interrupt the jobs of dead workers, then run the next queued job."""
    while not stop.is_set():
        with workspace.session() as session:
            mark_interrupted(session)
        if run_next(workspace, executor) is None:
            stop.wait(POLL_SECONDS)
