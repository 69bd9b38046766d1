"""Browser end-to-end tests of the task center and the training form."""

from __future__ import annotations

import re
import threading

import numpy as np
from PIL import Image
from playwright.sync_api import Page, expect

from robustar import Workspace
from tests.test_repair import import_truth


def test_queue_training_watch_it_finish_and_see_curves(page: Page, demo: Workspace, shoot):
    page.goto("/train")
    page.fill("input[name=architecture]", "tiny_cnn")
    page.fill("input[name=epochs]", "2")
    coverage = page.locator("section[aria-label='mask coverage']")
    expect(coverage).to_have_count(0)  # only for paired training
    page.check("input[name=paired]")
    expect(coverage).to_contain_text("paired training needs masks")
    expect(coverage.locator("[role=alert]")).to_have_count(0)
    page.uncheck("input[name=paired]")
    for image in demo.images("train", label="9", limit=6):  # masks of one class only
        demo.masks.set(image.id, np.ones((32, 32), dtype=bool))
    page.check("input[name=paired]")
    expect(coverage.locator(".warning[role=alert]")).to_contain_text(
        "Masks cover 1 of 10 classes (9)"
    )
    expect(coverage.locator("tr[data-class='9'] td").nth(2)).to_have_text("6")
    expect(coverage.locator("tr[data-class='9'] td").nth(3)).to_contain_text("100%")
    expect(coverage.locator("tbody tr")).to_have_count(10)
    # The form is built from TrainOptions' schema: an input per option, shown when it applies.
    expect(page.locator("select[name=regularizer] option")).to_have_count(4)
    page.select_option("select[name=init]", "current")  # fine-tune, optionally uploaded weights
    expect(page.locator("input[name=weights]")).to_be_visible()
    page.select_option("select[name=init]", "scratch")
    page.select_option("select[name=filler]", "worst")
    expect(page.locator("input[name=worst_of]")).to_be_visible()
    page.select_option("select[name=filler]", "mixture")
    expect(page.locator("input[name=worst_of]")).to_have_count(0)
    shoot(page, "train")
    page.click("button[name=start]")
    expect(page).to_have_url(re.compile(r"/tasks\?job=\d+"))
    job_id = int(page.url.rsplit("=", 1)[1])
    expect(page.locator(f"section.detail[data-job='{job_id}']")).to_have_attribute(
        "data-status", "queued"
    )
    assert demo.jobs.get(job_id).params["options"]["filler"] == "mixture"
    worker = threading.Thread(target=demo.jobs.run_next)
    worker.start()
    expect(page.locator("section.detail")).to_have_attribute(
        "data-status", "succeeded", timeout=60_000
    )
    worker.join()
    # Loss and accuracy in their own chart panels, over epochs, with values on hover.
    curves = page.get_by_role("group", name="training curves")
    expect(curves.locator("canvas")).to_have_count(2)
    accuracy = curves.locator("[data-panel=accuracy] canvas")
    box = accuracy.bounding_box()
    assert box is not None and box["height"] > 100
    accuracy.hover(position={"x": box["width"] - 20, "y": box["height"] / 2})
    tip = page.get_by_role("tooltip")
    expect(tip).to_contain_text("epoch 2")
    epoch = demo.jobs.get(job_id).result["epochs"][-1]
    expect(tip).to_contain_text(f"validation accuracy: {100 * epoch['val_accuracy']:.1f}%")
    expect(page.locator("pre.log")).to_contain_text("epoch 2: train loss")
    shoot(page, "tasks")
    page.mouse.move(0, 0)
    expect(tip).to_have_count(0)


def test_cancel_a_queued_job(page: Page, demo: Workspace) -> None:
    job = demo.jobs.submit("predict", {"splits": ["test"]})
    page.goto(f"/tasks?job={job.id}")
    page.click("button[name=cancel]")
    expect(page.locator("section.detail")).to_have_attribute("data-status", "cancelled")
    page.click("button[name=resume]")
    expect(page.locator("section.detail")).to_have_attribute("data-status", "queued")
    assert demo.jobs.get(job.id).status == "queued"


def test_repair_search_shows_every_candidate_and_promotes_one(
    page: Page, demo: Workspace, shoot
) -> None:
    import_truth(demo, "validation")
    for image in demo.images("train", limit=40):  # a few training masks to pair
        truth = np.asarray(Image.open(demo.root / "truth/masks/train" / image.relpath)) > 0
        demo.masks.set(image.id, truth)
    base = demo.current_model.id
    page.goto("/train")
    page.fill("input[name=architecture]", "tiny_cnn")
    page.fill("input[name=epochs]", "1")
    page.uncheck("input[name=evaluate_test]")
    search = page.locator("section[aria-label='repair search']")
    # the default grid comes from the server: 2 fillers x copy loss off/on, from scratch
    expect(search.locator("button[name=search]")).to_contain_text("4 candidates")
    search.locator("input[name=search_filler][value=uniform]").uncheck()
    search.locator("input[name=search_copy_loss][value=true]").uncheck()
    search.locator("input[name=search_pair_weight]").fill("1")
    search.locator("input[name=search_init][value=current]").check()
    expect(search.locator("button[name=search]")).to_contain_text("2 candidates")
    shoot(page, "repair-search-form")
    search.locator("button[name=search]").click()
    run = search.locator("div.run")
    expect(run).to_have_attribute("data-status", "queued")
    worker = threading.Thread(target=demo.jobs.run_next)
    worker.start()
    expect(run).to_have_attribute("data-status", "succeeded", timeout=90_000)
    worker.join()
    rows = run.locator("table.candidates tbody tr")
    expect(rows).to_have_count(2)
    expect(run.locator("tr.chosen")).to_have_count(1)
    expect(run.locator("p.reason")).to_contain_text("chosen: score")
    assert demo.current_model.id == base  # the search made nothing current
    shoot(page, "repair-search")
    chosen = int(run.locator("tr.chosen").get_attribute("data-version"))
    run.locator("tr.chosen button[name=promote]").click()
    expect(run.locator("tr.chosen .current")).to_be_visible()
    assert demo.current_model.id == chosen
