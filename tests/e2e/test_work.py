"""Work per person in the browser: an admin assigns a class to an annotator, who signs in,
finds it on her home and on My work, masks the first image of her queue, and both see the
progress move."""

from __future__ import annotations

import re

from playwright.sync_api import Browser, Page, expect

from robustar import Workspace
from tests.e2e.test_annotate import screen_point
from tests.e2e.test_team import server, sign_in  # noqa: F401  (the team-mode server fixture)


def test_admin_assigns_a_class_and_the_annotator_works_through_it(
    page: Page,
    browser: Browser,
    server: str,  # noqa: F811
    demo: Workspace,
    shoot,
) -> None:
    name = demo.classes[3]
    count = len(demo.images("train", label=name, limit=1000))
    sign_in(page, "admin")
    page.click("nav >> text=My work")
    page.select_option("select[name=assign-to]", "anna")
    page.select_option("select[name=assign-class]", name)
    page.click("button[name=assign]")
    expect(page.get_by_role("status")).to_contain_text(
        f"Assigned {count} images to anna: class {name} (train)"
    )
    expect(page.locator("tr[data-person=anna]")).to_contain_text(f"0{count}")
    shoot(page, "work-admin-assigned")

    context = browser.new_context(viewport={"width": 1280, "height": 800}, base_url=server)
    anna = context.new_page()
    sign_in(anna, "annotator")
    home = anna.locator("[data-section=my-work]")
    expect(home).to_contain_text(f"{count} images to mask")
    expect(home).to_contain_text(f"0 / {count}")
    shoot(anna, "work-annotator-home")
    anna.click("text=open your queue")
    tiles = anna.locator("[data-section=queue] .tile")
    expect(tiles).to_have_count(count)
    shoot(anna, "work-annotator-queue")
    first = int(tiles.first.get_attribute("data-image") or -1)
    tiles.first.click()
    expect(anna.locator(".stage")).to_have_attribute("data-ready", "true")
    expect(anna.locator(".position")).to_contain_text(f"1 of {count} in the work queue")
    width = demo.image(first).width
    anna.mouse.click(*screen_point(anna, 10, 10, width))
    anna.keyboard.press("Control+s")
    expect(anna.locator(".save-status")).to_contain_text("by anna")
    shoot(anna, "work-annotator-saved")
    anna.click("text=← my work")
    expect(anna).to_have_url(re.compile(r"/work$"))
    expect(anna.locator("[data-left]")).to_contain_text(f"{count - 1} images to mask")
    expect(anna.locator("[data-section=queue] [data-batch]")).to_contain_text(f"1 / {count}")
    expect(anna.locator(f".tile[data-image='{first}']")).to_have_count(0)
    shoot(anna, "work-annotator-progress")
    context.close()

    page.reload()
    expect(page.locator("tr[data-person=anna]")).to_contain_text(f"1{count}")
    shoot(page, "work-admin-progress")
    assert first not in [a.image_id for a in demo.assignments.queue("anna")]
