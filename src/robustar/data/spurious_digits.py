"""The "spurious digits" demo dataset, generated deterministically from scikit-learn's digits.

Each image is a digit drawn in a random colour on a noisy dark background, plus a square patch
in one corner. In train and validation the patch has the colour of the image's class for
`agreement` of the images (a shortcut a model learns quickly); in test and pool its colour is
random, so a model that leans on it fails there. With `shortcut_classes` set, only train and
validation images of those classes carry a patch (the shortcut then lives in a minority of the
data, which is what a suspicious-image queue has to find); the others have none. The true
patch masks and a "clean" variant without patches are written under `truth/`, which the
application never reads.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image
from sklearn.datasets import load_digits

from robustar.progress import ProgressCallback, report

CLASS_NAMES = [str(d) for d in range(10)]
# Ten well-separated patch colours, one per class.
PATCH_COLOURS = np.array(
    [
        [230, 25, 75],
        [60, 180, 75],
        [255, 225, 25],
        [0, 130, 200],
        [245, 130, 48],
        [145, 30, 180],
        [70, 240, 240],
        [240, 50, 230],
        [210, 245, 60],
        [250, 190, 190],
    ],
    dtype=np.uint8,
)


@dataclass(frozen=True)
class DemoSpec:
    size: int = 32
    digit_size: int = 20
    patch: int = 8
    agreement: float = 0.95
    shortcut_classes: tuple[int, ...] = ()  # empty: every class
    counts: tuple[tuple[str, int], ...] = (
        ("train", 3000),
        ("validation", 500),
        ("test", 1000),
        ("pool", 500),
    )
    seed: int = 0


def _source_indices(n: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Train/validation and test/pool draw from disjoint sets of the original digits."""
    order = rng.permutation(n)
    cut = int(n * 0.65)
    return {
        "train": order[:cut],
        "validation": order[:cut],
        "test": order[cut:],
        "pool": order[cut:],
    }


def draw_digit(
    digit: np.ndarray, size: int, digit_size: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Draw one 8x8 digit in a random colour near the centre of a noisy dark square.

    Returns the float canvas (size, size, 3) and the digit's coverage (size, size) in [0, 1].
    """
    s, d = size, digit_size
    glyph = Image.fromarray((digit * (255 / 16)).astype(np.uint8)).resize(
        (d, d), Image.Resampling.BILINEAR
    )
    alpha = np.asarray(glyph, dtype=np.float32)[..., None] / 255
    background = rng.integers(0, 60, size=3)
    canvas = np.clip(rng.normal(background, 18, size=(s, s, 3)), 0, 255)
    colour = rng.integers(120, 256, size=3)
    top, left = rng.integers((s - d) // 2 - 3, (s - d) // 2 + 4, size=2)
    region = canvas[top : top + d, left : left + d]
    canvas[top : top + d, left : left + d] = region * (1 - alpha) + colour * alpha
    coverage = np.zeros((s, s), dtype=np.float32)
    coverage[top : top + d, left : left + d] = alpha[..., 0]
    return canvas, coverage


def corner(size: int, patch: int, rng: np.random.Generator) -> tuple[int, int]:
    """The top-left pixel of a `patch`-sized square in one of the four corners, at random."""
    c = rng.integers(0, 4)
    return (0 if c < 2 else size - patch), (0 if c % 2 == 0 else size - patch)


def _render(
    digit: np.ndarray, spec: DemoSpec, rng: np.random.Generator
) -> tuple[np.ndarray, tuple[int, int]]:
    """Draw one digit; return the clean image and the patch's top-left corner."""
    canvas, _ = draw_digit(digit, spec.size, spec.digit_size, rng)
    return canvas.astype(np.uint8), corner(spec.size, spec.patch, rng)


def _save(array: np.ndarray, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(array).save(path)


def generate_demo(
    out: Path,
    truth: Path,
    spec: DemoSpec = DemoSpec(),
    progress: ProgressCallback = None,
) -> dict[str, int]:
    """Write `out/<split>/<class>/*.png` (pool unlabelled), masks and clean copies under `truth`.

    Returns the number of images per split.
    """
    digits = load_digits()
    rng = np.random.default_rng(spec.seed)
    sources = _source_indices(len(digits.target), rng)
    total = sum(n for _, n in spec.counts)
    done = 0
    written: dict[str, int] = {}
    for split, count in spec.counts:
        spurious = split in ("train", "validation")
        picks = rng.choice(sources[split], size=count, replace=True)
        for i, source in enumerate(picks):
            label = int(digits.target[source])
            clean, (y, x) = _render(digits.images[source], spec, rng)
            if spurious and rng.random() < spec.agreement:
                patch_class = label
            else:
                patch_class = int(rng.integers(0, 10))
            bare = spurious and bool(spec.shortcut_classes) and label not in spec.shortcut_classes
            image = clean.copy()
            mask = np.zeros(clean.shape[:2], dtype=np.uint8)
            if not bare:
                image[y : y + spec.patch, x : x + spec.patch] = PATCH_COLOURS[patch_class]
                mask[y : y + spec.patch, x : x + spec.patch] = 255
            rel = f"{i:05d}.png" if split == "pool" else f"{label}/{i:05d}.png"
            _save(image, out / split / rel)
            _save(mask, truth / "masks" / split / rel)
            _save(clean, truth / "clean" / split / rel)
            done += 1
            report(progress, "generate demo data", done, total)
        written[split] = count
    return written
