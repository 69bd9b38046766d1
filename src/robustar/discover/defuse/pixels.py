"""Between the workspace's images, the VAE's pixels and the classifier's input: training
images as [0, 1] tensors at the VAE's size, decodings resized and normalised for the
classifier, and decodings as PNG bytes for the faces."""

from __future__ import annotations

import io

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image
from torchvision.transforms.v2 import functional as TF

from robustar.config import ImageConfig
from robustar.data.dataset import ImageDataset, IndexedImage
from robustar.data.images import ImageStore
from robustar.data.transforms import fit_to_size


class PixelInput:
    """PIL image -> float tensor (3, size, size) in [0, 1], the workspace's resize policy."""

    def __init__(self, size: int, policy: str) -> None:
        self.size, self.policy = size, policy

    def __call__(self, image: Image.Image) -> torch.Tensor:
        return TF.pil_to_tensor(fit_to_size(image, self.size, self.policy)).float().div_(255)


def pixel_dataset(images: ImageStore, items: list[IndexedImage], size: int) -> ImageDataset:
    return ImageDataset(items, PixelInput(size, images.config.resize), images.reading)


def to_model_input(pixels: torch.Tensor, image: ImageConfig) -> torch.Tensor:
    """Decoded images in [0, 1] as the classifier sees them: its size, its normalisation."""
    if pixels.shape[-1] != image.size:
        pixels = F.interpolate(
            pixels, size=(image.size, image.size), mode="bilinear", antialias=True
        )
    return TF.normalize(pixels, list(image.mean), list(image.std))


def png(pixels: torch.Tensor) -> bytes:
    """One decoded image (3, S, S) in [0, 1] as PNG bytes."""
    array = (pixels.clamp(0, 1) * 255).round().byte().permute(1, 2, 0).cpu().numpy()
    buffer = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(array)).save(buffer, format="PNG")
    return buffer.getvalue()


def grid(pixels: torch.Tensor, columns: int = 8) -> bytes:
    """Images (N, 3, S, S) tiled into one PNG, `columns` per row."""
    n, _, s, _ = pixels.shape
    rows = -(-n // columns)
    canvas = torch.zeros(3, rows * s, columns * s)
    for k in range(n):
        r, c = divmod(k, columns)
        canvas[:, r * s : (r + 1) * s, c * s : (c + 1) * s] = pixels[k]
    return png(canvas)
