"""Team mode: sign-in, sessions and CSRF, API tokens, rate limits, disabled accounts cut off at
once, authorship of masks, reviews and jobs, the audit log, and the refusals to start."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient
from PIL import Image
from sqlalchemy import select, text

from robustar import Workspace
from robustar.db.tables import Credential, User
from robustar.errors import ConfigError
from robustar.server.app import create_app
from tests.team import NAMES, PASSWORD, csrf, make_team, signed_in
from tests.test_cli import run


@pytest.fixture
def tokens(workspace: Workspace) -> dict[str, str]:
    return make_team(workspace)


def png(width: int, height: int, filled: bool = True) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(np.full((height, width), 255 if filled else 0, np.uint8)).save(buffer, "PNG")
    return buffer.getvalue()


def mask_url(workspace: Workspace) -> tuple[str, bytes]:
    image = workspace.images("train", limit=1)[0]
    return f"/api/v1/images/{image.id}/masks/spurious", png(image.width, image.height)


def test_sign_in_and_out(workspace: Workspace, tokens: dict[str, str]) -> None:
    client = TestClient(create_app(workspace))
    assert client.get("/api/v1/auth/me").json() == {"team": True, "name": None, "role": None}
    assert client.get("/api/v1/workspace").status_code == 401
    wrong = client.post("/api/v1/auth/login", json={"name": "anna", "password": "not it at all"})
    assert wrong.status_code == 401 and PASSWORD not in wrong.text
    right = client.post("/api/v1/auth/login", json={"name": "Anna", "password": PASSWORD})
    assert right.json() == {"team": True, "name": "anna", "role": "annotator"}
    cookie = right.headers.get_list("set-cookie")
    session = next(c for c in cookie if c.startswith("robustar_session="))
    assert "HttpOnly" in session and "SameSite=strict" in session
    assert any(c.startswith("robustar_csrf=") and "HttpOnly" not in c for c in cookie)
    assert client.get("/api/v1/workspace").status_code == 200
    secret = client.cookies["robustar_session"]
    assert client.post("/api/v1/auth/logout", headers=csrf(client)).status_code == 204
    assert client.get("/api/v1/auth/me").json()["name"] is None
    stale = TestClient(create_app(workspace), cookies={"robustar_session": secret})
    assert stale.get("/api/v1/workspace").status_code == 401  # the session ended server-side


def test_changes_from_the_page_need_the_csrf_token(
    workspace: Workspace, tokens: dict[str, str]
) -> None:
    client = signed_in(workspace, "annotator")
    url, body = mask_url(workspace)
    put = {"content": body}
    assert client.put(url, **put, headers={"content-type": "image/png"}).status_code == 403
    other = signed_in(workspace, "admin")
    forged = {"content-type": "image/png", **csrf(other)}  # another session's token
    assert client.put(url, **put, headers=forged).status_code == 403
    assert client.get(url).status_code == 204  # nothing was saved
    own = {"content-type": "image/png", **csrf(client)}
    assert client.put(url, **put, headers=own).status_code == 200
    assert client.get("/api/v1/workspace").status_code == 200  # reading needs no token


def test_personal_api_tokens(workspace: Workspace, tokens: dict[str, str]) -> None:
    page = signed_in(workspace, "viewer")
    made = page.post("/api/v1/auth/tokens", json={"label": "nightly"}, headers=csrf(page))
    assert made.status_code == 201
    token = made.json()["token"]
    script = TestClient(create_app(workspace), headers={"authorization": f"Bearer {token}"})
    assert script.get("/api/v1/auth/me").json()["name"] == "vic"
    listed = page.get("/api/v1/auth/tokens").json()
    assert [t["label"] for t in listed] == ["tests", "nightly"] and token not in str(listed)
    with workspace.session() as session:  # only hashes in the database
        stored = " ".join(session.scalars(select(Credential.secret_hash)))
        hashes = list(session.scalars(select(User.password_hash)))
    assert token not in stored and all(h.startswith("$argon2") for h in hashes)
    gone = page.delete(f"/api/v1/auth/tokens/{made.json()['id']}", headers=csrf(page))
    assert gone.status_code == 204
    refused = script.get("/api/v1/workspace")
    assert refused.status_code == 401 and token not in refused.text


def test_sign_in_is_rate_limited_per_account(workspace: Workspace, tokens: dict[str, str]):
    client = TestClient(create_app(workspace))
    for _ in range(5):
        wrong = {"name": "ada", "password": "wrong password!"}
        assert client.post("/api/v1/auth/login", json=wrong).status_code == 401
    right = client.post("/api/v1/auth/login", json={"name": "ada", "password": PASSWORD})
    assert right.status_code == 429 and int(right.headers["retry-after"]) > 0
    other = client.post("/api/v1/auth/login", json={"name": "anna", "password": PASSWORD})
    assert other.status_code == 200  # another account is not locked out


def test_sign_in_is_rate_limited_per_address(workspace: Workspace, tokens: dict[str, str]):
    client = TestClient(create_app(workspace))
    for i in range(20):
        wrong = {"name": f"guess{i}", "password": "wrong password!"}
        assert client.post("/api/v1/auth/login", json=wrong).status_code == 401
    right = client.post("/api/v1/auth/login", json={"name": "anna", "password": PASSWORD})
    assert right.status_code == 429


def test_a_disabled_account_is_cut_off_at_once(workspace: Workspace, tokens: dict[str, str]):
    page = signed_in(workspace, "annotator")
    script = TestClient(
        create_app(workspace), headers={"authorization": f"Bearer {tokens['annotator']}"}
    )
    assert page.get("/api/v1/workspace").status_code == 200
    admin = signed_in(workspace, "admin")
    off = admin.patch("/api/v1/users/anna", json={"disabled": True}, headers=csrf(admin))
    assert off.status_code == 200 and off.json()["disabled"] is True
    assert page.get("/api/v1/workspace").status_code == 401
    assert script.get("/api/v1/workspace").status_code == 401
    again = TestClient(create_app(workspace))
    login = again.post("/api/v1/auth/login", json={"name": "anna", "password": PASSWORD})
    assert login.status_code == 401
    last = admin.patch("/api/v1/users/ada", json={"role": "viewer"}, headers=csrf(admin))
    assert last.status_code == 400 and "last enabled admin" in last.json()["detail"]


def test_authorship_and_the_conflict_names_the_other_user(
    workspace: Workspace, tokens: dict[str, str]
) -> None:
    anna = signed_in(workspace, "annotator")
    ada = signed_in(workspace, "admin")
    url, body = mask_url(workspace)
    saved = anna.put(url, content=body, headers={"content-type": "image/png", **csrf(anna)})
    assert saved.json()["author"] == "anna" and saved.json()["legacy_author"] is False
    stale = ada.put(url, content=body, headers={"content-type": "image/png", **csrf(ada)})
    assert stale.status_code == 409 and "saved by anna" in stale.json()["detail"]
    history = ada.get(f"{url}/versions").json()
    assert [(v["version"], v["author"]) for v in history] == [(1, "anna")]
    job = ada.post("/api/v1/jobs/predict", json={}, headers=csrf(ada)).json()
    assert job["created_by"] == "ada"
    log = ada.get("/api/v1/audit").json()
    actions = [(e["actor"], e["action"]) for e in log["items"]]
    assert ("anna", "put_mask") in actions and ("ada", "queue_prediction") in actions
    assert ("anna", "log in") in actions and ("ada", "queue_prediction") in actions
    assert TestClient(create_app(workspace)).get("/api/v1/audit").status_code == 401
    assert anna.get("/api/v1/audit").status_code == 403


def test_local_mode_authors_are_os_accounts(workspace: Workspace) -> None:
    client = TestClient(create_app(workspace))
    url, body = mask_url(workspace)
    saved = client.put(url, content=body, headers={"content-type": "image/png"}).json()
    assert saved["legacy_author"] is True and saved["author"]
    assert client.get("/api/v1/auth/me").json() == {
        "team": False,
        "name": saved["author"],
        "role": "admin",
    }
    (entry,) = workspace.accounts.audit()[1]
    assert (entry.actor, entry.action, entry.account) == (saved["author"], "put_mask", False)


def test_team_mode_refuses_to_start_unsafe(workspace: Workspace) -> None:
    settings = workspace.config.server
    settings.team = True
    with pytest.raises(ConfigError) as refused:
        create_app(workspace)
    for reason in ("no enabled admin", "allowed_hosts is empty", "no TLS"):
        assert reason in refused.value.what
    workspace.accounts.add("ada", "admin", PASSWORD)
    settings.allowed_hosts = ["gpu-box.lan"]
    settings.trusted_proxies = ["10.0.0.2"]
    create_app(workspace)  # a trusted proxy serves the HTTPS
    settings.trusted_proxies, settings.tls_certfile = [], "cert.pem"
    with pytest.raises(ConfigError, match="both"):
        create_app(workspace)


def test_cli_users_audit_and_serve_refusal(
    workspace: Workspace, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    root = workspace.root
    monkeypatch.setattr("sys.stdin", io.StringIO(PASSWORD + "\n"))
    code, out, err = run(monkeypatch, capsys, "serve", root, "--team")
    assert code == 2 and "no enabled admin" in err and "no TLS" in err
    code, out, _ = run(
        monkeypatch, capsys, "users", "add", root, "ada", "--role", "admin", "--password-stdin"
    )
    assert code == 0 and "added ada (admin)" in out
    code, out, _ = run(monkeypatch, capsys, "users", "token", root, "ada", "--label", "ci")
    assert code == 0 and out.strip().startswith("rbt_")
    code, out, _ = run(monkeypatch, capsys, "users", "list", root)
    assert "ada" in out and "admin" in out
    code, out, err = run(monkeypatch, capsys, "users", "set-role", root, "ada", "viewer")
    assert code == 2 and "last enabled admin" in err
    code, out, _ = run(monkeypatch, capsys, "audit", root)
    assert code == 0 and "add user" in out and "create token" in out
    with workspace.session() as session:  # the password is nowhere in plain text
        dump = " ".join(str(r) for r in session.execute(text("SELECT * FROM users")).all())
    assert PASSWORD not in dump and NAMES["admin"] in dump


def test_legacy_authors_are_kept(tmp_path: Path) -> None:
    import shutil

    from tests.test_upgrade_fixture import FIXTURE

    root = Path(shutil.copytree(FIXTURE, tmp_path / "ws"))
    with Workspace.open(root) as workspace:
        image = workspace.images("train", sort="id")[0].id
        history = workspace.masks.history(image)
        assert [(v.author, v.legacy_author) for v in history] == [("root", True)] * 2
