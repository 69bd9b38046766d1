"""Parameters shared by the routes, validated by FastAPI (bad values are 422): bounded ids and
the gallery's query."""

from __future__ import annotations

import math
from typing import Annotated, Literal

from fastapi import Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

Split = Literal["train", "validation", "test", "pool"]
# the largest integer a database column holds: a larger id is a 422, never an overflow (500)
MAX_ID = 2**63 - 1
Id = Annotated[int, Field(ge=0, le=MAX_ID)]


class ImageQuery(BaseModel):
    """The gallery's filter and sort, as the web app keeps them in its URL."""

    split: Split = Field(description="which split to list")
    label: int | None = Field(None, ge=0, le=MAX_ID, description="true class index")
    predicted: int | None = Field(None, ge=0, le=MAX_ID, description="predicted class index")
    correct: bool | None = Field(None, description="only right (true) or wrong (false)")
    min_confidence: float | None = Field(None, ge=0, le=1)
    max_confidence: float | None = Field(None, ge=0, le=1)
    annotated: bool | None = Field(None, description="has a non-empty mask of mask_kind")
    mask_kind: Literal["spurious", "object"] = "spurious"
    suspicious: bool | None = Field(None, description="in the suspicious queue (train)")
    versus: Id | None = Field(None, description="compare with this model version")
    flip: Literal["changed", "fixed", "broken"] = Field(
        "changed", description="with versus: predicted class changed, or became right / wrong"
    )
    sort: Literal["name", "id", "loss", "confidence", "suspicion"] = "name"
    order: Literal["asc", "desc"] = "asc"
    version: Id | None = Field(None, description="model version; default: the current one")

    def filters(self) -> dict[str, object]:
        return self.model_dump(
            include={
                "label",
                "predicted",
                "correct",
                "min_confidence",
                "max_confidence",
                "annotated",
                "mask_kind",
                "suspicious",
                "versus",
                "flip",
            }
        )

    def ordering(self) -> dict[str, object]:
        return {"sort": self.sort, "descending": self.order == "desc", "version": self.version}


class ImagePageQuery(ImageQuery):
    page: int = Field(1, ge=1, le=MAX_ID // 500)
    page_size: int = Field(100, ge=1, le=500)


def validation_error(_request: Request, error: Exception) -> JSONResponse:
    """FastAPI's 422 body, with a NaN or infinite input (JSON bodies may hold them, JSON
    replies may not) written as text instead of failing with a 500."""
    assert isinstance(error, RequestValidationError)
    return JSONResponse({"detail": _finite(jsonable_encoder(error.errors()))}, status_code=422)


def _finite(value: object) -> object:
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_finite(v) for v in value]
    return value
