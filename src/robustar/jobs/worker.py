"""The local worker: a separate process that runs queued jobs one at a time.

`robustar serve` starts one; `robustar worker DIR` runs one alone. At start it marks jobs whose
worker died as interrupted. The job layer is small on purpose: an executor that hands jobs to
Ray would claim rows the same way and call `run_job`.
"""

from __future__ import annotations

import sys
import time
import traceback
from pathlib import Path

from robustar.db.tables import utcnow
from robustar.errors import RobustarError
from robustar.jobs.context import JobCancelled, JobContext
from robustar.jobs.handlers import JobHost, get_handler
from robustar.jobs.store import append_log, claim_next, get_job, mark_interrupted

POLL_SECONDS = 0.5


def run_job(workspace: JobHost, job_id: int) -> str:
    """Run one claimed job to its end; return its final status."""
    with workspace.session() as session:
        row = get_job(session, job_id)
        kind, params = row.kind, dict(row.params)
        append_log(row, f"started ({kind})")
    context = JobContext(job_id, workspace.session)
    status, result, error = "succeeded", {}, None
    try:
        result = get_handler(kind)(workspace, params, context)
    except JobCancelled:
        status = "cancelled"
    except RobustarError as failure:
        status, error = "failed", str(failure)
    except Exception:
        status, error = "failed", traceback.format_exc(limit=8)
    with workspace.session() as session:
        row = get_job(session, job_id)
        row.status, row.result, row.error, row.finished_at = status, result, error, utcnow()
        append_log(row, status if error is None else f"{status}: {error.splitlines()[-1]}")
    return status


def run_next(workspace: JobHost) -> int | None:
    """Claim and run the oldest queued job; None when the queue is empty."""
    with workspace.session() as session:
        row = claim_next(session)
        job_id = None if row is None else row.id
    if job_id is not None:
        run_job(workspace, job_id)
    return job_id


def serve_forever(root: Path) -> None:
    from robustar.workspace import Workspace

    workspace = Workspace.open(root)
    with workspace.session() as session:
        mark_interrupted(session)
    while True:
        if run_next(workspace) is None:
            time.sleep(POLL_SECONDS)


if __name__ == "__main__":
    serve_forever(Path(sys.argv[1]))
