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
