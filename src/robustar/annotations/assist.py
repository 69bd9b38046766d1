"""Assisted selection on the server: SLIC superpixels and GrabCut (OpenCV, scikit-image)."""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np
from PIL import Image
from skimage.segmentation import slic

from robustar.errors import DataError

Point = tuple[int, int]
# Both tools work on a copy no larger than this and scale the answer back, which keeps them
# interactive (well under 300 ms at 512x512 on two cores) at the cost of boundary detail.
SLIC_SIDE = 256
GRABCUT_SIDE = 160


def _shrunk(image: Image.Image, side: int) -> tuple[np.ndarray, float]:
    scale = min(1.0, side / max(image.size))
    if scale < 1.0:
        size = (max(1, round(image.width * scale)), max(1, round(image.height * scale)))
        image = image.resize(size, Image.Resampling.BILINEAR)
    return np.asarray(image), scale


def _grown(array: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Back to (width, height) with nearest-neighbour, so labels stay labels."""
    if array.shape[1::-1] == size:
        return array
    return cv2.resize(array, size, interpolation=cv2.INTER_NEAREST)


def superpixels(image: Image.Image, segments: int, compactness: float = 10.0) -> np.ndarray:
    """A label per pixel (0..n-1), at the image's native size."""
    if not 2 <= segments <= 5000:
        raise DataError(f"superpixel count {segments} is out of range", "use 2 to 5000")
    small, _ = _shrunk(image, SLIC_SIDE)
    labels = slic(small, n_segments=segments, compactness=compactness, start_label=0)
    return _grown(labels.astype(np.int32), image.size)


def encode_labels(labels: np.ndarray) -> Image.Image:
    """Labels as an RGB image (label = R + 256 G) that a browser canvas decodes exactly."""
    rgb = np.zeros((*labels.shape, 3), dtype=np.uint8)
    rgb[..., 0] = labels & 0xFF
    rgb[..., 1] = (labels >> 8) & 0xFF
    return Image.fromarray(rgb)


def grabcut(
    image: Image.Image,
    box: tuple[int, int, int, int],
    foreground: Sequence[Point] = (),
    background: Sequence[Point] = (),
    iterations: int = 3,
) -> np.ndarray:
    """Foreground mask from a box (x0, y0, x1, y1) and optional sure-foreground/background
    points, which mark a small disc each."""
    width, height = image.size
    for x, y in (*foreground, *background):
        if not (0 <= x < width and 0 <= y < height):
            raise DataError(
                f"the GrabCut point ({x}, {y}) is outside the {width}x{height} image",
                "mark points on the image",
            )
    x0, y0, x1, y1 = box
    x0, x1 = sorted((max(0, x0), min(width, x1)))
    y0, y1 = sorted((max(0, y0), min(height, y1)))
    if x1 - x0 < 2 or y1 - y0 < 2:
        raise DataError("the GrabCut box is empty or outside the image", "draw a larger box")
    small, scale = _shrunk(image, GRABCUT_SIDE)
    bgr = cv2.cvtColor(small, cv2.COLOR_RGB2BGR)
    mask = np.full(small.shape[:2], cv2.GC_BGD, dtype=np.uint8)

    def s(value: float) -> int:
        return round(value * scale)

    mask[s(y0) : max(s(y1), s(y0) + 1), s(x0) : max(s(x1), s(x0) + 1)] = cv2.GC_PR_FGD
    radius = max(1, min(small.shape[:2]) // 60)
    for points, value in ((foreground, cv2.GC_FGD), (background, cv2.GC_BGD)):
        for x, y in points:
            cv2.circle(mask, (s(x), s(y)), radius, int(value), -1)
    if not np.isin(mask, (cv2.GC_BGD, cv2.GC_PR_BGD)).any():
        raise DataError(
            "the GrabCut box covers the whole image, so no pixels show what background is",
            "draw the box inside the image's edges, or mark some background points",
        )
    if not np.isin(mask, (cv2.GC_FGD, cv2.GC_PR_FGD)).any():
        raise DataError(
            "the background points cover the whole GrabCut box, so no pixels show the object",
            "draw a larger box, or mark fewer background points",
        )
    background_model = np.zeros((1, 65), np.float64)
    foreground_model = np.zeros((1, 65), np.float64)
    cv2.grabCut(
        bgr,
        mask,
        (0, 0, 0, 0),  # the rectangle is unused when starting from a mask
        background_model,
        foreground_model,
        iterations,
        cv2.GC_INIT_WITH_MASK,
    )
    chosen = ((mask == cv2.GC_FGD) | (mask == cv2.GC_PR_FGD)).astype(np.uint8)
    return _grown(chosen, image.size).astype(bool)


def colour_range(
    image: Image.Image, colours: Sequence[Sequence[int]], tolerance: int
) -> np.ndarray:
    """Pixels within `tolerance` (per channel) of any of `colours`, anywhere in the image:
    the page's global colour range, for batches."""
    rgb = np.asarray(image, dtype=np.int16)
    mask = np.zeros(rgb.shape[:2], dtype=bool)
    for colour in colours:
        mask |= (np.abs(rgb - np.asarray(colour, dtype=np.int16)) <= tolerance).all(axis=2)
    return mask
