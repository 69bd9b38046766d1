"""Health and workspace summary."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter

from robustar import __version__
from robustar.server import schemas
from robustar.server.auth import OPTIONAL_CREDENTIALS, PUBLIC, VIEWER
from robustar.server.deps import WorkspaceDep

router = APIRouter(tags=["workspace"])


@router.get(
    "/health",
    response_model=schemas.Health,
    dependencies=PUBLIC,
    openapi_extra=OPTIONAL_CREDENTIALS,
)
def health() -> schemas.Health:
    return schemas.Health(status="ok", version=__version__)


@router.get("/workspace", response_model=schemas.WorkspaceInfo, dependencies=VIEWER)
def workspace_info(workspace: WorkspaceDep) -> schemas.WorkspaceInfo:
    """Splits with class counts, model versions and the current one (no file paths)."""
    info = workspace.info()
    return schemas.WorkspaceInfo(
        name=Path(info.root).name,
        classes=info.classes,
        splits=[schemas.Split.model_validate(s) for s in info.splits],
        versions=[schemas.ModelVersion.model_validate(v) for v in info.versions],
        current_version=info.current_version,
    )
