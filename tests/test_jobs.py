import subprocess
import sys
import time

import pytest
import torch
from fastapi.testclient import TestClient

from robustar import TrainOptions, Workspace
from robustar.errors import DataError, NotFoundError
from robustar.jobs import context
from robustar.jobs.store import mark_interrupted
from robustar.server.app import create_app

# the database-facing tests here run on SQLite and on PostgreSQL (tests/conftest.py)
on_both = pytest.mark.usefixtures("database_url")

OPTIONS = TrainOptions(architecture="tiny_cnn", epochs=3, batch_size=32, seed=5)


@on_both
def test_a_queued_training_job_runs_and_records_everything(demo: Workspace) -> None:
    job = demo.jobs.train(OPTIONS, predict=False)
    assert job.status == "queued"
    assert demo.jobs.run_next() == job.id
    done = demo.jobs.get(job.id)
    assert done.status == "succeeded", done.error
    version = demo.model(done.result["version_id"])
    assert version.is_current and version.config["epochs"] == 3
    assert "epoch 3: train loss" in done.log and done.done == done.total > 0
    assert len(demo.training_curves(version.id)) == 3
    assert demo.jobs.run_next() is None


@on_both
def test_jobs_run_in_order_one_at_a_time(demo: Workspace) -> None:
    first = demo.jobs.submit("predict", {"splits": ["test"]})
    second = demo.jobs.submit("predict", {"splits": ["validation"]})
    assert demo.jobs.run_next() == first.id
    assert demo.jobs.get(second.id).status == "queued"
    assert demo.jobs.run_next() == second.id
    assert demo.jobs.get(second.id).result["validation"]["images"] == 50


def test_cancelled_training_resumes_to_the_same_weights(
    demo: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    straight = demo.train(OPTIONS, predict=False)
    job = demo.jobs.train(OPTIONS, predict=False)
    real_progress = context.JobContext.progress

    def cancel_in_epoch_2(self, stage: str, done: int, total: int) -> None:  # type: ignore[no-untyped-def]
        if stage.startswith("train epoch 2"):
            demo.jobs.cancel(self.job_id)
        real_progress(self, stage, done, total)

    monkeypatch.setattr(context.JobContext, "progress", cancel_in_epoch_2)
    demo.jobs.run_next()
    stopped = demo.jobs.get(job.id)
    assert stopped.status == "cancelled"
    run = demo.root / "runs" / f"job-{job.id}"
    assert (run / "epoch-001.safetensors").is_file() and not (
        run / "epoch-002.safetensors"
    ).exists()
    assert not list(run.glob(".*.tmp"))  # no half-written checkpoint
    monkeypatch.setattr(context.JobContext, "progress", real_progress)
    demo.jobs.resume(job.id)
    demo.jobs.run_next()
    finished = demo.jobs.get(job.id)
    assert finished.status == "succeeded", finished.error
    resumed = demo.load_model(finished.result["version_id"]).state_dict()
    reference = demo.load_model(straight.id).state_dict()
    assert all(torch.allclose(resumed[k].float(), reference[k].float()) for k in reference)


@on_both
def test_a_dead_worker_leaves_an_interrupted_job(demo: Workspace) -> None:
    job = demo.jobs.submit("predict", {})
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    with demo.session() as session:
        from robustar.db.tables import Job

        row = session.get(Job, job.id)
        row.status, row.worker_pid = "running", gone.pid
    with demo.session() as session:
        assert mark_interrupted(session) == [job.id]
    assert demo.jobs.get(job.id).status == "interrupted"
    assert demo.jobs.resume(job.id).status == "queued"


def test_bad_job_requests(demo: Workspace) -> None:
    with pytest.raises(DataError, match="unknown job kind"):
        demo.jobs.submit("paint", {})
    with pytest.raises(NotFoundError):
        demo.jobs.cancel(999)
    job = demo.jobs.submit("predict", {"splits": ["test"]})
    demo.jobs.run_next()
    with pytest.raises(DataError, match="only queued or running"):
        demo.jobs.cancel(job.id)
    failing = demo.jobs.submit("predict", {"splits": ["nowhere"]})
    demo.jobs.run_next()
    failed = demo.jobs.get(failing.id)
    assert failed.status == "failed" and "not configured" in failed.error


@on_both
def test_jobs_api_and_events(demo: Workspace) -> None:
    client = TestClient(create_app(demo))
    queued = client.post(
        "/api/v1/jobs/train", json={"options": {"architecture": "tiny_cnn", "epochs": 1}}
    )
    assert queued.status_code == 202 and queued.json()["status"] == "queued"
    bad = client.post("/api/v1/jobs/train", json={"options": {"epochs": 0}})
    assert bad.status_code == 422
    job_id = queued.json()["id"]
    assert client.get("/api/v1/jobs").json()[0]["id"] == job_id
    demo.jobs.run_next()
    with client.stream("GET", f"/api/v1/jobs/{job_id}/events") as stream:
        body = "".join(stream.iter_text())
    assert '"status":"succeeded"' in body and "event: end" in body
    version = client.get(f"/api/v1/jobs/{job_id}").json()["result"]["version_id"]
    curves = client.get(f"/api/v1/models/{version}/epochs").json()
    assert len(curves) == 1 and curves[0]["test_accuracy"] is not None
    assert client.post(f"/api/v1/jobs/{job_id}/cancel").status_code == 400
    assert client.get("/api/v1/jobs/999").status_code == 404


@on_both
def test_the_worker_process_runs_queued_jobs(demo: Workspace) -> None:
    job = demo.jobs.submit("predict", {"splits": ["test"]})
    worker = subprocess.Popen([sys.executable, "-m", "robustar.jobs.process", str(demo.root)])
    try:
        deadline = time.monotonic() + 90
        while demo.jobs.get(job.id).status in ("queued", "running"):
            assert time.monotonic() < deadline, "the worker did not finish the job"
            time.sleep(0.2)
    finally:
        worker.terminate()
        worker.wait(timeout=30)
    assert demo.jobs.get(job.id).status == "succeeded"
