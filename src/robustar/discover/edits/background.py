"""Backgrounds of controlled complexity: Fourier amplitude tilting, a complexity measure and
procedural textures (noise, Gabor, stripes, checks) and plain colours.

ImageNet-E steers a diffusion model towards a background whose Fourier amplitude is raised
(λ > 0) or lowered (λ < 0). Without the diffusion model the same axis comes from the
spectrum itself: every frequency's amplitude is multiplied by 2 ** (λ / 10 * f / f_max),
the phase kept, so λ > 0 sharpens fine detail (up to 8x at λ = 30) and λ < 0 smooths.
`complexity` measures the result (mean non-DC FFT amplitude of the grey image, per pixel),
so the axis is checked, not assumed.
"""

from __future__ import annotations

from typing import Literal

import cv2
import numpy as np

Texture = Literal["noise", "gabor", "stripes", "checks"]
TEXTURES: tuple[Texture, ...] = ("noise", "gabor", "stripes", "checks")
TILT_SCALE = 10.0  # λ of 10 doubles the amplitude at the highest frequency


def _radius(height: int, width: int) -> np.ndarray:
    fy = np.fft.fftfreq(height)[:, None]
    fx = np.fft.rfftfreq(width)[None, :]
    return np.sqrt(fx**2 + fy**2)


def tilt_amplitude(image: np.ndarray, strength: float) -> np.ndarray:
    """The image with its spectrum tilted by λ = `strength` (mean colour and phase kept)."""
    if strength == 0:
        return image.copy()
    height, width = image.shape[:2]
    radius = _radius(height, width)
    gain = 2.0 ** (strength / TILT_SCALE * radius / radius.max())
    data = image.astype(np.float32)
    spectrum = np.fft.rfft2(data, axes=(0, 1))
    out = np.fft.irfft2(spectrum * gain[..., None], s=(height, width), axes=(0, 1))
    return np.clip(out + 0.5, 0, 255).astype(np.uint8)


def complexity(image: np.ndarray, mask: np.ndarray | None = None) -> float:
    """Mean non-DC FFT amplitude per pixel of the grey image (object pixels, when a mask is
    given, replaced by the background's mean first, so only the background counts)."""
    grey = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY).astype(np.float32)
    if mask is not None and mask.any() and not mask.all():
        grey[mask] = grey[~mask].mean()
    amplitude = np.abs(np.fft.fft2(grey))
    amplitude[0, 0] = 0
    return float(amplitude.mean() / np.sqrt(grey.size))


def colour(shape: tuple[int, int], rgb: tuple[int, int, int]) -> np.ndarray:
    return np.broadcast_to(np.array(rgb, np.uint8), (*shape, 3)).copy()


def texture(kind: Texture, shape: tuple[int, int], rng: np.random.Generator) -> np.ndarray:
    """A random texture of the kind, with random colours, period and orientation."""
    height, width = shape
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    angle = rng.uniform(0, np.pi)
    period = rng.uniform(4, max(5.0, min(shape) / 4))
    u = xx * np.cos(angle) + yy * np.sin(angle)
    if kind == "noise":
        field: np.ndarray = rng.normal(size=shape).astype(np.float32)
        field = cv2.GaussianBlur(field, (0, 0), period / 4)
        field = (field - field.mean()) / (field.std() + 1e-6)
        value = np.clip(field / 3 + 0.5, 0, 1)
    elif kind == "gabor":
        cy, cx = rng.uniform(0, height), rng.uniform(0, width)
        envelope = np.exp(-((xx - cx) ** 2 + (yy - cy) ** 2) / (2 * (min(shape) / 2) ** 2))
        value = 0.5 + 0.5 * envelope * np.cos(2 * np.pi * u / period)
    elif kind == "stripes":
        value = 0.5 + 0.5 * np.sign(np.sin(2 * np.pi * u / period))
    else:
        v = -xx * np.sin(angle) + yy * np.cos(angle)
        value = ((np.floor(u / period) + np.floor(v / period)) % 2).astype(np.float32)
    low, high = rng.integers(0, 256, size=(2, 3))
    mixed = low + (high - low) * value[..., None]
    return np.clip(mixed, 0, 255).astype(np.uint8)
