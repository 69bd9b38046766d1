"""Random background replacement, a repair augmentation (ImageNet-E): for a share of the
training images with an object mask, everything but the object is replaced, each time the
image is drawn, by another image of the batch, a plain colour or smooth noise, so that the
background stops telling the class."""

from __future__ import annotations

import torch
import torch.nn.functional as F


def swap_backgrounds(
    images: torch.Tensor, objects: torch.Tensor, share: float, generator: torch.Generator
) -> torch.Tensor:
    """`images` (N, C, H, W, normalised) with their backgrounds replaced where chosen;
    `objects` (N, 1, H, W) in {0, 1}. Images whose mask is empty or full keep theirs."""
    count, channels, height, width = images.shape
    area = objects.flatten(1).mean(1).cpu()
    chosen = (torch.rand(count, generator=generator) < share) & (area > 0) & (area < 1)
    if not chosen.any():
        return images
    kind = torch.randint(0, 3, (count,), generator=generator)
    other = torch.roll(images, 1, 0)  # another image of the batch, object and all
    colour = torch.randn(count, channels, 1, 1, generator=generator).expand_as(images)
    coarse = torch.randn(count, channels, 4, 4, generator=generator)
    noise = F.interpolate(coarse, size=(height, width), mode="bilinear", align_corners=False)
    options = torch.stack([other, colour.to(images.device), noise.to(images.device)])
    backdrop = options[kind.to(images.device), torch.arange(count, device=images.device)]
    keep = objects.to(images.dtype)
    swapped = images * keep + backdrop * (1 - keep)
    return torch.where(chosen.to(images.device)[:, None, None, None], swapped, images)
