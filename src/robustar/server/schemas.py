"""Response schemas of the REST API, separate from the library's dataclasses and tables, and
the OpenAPI declarations shared by many routes (error bodies, binary images)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from robustar.annotations.proposals import ProposalInfo
from robustar.annotations.store import MaskKind
from robustar.models.versions import GuardReport
from robustar.predict.gallery import ImageInfo
from robustar.server.params import JsonInt
from robustar.server.params import Split as SplitName


class Schema(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class Health(Schema):
    status: str
    version: str


class ErrorBody(Schema):
    """Every 4xx body: what went wrong and, when there is one, how to fix it."""

    detail: str
    fix: str | None


class ConflictBody(ErrorBody):
    """A 409: the save started from an outdated version; this one is current now."""

    current_version: int | None


class Split(Schema):
    name: SplitName
    images: int
    class_counts: dict[str, int]
    problems: int


class SplitScore(Schema):
    accuracy: float | None
    loss: float | None
    images: int


class ModelVersion(Schema):
    id: int
    name: str
    parent_id: int | None
    architecture: str
    num_classes: int
    source: str
    config: dict[str, Any]
    metrics: dict[str, SplitScore] = Field(description="by split, from its last prediction")
    created_at: datetime
    is_current: bool
    status: Literal["ready", "candidate", "deleted", "archived"] = Field(
        description="candidate: the regression guard held it back; POST "
        "/models/{id}/current promotes it. deleted, archived: gc removed its files (the row "
        "stays for lineage and curves)"
    )
    pinned: bool = Field(False, description="gc always keeps it (POST /models/{id}/pin)")
    guard: GuardReport | None = Field(
        description="the regression guard's figures and verdict against the parent; null when "
        "no guard ran (no parent, guard off)"
    )


class WorkspaceInfo(Schema):
    name: str
    classes: list[str]
    splits: list[Split]
    versions: list[ModelVersion]
    current_version: int | None


class Prediction(Schema):
    version_id: int
    predicted: int
    confidence: float
    loss: float | None
    correct: bool | None
    probabilities: list[float]


class ImageSummary(Schema):
    """A gallery cell: enough to draw a thumbnail with its labels."""

    id: int
    name: str
    label: int | None
    width: int
    height: int
    fingerprint: str
    predicted: int | None
    confidence: float | None
    loss: float | None
    correct: bool | None


class ImagePage(Schema):
    total: int
    page: int
    page_size: int
    pages: int
    items: list[ImageSummary]


class ImageDetail(Schema):
    id: int
    split: str
    name: str
    label: int | None
    width: int
    height: int
    fingerprint: str
    prediction: Prediction | None

    @classmethod
    def of(cls, image: ImageInfo) -> ImageDetail:
        p = image.prediction
        return cls(
            id=image.id,
            split=image.split,
            name=image.relpath,
            label=image.label,
            width=image.width,
            height=image.height,
            fingerprint=image.fingerprint,
            prediction=None if p is None else Prediction.model_validate(p),
        )


class Neighbours(Schema):
    index: int | None
    total: int
    previous_id: int | None
    next_id: int | None


class ClassMetrics(Schema):
    name: str
    support: int
    accuracy: float | None
    precision: float | None


class SplitMetrics(Schema):
    split: SplitName
    version_id: int
    images: int
    accuracy: float | None
    loss: float | None
    per_class: list[ClassMetrics]
    confusion: list[list[int]]


class MaskVersion(Schema):
    image_id: int
    kind: MaskKind
    version: int
    author: str
    created_at: datetime
    pixels: int
    is_current: bool
    legacy_author: bool = Field(
        description="the author is an operating-system account name (local mode, or a save "
        "from before team mode), not a team account"
    )


class ClassProgress(Schema):
    annotated: int
    images: int


class AnnotationProgress(Schema):
    kind: MaskKind
    splits: dict[str, dict[str, ClassProgress]]


class ClassCoverage(Schema):
    name: str
    images: int
    annotated: int = Field(description="images with a current, non-empty spurious mask")
    share: float = Field(description="the class's part of all annotated images of the split")


class MaskCoverage(Schema):
    """Spurious masks per class of a split, and whether paired training should be warned."""

    split: SplitName
    images: int
    annotated: int
    classes: list[ClassCoverage]
    skewed: bool = Field(description="masks too concentrated on few classes for paired training")
    reason: str = Field(description="why it is skewed, or why not")


Point = tuple[JsonInt, JsonInt]


class GrabCutRequest(BaseModel):
    box: tuple[JsonInt, JsonInt, JsonInt, JsonInt]
    foreground: list[Point] = []
    background: list[Point] = []


class SegmentRequest(BaseModel):
    points: list[Point]
    labels: list[JsonInt]


class SegmentationInfo(Schema):
    configured: bool
    backend: str | None
    how_to: str


class ProposalPage(Schema):
    total: int
    items: list[ProposalInfo]


# OpenAPI `responses=` entries, declared once and shared by the routes.
ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"model": ErrorBody, "description": "a request the workspace cannot carry out"},
    401: {
        "model": ErrorBody,
        "description": "not signed in (team mode), or a change without the configured token",
    },
    403: {
        "model": ErrorBody,
        "description": "a role that may not (team mode), a change from another site or "
        "without the CSRF token",
    },
    404: {"model": ErrorBody, "description": "no such image, version, mask, job or proposal"},
    413: {"model": ErrorBody, "description": "a body larger than the route accepts"},
    422: {"model": ErrorBody, "description": "malformed parameters or body, field by field"},
}
CONFLICT: dict[int | str, dict[str, Any]] = {
    409: {"model": ConflictBody, "description": "based on an outdated version"}
}
BINARY = {"type": "string", "format": "binary"}


def image_content(*media_types: str) -> dict[str, Any]:
    """A binary image response in any of these media types."""
    return {"content": {t: {"schema": BINARY} for t in media_types}, "description": "an image"}


PNG: dict[int | str, dict[str, Any]] = {200: image_content("image/png")}
REPORT_TYPES = {"html": "text/html", "markdown": "text/markdown"}
REPORT: dict[int | str, dict[str, Any]] = {
    200: {
        "content": {t: {"schema": {"type": "string"}} for t in REPORT_TYPES.values()},
        "description": "the report as a file to save (Content-Disposition: attachment)",
    }
}


def binary_body(media_type: str) -> dict[str, Any]:
    """`openapi_extra` for a route that reads its raw body itself."""
    return {"requestBody": {"required": True, "content": {media_type: {"schema": BINARY}}}}


PNG_BODY = binary_body("image/png")
