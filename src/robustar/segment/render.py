"""Label maps as pictures for the pages: a map in its class colours (ignored pixels
transparent), and an error map of the pixels where a prediction differs from the truth."""

from __future__ import annotations

import io

import numpy as np
from PIL import Image

from robustar.data.labelmaps import LabelClasses

ERROR_COLOUR = (255, 0, 64)


def coloured(labels: np.ndarray, classes: LabelClasses, alpha: int = 255) -> Image.Image:
    """RGBA: each class in its colour at `alpha`, the ignore index fully transparent."""
    table = np.zeros((256, 4), dtype=np.uint8)
    for index, colour in enumerate(classes.colours):
        table[index] = (*colour, alpha)
    return Image.fromarray(table[labels], "RGBA")


def error_map(truth: np.ndarray, predicted: np.ndarray, ignore_index: int) -> Image.Image:
    """RGBA: labelled pixels the prediction gets wrong in `ERROR_COLOUR`, the rest clear."""
    wrong = (truth != predicted) & (truth != ignore_index)
    pixels = np.zeros((*truth.shape, 4), dtype=np.uint8)
    pixels[wrong] = (*ERROR_COLOUR, 255)
    return Image.fromarray(pixels, "RGBA")


def png_bytes(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", compress_level=1)
    return buffer.getvalue()
