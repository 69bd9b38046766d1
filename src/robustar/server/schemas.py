"""Response schemas of the REST API, separate from the library's dataclasses and tables."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict

from robustar.annotations.proposals import ProposalInfo


class Schema(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class Health(Schema):
    status: str
    version: str


class Problem(Schema):
    detail: str
    fix: str | None = None


class Split(Schema):
    name: str
    images: int
    class_counts: dict[str, int]
    problems: int


class ModelVersion(Schema):
    id: int
    name: str
    parent_id: int | None
    architecture: str
    num_classes: int
    source: str
    config: dict[str, Any]
    metrics: dict[str, Any]
    created_at: datetime
    is_current: bool


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
    split: str
    version_id: int
    images: int
    accuracy: float | None
    loss: float | None
    per_class: list[ClassMetrics]
    confusion: list[list[int]]


class MaskVersion(Schema):
    image_id: int
    kind: str
    version: int
    author: str
    created_at: datetime
    pixels: int
    is_current: bool


class Conflict(Schema):
    detail: str
    fix: str | None
    current_version: int | None


class ClassProgress(Schema):
    annotated: int
    images: int


class AnnotationProgress(Schema):
    kind: str
    splits: dict[str, dict[str, ClassProgress]]


class GrabCutRequest(BaseModel):
    box: tuple[int, int, int, int]
    foreground: list[tuple[int, int]] = []
    background: list[tuple[int, int]] = []


class SegmentRequest(BaseModel):
    points: list[tuple[int, int]]
    labels: list[int]


class SegmentationInfo(Schema):
    configured: bool
    backend: str | None
    how_to: str


class ProposalPage(Schema):
    total: int
    items: list[ProposalInfo]
