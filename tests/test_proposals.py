import numpy as np
import pytest
from fastapi.testclient import TestClient
from PIL import Image

from robustar import Workspace
from robustar.annotations.proposals import AutoAnnotate
from robustar.data.spurious_digits import PATCH_COLOURS
from robustar.errors import DataError
from robustar.server.app import create_app

COLOURS = [tuple(int(v) for v in c) for c in PATCH_COLOURS]


def truth(ws: Workspace, image) -> np.ndarray:  # type: ignore[no-untyped-def]
    return np.asarray(Image.open(ws.root / "truth/masks" / image.split / image.relpath)) > 0


def test_colour_auto_annotation_finds_the_demo_patches(demo: Workspace) -> None:
    made = demo.masks.auto_annotate(
        split="train", method="colour", colours=COLOURS, tolerance=12, limit=40
    )
    assert made.proposals == 40 and made.empty == 0
    total, pending = demo.masks.proposals()
    assert total == 40 and all(p.status == "pending" for p in pending)
    assert demo.count("train", annotated=True) == 0  # proposals are not masks
    ious = []
    for proposal in pending:
        _, mask = demo.masks.proposal(proposal.id)
        true = truth(demo, demo.image(proposal.image_id))
        ious.append((mask & true).sum() / max(1, (mask | true).sum()))
    assert np.median(ious) > 0.8


def test_review_accept_edit_reject(demo: Workspace) -> None:
    demo.masks.auto_annotate(split="train", method="grabcut", limit=6)
    total, (first, second, third, *_) = demo.masks.proposals()
    accepted = demo.masks.accept(first.id)
    assert accepted.status == "accepted"
    assert np.array_equal(demo.masks.get(first.image_id), demo.masks.proposal(first.id)[1])
    edited = np.zeros((32, 32), dtype=bool)
    edited[:4, :4] = True
    demo.masks.accept(second.id, edited=edited)
    assert np.array_equal(demo.masks.get(second.image_id), edited)
    demo.masks.reject(third.id)
    with pytest.raises(DataError, match="already rejected"):
        demo.masks.accept(third.id)
    assert demo.masks.proposals()[0] == total - 3
    assert demo.masks.proposals("rejected")[0] == 1


def test_bad_auto_annotation_requests(demo: Workspace) -> None:
    with pytest.raises(DataError, match="needs colours"):
        demo.masks.auto_annotate(split="train", method="colour", limit=1)
    with pytest.raises(DataError, match="method"):
        demo.jobs.auto_annotate(split="train", method="magic")
    with pytest.raises(DataError, match="tolerance"):
        demo.jobs.auto_annotate(split="train", method="colour", colours=COLOURS, tolerance=999)


def test_auto_annotation_job_and_review_api(demo: Workspace) -> None:
    client = TestClient(create_app(demo))
    queued = client.post(
        "/api/v1/jobs/auto-annotate",
        json={
            "split": "train",
            "method": "colour",
            "colours": COLOURS,
            "tolerance": 12,
            "filters": {"label": 3},
        },
    )
    assert queued.status_code == 202, queued.text
    demo.jobs.run_next()
    job = client.get(f"/api/v1/jobs/{queued.json()['id']}").json()
    assert job["status"] == "succeeded" and job["result"]["proposals"] == demo.count(
        "train", label=3
    )
    assert job["result"]["empty"] == 0
    page = client.get("/api/v1/proposals", params={"page_size": 2}).json()
    assert page["total"] == demo.count("train", label=3) and len(page["items"]) == 2
    proposal = page["items"][0]
    assert client.get(f"/api/v1/proposals/{proposal['id']}/mask").status_code == 200
    accepted = client.post(f"/api/v1/proposals/{proposal['id']}/accept")
    assert accepted.json()["status"] == "accepted"
    again = client.post(f"/api/v1/proposals/{proposal['id']}/accept")  # a second click
    assert again.status_code == 200 and again.json() == accepted.json()
    assert len(demo.masks.history(proposal["image_id"])) == 1  # stored once
    rejected = client.post(f"/api/v1/proposals/{proposal['id']}/reject")
    assert rejected.status_code == 400 and "already accepted" in rejected.json()["detail"]
    assert rejected.json()["fix"]
    assert client.post("/api/v1/proposals/999/accept").status_code == 404
    bad = client.post("/api/v1/jobs/auto-annotate", json={"method": "colour", "tolerance": -1})
    assert bad.status_code == 422


def test_a_bad_auto_annotation_request_names_each_field() -> None:
    from robustar.annotations.proposals import parse_request

    with pytest.raises(DataError, match=r"method: Input should be 'colour'.*; tolerance: "):
        parse_request({"method": "paint", "tolerance": 300})


def test_an_object_method_proposes_everything_but_the_object_as_spurious(demo: Workspace) -> None:
    """GrabCut finds the digit; as a spurious proposal that is inverted (the corner patch lies
    outside the digit), unless the request says otherwise."""
    first = demo.masks.auto_annotate(split="train", method="grabcut", limit=6)
    second = demo.masks.auto_annotate(split="train", method="grabcut", limit=6, invert=False)
    assert first == second and first.proposals >= 3  # the same images found nothing
    _, made = demo.masks.proposals()
    count = first.proposals
    for inverted, plain in zip(made[:count], made[count:], strict=True):
        assert inverted.image_id == plain.image_id and inverted.pixels < 32 * 32
        true = truth(demo, demo.image(inverted.image_id))
        assert (demo.masks.proposal(inverted.id)[1] & true).sum() >= 0.9 * true.sum()
        assert (demo.masks.proposal(plain.id)[1] & true).sum() < 0.5 * true.sum()
    assert AutoAnnotate(method="segment").inverted
    assert not AutoAnnotate(method="segment", kind="object").inverted
    assert not AutoAnnotate(method="colour", colours=COLOURS).inverted
    assert AutoAnnotate(method="colour", colours=COLOURS, invert=True).inverted


def test_empty_proposals_are_counted_not_kept(demo: Workspace) -> None:
    made = demo.masks.auto_annotate(
        split="train", method="colour", colours=COLOURS[:1], tolerance=12, limit=30
    )
    assert made.proposals > 0 and made.empty > 0 and made.proposals + made.empty == 30
    total, pending = demo.masks.proposals()
    assert total == made.proposals and all(p.pixels > 0 for p in pending)
    queued = demo.jobs.auto_annotate(
        split="train", method="colour", colours=[(1, 2, 3)], tolerance=0, limit=5
    )
    demo.jobs.run_next()
    job = demo.jobs.get(queued.id)
    assert job.result == {"proposals": 0, "empty": 5} and "5 images got no proposal" in job.log
