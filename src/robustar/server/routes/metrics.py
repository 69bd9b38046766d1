"""Accuracy, per-class metrics and the confusion matrix of a model version on a split."""

from __future__ import annotations

from fastapi import APIRouter, Query

from robustar.server import schemas
from robustar.server.auth import VIEWER
from robustar.server.deps import WorkspaceDep
from robustar.server.params import Id, Split

router = APIRouter(prefix="/metrics", tags=["models"], dependencies=VIEWER)


@router.get("", response_model=schemas.SplitMetrics)
def get_metrics(
    workspace: WorkspaceDep,
    split: Split = Query(...),
    version: Id | None = Query(None, description="default: the current version"),
) -> schemas.SplitMetrics:
    return schemas.SplitMetrics.model_validate(workspace.metrics(split, version))
