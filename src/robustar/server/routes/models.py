"""Model versions: list, read one, make one current, import uploaded weights."""

from __future__ import annotations

from functools import partial
from typing import Literal

from fastapi import APIRouter, Query, Request, Response
from pydantic import Field
from starlette.concurrency import run_in_threadpool

from robustar.models.checkpoint import decode_checkpoint
from robustar.models.registry import check_registered, list_models
from robustar.server import schemas
from robustar.server.auth import ADMIN, VIEWER
from robustar.server.deps import WorkspaceDep
from robustar.server.params import Id
from robustar.server.security import allow_body
from robustar.train.plain import EpochResult
from robustar.verdict import RepairReport

router = APIRouter(prefix="/models", tags=["models"])


@router.get("", response_model=list[schemas.ModelVersion], dependencies=VIEWER)
def list_model_versions(workspace: WorkspaceDep) -> list[schemas.ModelVersion]:
    return [schemas.ModelVersion.model_validate(v) for v in workspace.models]


@router.get("/architectures", dependencies=VIEWER)
def architectures() -> dict[str, list[str]]:
    """The registered architecture names per source (builtin, torchvision, timm when
    installed): the only ones a request may name."""
    return list_models()


@router.post(
    "/import",
    response_model=schemas.ModelVersion,
    status_code=201,
    openapi_extra=schemas.binary_body("application/octet-stream"),
    dependencies=ADMIN,
)
async def import_weights(
    workspace: WorkspaceDep,
    request: Request,
    format: Literal["safetensors", "pt"] = Query(
        "safetensors", description="the body: a .safetensors file, or torch.save(state_dict)"
    ),
    architecture: str | None = Query(
        None, description="a registered architecture; default: [model] architecture"
    ),
    name: str | None = Query(None, max_length=200),
    current: bool = Query(True, description="false: keep it beside the current version"),
    num_classes: int | None = Query(
        None, ge=1, le=100_000, description="its outputs (a MAD competitor with other classes)"
    ),
) -> schemas.ModelVersion:
    """Upload weights as the request body (at most [server] max_upload_mb); they are read
    without running code (safetensors, or torch.load with weights_only), checked against the
    architecture and the class list (or `num_classes`), and become the new current version
    unless `current=false` (a competitor for MAD, registered with POST /mad/models)."""
    if architecture is not None:
        check_registered(architecture)
    allow_body(request, workspace.config.server.max_upload_mb << 20)
    data = bytearray()
    async for chunk in request.stream():
        data.extend(chunk)
    weights = await run_in_threadpool(decode_checkpoint, bytes(data), format)
    version = await run_in_threadpool(
        partial(workspace.import_weights, num_classes=num_classes, current=current),
        weights,
        architecture,
        name,
    )
    return schemas.ModelVersion.model_validate(version)


@router.get("/{version_id:int}", response_model=schemas.ModelVersion, dependencies=VIEWER)
def get_model_version(workspace: WorkspaceDep, version_id: Id) -> schemas.ModelVersion:
    return schemas.ModelVersion.model_validate(workspace.model(version_id))


@router.post("/{version_id:int}/current", response_model=schemas.ModelVersion, dependencies=ADMIN)
def make_current(workspace: WorkspaceDep, version_id: Id) -> schemas.ModelVersion:
    return schemas.ModelVersion.model_validate(workspace.use_model(version_id))


class PinRequest(schemas.Schema):
    pinned: bool = Field(True, strict=True, description="false unpins")


@router.post("/{version_id:int}/pin", response_model=schemas.ModelVersion, dependencies=ADMIN)
def pin_version(workspace: WorkspaceDep, version_id: Id, body: PinRequest) -> schemas.ModelVersion:
    """Pin a version so that gc (POST /gc, `robustar gc`) always keeps it, or unpin it."""
    return schemas.ModelVersion.model_validate(workspace.pin_model(version_id, body.pinned))


@router.get("/{version_id:int}/epochs", response_model=list[EpochResult], dependencies=VIEWER)
def training_curves(workspace: WorkspaceDep, version_id: Id) -> list[EpochResult]:
    """Per-epoch loss and accuracy of a trained version (empty for imported ones)."""
    return workspace.training_curves(version_id)


compare_router = APIRouter(tags=["models"])


@compare_router.get("/compare", response_model=RepairReport, dependencies=VIEWER)
def compare_versions(
    workspace: WorkspaceDep,
    after: Id | None = Query(None, description="default: the current version"),
    before: Id | None = Query(None, description="default: the parent of `after`"),
) -> RepairReport:
    """The repair report: the verdict in words, accuracy per split and class, flipped
    predictions, and accuracy with the annotated spurious regions of test images filled. A
    version without stored predictions (an imported one) is no error: `missing` names each
    version and split to predict (POST /jobs/predict), and `splits` stays empty until they
    exist."""
    return workspace.compare(before, after, report_missing=True)


@compare_router.get(
    "/compare/report", response_class=Response, responses=schemas.REPORT, dependencies=VIEWER
)
def download_report(
    workspace: WorkspaceDep,
    after: Id | None = Query(None, description="default: the current version"),
    before: Id | None = Query(None, description="default: the parent of `after`"),
    format: Literal["html", "markdown"] = Query("html", description="a file to share"),
) -> Response:
    """The repair report as a file to download and share: a self-contained HTML page (inline
    CSS, nothing loaded from elsewhere) or Markdown, the verdict at the top."""
    report = workspace.compare(before, after)
    name = f"robustar-report-v{report.before}-v{report.after}"
    suffix = "html" if format == "html" else "md"
    return Response(
        workspace.render_report(report, format),
        media_type=f"{schemas.REPORT_TYPES[format]}; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}.{suffix}"'},
    )
