"""The closed API: Host check, same-origin or token for changes, bounded bodies and ids, no code
or server paths over HTTP, weights only as an upload."""

from __future__ import annotations

import io
from pathlib import Path

import httpx
import numpy as np
import pytest
import torch
from fastapi.testclient import TestClient
from PIL import Image
from safetensors.torch import save

from robustar import Workspace
from robustar.config import ServerConfig, parse_config
from robustar.errors import ConfigError
from robustar.models.registry import create_model, is_registered
from robustar.server.app import create_app
from robustar.server.background import serve_in_background
from robustar.server.security import MAX_JSON_BYTES, TOKEN_ENV
from robustar.train.options import TrainOptions

EVIL = {"origin": "http://evil.example", "content-type": "text/plain"}


def weights(workspace: Workspace, seed: int = 0) -> bytes:
    torch.manual_seed(seed)
    model = create_model("tiny_cnn", len(workspace.classes))
    return save({k: v.contiguous() for k, v in model.state_dict().items()})


@pytest.fixture
def client(workspace: Workspace) -> TestClient:
    return TestClient(create_app(workspace))


@pytest.fixture
def two_versions(workspace: Workspace) -> Workspace:
    """Versions 1 and 2 (current), uploaded, so that a forged request could switch them."""
    client = TestClient(create_app(workspace))
    for seed in (0, 1):
        uploaded = client.post("/api/v1/models/import", content=weights(workspace, seed))
        assert uploaded.status_code == 201
    assert workspace.current_model.id == 2
    return workspace


def test_foreign_host_is_refused(client: TestClient) -> None:
    refused = client.get("/api/v1/health", headers={"host": "attacker.example:8000"})
    assert refused.status_code == 400 and "attacker.example" in refused.json()["detail"]
    assert "allowed_hosts" in refused.json()["fix"]
    for host in ("127.0.0.1:8000", "localhost", "[::1]:8000", "LOCALHOST:9"):
        assert client.get("/api/v1/health", headers={"host": host}).status_code == 200


def test_allowed_hosts_extend_the_list(workspace: Workspace) -> None:
    workspace.config.server.allowed_hosts = ["gpu-box.lan"]
    client = TestClient(create_app(workspace))
    assert client.get("/api/v1/health", headers={"host": "gpu-box.lan:8000"}).status_code == 200
    assert client.get("/api/v1/health", headers={"host": "other.lan"}).status_code == 400


def test_server_settings_are_validated(tmp_path: Path) -> None:
    def load(server: dict) -> ServerConfig:
        return parse_config({"data": {"train": "t"}, "server": server}, tmp_path).server

    assert load({"allowed_hosts": ["GPU-box.lan", "192.168.1.5", "[::1]"]}).allowed_hosts == [
        "gpu-box.lan",
        "192.168.1.5",
        "[::1]",
    ]
    with pytest.raises(ConfigError, match=r"\[server\] allowed_hosts: .*no scheme, port or path"):
        load({"allowed_hosts": ["http://gpu-box:8000"]})
    with pytest.raises(ConfigError, match=r"\[server\] token: .*at least 16"):
        load({"token": "short"})
    with pytest.raises(ConfigError, match=r"\[server\] max_upload_mb"):
        load({"max_upload_mb": 0})


def test_a_live_server_answers_its_own_address_only(workspace: Workspace) -> None:
    with serve_in_background(workspace) as url:
        assert httpx.get(f"{url}/api/v1/health").status_code == 200
        page = {"origin": url, "sec-fetch-site": "same-origin"}
        assert httpx.post(f"{url}/api/v1/jobs/predict", json={}, headers=page).status_code == 202
        evil = {"origin": "http://evil.example", "sec-fetch-site": "cross-site"}
        assert httpx.post(f"{url}/api/v1/jobs/predict", json={}, headers=evil).status_code == 403
        rebound = httpx.get(f"{url}/api/v1/health", headers={"host": "attacker.example"})
        assert rebound.status_code == 400


def test_cross_origin_form_post_is_refused(client: TestClient, two_versions: Workspace) -> None:
    switched = client.post("/api/v1/models/1/current", content=b"x=1", headers=EVIL)
    assert switched.status_code == 403 and "cross-origin" in switched.json()["detail"]
    queued = client.post("/api/v1/jobs/train", content=b'{"options": {}}', headers=EVIL)
    assert queued.status_code == 403
    fetch = {"sec-fetch-site": "cross-site", "content-type": "text/plain"}
    assert client.post("/api/v1/models/1/current", headers=fetch).status_code == 403
    sibling = {"sec-fetch-site": "same-site", "origin": "http://localhost:5173"}
    assert client.post("/api/v1/models/1/current", headers=sibling).status_code == 403
    assert two_versions.current_model.id == 2 and two_versions.jobs.list() == []


def test_cross_origin_png_put_is_refused(client: TestClient, workspace: Workspace) -> None:
    image = workspace.images("train", limit=1)[0]
    mask = np.full((image.height, image.width), 255, dtype=np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(mask).save(buffer, format="PNG")
    url = f"/api/v1/images/{image.id}/masks/spurious"
    headers = {"origin": "http://evil.example", "content-type": "image/png"}
    assert client.put(url, content=buffer.getvalue(), headers=headers).status_code == 403
    assert client.get(url).status_code == 204  # nothing was saved
    own = {"origin": "http://testserver", "content-type": "image/png"}
    assert client.put(url, content=buffer.getvalue(), headers=own).status_code == 200


def test_same_origin_and_programs_are_accepted(client: TestClient, two_versions: Workspace):
    for headers in (
        {"origin": "http://testserver"},
        {"sec-fetch-site": "same-origin", "origin": "http://testserver"},
        {"sec-fetch-site": "none"},
        {},  # curl, Python: no browser headers, and no token configured
    ):
        assert client.post("/api/v1/models/1/current", headers=headers).status_code == 200
        assert client.post("/api/v1/models/2/current", headers=headers).status_code == 200


def test_a_configured_token_is_required_from_programs(
    workspace: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    token = "s3cret-token-of-enough-length"
    monkeypatch.setenv(TOKEN_ENV, token)
    client = TestClient(create_app(workspace))
    url = "/api/v1/models/import"
    missing = client.post(url, content=weights(workspace))
    assert missing.status_code == 401 and TOKEN_ENV in missing.json()["fix"]
    wrong = client.post(url, content=weights(workspace), headers={"authorization": "Bearer nope"})
    assert wrong.status_code == 401
    evil = {"origin": "http://evil.example"}
    assert client.post(url, content=weights(workspace), headers=evil).status_code == 403
    bearer = {"authorization": f"Bearer {token}"}
    assert client.post(url, content=weights(workspace), headers=bearer).status_code == 201
    page = {"origin": "http://testserver"}  # the served page knows no token
    assert client.post(url, content=weights(workspace), headers=page).status_code == 201
    assert client.get("/api/v1/models").status_code == 200  # reads need none
    monkeypatch.setenv(TOKEN_ENV, "short")
    with pytest.raises(ConfigError, match="at least 16"):
        create_app(workspace)


def test_json_bodies_are_bounded(client: TestClient, workspace: Workspace) -> None:
    big = b'{"splits": [], "pad": "' + b"x" * MAX_JSON_BYTES + b'"}'
    declared = client.post(
        "/api/v1/jobs/predict", content=big, headers={"content-type": "application/json"}
    )
    assert declared.status_code == 413 and "1 MiB" in declared.json()["fix"]
    streamed = client.post(  # chunked: no Content-Length to trust
        "/api/v1/jobs/predict",
        content=iter([big[:1000], big[1000:]]),
        headers={"content-type": "application/json"},
    )
    assert streamed.status_code == 413
    assert workspace.jobs.list() == []


@pytest.mark.parametrize(
    ("options", "field"),
    [
        ({"architecture": "this:s"}, "architecture"),
        ({"architecture": "os:system"}, "architecture"),
        ({"architecture": "no_such_net"}, "architecture"),
        ({"init": "checkpoint", "checkpoint": "/etc/passwd"}, "checkpoint"),
        ({"checkpoint": "/etc/passwd"}, "checkpoint"),
    ],
)
def test_code_and_paths_are_refused_over_http(
    client: TestClient, workspace: Workspace, options: dict, field: str
) -> None:
    refused = client.post("/api/v1/jobs/train", json={"options": options})
    assert refused.status_code == 422
    assert f"body.options.{field}:" in refused.json()["detail"]
    assert workspace.jobs.list() == []


def test_registered_architectures(client: TestClient) -> None:
    assert is_registered("tiny_cnn") and is_registered("resnet18")
    assert is_registered("torchvision/resnet18")
    assert not is_registered("tests.custom_model:build") and not is_registered("nonet")
    names = client.get("/api/v1/models/architectures").json()
    assert "tiny_cnn" in names["builtin"] and "resnet18" in names["torchvision"]


def test_uploaded_weights_become_the_current_version(
    client: TestClient, workspace: Workspace
) -> None:
    data = weights(workspace, seed=3)
    uploaded = client.post("/api/v1/models/import?architecture=tiny_cnn&name=mine", content=data)
    assert uploaded.status_code == 201
    body = uploaded.json()
    assert body["is_current"] and body["name"] == "mine" and body["source"] == "imported"
    assert str(workspace.root) not in str(body)
    stored = workspace.load_model().state_dict()
    torch.manual_seed(3)
    expected = create_model("tiny_cnn", len(workspace.classes)).state_dict()
    assert all(torch.equal(stored[k], expected[k]) for k in expected)

    buffer = io.BytesIO()
    torch.save(expected, buffer)
    as_pt = client.post("/api/v1/models/import?format=pt", content=buffer.getvalue())
    assert as_pt.status_code == 201 and as_pt.json()["id"] == body["id"] + 1


def test_bad_uploads_are_refused(client: TestClient, workspace: Workspace) -> None:
    garbage = client.post("/api/v1/models/import", content=b"not weights at all")
    assert garbage.status_code == 400 and "safetensors" in garbage.json()["detail"]
    text = client.post("/api/v1/models/import?format=pt", content=b"hello world\n")
    assert text.status_code == 400 and "not a file torch.save wrote" in text.json()["detail"]
    pickled = io.BytesIO()
    torch.save(torch.nn.Linear(2, 2), pickled)  # a whole module: pickled code
    code = client.post("/api/v1/models/import?format=pt", content=pickled.getvalue())
    assert code.status_code == 400 and "refused" in code.json()["detail"]
    other = client.post("/api/v1/models/import?architecture=small_cnn", content=weights(workspace))
    assert other.status_code == 400 and "does not fit" in other.json()["detail"]
    named = client.post("/api/v1/models/import?architecture=os:system", content=weights(workspace))
    assert named.status_code == 400 and "not registered" in named.json()["detail"]
    assert workspace.models == []
    for response in (garbage, text, code, other, named):
        assert str(workspace.root) not in response.text


def test_uploads_are_bounded(workspace: Workspace) -> None:
    workspace.config.server.max_upload_mb = 1
    client = TestClient(create_app(workspace))
    big = client.post("/api/v1/models/import", content=b"\0" * ((1 << 20) + 1))
    assert big.status_code == 413 and "max_upload_mb" in big.json()["fix"]


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/images/99999999999999999999",
        "/api/v1/models/99999999999999999999",
        "/api/v1/jobs/9223372036854775808",
        "/api/v1/images?split=train&version=99999999999999999999",
        "/api/v1/compare?after=99999999999999999999",
        "/api/v1/compare/report?before=99999999999999999999",
    ],
)
def test_huge_ids_are_4xx(client: TestClient, url: str) -> None:
    assert client.get(url).status_code == 422


@pytest.mark.parametrize("value", [b"NaN", b"Infinity", b"-Infinity"])
def test_non_finite_learning_rate_is_422(
    client: TestClient, workspace: Workspace, value: bytes
) -> None:
    body = b'{"options": {"learning_rate": ' + value + b"}}"
    refused = client.post(
        "/api/v1/jobs/train", content=body, headers={"content-type": "application/json"}
    )
    assert refused.status_code == 422
    assert "body.options.learning_rate:" in refused.json()["detail"]
    with pytest.raises(ValueError, match="finite"):
        TrainOptions(weight_decay=float("nan"))
