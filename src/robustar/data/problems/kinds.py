"""The problem kinds: each a different sort of shortcut, image size and class count.

Each kind is registered with its options (keyword-only parameters, with defaults that make
the suite vary in size and class count) and returns a `Kind` whose `mark` draws the shortcut
of one class on one image. Background kinds mark the pixels the digit covers less than half.
"""

from __future__ import annotations

from typing import TypeAlias

import numpy as np

from robustar.data.problems.suite import PROBLEMS, Kind
from robustar.data.spurious_digits import PATCH_COLOURS, corner

Array: TypeAlias = np.ndarray
Rng: TypeAlias = np.random.Generator

# 3x3 codes with four dark cells, one per class, spread over the 126 such codes so that no
# two are the same code turned half round.
_CODES = [c for c in range(512) if bin(c).count("1") == 4][::9][:10]


def _background(coverage: Array) -> Array:
    return coverage < 0.5


def _on_edge(size: int, side: int, rng: Rng) -> tuple[int, int, Array]:
    """A `side`-pixel square at a random place along a random edge: top-left and mask."""
    along, edge = int(rng.integers(0, size - side + 1)), int(rng.integers(0, 4))
    across = 0 if edge < 2 else size - side
    y, x = (across, along) if edge % 2 == 0 else (along, across)
    mask = np.zeros((size, size), dtype=bool)
    mask[y : y + side, x : x + side] = True
    return y, x, mask


@PROBLEMS.register("patch")
def patch(*, size: int = 32, classes: int = 10, patch: int = 8) -> Kind:
    """A square of the class's colour in a random corner (the demo's shortcut)."""

    def mark(clean: Array, coverage: Array, shortcut: int, rng: Rng) -> tuple[Array, Array]:
        y, x = corner(size, patch, rng)
        mask = np.zeros((size, size), dtype=bool)
        mask[y : y + patch, x : x + patch] = True
        return mask, np.broadcast_to(PATCH_COLOURS[shortcut], clean.shape)

    return Kind(size, classes, mark)


@PROBLEMS.register("tint")
def tint(*, size: int = 48, classes: int = 6, strength: float = 0.5) -> Kind:
    """The background tinted towards the class's colour; the digit keeps its own."""

    def mark(clean: Array, coverage: Array, shortcut: int, rng: Rng) -> tuple[Array, Array]:
        layer = clean * (1 - strength) + PATCH_COLOURS[shortcut] * strength
        return _background(coverage), layer.astype(np.uint8)

    return Kind(size, classes, mark)


@PROBLEMS.register("texture")
def texture(*, size: int = 64, classes: int = 4, period: float = 6.0) -> Kind:
    """A grey stripe texture behind the digit; its orientation is the class's.

    Darker than the digit and of low contrast, so the digit stays easy to read (at high
    contrast the clean reference learnt the digits too slowly for a useful gap)."""
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32)

    def mark(clean: Array, coverage: Array, shortcut: int, rng: Rng) -> tuple[Array, Array]:
        angle = np.pi * shortcut / classes
        phase = rng.uniform(0, 2 * np.pi)
        wave = np.sin(2 * np.pi * (xx * np.cos(angle) + yy * np.sin(angle)) / period + phase)
        layer = clean * 0.5 + (50 + 30 * wave)[..., None]
        return _background(coverage), np.clip(layer, 0, 255).astype(np.uint8)

    return Kind(size, classes, mark)


@PROBLEMS.register("stamp")
def stamp(*, size: int = 40, classes: int = 8, cell: int = 2) -> Kind:
    """A small stamped 3x3 code, the class's, at a random place along one edge."""
    side = 3 * cell + 2

    def mark(clean: Array, coverage: Array, shortcut: int, rng: Rng) -> tuple[Array, Array]:
        code = np.array([(_CODES[shortcut] >> b) & 1 for b in range(9)]).reshape(3, 3)
        plate = np.full((side, side), 235, dtype=np.uint8)
        plate[1:-1, 1:-1] = np.kron(1 - code, np.ones((cell, cell))) * 235 + 10
        y, x, mask = _on_edge(size, side, rng)
        layer = np.zeros_like(clean)
        layer[y : y + side, x : x + side] = plate[..., None]
        return mask, layer

    return Kind(size, classes, mark)


@PROBLEMS.register("pattern")
def pattern(*, size: int = 56, classes: int = 5, square: int = 12) -> Kind:
    """A faint high-frequency pattern, the class's, in a square along an edge.

    The patterns have periods of 2 or 3 pixels and the same mean brightness, so only the
    pattern, not the brightness, tells the class."""
    yy, xx = np.mgrid[0:square, 0:square]
    waves = [
        (yy + xx) % 2,  # checkerboard
        yy % 2,  # horizontal lines
        xx % 2,  # vertical lines
        (yy + xx) % 3 == 0,  # diagonal
        (yy - xx) % 3 == 0,  # the other diagonal
        (yy % 2) * (xx % 2),  # dots
        (yy // 2 + xx) % 2,  # bricks
        (yy % 3 == 0) | (xx % 3 == 0),  # grid
        (yy + 2 * xx) % 3 == 0,  # steep diagonal
        (2 * yy + xx) % 3 == 0,  # shallow diagonal
    ]
    signs = [2 * (w - w.mean()) / (w.max() - w.min()) for w in np.array(waves, np.float32)]

    def mark(clean: Array, coverage: Array, shortcut: int, rng: Rng) -> tuple[Array, Array]:
        y, x, mask = _on_edge(size, square, rng)
        layer = np.zeros(clean.shape, dtype=np.float32)
        layer[y : y + square, x : x + square] = (128 + 60 * signs[shortcut])[..., None]
        return mask, np.clip(clean * 0.5 + layer * 0.5 + 0.5, 0, 255).astype(np.uint8)

    return Kind(size, classes, mark)


@PROBLEMS.register("scene")
def scene(*, size: int = 44, classes: int = 7, period: float = 5.0) -> Kind:
    """The digit on a class's own background (coloured stripes at the class's angle): the
    scene, not the object, tells the class. For attribute edits: with `ood="neutral"` the
    out-of-domain digits sit on the plain dark background."""
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32)

    def mark(clean: Array, coverage: Array, shortcut: int, rng: Rng) -> tuple[Array, Array]:
        angle = np.pi * shortcut / classes
        phase = rng.uniform(0, 2 * np.pi)
        wave = 0.5 + 0.5 * np.sin(
            2 * np.pi * (xx * np.cos(angle) + yy * np.sin(angle)) / period + phase
        )
        colour = PATCH_COLOURS[shortcut].astype(np.float32) * 0.6
        layer = clean * 0.3 + colour * (0.4 + 0.6 * wave[..., None])
        return _background(coverage), np.clip(layer, 0, 255).astype(np.uint8)

    return Kind(size, classes, mark)
