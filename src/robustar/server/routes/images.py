"""Images by id: filtered pages, one image, its neighbours, the file and thumbnails."""

from __future__ import annotations

from math import ceil
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import FileResponse

from robustar.data.media import MediaFile
from robustar.predict.gallery import ImageInfo
from robustar.server import schemas
from robustar.server.auth import VIEWER
from robustar.server.deps import WorkspaceDep
from robustar.server.params import Id, ImagePageQuery, ImageQuery

router = APIRouter(prefix="/images", tags=["images"], dependencies=VIEWER)
IMMUTABLE = "private, max-age=31536000, immutable"
NOT_MODIFIED = {"description": "unchanged since the ETag in If-None-Match"}


def _summary(image: ImageInfo) -> schemas.ImageSummary:
    p = image.prediction
    return schemas.ImageSummary(
        id=image.id,
        name=image.relpath,
        label=image.label,
        width=image.width,
        height=image.height,
        fingerprint=image.fingerprint,
        predicted=None if p is None else p.predicted,
        confidence=None if p is None else p.confidence,
        loss=None if p is None else p.loss,
        correct=None if p is None else p.correct,
    )


@router.get("", response_model=schemas.ImagePage)
def list_images(
    workspace: WorkspaceDep, query: Annotated[ImagePageQuery, Query()]
) -> schemas.ImagePage:
    """One page of a split, filtered and sorted by the database."""
    page, page_size = query.page, query.page_size
    total = workspace.count(query.split, version=query.version, **query.filters())
    items = workspace.images(
        query.split,
        limit=page_size,
        offset=(page - 1) * page_size,
        **query.ordering(),
        **query.filters(),
    )
    return schemas.ImagePage(
        total=total,
        page=page,
        page_size=page_size,
        pages=max(1, ceil(total / page_size)),
        items=[_summary(i) for i in items],
    )


@router.get("/{image_id}", response_model=schemas.ImageDetail)
def get_image(
    workspace: WorkspaceDep, image_id: Id, version: Id | None = Query(None)
) -> schemas.ImageDetail:
    return schemas.ImageDetail.of(workspace.image(image_id, version))


@router.get("/{image_id}/neighbours", response_model=schemas.Neighbours)
def get_neighbours(
    workspace: WorkspaceDep, image_id: Id, query: Annotated[ImageQuery, Query()]
) -> schemas.Neighbours:
    """Previous / next image inside the same filtered, sorted list the gallery shows."""
    workspace.image(image_id)
    found = workspace.neighbours(image_id, query.split, **query.ordering(), **query.filters())
    return schemas.Neighbours.model_validate(found)


def _send(request: Request, media: MediaFile, etag: str, version_tag: str | None) -> Response:
    """Conditional GET by ETag; URLs that carry the fingerprint (?v=) are cached for good."""
    headers = {
        "ETag": etag,
        "Cache-Control": IMMUTABLE if version_tag else "private, no-cache",
    }
    if request.headers.get("if-none-match") == etag:
        return Response(status_code=304, headers=headers)
    return FileResponse(media.path, media_type=media.media_type, headers=headers)


def _version_tag(fingerprint: str, v: str | None) -> str | None:
    return v if v and fingerprint.startswith(v) else None


@router.get(
    "/{image_id}/file",
    response_class=FileResponse,
    responses={
        200: schemas.image_content("image/png", "image/jpeg", "image/gif", "image/webp"),
        304: NOT_MODIFIED,
    },
)
def get_file(
    workspace: WorkspaceDep,
    image_id: Id,
    request: Request,
    v: str | None = Query(None, max_length=32, description="fingerprint prefix, for caching"),
) -> Response:
    """The image as a browser shows it (the original, or an upright 8-bit PNG copy)."""
    media = workspace.media.display_file(image_id)
    return _send(request, media, f'"{media.fingerprint}"', _version_tag(media.fingerprint, v))


@router.get(
    "/{image_id}/thumbnail",
    response_class=FileResponse,
    responses={200: schemas.image_content("image/webp"), 304: NOT_MODIFIED},
)
def get_thumbnail(
    workspace: WorkspaceDep,
    image_id: Id,
    request: Request,
    size: int = Query(128, description="64, 128 or 256"),
    v: str | None = Query(None, max_length=32, description="fingerprint prefix, for caching"),
) -> Response:
    """A WebP thumbnail, generated once and cached on disk."""
    media = workspace.media.thumbnail(image_id, size)
    tag = _version_tag(media.fingerprint, v)
    return _send(request, media, f'"{media.fingerprint}-{size}"', tag)
