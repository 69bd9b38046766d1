"""Browser end-to-end tests of the task center and the training form."""

from __future__ import annotations

import re
import threading

import numpy as np
from playwright.sync_api import Page, expect

from robustar import Workspace


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
    expect(page.locator("svg[aria-label='training curves'] polyline")).to_have_count(5)
    expect(page.locator("pre.log")).to_contain_text("epoch 2: train loss")
    shoot(page, "tasks")


def test_cancel_a_queued_job(page: Page, demo: Workspace) -> None:
    job = demo.jobs.submit("predict", {"splits": ["test"]})
    page.goto(f"/tasks?job={job.id}")
    page.click("button[name=cancel]")
    expect(page.locator("section.detail")).to_have_attribute("data-status", "cancelled")
    page.click("button[name=resume]")
    expect(page.locator("section.detail")).to_have_attribute("data-status", "queued")
    assert demo.jobs.get(job.id).status == "queued"
