"""Job rows: submit, claim, progress, log, finish, cancel, interrupt, resume."""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from robustar.db.tables import Job, utcnow
from robustar.errors import DataError, NotFoundError

ACTIVE = ("queued", "running")
LOG_LIMIT = 200_000  # characters kept per job; older lines are dropped


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
    )


def get_job(session: Session, job_id: int) -> Job:
    row = session.get(Job, job_id)
    if row is None:
        raise NotFoundError(f"job {job_id} does not exist", "list jobs with 'robustar jobs list'")
    return row


def submit(session: Session, kind: str, params: dict[str, Any]) -> Job:
    row = Job(kind=kind, params=params, status="queued", log="", result={})
    session.add(row)
    session.flush()
    return row


def claim_next(session: Session) -> Job | None:
    """Take the oldest queued job (one device: jobs run in order, one at a time)."""
    row = session.scalars(
        select(Job).where(Job.status == "queued").order_by(Job.id).limit(1)
    ).first()
    if row is None:
        return None
    claimed = session.execute(
        update(Job)
        .where(Job.id == row.id, Job.status == "queued")
        .values(status="running", worker_pid=os.getpid(), started_at=utcnow(), error=None)
    )
    return row if claimed.rowcount == 1 else None


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


def mark_interrupted(session: Session) -> list[int]:
    """Running jobs whose worker is gone (a restart, a crash, a kill) become interrupted."""
    ids = []
    for row in session.scalars(select(Job).where(Job.status == "running")):
        if row.worker_pid != os.getpid() and not _alive(row.worker_pid):
            row.status, row.finished_at = "interrupted", utcnow()
            append_log(row, "interrupted: the worker stopped; resume to continue")
            ids.append(row.id)
    return ids


def list_jobs(session: Session, limit: int = 50) -> list[JobInfo]:
    rows = session.scalars(select(Job).order_by(Job.id.desc()).limit(limit))
    return [to_info(r) for r in rows]
