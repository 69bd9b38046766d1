"""Query parameters shared by the image routes, validated by FastAPI (bad values are 422)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

Split = Literal["train", "validation", "test", "pool"]


class ImageQuery(BaseModel):
    """The gallery's filter and sort, as the web app keeps them in its URL."""

    split: Split = Field(description="which split to list")
    label: int | None = Field(None, ge=0, description="true class index")
    predicted: int | None = Field(None, ge=0, description="predicted class index")
    correct: bool | None = Field(None, description="only right (true) or wrong (false)")
    min_confidence: float | None = Field(None, ge=0, le=1)
    max_confidence: float | None = Field(None, ge=0, le=1)
    annotated: bool | None = Field(None, description="has a non-empty mask of mask_kind")
    mask_kind: Literal["spurious", "object"] = "spurious"
    suspicious: bool | None = Field(None, description="in the suspicious queue (train)")
    versus: int | None = Field(None, description="compare with this model version")
    flip: Literal["changed", "fixed", "broken"] = Field(
        "changed", description="with versus: predicted class changed, or became right / wrong"
    )
    sort: Literal["name", "id", "loss", "confidence", "suspicion"] = "name"
    order: Literal["asc", "desc"] = "asc"
    version: int | None = Field(None, description="model version; default: the current one")

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
    page: int = Field(1, ge=1)
    page_size: int = Field(100, ge=1, le=500)
