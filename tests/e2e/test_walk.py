"""A new user's walk over every page of a fresh workspace: nothing built yet is no error."""

from __future__ import annotations

from playwright.sync_api import Browser, Page, Response

from robustar import Workspace


def test_a_first_walk_has_no_console_errors_and_no_4xx(
    browser: Browser, server: str, demo: Workspace, shoot
) -> None:
    """No attribution index, saliency, masks or candidate yet: every page still answers 2xx."""
    image = demo.images("test", correct=False, limit=1)[0]
    walk = {
        "home": "/",
        "gallery": "/gallery/train",
        "image": f"/gallery/test/images/{image.id}",
        "annotate": f"/gallery/test/images/{image.id}/annotate",
        "suspicious": "/suspicious",
        "review": "/review",
        "models": "/models",
        "train": "/train",
        "tasks": "/tasks",
    }
    context = browser.new_context(viewport={"width": 1280, "height": 800}, base_url=server)
    page: Page = context.new_page()
    problems: list[str] = []
    page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
    page.on(
        "console",
        lambda m: problems.append(f"console {m.type}: {m.text}") if m.type == "error" else None,
    )

    def failed(response: Response) -> None:
        if response.status >= 400:
            problems.append(f"{response.status} {response.request.method} {response.url}")

    page.on("response", failed)
    try:
        for name, path in walk.items():
            page.goto(path)
            page.wait_for_load_state("networkidle")
            shoot(page, f"walk-{name}")
    finally:
        context.close()
    assert problems == [], "\n".join(problems)
