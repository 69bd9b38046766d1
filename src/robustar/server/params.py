"""Parameters shared by the routes, validated by FastAPI (bad values are 422): bounded ids and
the gallery's query."""

from __future__ import annotations

from typing import Annotated, Any, Literal, TypedDict

from pydantic import BaseModel, Field

from robustar.numbers import NOT_BOOL, JsonFloat, JsonInt
from robustar.predict.gallery import SortKey

__all__ = ["MAX_ID", "Id", "JsonFloat", "JsonInt"]


Split = Literal["train", "validation", "test", "pool"]
# A larger id is a 422, never an overflow (500). Not 2**63 - 1, what a database column holds:
# JSON numbers past 2**53 are rounded by JavaScript and float-based validators, so a client could
# not even tell which id it sent.
MAX_ID = 2**53 - 1
Id = Annotated[int, Field(ge=0, le=MAX_ID), NOT_BOOL]


class Ordering(TypedDict):
    """The gallery's order, as `Workspace.images` and `Workspace.neighbours` take it."""

    sort: SortKey
    descending: bool
    version: int | None


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
    sort: SortKey = "name"
    order: Literal["asc", "desc"] = "asc"
    version: Id | None = Field(None, description="model version; default: the current one")

    def filters(self) -> dict[str, Any]:
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

    def ordering(self) -> Ordering:
        return {"sort": self.sort, "descending": self.order == "desc", "version": self.version}


class ImagePageQuery(ImageQuery):
    page: int = Field(1, ge=1, le=MAX_ID // 500)
    page_size: int = Field(100, ge=1, le=500)
