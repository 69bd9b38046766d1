"""The Models page's disk report and clean-up: pin a version, preview what gc would remove,
confirm, and see the versions marked deleted while the pinned one and the current stay."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from robustar import Workspace
from robustar.models.registry import create_model


def test_preview_then_confirm_the_clean_up(demo: Workspace, page: Page, shoot) -> None:
    state = create_model("tiny_cnn", len(demo.classes)).state_dict()
    for _ in range(3):
        demo.import_weights(state, "tiny_cnn")  # v2, v3, v4 (current)
    page.goto("/models")
    disk = page.locator("section.disk")
    expect(disk.locator("[data-category=models]")).to_be_visible()
    page.locator("tr[data-version='2'] button[name=pin]").click()
    expect(page.locator("tr[data-version='2'] button[name=pin]")).to_have_text("Pinned")

    disk.locator("input[name=keep-last]").fill("1")
    disk.locator("button[name=preview]").click()
    expect(disk.locator("[data-remove]")).to_have_count(2)
    expect(disk.locator("[data-remove='v1']")).to_be_visible()
    expect(disk.locator("[data-kept='2']")).to_contain_text("pinned")
    assert (demo.root / "models/v1").is_dir()  # a preview removes nothing
    disk.locator("button[name=remove]").click()
    expect(disk.get_by_role("alertdialog")).to_be_visible()
    shoot(page, "models-clean-up-confirm")

    disk.locator("button[name=confirm-remove]").click()
    expect(disk.locator("[data-done]")).to_contain_text("Removed 2 items")
    expect(page.locator("tr[data-version='1'] .badge.gone")).to_have_text("deleted")
    expect(page.locator("tr[data-version='3'] .badge.gone")).to_have_text("deleted")
    expect(page.locator("tr[data-version='4'] .badge")).to_have_text("current")
    expect(page.locator("select option", has_text="v3")).to_have_count(0)  # nothing to compare
    shoot(page, "models-clean-up-done")
    assert not (demo.root / "models/v1").exists() and (demo.root / "models/v2").is_dir()
