import io

import numpy as np
import pytest
from fastapi.testclient import TestClient
from PIL import Image

from robustar import Workspace
from robustar.annotations.maskfile import MAX_MASK_BYTES
from robustar.server.app import create_app


@pytest.fixture
def client(demo: Workspace) -> TestClient:
    return TestClient(create_app(demo))


def png(array: np.ndarray, mode: str | None = None) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(array, mode).save(buffer, format="PNG")
    return buffer.getvalue()


def decode(data: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(data)).convert("L")) > 0


def test_put_get_and_conflict(client: TestClient, demo: Workspace) -> None:
    image_id = demo.images("train", limit=1)[0].id
    url = f"/api/v1/images/{image_id}/masks/spurious"
    nothing_yet = client.get(url)  # a new image is not an error
    assert nothing_yet.status_code == 204 and nothing_yet.content == b""
    assert client.get(url, params={"version": 1}).status_code == 404
    assert client.get("/api/v1/images/999999/masks/spurious").status_code == 404
    mask = np.zeros((32, 32), dtype=np.uint8)
    mask[:8, :8] = 255
    first = client.put(url, content=png(mask), headers={"content-type": "image/png"})
    assert first.status_code == 200 and first.json()["version"] == 1
    assert first.json()["pixels"] == 64
    got = client.get(url)
    assert got.headers["x-mask-version"] == "1"
    assert np.array_equal(decode(got.content), mask > 0)
    rgba = np.zeros((32, 32, 4), dtype=np.uint8)
    rgba[..., 3] = 255
    rgba[20:, 20:, :3] = 255  # what a browser canvas sends
    second = client.put(url, params={"base_version": 1}, content=png(rgba, "RGBA"))
    assert second.json()["version"] == 2
    stale = client.put(url, params={"base_version": 1}, content=png(mask))
    assert stale.status_code == 409
    assert stale.json()["current_version"] == 2 and "reload" in stale.json()["fix"]
    history = client.get(f"{url}/versions").json()
    assert [v["version"] for v in history] == [1, 2]
    restored = client.post(f"{url}/restore", params={"version": 1, "base_version": 2})
    assert restored.json()["version"] == 3
    assert np.array_equal(decode(client.get(url).content), mask > 0)
    assert np.array_equal(decode(client.get(url, params={"version": 2}).content), rgba[..., 0] > 0)


@pytest.mark.parametrize(
    ("body", "status", "message"),
    [
        (png(np.zeros((16, 16), np.uint8)), 400, "is 16x16 but the image is 32x32"),
        (png(np.full((32, 32), 100, np.uint8)), 400, "not binary"),
        (b"\x89PNG\r\n\x1a\nbroken", 400, "not a readable PNG"),
        (b"x" * (MAX_MASK_BYTES + 1), 413, "larger than"),
    ],
)
def test_bad_uploads_leave_the_mask_alone(
    client: TestClient, demo: Workspace, body: bytes, status: int, message: str
) -> None:
    image_id = demo.images("train", limit=1)[0].id
    demo.masks.set(image_id, np.ones((32, 32), dtype=bool))
    response = client.put(f"/api/v1/images/{image_id}/masks/spurious", content=body)
    assert response.status_code == status and message in response.json()["detail"]
    assert demo.masks.current(image_id).version == 1 and demo.masks.get(image_id).all()


def test_unknown_image_and_kind(client: TestClient) -> None:
    ones = png(np.full((32, 32), 255, np.uint8))
    assert client.put("/api/v1/images/999999/masks/spurious", content=ones).status_code == 404
    assert client.put("/api/v1/images/1/masks/shadow", content=ones).status_code == 422


def test_superpixels_grabcut_and_progress(client: TestClient, demo: Workspace) -> None:
    image_id = demo.images("train", limit=1)[0].id
    labels = client.get(f"/api/v1/images/{image_id}/superpixels", params={"segments": 20})
    rgb = np.asarray(Image.open(io.BytesIO(labels.content)))
    assert rgb.shape == (32, 32, 3)
    decoded = rgb[..., 0].astype(int) + 256 * rgb[..., 1].astype(int)
    assert decoded.max() + 1 == int(labels.headers["x-segments"]) > 1
    assert client.get(f"/api/v1/images/{image_id}/superpixels?segments=1").status_code == 422
    cut = client.post(f"/api/v1/images/{image_id}/grabcut", json={"box": [4, 4, 28, 28]})
    assert cut.status_code == 200 and decode(cut.content).shape == (32, 32)
    assert client.post(f"/api/v1/images/{image_id}/grabcut", json={"box": [1]}).status_code == 422
    demo.masks.set(image_id, np.ones((32, 32), dtype=bool))
    progress = client.get("/api/v1/annotations/progress").json()
    label = str(demo.image(image_id).label)
    assert progress["splits"]["train"][label]["annotated"] == 1
    listed = client.get("/api/v1/images", params={"split": "train", "annotated": "true"}).json()
    assert [i["id"] for i in listed["items"]] == [image_id]


def test_mask_coverage_warns_on_one_class(client: TestClient, demo: Workspace) -> None:
    none = client.get("/api/v1/masks/coverage").json()
    assert (none["split"], none["annotated"], none["skewed"]) == ("train", 0, False)
    assert "paired training needs masks" in none["reason"]
    for image in demo.images("train", label="3", limit=4):
        demo.masks.set(image.id, np.ones((32, 32), dtype=bool))
    report = client.get("/api/v1/masks/coverage", params={"split": "train"}).json()
    assert report["skewed"] and "1 of 10 classes (3)" in report["reason"]
    three = next(c for c in report["classes"] if c["name"] == "3")
    assert (three["annotated"], three["share"]) == (4, 1.0)
    assert sum(c["images"] for c in report["classes"]) == report["images"] == demo.count("train")
    assert client.get("/api/v1/masks/coverage", params={"split": "pool"}).status_code == 422
