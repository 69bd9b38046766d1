"""Repair search: the criterion on constructed figures, the options' validation, and a
two-candidate search end to end (job, Python, API, CLI) on a tiny generated problem."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient
from PIL import Image

from robustar import SearchOptions, Workspace
from robustar.cli import main
from robustar.data.problems import Problem, generate
from robustar.errors import ConfigError, DataError
from robustar.server.app import create_app
from robustar.train.search import (
    DEFAULT_GRID,
    Figures,
    RemoteSearchOptions,
    choose,
    eligible,
    parse_search,
    score,
)

COUNTS = {
    "train": 60,
    "validation": 20,
    "test": 10,
    "ood": 10,
    "reference-train": 0,
    "reference-validation": 0,
}
# two candidates: from scratch and fine-tuned from the current version
TWO = {
    "base": {"epochs": 1, "learning_rate": 3e-3, "evaluate_test": False},
    "grid": {"filler": ["uniform"], "pair_weight": [1.0], "init": ["scratch", "current"]},
}


def test_the_criterion_prefers_reliance_within_the_clean_tolerance() -> None:
    found = [
        Figures(clean=0.90, filled=0.40, consistency=0.50),  # best clean, relies on the mask
        Figures(clean=0.895, filled=0.70, consistency=0.80),  # within 1 point: eligible
        Figures(clean=0.80, filled=0.95, consistency=0.99),  # best score, but lost 10 points
        Figures(clean=0.89, filled=0.80, consistency=0.70),  # same score as 2, less clean
    ]
    assert score(found[1]) == pytest.approx(0.75) and score(found[3]) == pytest.approx(0.75)
    assert eligible(found, tolerance=1.0) == [True, True, False, True]
    assert choose(found, tolerance=1.0) == 1  # a tie on score goes to clean accuracy
    assert choose(found, tolerance=10.0) == 2  # a looser tolerance admits the degraded one
    assert choose(found, tolerance=0.0) == 0  # no slack: the best clean candidate only
    assert choose([Figures(0.5, 0.5, 0.5)] * 3, tolerance=1.0) == 0  # full tie: the first


def test_options_default_grid_and_validation() -> None:
    options = SearchOptions()
    assert options.grid == DEFAULT_GRID and options.base.paired
    assert len(options.candidates()) == 4
    assert parse_search({"base": {"epochs": 2}}).base.paired  # paired unless given
    assert not parse_search({"base": {"paired": False}}).base.paired
    typed = parse_search({"grid": {"pair_weight": ["0.2", "1", "1.0"], "filler": ["black"]}})
    assert typed.grid == {"pair_weight": [0.2, 1.0], "filler": ["black"]}
    assert [c.pair_weight for c in typed.candidates()] == [0.2, 1.0]
    with pytest.raises(ConfigError, match="unknown training options"):
        parse_search({"grid": {"lambda": [1]}})
    with pytest.raises(ConfigError, match="grid filler='sand'"):
        parse_search({"grid": {"filler": ["sand"]}})
    with pytest.raises(ConfigError, match="no values"):
        parse_search({"grid": {"filler": []}})
    with pytest.raises(ConfigError, match="more than 32"):
        parse_search({"grid": {"seed": list(range(40))}})
    with pytest.raises(ValueError, match="grid init='checkpoint'"):  # no paths over HTTP
        RemoteSearchOptions.model_validate({"grid": {"init": ["scratch", "checkpoint"]}})


def _mask_truth(ws: Workspace, problem: Problem, splits: tuple[str, ...]) -> None:
    for split in splits:
        for image in ws.images(split):
            path = problem.folder(split) / image.relpath
            ws.masks.set(image.id, np.asarray(Image.open(problem.mask(path))) > 0)


@pytest.fixture(scope="module")
def problem(tmp_path_factory: pytest.TempPathFactory) -> Problem:
    root = tmp_path_factory.mktemp("search") / "patch"
    return generate("patch", root, seed=1, counts=COUNTS, size=16, classes=3, patch=5)


@pytest.fixture(scope="module")
def _template(tmp_path_factory: pytest.TempPathFactory, problem: Problem) -> Path:
    root = tmp_path_factory.mktemp("template") / "ws"
    config = problem.config()
    config.model.architecture = "tiny_cnn"
    config.runtime.device = "cpu"
    with Workspace.create(root, config) as workspace:
        workspace.train(epochs=1, learning_rate=3e-3, evaluate_test=False)
        _mask_truth(workspace, problem, ("train", "validation"))
    return root


@pytest.fixture
def ws(tmp_path: Path, _template: Path) -> Workspace:
    """A workspace on the problem with a trained current version and true masks on the
    training and validation images; each test gets its own copy."""
    shutil.copytree(_template, tmp_path / "ws")
    workspace = Workspace.open(tmp_path / "ws")
    yield workspace
    workspace.close()


def test_a_search_job_trains_candidates_and_chooses_without_making_one_current(
    ws: Workspace,
) -> None:
    base = ws.current_model
    job = ws.jobs.repair_search(parse_search(TWO))
    ws.jobs.run_next()
    done = ws.jobs.get(job.id)
    assert done.status == "succeeded", done.error
    result = done.result
    assert result["split"] == "validation" and result["images"] == 20
    rows = result["candidates"]
    assert [r["settings"] for r in rows] == [
        {"filler": "uniform", "pair_weight": 1.0, "init": init} for init in ("scratch", "current")
    ]
    assert sum(r["chosen"] for r in rows) == 1 and result["promoted"] is False
    chosen = next(r for r in rows if r["chosen"])
    assert chosen["version_id"] == result["chosen_id"] and chosen["eligible"]
    for row in rows:
        version = ws.model(row["version_id"])
        assert version.status == "candidate" and not version.is_current
        assert row["clean_accuracy"] == ws.metrics("validation", version.id).accuracy
        assert row["score"] == pytest.approx((row["filled_accuracy"] + row["consistency"]) / 2)
        assert 0 <= row["consistency"] <= 1
    assert ws.model(rows[1]["version_id"]).parent_id == base.id
    assert ws.current_model.id == base.id  # no candidate became current
    measured = ws.repair.reliance(chosen["version_id"], "validation", result["fillers"])
    assert measured.filled == chosen["filled_accuracy"]  # deterministic: same fills
    assert "candidate 2/2 (filler=uniform, pair_weight=1.0, init=current)" in done.log
    assert f"v{chosen['version_id']} (candidate {chosen['index']}) chosen" in done.log
    promoted = ws.use_model(chosen["version_id"])
    assert promoted.is_current and promoted.status == "ready"


def test_a_resumed_search_reuses_the_candidates_it_finished(ws: Workspace) -> None:
    first = ws.repair_search(TWO, run_prefix="job-77")
    again = ws.repair_search(TWO, run_prefix="job-77")  # as a resumed job would
    assert [c.version_id for c in again.candidates] == [c.version_id for c in first.candidates]
    assert len(ws.models) == 3


def test_without_validation_masks_the_training_masks_stand_in(
    ws: Workspace, problem: Problem
) -> None:
    for image in ws.images("validation"):
        ws.masks.set(image.id, np.zeros((problem.size, problem.size), dtype=bool))
    result = ws.repair_search(TWO, promote_best=True)
    assert result.split == "train" and result.images == 60
    assert "the training masks stand in" in result.reason
    # promoted through the regression guard against the version current at the start
    assert result.guard is not None and result.guard.parent_id == 1
    assert ws.model(result.chosen_id).is_current == result.guard.passed == result.promoted


def test_a_search_needs_masks_and_a_current_version_for_init_current(
    tmp_path: Path, problem: Problem
) -> None:
    config = problem.config()
    config.model.architecture = "tiny_cnn"
    with Workspace.create(tmp_path / "bare", config) as bare:
        with pytest.raises(DataError, match="needs spurious masks"):
            bare.repair_search(TWO)
        _mask_truth(bare, problem, ("validation",))
        with pytest.raises(DataError, match="no current model version"):
            bare.repair_search(TWO)
        assert bare.models == []


def test_the_api_queues_a_search_with_closed_options(ws: Workspace) -> None:
    client = TestClient(create_app(ws))
    refused = client.post(
        "/api/v1/jobs/repair_search",
        json={"options": {"base": {"init": "checkpoint", "checkpoint": "/etc/passwd"}}},
    )
    assert refused.status_code == 422
    refused = client.post(
        "/api/v1/jobs/repair_search", json={"options": {"grid": {"checkpoint": ["/x"]}}}
    )
    assert refused.status_code == 422
    answer = client.post("/api/v1/jobs/repair_search", json={"options": TWO})
    assert answer.status_code == 202, answer.text
    job = answer.json()
    assert job["kind"] == "repair_search" and job["status"] == "queued"
    assert job["params"]["options"]["base"]["paired"] is True
    ws.jobs.run_next()
    body = client.get(f"/api/v1/jobs/{job['id']}").json()
    assert body["status"] == "succeeded" and len(body["result"]["candidates"]) == 2
    schema = client.get("/api/v1/methods").json()["search_options"]
    assert schema["properties"]["grid"]["default"] == DEFAULT_GRID


def test_the_cli_prints_every_candidate_and_the_choice(ws: Workspace, monkeypatch, capsys):
    argv = ["repair-search", str(ws.root), "--epochs", "1", "--no-evaluate-test", "-q"]
    argv += ["--grid", "filler=uniform,black", "--grid", "pair-weight=1", "--grid", "init=scratch"]
    monkeypatch.setattr(sys, "argv", ["robustar", *argv])
    with pytest.raises(SystemExit) as exit_:
        main()
    out, err = capsys.readouterr()
    assert exit_.value.code == 0, err
    assert "2 candidates" in err
    assert "chosen" in out and "consistency" in out and "black" in out
    assert f"robustar models use {ws.root}" in " ".join(out.split())
    assert [v.status for v in ws.models] == ["ready", "candidate", "candidate"]
    monkeypatch.setattr(sys, "argv", ["robustar", "repair-search", str(ws.root), "--grid", "x"])
    with pytest.raises(SystemExit) as exit_:
        main()
    assert exit_.value.code == 2 and "not OPTION=V1,V2" in capsys.readouterr().err


def test_the_command_line_grid_takes_switches_as_true_and_false() -> None:
    from robustar.cli.search_commands import _grid

    grid = _grid(["copy-loss=false,True", "filler=swap,uniform"])
    assert grid == {"copy_loss": [False, True], "filler": ["swap", "uniform"]}
    assert SearchOptions(grid=grid).grid["copy_loss"] == [False, True]
