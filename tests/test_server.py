import pytest
from fastapi.testclient import TestClient

from robustar import Workspace
from robustar.server.app import create_app


@pytest.fixture
def client(demo: Workspace) -> TestClient:
    return TestClient(create_app(demo))


def test_health(client: TestClient) -> None:
    assert client.get("/api/v1/health").json()["status"] == "ok"


def test_workspace_info_has_no_paths(client: TestClient, demo: Workspace) -> None:
    body = client.get("/api/v1/workspace").json()
    assert body["classes"] == [str(d) for d in range(10)]
    splits = {s["name"]: s for s in body["splits"]}
    assert splits["train"]["images"] == 200 and splits["train"]["class_counts"]["0"] > 0
    assert body["current_version"] == demo.current_model.id
    assert str(demo.root) not in str(body)


def test_models(client: TestClient, demo: Workspace) -> None:
    versions = client.get("/api/v1/models").json()
    assert [v["id"] for v in versions] == [1]
    assert versions[0]["metrics"]["test"]["accuracy"] == pytest.approx(
        demo.metrics("test").accuracy
    )
    assert client.get("/api/v1/models/1").json()["is_current"] is True
    missing = client.get("/api/v1/models/99")
    assert missing.status_code == 404 and "does not exist" in missing.json()["detail"]
    assert client.get("/api/v1/models/abc").status_code == 404  # ids are digits: no such route
    assert client.get("/api/v1/models/-1").status_code == 404


def test_make_current(client: TestClient, demo: Workspace) -> None:
    second = demo.train(architecture="tiny_cnn", epochs=1, predict=False)
    assert demo.current_model.id == second.id
    assert client.post("/api/v1/models/1/current").json()["is_current"] is True
    assert demo.current_model.id == 1


def test_openapi_and_docs(client: TestClient) -> None:
    spec = client.get("/api/v1/openapi.json").json()
    assert "/api/v1/workspace" in spec["paths"]
    assert client.get("/api/docs").status_code == 200
    home = client.get("/", follow_redirects=False)
    assert home.status_code in (200, 307)  # the web app when built, else the API docs
