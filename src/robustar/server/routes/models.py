"""Model versions: list, read one, make one current."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query

from robustar.repair import Comparison
from robustar.server import schemas
from robustar.server.deps import get_workspace
from robustar.train.plain import EpochResult
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


@router.get("/{version_id}/epochs", response_model=list[EpochResult])
def training_curves(
    version_id: int, workspace: Workspace = Depends(get_workspace)
) -> list[EpochResult]:
    """Per-epoch loss and accuracy of a trained version (empty for imported ones)."""
    return workspace.training_curves(version_id)


compare_router = APIRouter(tags=["models"])


@compare_router.get("/compare", response_model=Comparison)
def compare_versions(
    after: int | None = Query(None, description="default: the current version"),
    before: int | None = Query(None, description="default: the parent of `after`"),
    workspace: Workspace = Depends(get_workspace),
) -> Comparison:
    """Accuracy per split and class, flipped predictions, and accuracy with the annotated
    spurious regions of test images filled: the repair report."""
    return workspace.compare(before, after)
