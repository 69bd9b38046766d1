"""Browser end-to-end tests of the proposal review queue."""

from __future__ import annotations

import re

import numpy as np
from PIL import Image
from playwright.sync_api import Page, expect

from robustar import Workspace
from robustar.data.spurious_digits import PATCH_COLOURS


def test_accept_reject_and_edit_proposals(page: Page, demo: Workspace, shoot) -> None:
    colours = [tuple(int(v) for v in c) for c in PATCH_COLOURS]
    demo.masks.auto_annotate(split="train", method="colour", colours=colours, limit=3)
    _, (first, second, third) = demo.masks.proposals()
    page.goto("/review")
    expect(page.locator("li[data-proposal]")).to_have_count(3)
    shoot(page, "review")
    page.locator(f"li[data-proposal='{first.id}'] button[name=accept]").dblclick()
    expect(page.locator("li[data-proposal]")).to_have_count(2)
    expect(page.get_by_text("already")).to_have_count(0)  # a second click is no error
    assert demo.masks.current(first.image_id).version == 1
    page.locator(f"li[data-proposal='{second.id}'] button[name=reject]").click()
    expect(page.locator("li[data-proposal]")).to_have_count(1)
    page.locator(f"li[data-proposal='{third.id}'] button[name=edit]").click()
    expect(page).to_have_url(re.compile(rf"/images/{third.image_id}/annotate\?proposal={third.id}"))
    expect(page.locator(".stage")).to_have_attribute("data-ready", "true")
    expect(page.locator(".save-status")).to_contain_text("Unsaved changes")
    page.click("button[name=clear]")
    page.click("button[name=save]")
    expect(page).to_have_url(re.compile(r"/review$"), timeout=15_000)  # save, review, navigate
    expect(page.get_by_text("Nothing to review")).to_be_visible()
    assert not demo.masks.get(third.image_id).any()
    assert demo.masks.proposals("accepted")[0] == 2
    assert demo.masks.proposals("rejected")[0] == 1


def test_queue_an_auto_annotation_from_the_page(page: Page, demo: Workspace) -> None:
    page.goto("/review")
    page.select_option("select[name=label]", "2")
    page.fill("input[name=colours]", "#e6194b #3cb44b #ffe119")
    page.select_option("select[name=invert]", "false")  # from the request's schema
    page.click("button[name=queue]")
    expect(page.get_by_text("queued as")).to_be_visible()
    job = demo.jobs.list()[0]
    assert job.kind == "auto_annotate" and job.params["filters"] == {"label": 2}
    assert job.params["colours"][0] == [230, 25, 75] and job.params["invert"] is False
    demo.jobs.run_next()  # the page follows the job and reloads its list when it ends
    expect(page.locator("li[data-proposal]")).to_have_count(demo.count("train", label=2))
    expect(page.locator("[data-finished]")).to_contain_text("proposals to review")
    assert np.all([p.method == "colour" for p in demo.masks.proposals()[1]])


def _patch_pixel(demo: Workspace, image_id: int) -> tuple[int, int, str]:
    """The centre pixel of the image's spurious patch (from the demo's true mask, a solid
    colour): column, row, hex."""
    record = demo.images_store.record(image_id)
    mask = np.asarray(Image.open(demo.root / "truth/masks/train" / record.relpath))
    rows, columns = np.nonzero(mask)
    row, column = int(rows.mean()), int(columns.mean())
    pixel = np.asarray(demo.images_store.load(image_id))[row, column]
    return column, row, "#" + bytes(pixel).hex()


def test_pick_a_colour_from_an_image_and_keep_the_form(page: Page, demo: Workspace, shoot) -> None:
    """Eyedropper: a click on the patch adds its colour as a swatch; the proposals follow; the
    form's values survive a reload."""
    page.goto("/review")
    page.select_option("select[name=label]", "3")
    page.fill("input[name=colours]", "#010203")  # typed hex still works beside picked ones
    sample = page.locator(".source[data-loaded='train/3'] button[name=sample]").first
    expect(sample).to_be_visible()
    image_id = int(sample.get_attribute("data-image") or 0)
    assert demo.image(image_id).label == 3  # the strip follows the chosen class
    sample.click()
    canvas = page.locator("canvas.sample[data-ready=true]")
    expect(canvas).to_be_visible()
    column, row, hex_colour = _patch_pixel(demo, image_id)
    box = canvas.bounding_box()
    assert box is not None
    size = demo.images_store.load(image_id).size
    canvas.click(
        position={
            "x": (column + 0.5) * box["width"] / size[0],
            "y": (row + 0.5) * box["height"] / size[1],
        }
    )
    expect(page.locator(f".swatch[data-colour='{hex_colour}']")).to_be_visible()
    expect(page.locator("input[name=colours]")).to_have_value(f"#010203, {hex_colour}")
    page.click("button[aria-label='remove #010203']")
    expect(page.locator("input[name=colours]")).to_have_value(hex_colour)
    page.fill("input[name=tolerance]", "4")
    shoot(page, "review-eyedropper")
    page.click("button[name=queue]")
    expect(page.get_by_text("queued as")).to_be_visible()
    job = demo.jobs.list()[0]
    assert job.params["colours"] == [list(bytes.fromhex(hex_colour[1:]))]
    demo.jobs.run_next()
    expect(page.locator("[data-finished]")).to_contain_text("proposals to review")
    expect(page.locator("li[data-proposal]").first).to_be_visible()
    made = demo.masks.proposals()[1]
    assert made and all(p.pixels > 0 for p in made)
    assert image_id in {p.image_id for p in made}
    page.reload()
    expect(page.locator("input[name=colours]")).to_have_value(hex_colour)
    expect(page.locator("input[name=tolerance]")).to_have_value("4")
    expect(page.locator("select[name=label]")).to_have_value("3")
    expect(page.locator(f".swatch[data-colour='{hex_colour}']")).to_be_visible()
    shoot(page, "review-eyedropper-reloaded")
