"""Every API route declares the role it needs, and answers each role (and no one) as this
table says. A new route fails here until it declares a role and is added to the table."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from robustar import Workspace
from robustar.accounts.users import ROLES, allows
from robustar.server.app import api_app, create_app
from robustar.server.auth import declared_roles
from tests.team import make_team

V1 = "/api/v1"
PUBLIC, VIEWER, ANNOTATOR, ADMIN = None, "viewer", "annotator", "admin"
TABLE = {
    ("GET", "/health"): PUBLIC,
    ("GET", "/auth/me"): PUBLIC,
    ("POST", "/auth/login"): PUBLIC,
    ("POST", "/auth/logout"): PUBLIC,
    ("GET", "/auth/tokens"): VIEWER,
    ("POST", "/auth/tokens"): VIEWER,
    ("DELETE", "/auth/tokens/{token_id}"): VIEWER,
    ("GET", "/workspace"): VIEWER,
    ("GET", "/methods"): VIEWER,
    ("GET", "/images"): VIEWER,
    ("GET", "/images/{image_id}"): VIEWER,
    ("GET", "/images/{image_id}/neighbours"): VIEWER,
    ("GET", "/images/{image_id}/file"): VIEWER,
    ("GET", "/images/{image_id}/thumbnail"): VIEWER,
    ("GET", "/images/{image_id}/saliency"): VIEWER,
    ("GET", "/images/{image_id}/attribution"): VIEWER,
    ("GET", "/images/{image_id}/masks/{kind}"): VIEWER,
    ("GET", "/images/{image_id}/masks/{kind}/versions"): VIEWER,
    ("PUT", "/images/{image_id}/masks/{kind}"): ANNOTATOR,
    ("POST", "/images/{image_id}/masks/{kind}/restore"): ANNOTATOR,
    ("GET", "/images/{image_id}/superpixels"): ANNOTATOR,
    ("POST", "/images/{image_id}/grabcut"): ANNOTATOR,
    ("POST", "/images/{image_id}/segment"): ANNOTATOR,
    ("GET", "/segmentation"): VIEWER,
    ("GET", "/annotations/progress"): VIEWER,
    ("GET", "/masks/coverage"): VIEWER,
    ("GET", "/masks/export"): VIEWER,
    ("POST", "/masks/import"): ANNOTATOR,
    ("GET", "/proposals"): VIEWER,
    ("GET", "/proposals/{proposal_id}/mask"): VIEWER,
    ("POST", "/proposals/{proposal_id}/{decision}"): ANNOTATOR,
    ("POST", "/jobs/auto-annotate"): ANNOTATOR,
    ("GET", "/metrics"): VIEWER,
    ("GET", "/models"): VIEWER,
    ("GET", "/models/architectures"): VIEWER,
    ("GET", "/models/{version_id:int}"): VIEWER,
    ("GET", "/models/{version_id:int}/epochs"): VIEWER,
    ("GET", "/models/{version}/activation/{target}"): VIEWER,
    ("POST", "/models/import"): ADMIN,
    ("POST", "/models/{version_id:int}/current"): ADMIN,
    ("POST", "/models/{version_id:int}/pin"): ADMIN,
    ("GET", "/compare"): VIEWER,
    ("GET", "/compare/report"): VIEWER,
    ("GET", "/jobs"): VIEWER,
    ("GET", "/jobs/{job_id:int}"): VIEWER,
    ("GET", "/jobs/{job_id:int}/events"): VIEWER,
    ("POST", "/jobs/train"): ADMIN,
    ("POST", "/jobs/repair_search"): ADMIN,
    ("POST", "/jobs/predict"): ADMIN,
    ("POST", "/jobs/attribution"): ADMIN,
    ("POST", "/jobs/{job_id:int}/cancel"): ADMIN,
    ("POST", "/jobs/{job_id:int}/resume"): ADMIN,
    ("GET", "/attribution"): VIEWER,
    ("GET", "/attribution/suspicious"): VIEWER,
    ("GET", "/disk"): VIEWER,
    ("POST", "/gc"): ADMIN,
    ("GET", "/users"): ADMIN,
    ("POST", "/users"): ADMIN,
    ("PATCH", "/users/{name}"): ADMIN,
    ("GET", "/audit"): ADMIN,
    ("POST", "/assignments"): ADMIN,
    ("GET", "/assignments/mine"): ANNOTATOR,
    ("GET", "/assignments/progress"): ADMIN,
    ("GET", "/edits"): VIEWER,
    ("POST", "/edits/preview"): VIEWER,
    ("POST", "/edits/benchmark"): ADMIN,
    ("GET", "/edits/runs"): VIEWER,
    ("GET", "/edits/runs/{run_id}"): VIEWER,
    ("GET", "/edits/runs/{run_id}/flips"): VIEWER,
    ("GET", "/edits/table"): VIEWER,
    ("GET", "/mad/models"): VIEWER,
    ("POST", "/mad/models"): ADMIN,
    ("POST", "/mad/score"): ADMIN,
    ("GET", "/mad/rounds"): VIEWER,
    ("POST", "/mad/rounds"): ADMIN,
    ("GET", "/mad/rounds/{round_id}"): VIEWER,
    ("GET", "/mad/rounds/{round_id}/candidates"): ANNOTATOR,
    ("GET", "/mad/rounds/{round_id}/next"): ANNOTATOR,
    ("POST", "/mad/rounds/{round_id}/ratings"): ANNOTATOR,
    ("POST", "/mad/rounds/{round_id}/undo"): ANNOTATOR,
    ("GET", "/mad/rounds/{round_id}/ratings"): VIEWER,
    ("POST", "/mad/rounds/{round_id}/ratings/import"): ADMIN,
    ("GET", "/mad/rounds/{round_id}/opinions"): VIEWER,
    ("GET", "/mad/rounds/{round_id}/agreement"): VIEWER,
    ("POST", "/mad/rounds/{round_id}/pick"): ADMIN,
    ("GET", "/mad/rounds/{round_id}/queue"): ANNOTATOR,
    ("PUT", "/mad/rounds/{round_id}/labels/{image_id}"): ANNOTATOR,
    ("POST", "/mad/rounds/{round_id}/finetune"): ADMIN,
    ("GET", "/mad/table"): VIEWER,
    ("GET", "/mad/ranking"): VIEWER,
    ("GET", "/defuse/runs"): VIEWER,
    ("POST", "/defuse/runs"): ADMIN,
    ("GET", "/defuse/runs/{run_id}"): VIEWER,
    ("GET", "/defuse/runs/{run_id}/preview"): VIEWER,
    ("POST", "/defuse/runs/{run_id}/search"): ADMIN,
    ("POST", "/defuse/runs/{run_id}/regions"): ADMIN,
    ("GET", "/defuse/runs/{run_id}/regions"): VIEWER,
    ("GET", "/defuse/runs/{run_id}/regions/{region_id}/samples"): VIEWER,
    ("PUT", "/defuse/runs/{run_id}/regions/{region_id}/label"): ANNOTATOR,
    ("POST", "/defuse/runs/{run_id}/correct"): ADMIN,
    ("GET", "/defuse/runs/{run_id}/report"): VIEWER,
    ("GET", "/defuse/runs/{run_id}/map"): VIEWER,
    ("GET", "/defuse/runs/{run_id}/interpolate"): VIEWER,
}
# ids that exist nowhere (nothing is changed, no event stream waits), valid literals
PARAMS = {"kind": "spurious", "decision": "reject", "name": "nobody"}


def test_every_route_declares_exactly_the_role_in_the_table() -> None:
    declared = declared_roles(api_app())
    assert set(declared) == {(m, V1 + p) for m, p in TABLE}, "a route is missing from TABLE"
    for (method, path), roles in declared.items():
        assert roles == [TABLE[(method, path.removeprefix(V1))]], (method, path, roles)


def _url(path: str) -> str:
    for part in path.split("/"):
        if part.startswith("{"):
            name = part.strip("{}").split(":")[0]
            path = path.replace(part, PARAMS.get(name, "987654"))
    return V1 + path


@pytest.fixture(scope="module")
def team_app(tmp_path_factory: pytest.TempPathFactory) -> tuple[TestClient, dict[str, str]]:
    from tests.conftest import folder_config, write_folder

    root = tmp_path_factory.mktemp("roles")
    train = write_folder(root / "train", {"cat": 2, "dog": 2})
    workspace = Workspace.create(root / "ws", folder_config(train))
    tokens = make_team(workspace)
    yield TestClient(create_app(workspace)), tokens
    workspace.close()


@pytest.mark.parametrize("who", [None, *ROLES])
def test_each_role_gets_what_the_table_says(
    team_app: tuple[TestClient, dict[str, str]], who: str | None
) -> None:
    client, tokens = team_app
    headers = {} if who is None else {"authorization": f"Bearer {tokens[who]}"}
    for (method, path), needed in TABLE.items():
        body = {"content": b"", "headers": {**headers, "content-type": "image/png"}}
        if method != "PUT":
            body = (
                {"json": {}, "headers": headers}
                if method in ("POST", "PATCH")
                else {"headers": headers}
            )
        status = client.request(method, _url(path), **body).status_code
        if needed is None or (who is not None and allows(who, needed)):
            assert status not in (401, 403), (who, method, path, status)
        elif who is None:
            assert status == 401, (who, method, path, status)
        else:
            assert status == 403, (who, method, path, status)
