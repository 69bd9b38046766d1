"""Browser end-to-end: export masks from the home page, then import the file back with a dry
run first."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from playwright.sync_api import Page, expect

from robustar import Workspace
from tests.test_mask_transfer import shapes


def test_export_download_then_dry_run_and_import(
    page: Page, demo: Workspace, shoot, tmp_path: Path
) -> None:
    masks = {image.id: shapes(image.id) for image in demo.images("test", limit=3)}
    for image_id, mask in masks.items():
        demo.masks.set(image_id, mask)
    page.goto("/")
    page.click("[data-open-export]")
    dialog = page.locator("[data-export-dialog]")
    dialog.locator("select[name=format]").select_option("coco-polygons")
    dialog.locator("select[name=split]").select_option("test")
    shoot(page, "mask-export-dialog", full_page=False)
    with page.expect_download() as download:
        dialog.locator("[data-download]").click()
    saved = tmp_path / download.value.suggested_filename
    download.value.save_as(saved)
    assert saved.name == "robustar-spurious-masks-coco-polygons.json"
    document = json.loads(saved.read_text())
    assert len(document["images"]) == 3
    dialog.locator("button[type=submit]").click()

    for image_id in masks:
        demo.masks.set(image_id, np.zeros((32, 32), dtype=bool))
    page.click("[data-open-import]")
    dialog = page.locator("[data-import-dialog]")
    dialog.locator("input[type=file]").set_input_files(saved)
    dialog.locator("select[name=format]").select_option("coco-polygons")
    expect(dialog.locator("[data-commit]")).to_be_disabled()  # only after a dry run
    dialog.locator("[data-dry-run]").click()
    report = dialog.locator("[data-import-report]")
    expect(report).to_contain_text("3 masks read, 3 images matched, 3 would change")
    shoot(page, "mask-import-dry-run", full_page=False)
    assert not any(demo.masks.get(i).any() for i in masks)  # a dry run stores nothing
    dialog.locator("[data-commit]").click()
    expect(report).to_contain_text("3 changed and stored")
    assert all(np.array_equal(demo.masks.get(i), m) for i, m in masks.items())

    dialog.locator("select[name=split]").select_option("train")  # wrong split: listed
    dialog.locator("[data-dry-run]").click()
    expect(report).to_contain_text("3 match no image")
    shoot(page, "mask-import-unmatched", full_page=False)
