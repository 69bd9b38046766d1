"""What a running job's code sees: progress, log, and the cancel check."""

from __future__ import annotations

import time
from collections.abc import Callable
from contextlib import AbstractContextManager

from sqlalchemy.orm import Session

from robustar.jobs.store import append_log, get_job

WRITE_EVERY = 0.5  # seconds between progress writes to the database


class JobCancelled(Exception):
    """Raised inside a job when a cancel was requested; the worker marks it cancelled."""


class JobContext:
    def __init__(self, job_id: int, sessions: Callable[[], AbstractContextManager[Session]]):
        self.job_id = job_id
        self._sessions = sessions
        self._last_write = 0.0

    def progress(self, stage: str, done: int, total: int) -> None:
        """The library's progress callback: throttled writes, and the place cancels land
        (checked on every call, a cheap read, so a cancel stops the job at the next step)."""
        now = time.monotonic()
        if now - self._last_write >= WRITE_EVERY or done >= total:
            self._last_write = now
            with self._sessions() as session:
                row = get_job(session, self.job_id)
                row.stage, row.done, row.total = stage, done, total
        self.check_cancelled()

    def update_result(self, **values: object) -> None:
        """Partial results while running (e.g. the curves so far), visible to the page."""
        with self._sessions() as session:
            row = get_job(session, self.job_id)
            row.result = {**row.result, **values}

    def log(self, line: str) -> None:
        with self._sessions() as session:
            append_log(get_job(session, self.job_id), line)

    def check_cancelled(self) -> None:
        with self._sessions() as session:
            if get_job(session, self.job_id).cancel_requested:
                raise JobCancelled(f"job {self.job_id} was cancelled")
