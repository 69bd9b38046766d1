"""Team mode in the browser: an annotator signs in, sees who saved the mask, saves her own, and
meets a conflict that names the other user; an admin sees and changes the users page."""

from __future__ import annotations

import re
from collections.abc import Iterator

import numpy as np
import pytest
from playwright.sync_api import Browser, Page, expect

from robustar import Workspace
from robustar.accounts.actor import Actor, acting_as
from robustar.server.background import serve_in_background
from tests.e2e.test_annotate import open_editor, screen_point
from tests.team import NAMES, PASSWORD, make_team


@pytest.fixture
def server(demo: Workspace) -> Iterator[str]:
    make_team(demo, host="127.0.0.1")
    with serve_in_background(demo) as url:
        yield url


def sign_in(page: Page, role: str) -> None:
    page.goto("/")
    expect(page).to_have_url(re.compile(r"/login"))
    page.fill("input[name=name]", NAMES[role])
    page.fill("input[name=password]", PASSWORD)
    page.click("button[name=sign-in]")
    expect(page.locator(".account")).to_contain_text(f"{NAMES[role]} · {role}")


def save_as(demo: Workspace, name: str, image_id: int, filled: bool) -> None:
    user = demo.accounts.user(name)
    image = demo.image(image_id)
    with acting_as(Actor(user.name, user.id)):
        demo.masks.set(image_id, np.full((image.height, image.width), filled))


def test_annotator_sees_who_saved_and_saves_as_herself(page: Page, demo: Workspace, shoot) -> None:
    image = demo.images("train", limit=1)[0]
    save_as(demo, "ada", image.id, False)
    sign_in(page, "annotator")
    open_editor(page, image.id)
    expect(page.locator(".save-status")).to_contain_text("Saved version 1 by ada")
    page.mouse.click(*screen_point(page, 10, 10, image.width))
    page.keyboard.press("Control+s")
    expect(page.locator(".save-status")).to_contain_text("Saved version 2 by anna")
    shoot(page, "team-annotator-saved-by")
    assert demo.masks.current(image.id).author == "anna"
    save_as(demo, "ada", image.id, True)  # the admin saves meanwhile
    page.mouse.click(*screen_point(page, 20, 20, image.width))
    page.click("button[name=save]")
    expect(page.get_by_role("alertdialog")).to_contain_text("saved by ada")
    shoot(page, "team-conflict-names-the-user")


def test_admin_users_page(page: Page, demo: Workspace, shoot) -> None:
    sign_in(page, "admin")
    page.click("nav >> text=Users")
    row = page.locator("tr[data-user=anna]")
    expect(row).to_contain_text("enabled")
    page.fill("input[name=new-name]", "newbie")
    page.fill("input[name=new-password]", "a long enough password")
    page.click("button[name=add-user]")
    expect(page.locator("tr[data-user=newbie]")).to_contain_text("annotator")
    page.click("button[name=toggle-anna]")
    expect(row).to_contain_text("disabled")
    shoot(page, "team-users")
    assert demo.accounts.user("anna").disabled
    page.click("text=Audit")
    expect(page.locator("table.audit")).to_contain_text("disable user")
    shoot(page, "team-audit")


def test_a_viewer_is_signed_out_when_disabled(browser: Browser, server: str, demo: Workspace):
    context = browser.new_context(base_url=server)
    page = context.new_page()
    sign_in(page, "viewer")
    demo.accounts.set_disabled("vic", True)
    page.click("nav >> text=Models")
    expect(page).to_have_url(re.compile(r"/login"))
    context.close()
