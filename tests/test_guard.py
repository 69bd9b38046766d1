"""The regression guard: a fine-tune that loses validation accuracy waits as a candidate."""

import sys
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient

from robustar import TrainOptions, Workspace
from robustar.cli import main
from robustar.errors import DataError
from robustar.server.app import create_app
from tests.conftest import folder_config
from tests.test_repair import import_truth

# one epoch of plain SGD at lr 10 wrecks a trained tiny CNN, deterministically
WRECK = dict(init="current", epochs=1, optimizer="sgd", learning_rate=10.0, evaluate_test=False)


@pytest.fixture
def memorised(tmp_path: Path, folders: dict[str, Path]) -> Workspace:
    """A tiny CNN that has learnt its training images, which are also the validation split."""
    train = str(folders["train"])
    ws = Workspace.create(tmp_path / "ws", folder_config(folders["train"], validation=train))
    ws.train(epochs=12, learning_rate=3e-2, evaluate_test=False)
    yield ws
    ws.close()


def test_a_regressing_fine_tune_is_a_candidate_until_promoted(memorised: Workspace) -> None:
    parent = memorised.current_model
    assert parent.metrics["validation"]["accuracy"] > 0.9
    bad = memorised.train(**WRECK, predict=False)
    assert bad.status == "candidate" and not bad.is_current and bad.parent_id == parent.id
    assert memorised.current_model.id == parent.id
    report = bad.guard
    assert report is not None and not report.passed and report.parent_id == parent.id
    [clean] = report.checks  # no spurious masks on validation images
    assert clean.images == 15 and not clean.passed
    assert clean.parent == pytest.approx(parent.metrics["validation"]["accuracy"])
    assert clean.candidate < clean.parent - report.tolerance / 100
    assert "fell by more than the 1-point tolerance" in report.reason
    assert "masks filled: not checked" in report.reason
    promoted = memorised.use_model(bad.id)
    assert promoted.is_current and promoted.status == "ready"
    assert promoted.guard == report  # the figures stay, as a record of the override
    assert [v.status for v in memorised.models] == ["ready", "ready"]


def test_an_improving_fine_tune_becomes_current(memorised: Workspace) -> None:
    better = memorised.train(init="current", epochs=4, learning_rate=3e-2, predict=False)
    assert better.is_current and better.status == "ready" and better.guard.passed
    assert better.guard.checks[0].candidate >= better.guard.checks[0].parent


def test_a_near_copy_passes_both_checks(demo: Workspace) -> None:
    import_truth(demo, "validation")
    parent = demo.current_model
    # the weights barely move (only BatchNorm's running statistics do)
    same = demo.train(init="current", epochs=1, learning_rate=1e-12, predict=False)
    assert same.is_current and same.status == "ready"
    assert same.guard is not None and same.guard.passed
    clean, filled = same.guard.checks
    assert filled.metric == "validation, masks filled" and filled.images == 50
    measured = demo.repair.filled_accuracy(parent.id, same.id, split="validation", saliency=False)
    assert (filled.parent, filled.candidate) == (measured.before_filled, measured.after_filled)
    assert clean.candidate == demo.metrics("validation", same.id).accuracy
    assert f"v{same.id} is current" in same.guard.reason and parent.guard is None


def test_guard_off_or_scratch_adopts_as_before(memorised: Workspace) -> None:
    off = memorised.train(**WRECK, guard=False, predict=False)
    assert off.is_current and off.guard is None
    scratch = memorised.train(epochs=1, learning_rate=10.0, predict=False)
    assert scratch.is_current and scratch.guard is None and scratch.parent_id is None


def test_a_paired_run_from_scratch_is_judged_against_the_current_version(
    memorised: Workspace,
) -> None:
    """A repair trained from scratch has no parent, but it replaces the current version: it
    must not fall behind it either."""
    before = memorised.current_model
    image = memorised.images("train", limit=1)[0]
    mask = np.zeros((image.height, image.width), dtype=bool)
    mask[:4, :4] = True
    memorised.masks.set(image.id, mask)
    wrecked = dict(paired=True, epochs=1, optimizer="sgd", learning_rate=10.0, predict=False)
    bad = memorised.train(**wrecked, evaluate_test=False)
    assert bad.status == "candidate" and bad.parent_id is None
    assert bad.guard is not None and bad.guard.parent_id == before.id and not bad.guard.passed
    assert memorised.current_model.id == before.id
    assert (
        memorised.compare(after=bad.id, predict=True).before == before.id
    )  # what it was judged on
    assert before.parent_id is None  # so the default comparison names the kept-back run
    with pytest.raises(DataError, match=f"version {bad.id} is a candidate") as error:
        memorised.compare()
    assert error.value.python_fix == f"ws.compare(after={bad.id})"
    unguarded = memorised.train(**wrecked, guard=False, evaluate_test=False)
    assert unguarded.is_current and unguarded.guard is None


def test_the_cli_api_and_job_log_show_the_candidate(memorised: Workspace, monkeypatch, capsys):
    argv = ["train", memorised.root, "--init", "current", "--epochs", "1", "--optimizer", "sgd"]
    argv += ["--lr", "10", "--no-predict", "--no-evaluate-test", "-q"]
    monkeypatch.setattr(sys, "argv", ["robustar", *map(str, argv)])
    with pytest.raises(SystemExit) as exit_:
        main()
    out, err = capsys.readouterr()
    err = " ".join(err.split())  # rich wraps long lines
    assert exit_.value.code == 0
    assert "warning" in err and "kept as a candidate" in err and "it is a candidate" in out
    client = TestClient(create_app(memorised))
    body = client.get("/api/v1/models/2").json()
    assert body["status"] == "candidate" and not body["is_current"]
    assert body["guard"]["passed"] is False and "v1 stays current" in body["guard"]["reason"]
    job = memorised.jobs.train(TrainOptions(**WRECK), predict=False)
    memorised.jobs.run_next()
    done = memorised.jobs.get(job.id)
    assert done.result["status"] == "candidate", done.error
    assert "warning: model version 3 is a candidate" in done.log
    assert "regression guard: validation accuracy fell" in done.log
    promoted = client.post("/api/v1/models/2/current").json()
    assert promoted["status"] == "ready" and promoted["is_current"]
