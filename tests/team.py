"""A workspace in team mode with one account per role (tests of roles, sign-in, authorship)."""

from __future__ import annotations

from fastapi.testclient import TestClient

from robustar import Workspace
from robustar.accounts.users import ROLES
from robustar.server.app import create_app

PASSWORD = "correct horse battery"
NAMES = {"admin": "ada", "annotator": "anna", "viewer": "vic"}


def make_team(workspace: Workspace, host: str = "testserver") -> dict[str, str]:
    """Team mode over plain HTTP (TestClient and the browser tests speak HTTP), with ada
    (admin), anna (annotator) and vic (viewer); returns a personal token per role."""
    settings = workspace.config.server
    settings.team, settings.insecure_http, settings.allowed_hosts = True, True, [host]
    tokens = {}
    for role in ROLES:
        workspace.accounts.add(NAMES[role], role, PASSWORD)
        tokens[role] = workspace.accounts.new_token(NAMES[role], "tests")[1]
    return tokens


def signed_in(workspace: Workspace, role: str) -> TestClient:
    """A client of a new team-mode app with the page's session cookies of `role`'s account."""
    client = TestClient(create_app(workspace))
    answer = client.post("/api/v1/auth/login", json={"name": NAMES[role], "password": PASSWORD})
    assert answer.status_code == 200, answer.text
    return client


def csrf(client: TestClient) -> dict[str, str]:
    """The header the page sends with each change."""
    return {"x-csrf-token": client.cookies["robustar_csrf"]}
