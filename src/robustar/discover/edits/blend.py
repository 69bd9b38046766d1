"""Putting an object onto a background: hard paste, feathered edge or Poisson blending."""

from __future__ import annotations

from typing import Literal

import cv2
import numpy as np

from robustar.discover.edits.geometry import Placed, box

Blend = Literal["paste", "feather", "poisson"]
_PAD = 4  # seamlessClone refuses masks that touch the border; blend on a padded copy


def feather_alpha(mask: np.ndarray, radius: int) -> np.ndarray:
    """An alpha matte that is 1 well inside the mask and falls to 0 across its edge."""
    soft: np.ndarray = mask.astype(np.float32)
    if radius > 0:
        size = 2 * radius + 1
        soft = cv2.GaussianBlur(soft, (size, size), radius / 2)
    return soft[..., None]


def compose(
    background: np.ndarray, obj: Placed, how: Blend = "feather", radius: int = 1
) -> np.ndarray:
    """The object over the background. `paste` copies the masked pixels; `feather` mixes
    across a soft edge (`radius` pixels); `poisson` is cv2.seamlessClone (gradients kept,
    colours matched to the new background)."""
    if not obj.mask.any():
        return background.copy()
    if how == "paste":
        return np.where(obj.mask[..., None], obj.pixels, background)
    if how == "feather":
        alpha = feather_alpha(obj.mask, radius)
        mixed = obj.pixels * alpha + background * (1 - alpha)
        return np.clip(mixed + 0.5, 0, 255).astype(np.uint8)
    return _poisson(background, obj)


def _poisson(background: np.ndarray, obj: Placed) -> np.ndarray:
    pad = [(_PAD, _PAD), (_PAD, _PAD), (0, 0)]
    source = np.pad(obj.pixels, pad, mode="edge")
    target = np.pad(background, pad, mode="edge")
    mask = np.pad(obj.mask, pad[:2]).astype(np.uint8) * 255
    x0, y0, x1, y1 = box(mask > 0)
    at = ((x0 + x1) // 2, (y0 + y1) // 2)
    cloned = cv2.seamlessClone(source, target, mask, at, cv2.NORMAL_CLONE)
    return cloned[_PAD:-_PAD, _PAD:-_PAD]
