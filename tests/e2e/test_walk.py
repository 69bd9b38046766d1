"""A new user's walk over every page of a fresh workspace: nothing built yet is no error."""

from __future__ import annotations

from playwright.sync_api import Page, Response, expect

from robustar import Workspace


def _problems(page: Page) -> list[str]:
    """Console errors and 4xx/5xx responses of the page, as they happen."""
    found: list[str] = []

    def on_response(response: Response) -> None:
        if response.status >= 400:
            found.append(f"{response.status} {response.request.method} {response.url}")

    page.on("console", lambda m: found.append(f"console: {m.text}") if m.type == "error" else None)
    page.on("response", on_response)
    return found


def test_a_first_walk_has_no_console_errors_and_no_4xx(page: Page, demo: Workspace, shoot) -> None:
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
    problems = _problems(page)
    for name, path in walk.items():
        page.goto(path)
        page.wait_for_load_state("networkidle")
        shoot(page, f"walk-{name}")
    page.goto(f"/gallery/test/images/{image.id}")
    page.check("text=show over the image")  # saliency, computed on demand
    page.wait_for_load_state("networkidle")
    assert problems == [], "\n".join(problems)


def test_an_imported_version_names_its_missing_predictions(
    page: Page, demo: Workspace, shoot
) -> None:
    """Compare with a version that has no predictions: a message and a button, no error."""
    imported = demo.import_weights(demo.load_model().state_dict(), "tiny_cnn")
    problems = _problems(page)
    page.goto("/models")
    offer = page.locator("[data-missing-predictions]")
    expect(offer).to_contain_text(f"v{imported.id} on train, validation, test")
    shoot(page, "compare-missing-predictions")
    page.click("button[name=queue-predictions]")
    expect(offer).to_contain_text("queued as job")
    demo.jobs.run_next()
    expect(page.locator(".compare tr[data-split='test']")).to_be_visible()
    assert problems == [], "\n".join(problems)
