"""Every registered method, with its description and options, and the training and
auto-annotation options' JSON schemas: what the web app's selects and forms are built from."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, Field

from robustar.annotations.proposals import AutoAnnotate
from robustar.annotations.segmenters import SEGMENTERS
from robustar.explain.attribution import ATTRIBUTION
from robustar.explain.saliency import SALIENCY
from robustar.jobs.handlers import JOB_KINDS
from robustar.registry import MethodInfo, Registry
from robustar.server.auth import VIEWER
from robustar.train.fillers import FILLERS
from robustar.train.options import RemoteTrainOptions, TrainOptions
from robustar.train.paired import REGULARIZERS
from robustar.train.search import RemoteSearchOptions

router = APIRouter(tags=["meta"], dependencies=VIEWER)


class Family(BaseModel):
    default: str | None = Field(description="used when a request names no method")
    methods: list[MethodInfo]


class Methods(BaseModel):
    saliency: Family
    attribution: Family
    filler: Family
    regularizer: Family
    segmenter: Family = Field(description="[segmentation] backend in robustar.toml")
    job_kind: Family = Field(description="what the worker runs (GET /jobs lists them)")
    train_options: dict[str, Any] = Field(
        description="the JSON schema of the training options POST /jobs/train accepts; a "
        "property's `when` names the option values under which it applies"
    )
    search_options: dict[str, Any] = Field(
        description="the JSON schema of the repair search options POST /jobs/repair_search "
        "accepts (the default grid is `properties.grid.default`)"
    )
    auto_annotate_options: dict[str, Any] = Field(
        description="the JSON schema of what POST /jobs/auto-annotate accepts"
    )


def _family(registry: Registry[Any], default: str | None = None) -> Family:
    return Family(default=default or registry.default, methods=registry.describe())


@router.get("/methods", response_model=Methods)
def methods() -> Methods:
    """Read on every request, so a method registered by a plugin is offered at once."""
    fields = TrainOptions.model_fields
    return Methods(
        saliency=_family(SALIENCY),
        attribution=_family(ATTRIBUTION),
        filler=_family(FILLERS, fields["filler"].default),
        regularizer=_family(REGULARIZERS, fields["regularizer"].default),
        segmenter=_family(SEGMENTERS),
        job_kind=_family(JOB_KINDS),
        train_options=RemoteTrainOptions.model_json_schema(),
        search_options=RemoteSearchOptions.model_json_schema(),
        auto_annotate_options=AutoAnnotate.model_json_schema(),
    )
