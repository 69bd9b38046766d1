"""Paired training's fillers: what replaces the masked (spurious) pixels in the copy x'.

Every filler returns x outside the mask and its own pixels inside. Images are normalised
tensors (B, 3, H, W); fillers are drawn in pixel space [0, 1] and normalised the same way.
"""

from __future__ import annotations

from collections.abc import Callable

import torch

from robustar.registry import Registry

Filler = Callable[..., torch.Tensor]  # (x, mask, Pixels, Generator) -> x with the mask filled
FILLERS: Registry[Filler] = Registry("filler")
BASIC = ("uniform", "weak", "minor", "black", "colour", "hstripes", "vstripes")


class Pixels:
    """Converts pixel-space fillers [0, 1] to the model's normalised space."""

    def __init__(self, mean: list[float], std: list[float], device: torch.device) -> None:
        self.mean = torch.tensor(mean, device=device).view(1, 3, 1, 1)
        self.std = torch.tensor(std, device=device).view(1, 3, 1, 1)

    def normalise(self, pixels: torch.Tensor) -> torch.Tensor:
        return (pixels - self.mean) / self.std


def _blend(x: torch.Tensor, mask: torch.Tensor, inside: torch.Tensor) -> torch.Tensor:
    return torch.where(mask > 0.5, inside, x)


def _rand(x: torch.Tensor, g: torch.Generator, *shape: int) -> torch.Tensor:
    size = shape or tuple(x.shape)
    return torch.rand(size, generator=g, device="cpu").to(x.device)


def _noise(low: float, high: float) -> Filler:
    def fill(x: torch.Tensor, m: torch.Tensor, px: Pixels, g: torch.Generator) -> torch.Tensor:
        return _blend(x, m, px.normalise(low + (high - low) * _rand(x, g)))

    return fill


FILLERS.register("uniform", "uniform noise over the full value range")(_noise(0.0, 1.0))
FILLERS.register("weak", "noise in the values 0.3 to 0.7 around mid grey")(_noise(0.3, 0.7))
FILLERS.register("minor", "noise in the values 0.45 to 0.55 (nearly flat grey)")(_noise(0.45, 0.55))


@FILLERS.register("black")
def black(x: torch.Tensor, m: torch.Tensor, px: Pixels, g: torch.Generator) -> torch.Tensor:
    """Black pixels."""
    return _blend(x, m, px.normalise(torch.zeros_like(x)))


@FILLERS.register("colour")
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


FILLERS.register("hstripes", "horizontal stripes of two random colours")(_stripes(2))
FILLERS.register("vstripes", "vertical stripes of two random colours")(_stripes(3))


@FILLERS.register("mixture")
def mixture(x: torch.Tensor, m: torch.Tensor, px: Pixels, g: torch.Generator) -> torch.Tensor:
    """A basic filler chosen at random for each image."""
    choice = torch.randint(len(BASIC), (x.shape[0],), generator=g).tolist()
    out = x.clone()
    for index, name in enumerate(BASIC):
        rows = [i for i, c in enumerate(choice) if c == index]
        if rows:
            out[rows] = FILLERS[name](x[rows], m[rows], px, g)
    return out


@FILLERS.register("blur")
def blur(x: torch.Tensor, m: torch.Tensor, px: Pixels, g: torch.Generator) -> torch.Tensor:
    """A strongly blurred copy of the image itself."""
    from torchvision.transforms.v2 import functional as F  # 1 s of imports: `train --help`

    kernel = max(3, (min(x.shape[-2:]) // 4) | 1)
    return _blend(x, m, F.gaussian_blur(x, [kernel, kernel], [kernel / 3, kernel / 3]))


@FILLERS.register("other")
def other(x: torch.Tensor, m: torch.Tensor, px: Pixels, g: torch.Generator) -> torch.Tensor:
    """The same pixels of another image of the batch."""
    if x.shape[0] == 1:
        return FILLERS["uniform"](x, m, px, g)
    shift = int(torch.randint(1, x.shape[0], (1,), generator=g))
    return _blend(x, m, torch.roll(x, shift, dims=0))


@FILLERS.register("swap")
def swap(x: torch.Tensor, m: torch.Tensor, px: Pixels, g: torch.Generator) -> torch.Tensor:
    """Another annotated image's spurious pixels, and where its own object lies, their mean.

    A background swap: a copy that looks like the data (a real background of another image,
    usually another class) rather than noise the model can tell apart, which is what lets
    whole-background shortcuts (a tint, a texture) be unlearnt."""
    if x.shape[0] == 1:
        return FILLERS["uniform"](x, m, px, g)
    shift = int(torch.randint(1, x.shape[0], (1,), generator=g))
    donor, donor_mask = torch.roll(x, shift, dims=0), torch.roll(m, shift, dims=0) > 0.5
    inside = donor_mask.float()
    mean = (donor * inside).sum((2, 3), keepdim=True) / inside.sum((2, 3), keepdim=True).clamp_min(
        1
    )
    return _blend(x, m, torch.where(donor_mask, donor, mean.expand_as(donor)))


@FILLERS.register("worst")
def worst(
    x: torch.Tensor,
    m: torch.Tensor,
    px: Pixels,
    g: torch.Generator,
    loss: Callable[[torch.Tensor], torch.Tensor],
    worst_of: int,
) -> torch.Tensor:
    """Per image, the basic filler (of the training option worst_of) the model finds hardest.

    `loss` gives each candidate batch's per-image loss (paired training passes it)."""
    names = [BASIC[i % len(BASIC)] for i in range(worst_of)]
    candidates = torch.stack([FILLERS[n](x, m, px, g) for n in names])
    losses = torch.stack([loss(c) for c in candidates])
    return candidates[losses.argmax(0), torch.arange(x.shape[0], device=x.device)]
