"""Random background replacement, a repair augmentation (ImageNet-E): for a share of the
training images with an object mask, everything but the object is replaced, each time the
image is drawn, by one of the kinds of background the robustness benchmark edits in: another
image's background (its own object blanked out with its mean background colour), a plain
colour, or a texture of two random colours (smooth noise, stripes, checks) at a random
period and angle, so that the background stops telling the class."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

KINDS = ("image", "colour", "noise", "stripes", "checks")


def _fields(count: int, height: int, width: int, generator: torch.Generator) -> torch.Tensor:
    """(4, N, H, W) values in [0, 1]: flat (a plain colour), smooth noise, stripes, checks."""
    yy, xx = torch.meshgrid(
        torch.arange(height, dtype=torch.float32),
        torch.arange(width, dtype=torch.float32),
        indexing="ij",
    )
    angle = torch.rand(count, 1, 1, generator=generator) * math.pi
    longest = max(5.0, min(height, width) / 4)  # the benchmark's texture periods
    period = 4 + torch.rand(count, 1, 1, generator=generator) * (longest - 4)
    offset = torch.rand(count, 1, 1, generator=generator) * period
    u = xx * torch.cos(angle) + yy * torch.sin(angle) + offset
    v = yy * torch.cos(angle) - xx * torch.sin(angle)
    stripes = (torch.sin(2 * math.pi * u / period) > 0).float()
    checks = ((torch.floor(u / period) + torch.floor(v / period)) % 2).float()
    coarse = torch.rand(count, 1, 6, 6, generator=generator)
    noise = F.interpolate(coarse, size=(height, width), mode="bicubic", align_corners=False)
    return torch.stack([torch.zeros_like(stripes), noise[:, 0].clamp(0, 1), stripes, checks])


def swap_backgrounds(
    images: torch.Tensor, objects: torch.Tensor, share: float, generator: torch.Generator
) -> torch.Tensor:
    """`images` (N, C, H, W, normalised) with their backgrounds replaced where chosen;
    `objects` (N, 1, H, W) in {0, 1}. Images whose mask is empty or full keep theirs. The
    kind (KINDS) is drawn uniformly per image; colours are drawn in the normalised space."""
    count, channels, height, width = images.shape
    device = images.device
    area = objects.flatten(1).mean(1).cpu()
    chosen = (torch.rand(count, generator=generator) < share) & (area > 0) & (area < 1)
    if not chosen.any():
        return images
    keep = objects.to(images.dtype)
    around = 1 - keep
    mean = (images * around).sum((2, 3), keepdim=True) / around.sum((2, 3), keepdim=True).clamp(
        min=1
    )
    other = torch.roll(images * around + mean * keep, 1, 0)  # the next image, object blanked
    kind = torch.randint(0, len(KINDS), (count,), generator=generator)
    fields = _fields(count, height, width, generator)[(kind - 1).clamp(min=0), torch.arange(count)]
    low, high = torch.randn(2, count, channels, 1, 1, generator=generator)
    textured = (low + (high - low) * fields[:, None]).to(device)
    backdrop = torch.where((kind == 0).to(device)[:, None, None, None], other, textured)
    swapped = images * keep + backdrop * around
    return torch.where(chosen.to(device)[:, None, None, None], swapped, images)
