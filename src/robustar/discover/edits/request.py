"""What a benchmark run asks for, checked at the edge: REST answers 422 naming the range,
the CLI and the job handler get the same checks."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StrictBool, model_validator

from robustar.discover.edits.apply import EditSpec
from robustar.discover.edits.catalogue import EDITS
from robustar.discover.edits.inpaint import BACKENDS
from robustar.errors import DataError

MAX_SEEDS = 10


class EditRequest(BaseModel):
    """One edit by name with its options (see the edit's ranges in `EDITS.describe()`)."""

    model_config = ConfigDict(extra="forbid")
    name: Annotated[str, EDITS.one_of]
    options: dict[str, Any] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _options_in_range(self) -> EditRequest:
        try:
            self.options = self.spec().options
        except DataError as error:
            raise ValueError(error.what) from None
        return self

    def spec(self) -> EditSpec:
        return EditSpec(self.name, self.options)


class BenchmarkRequest(BaseModel):
    """A robustness benchmark: versions (default the current one), a split, edits (default
    the standard suite), seeds 0..seeds-1, at most `limit` images, the in-painting backend;
    `ten_crop` adds rows under ten-crop test-time augmentation."""

    model_config = ConfigDict(extra="forbid")
    split: Annotated[str, Field(min_length=1, max_length=64)] = "test"
    versions: Annotated[list[Annotated[int, Field(ge=1)]] | None, Field(max_length=8)] = None
    edits: list[EditRequest] | None = None
    seeds: Annotated[int, Field(ge=1, le=MAX_SEEDS)] = 3
    limit: Annotated[int | None, Field(ge=1)] = None
    backend: Annotated[str, BACKENDS.one_of] = "telea"
    ten_crop: StrictBool = Field(
        False, description="also measure under ten-crop test-time augmentation (own rows)"
    )

    def specs(self) -> list[EditSpec] | None:
        return None if self.edits is None else [e.spec() for e in self.edits]
