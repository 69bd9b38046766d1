"""The settings of a MAD round; the defaults are the papers' (docs/decisions.md)."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field


class MadSettings(BaseModel):
    """How a round selects candidates and picks the images that get true labels."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    threshold: Annotated[float, Field(gt=0, le=1)] = Field(
        0.8, description="both models' top-1 probability must reach this"
    )
    per_pair: Annotated[int, Field(ge=1, le=100_000)] = Field(
        25, description="candidates per model pair and role direction (n)"
    )
    per_class: Annotated[int, Field(ge=1, le=100_000)] = Field(
        3, description="at most this many candidates per class the leading model predicts"
    )
    pair_once: bool = Field(
        True, description="each unordered pair of predicted classes is used once per direction"
    )
    worst: Annotated[int, Field(ge=1, le=100_000)] = Field(
        100, description="the n4 lowest-rated candidates that get true labels for training"
    )
    test_size: Annotated[int, Field(ge=0, le=100_000)] = Field(
        30, description="candidates held back as the round's unbiased test set"
    )
    test_per_class: Annotated[int, Field(ge=1, le=100_000)] = Field(
        4, description="at most this many test images per class the target predicts"
    )
    seed: int = Field(0, description="draws the held-back test set")
