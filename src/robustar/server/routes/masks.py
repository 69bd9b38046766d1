"""Masks of an image: read, save (409 on a stale base version), history, restore, and the
server-side assisted selection tools (superpixels, GrabCut)."""

from __future__ import annotations

import io
from typing import Any, Literal
from urllib.parse import quote

import numpy as np
from fastapi import APIRouter, Depends, HTTPException, Query, Request, Response
from PIL import Image

from robustar.annotations.assist import encode_labels
from robustar.annotations.maskfile import MAX_MASK_BYTES, decode_mask, encode_mask
from robustar.annotations.proposals import AutoAnnotate, ProposalInfo
from robustar.annotations.segmenters import HOW_TO
from robustar.annotations.store import MaskVersion
from robustar.jobs.store import JobInfo
from robustar.server import schemas
from robustar.server.auth import ANNOTATOR, VIEWER
from robustar.server.deps import WorkspaceDep
from robustar.server.params import MAX_ID, Id

router = APIRouter(tags=["annotations"])
Kind = Literal["spurious", "object"]


def _png(image: Image.Image | np.ndarray, headers: dict[str, str] | None = None) -> Response:
    if isinstance(image, np.ndarray):
        return Response(encode_mask(image), media_type="image/png", headers=headers)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return Response(buffer.getvalue(), media_type="image/png", headers=headers)


def _mask_headers(info: MaskVersion) -> dict[str, str]:
    """The version and who saved it (percent-encoded: an OS account name may be any text)."""
    return {
        "X-Mask-Version": str(info.version),
        "X-Mask-Author": quote(info.author, safe=""),
        "Cache-Control": "no-store",
    }


async def _upload(request: Request) -> bytes:
    """The request body, refused past MAX_MASK_BYTES. Only this read is async: decoding and
    saving block, so the handler is a plain function that FastAPI runs in its thread pool."""
    declared = int(request.headers.get("content-length") or 0)
    if declared > MAX_MASK_BYTES:
        raise HTTPException(413, f"the upload is larger than {MAX_MASK_BYTES} bytes")
    body = bytearray()
    async for chunk in request.stream():
        body.extend(chunk)
        if len(body) > MAX_MASK_BYTES:
            raise HTTPException(413, f"the upload is larger than {MAX_MASK_BYTES} bytes")
    return bytes(body)


NO_MASK_YET: dict[int | str, dict[str, Any]] = {
    204: {"description": "the image has no mask of this kind yet (nothing to draw over)"}
}


@router.get(
    "/images/{image_id}/masks/{kind}",
    responses={**schemas.PNG, **NO_MASK_YET},
    response_class=Response,
    dependencies=VIEWER,
)
def get_mask(
    workspace: WorkspaceDep,
    image_id: Id,
    kind: Kind,
    version: int | None = Query(None, ge=1, le=MAX_ID, description="default: the current version"),
) -> Response:
    """The mask as a 1-bit PNG at native size; its version is in the X-Mask-Version header.
    An image without a mask yet answers 204 (a new image is not an error); an unknown image,
    or a version it does not have, 404."""
    if version is None:
        workspace.image(image_id)
        if workspace.masks.current(image_id, kind) is None:
            return Response(status_code=204, headers={"Cache-Control": "no-store"})
    info, mask = workspace.masks.load(image_id, kind, version)
    return _png(mask, _mask_headers(info))


@router.put(
    "/images/{image_id}/masks/{kind}",
    response_model=schemas.MaskVersion,
    responses=schemas.CONFLICT,
    openapi_extra=schemas.PNG_BODY,
    dependencies=ANNOTATOR,
)
def put_mask(
    workspace: WorkspaceDep,
    image_id: Id,
    kind: Kind,
    base_version: int | None = Query(
        None, ge=1, le=MAX_ID, description="version the edit started from"
    ),
    body: bytes = Depends(_upload),
) -> schemas.MaskVersion:
    """Save a binary PNG (0 and 255) of the image's native size as the next version."""
    image = workspace.image(image_id)
    mask = decode_mask(body, image.width, image.height)
    saved = workspace.masks.save(image_id, mask, kind, base_version)
    return schemas.MaskVersion.model_validate(saved)


@router.get(
    "/images/{image_id}/masks/{kind}/versions",
    response_model=list[schemas.MaskVersion],
    dependencies=VIEWER,
)
def mask_history(workspace: WorkspaceDep, image_id: Id, kind: Kind) -> list[schemas.MaskVersion]:
    workspace.image(image_id)
    return [schemas.MaskVersion.model_validate(v) for v in workspace.masks.history(image_id, kind)]


@router.post(
    "/images/{image_id}/masks/{kind}/restore",
    response_model=schemas.MaskVersion,
    responses=schemas.CONFLICT,
    dependencies=ANNOTATOR,
)
def restore_mask(
    workspace: WorkspaceDep,
    image_id: Id,
    kind: Kind,
    version: int = Query(..., ge=1, le=MAX_ID, description="the old version to bring back"),
    base_version: int | None = Query(None, ge=1, le=MAX_ID),
) -> schemas.MaskVersion:
    restored = workspace.masks.restore(image_id, version, kind, base_version)
    return schemas.MaskVersion.model_validate(restored)


@router.get(
    "/images/{image_id}/superpixels",
    responses=schemas.PNG,
    response_class=Response,
    dependencies=ANNOTATOR,
)
def superpixels(
    workspace: WorkspaceDep, image_id: Id, segments: int = Query(200, ge=2, le=5000)
) -> Response:
    """SLIC labels at native size, encoded as RGB (label = R + 256 G) so a canvas reads them."""
    labels = workspace.masks.superpixels(image_id, segments)
    return _png(encode_labels(labels), {"X-Segments": str(int(labels.max()) + 1)})


@router.post(
    "/images/{image_id}/grabcut",
    responses=schemas.PNG,
    response_class=Response,
    dependencies=ANNOTATOR,
)
def grabcut(workspace: WorkspaceDep, image_id: Id, body: schemas.GrabCutRequest) -> Response:
    """A foreground proposal from a box and optional sure-foreground/background points."""
    mask = workspace.masks.grabcut(image_id, body.box, body.foreground, body.background)
    return _png(mask)


@router.get("/segmentation", response_model=schemas.SegmentationInfo, dependencies=VIEWER)
def segmentation(workspace: WorkspaceDep) -> schemas.SegmentationInfo:
    """Whether a segmentation model is configured, and how to configure one."""
    config = workspace.config.segmentation
    return schemas.SegmentationInfo(
        configured=config is not None,
        backend=None if config is None else config.backend,
        how_to=HOW_TO,
    )


@router.post(
    "/images/{image_id}/segment",
    responses=schemas.PNG,
    response_class=Response,
    dependencies=ANNOTATOR,
)
def segment(workspace: WorkspaceDep, image_id: Id, body: schemas.SegmentRequest) -> Response:
    """A mask proposal from the configured segmentation model for the clicked points."""
    if len(body.points) != len(body.labels) or any(v not in (0, 1) for v in body.labels):
        raise HTTPException(422, "give one label (1 include, 0 exclude) per point")
    return _png(workspace.masks.segment(image_id, body.points, body.labels))


@router.get("/annotations/progress", response_model=schemas.AnnotationProgress, dependencies=VIEWER)
def progress(workspace: WorkspaceDep, kind: Kind = "spurious") -> schemas.AnnotationProgress:
    """Annotated images (non-empty current mask) against all images, per split and class."""
    splits = {
        split: {
            name: schemas.ClassProgress(annotated=done, images=total)
            for name, (done, total) in classes.items()
        }
        for split, classes in workspace.masks.progress(kind).items()
    }
    return schemas.AnnotationProgress(kind=kind, splits=splits)


@router.get("/masks/coverage", response_model=schemas.MaskCoverage, dependencies=VIEWER)
def coverage(
    workspace: WorkspaceDep,
    split: Literal["train", "validation", "test"] = Query("train", description="labelled split"),
) -> schemas.MaskCoverage:
    """Spurious masks per class, and whether they are too skewed for paired training (one
    class far beyond its share, or fewer than half of the classes): the Train page warns."""
    return schemas.MaskCoverage.model_validate(workspace.mask_coverage(split))


@router.post(
    "/jobs/auto-annotate",
    response_model=JobInfo,
    status_code=202,
    tags=["jobs"],
    dependencies=ANNOTATOR,
)
def queue_auto_annotation(workspace: WorkspaceDep, body: AutoAnnotate) -> JobInfo:
    """Queue batch auto-annotation over a filtered set; proposals wait for review."""
    return workspace.jobs.auto_annotate(**body.model_dump())


@router.get("/proposals", response_model=schemas.ProposalPage, dependencies=VIEWER)
def list_proposals(
    workspace: WorkspaceDep,
    status: Literal["pending", "accepted", "rejected"] = "pending",
    kind: Kind | None = None,
    page: int = Query(1, ge=1, le=MAX_ID // 500),
    page_size: int = Query(100, ge=1, le=500),
) -> schemas.ProposalPage:
    total, items = workspace.masks.proposals(status, kind, page_size, (page - 1) * page_size)
    return schemas.ProposalPage(total=total, items=items)


@router.get(
    "/proposals/{proposal_id}/mask",
    responses=schemas.PNG,
    response_class=Response,
    dependencies=VIEWER,
)
def proposal_mask(workspace: WorkspaceDep, proposal_id: Id) -> Response:
    return _png(workspace.masks.proposal(proposal_id)[1])


@router.post(
    "/proposals/{proposal_id}/{decision}",
    response_model=ProposalInfo,
    responses=schemas.CONFLICT,
    dependencies=ANNOTATOR,
)
def review_proposal(
    workspace: WorkspaceDep, proposal_id: Id, decision: Literal["accept", "reject", "edited"]
) -> ProposalInfo:
    """accept: store it as the next mask version; reject: drop it; edited: the page saved an
    edited version itself, record the proposal as accepted."""
    if decision == "reject":
        return workspace.masks.reject(proposal_id)
    return workspace.masks.accept(proposal_id, store=decision == "accept")
