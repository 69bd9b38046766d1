"""Small CNNs for small images (e.g. 32x32), fast enough to train on a laptop CPU."""

from __future__ import annotations

import itertools

import torch
from torch import nn


def _block(cin: int, cout: int) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(cin, cout, 3, padding=1, bias=False),
        nn.BatchNorm2d(cout),
        nn.ReLU(inplace=True),
        nn.MaxPool2d(2),
    )


class SmallCNN(nn.Module):
    """Conv-BN-ReLU-pool blocks, global average pooling and a linear head named `fc`."""

    def __init__(self, num_classes: int = 10, width: int = 32, depth: int = 3) -> None:
        super().__init__()
        channels = [3] + [width * 2**i for i in range(depth)]
        self.features = nn.Sequential(*(_block(a, b) for a, b in itertools.pairwise(channels)))
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(channels[-1], num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(self.pool(self.features(x)).flatten(1))


def small_cnn(num_classes: int = 10) -> nn.Module:
    return SmallCNN(num_classes, width=32, depth=3)


def tiny_cnn(num_classes: int = 10) -> nn.Module:
    return SmallCNN(num_classes, width=8, depth=2)


def _double_conv(cin: int, cout: int) -> nn.Sequential:
    """Two conv-norm-ReLU layers. GroupNorm, not BatchNorm: fine-tuning on a few new label
    maps runs with batches of one or two, and the model behaves the same in train and eval."""
    return nn.Sequential(
        nn.Conv2d(cin, cout, 3, padding=1, bias=False),
        nn.GroupNorm(4, cout),
        nn.ReLU(inplace=True),
        nn.Conv2d(cout, cout, 3, padding=1, bias=False),
        nn.GroupNorm(4, cout),
        nn.ReLU(inplace=True),
    )


class SmallUNet(nn.Module):
    """A U-Net (Ronneberger et al., 2015) for small images: `depth` poolings, skip
    connections, and a 1x1 head named `head` giving logits [N, C, H, W] at the input's size
    (any size: the upsampled maps are cut or padded to their skip's size)."""

    def __init__(self, num_classes: int = 2, width: int = 16, depth: int = 3) -> None:
        super().__init__()
        channels = [width * 2**i for i in range(depth + 1)]
        self.down = nn.ModuleList([_double_conv(3, channels[0])])
        self.down.extend(_double_conv(a, b) for a, b in itertools.pairwise(channels))
        self.up = nn.ModuleList(
            nn.ConvTranspose2d(channels[i + 1], channels[i], 2, stride=2) for i in range(depth)
        )
        self.merge = nn.ModuleList(_double_conv(2 * channels[i], channels[i]) for i in range(depth))
        self.pool = nn.MaxPool2d(2)
        self.head = nn.Conv2d(channels[0], num_classes, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        skips = []
        for i, block in enumerate(self.down):
            x = block(x if i == 0 else self.pool(x))
            skips.append(x)
        x = skips.pop()
        for up, merge in zip(reversed(self.up), reversed(self.merge), strict=True):
            skip = skips.pop()
            x = up(x)
            dy, dx = skip.shape[-2] - x.shape[-2], skip.shape[-1] - x.shape[-1]
            x = nn.functional.pad(x, (dx // 2, dx - dx // 2, dy // 2, dy - dy // 2))
            x = merge(torch.cat([skip, x], dim=1))
        return self.head(x)


def small_unet(num_classes: int = 2) -> nn.Module:
    return SmallUNet(num_classes, width=16, depth=3)


def tiny_unet(num_classes: int = 2) -> nn.Module:
    return SmallUNet(num_classes, width=8, depth=2)
