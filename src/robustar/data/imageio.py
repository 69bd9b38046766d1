"""Decode any image file the way a user expects to see it: upright, 8-bit, its channels chosen
and its intensities scaled by `[image]` (see data/intensity.py), for the model or for the page."""

from __future__ import annotations

from pathlib import Path

from PIL import Image

from robustar.data.formats import DICOM_EXTENSIONS, pil_reason, read_pixels
from robustar.data.intensity import ImageDecodeError, Pixels, Reading, to_8bit
from robustar.errors import DataError

__all__ = [
    "IMAGE_EXTENSIONS",
    "ImageDecodeError",
    "Reading",
    "decode_bytes",
    "load_image",
    "pil_reason",
]

# Pillow's own list of file extensions it can open, and DICOM's; other files are reported.
Image.init()
IMAGE_EXTENSIONS = (
    frozenset(ext.lower() for ext in Image.registered_extensions()) | DICOM_EXTENSIONS
)


def unreadable(image_id: int, error: Exception) -> DataError:
    """An indexed image whose file changed or vanished since the last scan."""
    return DataError(
        f"image {image_id} can no longer be read: {error}",
        "run 'robustar scan' to update the index after changing files or [image] settings",
        "call ws.scan() to update the index after changing files or [image] settings",
    )


def picture(pixels: Pixels, reading: Reading, name: str) -> Image.Image:
    """Pixels as a Pillow image: RGB for three channels, L for one (the page's grey view)."""
    array = to_8bit(pixels, reading, name)
    return Image.fromarray(array[..., 0] if array.shape[2] == 1 else array)


def decode_bytes(data: bytes, reading: Reading, name: str = "the image") -> Image.Image:
    """Decode fully (so truncated files fail here): the picture the model sees."""
    return picture(read_pixels(data, reading.max_pixels), reading, name)


def load_image(path: Path, reading: Reading, display: bool = False) -> Image.Image:
    """The file as the model sees it, or (`display`) as the page shows it."""
    chosen = reading.for_display() if display else reading
    return picture(read_pixels(path, reading.max_pixels), chosen, path.name)
