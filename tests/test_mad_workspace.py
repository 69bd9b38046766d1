"""MAD through a workspace: a shortcut-trained target against a competitor trained on the clean
reference, a pool from the problem's out-of-domain split (the true class is the first folder
of an image's path), simulated raters, picks, labels, the fine-tune, the table, the ranking;
bad input that changes nothing; REST with roles; the CLI."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from robustar import Workspace
from robustar.db.tables import MadCandidate, MadRound, MadScore
from robustar.errors import ConfigError, DataError, NotFoundError
from robustar.server.app import create_app
from tests.mad_problem import COUNTS, TRAIN, make_mad_workspace, truth
from tests.team import make_team, signed_in
from tests.test_cli import run


@pytest.fixture(scope="module")
def _template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("mad")
    make_mad_workspace(root).close()
    return root


@pytest.fixture
def ws(tmp_path: Path, _template: Path) -> Iterator[Workspace]:
    shutil.copytree(_template, tmp_path / "copy")
    workspace = Workspace.open(tmp_path / "copy" / "ws")
    yield workspace
    workspace.close()


def simulate(ws: Workspace, round_id: int, raters: int, seed: int = 0) -> None:
    """MOS = f(true correctness) + noise: 4.5 for a right prediction, 1.5 for a wrong one."""
    known = truth(ws)
    rng = np.random.default_rng(seed)
    for r in range(raters):
        for c in ws.mad.candidates(round_id):
            mean = 4.5 if c.target_class == known[c.image_id] else 1.5
            score = int(np.clip(round(mean + rng.normal(0, 0.5)), 1, 5))
            ws.mad.rate(round_id, c.image_id, score, f"rater{r}")


def test_a_round_finds_the_targets_failures_and_a_finetune_fixes_some(ws: Workspace) -> None:
    known = truth(ws)
    pool_error = np.mean([p != known[i] for i, p in ws.mad.predict_ids(1, sorted(known)).items()])
    first = ws.mad.round(threshold=0.6, worst=4, test_size=3)
    candidates = ws.mad.candidates(first.id)
    assert first.target_id == 1 and first.competitors == [2] and candidates
    mad_error = np.mean([c.target_class != known[c.image_id] for c in candidates])
    assert mad_error > pool_error and mad_error >= 0.6
    assert {c.led_by for c in candidates} <= {"target", "competitor"}
    simulate(ws, first.id, raters=2)
    agreement = ws.mad.agreement(first.id)
    assert agreement.raters == 2 and agreement.images == len(candidates)
    train, test = ws.mad.pick(first.id)
    assert len(train) == 4 and len(test) == 3 and not set(train) & set(test)
    per_class: dict[int, int] = {}
    by_id = {c.image_id: c for c in ws.mad.candidates(first.id)}
    for image in test:
        per_class[by_id[image].target_class] = per_class.get(by_id[image].target_class, 0) + 1
    assert max(per_class.values()) <= 4
    mos = {o.image_id: o.mos for o in ws.mad.opinions(first.id)}
    assert max(mos[i] or 0 for i in train) <= min(mos[i] or 5 for i in test)
    with pytest.raises(DataError, match="not picked"):
        outside = next(c.image_id for c in candidates if c.image_id not in train + test)
        ws.mad.label(first.id, outside, 0)
    for c in ws.mad.queue(first.id):
        ws.mad.label(first.id, c.image_id, str(known[c.image_id]))
    assert not ws.mad.queue(first.id)
    version = ws.mad.finetune(first.id, epochs=2, batch_size=32, learning_rate=3e-3)
    assert version.parent_id == 1 and ws.mad.get_round(first.id).finetuned_id == version.id
    table = ws.mad.table()
    assert [c.key for c in table.columns] == ["original", f"round {first.id}"]
    rows = {r.version_id: r for r in table.rows}
    assert set(rows) == {1, 2, version.id}
    assert rows[version.id].accuracy[0] > rows[1].accuracy[0]  # type: ignore[operator]
    second = ws.mad.round(threshold=0.6)
    assert second.target_id == version.id  # the next round targets the fine-tune
    again = {c.image_id for c in ws.mad.candidates(second.id)}
    assert not again & set(train + test)  # picks never come back
    ranking = ws.mad.ranking(labels=known, threshold=0.6)
    assert ranking.models[0].version_id == 2 and ranking.models[-1].version_id == 1
    assert ranking.spearman == pytest.approx(1.0)


def test_ratings_replace_undo_and_keep_their_history(ws: Workspace) -> None:
    found = ws.mad.round(threshold=0.6)
    a, b = [c.image_id for c in ws.mad.candidates(found.id)][:2]
    ws.mad.rate(found.id, a, 2, "ann")
    ws.mad.rate(found.id, a, 4, "ann")  # replaces the first
    ws.mad.rate(found.id, a, 0, "bob")  # out of domain
    ws.mad.rate(found.id, b, 3, "ann")
    active = ws.mad.ratings(found.id)
    assert sorted((r.image_id, r.rater, r.score) for r in active) == sorted(
        [(a, "ann", 4), (a, "bob", 0), (b, "ann", 3)]
    )
    assert len(ws.mad.ratings(found.id, history=True)) == 4
    opinions = {o.image_id: o for o in ws.mad.opinions(found.id)}
    assert opinions[a].excluded and opinions[b].mos == 3
    assert ws.mad.next_candidate(found.id, "ann").image_id not in (a, b)  # type: ignore[union-attr]
    undone = ws.mad.undo(found.id, "ann")
    assert undone is not None and undone.image_id == b
    ws.mad.undo(found.id, "ann")  # withdraws the 4: the 2 counts again
    assert {(r.image_id, r.score) for r in ws.mad.ratings(found.id) if r.rater == "ann"} == {(a, 2)}
    assert "withdrawn_at" in ws.mad.export_ratings(found.id, "csv", history=True)
    with pytest.raises(DataError, match=r"outside 1\.\.5"):
        ws.mad.rate(found.id, a, 6, "ann")
    pool_ids = set(truth(ws))
    stranger = min(pool_ids - {c.image_id for c in ws.mad.candidates(found.id)})
    with pytest.raises(NotFoundError, match="not a candidate"):
        ws.mad.rate(found.id, stranger, 3, "ann")
    bad = f"image_id,rater,score\n{a},cy,5\n{stranger},cy,5\n"
    with pytest.raises(NotFoundError):
        ws.mad.import_ratings(found.id, bad)
    assert not [r for r in ws.mad.ratings(found.id, history=True) if r.rater == "cy"]
    assert ws.mad.import_ratings(found.id, f"image_id,rater,score\n{a},cy,5\n") == 1


def test_bad_input_is_refused_and_stores_nothing(ws: Workspace, tmp_path: Path) -> None:
    with pytest.raises(DataError, match=r"lower the threshold"):
        ws.mad.round(threshold=1.0)
    with ws.session() as session:
        assert session.scalar(select(func.count()).select_from(MadRound)) == 0
    versions = len(ws.models)
    weights = ws.root / ws.model(2).checkpoint
    with pytest.raises(DataError, match="4 outputs, this workspace 5 classes"):
        ws.mad.import_competitor(weights, "small_cnn", num_classes=4)
    with pytest.raises(ConfigError, match="image settings of model"):
        ws.mad.import_competitor(weights, "small_cnn", std=[0.0, 1.0, 1.0])
    assert len(ws.models) == versions
    with pytest.raises(DataError, match="'9' is not a class"):
        ws.mad.add(2, class_map=["0", "1", "2", "3", "9"])
    mapped = ws.mad.add(2, class_map=["4", "3", "2", "1", "0"])
    assert mapped.class_map == [4, 3, 2, 1, 0]
    ws.train(**TRAIN)  # a new, unscored version
    with pytest.raises(ConfigError, match="has not scored"):
        ws.mad.round(target=3)


def test_rest_rating_page_calls_and_roles(ws: Workspace) -> None:
    found = ws.mad.round(threshold=0.6)
    client = TestClient(create_app(ws))
    next_ = client.get(f"/api/v1/mad/rounds/{found.id}/next", params={"rater": "ann"}).json()
    image = next_["candidate"]["image_id"]
    assert next_["rated"] == 0 and next_["total"] == found.candidates and next_["rater"] == "ann"
    answer = client.post(
        f"/api/v1/mad/rounds/{found.id}/ratings",
        json={"image_id": image, "score": 1, "rater": "ann"},
    )
    assert answer.status_code == 201, answer.text
    bad = client.post(
        f"/api/v1/mad/rounds/{found.id}/ratings", json={"image_id": image, "score": 7}
    )
    assert bad.status_code == 422 and "5" in bad.json()["detail"]
    after = client.get(f"/api/v1/mad/rounds/{found.id}/next", params={"rater": "ann"}).json()
    assert after["rated"] == 1 and after["candidate"]["image_id"] != image
    undone = client.post(f"/api/v1/mad/rounds/{found.id}/undo", json={"rater": "ann"})
    assert undone.json()["image_id"] == image
    csv = client.get(f"/api/v1/mad/rounds/{found.id}/ratings", params={"history": True})
    assert csv.status_code == 200 and csv.text.startswith("id,image_id,rater,score")
    assert client.get("/api/v1/mad/table").json()["columns"][0]["key"] == "original"
    nope = client.post("/api/v1/mad/rounds", json={"threshold": 1.0})
    assert nope.status_code == 400 and "threshold" in nope.json()["fix"]
    weights = (ws.root / ws.model(2).checkpoint).read_bytes()
    uploaded = client.post(
        "/api/v1/models/import",
        params={"current": False, "architecture": "small_cnn", "name": "upload"},
        content=weights,
    )
    assert uploaded.status_code == 201 and not uploaded.json()["is_current"], uploaded.text
    version = uploaded.json()["id"]
    assert ws.current_model is not None and ws.current_model.id == 1
    mapped = client.post("/api/v1/mad/models", json={"version": version, "class_map": ["x"] * 5})
    assert mapped.status_code == 400 and "'x' is not a class" in mapped.json()["detail"]
    added = client.post("/api/v1/mad/models", json={"version": version, "image_size": 32})
    assert added.status_code == 200 and added.json()["size"] == 32
    job = client.post("/api/v1/mad/score", json={})
    assert job.status_code == 202 and job.json()["kind"] == "mad_score"

    make_team(ws)
    viewer = signed_in(ws, "viewer")
    refused = viewer.post(
        f"/api/v1/mad/rounds/{found.id}/ratings",
        json={"image_id": image, "score": 3},
        headers={"x-csrf-token": viewer.cookies["robustar_csrf"]},
    )
    assert refused.status_code == 403
    annotator = signed_in(ws, "annotator")
    rated = annotator.post(
        f"/api/v1/mad/rounds/{found.id}/ratings",
        json={"image_id": image, "score": 3, "rater": "someone else"},
        headers={"x-csrf-token": annotator.cookies["robustar_csrf"]},
    )
    assert rated.status_code == 201 and rated.json()["rater"] == "anna"


def test_cli_round_rate_export_and_table(
    ws: Workspace, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    root = ws.root
    with ws.session() as session:
        assert session.scalar(select(func.count()).select_from(MadScore)) == 2 * COUNTS["ood"]
    ws.close()
    code, out, err = run(
        monkeypatch, capsys, "discover", "mad", "round", root, "--threshold", "0.6"
    )
    assert code == 0, err
    assert "round 1:" in out
    with Workspace.open(root) as again, again.session() as session:
        image = session.scalar(select(MadCandidate.image_id).limit(1))
    code, out, err = run(
        monkeypatch, capsys, "rate", "add", root, "1", str(image), "2", "--rater", "ann"
    )
    assert code == 0, err
    code, out, err = run(monkeypatch, capsys, "rate", "add", root, "1", str(image), "9")
    assert code == 2 and "outside 1..5" in err
    code, out, _ = run(monkeypatch, capsys, "rate", "export", root, "1", "--format", "json")
    assert code == 0 and '"rater": "ann"' in out
    code, out, _ = run(monkeypatch, capsys, "discover", "mad", "opinions", root, "1")
    assert code == 0 and "Krippendorff" in out
    code, out, _ = run(monkeypatch, capsys, "discover", "mad", "table", root)
    assert code == 0 and "original test" in out


def test_scoring_resumes_with_only_the_missing_rows(ws: Workspace) -> None:
    with ws.session() as session:
        kept = {
            (v, i, p)
            for v, i, p in session.execute(
                select(MadScore.version_id, MadScore.image_id, MadScore.predicted)
            )
        }
        gone = sorted(i for v, i, _ in kept if v == 2)[::3]
        session.execute(
            MadScore.__table__.delete().where(MadScore.version_id == 2, MadScore.image_id.in_(gone))
        )
    job = ws.jobs.submit("mad_score", {})
    ws.jobs.run_next()
    assert ws.jobs.get(job.id).result == {"scored": {"1": 0, "2": len(gone)}}
    with ws.session() as session:
        again = set(
            session.execute(select(MadScore.version_id, MadScore.image_id, MadScore.predicted))
        )
    assert again == kept
