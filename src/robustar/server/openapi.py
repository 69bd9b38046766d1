"""The OpenAPI document without a server or workspace: `python -m robustar.server.openapi`
prints it; `make types` turns it into the web app's TypeScript types."""

from __future__ import annotations

import json
import sys

from robustar.server.app import api_app


def document_json() -> str:
    """The document as the server serves it at /api/v1/openapi.json, indented."""
    return json.dumps(api_app().openapi(), indent=2) + "\n"


if __name__ == "__main__":
    sys.stdout.write(document_json())
