"""Attribute edits through a workspace: object masks from a generated problem, the stored
benchmark, its export, the job, REST (preview, 422, table) and the CLI."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient

from robustar import Workspace
from robustar.data.problems import generate
from robustar.discover.edits import EditSpec
from robustar.server.app import create_app
from tests.test_cli import run

COUNTS = {
    "train": 120,
    "validation": 20,
    "test": 4,
    "ood": 12,  # the workspace's test split
    "reference-train": 0,
    "reference-validation": 0,
}
EDITS = [EditSpec("identity"), EditSpec("background", {"source": "noise"})]


@pytest.fixture(scope="module")
def _template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("edits")
    problem = generate("scene", root / "problem", counts=COUNTS, ood="neutral")
    ws = Workspace.create(root / "ws", problem.config())
    ws.train(architecture="tiny_cnn", epochs=1, batch_size=32, seed=0)
    assert ws.edits.load_problem_masks(problem.root, ["test"]) == COUNTS["ood"]
    ws.close()
    return root


@pytest.fixture
def ws(tmp_path: Path, _template: Path) -> Iterator[Workspace]:
    shutil.copytree(_template, tmp_path / "copy")
    workspace = Workspace.open(tmp_path / "copy" / "ws")
    yield workspace
    workspace.close()


def test_benchmark_is_stored_per_version_and_exported(ws: Workspace) -> None:
    first = ws.view("test").ids()[0]
    ws.masks.set(first, np.zeros_like(ws.masks.get(first, "object")), "object")  # empty
    (run_,) = ws.edits.run("test", edits=EDITS, seeds=2)
    assert run_.images == COUNTS["ood"] - 1
    assert run_.skipped == {e.label: {"empty mask": 1} for e in EDITS}
    overall = {r.edit: r for r in run_.rows if r.class_name is None}
    assert set(overall) == {"identity", "background(source=noise)"}
    assert all(r.seeds == 2 and r.images == COUNTS["ood"] - 1 for r in overall.values())
    assert overall["identity"].drop == pytest.approx(
        overall["identity"].original - overall["identity"].edited
    )
    assert ws.edits.runs(run_.version_id)[0].id == run_.id
    for flip in ws.edits.flips(run_.id):
        assert (flip.before == flip.truth) != (flip.after == flip.truth)
    (again,) = ws.edits.run("test", edits=EDITS[:1], seeds=1, limit=3)
    markdown = ws.edits.export([run_.id, again.id], "markdown")
    assert "| identity |" in markdown and markdown.count("drop (points)") == 2
    assert "<table>" in ws.edits.export([run_.id], "html")


def test_ten_crop_rows_and_measured_axes(ws: Workspace) -> None:
    edits = [EditSpec("identity"), EditSpec("size", {"rate": 0.05})]
    edits += [EditSpec("complexity", {"strength": s}) for s in (0.0, 30.0)]
    (run_,) = ws.edits.run("test", edits=edits, seeds=1, ten_crop=True)
    overall = [r.edit for r in run_.rows if r.class_name is None]
    labels = [e.label for e in edits]
    assert overall == labels + [f"{label} + ten-crop" for label in labels]
    assert run_.options["ten_crop"] is True
    measures = run_.measures
    assert abs(measures["size(rate=0.05)"]["object_rate"] - 0.05) <= 0.015
    assert measures["identity"]["object_rate"] == pytest.approx(measures["original"]["object_rate"])
    assert (
        measures["complexity(strength=30.0)"]["complexity"]
        > measures["complexity(strength=0.0)"]["complexity"]
    )
    assert ws.edits.get(run_.id).measures == measures  # stored, not recomputed


def test_edits_regenerate_the_same_pixels(ws: Workspace) -> None:
    image_id = ws.view("test").ids()[1]
    one = ws.edits.edit(image_id, "position", seed=5)
    two = ws.edits.edit(image_id, "position", seed=5)
    assert np.array_equal(one[0], two[0]) and np.array_equal(one[1], two[1])
    found = ws.edits.preview(image_id, "background", {"source": "image"})
    assert sum(found.edited.probabilities) == pytest.approx(1, abs=1e-4)


def test_rest_preview_ranges_job_and_table(ws: Workspace) -> None:
    client = TestClient(create_app(ws))
    image_id = ws.view("test").ids()[0]
    assert {"size", "rotation"} <= {m["name"] for m in client.get("/api/v1/edits").json()}
    body = {"image_id": image_id, "edit": {"name": "rotation", "options": {"angle": 90}}}
    answer = client.post("/api/v1/edits/preview", json=body)
    assert answer.status_code == 200, answer.text
    assert answer.json()["image"].startswith("data:image/png;base64,")
    body["edit"]["options"] = {"angle": 190}
    bad = client.post("/api/v1/edits/preview", json=body)
    assert bad.status_code == 422 and "180" in bad.json()["detail"]
    too_many = client.post("/api/v1/edits/benchmark", json={"seeds": 11})
    assert too_many.status_code == 422
    not_bool = client.post("/api/v1/edits/benchmark", json={"ten_crop": "yes"})
    assert not_bool.status_code == 422
    job = client.post(
        "/api/v1/edits/benchmark",
        json={
            "split": "test",
            "seeds": 1,
            "limit": 4,
            "edits": [{"name": "remove"}],
            "ten_crop": True,
        },
    )
    assert job.status_code == 202, job.text
    ws.jobs.run_next()
    runs = client.get("/api/v1/edits/runs").json()
    assert runs[0]["images"] == 4
    assert [r["edit"] for r in runs[0]["rows"][:2]] == ["remove", "remove + ten-crop"]
    assert set(runs[0]["measures"]) == {"original", "remove"}
    table = client.get("/api/v1/edits/table", params={"runs": runs[0]["id"], "format": "html"})
    assert table.status_code == 200 and "remove" in table.text


def test_cli_run_and_table(
    ws: Workspace, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    root = ws.root
    ws.close()
    code, out, err = run(
        monkeypatch,
        capsys,
        "discover",
        "edits",
        "run",
        root,
        "--edit",
        "size:rate=0.05",
        "--seeds",
        "1",
        "--limit",
        "3",
        "--ten-crop",
        "-q",
    )
    assert code == 0, err
    assert "size(rate=0.05)" in out and "size(rate=0.05) + ten-crop" in out
    code, out, err = run(
        monkeypatch, capsys, "discover", "edits", "run", root, "--edit", "size:rate=0.9", "-q"
    )
    assert code == 2 and "less than or equal to 0.5" in err
    code, out, _ = run(monkeypatch, capsys, "discover", "edits", "table", root, "1")
    assert code == 0 and "size(rate=0.05)" in out


def test_training_with_random_backgrounds(ws: Workspace) -> None:
    with pytest.raises(Exception, match="paired"):
        ws.train(epochs=1, paired=True, background_swap=0.5)
    version = ws.train(architecture="tiny_cnn", epochs=1, batch_size=32, background_swap=0.5)
    assert version.id == 2
