"""The whole loop in the browser, on a tiny suite problem: annotate (eyedropper, auto-annotate,
accept), repair search, the choice promoted, and the verdict with its report."""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from playwright.sync_api import Page, expect

from robustar import Workspace
from robustar.data.problems import Problem, generate
from robustar.server.background import serve_in_background

COUNTS = {
    "train": 60,
    "validation": 24,
    "test": 12,
    "ood": 24,
    "reference-train": 0,
    "reference-validation": 0,
}


@pytest.fixture(scope="module")
def _template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A patch problem (16 px, 3 classes) and a workspace over it with a 1-epoch baseline."""
    root = tmp_path_factory.mktemp("loop") / "patch"
    problem = generate("patch", root, seed=2, counts=COUNTS, size=16, classes=3, patch=5)
    config = problem.config(workspace=root)
    config.model.architecture = "tiny_cnn"
    config.runtime.device = "cpu"
    config.runtime.batch_size = 16
    with Workspace.create(root, config) as workspace:
        workspace.train(epochs=3, learning_rate=3e-3, evaluate_test=False)
    return root


@pytest.fixture
def ws(tmp_path: Path, _template: Path) -> Iterator[Workspace]:
    shutil.copytree(_template, tmp_path / "patch")
    workspace = Workspace.open(tmp_path / "patch")
    yield workspace
    workspace.close()


@pytest.fixture
def server(ws: Workspace) -> Iterator[str]:  # the page fixture serves this workspace
    with serve_in_background(ws) as url:
        yield url


def _pick_patch_colour(page: Page, ws: Workspace, label: int) -> str:
    """Choose the class, show its first sample, click the centre of its patch: its hex."""
    problem = Problem.load(ws.root)
    page.select_option("select[name=label]", str(label))
    sample = page.locator(f".source[data-loaded='train/{label}'] button[name=sample]").first
    expect(sample).to_be_visible()
    image_id = int(sample.get_attribute("data-image") or 0)
    assert ws.image(image_id).label == label
    sample.click()
    canvas = page.locator(f"canvas.sample[data-ready=true][data-image='{image_id}']")
    expect(canvas).to_be_visible()
    path = ws.images_store.path(image_id)
    rows, columns = np.nonzero(np.asarray(Image.open(problem.mask(path))))
    row, column = int(rows.mean()), int(columns.mean())
    box = canvas.bounding_box()
    assert box is not None
    scale = box["width"] / problem.size
    canvas.click(position={"x": (column + 0.5) * scale, "y": (row + 0.5) * scale})
    hex_colour = "#" + bytes(np.asarray(Image.open(path).convert("RGB"))[row, column]).hex()
    expect(page.locator(f".swatch[data-colour='{hex_colour}']")).to_be_visible()
    return hex_colour


def _annotate_split(page: Page, ws: Workspace, split: str, colours: set[str], shoot) -> None:
    """Queue the colour auto-annotation on `split`, run it, and accept all its proposals."""
    page.select_option("select[name=split]", split)
    page.click("button[name=queue]")
    expect(page.get_by_text("queued as")).to_be_visible()
    job = ws.jobs.list()[0]
    assert job.params["split"] == split
    assert {"#" + bytes(c).hex() for c in job.params["colours"]} == colours
    ws.jobs.run_next()
    expect(page.locator("[data-finished]")).to_contain_text(f"Job #{job.id}")
    expect(page.locator("li[data-proposal]").first).to_be_visible()
    if split == "train":
        page.wait_for_load_state("networkidle")
        shoot(page, "loop-2-proposals", full_page=False)
    while page.locator("button[name=accept-page]").is_visible():
        page.click("button[name=accept-page]")
        expect(page.locator("button[name=accept-page]")).to_contain_text("Accepting")
        if split == "train":
            shoot(page, "loop-2-accepting", full_page=False)
        expect(page.get_by_text("Accepting", exact=False)).to_have_count(0, timeout=30_000)
    expect(page.get_by_text("Nothing to review")).to_be_visible()


def test_annotate_search_promote_and_read_the_verdict(page: Page, ws: Workspace, shoot) -> None:
    baseline = ws.current_model.id

    # 1. Annotate: a patch colour per class with the eyedropper, then auto-annotate and accept
    # every proposal on each split (train for the repair, validation for the search's criterion,
    # test for the verdict's reliance figures).
    page.goto("/review")
    picked = {_pick_patch_colour(page, ws, label) for label in range(3)}
    page.select_option("select[name=label]", "")
    page.fill("input[name=tolerance]", "4")
    shoot(page, "loop-1-colours")
    for split in ("train", "validation", "test"):
        _annotate_split(page, ws, split, picked, shoot)
    for split in ("train", "validation", "test"):
        assert len(ws.repair.annotated_ids(split)) >= ws.count(split) // 2, split

    # 2. Repair search: 2 candidates (uniform noise, λ = 1, no copy loss; from scratch and
    # fine-tuning), 2 epochs.
    page.goto("/train")
    page.fill("input[name=epochs]", "2")
    page.fill("input[name=learning_rate]", "0.003")
    for box in page.locator("input[name=search_filler]").all():
        box.set_checked(box.get_attribute("value") == "uniform")
    page.fill("input[name=search_pair_weight]", "1")
    page.uncheck("input[name=search_copy_loss][value=true]")
    page.check("input[name=search_init][value=scratch]")
    page.check("input[name=search_init][value=current]")
    search = page.locator("button[name=search]")
    expect(search).to_contain_text("(2 candidates)")
    shoot(page, "loop-3-search-form")
    search.click()
    expect(page.locator(".run[data-job]")).to_be_visible()
    job = ws.jobs.list()[0]
    assert job.kind == "repair_search"
    assert job.params["options"]["base"]["epochs"] == 2
    ws.jobs.run_next()
    assert ws.jobs.get(job.id).status == "succeeded", ws.jobs.get(job.id).error
    expect(page.locator(".run[data-status=succeeded]")).to_be_visible(timeout=15_000)
    expect(page.locator("table.candidates tbody tr")).to_have_count(2)
    chosen = page.locator("table.candidates tr.chosen")
    expect(chosen).to_have_count(1)
    expect(page.locator(".reason")).to_be_visible()
    shoot(page, "loop-4-search-table")

    # 3. Promote the choice; it becomes current, the baseline its parent.
    chosen_id = int(chosen.get_attribute("data-version") or 0)
    chosen.locator("button[name=promote]").click()
    expect(chosen.locator(".current")).to_be_visible()
    assert ws.current_model.id == chosen_id and ws.current_model.parent_id == baseline

    # 4. Models: the comparison with the parent, its verdict in words and the report.
    page.goto("/models")
    verdict = page.locator("[data-verdict]")
    expect(verdict).to_be_visible(timeout=15_000)
    expect(page.locator("select[name=before]")).to_have_value(str(baseline))
    expect(verdict.locator(".conclusion")).not_to_be_empty()
    assert verdict.locator("li").count() >= 1
    link = verdict.locator("a[name=report-html]")
    href = link.get_attribute("href") or ""
    assert re.search(rf"before={baseline}&after={chosen_id}", href)
    report = page.request.get(href)
    assert report.ok and "<html" in report.text().lower()
    shoot(page, "loop-5-verdict")
