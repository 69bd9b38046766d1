"""Work per person: assigning images (chosen ids, a class, the suspicious queue's top N) to
annotators, moving them, done once a mask of the kind is saved after, progress, bad input."""

from __future__ import annotations

import time

import numpy as np
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from robustar import Workspace
from robustar.accounts.actor import LOCAL, Actor, acting_as
from robustar.annotations.selection import Selection
from robustar.db.tables import Assignment
from robustar.errors import DataError, NotFoundError
from robustar.server.app import create_app
from tests.team import make_team
from tests.test_cli import run
from tests.test_team import png


@pytest.fixture
def team(workspace: Workspace) -> Workspace:
    make_team(workspace)
    workspace.accounts.add("otto", "annotator", "correct horse battery")
    return workspace


def mask_of(ws: Workspace, image_id: int, filled: bool = True) -> np.ndarray:
    info = ws.image(image_id)
    return np.full((info.height, info.width), filled)


def stored(ws: Workspace) -> int:
    with ws.db.session() as session:
        return session.scalar(select(func.count()).select_from(Assignment)) or 0


def test_assign_a_class_then_done_after_the_assignees_save(team: Workspace) -> None:
    cats = [i.id for i in team.images("train", label="cat")]
    made = team.assignments.assign("anna", Selection(class_name="cat", split="train"))
    assert (made.images, made.moved, made.batch) == (len(cats), 0, "class cat (train)")
    queue = team.assignments.queue("anna")
    assert [a.image_id for a in queue] == cats
    assert {(a.class_name, a.kind, a.assigned_by) for a in queue} == {
        ("cat", "spurious", LOCAL.name)
    }
    anna = team.accounts.user("anna")
    with acting_as(Actor("anna", anna.id)):
        team.masks.set(cats[0], mask_of(team, cats[0]))
    assert [a.image_id for a in team.assignments.queue("anna")] == cats[1:]
    (batch,) = team.assignments.batches("anna")
    assert (batch.assigned, batch.done, batch.batch) == (len(cats), 1, "class cat (train)")
    people = {p.name: p for p in team.assignments.people()}
    assert (people["anna"].assigned, people["anna"].done) == (len(cats), 1)
    assert people["anna"].last_activity is not None
    assert (people["otto"].assigned, people["otto"].done, people["otto"].last_activity) == (
        0,
        0,
        None,
    )
    assert "vic" not in people  # a viewer holds no work


def test_a_mask_from_before_the_assignment_does_not_count(team: Workspace) -> None:
    image = team.images("train", label="dog")[0].id
    team.masks.set(image, mask_of(team, image))
    time.sleep(0.01)
    team.assignments.assign("anna", Selection(ids=[image]))
    assert [a.image_id for a in team.assignments.queue("anna")] == [image]
    team.masks.set(image, mask_of(team, image, filled=False))  # anyone's save, even empty
    assert team.assignments.queue("anna") == []
    (entry,) = team.assignments.entries("anna")
    assert entry.done_at is not None and entry.done_at >= entry.created_at


def test_reassigning_moves_the_images(team: Workspace) -> None:
    ids = [i.id for i in team.images("train", limit=4)]
    team.assignments.assign("anna", Selection(ids=ids))
    moved = team.assignments.assign("otto", Selection(ids=ids[:2]), kind="spurious")
    assert (moved.images, moved.moved) == (2, 2)
    assert [a.image_id for a in team.assignments.queue("anna")] == ids[2:]
    assert [a.image_id for a in team.assignments.queue("otto")] == ids[:2]
    team.assignments.assign("otto", Selection(ids=ids[:1]), kind="object")  # another kind: apart
    assert stored(team) == 5
    again = team.assignments.assign("otto", Selection(ids=ids[:2]))
    assert again.moved == 0 and stored(team) == 5


def test_unannotated_leaves_out_images_with_a_mask(team: Workspace) -> None:
    eels = [i.id for i in team.images("train", label="eel")]
    team.masks.set(eels[0], mask_of(team, eels[0]))
    team.masks.set(eels[1], mask_of(team, eels[1], filled=False))  # empty: annotates nothing
    made = team.assignments.assign(
        "anna", Selection(class_name="eel", split="train", unannotated=True)
    )
    assert made.images == len(eels) - 1 and "without spurious masks" in made.batch
    assert eels[0] not in [a.image_id for a in team.assignments.queue("anna")]


BAD = [
    ("nobody", Selection(ids=[1]), NotFoundError, "no account 'nobody'"),
    ("vic", Selection(ids=[1]), DataError, "vic is a viewer and cannot annotate"),
    ("anna", Selection(ids=[1, 987654]), NotFoundError, "no image with id 987654"),
    ("anna", Selection(class_name="cat", split="test", ids=[1]), DataError, "exactly one"),
    ("anna", Selection(), DataError, "exactly one"),
    ("anna", Selection(class_name="yak"), DataError, "unknown class 'yak'"),
    ("anna", Selection(suspicious=0), DataError, "slice of 0"),
]


def test_bad_input_names_the_fix_and_stores_nothing(team: Workspace) -> None:
    for to, selection, error, words in BAD:
        with pytest.raises(error, match=words) as raised:
            team.assignments.assign(to, selection)
        assert raised.value.fix, words  # type: ignore[attr-defined]
    team.accounts.set_disabled("otto")
    with pytest.raises(DataError, match="'otto' is disabled"):
        team.assignments.assign("otto", Selection(ids=[1]))
    assert stored(team) == 0


def test_an_empty_selection_is_refused(team: Workspace) -> None:
    cats = [i.id for i in team.images("train", label="cat")]
    for image in cats:
        team.masks.set(image, mask_of(team, image))
    with pytest.raises(DataError, match="holds no images") as raised:
        team.assignments.assign("anna", Selection(class_name="cat", unannotated=True))
    assert "unannotated" in raised.value.fix
    assert stored(team) == 0


def test_a_slice_of_the_suspicious_queue(demo: Workspace) -> None:
    make_team(demo)
    demo.attribution.build(dim=64)
    queue = [s.image_id for s in demo.attribution.suspicious(limit=5)]
    made = demo.assignments.assign("anna", Selection(suspicious=5))
    assert [a.image_id for a in demo.assignments.queue("anna")] == queue
    assert made.batch == "suspicious top 5"
    demo.masks.set(queue[0], mask_of(demo, queue[0]))
    rest = demo.assignments.assign("anna", Selection(suspicious=3, unannotated=True))
    assert rest.images == 3
    assert [a.image_id for a in demo.assignments.entries("anna", open_only=True)][-3:] == [
        s.image_id for s in demo.attribution.suspicious(limit=3, exclude_annotated=True)
    ]


def test_the_rest_routes(workspace: Workspace) -> None:
    tokens = make_team(workspace)
    client = TestClient(create_app(workspace))
    auth = {role: {"authorization": f"Bearer {token}"} for role, token in tokens.items()}
    body = {"to": "anna", "class_name": "dog", "split": "train"}
    made = client.post("/api/v1/assignments", json=body, headers=auth["admin"])
    assert made.status_code == 201, made.text
    assert made.json()["images"] == 5 and made.json()["assignee"] == "anna"
    mine = client.get("/api/v1/assignments/mine", headers=auth["annotator"]).json()
    first = mine["queue"][0]
    assert len(mine["queue"]) == 5 and first["class_name"] == "dog" and first["done_at"] is None
    assert client.get("/api/v1/assignments/mine", headers=auth["admin"]).json()["queue"] == []
    image = workspace.image(first["image_id"])
    saved = client.put(
        f"/api/v1/images/{image.id}/masks/spurious",
        content=png(image.width, image.height),
        headers={**auth["annotator"], "content-type": "image/png"},
    )
    assert saved.status_code == 200, saved.text
    mine = client.get("/api/v1/assignments/mine", headers=auth["annotator"]).json()
    assert len(mine["queue"]) == 4
    assert [(b["assigned"], b["done"]) for b in mine["batches"]] == [(5, 1)]
    team = client.get("/api/v1/assignments/progress", headers=auth["admin"]).json()
    anna = next(p for p in team["people"] if p["name"] == "anna")
    assert (anna["assigned"], anna["done"]) == (5, 1) and anna["last_activity"] is not None
    viewer = client.post(
        "/api/v1/assignments", json={**body, "to": "vic"}, headers=auth["admin"]
    ).json()
    assert "cannot annotate" in viewer["detail"] and "set-role" in viewer["fix"]
    assert (
        client.post("/api/v1/assignments", json=body, headers=auth["annotator"]).status_code == 403
    )


def test_local_mode_has_no_personal_queue(workspace: Workspace) -> None:
    answer = TestClient(create_app(workspace)).get("/api/v1/assignments/mine")
    assert answer.status_code == 400 and "--team" in answer.json()["fix"]


def test_the_command_line(team: Workspace, monkeypatch, capsys) -> None:
    root = str(team.root)
    code, out, _ = run(monkeypatch, capsys, "assign", root, "--to", "anna", "--class", "eel")
    assert code == 0 and "assigned 4 images to anna: class eel (train)" in out
    code, out, _ = run(monkeypatch, capsys, "assign", root, "--to", "otto", "--ids", "1,2")
    assert code == 0 and "assigned 2 images to otto" in out
    code, out, _ = run(monkeypatch, capsys, "assignments", root)
    assert code == 0 and "anna" in out and "class eel (train)" in out
    code, out, _ = run(monkeypatch, capsys, "assignments", root, "--user", "otto")
    assert code == 0 and "2 images still to mask: 1, 2" in out
    code, out, err = run(monkeypatch, capsys, "assign", root, "--to", "vic", "--ids", "1")
    assert code == 2 and "cannot annotate" in out + err and "set-role" in out + err
    code, out, err = run(monkeypatch, capsys, "assign", root, "--to", "anna", "--ids", "1,x")
    assert code == 2 and "--ids 1,2,3" in out + err
