"""One edit applied to one image: options checked against the edit's ranges, a generator
seeded from (seed, image), the object mask checked; the entry point every face uses."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
from pydantic import ValidationError

from robustar.discover.edits import catalogue  # noqa: F401  (registers the edits)
from robustar.discover.edits.catalogue import EDITS, Donor, Edited, Scene
from robustar.discover.edits.geometry import check_object
from robustar.discover.edits.inpaint import BACKENDS, Backend
from robustar.errors import DataError, validation_problems


@dataclass(frozen=True)
class EditSpec:
    """An edit by name with its options (checked at construction, so bad ones never run)."""

    name: str
    options: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "options", check_options(self.name, self.options))

    @property
    def label(self) -> str:
        """How the row is named in tables: `size(rate=0.05)`; the blending is shown only
        when it is not the default."""
        defaults = EDITS.entry(self.name).options().model_dump()
        shown = {k: v for k, v in self.options.items() if k != "blend" or defaults.get(k) != v}
        inner = ", ".join(f"{k}={v}" for k, v in shown.items())
        return f"{self.name}({inner})" if inner else self.name

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "options": self.options}


def check_options(edit: str, options: dict[str, Any]) -> dict[str, Any]:
    """The options with defaults filled in; a DataError naming the allowed ranges."""
    entry = EDITS.entry(edit)
    try:
        return entry.options.model_validate(options).model_dump()
    except ValidationError as error:
        raise DataError(
            f"invalid options for edit {edit!r}: {validation_problems(error)}",
            f"use the options and ranges listed by 'robustar discover edits list' for {edit}",
            f"use the options robustar.discover.edits.EDITS.describe() lists for {edit}",
        ) from None


def make_backend(name: str | None = None, **options: Any) -> Backend:
    entry = BACKENDS.entry(name or BACKENDS.default or "telea")
    backend: Backend = entry.target(**entry.options.model_validate(options).model_dump())
    return backend


def generator(seed: int, image_key: int) -> np.random.Generator:
    """The same (seed, image) gives the same random choices in every run and face."""
    return np.random.default_rng([seed, image_key])


def apply(
    spec: EditSpec,
    image: np.ndarray,
    mask: np.ndarray,
    *,
    seed: int = 0,
    image_key: int = 0,
    backend: Backend | None = None,
    donor: Donor | None = None,
    background: np.ndarray | None = None,
) -> Edited:
    """Edit an RGB uint8 image whose object is `mask`; raises EditSkipped for a mask with
    no object or no background, or a size that cannot be reached. `background` is the
    image with its object in-painted away, when the caller has computed it already."""
    if mask.shape != image.shape[:2]:
        raise DataError(
            f"mask {mask.shape} and image {image.shape[:2]} differ in size",
            "give the object mask at the image's native size",
        )
    check_object(mask)
    scene = Scene(
        np.ascontiguousarray(image[..., :3]),
        mask.astype(bool),
        generator(seed, image_key),
        backend or make_backend(),
        donor or (lambda rng: None),
        background,
    )
    edited: Edited = EDITS.get(spec.name)(scene, **spec.options)
    return edited
