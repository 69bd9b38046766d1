"""Activation maximisation: an input that the model scores as a class as strongly as it can.

Gradient ascent on the class logit from small noise, with an L2 penalty, random jitter and a
periodic blur so the result is an image rather than adversarial noise (Olah et al. 2017).
"""

from __future__ import annotations

import numpy as np
import torch
from PIL import Image
from torch import nn
from torchvision.transforms.v2 import functional as F


def activation_maximisation(
    model: nn.Module,
    target: int,
    size: int,
    mean: list[float],
    std: list[float],
    steps: int = 96,
    seed: int = 0,
) -> Image.Image:
    device = next(model.parameters()).device
    generator = torch.Generator().manual_seed(seed)  # on the CPU: the same start everywhere
    mean_t = torch.tensor(mean, device=device).view(1, 3, 1, 1)
    std_t = torch.tensor(std, device=device).view(1, 3, 1, 1)
    start = 0.5 + 0.05 * torch.randn(1, 3, size, size, generator=generator)
    pixels = start.to(device).requires_grad_(True)
    optimizer = torch.optim.Adam([pixels], lr=0.05)
    model = model.eval()
    jitter = max(1, size // 16)
    for step in range(steps):
        dx, dy = torch.randint(-jitter, jitter + 1, (2,), generator=generator).tolist()
        shifted = torch.roll(pixels, (dy, dx), dims=(2, 3))
        logit = model((shifted - mean_t) / std_t)[0, target]
        loss = -logit + 0.01 * ((pixels - 0.5) ** 2).sum()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        with torch.no_grad():
            pixels.clamp_(0, 1)
            if step % 8 == 7:
                pixels.copy_(F.gaussian_blur(pixels, [3, 3], [0.5, 0.5]))
    array = (pixels.detach()[0].permute(1, 2, 0).cpu().numpy() * 255).round().astype(np.uint8)
    return Image.fromarray(array)
