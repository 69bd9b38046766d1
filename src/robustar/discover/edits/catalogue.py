"""The edits, one function each in the `EDITS` registry, with their options and ranges.

Every edit takes a `Scene` (the image, its object mask, a seeded generator, the in-painting
backend and a source of other images' backgrounds) and returns the edited image with the
object's new mask. The same (image, edit, options, seed) always gives the same pixels, so a
benchmark regenerates an edited image on demand instead of storing it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Annotated, Literal

import numpy as np
from pydantic import Field

from robustar.discover.edits import background as bg
from robustar.discover.edits import geometry
from robustar.discover.edits.blend import Blend, compose
from robustar.discover.edits.geometry import Placed
from robustar.discover.edits.inpaint import Backend, remove
from robustar.discover.edits.skips import EditSkipped
from robustar.registry import Registry

# Another image's background, already at this image's size (None when there is none).
Donor = Callable[[np.random.Generator], np.ndarray | None]


@dataclass
class Scene:
    """One image to edit: RGB uint8 pixels, the boolean object mask, and what edits use."""

    image: np.ndarray
    mask: np.ndarray
    rng: np.random.Generator
    backend: Backend
    donor: Donor = field(default=lambda rng: None)
    filled: np.ndarray | None = None  # the background, when the caller has it already

    @property
    def obj(self) -> Placed:
        return Placed(self.image, self.mask)

    @property
    def background(self) -> np.ndarray:
        """The image with the object in-painted away (computed once per scene)."""
        if self.filled is None:
            self.filled = remove(self.image, self.mask, self.backend)
        return self.filled


@dataclass(frozen=True)
class Edited:
    image: np.ndarray
    mask: np.ndarray


Edit = Callable[..., Edited]
EDITS: Registry[Edit] = Registry("edit", default="identity")

BlendOption = Annotated[Blend, Field(description="how the object's edge meets the background")]
Strength = Annotated[float, Field(ge=-30, le=30, description="λ: > 0 busier, < 0 smoother")]
Rate = Annotated[float, Field(ge=0.01, le=0.5, description="object pixel rate to reach")]
Angle = Annotated[float, Field(ge=-180, le=180, description="degrees, counter-clockwise")]
Source = Literal["image", "colour", "noise", "gabor", "stripes", "checks"]


def _onto(scene: Scene, backdrop: np.ndarray, obj: Placed, blend: Blend) -> Edited:
    return Edited(compose(backdrop, obj, blend), obj.mask)


@EDITS.register("identity", kind="control")
def identity(scene: Scene, *, blend: BlendOption = "feather") -> Edited:
    """Remove the object and paste it back in place: what the pipeline itself costs."""
    return _onto(scene, scene.background, scene.obj, blend)


@EDITS.register("remove", kind="background")
def remove_object(scene: Scene) -> Edited:
    """Remove the object and in-paint the hole (the model sees background only)."""
    return Edited(scene.background, np.zeros_like(scene.mask))


@EDITS.register("complexity", kind="background")
def complexity(
    scene: Scene, *, strength: Strength = 20.0, blend: BlendOption = "feather"
) -> Edited:
    """Make the background busier (λ > 0) or smoother (λ < 0) by its Fourier amplitude."""
    return _onto(scene, bg.tilt_amplitude(scene.background, strength), scene.obj, blend)


@EDITS.register("background", kind="background")
def replace_background(
    scene: Scene, *, source: Source = "image", blend: BlendOption = "feather"
) -> Edited:
    """Replace the background: another image's, a plain colour, or a procedural texture."""
    shape = scene.mask.shape
    if source == "image":
        backdrop = scene.donor(scene.rng)
        if backdrop is None:  # no other image to borrow from: a texture instead
            backdrop = bg.texture("noise", shape, scene.rng)
    elif source == "colour":
        red, green, blue = (int(c) for c in scene.rng.integers(0, 256, 3))
        backdrop = bg.colour(shape, (red, green, blue))
    else:
        backdrop = bg.texture(source, shape, scene.rng)
    return _onto(scene, backdrop, scene.obj, blend)


@EDITS.register("size", kind="object")
def size(
    scene: Scene, *, rate: Rate | Literal["full"] = 0.1, blend: BlendOption = "feather"
) -> Edited:
    """Rescale the object about its centre to an object pixel rate (or to fill the image)."""
    obj = geometry.fill(scene.obj) if rate == "full" else geometry.resize_to_rate(scene.obj, rate)
    if not obj.mask.any():
        raise EditSkipped("size not reached")
    return _onto(scene, scene.background, obj, blend)


@EDITS.register("position", kind="object")
def position(scene: Scene, *, rate: Rate = 0.05, blend: BlendOption = "feather") -> Edited:
    """The object at a small size (default rate 0.05) at a uniformly random place."""
    small = geometry.resize_to_rate(scene.obj, rate)
    moved = geometry.move_to(small, geometry.random_spot(small.mask, scene.rng))
    return _onto(scene, scene.background, moved, blend)


@EDITS.register("rotation", kind="object")
def rotation(scene: Scene, *, angle: Angle = 90.0, blend: BlendOption = "feather") -> Edited:
    """Rotate the object about its centre (its mask with it)."""
    return _onto(scene, scene.background, geometry.rotate(scene.obj, angle), blend)
