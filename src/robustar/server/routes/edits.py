"""Attribute edits: the edits and their ranges, a live preview of one image, benchmark jobs,
their stored tables (JSON, Markdown, HTML) and the images whose prediction flipped."""

from __future__ import annotations

import base64
import io
from dataclasses import asdict
from typing import Any, Literal

import numpy as np
from fastapi import APIRouter, Query, Response
from PIL import Image
from pydantic import BaseModel, Field

from robustar.discover.edits.request import BenchmarkRequest, EditRequest
from robustar.discover.edits.service import RunInfo
from robustar.jobs.store import JobInfo
from robustar.registry import MethodInfo
from robustar.server import schemas
from robustar.server.auth import ADMIN, VIEWER
from robustar.server.deps import WorkspaceDep
from robustar.server.params import Id

router = APIRouter(prefix="/edits", tags=["edits"])


class PreviewRequest(BaseModel):
    image_id: Id
    edit: EditRequest
    seed: int = Field(0, ge=0, le=2**31 - 1)
    version: Id | None = Field(None, description="default: the current version")


class PredictionOut(BaseModel):
    predicted: int
    probabilities: list[float]


class PreviewOut(BaseModel):
    image: str = Field(description="the edited image, a data:image/png URL")
    original: PredictionOut
    edited: PredictionOut
    object_rate: float
    background_complexity: float
    classes: list[str]


class FlipOut(BaseModel):
    image_id: int
    label: str
    edit: dict[str, Any]
    seed: int
    truth: int
    before: int
    after: int


def _png(pixels: np.ndarray) -> str:
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()


@router.get("", response_model=list[MethodInfo], dependencies=VIEWER)
def list_edits(workspace: WorkspaceDep) -> list[MethodInfo]:
    """Every edit with its options, defaults and ranges."""
    return workspace.edits.describe()


@router.post("/preview", response_model=PreviewOut, dependencies=VIEWER)
def preview(workspace: WorkspaceDep, body: PreviewRequest) -> PreviewOut:
    """One image edited (regenerated from image, edit, options, seed) with the model's
    prediction and probabilities before and after; 400 when it has no object mask."""
    found = workspace.edits.preview(
        body.image_id, body.edit.spec(), seed=body.seed, version=body.version
    )
    return PreviewOut(
        image=_png(found.image),
        original=PredictionOut(**asdict(found.original)),
        edited=PredictionOut(**asdict(found.edited)),
        object_rate=found.object_rate,
        background_complexity=found.background_complexity,
        classes=workspace.classes,
    )


@router.post("/benchmark", response_model=JobInfo, status_code=202, dependencies=ADMIN)
def queue_benchmark(workspace: WorkspaceDep, body: BenchmarkRequest) -> JobInfo:
    """Queue a robustness benchmark (one stored run per version); the worker runs it."""
    workspace.images_store.folder(body.split)  # an unknown split: 400 naming the configured
    for version in body.versions or []:
        workspace.model(version)  # an unknown version: 404
    return workspace.jobs.submit("edit_benchmark", body.model_dump(exclude_none=True))


@router.get("/runs", response_model=list[RunInfo], dependencies=VIEWER)
def list_runs(
    workspace: WorkspaceDep, version: Id | None = Query(None, description="only this version")
) -> list[RunInfo]:
    return workspace.edits.runs(version)


@router.get("/runs/{run_id}", response_model=RunInfo, dependencies=VIEWER)
def get_run(workspace: WorkspaceDep, run_id: Id) -> RunInfo:
    return workspace.edits.get(run_id)


@router.get("/runs/{run_id}/flips", response_model=list[FlipOut], dependencies=VIEWER)
def flips(
    workspace: WorkspaceDep,
    run_id: Id,
    limit: int = Query(100, ge=1, le=1000),
    offset: int = Query(0, ge=0, le=2**31 - 1),
) -> list[FlipOut]:
    """The images an edit flipped (right to wrong, or wrong to right), each re-openable in
    the preview from its image id, edit and seed."""
    return [FlipOut(**asdict(f)) for f in workspace.edits.flips(run_id, limit, offset)]


@router.get("/table", response_class=Response, responses=schemas.REPORT, dependencies=VIEWER)
def table(
    workspace: WorkspaceDep,
    runs: list[Id] = Query(..., min_length=1, max_length=8, description="runs side by side"),
    format: Literal["html", "markdown"] = Query("markdown"),
    per_class: bool = Query(False),
) -> Response:
    """The robustness table of one or more runs (e.g. two versions) as a file to share."""
    text = workspace.edits.export(runs, format, per_class)
    suffix = "html" if format == "html" else "md"
    return Response(
        text,
        media_type=f"{schemas.REPORT_TYPES[format]}; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="robustness.{suffix}"'},
    )
