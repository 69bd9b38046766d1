"""Browser end-to-end test of MAD: rating candidates with the keyboard (auto-advance, undo,
out of domain), then picks, labels and the per-round table on the MAD page."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from robustar import Workspace
from robustar.server.background import serve_in_background
from tests.mad_problem import make_mad_workspace, truth


@pytest.fixture
def mad(tmp_path: Path) -> Iterator[Workspace]:
    ws = make_mad_workspace(tmp_path)
    yield ws
    ws.close()


@pytest.fixture
def server(mad: Workspace) -> Iterator[str]:
    with serve_in_background(mad) as url:
        yield url


def test_rate_with_keys_then_pick_label_and_see_the_table(
    page: Page, mad: Workspace, shoot
) -> None:
    found = mad.mad.round(threshold=0.6, worst=3, test_size=3)
    page.goto(f"/mad/rate/{found.id}")
    page.get_by_placeholder("rater name").fill("ann")
    page.get_by_placeholder("rater name").press("Tab")
    expect(page.get_by_text(f"Rated 0 of {found.candidates}")).to_be_visible()
    expect(page.get_by_text("needs at least 2 raters")).to_be_visible()
    expect(page.locator("[data-test=candidate] img")).to_be_visible()
    shoot(page, "mad-rate")
    first = page.locator("[data-test=candidate] img").get_attribute("alt")
    page.keyboard.press("2")
    expect(page.get_by_text(f"Rated 1 of {found.candidates}")).to_be_visible()
    expect(page.locator("[data-test=candidate] img")).not_to_have_attribute("alt", first or "")
    page.keyboard.press("u")
    expect(page.locator("[data-test=last]")).to_contain_text("undid")
    expect(page.locator("[data-test=candidate] img")).to_have_attribute("alt", first or "")
    for k in range(found.candidates):
        expect(page.get_by_text(f"Rated {k} of {found.candidates}")).to_be_visible()
        page.keyboard.press("0" if k == 0 else str(1 + k % 5))
    expect(page.locator("[data-test=done]")).to_be_visible()
    ratings = mad.mad.ratings(found.id)
    assert len(ratings) == found.candidates and {r.rater for r in ratings} == {"ann"}
    assert sum(r.score == 0 for r in ratings) == 1

    page.goto("/mad")
    expect(page.locator("[data-test=rounds]")).to_contain_text(str(found.candidates))
    page.get_by_role("button", name="Pick for labels").click()
    expect(page.locator("[data-test=message]")).to_contain_text("picked for training")
    known = truth(mad)
    for c in mad.mad.queue(found.id):
        mad.mad.label(found.id, c.image_id, known[c.image_id])
    page.reload()
    table = page.locator("[data-test=table]")
    expect(table).to_contain_text(f"round {found.id} test")
    expect(table).to_contain_text("competitor")
    page.get_by_role("button", name="Rank the models").click()
    expect(page.locator("[data-test=ranking]")).to_be_visible()
    shoot(page, "mad-rounds")
