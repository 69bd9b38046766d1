"""gc's retention rule, dry runs, archives and disk report on a tiny workspace.

`kept` (below) builds on the conftest `workspace`: six imported versions, v6 current with
parent v2, v3 pinned; with keep_last=2 the rule keeps v2, v3, v5 and v6 and removes v1 (with
its run and cache) and v4 (with its attribution index).
"""

from __future__ import annotations

import json
import os
import time
from datetime import timedelta
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select, update

from robustar import Workspace
from robustar.db.tables import Image, Job, ModelVersion, Prediction, utcnow
from robustar.errors import NotFoundError
from robustar.models.registry import create_model
from robustar.server.app import create_app
from tests.test_cli import run

OLD = time.time() - 7 * 24 * 3600
ORPHAN_THUMB = "cache/thumbnails/256/00/" + "0" * 32 + ".webp"


def write(path: Path, size: int, old: bool = True) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(os.urandom(size))
    if old:
        os.utime(path, (OLD, OLD))
    return path


def age(folder: Path) -> None:
    for p in [folder, *folder.rglob("*")]:
        os.utime(p, (OLD, OLD))


@pytest.fixture
def ws(workspace: Workspace) -> Workspace:
    state = create_model("tiny_cnn", len(workspace.classes)).state_dict()
    for _ in range(6):
        workspace.import_weights(state)
    with workspace.session() as session:
        versions = update(ModelVersion).where
        session.execute(versions(ModelVersion.id == 6).values(parent_id=2, config={"run": "run-b"}))
        session.execute(versions(ModelVersion.id == 1).values(config={"run": "run-a"}))
        old = utcnow() - timedelta(days=40)
        session.add(Job(kind="predict", params={}, status="succeeded", finished_at=old))
        session.add(Job(kind="predict", params={}, status="succeeded", finished_at=utcnow()))
        fingerprint = session.scalar(select(Image.fingerprint).where(Image.id == 1))
    workspace.pin_model(3)
    workspace.predict("train", 1)
    root, cache, runs = workspace.root, workspace.paths.cache, workspace.paths.runs
    write(cache / "saliency" / "v1" / "vanilla" / "0" / "1-map.npy", 300)
    write(cache / "attribution" / "v4" / "tracin" / "meta.json", 200)
    write(cache / "saliency" / "v6" / "vanilla" / "0" / "1-map.npy", 100)
    write(cache / "activation" / "v9" / "0.png", 50)  # there is no version 9
    write(root / ORPHAN_THUMB, 40)  # no image has this fingerprint
    write(cache / "thumbnails" / "256" / fingerprint[:2] / f"{fingerprint}.webp", 30)
    write(runs / "run-a" / "tensorboard" / "events", 70)
    write(runs / "run-b" / "tensorboard" / "events", 80)
    write(runs / "job-77" / "tensorboard" / "events", 90)  # no such job; finished
    write(runs / "run-unfinished" / "state.pt", 60)
    write(runs / "run-fresh" / "options.json", 20, old=False)
    for folder in runs.iterdir():
        if folder.name != "run-fresh":
            age(folder)
    image = workspace.image(1)
    workspace.masks.save(1, np.ones((image.height, image.width), dtype=bool))
    return workspace


def tree(root: Path) -> dict[str, tuple[int, int]]:
    return {
        p.relative_to(root).as_posix(): (p.stat().st_size, p.stat().st_mtime_ns)
        for p in root.rglob("*")
        if p.is_file() and not p.name.startswith("robustar.db")
    }


def rows(ws: Workspace) -> list[tuple]:
    with ws.session() as session:
        versions = session.execute(select(ModelVersion.id, ModelVersion.status)).all()
        jobs = session.execute(select(Job.id, Job.status)).all()
        predictions = session.scalar(select(func.count()).select_from(Prediction))
    return [*versions, *jobs, predictions]


def test_the_rule_keeps_current_parent_pinned_and_the_last_n(ws: Workspace) -> None:
    plan = ws.gc(keep_last=2)
    kept = {k.version_id: k.reasons for k in plan.kept}
    assert set(kept) == {2, 3, 5, 6}
    assert kept[6][0] == "current" and "parent" in kept[2][0] and kept[3] == ["pinned"]
    removed = {i.name: i for i in plan.removed}
    assert set(removed) == {
        "v1",
        "v4",
        "cache/activation/v9",
        "cache/thumbnails",
        "runs/job-77",
        "job 1",
    }
    assert sorted(removed["v1"].paths) == ["cache/saliency/v1", "models/v1", "runs/run-a"]
    assert sorted(removed["v4"].paths) == ["cache/attribution/v4", "models/v4"]
    assert removed["cache/thumbnails"].paths == [ORPHAN_THUMB]
    assert plan.bytes == sum(i.bytes for i in plan.removed) > 0
    unfinished = {i.name for i in ws.gc(keep_last=2, unfinished=True).removed}
    assert "runs/run-unfinished" in unfinished and "runs/run-fresh" not in unfinished


def test_a_dry_run_changes_nothing(ws: Workspace) -> None:
    files, before = tree(ws.root), rows(ws)
    result = ws.gc(keep_last=2)  # dry_run is the default
    assert result.dry_run and result.removed
    assert tree(ws.root) == files and rows(ws) == before


def test_gc_removes_files_marks_rows_and_spares_masks(ws: Workspace) -> None:
    masks = {k: v for k, v in tree(ws.root).items() if k.startswith("annotations/")}
    assert masks
    result = ws.gc(dry_run=False, keep_last=2)
    assert not result.dry_run
    root = ws.root
    for gone in ("models/v1", "models/v4", "cache/saliency/v1", "runs/run-a", ORPHAN_THUMB):
        assert not (root / gone).exists(), gone
    for stays in ("models/v2", "models/v3", "models/v6", "cache/saliency/v6", "runs/run-b"):
        assert (root / stays).exists(), stays
    assert (root / "runs/run-unfinished/state.pt").exists() and (root / "runs/run-fresh").exists()
    assert {k: v for k, v in tree(root).items() if k.startswith("annotations/")} == masks
    assert ws.masks.current(1) is not None
    statuses = {v.id: v.status for v in ws.models}
    assert statuses == {1: "deleted", 2: "ready", 3: "ready", 4: "deleted", 5: "ready", 6: "ready"}
    assert rows(ws)[-1] == 0  # v1's predictions went with it
    assert [j.id for j in ws.jobs.list()] == [2]
    with pytest.raises(NotFoundError, match="deleted"):
        ws.use_model(1)
    with pytest.raises(NotFoundError, match="deleted"):
        ws.load_model(4)
    assert ws.gc(keep_last=2).removed == []  # nothing left to do


def test_archive_moves_the_files(ws: Workspace, tmp_path: Path) -> None:
    archive = tmp_path / "archive"
    sizes = {k: v[0] for k, v in tree(ws.root).items() if k.startswith("models/v1/")}
    result = ws.gc(dry_run=False, archive=archive, keep_last=2)
    assert result.archive == str(archive)
    assert {k: v[0] for k, v in tree(archive).items() if k.startswith("models/v1/")} == sizes
    assert (archive / "runs/run-a/tensorboard/events").stat().st_size == 70
    assert (archive / "jobs/1.json").is_file()
    assert not (ws.root / "models/v1").exists()
    v1 = ws.model(1)
    assert v1.status == "archived" and v1.archived_to == str(archive)


def test_current_and_parent_are_never_removed(ws: Workspace) -> None:
    ws.pin_model(3, pinned=False)
    result = ws.gc(dry_run=False, keep_last=1)
    assert {v.id for v in ws.models if v.status == "ready"} == {2, 6}
    assert (ws.root / "models/v6").is_dir() and (ws.root / "models/v2").is_dir()
    assert {i.version_id for i in result.removed if i.kind == "version"} == {1, 3, 4, 5}


def test_a_pending_job_keeps_the_versions_it_uses(ws: Workspace) -> None:
    ws.jobs.submit("predict", {"version": 4})
    kept = {k.version_id: k.reasons for k in ws.gc(keep_last=1).kept}
    assert kept[4] == ["named by queued job 3"]
    assert 1 not in kept


def test_the_disk_report_adds_up_to_the_files(ws: Workspace) -> None:
    report = ws.disk_usage()
    every = [p for p in ws.root.rglob("*") if p.is_file()]
    assert report.total_bytes == sum(p.stat().st_size for p in every)
    assert sum(c.bytes for c in report.categories) == report.total_bytes
    assert sum(c.files for c in report.categories) == len(every)
    by = {c.category: c for c in report.categories}
    models = [p for p in (ws.root / "models").rglob("*") if p.is_file()]
    assert by["models"].bytes == sum(p.stat().st_size for p in models)
    assert by["cache/saliency"].bytes == 400 and by["runs"].bytes == 70 + 80 + 90 + 60 + 20
    v1 = next(v for v in report.versions if v.id == 1)
    assert (v1.cache_bytes, v1.run_bytes) == (300, 70)
    assert v1.model_bytes == (ws.root / "models/v1/model.safetensors").stat().st_size


def test_the_commands(ws: Workspace, tmp_path: Path, monkeypatch, capsys) -> None:
    root = ws.root
    code, out, _ = run(monkeypatch, capsys, "gc", root, "--keep-last", "2")
    assert code == 0 and "would free" in out and "--apply" in out
    assert (root / "models/v1").is_dir()
    code, out, _ = run(monkeypatch, capsys, "models", "pin", root, "1")
    assert code == 0 and "pinned" in out
    code, out, _ = run(monkeypatch, capsys, "gc", root, "--keep-last", "2", "--apply", "-q")
    assert code == 0 and "freed" in out and "kept" not in out
    assert (root / "models/v1").is_dir() and not (root / "models/v4").exists()
    code, out, _ = run(monkeypatch, capsys, "du", root)
    assert code == 0 and "cache/saliency" in out and "total" in out and "v6" in out
    code, out, _ = run(monkeypatch, capsys, "gc", root, "--report", "-q")
    assert code == 0 and "models" in out and "v6" not in out
    code, out, _ = run(monkeypatch, capsys, "backup", root, tmp_path / "copy", "-q")
    assert code == 0 and "robustar.db" in out
    assert (tmp_path / "copy" / "robustar.db").is_file()
    assert not (tmp_path / "copy" / "cache").exists()
    code, _, err = run(monkeypatch, capsys, "models", "use", root, "4")
    assert code == 2 and "deleted" in err


def test_the_rest_routes(ws: Workspace) -> None:
    client = TestClient(create_app(ws))
    disk = client.get("/api/v1/disk").json()
    assert disk["total_bytes"] == sum(c["bytes"] for c in disk["categories"])
    assert str(ws.root) not in json.dumps(disk)
    dry = client.post("/api/v1/gc", json={"keep_last": 2}).json()
    assert dry["dry_run"] is True and (ws.root / "models/v1").is_dir()
    assert {i["name"] for i in dry["removed"] if i["kind"] == "version"} == {"v1", "v4"}
    pinned = client.post("/api/v1/models/4/pin", json={"pinned": True}).json()
    assert pinned["pinned"] is True
    done = client.post("/api/v1/gc", json={"keep_last": 2, "dry_run": False}).json()
    assert done["dry_run"] is False and done["archive"] is None
    assert {i["name"] for i in done["removed"] if i["kind"] == "version"} == {"v1"}
    assert not (ws.root / "models/v1").exists() and (ws.root / "models/v4").is_dir()
    assert client.get("/api/v1/models/1").json()["status"] == "deleted"
    assert client.post("/api/v1/models/1/current").status_code == 404
    assert client.post("/api/v1/gc", json={"keep_last": 0}).status_code == 422
    assert client.post("/api/v1/gc", json={"dry_run": "no"}).status_code == 422
