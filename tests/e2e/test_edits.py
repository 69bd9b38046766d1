"""Browser end-to-end test of attribute edits: the preview page's sliders and the robustness
table page with its flipped images."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from robustar import Workspace
from robustar.data.problems import generate
from robustar.discover.edits import EditSpec
from robustar.server.background import serve_in_background

COUNTS = {
    "train": 200,
    "validation": 20,
    "test": 4,
    "ood": 16,
    "reference-train": 0,
    "reference-validation": 0,
}


@pytest.fixture
def scene(tmp_path: Path) -> Iterator[Workspace]:
    problem = generate("scene", tmp_path / "problem", counts=COUNTS, ood="neutral")
    ws = Workspace.create(tmp_path / "ws", problem.config())
    ws.train(architecture="tiny_cnn", epochs=2, batch_size=32, seed=0)
    ws.edits.load_problem_masks(problem.root, ["test"])
    yield ws
    ws.close()


@pytest.fixture
def server(scene: Workspace) -> Iterator[str]:
    with serve_in_background(scene) as url:
        yield url


def test_preview_and_robustness_table(page: Page, scene: Workspace, shoot) -> None:
    image_id = scene.view("test").ids()[0]
    page.goto(f"/edits/preview/{image_id}")
    edited = page.locator("[data-test=edited]")
    expect(edited).to_be_visible()
    first = edited.get_attribute("src")
    page.locator("[data-test=rate]").fill("0.05")
    expect(page.get_by_text("Size (object pixel rate) 0.05")).to_be_visible()
    expect(edited).not_to_have_attribute("src", first or "")
    page.select_option("[data-test=edit]", "background")
    page.click("[data-test=random]")
    expect(page.get_by_text("Seed 1")).to_be_visible()
    expect(page.locator("figure.busy")).to_have_count(0)
    expect(page.get_by_text("Edited: predicted")).to_be_visible()
    shoot(page, "edits-preview")

    swapped = scene.train(architecture="tiny_cnn", epochs=1, batch_size=32, background_swap=0.8)
    edits = [EditSpec("identity"), EditSpec("background", {"source": "noise"})]
    edits += [EditSpec("size", {"rate": r}) for r in (0.1, 0.05)]
    edits += [EditSpec("complexity", {"strength": s}) for s in (-20.0, 20.0)]
    scene.edits.run("test", [1, swapped.id], edits, seeds=2, ten_crop=True)
    page.goto(f"/edits?versions=1,{swapped.id}")
    table = page.locator("[data-test=table]")
    expect(table).to_contain_text("background(source=noise)")
    expect(table).to_contain_text("size(rate=0.05) + ten-crop")
    expect(table.locator("thead th", has_text=f"v{swapped.id} (run")).to_be_visible()
    expect(page.get_by_label("second version")).to_have_value(str(swapped.id))
    charts = page.locator("[data-test=charts] svg")
    expect(charts).to_have_count(2)
    expect(charts.first.locator("circle")).to_have_count(6)  # identity and two sizes, 2 runs
    expect(page.locator("[data-test=ten-crop]")).to_be_visible()
    shoot(page, "edits-table")
    flip = page.locator(".flips a").first
    if flip.count():
        flip.click()
        expect(page.locator("[data-test=edited]")).to_be_visible()
