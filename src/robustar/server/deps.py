"""Request dependencies: the workspace the app was created for, declared once for every route
(`workspace: WorkspaceDep`)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from robustar.workspace import Workspace


def get_workspace(request: Request) -> Workspace:
    workspace: Workspace = request.app.state.workspace
    return workspace


WorkspaceDep = Annotated[Workspace, Depends(get_workspace)]
