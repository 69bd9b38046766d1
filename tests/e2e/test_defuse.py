"""Browser end-to-end test of Defuse: a region page's decoded samples and answers, labelling
regions with the class keys and `u`, then the correction report."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from robustar import Workspace
from robustar.server.background import serve_in_background
from tests.defuse_problem import SEARCH, VAE, make_defuse_workspace

REGIONS = {"max_components": 8, "samples": 16, "max_iter": 100}


@pytest.fixture
def defuse(tmp_path: Path) -> Iterator[tuple[Workspace, int]]:
    ws, _ = make_defuse_workspace(tmp_path)
    run = ws.defuse.train_vae(**VAE)
    ws.defuse.search(run.id, **SEARCH)
    ws.defuse.fit_regions(run.id, **REGIONS)
    yield ws, run.id
    ws.close()


@pytest.fixture
def server(defuse: tuple[Workspace, int]) -> Iterator[str]:
    with serve_in_background(defuse[0]) as url:
        yield url


def test_label_regions_with_keys_then_see_the_report(
    page: Page, defuse: tuple[Workspace, int], shoot
) -> None:
    ws, run_id = defuse
    regions = ws.defuse.regions(run_id)
    page.goto("/defuse")
    expect(page.locator("[data-test=region-title]")).to_contain_text(f"Region 1 of {len(regions)}")
    expect(page.locator("[data-test=samples] img")).to_have_count(16)
    expect(page.locator("[data-test=keys]")).to_contain_text("unrecognisable")
    shoot(page, "defuse-region")
    page.keyboard.press("2")
    expect(page.locator("[data-test=message]")).to_contain_text(f"region {regions[0].id}: 2")
    if len(regions) > 1:
        page.keyboard.press("u")
        expect(page.locator("[data-test=message]")).to_contain_text("unrecognisable")
    found = ws.defuse.regions(run_id)
    assert found[0].label == 2 and found[0].author
    assert len(regions) == 1 or found[1].unrecognisable
    ws.defuse.correct(run_id, weights=[0.1, 1.0], epochs=1)
    page.reload()
    report = page.locator("[data-test=report]")
    expect(report).to_contain_text("λ = 0.1")
    expect(report).to_contain_text("regions only (baseline)")
    shoot(page, "defuse-report")
