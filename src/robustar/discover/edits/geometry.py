"""Where the object is and how it moves: pixel rate, centre, scaling, rotation, translation.

An object is its pixels plus a boolean mask at the image's size. Every move is one affine
warp applied to both (the image bilinear, the mask nearest), so the mask always says where
the object's pixels went.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from robustar.discover.edits.skips import EditSkipped

RATE_TOLERANCE = 0.015  # |object pixel rate - target| accepted by the size edit (as ImageNet-E)
MAX_STEPS = 50  # the size search gives up after this many steps (as the reference does)


@dataclass(frozen=True)
class Placed:
    """An object's pixels (only meaningful inside `mask`) and where it is."""

    pixels: np.ndarray
    mask: np.ndarray


def rate(mask: np.ndarray) -> float:
    """The object pixel rate: the share of the image the object covers."""
    return float(mask.mean())


def check_object(mask: np.ndarray) -> None:
    """Refuse masks that hold no object, or nothing but object (no background to edit)."""
    if not mask.any():
        raise EditSkipped("empty mask")
    if mask.all():
        raise EditSkipped("full mask")


def box(mask: np.ndarray) -> tuple[int, int, int, int]:
    """The bounding box (x0, y0, x1, y1), ends exclusive."""
    ys, xs = np.nonzero(mask)
    return int(xs.min()), int(ys.min()), int(xs.max()) + 1, int(ys.max()) + 1


def centre(mask: np.ndarray) -> tuple[float, float]:
    """The bounding box's centre (x, y), the point the size and rotation edits keep."""
    x0, y0, x1, y1 = box(mask)
    return (x0 + x1 - 1) / 2, (y0 + y1 - 1) / 2


def warp(obj: Placed, matrix: np.ndarray) -> Placed:
    """Apply a 2x3 affine matrix to the pixels and the mask; what leaves the image is lost."""
    height, width = obj.mask.shape
    pixels = cv2.warpAffine(obj.pixels, matrix, (width, height), flags=cv2.INTER_LINEAR)
    mask = cv2.warpAffine(
        obj.mask.astype(np.uint8), matrix, (width, height), flags=cv2.INTER_NEAREST
    )
    return Placed(pixels, mask.astype(bool))


def scale_matrix(factor: float, about: tuple[float, float], to: tuple[float, float]) -> np.ndarray:
    """Scale by `factor` about the point `about`, which lands on `to`."""
    return np.array(
        [[factor, 0, to[0] - factor * about[0]], [0, factor, to[1] - factor * about[1]]],
        dtype=np.float64,
    )


def scale(obj: Placed, factor: float, to: tuple[float, float] | None = None) -> Placed:
    """Scale the object about its centre (moved to `to` when given)."""
    here = centre(obj.mask)
    return warp(obj, scale_matrix(factor, here, to or here))


def fill(obj: Placed) -> Placed:
    """The "full" size: the bounding box fills the image along its limiting axis, centred."""
    x0, y0, x1, y1 = box(obj.mask)
    height, width = obj.mask.shape
    factor = min(width / (x1 - x0), height / (y1 - y0))
    return scale(obj, factor, ((width - 1) / 2, (height - 1) / 2))


def resize_to_rate(
    obj: Placed, target: float, tolerance: float = RATE_TOLERANCE, steps: int = MAX_STEPS
) -> Placed:
    """Rescale about the centre until the pixel rate is within `tolerance` of `target`.

    Each step corrects the factor by sqrt(target / rate) (area grows with its square), so a
    whole object converges in a few steps; one cut by the border or lost to rounding may not,
    and after `steps` the edit is skipped (ImageNet-E's reference gives up likewise)."""
    factor = 1.0
    for _ in range(steps):
        moved = scale(obj, factor)
        now = rate(moved.mask)
        if now > 0 and abs(now - target) <= tolerance:
            return moved
        factor *= float(np.sqrt(target / now)) if now > 0 else 2.0
    raise EditSkipped("size not reached")


def rotate(obj: Placed, angle: float) -> Placed:
    """Rotate by `angle` degrees (counter-clockwise) about the centre, mask with it."""
    matrix = cv2.getRotationMatrix2D(centre(obj.mask), angle, 1.0)
    return warp(obj, matrix)


def move_to(obj: Placed, to: tuple[float, float]) -> Placed:
    """Translate so the centre lands on `to`."""
    return scale(obj, 1.0, to)


def random_spot(mask: np.ndarray, rng: np.random.Generator) -> tuple[float, float]:
    """A uniformly random centre at which the whole bounding box stays inside the image."""
    x0, y0, x1, y1 = box(mask)
    height, width = mask.shape
    half_w, half_h = (x1 - x0 - 1) / 2, (y1 - y0 - 1) / 2
    x = rng.uniform(half_w, max(half_w, width - 1 - half_w))
    y = rng.uniform(half_h, max(half_h, height - 1 - half_h))
    return float(x), float(y)
