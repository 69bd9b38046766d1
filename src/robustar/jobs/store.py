"""Job rows: submit, claim, heartbeat, log, finish, cancel, interrupt, resume.

The row is the protocol between whoever queues work and whoever runs it. A worker claims a
queued row with one conditional UPDATE (so two workers never both get it), writes its
heartbeat while the job runs, and finishes the row only while it still holds it. A running
row whose process is gone (same host) or whose heartbeat is stale (any host) is interrupted.
"""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, cast

from sqlalchemy import CursorResult, Update, select, update
from sqlalchemy.orm import Session

from robustar.accounts import actor
from robustar.db.tables import Job, utcnow
from robustar.errors import DataError, NotFoundError

ACTIVE = ("queued", "running")
LOG_LIMIT = 200_000  # characters kept per job; older lines are dropped
HEARTBEAT_SECONDS = 1.0  # how often a running job's worker writes its heartbeat
# A running row without a heartbeat for this long is interrupted. Generous against a busy
# database (SQLite waits up to 10 s for a write lock); a dead local process is seen at once.
STALE_SECONDS = 15.0


@dataclass(frozen=True)
class WorkerId:
    """The process that runs a job: the claim, heartbeats and the final write carry it."""

    host: str
    pid: int


def this_worker() -> WorkerId:
    return WorkerId(socket.gethostname(), os.getpid())


@dataclass(frozen=True)
class JobInfo:
    id: int
    kind: str
    params: dict[str, Any]
    status: str
    stage: str
    done: int
    total: int
    log: str
    result: dict[str, Any]
    error: str | None
    cancel_requested: bool
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    created_by: str | None = None  # who queued it (None: before team accounts existed)


def to_info(row: Job) -> JobInfo:
    return JobInfo(
        row.id,
        row.kind,
        dict(row.params),
        row.status,
        row.stage,
        row.done,
        row.total,
        row.log,
        dict(row.result),
        row.error,
        row.cancel_requested,
        row.created_at,
        row.started_at,
        row.finished_at,
        row.created_by,
    )


def get_job(session: Session, job_id: int) -> Job:
    row = session.get(Job, job_id)
    if row is None:
        raise NotFoundError(
            f"job {job_id} does not exist",
            "list jobs with 'robustar jobs list'",
            "list jobs with ws.jobs.list()",
        )
    return row


def submit(session: Session, kind: str, params: dict[str, Any]) -> Job:
    row = Job(
        kind=kind,
        params=params,
        status="queued",
        log="",
        result={},
        created_by=actor.current().name,
    )
    session.add(row)
    session.flush()
    return row


def _changed(session: Session, statement: Update) -> int:
    """How many rows a conditional UPDATE changed: 1 means this caller won the row."""
    result = cast(CursorResult[Any], session.execute(statement))
    return result.rowcount


def _held_by(worker: WorkerId) -> Any:
    return (
        (Job.status == "running")
        & (Job.worker_host == worker.host)
        & (Job.worker_pid == worker.pid)
    )


def claim(session: Session, job_id: int, worker: WorkerId) -> bool:
    """queued → running for this worker, atomically (SQLite and PostgreSQL): of two workers
    racing for the row, the UPDATE of exactly one matches."""
    now = utcnow()
    claimed = _changed(
        session,
        update(Job)
        .where(Job.id == job_id, Job.status == "queued")
        .values(
            status="running",
            worker_host=worker.host,
            worker_pid=worker.pid,
            started_at=now,
            heartbeat_at=now,
            error=None,
        ),
    )
    return claimed == 1


def claim_next(session: Session, worker: WorkerId | None = None) -> Job | None:
    """Take the oldest queued job (one device: jobs run in order, one at a time)."""
    worker = worker or this_worker()
    queued = select(Job.id).where(Job.status == "queued").order_by(Job.id).limit(16)
    for job_id in session.scalars(queued).all():
        if claim(session, job_id, worker):
            return get_job(session, job_id)
    return None


def beat(session: Session, job_id: int, worker: WorkerId) -> bool:
    """Write the heartbeat; False when the row is no longer this worker's (it was
    interrupted, and maybe resumed and claimed by another): the job must stop."""
    statement = update(Job).where(Job.id == job_id, _held_by(worker))
    return _changed(session, statement.values(heartbeat_at=utcnow())) == 1


def finish(
    session: Session,
    job_id: int,
    worker: WorkerId,
    status: str,
    result: dict[str, Any] | None,
    error: str | None,
) -> bool:
    """Write the outcome, only while this worker still holds the row; False otherwise.
    A None result keeps what the job reported so far (e.g. the curves of a stopped run)."""
    values: dict[str, Any] = {"status": status, "error": error, "finished_at": utcnow()}
    if result is not None:
        values["result"] = result
    if _changed(session, update(Job).where(Job.id == job_id, _held_by(worker)).values(values)) != 1:
        return False
    summary = status if error is None else f"{status}: {error.splitlines()[-1]}"
    append_log(get_job(session, job_id), summary)
    return True


def append_log(row: Job, line: str) -> None:
    text = f"{row.log}{utcnow():%H:%M:%S} {line}\n"
    row.log = text[-LOG_LIMIT:]


def request_cancel(session: Session, job_id: int) -> Job:
    row = get_job(session, job_id)
    if row.status == "queued":
        row.status, row.finished_at = "cancelled", utcnow()
        append_log(row, "cancelled before it started")
    elif row.status == "running":
        row.cancel_requested = True
    else:
        raise DataError(
            f"job {job_id} is {row.status}; only queued or running jobs can be cancelled"
        )
    return row


def resume(session: Session, job_id: int) -> Job:
    row = get_job(session, job_id)
    if row.status not in ("interrupted", "failed", "cancelled"):
        raise DataError(
            f"job {job_id} is {row.status}",
            "only interrupted, failed or cancelled jobs can be resumed",
        )
    row.status, row.cancel_requested, row.error, row.finished_at = "queued", False, None, None
    append_log(row, "queued again to resume")
    return row


def _alive(pid: int | None) -> bool:
    if not pid:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _aware(moment: datetime | None) -> datetime | None:
    """SQLite hands back naive datetimes; every stored time is UTC."""
    return moment if moment is None or moment.tzinfo else moment.replace(tzinfo=UTC)


def _gone(row: Job, me: WorkerId, stale_after: float) -> str | None:
    """Why a running row's worker is gone, or None while it may be alive."""
    if row.worker_host in (None, me.host):  # no host: a row from before heartbeats, local
        if row.worker_pid == me.pid:
            return None
        if not _alive(row.worker_pid):
            return "the worker process stopped"
    heartbeat = _aware(row.heartbeat_at)
    if heartbeat is None or heartbeat < utcnow() - timedelta(seconds=stale_after):
        return f"no heartbeat from the worker for {stale_after:g} s"
    return None


def mark_interrupted(session: Session, stale_after: float = STALE_SECONDS) -> list[int]:
    """Running jobs whose worker is gone (a restart, a crash, a kill, a lost machine) become
    interrupted, resumable; returns their ids."""
    me, ids = this_worker(), []
    for row in session.scalars(select(Job).where(Job.status == "running")).all():
        reason = _gone(row, me, stale_after)
        if reason is None:
            continue
        still = (Job.id == row.id) & (Job.status == "running") & (Job.worker_pid == row.worker_pid)
        interrupt = update(Job).where(still).values(status="interrupted", finished_at=utcnow())
        if _changed(session, interrupt) == 1:
            session.refresh(row)
            append_log(row, f"interrupted: {reason}; resume to continue")
            ids.append(row.id)
    return ids


def list_jobs(session: Session, limit: int = 50) -> list[JobInfo]:
    rows = session.scalars(select(Job).order_by(Job.id.desc()).limit(limit))
    return [to_info(r) for r in rows]
