import html
import re

import numpy as np
import pytest
from fastapi.testclient import TestClient
from PIL import Image

from robustar import Workspace
from robustar.errors import DataError
from robustar.server.app import create_app


def import_truth(ws: Workspace, split: str) -> None:
    for image in ws.images(split):
        truth = np.asarray(Image.open(ws.root / "truth/masks" / split / image.relpath)) > 0
        ws.masks.set(image.id, truth)


def test_compare_counts_flips_like_the_predictions_say(demo: Workspace) -> None:
    first = demo.current_model
    second = demo.train(architecture="tiny_cnn", epochs=1, seed=9, init="current", guard=False)
    report = demo.compare()
    assert (report.before, report.after) == (first.id, second.id)
    test = next(s for s in report.splits if s.split == "test")
    old = {i.id: i.prediction for i in demo.images("test", version=first.id)}
    new = {i.id: i.prediction for i in demo.images("test", version=second.id)}
    assert test.images == len(old) == 80
    assert test.fixed == sum(not old[i].correct and new[i].correct for i in old)
    assert test.broken == sum(old[i].correct and not new[i].correct for i in old)
    assert test.changed == sum(old[i].predicted != new[i].predicted for i in old)
    assert test.before == pytest.approx(first.metrics["test"]["accuracy"])
    assert report.filled is None  # no annotated test images yet
    fixed = demo.images("test", versus=first.id, flip="fixed")
    assert {i.id for i in fixed} == {i for i in old if not old[i].correct and new[i].correct}
    assert demo.count("test", versus=first.id) == test.changed


def test_filled_test_accuracy_uses_the_annotated_masks(demo: Workspace) -> None:
    import_truth(demo, "test")
    second = demo.train(architecture="tiny_cnn", epochs=1, seed=2, predict=False)
    report = demo.compare(before=1, after=second.id, predict=True)
    assert report.filled is not None and report.filled.images == 80
    test = next(s for s in report.splits if s.split == "test")
    assert report.filled.before_original == pytest.approx(test.before)
    assert report.filled.after_original == pytest.approx(test.after)
    assert 0 <= report.filled.after_filled <= 1
    assert 0 < report.filled.before_saliency_in_mask < 1
    image = demo.images("test", limit=1)[0]
    share = demo.explain.mass_in_mask(image.id, version=second.id)
    assert share is not None and 0 <= share <= 1


def test_compare_errors_and_api(demo: Workspace) -> None:
    with pytest.raises(DataError, match="no parent"):
        demo.compare()
    client = TestClient(create_app(demo))
    second = demo.train(architecture="tiny_cnn", epochs=1, init="current", guard=False)
    body = client.get("/api/v1/compare").json()
    assert body["before"] == 1 and body["after"] == second.id
    assert {s["split"] for s in body["splits"]} == {"train", "validation", "test"}
    assert client.get("/api/v1/compare", params={"before": 77}).status_code == 404
    listed = client.get(
        "/api/v1/images", params={"split": "test", "versus": 1, "flip": "broken"}
    ).json()
    assert listed["total"] == next(s for s in body["splits"] if s["split"] == "test")["broken"]


def test_the_report_downloads_as_a_self_contained_file_with_the_verdict(demo: Workspace) -> None:
    second = demo.train(architecture="tiny_cnn", epochs=1, seed=3, init="current")
    assert second.guard is not None  # the verdict tells the guard's judgement
    client = TestClient(create_app(demo))
    body = client.get("/api/v1/compare").json()
    verdict = body["verdict"]
    assert verdict["outcome"] in {"improved", "mixed", "regressed", "unchanged"}
    assert verdict["conclusion"] == demo.compare().verdict.conclusion
    assert any("regression guard" in s for s in verdict["sentences"])
    page = client.get("/api/v1/compare/report", params={"before": 1, "format": "html"})
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert page.headers["content-disposition"] == (
        f'attachment; filename="robustar-report-v1-v{second.id}.html"'
    )
    assert html.escape(verdict["conclusion"], quote=False) in page.text
    assert not re.search(r"""(src|href)\s*=\s*["']?\s*(https?:)?//""", page.text, re.I)
    assert not re.search(r"<(script|link|img|iframe)\b|@import|url\(", page.text, re.I)
    assert "<style>" in page.text and f"Options v{second.id} was made with" in page.text
    markdown = client.get("/api/v1/compare/report", params={"format": "markdown"})
    assert markdown.headers["content-type"].startswith("text/markdown")
    assert markdown.text.startswith(f"# Repair report: v{second.id}")
    assert client.get("/api/v1/compare/report", params={"format": "pdf"}).status_code == 422
