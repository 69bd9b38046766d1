"""From decoded pixels of any depth and channel count to the 8-bit picture a model or a person
sees: choose channels (`[image] channels` / `display_channels`), then scale 16-bit and float
data by the intensity policy (`[image] intensity`). 8-bit data are never rescaled."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, replace

import numpy as np

from robustar.config import ImageConfig


class ImageDecodeError(Exception):
    """The bytes are not a decodable image, or too large to decode safely."""


@dataclass(frozen=True)
class Pixels:
    """A decoded image: (height, width, channels) array and what the file says about it."""

    array: np.ndarray
    window: tuple[float, float] | None = None  # DICOM WindowCenter/Width as [low, high]
    inverted: bool = False  # DICOM MONOCHROME1: low values are white
    alpha: bool = False  # the last channel is transparency (an RGBA TIFF)


@dataclass(frozen=True)
class Reading:
    """How files become 8-bit pictures: the `[image]` fields that matter, small and picklable
    (scan workers get one)."""

    max_pixels: int = ImageConfig.model_fields["max_pixels"].default
    channels: tuple[int, ...] | None = None
    display_channels: tuple[int, ...] | None = None
    intensity: str = "percentile"
    percentiles: tuple[float, float] = (1.0, 99.5)
    window: tuple[float, float] | None = None
    dicom_window: bool = True
    inputs: int = 3  # channels the model takes

    @classmethod
    def of(cls, config: ImageConfig) -> Reading:
        def tup(values: list | None) -> tuple | None:
            return None if values is None else tuple(values)

        return cls(
            max_pixels=config.max_pixels,
            channels=tup(config.channels),
            display_channels=tup(config.display_channels),
            intensity=config.intensity,
            percentiles=(config.percentiles[0], config.percentiles[1]),
            window=tup(config.window),
            dicom_window=config.dicom_window,
            inputs=len(config.mean),
        )

    def for_display(self) -> Reading:
        """The same reading with the page's channels in place of the model's."""
        if self.display_channels is None:
            return self
        return replace(self, channels=self.display_channels, inputs=len(self.display_channels))

    @property
    def is_plain(self) -> bool:
        """Whether an 8-bit RGB or grey file shows as it is (no channel mapping)."""
        return self.channels is None

    def key(self) -> str:
        """A short digest of everything that changes the picture (for cache file names)."""
        text = repr((self.channels, self.intensity, self.percentiles, self.window))
        return hashlib.blake2b(f"{text}{self.dicom_window}".encode(), digest_size=4).hexdigest()


def _select(pixels: Pixels, reading: Reading, name: str) -> np.ndarray:
    array, count = pixels.array, pixels.array.shape[2]
    chosen = reading.channels
    if count == 1:  # a grey image has no channel to choose
        return np.repeat(array, reading.inputs, axis=2) if reading.inputs > 1 else array
    if chosen is None:
        colour = 4 if pixels.alpha else 3
        if count == colour and reading.inputs == 3:
            return array[..., :3]
        raise ImageDecodeError(
            f"{name} has {count} channels and no [image] channels say which the model sees; "
            f"fix: set [image] channels = [{', '.join(map(str, range(reading.inputs)))}] "
            f"(indexes below {count}) in robustar.toml"
        )
    if max(chosen) >= count:
        raise ImageDecodeError(
            f"{name} has {count} channels (0 to {count - 1}) but [image] channels (or "
            f"display_channels) = {list(chosen)} asks for channel {max(chosen)}; fix: list "
            "channel indexes the images have in robustar.toml"
        )
    return array[..., list(chosen)]


def _type_range(plane: np.ndarray) -> tuple[float, float]:
    """The full range of the data type: intensities keep one meaning across a dataset. 32-bit
    and wider integers holding 16-bit values (Pillow's mode I) count as 16-bit."""
    if np.issubdtype(plane.dtype, np.integer):
        info = np.iinfo(plane.dtype)
        if info.bits >= 32 and plane.min(initial=0) >= 0 and plane.max(initial=0) <= 65535:
            return 0.0, 65535.0
        return (0.0 if info.min == 0 else float(info.min)), float(info.max)
    low, high = float(plane.min(initial=0.0)), float(plane.max(initial=0.0))
    return (0.0, 1.0) if low >= 0.0 and high <= 1.0 else (low, high)


def _limits(plane: np.ndarray, pixels: Pixels, reading: Reading) -> tuple[float, float]:
    if pixels.window is not None and reading.dicom_window:
        return pixels.window
    if reading.intensity == "window" and reading.window is not None:
        return reading.window
    if reading.intensity == "percentile":
        low, high = (float(v) for v in np.percentile(plane, reading.percentiles))
        if high > low:
            return low, high
    return _type_range(plane)  # 'range', or a flat image that has no percentile spread


def to_8bit(pixels: Pixels, reading: Reading, name: str) -> np.ndarray:
    """(height, width, 1 or 3) uint8: chosen channels, each scaled by the intensity policy."""
    array = _select(pixels, reading, name)
    if array.dtype == np.uint8 and pixels.window is None:
        return array
    if array.dtype == np.bool_:
        return array.astype(np.uint8) * 255
    out = np.empty(array.shape, dtype=np.uint8)
    for c in range(array.shape[2]):
        raw = array[..., c]
        plane = np.nan_to_num(raw.astype(np.float32, copy=False))
        low, high = _limits(raw if np.issubdtype(raw.dtype, np.integer) else plane, pixels, reading)
        scaled = (plane - low) * (255.0 / max(high - low, 1e-12))
        out[..., c] = np.clip(scaled, 0, 255).round().astype(np.uint8)
    return 255 - out if pixels.inverted else out
