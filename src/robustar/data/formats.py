"""Read an image file of any supported format into `Pixels` at its own depth and channel count:
TIFF through tifffile (16-bit, float, many channels), DICOM through pydicom (rescale and window
from the file), everything else through Pillow. The format is told by the file's first bytes,
not its name."""

from __future__ import annotations

import io
import warnings
from pathlib import Path
from typing import BinaryIO

import numpy as np
import pydicom
import tifffile
from PIL import Image, ImageOps, UnidentifiedImageError

from robustar.data.intensity import ImageDecodeError, Pixels

TIFF_MAGIC = (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+")
DICOM_EXTENSIONS = frozenset({".dcm", ".dicom"})
CHANNEL_AXES = "CSQI"  # tifffile's axis letters for channels, samples and unnamed planes
BOMB_FIX = (
    "raise [image] max_pixels if the image is genuine, or cut it into tiles with "
    "'robustar tiles make'"
)


def sniff(head: bytes) -> str:
    """'tiff', 'dicom' or 'pillow' from the first 132 bytes of a file."""
    if head[:4] in TIFF_MAGIC:
        return "tiff"
    if head[128:132] == b"DICM":
        return "dicom"
    return "pillow"


def _guard(width: int, height: int, max_pixels: int) -> None:
    if width * height > max_pixels:
        raise ImageDecodeError(
            f"{width} x {height} is larger than the limit of {max_pixels} pixels "
            f"(decompression bomb guard); fix: {BOMB_FIX}"
        )


def pil_reason(error: Exception) -> str:
    """Pillow's message without the repr of the in-memory file it was given
    ("cannot identify image file <_io.BytesIO object at 0x...>")."""
    if isinstance(error, UnidentifiedImageError):
        return "the format is not one Pillow recognises"
    return str(error)


def _pil_open(stream: BinaryIO, max_pixels: int) -> Image.Image:
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        previous = Image.MAX_IMAGE_PIXELS
        Image.MAX_IMAGE_PIXELS = max_pixels
        try:
            return Image.open(stream)
        except (Image.DecompressionBombWarning, Image.DecompressionBombError):
            raise ImageDecodeError(
                f"larger than the limit of {max_pixels} pixels (decompression bomb guard); "
                "raise [image] max_pixels if the image is genuine"
            ) from None
        except (UnidentifiedImageError, OSError, ValueError, SyntaxError) as error:
            raise ImageDecodeError(f"not a readable image: {pil_reason(error)}") from None
        finally:
            Image.MAX_IMAGE_PIXELS = previous


def _pil_array(image: Image.Image) -> np.ndarray:
    """Pillow modes to an array: deep modes keep their depth, transparency is composited on
    black, palettes and CMYK become RGB."""
    if image.mode == "P" and "transparency" in image.info:
        image = image.convert("RGBA")
    if image.mode in ("RGBA", "LA", "PA", "RGBa", "La"):
        rgba = image.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (0, 0, 0, 255))
        image = Image.alpha_composite(background, rgba).convert("RGB")
    if image.mode.startswith("I;16"):
        return np.asarray(image).astype(np.uint16)
    if image.mode in ("I", "F", "L", "RGB"):
        return np.asarray(image)
    return np.asarray(image.convert("L" if image.mode == "1" else "RGB"))


def read_pillow(stream: BinaryIO, max_pixels: int) -> Pixels:
    """Decode fully (so truncated files fail here), upright by the EXIF orientation."""
    image = _pil_open(stream, max_pixels)
    try:
        image.load()
        array = _pil_array(ImageOps.exif_transpose(image))
    except (OSError, ValueError, SyntaxError, TypeError) as error:
        raise ImageDecodeError(f"corrupt or truncated image: {error}") from None
    return Pixels(array[..., None] if array.ndim == 2 else array)


def channels_last(array: np.ndarray, axes: str) -> np.ndarray:
    """tifffile's array and axes (e.g. 'CYX', 'YXS') as (height, width, channels); a stack of
    planes (Z, T, or two channel axes) is not one image."""
    keep = [i for i, (a, n) in enumerate(zip(axes, array.shape, strict=True)) if a in "YX" or n > 1]
    kept = "".join(axes[i] for i in keep)
    array = array.reshape([array.shape[i] for i in keep])
    extra = [a for a in kept if a not in "YX"]
    if (
        "Y" not in kept
        or "X" not in kept
        or len(extra) > 1
        or (extra and extra[0] not in CHANNEL_AXES)
    ):
        raise ImageDecodeError(
            f"holds a stack of planes (axes {axes}, shape {tuple(array.shape)}), not one image; "
            "fix: save one plane per file, as height x width (x channels)"
        )
    if not extra:
        return array[..., None]
    return np.moveaxis(array, kept.index(extra[0]), -1)


def read_tiff(stream: BinaryIO, max_pixels: int) -> Pixels:
    """The first series at full resolution. Files tifffile cannot decode alone (a compression
    that needs the imagecodecs package) are tried with Pillow before giving up."""
    try:
        with tifffile.TiffFile(stream) as tif:
            series = tif.series[0]
            shape = dict(zip(series.axes, series.shape, strict=True))
            _guard(shape.get("X", 1), shape.get("Y", 1), max_pixels)
            page = tif.pages.first
            alpha = page.photometric == tifffile.PHOTOMETRIC.RGB and bool(page.extrasamples)
            array = series.asarray()
            axes = series.axes
    except ImageDecodeError:
        raise
    except Exception as error:
        stream.seek(0)
        try:
            return read_pillow(stream, max_pixels)
        except ImageDecodeError:
            pass
        hint = "; fix: pip install imagecodecs" if "imagecodecs" in str(error) else ""
        raise ImageDecodeError(f"corrupt or unreadable TIFF: {error}{hint}") from None
    return Pixels(channels_last(array, axes), alpha=alpha)


def _first(value: object) -> float:
    return float(value[0] if isinstance(value, pydicom.multival.MultiValue) else value)  # type: ignore[arg-type]


def read_dicom(stream: BinaryIO, max_pixels: int) -> Pixels:
    """One frame, in the modality's units (RescaleSlope/Intercept applied), with the file's
    first VOI window (WindowCenter/Width) and MONOCHROME1 noted for the intensity step."""
    try:
        ds = pydicom.dcmread(stream)
        _guard(int(ds.Columns), int(ds.Rows), max_pixels)
        frames = int(ds.get("NumberOfFrames", 1) or 1)
    except ImageDecodeError:
        raise
    except Exception as error:
        raise ImageDecodeError(f"corrupt or unreadable DICOM: {error}") from None
    if frames > 1:
        raise ImageDecodeError(
            f"a multi-frame DICOM ({frames} frames) is not one image; fix: save one frame per file"
        )
    try:
        array = ds.pixel_array
    except Exception as error:
        raise ImageDecodeError(
            f"DICOM pixel data cannot be decoded: {error}; fix: install the decoder pydicom "
            "names (e.g. pip install pylibjpeg pylibjpeg-libjpeg), or save it uncompressed"
        ) from None
    if array.ndim == 3:  # colour: no modality scaling or window applies
        return Pixels(array)
    slope = float(ds.get("RescaleSlope", 1) or 1)
    intercept = float(ds.get("RescaleIntercept", 0) or 0)
    if (slope, intercept) != (1.0, 0.0):
        array = array.astype(np.float64) * slope + intercept
    window = None
    if "WindowCenter" in ds and "WindowWidth" in ds:
        centre, width = _first(ds.WindowCenter), max(_first(ds.WindowWidth), 1.0)
        # DICOM PS3.3 C.11.2.1.2.1, the linear VOI function
        window = (centre - 0.5 - (width - 1) / 2, centre - 0.5 + (width - 1) / 2)
    inverted = ds.get("PhotometricInterpretation") == "MONOCHROME1"
    return Pixels(array[..., None], window=window, inverted=inverted)


def read_pixels(source: Path | bytes, max_pixels: int) -> Pixels:
    """Any supported file (a path, or its bytes) as Pixels."""
    stream: BinaryIO = io.BytesIO(source) if isinstance(source, bytes) else source.open("rb")
    with stream:
        kind = sniff(stream.read(132))
        stream.seek(0)
        if kind == "tiff":
            return read_tiff(stream, max_pixels)
        if kind == "dicom":
            return read_dicom(stream, max_pixels)
        return read_pillow(stream, max_pixels)
