"""Model versions: list, read one, make one current."""

from __future__ import annotations

from fastapi import APIRouter, Depends

from robustar.server import schemas
from robustar.server.deps import get_workspace
from robustar.workspace import Workspace

router = APIRouter(prefix="/models", tags=["models"])


@router.get("", response_model=list[schemas.ModelVersion])
def list_model_versions(
    workspace: Workspace = Depends(get_workspace),
) -> list[schemas.ModelVersion]:
    return [schemas.ModelVersion.model_validate(v) for v in workspace.models]


@router.get("/{version_id}", response_model=schemas.ModelVersion)
def get_model_version(
    version_id: int, workspace: Workspace = Depends(get_workspace)
) -> schemas.ModelVersion:
    return schemas.ModelVersion.model_validate(workspace.model(version_id))


@router.post("/{version_id}/current", response_model=schemas.ModelVersion)
def make_current(
    version_id: int, workspace: Workspace = Depends(get_workspace)
) -> schemas.ModelVersion:
    return schemas.ModelVersion.model_validate(workspace.use_model(version_id))


@router.get("/{version_id}/epochs", response_model=list[schemas.EpochCurve])
def training_curves(
    version_id: int, workspace: Workspace = Depends(get_workspace)
) -> list[schemas.EpochCurve]:
    """Per-epoch loss and accuracy of a trained version (empty for imported ones)."""
    return [schemas.EpochCurve.model_validate(e) for e in workspace.training_curves(version_id)]
