"""Paired training's fillers: what replaces the masked (spurious) pixels in the copy x'.

Every filler returns x outside the mask and its own pixels inside. Images are normalised
tensors (B, 3, H, W); fillers are drawn in pixel space [0, 1] and normalised the same way.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torchvision.transforms.v2 import functional as F

Filler = Callable[[torch.Tensor, torch.Tensor, "Pixels", torch.Generator], torch.Tensor]
FILLERS: dict[str, Filler] = {}
BASIC = ("uniform", "weak", "minor", "black", "colour", "hstripes", "vstripes")


class Pixels:
    """Converts pixel-space fillers [0, 1] to the model's normalised space."""

    def __init__(self, mean: list[float], std: list[float], device: torch.device) -> None:
        self.mean = torch.tensor(mean, device=device).view(1, 3, 1, 1)
        self.std = torch.tensor(std, device=device).view(1, 3, 1, 1)

    def normalise(self, pixels: torch.Tensor) -> torch.Tensor:
        return (pixels - self.mean) / self.std


def filler(name: str) -> Callable[[Filler], Filler]:
    def register(function: Filler) -> Filler:
        FILLERS[name] = function
        return function

    return register


def _blend(x: torch.Tensor, mask: torch.Tensor, inside: torch.Tensor) -> torch.Tensor:
    return torch.where(mask > 0.5, inside, x)


def _rand(x: torch.Tensor, g: torch.Generator, *shape: int) -> torch.Tensor:
    size = shape or tuple(x.shape)
    return torch.rand(size, generator=g, device="cpu").to(x.device)


def _noise(low: float, high: float) -> Filler:
    def fill(x: torch.Tensor, m: torch.Tensor, px: Pixels, g: torch.Generator) -> torch.Tensor:
        return _blend(x, m, px.normalise(low + (high - low) * _rand(x, g)))

    return fill


FILLERS["uniform"] = _noise(0.0, 1.0)
FILLERS["weak"] = _noise(0.3, 0.7)  # narrow value ranges around mid grey
FILLERS["minor"] = _noise(0.45, 0.55)


@filler("black")
def black(x: torch.Tensor, m: torch.Tensor, px: Pixels, g: torch.Generator) -> torch.Tensor:
    return _blend(x, m, px.normalise(torch.zeros_like(x)))


@filler("colour")
def colour(x: torch.Tensor, m: torch.Tensor, px: Pixels, g: torch.Generator) -> torch.Tensor:
    """One random colour per image."""
    return _blend(x, m, px.normalise(_rand(x, g, x.shape[0], 3, 1, 1).expand_as(x)))


def _stripes(axis: int) -> Filler:
    def fill(x: torch.Tensor, m: torch.Tensor, px: Pixels, g: torch.Generator) -> torch.Tensor:
        size = x.shape[axis]
        width = max(1, size // 16)
        band = (torch.arange(size, device=x.device) // width) % 2
        shape = [1, 1, 1, 1]
        shape[axis] = size
        band = band.view(shape).float()
        a, b = _rand(x, g, x.shape[0], 3, 1, 1), _rand(x, g, x.shape[0], 3, 1, 1)
        return _blend(x, m, px.normalise(a * band + b * (1 - band)))

    return fill


FILLERS["hstripes"] = _stripes(2)  # bands along the rows
FILLERS["vstripes"] = _stripes(3)


@filler("mixture")
def mixture(x: torch.Tensor, m: torch.Tensor, px: Pixels, g: torch.Generator) -> torch.Tensor:
    """A basic filler chosen at random for each image."""
    choice = torch.randint(len(BASIC), (x.shape[0],), generator=g).tolist()
    out = x.clone()
    for index, name in enumerate(BASIC):
        rows = [i for i, c in enumerate(choice) if c == index]
        if rows:
            out[rows] = FILLERS[name](x[rows], m[rows], px, g)
    return out


@filler("blur")
def blur(x: torch.Tensor, m: torch.Tensor, px: Pixels, g: torch.Generator) -> torch.Tensor:
    """A strongly blurred copy of the image itself."""
    kernel = max(3, (min(x.shape[-2:]) // 4) | 1)
    return _blend(x, m, F.gaussian_blur(x, [kernel, kernel], [kernel / 3, kernel / 3]))


@filler("other")
def other(x: torch.Tensor, m: torch.Tensor, px: Pixels, g: torch.Generator) -> torch.Tensor:
    """The same pixels of another image of the batch."""
    if x.shape[0] == 1:
        return FILLERS["uniform"](x, m, px, g)
    shift = int(torch.randint(1, x.shape[0], (1,), generator=g))
    return _blend(x, m, torch.roll(x, shift, dims=0))
