"""Binary masks as lossless 1-bit PNG files; strict decoding of uploaded masks."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
from PIL import Image, UnidentifiedImageError

from robustar.data.imageio import pil_reason
from robustar.errors import DataError
from robustar.storage import atomic_bytes

MAX_MASK_BYTES = 64 * 1024 * 1024


def encode_mask(mask: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(mask.astype(bool)).save(buffer, format="PNG", optimize=False)
    return buffer.getvalue()


def write_mask(mask: np.ndarray, path: Path, durable: bool = False) -> None:
    """Write then rename, so a crash leaves no half-written mask. `durable`: also flush the
    file and its folder to disk first, for a file a database row is about to point at."""
    atomic_bytes(path, encode_mask(mask), durable)


def read_mask(path: Path) -> np.ndarray:
    with Image.open(path) as image:
        return np.asarray(image.convert("1"), dtype=bool)


def as_binary(array: np.ndarray, what: str) -> np.ndarray:
    """Accept 0/1, 0/255 or booleans, in grey or equal-channel colour; refuse anything else."""
    if array.ndim == 3:
        colour = array[..., :3]
        if not (colour == colour[..., :1]).all():
            raise DataError(f"{what} has coloured pixels", "send a black-and-white mask")
        array = colour[..., 0]
    if array.dtype == bool:
        return array
    values = np.unique(array)
    if not (set(values.tolist()) <= {0, 1} or set(values.tolist()) <= {0, 255}):
        shown = ", ".join(str(v) for v in values[:6])
        raise DataError(
            f"{what} is not binary (values {shown}{', ...' if len(values) > 6 else ''})",
            "use 0 for background and 255 (or 1) for masked pixels",
        )
    return array > 0


def decode_mask(data: bytes, width: int, height: int, what: str = "the mask") -> np.ndarray:
    """Decode an uploaded PNG mask that must match the image's native size."""
    if len(data) > MAX_MASK_BYTES:
        raise DataError(
            f"{what} is {len(data)} bytes; the limit is {MAX_MASK_BYTES}", "send a PNG mask"
        )
    try:
        with Image.open(io.BytesIO(data)) as image:
            if image.format != "PNG":
                raise DataError(f"{what} is {image.format}, not PNG", "send a lossless PNG mask")
            if image.size != (width, height):
                raise DataError(
                    f"{what} is {image.size[0]}x{image.size[1]} but the image is {width}x{height}",
                    "masks are stored at the image's native size; resize the mask to match",
                )
            image.load()
            array = np.asarray(image.convert("L") if image.mode in ("P", "1") else image)
    except Image.DecompressionBombError:
        raise DataError(
            f"{what} declares a size far beyond the image's {width}x{height}",
            "masks are stored at the image's native size; resize the mask to match",
        ) from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as error:
        raise DataError(
            f"{what} is not a readable PNG: {pil_reason(error)}", "send a valid PNG file"
        ) from None
    if array.dtype not in (np.uint8, bool):
        raise DataError(f"{what} has {array.dtype} pixels", "send an 8-bit or 1-bit PNG")
    return as_binary(array, what)
