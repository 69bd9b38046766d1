"""Browser end-to-end tests of the annotation page."""

from __future__ import annotations

import re

import numpy as np
from PIL import Image
from playwright.sync_api import Page, expect

from robustar import Workspace


def open_editor(page: Page, image_id: int, split: str = "train") -> None:
    page.goto(f"/gallery/{split}/images/{image_id}/annotate")
    expect(page.locator(".stage")).to_have_attribute("data-ready", "true")


def screen_point(page: Page, x: float, y: float, width: int) -> tuple[float, float]:
    """Where image pixel (x, y) is on the screen, through the current zoom and pan."""
    box = page.locator(".layers").bounding_box()
    assert box is not None
    scale = box["width"] / width
    return box["x"] + x * scale, box["y"] + y * scale


def pixels(page: Page) -> int:
    return int(page.locator(".stage").get_attribute("data-pixels") or -1)


def test_stroke_undo_redo_save_reload(page: Page, demo: Workspace, shoot) -> None:
    image = demo.images("train", limit=1)[0]
    open_editor(page, image.id)
    assert pixels(page) == 0
    page.mouse.move(*screen_point(page, 4, 4, image.width))
    page.mouse.down()
    page.mouse.move(*screen_point(page, 26, 20, image.width), steps=12)
    page.mouse.up()
    painted = pixels(page)
    assert painted > 20
    expect(page.locator(".save-status")).to_contain_text("Unsaved changes")
    page.keyboard.press("Control+z")
    expect(page.locator(".stage")).to_have_attribute("data-pixels", "0")
    page.keyboard.press("Control+Shift+z")
    expect(page.locator(".stage")).to_have_attribute("data-pixels", str(painted))
    page.keyboard.press("Control+s")
    expect(page.locator(".save-status")).to_contain_text("Saved version 1")
    shoot(page, "annotate")
    saved = demo.masks.get(image.id)
    assert int(saved.sum()) == painted
    page.reload()
    expect(page.locator(".stage")).to_have_attribute("data-pixels", str(painted))
    expect(page.locator(".save-status")).to_have_attribute("data-version", "1")


def test_colour_range_selects_the_demo_patch(page: Page, demo: Workspace) -> None:
    image = demo.images("test", limit=1)[0]
    truth = np.asarray(Image.open(demo.root / "truth/masks/test" / image.relpath)) > 0
    ys, xs = np.nonzero(truth)
    open_editor(page, image.id, "test")
    page.click("button[name=tool-colour]")
    page.mouse.click(*screen_point(page, xs.mean() + 0.5, ys.mean() + 0.5, image.width))
    expect(page.locator(".stage")).to_have_attribute("data-pixels", str(int(truth.sum())))
    page.click("button[name=save]")
    expect(page.locator(".save-status")).to_contain_text("Saved version 1")
    assert np.array_equal(demo.masks.get(image.id), truth)


def test_a_conflicting_save_offers_reload_or_overwrite(page: Page, demo: Workspace) -> None:
    image = demo.images("train", limit=1)[0]
    open_editor(page, image.id)
    demo.masks.set(image.id, np.ones((image.height, image.width), dtype=bool))  # someone else
    page.click("button[name=clear]")  # nothing to clear yet: still clean
    page.mouse.click(*screen_point(page, 10, 10, image.width))
    page.click("button[name=save]")
    dialog = page.get_by_role("alertdialog")
    expect(dialog).to_contain_text("version 1")
    page.click("button[name=overwrite]")
    expect(page.locator(".save-status")).to_contain_text("Saved version 2")
    assert demo.masks.current(image.id).version == 2
    assert not demo.masks.get(image.id).all()


def test_unsaved_work_is_guarded_and_save_and_next_moves_on(page: Page, demo: Workspace) -> None:
    first, second = demo.images("train", limit=2)
    open_editor(page, first.id)
    page.mouse.click(*screen_point(page, 8, 8, first.width))
    page.on("dialog", lambda dialog: dialog.dismiss())  # refuse to leave
    # Wait for the dialog itself: it arrives after the click returns.
    with page.expect_event("dialog") as asked:
        page.click("button[name=next]")
    assert "without saving" in asked.value.message
    expect(page).to_have_url(re.compile(rf"/images/{first.id}/annotate"))
    page.click("button[name=save-next]")
    expect(page).to_have_url(re.compile(rf"/images/{second.id}/annotate"))
    assert demo.masks.current(first.id).version == 1


def test_model_tool_explains_how_to_configure_a_model(page: Page, demo: Workspace) -> None:
    image = demo.images("train", limit=1)[0]
    open_editor(page, image.id)
    page.keyboard.press("m")
    expect(page.locator(".how-to")).to_contain_text("[segmentation]")


def test_saliency_threshold_becomes_a_proposal(page: Page, demo: Workspace) -> None:
    image = demo.images("train", limit=1)[0]
    open_editor(page, image.id)
    page.keyboard.press("t")
    expect(page.locator("button[name=accept]")).to_be_visible()
    page.click("button[name=accept]")
    assert pixels(page) > 0
    page.click("button[name=save]")
    expect(page.locator(".save-status")).to_contain_text("Saved version 1")
    heat, _ = demo.explain.saliency(image.id)
    assert demo.masks.get(image.id).sum() == pixels(page)
    assert heat[demo.masks.get(image.id)].mean() > heat.mean()


def test_saliency_overlay_on_the_canvas_drives_the_threshold_tool(
    page: Page, demo: Workspace, shoot
) -> None:
    """Any method and class, laid over the canvas; the threshold tool cuts that same map."""
    image = demo.images("train", limit=1)[0]
    open_editor(page, image.id)
    page.check("input[name=saliency]")
    page.select_option("select[name=saliency-method]", "gradient")
    page.select_option("select[name=saliency-target]", "3")
    expect(page.locator("[data-saliency-ready]")).to_contain_text("explaining 3")
    expect(page.locator("img.saliency-layer")).to_be_visible()
    shoot(page, "annotate-saliency")
    page.click("button[name=tool-saliency]")
    page.click("button[name=accept]")
    page.click("button[name=save]")
    expect(page.locator(".save-status")).to_contain_text("Saved version 1")
    heat, target = demo.explain.saliency(image.id, "gradient", 3)
    magnitude = np.abs(heat).max(0)
    mask = demo.masks.get(image.id)
    assert target == 3 and 0 < mask.sum() < mask.size
    assert magnitude[mask].mean() > 2 * magnitude[~mask].mean()
    page.uncheck("input[name=saliency]")
    expect(page.locator("img.saliency-layer")).to_have_count(0)
