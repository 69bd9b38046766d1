"""web/src/api-schema.d.ts is generated from the OpenAPI document (`make types`); this fails
when the committed file no longer matches what the server declares."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from robustar.server.openapi import document_json

WEB = Path(__file__).resolve().parents[1] / "web"
GENERATOR = WEB / "node_modules" / ".bin" / "openapi-typescript"
COMMITTED = WEB / "src" / "api-schema.d.ts"


def test_web_types_match_the_openapi_document(tmp_path: Path) -> None:
    assert shutil.which("node"), "node is needed to generate the web types; install Node.js"
    assert GENERATOR.exists(), "openapi-typescript is missing: run `cd web && npm ci`"
    spec = tmp_path / "openapi.json"
    spec.write_text(document_json())
    generated = tmp_path / "api-schema.d.ts"
    subprocess.run(
        [str(GENERATOR), str(spec), "-o", str(generated)], check=True, capture_output=True
    )
    assert generated.read_text() == COMMITTED.read_text(), (
        "web/src/api-schema.d.ts is out of date with the API: run `make types` and commit it"
    )
