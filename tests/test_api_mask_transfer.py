"""The REST face of mask export and import: downloads, bounded uploads, dry runs."""

from __future__ import annotations

import io
import json
import zipfile

import numpy as np
import pytest
from fastapi.testclient import TestClient
from pycocotools.coco import COCO

from robustar import Workspace
from robustar.server.app import create_app
from tests.test_mask_transfer import clear, same, shapes


@pytest.fixture
def client(demo: Workspace) -> TestClient:
    return TestClient(create_app(demo))


@pytest.fixture
def masked(demo: Workspace) -> dict[int, np.ndarray]:
    masks = {image.id: shapes(image.id) for image in demo.images("test", limit=3)}
    for image_id, mask in masks.items():
        demo.masks.set(image_id, mask)
    return masks


def test_export_downloads_each_format(
    client: TestClient, masked: dict[int, np.ndarray], tmp_path
) -> None:
    response = client.get("/api/v1/masks/export", params={"format": "png", "split": "test"})
    assert response.status_code == 200 and response.headers["x-mask-count"] == "3"
    assert response.headers["content-type"] == "application/zip"
    assert 'filename="robustar-spurious-masks.zip"' in response.headers["content-disposition"]
    assert len(zipfile.ZipFile(io.BytesIO(response.content)).namelist()) == 3
    response = client.get("/api/v1/masks/export", params={"format": "coco-polygons"})
    (tmp_path / "coco.json").write_bytes(response.content)
    coco = COCO(str(tmp_path / "coco.json"))
    for image_id, mask in masked.items():
        (annotation,) = coco.loadAnns(coco.getAnnIds(imgIds=image_id))
        assert np.array_equal(coco.annToMask(annotation).astype(bool), mask)
    response = client.get("/api/v1/masks/export", params={"format": "labelstudio", "label": "0"})
    assert response.status_code == 200 and isinstance(response.json(), list)
    refused = client.get("/api/v1/masks/export", params={"format": "png", "out": "/tmp/x"})
    assert refused.status_code == 422  # no server path is taken


def test_import_dry_run_then_store(
    client: TestClient, demo: Workspace, masked: dict[int, np.ndarray]
) -> None:
    exported = client.get("/api/v1/masks/export", params={"format": "coco"}).content
    clear(demo, masked)
    response = client.post(
        "/api/v1/masks/import",
        params={"format": "coco", "dry_run": True},
        content=exported,
        headers={"Content-Type": "application/json"},
    )
    assert response.status_code == 200, response.text
    report = response.json()
    assert report["dry_run"] and (report["matched"], report["would_change"]) == (3, 3)
    assert report["stored"] == 0 and not same(demo, masked)
    response = client.post("/api/v1/masks/import", params={"format": "coco"}, content=exported)
    assert response.json()["stored"] == 3 and same(demo, masked)


def test_import_refusals_list_names_and_change_nothing(
    client: TestClient, demo: Workspace, masked: dict[int, np.ndarray]
) -> None:
    zipped = client.get("/api/v1/masks/export", params={"format": "png"}).content
    clear(demo, masked)
    response = client.post("/api/v1/masks/import", params={"split": "train"}, content=zipped)
    assert response.status_code == 400
    assert "3 match no image: test/" in response.json()["detail"]
    assert "--skip-unmatched" in response.json()["fix"]
    document = {"images": [], "annotations": [], "categories": [{"id": 1, "name": "cat"}]}
    response = client.post(
        "/api/v1/masks/import", params={"format": "coco"}, content=json.dumps(document)
    )
    assert response.status_code == 400 and "(it has: cat)" in response.json()["detail"]
    assert not any(demo.masks.get(i).any() for i in masked)


def test_uploads_are_bounded_by_max_upload_mb(client: TestClient, demo: Workspace) -> None:
    """Past the 1 MiB bound of JSON bodies, up to [server] max_upload_mb."""
    body = b'{"images": [], "annotations": [], "categories": []}' + b" " * (3 << 19)
    response = client.post("/api/v1/masks/import", params={"format": "coco"}, content=body)
    assert response.status_code == 400 and "no category" in response.json()["detail"]
    demo.config.server.max_upload_mb = 1
    response = client.post("/api/v1/masks/import", params={"format": "coco"}, content=body)
    assert response.status_code == 413
