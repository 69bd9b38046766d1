"""Filling the hole an object leaves: a `Backend` interface and the OpenCV backends.

ImageNet-E in-paints with TFill and edits with a diffusion model; neither can be assumed
here, so the default backends are OpenCV's Telea and Navier-Stokes in-painting (CPU, no
weights). A diffusion or LaMa backend from local weights registers in `BACKENDS` the same way.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Protocol

import cv2
import numpy as np
from pydantic import Field

from robustar.registry import Registry


class Backend(Protocol):
    """Fills `hole` (boolean, H x W) of an RGB uint8 image with plausible background."""

    def inpaint(self, image: np.ndarray, hole: np.ndarray) -> np.ndarray: ...


BACKENDS: Registry[Callable[..., Backend]] = Registry("in-painting backend", default="telea")


class OpenCVInpaint:
    """cv2.inpaint with one of its two methods."""

    def __init__(self, method: int, radius: int) -> None:
        self.method, self.radius = method, radius

    def inpaint(self, image: np.ndarray, hole: np.ndarray) -> np.ndarray:
        return cv2.inpaint(image, hole.astype(np.uint8), self.radius, self.method)


Radius = Annotated[int, Field(ge=1, le=15, description="neighbourhood radius in pixels")]


@BACKENDS.register("telea")
def telea(*, radius: Radius = 3) -> Backend:
    """OpenCV's fast marching in-painting (Telea 2004)."""
    return OpenCVInpaint(cv2.INPAINT_TELEA, radius)


@BACKENDS.register("ns")
def navier_stokes(*, radius: Radius = 3) -> Backend:
    """OpenCV's Navier-Stokes in-painting (Bertalmio et al. 2001)."""
    return OpenCVInpaint(cv2.INPAINT_NS, radius)


def remove(image: np.ndarray, mask: np.ndarray, backend: Backend, grow: int = 2) -> np.ndarray:
    """The background without the object: the mask grown by `grow` pixels (object edges
    bleed into their neighbours) and in-painted."""
    hole: np.ndarray = mask.astype(np.uint8)
    if grow > 0:
        hole = cv2.dilate(hole, np.ones((2 * grow + 1, 2 * grow + 1), np.uint8))
    return backend.inpaint(image, hole.astype(bool))
