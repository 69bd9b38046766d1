"""Image to tensor as the model sees it: resize policy, then normalisation."""

from __future__ import annotations

import cv2
import numpy as np
import torch
from PIL import Image
from torchvision.transforms.v2 import functional as F

from robustar.config import ImageConfig


def fit_to_size(
    image: Image.Image,
    size: int,
    policy: str,
    resample: Image.Resampling = Image.Resampling.BILINEAR,
) -> Image.Image:
    """`stretch` ignores the aspect ratio, `crop` fills and cuts, `pad` fits and pads black.
    Masks go through the same function with NEAREST, so they stay aligned with their image."""
    if policy == "stretch":
        return image.resize((size, size), resample)
    width, height = image.size
    scale = (max if policy == "crop" else min)(size / width, size / height)
    new = (max(1, round(width * scale)), max(1, round(height * scale)))
    if new != image.size:
        image = image.resize(new, resample)
    if policy == "crop":
        return F.center_crop(image, [size, size])
    canvas = Image.new(image.mode, (size, size))
    canvas.paste(image, ((size - new[0]) // 2, (size - new[1]) // 2))
    return canvas


class ModelInput:
    """Callable PIL image -> normalised float tensor (C, H, W), with the [image] settings as
    they are at each call (`robustar models import --mean ...` changes them)."""

    def __init__(self, config: ImageConfig) -> None:
        self.config = config

    def __call__(self, image: Image.Image) -> torch.Tensor:
        tensor = F.pil_to_tensor(fit_to_size(image, self.config.size, self.config.resize))
        return self.normalise_pixels(tensor.float().div_(255))

    def normalise_pixels(self, pixels: torch.Tensor) -> torch.Tensor:
        """Pixel values in [0, 1] to the model's input space (e.g. a black baseline)."""
        return F.normalize(pixels, list(self.config.mean), list(self.config.std))


def to_native(
    heat: np.ndarray,
    width: int,
    height: int,
    size: int,
    policy: str,
    interpolation: int = cv2.INTER_LINEAR,
    fill: int = 0,
) -> np.ndarray:
    """A map over the model input (size x size) back onto the image's native pixels: the
    inverse of fit_to_size (parts the model never saw get `fill`); a label map goes with
    `cv2.INTER_NEAREST`, so no class is blended."""
    if policy == "stretch":
        return cv2.resize(heat, (width, height), interpolation=interpolation)
    scale = (max if policy == "crop" else min)(size / width, size / height)
    new_w, new_h = max(1, round(width * scale)), max(1, round(height * scale))
    if policy == "pad":
        left, top = (size - new_w) // 2, (size - new_h) // 2
        seen = heat[top : top + new_h, left : left + new_w]
    else:
        seen = np.full((new_h, new_w), fill, dtype=heat.dtype)
        left, top = (new_w - size) // 2, (new_h - size) // 2
        seen[top : top + size, left : left + size] = heat
    return cv2.resize(seen, (width, height), interpolation=interpolation)
