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
    heat = demo.explain.saliency(image.id).map
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
    found = demo.explain.saliency(image.id, "gradient", 3)
    magnitude = found.map  # the largest absolute gradient over the channels
    mask = demo.masks.get(image.id)
    assert found.target == 3 and 0 < mask.sum() < mask.size
    assert magnitude[mask].mean() > 2 * magnitude[~mask].mean()
    page.uncheck("input[name=saliency]")
    expect(page.locator("img.saliency-layer")).to_have_count(0)


def canvas_pixels(page: Page, selector: str) -> list[list[int]]:
    """The RGBA pixels of a canvas on the page, row-major."""
    data = page.locator(selector).evaluate(
        "c => Array.from(c.getContext('2d').getImageData(0, 0, c.width, c.height).data)"
    )
    return [data[i : i + 4] for i in range(0, len(data), 4)]


def test_mask_colour_and_outline_are_chosen_remembered_and_shown_on_the_image_page(
    page: Page, demo: Workspace, shoot
) -> None:
    image = demo.images("train", limit=1)[0]
    open_editor(page, image.id)
    page.fill("input[name=radius]", "6")
    page.mouse.click(*screen_point(page, 16, 16, image.width))
    centre = 16 * image.width + 16
    assert canvas_pixels(page, "canvas.mask")[centre] == [239, 68, 68, 255]  # default red
    page.click("button[name=mask-colour-facc15]")
    assert canvas_pixels(page, "canvas.mask")[centre] == [250, 204, 21, 255]
    # Outline only: the edge in that colour, the inside left clear.
    page.check("input[name=mask-outline]")
    drawn = canvas_pixels(page, "canvas.mask")
    assert drawn[centre][3] == 0
    edge = [p for p in drawn if p[3]]
    assert 0 < len(edge) < pixels(page) and all(p[:3] == [250, 204, 21] for p in edge)
    page.keyboard.press("Control+s")
    shoot(page, "annotate-outline", full_page=False)
    # Remembered after a reload, and used where the image page shows the saved mask.
    page.reload()
    yellow = page.locator("button[name=mask-colour-facc15]")
    expect(yellow).to_have_attribute("aria-checked", "true")
    expect(page.locator("input[name=mask-outline]")).to_be_checked()
    page.get_by_role("link", name="← image").click()
    expect(page.locator(".badge.annotated[data-kind=spurious]")).to_contain_text("spurious v1")
    overlay = "canvas.mask-overlay[data-kind=spurious]"
    expect(page.locator(overlay)).to_be_visible()
    page.wait_for_function(
        "s => { const c = document.querySelector(s);"
        " return c.getContext('2d').getImageData(0, 0, c.width, c.height).data.some(v => v) }",
        arg=overlay,
    )
    shoot(page, "image-mask", full_page=False)
    shown = [p for p in canvas_pixels(page, overlay) if p[3]]
    painted = int(demo.masks.get(image.id).sum())
    assert 0 < len(shown) < painted and all(p[:3] == [250, 204, 21] for p in shown)
    page.uncheck("input[name=show-masks]")
    expect(page.locator(overlay)).to_have_count(0)


def test_the_save_bar_stays_on_screen_and_confirms_the_save(page: Page, demo: Workspace, shoot):
    page.set_viewport_size({"width": 1280, "height": 560})
    image = demo.images("train", limit=1)[0]
    open_editor(page, image.id)
    tools = page.locator("aside.tools").bounding_box()
    assert tools is not None and tools["y"] + tools["height"] > 560, "the column should be long"
    bar = page.locator(".group.save").bounding_box()
    assert bar is not None and bar["y"] + bar["height"] <= 560, "the save bar is off screen"
    page.mouse.click(*screen_point(page, 8, 8, image.width))
    page.click("button[name=save]")
    confirmation = page.get_by_role("status")
    expect(confirmation).to_have_text("✓ Saved version 1")
    shoot(page, "annotate-saved", full_page=False)
    expect(confirmation).to_have_count(0, timeout=6_000)  # it fades
    expect(page.locator(".save-status")).to_contain_text("Saved version 1")
