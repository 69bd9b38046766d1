"""A rare-style problem for Defuse: digits mostly drawn upright, a small share (2 % by
default) drawn in a rare style that a classifier trained on the training split gets wrong.

Splits: `train`, `validation` and `test` hold the rare style at `share`; `rare-test` is all
rare style (the real images a correction should help on); `oracle-train` is half rare, half
common, for the oracle classifier the tests and the benchmark label regions with. A rare
image's file name starts with `rare-`. Train, validation and oracle-train draw their digits
from one part of scikit-learn's digits, the two test splits from the other.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Literal

import numpy as np
from PIL import Image
from sklearn.datasets import load_digits

from robustar.config import DataConfig, ImageConfig, ModelConfig, RuntimeConfig, WorkspaceConfig
from robustar.errors import DataError
from robustar.progress import ProgressCallback, report

Style = Literal["inverted", "rotated"]
RARE_SPLITS = ("train", "validation", "test", "rare-test", "oracle-train")
RARE_COUNTS = {
    "train": 1500,
    "validation": 300,
    "test": 300,
    "rare-test": 300,
    "oracle-train": 1500,
}
RARE_PREFIX = "rare-"
INFO_FILE = "problem.json"
_HELD_OUT_SOURCE = ("test", "rare-test")


@dataclass(frozen=True)
class RareProblem:
    """A generated rare-style problem (also written to problem.json)."""

    root: Path
    style: str
    share: float
    seed: int
    size: int
    classes: list[str]
    counts: dict[str, int]

    def folder(self, split: str) -> Path:
        return self.root / "data" / split

    def config(self, *, oracle: bool = False) -> WorkspaceConfig:
        """A workspace over the problem: the training split with the rare style at `share`,
        or the oracle's balanced one (`oracle=True`); the test split is the original one."""
        base = self.root / "data"
        return WorkspaceConfig(
            data=DataConfig(
                train=str(base / ("oracle-train" if oracle else "train")),
                validation=str(base / "validation"),
                test=str(base / "test"),
                classes=self.classes,
            ),
            image=ImageConfig(size=self.size, resize="stretch", mean=[0.5] * 3, std=[0.25] * 3),
            model=ModelConfig(architecture="small_cnn"),
            runtime=RuntimeConfig(batch_size=64, workers=0),
        )

    @classmethod
    def load(cls, root: str | Path) -> RareProblem:
        path = Path(root).expanduser().resolve()
        try:
            values = json.loads((path / INFO_FILE).read_text())
        except FileNotFoundError:
            raise DataError(
                f"{path} holds no rare-style problem ({INFO_FILE} is missing)",
                "generate one with robustar.data.problems.generate_rare(out)",
            ) from None
        return cls(**{**values, "root": path})


def is_rare(path: str | Path) -> bool:
    return Path(path).name.startswith(RARE_PREFIX)


def render(digit: np.ndarray, size: int, rare: bool, style: str, rng: np.random.Generator):
    """One digit, light grey on black near the centre (plain, so a small VAE can learn the
    digits); the rare style turns it a quarter turn, or inverts it (dark on light)."""
    d = round(size * 0.6)
    glyph = Image.fromarray((digit * (255 / 16)).astype(np.uint8)).resize(
        (d, d), Image.Resampling.BILINEAR
    )
    alpha = np.asarray(glyph, dtype=np.float32) / 255
    canvas = np.zeros((size, size), dtype=np.float32)
    top, left = rng.integers((size - d) // 2 - 2, (size - d) // 2 + 3, size=2)
    canvas[top : top + d, left : left + d] = alpha * rng.uniform(170, 255)
    image = np.repeat(canvas[..., None], 3, axis=2).round().astype(np.uint8)
    if rare and style == "inverted":
        return 255 - image
    if rare and style == "rotated":
        return np.ascontiguousarray(np.rot90(image))
    return image


def generate_rare(
    out: str | Path,
    *,
    style: Style = "rotated",
    share: float = 0.02,
    classes: int = 5,
    size: int = 32,
    seed: int = 0,
    counts: dict[str, int] | None = None,
    progress: ProgressCallback = None,
) -> RareProblem:
    """Write the problem under `out` (data/<split>/<class>/, problem.json); the same seed
    gives the same files."""
    if style not in ("inverted", "rotated"):
        raise DataError(f"unknown rare style {style!r}", "choose 'inverted' or 'rotated'")
    if not 0 < share < 1 or not 2 <= classes <= 10 or not 16 <= size <= 256:
        raise DataError(
            f"share {share}, classes {classes} or size {size} is out of range",
            "choose share in (0, 1), classes in 2..10 and size in 16..256",
        )
    sizes = {**RARE_COUNTS, **(counts or {})}
    if set(sizes) != set(RARE_SPLITS) or any(n < 0 for n in sizes.values()):
        raise DataError(f"counts {counts} name unknown splits", f"use {', '.join(RARE_SPLITS)}")
    root = Path(out).expanduser().resolve()
    if (root / "data").exists():
        raise DataError(f"{root} already holds data", "choose a new folder for the problem")
    problem = RareProblem(root, style, share, seed, size, [str(c) for c in range(classes)], sizes)
    shares = {"rare-test": 1.0, "oracle-train": 0.5}
    digits = load_digits()
    rng = np.random.default_rng(seed)
    order = rng.permutation(np.flatnonzero(digits.target < classes))
    cut = int(len(order) * 0.65)
    total, done = sum(sizes.values()), 0
    try:
        for split in RARE_SPLITS:
            source = order[cut:] if split in _HELD_OUT_SOURCE else order[:cut]
            count = sizes[split]
            rare = np.zeros(count, dtype=bool)
            rare[: round(count * shares.get(split, share))] = True
            rng.shuffle(rare)
            for i, index in enumerate(rng.choice(source, size=count)):
                label = int(digits.target[index])
                image = render(digits.images[index], size, bool(rare[i]), style, rng)
                name = f"{RARE_PREFIX if rare[i] else ''}{i:05d}.png"
                path = problem.folder(split) / str(label) / name
                path.parent.mkdir(parents=True, exist_ok=True)
                Image.fromarray(image).save(path, compress_level=1)
                done += 1
                report(progress, "generate rare-style problem", done, total)
    except BaseException:
        shutil.rmtree(root / "data", ignore_errors=True)
        raise
    info = {k: v for k, v in asdict(problem).items() if k != "root"}
    (root / INFO_FILE).write_text(json.dumps(info, indent=2) + "\n")
    return problem
