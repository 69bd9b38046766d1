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
