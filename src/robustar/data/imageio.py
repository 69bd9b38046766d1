"""Decode any image file the way a user expects to see it: upright, RGB, 8-bit."""

from __future__ import annotations

import io
import warnings
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from robustar.errors import DataError

# Pillow's own list of file extensions it can open; other files are reported, not decoded.
Image.init()
IMAGE_EXTENSIONS = frozenset(ext.lower() for ext in Image.registered_extensions())


class ImageDecodeError(Exception):
    """The bytes are not a decodable image, or too large to decode safely."""


def unreadable(image_id: int, error: Exception) -> DataError:
    """An indexed image whose file changed or vanished since the last scan."""
    return DataError(
        f"image {image_id} can no longer be read: {error}",
        "run 'robustar scan' to update the index after changing files",
        "call ws.scan() to update the index after changing files",
    )


def pil_reason(error: Exception) -> str:
    """Pillow's message without the repr of the in-memory file it was given
    ("cannot identify image file <_io.BytesIO object at 0x...>")."""
    if isinstance(error, UnidentifiedImageError):
        return "the format is not one Pillow recognises"
    return str(error)


def _to_rgb(image: Image.Image) -> Image.Image:
    """Grey, 16-bit, float, palette, alpha and CMYK images to 8-bit RGB.

    16-bit and 32-bit integer images are scaled by the full range of their type (not per image),
    so intensities keep the same meaning across a dataset. Transparency is composited on black.
    """
    if image.mode in ("I;16", "I;16B", "I;16L", "I;16N"):
        array = np.asarray(image, dtype=np.uint16)
        return Image.fromarray((array >> 8).astype(np.uint8)).convert("RGB")
    if image.mode == "I":
        array = np.asarray(image, dtype=np.int64)
        scale = 65535 if array.max(initial=0) <= 65535 else 2**31 - 1
        array = np.clip(array, 0, scale) * 255 // scale
        return Image.fromarray(array.astype(np.uint8)).convert("RGB")
    if image.mode == "F":
        values = np.nan_to_num(np.asarray(image, dtype=np.float32))
        low, high = float(values.min(initial=0.0)), float(values.max(initial=0.0))
        if high > 1.0 or low < 0.0:
            values = (values - low) / max(high - low, 1e-12)
        return Image.fromarray((np.clip(values, 0, 1) * 255).astype(np.uint8)).convert("RGB")
    if image.mode == "P" and "transparency" in image.info:
        image = image.convert("RGBA")
    if image.mode in ("RGBA", "LA", "PA", "RGBa", "La"):
        rgba = image.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (0, 0, 0, 255))
        return Image.alpha_composite(background, rgba).convert("RGB")
    return image.convert("RGB")


def _open(data: bytes, max_pixels: int) -> Image.Image:
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        previous = Image.MAX_IMAGE_PIXELS
        Image.MAX_IMAGE_PIXELS = max_pixels
        try:
            return Image.open(io.BytesIO(data))
        except (Image.DecompressionBombWarning, Image.DecompressionBombError):
            raise ImageDecodeError(
                f"larger than the limit of {max_pixels} pixels (decompression bomb guard); "
                "raise [image] max_pixels if the image is genuine"
            ) from None
        except (UnidentifiedImageError, OSError, ValueError, SyntaxError) as error:
            raise ImageDecodeError(f"not a readable image: {pil_reason(error)}") from None
        finally:
            Image.MAX_IMAGE_PIXELS = previous


def decode_bytes(data: bytes, max_pixels: int) -> Image.Image:
    """Decode fully (so truncated files fail here) and return an upright RGB image."""
    image = _open(data, max_pixels)
    try:
        image.load()
        image = ImageOps.exif_transpose(image)
        return _to_rgb(image)
    except (OSError, ValueError, SyntaxError, TypeError) as error:
        raise ImageDecodeError(f"corrupt or truncated image: {error}") from None


def load_image(path: Path, max_pixels: int) -> Image.Image:
    return decode_bytes(path.read_bytes(), max_pixels)
