"""The worker is supervised: a dead worker's job becomes interrupted and the queue goes on,
`serve` stops its worker on SIGTERM, and two workers never run the same job."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import TypeVar

import httpx
import pytest

from robustar import TrainOptions, Workspace
from robustar.db.session import make_engine, session_factory
from robustar.db.tables import Job, utcnow
from robustar.errors import RobustarError
from robustar.jobs import context
from robustar.jobs.lock import worker_lock
from robustar.jobs.store import (
    WorkerId,
    beat,
    claim_next,
    finish,
    get_job,
    mark_interrupted,
    this_worker,
)

# the database-facing tests here run on SQLite and on PostgreSQL (tests/conftest.py)
on_both = pytest.mark.usefixtures("database_url")

LONG = TrainOptions(architecture="tiny_cnn", epochs=10_000, batch_size=8, seed=1)
T = TypeVar("T")


def wait_for(check: Callable[[], T | None], timeout: float, what: str) -> T:
    deadline = time.monotonic() + timeout
    while not (value := check()):
        assert time.monotonic() < deadline, f"waited {timeout} s for {what}"
        time.sleep(0.1)
    return value


def job_row(ws: Workspace, job_id: int) -> Job:
    with ws.session() as session:
        return get_job(session, job_id)


def training(ws: Workspace, job_id: int) -> int | None:
    """The pid of the worker once the job runs and has made progress (so it really runs)."""
    row = job_row(ws, job_id)
    return row.worker_pid if row.status == "running" and row.done > 0 else None


def gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


def job_id_of(row: Job | None) -> int | None:
    return None if row is None else row.id


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_serve_replaces_a_killed_worker_and_stops_it_on_sigterm(
    workspace: Workspace, tmp_path: Path
) -> None:
    first, second = (workspace.jobs.train(LONG, predict=False) for _ in range(2))
    port, log = free_port(), (tmp_path / "serve.log").open("w+")
    command = "import sys; from robustar.cli import main; sys.argv[0] = 'robustar'; main()"
    serve = subprocess.Popen(
        [sys.executable, "-c", command, "serve", str(workspace.root), "--port", str(port)],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        killed = wait_for(lambda: training(workspace, first.id), 60, "the first job")
        os.kill(killed, signal.SIGKILL)
        was_killed = time.monotonic()
        wait_for(lambda: job_row(workspace, first.id).status == "interrupted", 5, "interrupted")
        print(f"interrupted {time.monotonic() - was_killed:.2f} s after the kill")
        assert "interrupted: the worker process stopped" in job_row(workspace, first.id).log
        # the queue goes on: a new worker runs the next job
        worker = wait_for(lambda: training(workspace, second.id), 60, "the next job")
        assert worker != killed
        assert httpx.get(f"http://127.0.0.1:{port}/api/v1/jobs").status_code == 200
        serve.send_signal(signal.SIGTERM)
        assert serve.wait(timeout=30) == 128 + signal.SIGTERM
    finally:
        serve.kill()
        serve.wait()
        log.seek(0)
        print(log.read())  # shown when the test fails
    wait_for(lambda: gone(worker), 5, "the worker to end with the server")
    stopped = workspace.jobs.get(second.id)
    assert stopped.status == "interrupted" and "the worker is stopping" in stopped.log
    assert [j.id for j in workspace.jobs.list() if j.status == "running"] == []


def test_a_worker_whose_parent_dies_stops_and_leaves_its_job_interrupted(
    workspace: Workspace,
) -> None:
    job = workspace.jobs.train(LONG, predict=False)
    parent = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import os, subprocess, sys, time; subprocess.Popen([sys.executable, '-m', "
            f"'robustar.jobs.process', {str(workspace.root)!r}, str(os.getpid())]); "
            "time.sleep(300)",
        ]
    )
    try:
        worker = wait_for(lambda: training(workspace, job.id), 60, "the job")
        os.kill(parent.pid, signal.SIGKILL)
        parent.wait()
        wait_for(lambda: workspace.jobs.get(job.id).status == "interrupted", 5, "interrupted")
    finally:
        parent.kill()
        parent.wait()
    wait_for(lambda: gone(worker), 10, "the orphaned worker to end")
    assert "the worker is stopping" in workspace.jobs.get(job.id).log


@on_both
def test_a_stale_heartbeat_interrupts_a_job_of_another_machine(workspace: Workspace) -> None:
    job = workspace.jobs.submit("predict", {})
    elsewhere = WorkerId("another-host", os.getpid() + 1)
    with workspace.session() as session:
        assert job_id_of(claim_next(session, elsewhere)) == job.id
    with workspace.session() as session:
        assert mark_interrupted(session) == []  # its heartbeat is fresh
        assert beat(session, job.id, elsewhere)
        get_job(session, job.id).heartbeat_at = utcnow() - timedelta(seconds=60)
    with workspace.session() as session:
        assert mark_interrupted(session) == [job.id]
    assert "no heartbeat from the worker" in workspace.jobs.get(job.id).log
    # the worker that lost the row can neither keep it alive nor write its outcome
    workspace.jobs.resume(job.id)
    with workspace.session() as session:
        assert job_id_of(claim_next(session)) == job.id
        assert not beat(session, job.id, elsewhere)
        assert not finish(session, job.id, elsewhere, "succeeded", {}, None)
        assert finish(session, job.id, this_worker(), "cancelled", None, None)
    assert workspace.jobs.get(job.id).status == "cancelled"


@on_both
def test_a_worker_taken_for_dead_stops_its_job_and_leaves_the_row_alone(
    workspace: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    job = workspace.jobs.train(LONG, predict=False)
    real_progress = context.JobContext.progress
    taken: list[float] = []

    def taken_for_dead(self, stage: str, done: int, total: int) -> None:  # type: ignore[no-untyped-def]
        if not taken:  # what another process does when this one's heartbeat is stale
            with workspace.session() as session:
                get_job(session, job.id).status = "interrupted"
            workspace.jobs.resume(job.id)
            taken.append(time.monotonic())
        elif time.monotonic() - taken[0] > 10:
            taken.append(-1.0)  # it did not notice
            raise RuntimeError("still running")
        real_progress(self, stage, done, total)

    monkeypatch.setattr(context.JobContext, "progress", taken_for_dead)
    assert workspace.jobs.run_next() == job.id  # returns once the heartbeat saw the loss
    assert taken[-1] != -1.0, "the job went on after its row was taken"
    after = workspace.jobs.get(job.id)
    assert after.status == "queued" and after.finished_at is None
    assert "succeeded" not in after.log and "resume to continue" not in after.log


@on_both
def test_two_workers_racing_claim_each_job_exactly_once(workspace: Workspace) -> None:
    ids = [workspace.jobs.submit("predict", {}).id for _ in range(40)]
    claimed: dict[int, list[int]] = {1: [], 2: []}
    start = threading.Barrier(2)

    def race(number: int) -> None:
        engine = make_engine(str(workspace.engine.url))  # its own connections, like a process
        sessions, worker = session_factory(engine), WorkerId("host", number)
        start.wait()
        while True:
            with sessions() as session, session.begin():
                row = claim_next(session, worker)
                if row is None:
                    break
                claimed[number].append(row.id)
        engine.dispose()

    racers = [threading.Thread(target=race, args=(n,)) for n in claimed]
    for racer in racers:
        racer.start()
    for racer in racers:
        racer.join()
    assert sorted(claimed[1] + claimed[2]) == ids
    with workspace.session() as session:
        for number, got in claimed.items():
            assert all(get_job(session, i).worker_pid == number for i in got)


def test_a_second_worker_on_a_workspace_is_refused(workspace: Workspace) -> None:
    with worker_lock(workspace.root):
        with pytest.raises(RobustarError, match="another worker") as refused:  # noqa: SIM117
            with worker_lock(workspace.root):
                pass
        assert f"process {os.getpid()}" in refused.value.what
        assert "--no-worker" in str(refused.value.fix)
    with worker_lock(workspace.root):  # free again once the holder is done
        pass
