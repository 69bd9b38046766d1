"""Browser end-to-end tests of data attribution: the influence panel and the suspicious queue."""

from __future__ import annotations

import re

import numpy as np
from playwright.sync_api import Page, expect

from robustar import Workspace


def test_influence_panel_builds_the_index_and_opens_the_annotation_page(
    page: Page, demo: Workspace, shoot
) -> None:
    image = demo.images("test", correct=False, limit=1)[0]
    page.goto(f"/gallery/test/images/{image.id}")
    page.click("button[name=build-index]")
    expect(page.get_by_text("Queued as")).to_be_visible()
    demo.jobs.run_next()
    page.reload()
    expect(page.locator("[data-group=helpful] img")).to_have_count(8)
    expect(page.locator("[data-group=harmful] img")).to_have_count(8)
    shoot(page, "influence")
    # Another method: its own index, built by its own job.
    page.select_option("select[name=attribution-method]", "trak")
    expect(
        page.get_by_text("The trak attribution index of model version 1 is missing.")
    ).to_be_visible()
    page.click("button[name=build-index]")
    expect(page.get_by_text("Queued as")).to_be_visible()
    demo.jobs.run_next()
    assert {i.method for i in demo.attribution.status()} == {"trak", "cosine"}
    # The panel follows the job and shows the new index's results when it is done.
    expect(page.locator("[data-group=helpful] img")).to_have_count(8)
    # A setting the server refuses is shown, and nothing is queued.
    page.click("text=Index settings")
    page.fill("input[name=index-ensemble]", "50")
    page.click("button[name=rebuild-index]")
    expect(page.locator(".influence .bad")).to_contain_text("ensemble")
    # Rebuild TRAK as an ensemble of the last 2 epoch checkpoints from the panel's settings.
    page.fill("input[name=index-ensemble]", "2")
    page.click("button[name=rebuild-index]")
    expect(page.get_by_text("Queued as")).to_be_visible()
    demo.jobs.run_next()
    trak = next(i for i in demo.attribution.status() if i.method == "trak")
    assert trak.ensemble == 2 and trak.complete
    page.select_option("select[name=attribution-method]", "cosine")
    # The label is explained by default; the prediction (here a wrong one) on request.
    heading = page.locator("[data-group=helpful] h3")
    expect(heading).to_have_text(f"Most support class {demo.classes[image.label]}")
    predicted = image.prediction.predicted
    page.select_option("select[name=attribution-target]", "predicted")
    expect(heading).to_have_text(f"Most support class {demo.classes[predicted]}")
    first = demo.attribution.query(image.id, target=predicted).helpful[0].image_id
    expect(page.locator("[data-group=helpful] a").first).to_have_attribute(
        "href", re.compile(rf"/images/{first}/annotate")
    )
    page.select_option("select[name=attribution-target]", "label")
    harmful = demo.attribution.query(image.id).harmful[0].image_id
    page.locator("[data-group=harmful] a").first.click()
    expect(page).to_have_url(re.compile(rf"/gallery/train/images/{harmful}/annotate"))
    # Next follows the column the user came from, not the training split.
    after = demo.attribution.query(image.id).harmful[1].image_id
    expect(page.get_by_text("1 of 8 in the influence list")).to_be_visible()
    page.click("button[name=next]")
    expect(page).to_have_url(re.compile(rf"/gallery/train/images/{after}/annotate\?"))


def test_suspicious_queue_lists_training_images(page: Page, demo: Workspace, shoot) -> None:
    # Without an index the page offers to build one, and shows the queue once it is built.
    page.goto("/suspicious")
    expect(
        page.get_by_text("The cosine attribution index of model version 1 is missing.")
    ).to_be_visible()
    page.click("button[name=build-index]")
    expect(page.get_by_text("Queued as")).to_be_visible()
    demo.jobs.run_next()
    ranked = demo.attribution.suspicious(limit=100)
    expect(page.locator("li[data-image-id]")).to_have_count(len(ranked))
    first = page.locator("li[data-image-id]").first
    expect(first).to_have_attribute("data-image-id", str(ranked[0].image_id))
    expect(first.locator("a.harms img")).to_be_visible()
    shoot(page, "suspicious")
    # Next to each suspect, the mistake it drives most opens that test image's page.
    first.locator("a.harms").click()
    expect(page).to_have_url(re.compile(rf"/gallery/test/images/{ranked[0].harms_most}$"))
    page.go_back()
    # Annotated suspects are marked, and can be hidden; the plain score order is offered.
    image = demo.image(ranked[0].image_id)
    demo.masks.save(image.id, np.ones((image.height, image.width), bool), kind="spurious")
    page.reload()
    expect(first).to_have_attribute("data-annotated", "true")
    expect(first.get_by_text("annotated")).to_be_visible()
    page.check("input[name=hide-annotated]")
    expect(page.locator(f"li[data-image-id='{image.id}']")).to_have_count(0)
    page.uncheck("input[name=hide-annotated]")
    page.select_option("select[name=ordering]", "score")
    by_score = demo.attribution.suspicious(limit=100, ordering="score")
    assert by_score[1] != ranked[1], "the demo's two orders should differ at rank 2"
    expect(page.locator("li[data-image-id]").nth(1)).to_have_attribute(
        "data-image-id", str(by_score[1].image_id)
    )
    # The queue offers every method but the per-query CG solve.
    options = page.locator("select[name=attribution-method] option")
    expect(options).to_have_count(4)
    expect(page.locator("option[value=influence-cg]")).to_have_count(0)


def test_the_editor_steps_through_the_queue_it_was_opened_from(
    page: Page, demo: Workspace, shoot
) -> None:
    demo.attribution.build()
    ranked = [s.image_id for s in demo.attribution.suspicious(limit=100)]
    page.goto("/suspicious")
    page.locator(f"li[data-image-id='{ranked[0]}'] a.suspect").click()
    expect(page).to_have_url(re.compile(rf"/images/{ranked[0]}/annotate\?from=queue"))
    expect(page.locator(".stage")).to_have_attribute("data-ready", "true")
    position = page.locator(".head .position")
    expect(position).to_have_text(f"1 of {len(ranked)} in the suspicious queue")
    expect(page.locator("button[name=previous]")).to_be_disabled()
    page.click("button[name=next]")
    expect(page).to_have_url(re.compile(rf"/images/{ranked[1]}/annotate\?"))
    expect(page.locator(".stage")).to_have_attribute("data-ready", "true")
    page.keyboard.press("ArrowRight")  # the shortcut steps through the same list
    expect(page).to_have_url(re.compile(rf"/images/{ranked[2]}/annotate\?"))
    expect(position).to_have_text(f"3 of {len(ranked)} in the suspicious queue")
    shoot(page, "annotate-queue")
    # The image page keeps the list, and offers the way back to the queue.
    page.get_by_role("link", name="← image").click()
    expect(page.get_by_text(f"3 of {len(ranked)} in the suspicious queue")).to_be_visible()
    page.keyboard.press("ArrowLeft")
    expect(page).to_have_url(re.compile(rf"/gallery/train/images/{ranked[1]}\?"))
    page.get_by_role("link", name="← suspicious queue").click()
    expect(page).to_have_url(re.compile(r"/suspicious$"))
