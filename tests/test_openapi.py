"""The OpenAPI document declares what the server really sends: error bodies, binary images, the
mask upload, and datetimes with their timezone."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient
from pydantic import TypeAdapter
from sqlalchemy import text

from robustar import Workspace
from robustar.server.app import create_app
from robustar.server.openapi import document_json
from robustar.server.schemas import ConflictBody, ErrorBody

OPERATIONS = ("get", "put", "post", "delete", "patch")


@pytest.fixture(scope="module")
def spec() -> dict[str, Any]:
    return TypeAdapter(dict[str, Any]).validate_json(document_json())


@pytest.fixture
def client(demo: Workspace) -> TestClient:
    return TestClient(create_app(demo))


def operations(spec: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (path, method, op)
        for path, item in spec["paths"].items()
        for method, op in item.items()
        if method in OPERATIONS
    ]


def schema_of(response: dict[str, Any], media_type: str = "application/json") -> Any:
    return response["content"][media_type]["schema"]


def test_every_operation_declares_its_error_bodies(spec: dict[str, Any]) -> None:
    error = {"$ref": "#/components/schemas/ErrorBody"}
    for path, method, op in operations(spec):
        for status in ("400", "401", "403", "404", "413", "422"):
            assert schema_of(op["responses"][status]) == error, (method, path, status)
    body = spec["components"]["schemas"]["ErrorBody"]
    assert body["required"] == ["detail", "fix"]
    conflicts = {(p, m) for p, m, op in operations(spec) if "409" in op["responses"]}
    assert ("/api/v1/images/{image_id}/masks/{kind}", "put") in conflicts
    assert ("/api/v1/images/{image_id}/masks/{kind}/restore", "post") in conflicts


def test_images_and_the_mask_upload_are_declared_binary(spec: dict[str, Any]) -> None:
    binary = {"type": "string", "format": "binary"}
    paths = spec["paths"]
    put = paths["/api/v1/images/{image_id}/masks/{kind}"]["put"]
    assert put["requestBody"]["required"] is True
    assert schema_of(put["requestBody"], "image/png") == binary
    for path in (
        "/api/v1/images/{image_id}/masks/{kind}",
        "/api/v1/images/{image_id}/saliency",
        "/api/v1/proposals/{proposal_id}/mask",
    ):
        assert schema_of(paths[path]["get"]["responses"]["200"], "image/png") == binary
    thumbnail = paths["/api/v1/images/{image_id}/thumbnail"]["get"]["responses"]
    assert schema_of(thumbnail["200"], "image/webp") == binary and "304" in thumbnail


def test_error_bodies_are_what_the_document_says(client: TestClient, demo: Workspace) -> None:
    missing = client.get("/api/v1/models/99")
    assert missing.status_code == 404
    assert ErrorBody.model_validate(missing.json()).fix
    invalid = client.get("/api/v1/images", params={"split": "train", "page": 0})
    assert invalid.status_code == 422
    body = ErrorBody.model_validate(invalid.json())
    assert "query.page" in body.detail and body.fix
    wrong_method = client.delete("/api/v1/models")
    assert wrong_method.status_code == 405 and wrong_method.headers["allow"]
    assert ErrorBody.model_validate(wrong_method.json()).detail
    image_id = demo.images("train", limit=1)[0].id
    empty = np.zeros((32, 32), dtype=bool)
    demo.masks.save(image_id, empty, "spurious", None)
    demo.masks.save(image_id, empty, "spurious", 1)
    restore = f"/api/v1/images/{image_id}/masks/spurious/restore"
    stale = client.post(restore, params={"version": 1, "base_version": 1})
    assert stale.status_code == 409
    assert ConflictBody.model_validate(stale.json()).current_version == 2


def test_datetimes_carry_their_timezone(client: TestClient, demo: Workspace) -> None:
    with demo.engine.begin() as connection:  # as an older release or another tool wrote it
        connection.execute(text("UPDATE model_versions SET created_at = '2025-01-02 03:04:05'"))
    created = client.get("/api/v1/models/1").json()["created_at"]
    assert created == "2025-01-02T03:04:05Z" or created == "2025-01-02T03:04:05+00:00"
    assert demo.model(1).created_at == datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC)
    job = client.post("/api/v1/jobs/predict", json={"splits": ["test"]}).json()
    assert datetime.fromisoformat(job["created_at"]).utcoffset() is not None
