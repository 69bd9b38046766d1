"""Request dependencies: the workspace the app was created for."""

from __future__ import annotations

from fastapi import Request

from robustar.workspace import Workspace


def get_workspace(request: Request) -> Workspace:
    return request.app.state.workspace
