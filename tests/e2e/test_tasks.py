"""Browser end-to-end tests of the task center and the training form."""

from __future__ import annotations

import re
import threading

from playwright.sync_api import Page, expect

from robustar import Workspace


def test_queue_training_watch_it_finish_and_see_curves(page: Page, demo: Workspace, shoot):
    page.goto("/train")
    page.fill("input[name=architecture]", "tiny_cnn")
    page.fill("input[name=epochs]", "2")
    page.check("input[name=paired]")
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
