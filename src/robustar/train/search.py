"""Repair search: a grid of training settings to try, and the criterion that picks one of the
trained candidates without out-of-domain labels, from the user's own masks only.

The criterion (docs/decisions.md, "Repair search"): a candidate may be chosen only if its clean
validation accuracy is within `tolerance` points of the best candidate's; among those, the
highest score wins, score = mean of (accuracy on the annotated images with their spurious
regions filled, agreement of the predictions on x and x'); ties go to clean accuracy, then to
the earlier candidate.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Annotated, Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    ValidationError,
    field_validator,
    model_validator,
)

from robustar.errors import ConfigError, validation_problems
from robustar.numbers import NOT_BOOL
from robustar.train.fillers import FILLERS
from robustar.train.options import RemoteTrainOptions, TrainOptions

# The grid tried by default: option -> values (every combination is one candidate). One
# constant, so that a sweep over the problem suite can change it in one place.
DEFAULT_GRID: dict[str, list[Any]] = {
    "filler": ["swap", "uniform"],
    "copy_loss": [False, True],
}
# Fillers of the criterion's x': several, so that no candidate wins by having trained on the one
# filler it is judged with.
CRITERION_FILLERS = ["uniform", "black", "blur", "other"]
MAX_CANDIDATES = 32  # a grid beyond this is a mistake more often than a plan
GridValue = str | int | float | bool


class PairedTrainOptions(TrainOptions):
    """Training options with paired training on by default: what a repair search's
    candidates share unless told otherwise (the command line's flags come from here)."""

    paired: StrictBool = Field(True, description="pair annotated images with filled copies")


class SearchOptions(BaseModel):
    """What a repair search tries: `base` training options (paired by default) and a `grid`
    of option -> values whose every combination is trained as a candidate version."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    base: TrainOptions = Field(
        default_factory=PairedTrainOptions,
        description="the options every candidate shares (paired=true unless given)",
    )
    grid: dict[str, list[GridValue]] = Field(
        default=DEFAULT_GRID,  # the validator below makes each search its own copy
        description="training option -> the values to try; every combination is a candidate",
    )
    fillers: list[Annotated[str, FILLERS.one_of]] = Field(
        default=CRITERION_FILLERS,  # copied by pydantic
        min_length=1,
        description="fillers of the criterion's filled copies (averaged)",
    )
    tolerance: Annotated[
        float,
        Field(
            ge=0,
            le=100,
            description="clean validation accuracy points a candidate may "
            "lose against the best candidate and still be chosen",
        ),
        NOT_BOOL,
    ] = 1.0
    promote_best: StrictBool = Field(
        False,
        description="make the chosen candidate current through the regression guard "
        "(against the version current when the search started)",
    )

    @field_validator("base", mode="before")
    @classmethod
    def _paired_by_default(cls, value: object) -> object:
        if isinstance(value, dict) and "paired" not in value:
            return {**value, "paired": True}
        return value

    @model_validator(mode="after")
    def _grid_fits_the_options(self) -> SearchOptions:
        """Each grid value validated as its option (so '0.2' from a command line is 0.2)."""
        kind = type(self.base)
        unknown = [name for name in self.grid if name not in kind.model_fields]
        if unknown:
            raise ValueError(f"grid names unknown training options {unknown}")
        empty = [name for name, values in self.grid.items() if not values]
        if empty:
            raise ValueError(f"grid options {empty} have no values")
        base = self.base.model_dump()

        def typed_value(name: str, value: GridValue) -> Any:
            try:
                return getattr(kind(**{**base, name: value}), name)
            except ValidationError as error:
                raise ValueError(f"grid {name}={value!r}: {validation_problems(error)}") from None

        typed = {
            name: list(dict.fromkeys(typed_value(name, v) for v in values))
            for name, values in self.grid.items()
        }
        count = 1
        for values in typed.values():
            count *= len(values)
        if count > MAX_CANDIDATES:
            raise ValueError(f"grid has {count} combinations, more than {MAX_CANDIDATES}")
        self.grid = typed
        return self

    def candidates(self) -> list[TrainOptions]:
        """Every combination of the grid over the base options, in the grid's order."""
        names = list(self.grid)
        kind = type(self.base)
        base = self.base.model_dump()
        return [
            kind(**{**base, **dict(zip(names, values, strict=True))})
            for values in itertools.product(*self.grid.values())
        ]


class RemoteSearchOptions(SearchOptions):
    """What a client may send over HTTP: the base is `RemoteTrainOptions` (no path, no code),
    and so is every combination of the grid."""

    base: RemoteTrainOptions = Field(
        default_factory=lambda: RemoteTrainOptions(paired=True),
        description="the options every candidate shares (paired=true unless given)",
    )


def describe(settings: dict[str, Any]) -> str:
    """A candidate's grid values in words: 'filler=uniform, pair_weight=0.2'."""
    return ", ".join(f"{k}={v}" for k, v in settings.items())


def parse_search(values: dict[str, Any]) -> SearchOptions:
    try:
        return SearchOptions.model_validate(values)
    except ValidationError as error:
        raise ConfigError(
            f"invalid repair search options: {validation_problems(error)}",
            "fix the named options (grid keys are training options, e.g. filler, pair_weight)",
        ) from None


@dataclass(frozen=True)
class Figures:
    """What the criterion knows of a candidate: clean validation accuracy, and on the annotated
    images, accuracy with the spurious regions filled and x / x' agreement (means over the
    criterion's fillers)."""

    clean: float
    filled: float
    consistency: float


def score(figures: Figures) -> float:
    return (figures.filled + figures.consistency) / 2


def eligible(found: list[Figures], tolerance: float) -> list[bool]:
    """Whether each candidate keeps clean accuracy within `tolerance` points of the best."""
    best = max(f.clean for f in found)
    return [f.clean >= best - tolerance / 100 - 1e-9 for f in found]


def choose(found: list[Figures], tolerance: float) -> int:
    """The index of the chosen candidate (see the module's docstring)."""
    allowed = eligible(found, tolerance)
    ranked = [(score(f), f.clean, -i) for i, f in enumerate(found) if allowed[i]]
    return -max(ranked)[2]
