"""Defuse end to end on a tiny rare-style problem: VAE, search, regions, labels (by hand and by
an oracle), the correction sweep through the version lineage and the guard, the views, the
jobs with resume, and the errors that name their fix."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import torch
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from robustar import Workspace
from robustar.cli.common import app
from robustar.discover.defuse.training import PREVIEW_FILE
from robustar.errors import ConfigError, DataError
from robustar.server.app import create_app
from tests.defuse_problem import SEARCH, VAE, make_defuse_workspace

REGIONS = {"max_components": 8, "samples": 12, "max_iter": 100, "min_weight": 0.01}


@pytest.fixture(scope="module")
def setting(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Workspace, int, int]]:
    """The workspace, the oracle's version and a run searched and distilled. One torch thread:
    on two cores shared with other test runs, two threads per process run several times
    slower."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    ws, oracle = make_defuse_workspace(tmp_path_factory.mktemp("defuse"))
    run = ws.defuse.train_vae(**VAE)
    ws.defuse.search(run.id, **SEARCH)
    ws.defuse.fit_regions(run.id, **REGIONS)
    yield ws, oracle, run.id
    torch.set_num_threads(threads)


def test_vae_search_and_regions(setting: tuple[Workspace, int, int]) -> None:
    ws, _, run_id = setting
    run = ws.defuse.run(run_id)
    assert [e["epoch"] for e in run.curves] == [1, 2] and run.has_vae
    assert run.curves[0]["beta"] < 4.0  # warm-up
    assert (ws.defuse.folder(run_id) / PREVIEW_FILE).read_bytes()[:4] == b"\x89PNG"
    assert run.search_done and run.searched_images == 240 and run.version_id == 1
    assert [s.radius for s in run.flip_share] == [10.0, 40.0]
    assert all(s.drawn == 240 * 4 and 0 < s.flipped <= s.drawn for s in run.flip_share)
    assert 0 < run.codes <= 240 * 4  # at most `keep` per image, never the decodings
    regions = ws.defuse.regions(run_id)
    assert regions and all(r.weight > 0.01 and r.samples == 12 for r in regions)
    assert len(ws.defuse.samples(run_id, regions[0].id)) == 12


def test_labels_and_their_errors(setting: tuple[Workspace, int, int]) -> None:
    ws, _, run_id = setting
    region = ws.defuse.regions(run_id)[0]
    with pytest.raises(DataError, match="region label '7' is not a class") as error:
        ws.defuse.label(run_id, region.id, "7")
    assert "0, 1, 2" in (error.value.fix or "")
    with pytest.raises(DataError, match="label regions first"):
        ws.defuse.correct(run_id)  # nothing labelled yet
    labelled = ws.defuse.label(run_id, region.id, "2", author="ana")
    assert (labelled.label, labelled.label_name, labelled.author) == (2, "2", "ana")
    gone = ws.defuse.label(run_id, region.id, unrecognisable=True)
    assert gone.unrecognisable and gone.label is None
    with pytest.raises(DataError, match="label regions first"):
        ws.defuse.correct(run_id)  # unrecognisable regions are left out
    cleared = ws.defuse.label(run_id, region.id)
    assert cleared.author is None and not cleared.unrecognisable


def test_oracle_labels_then_correction_sweep(setting: tuple[Workspace, int, int]) -> None:
    ws, oracle, run_id = setting
    labelled = ws.defuse.label_with(run_id, oracle, agreement=0.0)
    assert all(r.label is not None and r.author == f"oracle v{oracle}" for r in labelled)
    report = ws.defuse.correct(run_id, weights=[0.1], epochs=1)
    assert [(r.mode, r.weight) for r in report.rows] == [("mixed", 0.1), ("baseline", 1.0)]
    assert report.version_id == 1 and report.held_out_samples == 12 * len(labelled)
    for row in report.rows:
        version = ws.model(row.version_id)  # type: ignore[arg-type]
        assert version.parent_id == 1 and row.status == version.status
        assert row.guard and 0 <= row.region_accuracy <= 1 and row.test_accuracy is not None
    again = ws.defuse.correct(run_id, weights=[0.1], epochs=1)  # nothing made twice
    assert [r.id for r in again.rows] == [r.id for r in report.rows]


def test_map_and_interpolation(setting: tuple[Workspace, int, int]) -> None:
    ws, _, run_id = setting
    found = ws.defuse.map(run_id, limit=100)
    assert len(found.training) == 80 and 0 < len(found.errors) <= 100  # every third of 240
    assert len(found.regions) == len(ws.defuse.regions(run_id)) and len(found.explained) == 2
    steps = ws.defuse.interpolate(run_id, 1, 2, steps=5)
    assert len(steps) == 5 and all(
        s.png[:4] == b"\x89PNG" and s.predicted in (0, 1, 2) for s in steps
    )
    with pytest.raises(DataError, match="image 99999 does not exist"):
        ws.defuse.interpolate(run_id, 1, 99999)


def test_rest_region_page_calls(setting: tuple[Workspace, int, int]) -> None:
    ws, _, run_id = setting
    client = TestClient(create_app(ws))
    region = ws.defuse.regions(run_id)[0]
    base = f"/api/v1/defuse/runs/{run_id}"
    samples = client.get(f"{base}/regions/{region.id}/samples").json()
    assert len(samples) == 12 and samples[0]["image"].startswith("data:image/png;base64,")
    put = client.put(f"{base}/regions/{region.id}/label", json={"label": "1"})
    assert put.status_code == 200 and put.json()["label_name"] == "1" and put.json()["author"]
    bad = client.put(f"{base}/regions/{region.id}/label", json={"label": "9"})
    assert bad.status_code == 400 and "unrecognisable" in bad.json()["fix"]
    report = client.get(f"{base}/report").json()
    assert [r["mode"] for r in report["rows"]] == ["mixed", "baseline"]
    assert client.get(f"{base}/preview").content[:4] == b"\x89PNG"
    assert len(client.get(f"{base}/map", params={"limit": 50}).json()["training"]) == 48
    nope = client.post("/api/v1/defuse/runs", json={"latent": 1})
    assert nope.status_code == 422
    assert client.get("/api/v1/defuse/runs/999/regions").status_code == 404


def test_cli_lists_labels_and_interpolates(
    setting: tuple[Workspace, int, int], tmp_path: Path
) -> None:
    ws, _, run_id = setting
    where, run = str(ws.root), str(run_id)
    region = str(ws.defuse.regions(run_id)[-1].id)
    listed = CliRunner().invoke(app, ["discover", "defuse", "runs", where])
    assert listed.exit_code == 0 and "10: " in listed.output, listed.output
    done = CliRunner().invoke(app, ["discover", "defuse", "label", where, run, region, "0"])
    assert done.exit_code == 0 and f"region {region}: 0" in done.output, done.output
    assert ws.defuse.region(run_id, int(region)).label == 0
    bad = CliRunner().invoke(app, ["discover", "defuse", "label", where, run, region, "nine"])
    assert isinstance(bad.exception, DataError) and "not a class" in bad.exception.what
    strip = tmp_path / "strip.png"
    moved = CliRunner().invoke(
        app, ["discover", "defuse", "interpolate", where, run, "1", "2", "--steps", "3",
              "--out", str(strip)],
    )  # fmt: skip
    assert moved.exit_code == 0 and moved.output.count("->") == 2, moved.output
    assert strip.read_bytes()[:4] == b"\x89PNG"


def test_search_resumes_after_the_last_stored_batch(setting: tuple[Workspace, int, int]) -> None:
    ws, _, run_id = setting
    whole = ws.defuse.codes(run_id)
    searched = ws.defuse.run(run_id).version_id  # a correction may have made another current
    run = ws.defuse.import_vae(ws.defuse.folder(run_id) / "vae.safetensors", **VAE)

    class Stop(Exception):
        pass

    def stop_after_two(stage: str, done: int, total: int) -> None:
        if done >= 128:
            raise Stop

    with pytest.raises(Stop):
        ws.defuse.search(run.id, searched, progress=stop_after_two, **SEARCH)
    assert ws.defuse.run(run.id).searched_images == 128
    with pytest.raises(ConfigError, match="fresh=True"):
        ws.defuse.search(run.id, **{**SEARCH, "samples": 2})
    done = ws.defuse.search(run.id)
    assert done.search_done and done.searched_images == 240
    assert np.allclose(ws.defuse.codes(run.id), whole)  # same codes as the uninterrupted one


def test_jobs_train_search_and_correct(setting: tuple[Workspace, int, int]) -> None:
    ws, _, _ = setting
    run = ws.defuse.create_run(**{**VAE, "epochs": 1})
    ws.jobs.submit("defuse_vae", {"run": run.id})
    ws.jobs.submit("defuse_search", {"run": run.id, "settings": SEARCH, "regions": REGIONS})
    ws.jobs.submit("defuse_correct", {"run": run.id})
    for _ in range(3):
        ws.jobs.run_next()
    jobs = {j.kind: j for j in ws.jobs.list()}
    assert jobs["defuse_vae"].status == "succeeded"
    assert jobs["defuse_search"].status == "succeeded"
    assert ws.defuse.run(run.id).regions > 0
    assert jobs["defuse_correct"].status == "failed"  # no region labelled
    assert "label regions first" in (jobs["defuse_correct"].error or "")
    with pytest.raises(ConfigError, match="no trained VAE"):
        ws.defuse.search(ws.defuse.create_run().id)
