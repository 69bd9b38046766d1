"""What a running job's code sees: progress, log, the cancel and stop checks, and the
heartbeat that tells everyone else its worker is alive."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from types import TracebackType

from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from robustar.jobs.store import HEARTBEAT_SECONDS, WorkerId, append_log, beat, get_job

WRITE_EVERY = 0.5  # seconds between progress writes to the database

Sessions = Callable[[], AbstractContextManager[Session]]


class JobCancelled(Exception):
    """Raised inside a job when a cancel was requested; the worker marks it cancelled."""


class JobInterrupted(Exception):
    """Raised inside a job when its worker stops (a signal, its parent gone) or has lost the
    row; the job is left interrupted, to be resumed."""


class JobContext:
    def __init__(
        self, job_id: int, sessions: Sessions, stopping: Callable[[], str | None] | None = None
    ) -> None:
        """`stopping` says why the worker is stopping, or None while it is not."""
        self.job_id = job_id
        self._sessions = sessions
        self._stopping = stopping or (lambda: None)
        self._last_write = 0.0

    def progress(self, stage: str, done: int, total: int) -> None:
        """The library's progress callback: throttled writes, and the place cancels and stops
        land (checked on every call, a cheap read, so the job stops at the next step)."""
        self._check_stopping()  # first: a worker that lost the row must not write to it
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

    def result(self) -> dict[str, object]:
        """The partial result so far: what an earlier attempt of a resumed job recorded."""
        with self._sessions() as session:
            return dict(get_job(session, self.job_id).result or {})

    def log(self, line: str) -> None:
        with self._sessions() as session:
            append_log(get_job(session, self.job_id), line)

    def _check_stopping(self) -> None:
        reason = self._stopping()
        if reason is not None:
            raise JobInterrupted(reason)

    def check_cancelled(self) -> None:
        self._check_stopping()
        with self._sessions() as session:
            if get_job(session, self.job_id).cancel_requested:
                raise JobCancelled(f"job {self.job_id} was cancelled")


class Heartbeat:
    """A thread that writes the job's heartbeat every HEARTBEAT_SECONDS while the job runs.

    `lost` turns True when the row stopped being this worker's (another process found the
    worker dead and interrupted it); the job then stops instead of writing over the row.
    """

    def __init__(
        self, job_id: int, worker: WorkerId, sessions: Sessions, every: float = HEARTBEAT_SECONDS
    ) -> None:
        self.job_id, self.worker, self.lost = job_id, worker, False
        self._sessions, self._every = sessions, every
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"heartbeat-{job_id}", daemon=True)

    def _run(self) -> None:
        while not self._done.wait(self._every):
            try:
                with self._sessions() as session:
                    held = beat(session, self.job_id, self.worker)
            except OperationalError:  # the database is busy: try again next time
                continue
            if not held:
                self.lost = True
                return

    def __enter__(self) -> Heartbeat:
        self._thread.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._done.set()
        self._thread.join()
