"""Masks in and out as files other tools read: export as a download, import as an upload
(bounded by [server] max_upload_mb) with a dry run that reports before anything is stored.
No route takes a server path: the file travels in the request or the response."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from starlette.concurrency import run_in_threadpool

from robustar.annotations.transfer.options import ExportOptions, ImportOptions, ImportReport
from robustar.server.auth import ANNOTATOR, VIEWER
from robustar.server.deps import WorkspaceDep
from robustar.server.schemas import BINARY
from robustar.server.security import allow_body

router = APIRouter(prefix="/masks", tags=["annotations"])

EXPORTED: dict[int | str, dict[str, Any]] = {
    200: {
        "content": {t: {"schema": BINARY} for t in ("application/zip", "application/json")},
        "description": "a zip of PNGs (png) or a JSON file (Content-Disposition: attachment)",
    }
}
UPLOAD = {
    "requestBody": {
        "required": True,
        "content": {t: {"schema": BINARY} for t in ("application/zip", "application/json")},
    }
}


@router.get("/export", response_class=Response, responses=EXPORTED, dependencies=VIEWER)
def export_masks(workspace: WorkspaceDep, options: Annotated[ExportOptions, Query()]) -> Response:
    """The current masks as a file to download: PNG (a zip of 0/255 PNGs), COCO (RLE or
    polygons) or Label Studio tasks. image_root only shapes the names written (it is compared
    with the images' paths, never opened)."""
    exported = workspace.masks.export_file(**options.model_dump())
    return Response(
        exported.data,
        media_type=exported.media_type,
        headers={
            "Content-Disposition": f'attachment; filename="{exported.filename}"',
            "X-Mask-Count": str(exported.count),
        },
    )


@router.post("/import", response_model=ImportReport, openapi_extra=UPLOAD, dependencies=ANNOTATOR)
async def import_masks(
    workspace: WorkspaceDep, request: Request, options: Annotated[ImportOptions, Query()]
) -> ImportReport:
    """Upload masks as the request body (PNG: a zip; COCO or Label Studio: the JSON file), at
    most [server] max_upload_mb. Everything is read and matched before anything is stored;
    names that match no image or several are refused with the list (skip_unmatched stores the
    rest); dry_run stores nothing and reports what would change."""
    allow_body(request, workspace.config.server.max_upload_mb << 20)
    data = bytearray()
    async for chunk in request.stream():
        data.extend(chunk)
    values = options.model_dump()
    return await run_in_threadpool(workspace.masks.import_from, bytes(data), **values)
