"""Training options, validated at the edge (CLI, API, Python) like the configuration."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from robustar.errors import ConfigError, validation_problems
from robustar.models.registry import check_registered


class TrainOptions(BaseModel):
    """What a training run does; fields left None take the workspace configuration's value."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    init: Literal["scratch", "current", "checkpoint"] = "scratch"
    checkpoint: str | None = Field(default=None, description="local weights for init=checkpoint")
    architecture: str | None = None
    epochs: Annotated[int, Field(ge=1, le=10_000)] = 10
    batch_size: Annotated[int, Field(ge=1, le=65536)] | None = None
    optimizer: Literal["sgd", "adam", "adamw"] = "adamw"
    learning_rate: Annotated[float, Field(gt=0, le=10)] = 1e-3
    momentum: Annotated[float, Field(ge=0, lt=1)] = 0.9
    weight_decay: Annotated[float, Field(ge=0)] = 0.0
    schedule: Literal["constant", "cosine", "step"] = "cosine"
    step_size: Annotated[int, Field(ge=1)] = 10
    gamma: Annotated[float, Field(gt=0, le=1)] = 0.1
    seed: int = 0
    device: Literal["auto", "cpu", "cuda", "mps"] | None = None
    augment: Literal["none", "flip"] = "none"
    name: str | None = None
    paired: bool = Field(False, description="pair annotated images with filled copies")
    filler: Literal[
        "uniform",
        "weak",
        "minor",
        "black",
        "colour",
        "hstripes",
        "vstripes",
        "mixture",
        "blur",
        "other",
        "worst",
    ] = "mixture"
    regularizer: Literal["l2", "l1", "cosine", "kl"] = "l2"
    # λ; 0.2 with the mixture filler recovered most of the demo's gap (docs/benchmarks.md)
    pair_weight: Annotated[float, Field(ge=0, le=1000, description="λ")] = 0.2
    worst_of: Annotated[int, Field(ge=2, le=16)] = 4
    evaluate_test: bool = Field(True, description="test accuracy after every epoch")


class RemoteTrainOptions(TrainOptions):
    """The options a client may send over HTTP: no file path and no `module:callable`, since
    either would make the server read a file or run code that the request names. Weights from
    elsewhere come in as an upload (POST /models/import) and are trained with init='current'."""

    init: Literal["scratch", "current"] = "scratch"
    checkpoint: None = Field(
        default=None,
        description="not accepted over HTTP: upload the weights with POST /api/v1/models/import",
    )
    architecture: str | None = Field(
        default=None,
        description="a registered architecture (GET /api/v1/models/architectures); "
        "default: [model] architecture",
    )

    @field_validator("architecture")
    @classmethod
    def _registered(cls, name: str | None) -> str | None:
        if name is None:
            return None
        try:
            return check_registered(name)
        except ConfigError as error:
            raise ValueError(f"{error.what}: {error.fix}") from None


def parse_options(values: dict) -> TrainOptions:
    try:
        options = TrainOptions.model_validate(values)
    except ValidationError as error:
        problems = validation_problems(error)
        raise ConfigError(
            f"invalid training options: {problems}", "fix the named options"
        ) from None
    if options.init == "checkpoint" and not options.checkpoint:
        raise ConfigError(
            "training option init='checkpoint' needs a checkpoint path",
            "pass --checkpoint PATH (or checkpoint=...), or choose init='scratch'",
        )
    return options
