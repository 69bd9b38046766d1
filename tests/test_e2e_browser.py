"""Browser end-to-end tests: Debian's chromium driven by Playwright, against a live server."""

from __future__ import annotations

import re
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn
from playwright.sync_api import Browser, Page, expect, sync_playwright

from robustar import Workspace
from robustar.server.app import STATIC_DIR, create_app

CHROMIUM = Path("/usr/bin/chromium")
FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
SCREENSHOTS = Path(__file__).resolve().parent.parent / "test-output" / "screenshots"


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        pytest.fail("browser tests need Debian's chromium: apt-get install chromium (.ci/run does)")
    if not (STATIC_DIR / "index.html").is_file():
        pytest.fail("the web app is not built: run 'make web' (make test does it)")
    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=str(CHROMIUM), args=FLAGS)
        yield instance
        instance.close()


@pytest.fixture
def server(demo: Workspace) -> Iterator[str]:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    config = uvicorn.Config(create_app(demo), host="127.0.0.1", port=port, log_level="warning")
    instance = uvicorn.Server(config)
    thread = threading.Thread(target=instance.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not instance.started:
        if time.monotonic() > deadline:
            pytest.fail("the test server did not start")
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    instance.should_exit = True
    thread.join(timeout=10)


@pytest.fixture
def page(browser: Browser, server: str) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1280, "height": 800}, base_url=server)
    tab = context.new_page()
    errors: list[str] = []
    tab.on("pageerror", lambda error: errors.append(str(error)))
    yield tab
    context.close()
    assert errors == [], f"JavaScript errors on the page: {errors}"


def shoot(page: Page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SCREENSHOTS / f"{name}.png", full_page=True)


def test_home_shows_splits_and_the_current_model(page: Page, demo: Workspace) -> None:
    page.goto("/")
    expect(page.locator("tr[data-split='train']")).to_contain_text("200")
    accuracy = demo.current_model.metrics["test"]["accuracy"]
    expect(page.locator("tr[data-split='test']")).to_contain_text(f"{100 * accuracy:.1f}%")
    expect(page.get_by_text("Current model")).to_be_visible()
    shoot(page, "home")


def test_filter_wrong_open_image_and_step(page: Page, demo: Workspace) -> None:
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


def test_confusion_matrix_cell_opens_the_matching_gallery(page: Page, demo: Workspace) -> None:
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


def test_unknown_image_shows_an_error(page: Page) -> None:
    page.goto("/gallery/test/images/999999")
    expect(page.get_by_role("alert")).to_contain_text("does not exist")
