"""Browser end-to-end tests of browsing: home, gallery, image view, models."""

from __future__ import annotations

import html
import re
from pathlib import Path

from playwright.sync_api import Page, expect

from robustar import Workspace
from tests.test_repair import import_truth


def test_home_shows_splits_and_the_current_model(page: Page, demo: Workspace, shoot) -> None:
    page.goto("/")
    expect(page.locator("tr[data-split='train']")).to_contain_text("200")
    accuracy = demo.current_model.metrics["test"]["accuracy"]
    expect(page.locator("tr[data-split='test']")).to_contain_text(f"{100 * accuracy:.1f}%")
    expect(page.get_by_text("Current model")).to_be_visible()
    shoot(page, "home")


def test_filter_wrong_open_image_and_step(page: Page, demo: Workspace, shoot) -> None:
    wrong = demo.images("test", correct=False, sort="loss", descending=True)
    page.goto("/gallery/test")
    expect(page.locator(".cell")).to_have_count(80)
    page.select_option("select[name=correct]", "false")
    expect(page).to_have_url(re.compile(r"correct=false"))
    expect(page.locator(".cell")).to_have_count(len(wrong))
    page.select_option("select[name=sort]", "loss")
    page.click("button[name=order]")
    expect(page).to_have_url(re.compile(r"sort=loss.*order=desc|order=desc.*sort=loss"))
    expect(page.locator(".cell").first).to_have_attribute("data-image-id", str(wrong[0].id))
    expect(page.locator(".cell.wrong")).to_have_count(len(wrong))
    shoot(page, "gallery-wrong")

    page.locator(".cell").first.click()
    expect(page).to_have_url(re.compile(rf"/gallery/test/images/{wrong[0].id}\?"))
    expect(page.locator(".predicted-label")).to_contain_text("(wrong)")
    expect(page.get_by_text(f"1 of {len(wrong)} in this list")).to_be_visible()
    expect(page.locator("table[aria-label='class probabilities'] tr")).to_have_count(10)
    shoot(page, "image")

    page.keyboard.press("ArrowRight")
    expect(page).to_have_url(re.compile(rf"/images/{wrong[1].id}\?"))
    expect(page.get_by_text(f"2 of {len(wrong)} in this list")).to_be_visible()
    page.click("button[name=next]")
    expect(page).to_have_url(re.compile(rf"/images/{wrong[2].id}\?"))
    expect(page.get_by_text(f"3 of {len(wrong)} in this list")).to_be_visible()
    page.keyboard.press("ArrowLeft")
    expect(page).to_have_url(re.compile(rf"/images/{wrong[1].id}\?"))
    page.get_by_role("link", name=re.compile("gallery")).click()
    expect(page).to_have_url(re.compile(r"/gallery/test\?.*correct=false"))


def test_confusion_matrix_cell_opens_the_matching_gallery(
    page: Page, demo: Workspace, shoot
) -> None:
    confusion = demo.metrics("test").confusion
    i, j = next(
        (i, j) for i, row in enumerate(confusion) for j, n in enumerate(row) if n and i != j
    )
    page.goto("/models")
    expect(page.locator("tr[data-version='1'] .badge")).to_have_text("current")
    shoot(page, "models")
    page.click(f"[data-cell='{i}-{j}']")
    expect(page).to_have_url(re.compile(rf"/gallery/test\?label={i}&predicted={j}"))
    expect(page.locator(".cell")).to_have_count(confusion[i][j])
    expect(page.locator("select[name=label]")).to_have_value(str(i))


def test_switching_the_current_version(page: Page, demo: Workspace) -> None:
    demo.train(architecture="tiny_cnn", epochs=1, seed=1, predict=False)
    page.goto("/models")
    expect(page.locator("tr[data-version='2'] .badge")).to_have_text("current")
    page.locator("tr[data-version='1'] button[name=make-current]").click()
    expect(page.locator("tr[data-version='1'] .badge")).to_have_text("current")
    expect(page.locator("tr[data-version='2'] button[name=make-current]")).to_be_visible()
    assert demo.current_model.id == 1


def test_a_candidate_shows_the_guards_reason_and_is_promoted(page: Page, demo: Workspace, shoot):
    # a fine-tune that learns something, then one epoch at lr 10 that the guard holds back
    good = dict(epochs=10, learning_rate=1e-2, batch_size=32, evaluate_test=False)
    demo.train(init="current", guard=False, predict=False, **good)  # about 40 % validation
    bad = demo.train(init="current", epochs=1, optimizer="sgd", learning_rate=10.0, predict=False)
    assert bad.status == "candidate"
    page.goto("/models")
    row = page.locator(f"tr[data-version='{bad.id}']")
    expect(row.locator(".badge")).to_have_text("candidate")
    expect(page.locator(f"tr[data-candidate='{bad.id}']")).to_contain_text("fell by more than")
    shoot(page, "models-candidate")
    row.locator("button[name=promote]").click()
    expect(row.locator(".badge")).to_have_text("current")
    expect(page.locator(f"tr[data-candidate='{bad.id}']")).to_have_count(0)
    assert demo.current_model.id == bad.id and demo.current_model.status == "ready"


def test_unknown_image_shows_an_error(page: Page) -> None:
    page.goto("/gallery/test/images/999999")
    expect(page.get_by_role("alert")).to_contain_text("does not exist")


def test_compare_versions_and_open_the_flipped_images(page: Page, demo: Workspace, shoot):
    import_truth(demo, "test")  # so the verdict speaks of reliance on the painted pixels
    second = demo.train(architecture="tiny_cnn", epochs=2, seed=4, init="current", guard=False)
    report = demo.compare()
    test = next(s for s in report.splits if s.split == "test")
    page.goto("/models")
    verdict = page.locator("[data-verdict]")
    expect(verdict.locator(".conclusion")).to_have_text(report.verdict.conclusion)
    expect(verdict.locator("li")).to_have_count(len(report.verdict.sentences))
    expect(verdict).to_contain_text("Reliance on the painted pixels")
    row = page.locator(".compare tr[data-split='test']")
    expect(row).to_contain_text(f"{100 * test.after:.1f}%")
    shoot(page, "compare")
    with page.expect_download() as download:
        page.locator("a[name=report-html]").click()
    assert download.value.suggested_filename == f"robustar-report-v1-v{second.id}.html"
    saved = Path(download.value.path()).read_text()
    assert html.escape(report.verdict.conclusion, quote=False) in saved
    markdown = page.locator("a[name=report-markdown]")
    expect(markdown).to_have_attribute("href", re.compile(r"format=markdown"))
    report_page = page.context.new_page()
    report_page.set_content(saved)  # as a colleague opens it: no server needed
    shoot(report_page, "compare-report")
    report_page.close()
    row.get_by_role("link").nth(2).click()  # "changed"
    expect(page).to_have_url(re.compile(r"/gallery/test\?versus=1"))
    expect(page.locator(".cell")).to_have_count(test.changed)
    expect(page.locator(".versus")).to_contain_text("against v1")
    assert second.parent_id == 1


def test_saliency_overlay_and_activation_images(page: Page, demo: Workspace, shoot) -> None:
    image = demo.images("test", limit=1)[0]
    page.goto(f"/gallery/test/images/{image.id}")
    page.check("input[name=saliency]")
    expect(page.locator("[data-saliency-ready]")).to_contain_text("explaining")
    expect(page.locator("img.overlay")).to_be_visible()
    page.select_option("select[name=saliency-method]", "gradcam")
    page.select_option("select[name=saliency-target]", "7")
    expect(page.locator("[data-saliency-ready]")).to_contain_text("explaining 7")
    bar = page.locator(".colour-bar")
    expect(bar).to_have_attribute("data-method", "gradcam")
    expect(bar).to_have_attribute("data-overlay", "true")
    expect(bar).to_contain_text("low")
    scale = re.compile(r"linear-gradient\(to right, rgba\(0, 0, 4, 0\).*rgb\(252, 255, 164\)")
    expect(bar.locator(".bar")).to_have_css("background-image", scale)
    shoot(page, "saliency")
    # The map alone: the image hidden, the map opaque, the bar without transparency.
    page.check("input[name=saliency-map-only]")
    expect(page.locator("img.overlay.saliency")).to_have_attribute("data-map-only", "true")
    expect(page.locator(".stack img").first).to_be_hidden()
    expect(bar).to_have_attribute("data-overlay", "false")
    expect(page.locator("input[name=saliency-opacity]")).to_be_disabled()
    alpha = page.locator("img.overlay.saliency").evaluate(
        "img => { const c = document.createElement('canvas'); c.width = img.naturalWidth;"
        " c.height = img.naturalHeight; const x = c.getContext('2d'); x.drawImage(img, 0, 0);"
        " const d = x.getImageData(0, 0, c.width, c.height).data;"
        " return Math.min(...d.filter((_, i) => i % 4 === 3)) }"
    )
    assert alpha == 255
    shoot(page, "saliency-map-only")
    page.goto("/models")
    expect(page.locator("img.activation")).to_have_count(10)


def test_gallery_density_is_chosen_and_remembered(page: Page, shoot) -> None:
    page.goto("/gallery/test")
    grid = page.locator("ul.grid")
    expect(grid).to_have_attribute("data-density", "medium")
    medium = page.locator(".cell").first.bounding_box()
    page.click("button[name=density-small]")
    expect(grid).to_have_attribute("data-density", "small")
    expect(page.locator(".cell img").first).to_have_attribute("src", re.compile(r"size=64"))
    small = page.locator(".cell").first.bounding_box()
    assert small is not None and medium is not None and small["width"] < medium["width"]
    shoot(page, "gallery-small")
    page.reload()
    expect(grid).to_have_attribute("data-density", "small")
    expect(page.locator("button[name=density-small]")).to_have_attribute("aria-checked", "true")
    page.click("button[name=density-large]")
    expect(page.locator(".cell img").first).to_have_attribute("src", re.compile(r"size=256"))
    large = page.locator(".cell").first.bounding_box()
    assert large is not None and large["width"] > medium["width"]
    shoot(page, "gallery-large")


def test_a_small_image_has_its_panels_beside_it(page: Page, demo: Workspace, shoot) -> None:
    image = demo.images("test", limit=1)[0]
    assert max(image.width, image.height) <= 160
    page.goto(f"/gallery/test/images/{image.id}")
    viewer = page.locator("figure.viewer").bounding_box()
    influence = page.locator("section.influence").bounding_box()
    assert viewer is not None and influence is not None
    assert influence["x"] >= viewer["x"] + viewer["width"], "influence sits beside the image"
    assert influence["y"] < 800, "influence is above the fold"
    shoot(page, "image-small", full_page=False)
