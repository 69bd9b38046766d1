import io

import pytest
from fastapi.testclient import TestClient
from PIL import Image

from robustar import Workspace
from robustar.server.app import create_app

# every test here runs on SQLite and on PostgreSQL (tests/conftest.py)
pytestmark = pytest.mark.usefixtures("database_url")


@pytest.fixture
def client(demo: Workspace) -> TestClient:
    return TestClient(create_app(demo))


def test_pages_are_filtered_and_sorted_like_the_library(client: TestClient, demo: Workspace):
    params = {"split": "test", "correct": "false", "sort": "loss", "order": "desc"}
    body = client.get("/api/v1/images", params={**params, "page": 2, "page_size": 5}).json()
    expected = demo.images("test", correct=False, sort="loss", descending=True)
    assert body["total"] == len(expected)
    assert body["pages"] == -(-len(expected) // 5)
    assert [i["id"] for i in body["items"]] == [i.id for i in expected[5:10]]
    assert all(i["correct"] is False and i["predicted"] != i["label"] for i in body["items"])


def test_combined_filters(client: TestClient, demo: Workspace) -> None:
    params = {"split": "test", "label": 3, "min_confidence": 0.2, "max_confidence": 0.95}
    body = client.get("/api/v1/images", params=params).json()
    assert body["total"] == demo.count("test", label=3, min_confidence=0.2, max_confidence=0.95)
    assert all(i["label"] == 3 and 0.2 <= i["confidence"] <= 0.95 for i in body["items"])


def test_page_past_the_end_is_empty(client: TestClient) -> None:
    body = client.get("/api/v1/images", params={"split": "test", "page": 99}).json()
    assert body["items"] == [] and body["total"] == 80


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"split": "nope"},
        {"split": "test", "page": 0},
        {"split": "test", "page_size": 501},
        {"split": "test", "min_confidence": 1.5},
        {"split": "test", "correct": "perhaps"},
        {"split": "test", "sort": "colour"},
        {"split": "test", "label": -1},
        {"split": "test", "label": "cat"},
    ],
)
def test_malformed_parameters_are_422(client: TestClient, params: dict) -> None:
    response = client.get("/api/v1/images", params=params)
    assert response.status_code == 422
    assert response.json()["detail"]


def test_out_of_range_class_is_400_with_a_fix(client: TestClient) -> None:
    response = client.get("/api/v1/images", params={"split": "test", "label": 10})
    assert response.status_code == 400 and "unknown class" in response.json()["detail"]


def test_image_detail_and_neighbours(client: TestClient, demo: Workspace) -> None:
    ordered = demo.images("test", correct=False, sort="loss", descending=True)
    middle = ordered[1]
    detail = client.get(f"/api/v1/images/{middle.id}").json()
    assert detail["label"] == middle.label and detail["split"] == "test"
    assert len(detail["prediction"]["probabilities"]) == 10
    assert sum(detail["prediction"]["probabilities"]) == pytest.approx(1, abs=1e-4)
    params = {"split": "test", "correct": "false", "sort": "loss", "order": "desc"}
    around = client.get(f"/api/v1/images/{middle.id}/neighbours", params=params).json()
    assert around == {
        "index": 1,
        "total": len(ordered),
        "previous_id": ordered[0].id,
        "next_id": ordered[2].id,
    }
    right = demo.images("test", correct=True)[0]
    outside = client.get(f"/api/v1/images/{right.id}/neighbours", params=params).json()
    assert outside["index"] is None and outside["next_id"] == ordered[0].id


def test_unknown_image_ids_are_404(client: TestClient) -> None:
    for path in ("", "/neighbours?split=test", "/file", "/thumbnail"):
        response = client.get(f"/api/v1/images/424242{path}")
        assert response.status_code == 404, path
        assert "does not exist" in response.json()["detail"]
    assert client.get("/api/v1/images/abc").status_code == 422


def test_thumbnails_are_cached_and_revalidated(client: TestClient, demo: Workspace) -> None:
    image = demo.images("train", limit=1)[0]
    url = f"/api/v1/images/{image.id}/thumbnail"
    first = client.get(url, params={"size": 64})
    assert first.status_code == 200 and first.headers["content-type"] == "image/webp"
    assert Image.open(io.BytesIO(first.content)).size == (32, 32)
    cached = list((demo.root / "cache/thumbnails/64").rglob("*.webp"))
    assert [p.stem.split("-")[0] for p in cached] == [image.fingerprint]  # + display settings
    again = client.get(url, params={"size": 64}, headers={"If-None-Match": first.headers["etag"]})
    assert again.status_code == 304 and again.content == b""
    assert first.headers["cache-control"] == "private, no-cache"
    pinned = client.get(url, params={"size": 64, "v": image.fingerprint[:12]})
    assert "immutable" in pinned.headers["cache-control"]
    assert client.get(url, params={"size": 100}).status_code == 400
    assert "last-modified" in first.headers


def test_file_is_the_original_when_a_browser_can_show_it(client: TestClient, demo: Workspace):
    image = demo.images("test", limit=1)[0]
    response = client.get(f"/api/v1/images/{image.id}/file")
    assert response.headers["content-type"] == "image/png"
    assert response.content == demo.image_path(image.id).read_bytes()


def test_file_is_converted_when_a_browser_cannot(client: TestClient, demo: Workspace) -> None:
    import numpy as np

    folder = demo.folders["test"] / "0"
    Image.fromarray(np.full((6, 9), 65535, dtype=np.uint16)).save(folder / "deep.png")
    demo.scan(["test"])
    (image,) = [i for i in demo.images("test", label=0) if i.relpath == "0/deep.png"]
    response = client.get(f"/api/v1/images/{image.id}/file")
    decoded = Image.open(io.BytesIO(response.content))
    assert decoded.mode == "RGB" and decoded.size == (9, 6)
    assert decoded.getpixel((0, 0)) == (255, 255, 255)


def test_a_file_removed_after_scanning_is_a_clear_error(client: TestClient, demo: Workspace):
    image = demo.images("test", limit=1)[0]
    demo.image_path(image.id).unlink()
    response = client.get(f"/api/v1/images/{image.id}/thumbnail")
    assert response.status_code == 400 and "robustar scan" in response.json()["fix"]


def test_metrics_endpoint(client: TestClient, demo: Workspace) -> None:
    body = client.get("/api/v1/metrics", params={"split": "test"}).json()
    assert body["confusion"] == demo.metrics("test").confusion
    assert len(body["per_class"]) == 10
    assert client.get("/api/v1/metrics", params={"split": "test", "version": 9}).status_code == 404
    assert client.get("/api/v1/metrics").status_code == 422


def test_web_app_routes_fall_back_to_the_page(client: TestClient) -> None:
    from robustar.server.app import STATIC_DIR

    if not (STATIC_DIR / "index.html").is_file():
        pytest.fail("the web app is not built: run 'make web' (make test does it)")
    page = client.get("/gallery/test?correct=false")
    assert page.status_code == 200 and '<div id="app">' in page.text
    assert client.get("/api/v1/nowhere").status_code == 404
