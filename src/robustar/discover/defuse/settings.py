"""Defuse's settings; the defaults follow the reference implementation (docs/decisions.md)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool

from robustar.numbers import NOT_BOOL

Seed = Annotated[int, Field(ge=0, le=2**32 - 1), NOT_BOOL]
Weight = Annotated[float, Field(ge=0, le=1000), NOT_BOOL]
Positive = Annotated[float, Field(gt=0, le=1000), NOT_BOOL]


class _Settings(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)


class VaeSettings(_Settings):
    """The β-VAE and how it is trained."""

    image_size: Annotated[int, Field(ge=16, le=128, multiple_of=16), NOT_BOOL] = Field(
        32, description="side of the VAE's square images (4 stride-2 layers: a multiple of 16)"
    )
    latent: Annotated[int, Field(ge=2, le=64), NOT_BOOL] = Field(
        12, description="latent dimensions"
    )
    beta: Annotated[float, Field(ge=0, le=100), NOT_BOOL] = Field(
        4.0, description="weight of the KL term"
    )
    warmup_epochs: Annotated[int, Field(ge=0, le=1000), NOT_BOOL] = Field(
        5, description="epochs over which the KL weight rises linearly from 0 to beta"
    )
    loss: Literal["bce", "mse"] = Field("bce", description="reconstruction loss per pixel")
    epochs: Annotated[int, Field(ge=1, le=10_000), NOT_BOOL] = 30
    batch_size: Annotated[int, Field(ge=1, le=4096), NOT_BOOL] = 64
    learning_rate: Annotated[float, Field(gt=0, le=1), NOT_BOOL] = 1e-3
    seed: Seed = 0


class SearchSettings(_Settings):
    """Identification: perturbations of each training image's code."""

    samples: Annotated[int, Field(ge=1, le=10_000), NOT_BOOL] = Field(
        100, description="Q: perturbations per image and radius"
    )
    a: Annotated[float, Field(gt=0, le=10_000), NOT_BOOL] = Field(
        50.0, description="ε per dimension is radius·(Beta(a, a) - 0.5)"
    )
    radii: Annotated[list[Positive], Field(min_length=1, max_length=16)] = Field(
        [5.0, 10.0, 20.0],
        description="scales of ε; radius 20 with a = 50 has a standard deviation of about 1",
    )
    keep: Annotated[int, Field(ge=1, le=100), NOT_BOOL] = Field(
        5, description="at most this many errors kept per image, those with the smallest ‖ε‖"
    )
    batch_size: Annotated[int, Field(ge=1, le=4096), NOT_BOOL] = Field(
        32, description="training images encoded at a time"
    )
    seed: Seed = 0


class RegionSettings(_Settings):
    """Distillation: a Dirichlet-process Gaussian mixture over the kept codes."""

    max_components: Annotated[int, Field(ge=1, le=1000), NOT_BOOL] = 100
    subsample: Annotated[int, Field(ge=2, le=1_000_000), NOT_BOOL] = Field(
        10_000, description="at most this many kept codes are fitted"
    )
    min_weight: Annotated[float, Field(ge=0, lt=1), NOT_BOOL] = Field(
        0.01, description="components above this weight are error regions"
    )
    samples: Annotated[int, Field(ge=1, le=10_000), NOT_BOOL] = Field(
        64, description="codes drawn per region for training, and as many held out"
    )
    scale: Annotated[float, Field(gt=0, le=10), NOT_BOOL] = Field(
        0.01, description="samples come from N(μ_k, scale·Σ_k)"
    )
    max_iter: Annotated[int, Field(ge=1, le=100_000), NOT_BOOL] = 500
    seed: Seed = 0


class CorrectSettings(_Settings):
    """Correction: fine-tunes on CE(train batch) + λ·CE(region samples)."""

    weights: Annotated[list[Weight], Field(min_length=1)] = Field(
        [0.01, 0.1, 1.0], description="the λ values swept, one version each"
    )
    baseline: StrictBool = Field(True, description="also fine-tune on the region samples alone")
    epochs: Annotated[int, Field(ge=1, le=1000), NOT_BOOL] = 5
    learning_rate: Annotated[float, Field(gt=0, le=1), NOT_BOOL] = 1e-3
    batch_size: Annotated[int, Field(ge=2, le=4096), NOT_BOOL] = 64
    seed: Seed = 0
