"""A generated semantic-segmentation problem with a biased training set and a shifted pool,
for testing and demonstrating segmentation MAD (issue 15) without downloading data.

Each image is textured shapes (disc, square, triangle: the shape is the class) on a
background. The labelled splits (`train`, `validation`, `test`) are biased: one or two small
objects on a plain background. The `pool` shifts that: each pool image has large objects,
clutter (many objects and background-class scribbles), or a new, textured background; a
quarter stays in-domain. Every split's label maps are written as palette PNGs; the pool's go
to `truth/pool/labels/` (with `truth/pool/shifts.json`, each image's shift), never beside the
pool images, so a workspace sees an unlabelled pool. The classification problems in
`suite.py` are digits with a shortcut; this one shares nothing with them but the folder
convention (`data/`, `truth/`, `problem.json`), so it is a sibling module, not a `PROBLEMS`
kind.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from robustar.config import DataConfig, ImageConfig, ModelConfig, RuntimeConfig, WorkspaceConfig
from robustar.data.labelmaps import IMAGES_DIR, LABELS_DIR, LabelClasses, write_label_map
from robustar.data.problems.suite import check_output
from robustar.errors import DataError
from robustar.progress import ProgressCallback, report

SEG_SPLITS = ("train", "validation", "test", "pool")
SEG_COUNTS = {"train": 300, "validation": 60, "test": 60, "pool": 300}
SHAPES = ("disc", "square", "triangle")
SHIFTS = ("none", "large", "clutter", "background")
INFO_FILE = "problem.json"
TRUTH_DIR = "truth"
Rng = np.random.Generator


@dataclass(frozen=True)
class SegProblem:
    """A generated segmentation problem (also written to problem.json)."""

    root: Path
    seed: int
    size: int
    classes: list[str]
    counts: dict[str, int]
    kind: str = "segmentation"  # tells this problem.json from a classification problem's

    def folder(self, split: str) -> Path:
        """The split's folder: `images/` and (not for the pool) `labels/`."""
        return self.root / "data" / split

    def pool_truth(self) -> Path:
        """The pool's true label maps (a workspace never reads them)."""
        return self.root / TRUTH_DIR / "pool" / LABELS_DIR

    def pool_shifts(self) -> dict[str, str]:
        """Each pool image's stem → its shift (none, large, clutter, background)."""
        shifts: dict[str, str] = json.loads(
            (self.root / TRUTH_DIR / "pool" / "shifts.json").read_text()
        )
        return shifts

    def label_classes(self) -> LabelClasses:
        return LabelClasses.of(self.classes)

    def config(self, workspace: str | Path | None = None) -> WorkspaceConfig:
        """A segmentation workspace over the problem (the built-in U-Net at native size); in
        the problem folder itself with relative folders, so the two move together."""
        here = workspace is not None and Path(workspace).expanduser().resolve() == self.root
        base = Path("data") if here else self.root / "data"
        return WorkspaceConfig(
            data=DataConfig(
                task="segmentation",
                classes=self.classes,
                **{s: str(base / s) for s, n in self.counts.items() if n},
            ),
            image=ImageConfig(size=self.size, resize="stretch", mean=[0.5] * 3, std=[0.25] * 3),
            model=ModelConfig(architecture="small_unet"),
            runtime=RuntimeConfig(batch_size=32, workers=0),
        )

    @classmethod
    def load(cls, root: str | Path) -> SegProblem:
        path = Path(root).expanduser().resolve()
        try:
            values = json.loads((path / INFO_FILE).read_text())
        except FileNotFoundError:
            raise DataError(
                f"{path} holds no generated segmentation problem ({INFO_FILE} is missing)",
                "generate one with robustar.data.problems.generate_segmentation(out)",
            ) from None
        if values.get("kind") != "segmentation":
            raise DataError(
                f"{path} holds a {values.get('kind')!r} classification problem, not a "
                "segmentation problem",
                "load it with robustar.data.problems.Problem.load",
            )
        return cls(**{**values, "root": path})


def generate_segmentation(
    out: str | Path,
    *,
    seed: int = 0,
    size: int = 48,
    classes: int = 4,
    counts: dict[str, int] | None = None,
    progress: ProgressCallback = None,
) -> SegProblem:
    """Write the problem under `out`: `size`-pixel images, `classes` classes (background and
    2 or 3 shapes); the same seed gives the same files."""
    if not 32 <= size <= 64 or not 3 <= classes <= 4:
        raise DataError(
            f"segmentation problem of size {size} with {classes} classes",
            "choose size in 32..64 and classes 3 or 4 (background and 2 or 3 shapes)",
        )
    sizes, root = check_output(counts, SEG_COUNTS, out)
    problem = SegProblem(root, seed, size, ["background", *SHAPES[: classes - 1]], sizes)
    made = not root.exists()
    try:
        _write(problem, progress)
    except BaseException:  # leave the folder as it was
        shutil.rmtree(root if made else root / "data", ignore_errors=True)
        shutil.rmtree(root / TRUTH_DIR, ignore_errors=True)
        raise
    info = {k: v for k, v in asdict(problem).items() if k != "root"}
    (root / INFO_FILE).write_text(json.dumps(info, indent=2) + "\n")
    return problem


def _write(problem: SegProblem, progress: ProgressCallback) -> None:
    rng = np.random.default_rng(problem.seed)
    classes = problem.label_classes()
    total, done = sum(problem.counts.values()), 0
    shifts: dict[str, str] = {}
    for split in SEG_SPLITS:
        for i in range(problem.counts[split]):
            stem = f"{i:05d}"
            shift = str(rng.choice(SHIFTS)) if split == "pool" else "none"
            image, labels = draw_scene(problem.size, len(problem.classes) - 1, shift, rng)
            _save(image, problem.folder(split) / IMAGES_DIR / f"{stem}.png")
            if split == "pool":
                shifts[stem] = shift
                write_label_map(problem.pool_truth() / f"{stem}.png", labels, classes)
            else:
                write_label_map(problem.folder(split) / LABELS_DIR / f"{stem}.png", labels, classes)
            done += 1
            report(progress, "generate segmentation problem", done, total)
    problem.pool_truth().mkdir(parents=True, exist_ok=True)
    (problem.root / TRUTH_DIR / "pool" / "shifts.json").write_text(json.dumps(shifts, indent=1))


def draw_scene(size: int, shapes: int, shift: str, rng: Rng) -> tuple[np.ndarray, np.ndarray]:
    """One image (H, W, 3 uint8) and its label map (H, W uint8): shapes 1..`shapes`."""
    textured = shift == "background"
    image = _textured_background(size, rng) if textured else _plain_background(size, rng)
    labels = np.zeros((size, size), dtype=np.uint8)
    count = int(rng.integers(3, 6)) if shift == "clutter" else int(rng.integers(1, 3))
    low, high = (0.45, 0.7) if shift == "large" else (0.12, 0.25)
    if shift == "clutter":
        _scribble(image, size, rng)
    for _ in range(count):
        shape = int(rng.integers(1, shapes + 1))
        mask = _shape(SHAPES[shape - 1], size, float(rng.uniform(low, high)) * size / 2, rng)
        image[mask] = _texture(size, rng)[mask]
        labels[mask] = shape
    return np.clip(image, 0, 255).astype(np.uint8), labels


def _plain_background(size: int, rng: Rng) -> np.ndarray:
    grey = rng.uniform(20, 90)
    return np.full((size, size, 3), grey) + rng.normal(0, 4, (size, size, 3))


def _textured_background(size: int, rng: Rng) -> np.ndarray:
    """Coloured stripes at a random angle and period: a background never seen in training."""
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float64)
    angle, period = rng.uniform(0, np.pi), rng.uniform(3, 8)
    wave = 0.5 + 0.5 * np.sin(2 * np.pi * (xx * np.cos(angle) + yy * np.sin(angle)) / period)
    a, b = rng.uniform(0, 255, 3), rng.uniform(0, 255, 3)
    return a * wave[..., None] + b * (1 - wave[..., None])


def _texture(size: int, rng: Rng) -> np.ndarray:
    """An object's fill: a bright random colour with a checker texture of random cell size."""
    yy, xx = np.mgrid[0:size, 0:size]
    cell = int(rng.integers(2, 5))
    checker = ((yy // cell + xx // cell) % 2)[..., None]
    colour = rng.uniform(120, 255, 3)
    return colour * (0.75 + 0.25 * checker) + rng.normal(0, 5, (size, size, 3))


def _scribble(image: np.ndarray, size: int, rng: Rng) -> None:
    """Background-class clutter: thin bright lines that belong to no object."""
    for _ in range(int(rng.integers(2, 5))):
        y0, x0, y1, x1 = rng.uniform(0, size, 4)
        steps = np.linspace(0, 1, size * 2)
        ys = np.clip((y0 + (y1 - y0) * steps).astype(int), 0, size - 1)
        xs = np.clip((x0 + (x1 - x0) * steps).astype(int), 0, size - 1)
        image[ys, xs] = rng.uniform(150, 255, 3)


def _shape(name: str, size: int, radius: float, rng: Rng) -> np.ndarray:
    """A boolean mask of a shape of `radius` (centre to corner), centred inside the image
    and turned by a random angle."""
    cy, cx = rng.uniform(radius * 0.7, size - radius * 0.7, 2)
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float64)
    dy, dx = yy - cy, xx - cx
    if name == "disc":
        return np.asarray(dy**2 + dx**2 <= radius**2)
    turn = rng.uniform(0, 2 * np.pi)
    u = dx * np.cos(turn) + dy * np.sin(turn)
    v = -dx * np.sin(turn) + dy * np.cos(turn)
    if name == "square":
        half = radius / np.sqrt(2)
        return np.asarray((np.abs(u) <= half) & (np.abs(v) <= half))
    # triangle: inside the three edges of an equilateral triangle of circumradius `radius`
    inside = np.ones((size, size), dtype=bool)
    for k in range(3):
        normal = turn + 2 * np.pi * k / 3
        inside &= dx * np.cos(normal) + dy * np.sin(normal) <= radius / 2
    return inside


def _save(array: np.ndarray, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(array).save(path, compress_level=1)
