"""Response schemas of the REST API, separate from the library's dataclasses and tables."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict


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


class Job(Schema):
    id: int
    kind: str
    params: dict[str, Any]
    status: str
    stage: str
    done: int
    total: int
    log: str
    result: dict[str, Any]
    error: str | None
    cancel_requested: bool
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None


class EpochCurve(Schema):
    epoch: int
    train_loss: float
    train_accuracy: float
    val_loss: float | None
    val_accuracy: float | None
    test_accuracy: float | None
    learning_rate: float
    seconds: float


class ClassDelta(Schema):
    name: str
    before: float | None
    after: float | None


class SplitComparison(Schema):
    split: str
    images: int
    before: float | None
    after: float | None
    fixed: int
    broken: int
    changed: int
    per_class: list[ClassDelta]


class FilledAccuracy(Schema):
    images: int
    filler: str
    before_original: float | None
    after_original: float | None
    before_filled: float | None
    after_filled: float | None
    before_saliency_in_mask: float | None
    after_saliency_in_mask: float | None


class Comparison(Schema):
    before: int
    after: int
    splits: list[SplitComparison]
    filled: FilledAccuracy | None


class Proposal(Schema):
    id: int
    image_id: int
    kind: str
    method: str
    job_id: int | None
    pixels: int
    status: str
    created_at: datetime


class ProposalPage(Schema):
    total: int
    items: list[Proposal]
