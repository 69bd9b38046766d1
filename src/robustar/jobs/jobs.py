"""`Workspace.jobs`: submit, list, cancel and resume jobs (the worker runs them)."""

from __future__ import annotations

from typing import Any

from robustar.annotations.proposals import parse_request
from robustar.jobs import store
from robustar.jobs.handlers import JobHost, get_handler
from robustar.jobs.worker import run_next
from robustar.train.options import TrainOptions
from robustar.train.search import SearchOptions


class Jobs:
    def __init__(self, host: JobHost) -> None:
        self._host = host

    def submit(self, kind: str, params: dict[str, Any] | None = None) -> store.JobInfo:
        get_handler(kind)
        with self._host.session() as session:
            return store.to_info(store.submit(session, kind, params or {}))

    def train(self, options: TrainOptions, predict: bool = True) -> store.JobInfo:
        """Queue a training run; `robustar serve` (or `robustar worker`) runs it."""
        params = {"options": options.model_dump(exclude_none=True), "predict": predict}
        return self.submit("train", params)

    def repair_search(self, options: SearchOptions) -> store.JobInfo:
        """Queue a repair search: candidates trained and measured one after another."""
        return self.submit("repair_search", {"options": options.model_dump(exclude_none=True)})

    def auto_annotate(self, **params: object) -> store.JobInfo:
        """Queue batch auto-annotation (method colour, grabcut or segment) over a filtered
        set; its proposals wait for review."""
        return self.submit("auto_annotate", parse_request(params).model_dump())

    def list(self, limit: int = 50) -> list[store.JobInfo]:
        """The newest jobs; a running job whose worker is gone shows as interrupted even when
        no worker is left to notice (`serve --no-worker`)."""
        with self._host.session() as session:
            store.mark_interrupted(session)
        with self._host.session() as session:
            return store.list_jobs(session, limit)

    def get(self, job_id: int) -> store.JobInfo:
        with self._host.session() as session:
            return store.to_info(store.get_job(session, job_id))

    def cancel(self, job_id: int) -> store.JobInfo:
        """A queued job is cancelled at once; a running one stops at its next progress step."""
        with self._host.session() as session:
            return store.to_info(store.request_cancel(session, job_id))

    def resume(self, job_id: int) -> store.JobInfo:
        """Queue an interrupted, failed or cancelled job again; training continues from its
        last finished epoch."""
        with self._host.session() as session:
            return store.to_info(store.resume(session, job_id))

    def run_next(self) -> int | None:
        """Run the oldest queued job here, in this process (scripts and tests)."""
        return run_next(self._host)
