"""Generating one spurious-correlation problem: splits, shortcut assignment, files on disk.

A problem kind (registered in `PROBLEMS`, see `kinds.py`) decides the image size, the class
count and how its shortcut is drawn; this module does the rest, the same for every kind. Each
image is a digit (scikit-learn's digits, drawn by the demo's renderer) plus a shortcut keyed
to one class. In `train`, `validation` and the in-domain `test` that class is the label for
`agreement` of the images (otherwise a class at random); in `ood` it is random, never the
label with `ood="anti"`, or absent with `ood="neutral"` (the clean image); in
`reference-train` and `reference-validation` (the clean reference variant) it is random too.
Train, validation and the reference splits draw their digits from one part of the source, the
two test splits from the other.

The image differs from its shortcut-free copy exactly inside the shortcut's mask. The masks
(`truth/masks/`), those copies (`truth/clean/`) and the digit's own mask (`truth/objects/`,
for `object` masks: attribute edits move it) are written beside the data, as the demo does,
never where a workspace reads annotations.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Literal

import numpy as np
from PIL import Image
from pydantic import ValidationError
from sklearn.datasets import load_digits

from robustar.config import DataConfig, ImageConfig, ModelConfig, RuntimeConfig, WorkspaceConfig
from robustar.data.spurious_digits import draw_digit
from robustar.errors import DataError, validation_problems
from robustar.progress import ProgressCallback, report
from robustar.registry import Registry

# (clean image, digit coverage in [0, 1], shortcut class, rng) -> (mask, shortcut layer):
# the image is the layer inside the mask and the clean image outside it.
Mark = Callable[[np.ndarray, np.ndarray, int, np.random.Generator], tuple[np.ndarray, np.ndarray]]


@dataclass(frozen=True)
class Kind:
    """What a registered problem kind returns: its geometry and how it marks an image."""

    size: int
    classes: int
    mark: Mark

    def __post_init__(self) -> None:
        if not 2 <= self.classes <= 10:
            raise DataError(
                f"a problem needs 2 to 10 classes, not {self.classes}", "choose classes in 2..10"
            )
        if not 16 <= self.size <= 256:
            raise DataError(f"image size {self.size} is out of range", "choose size in 16..256")


PROBLEMS: Registry[Callable[..., Kind]] = Registry("problem kind", default="patch")

SPLITS = ("train", "validation", "test", "ood", "reference-train", "reference-validation")
DEFAULT_COUNTS = {
    "train": 1500,
    "validation": 300,
    "test": 300,
    "ood": 500,
    "reference-train": 1500,
    "reference-validation": 300,
}
_CORRELATED = ("train", "validation", "test")
_HELD_OUT_SOURCE = ("test", "ood")
TRUTH_DIR = "truth"  # masks and shortcut-free copies; a workspace never reads it
INFO_FILE = "problem.json"


@dataclass(frozen=True)
class Problem:
    """A generated problem: where it is and what it holds (also written to problem.json)."""

    root: Path
    kind: str
    options: dict[str, object]
    seed: int
    agreement: float
    ood: str
    size: int
    classes: list[str]
    counts: dict[str, int]

    def folder(self, split: str) -> Path:
        return self.root / "data" / split

    def mask(self, image: Path) -> Path:
        """The true mask of an image under `data/`."""
        return self.root / TRUTH_DIR / "masks" / image.relative_to(self.root / "data")

    def object_mask(self, image: Path) -> Path:
        """The true object (digit) mask of an image under `data/`."""
        return self.root / TRUTH_DIR / "objects" / image.relative_to(self.root / "data")

    def clean(self, image: Path) -> Path:
        """The image under `data/` without its shortcut."""
        return self.root / TRUTH_DIR / "clean" / image.relative_to(self.root / "data")

    def config(
        self,
        *,
        reference: bool = False,
        test: Literal["ood", "test"] = "ood",
        workspace: str | Path | None = None,
    ) -> WorkspaceConfig:
        """A workspace over this problem: the shortcut-correlated splits, or the clean
        reference's (`reference=True`), with the out-of-domain or in-domain test. A workspace
        in the problem folder itself gets relative folders, so the two move together."""
        here = workspace is not None and Path(workspace).expanduser().resolve() == self.root
        base = Path("data") if here else self.root / "data"
        prefix = "reference-" if reference else ""
        return WorkspaceConfig(
            data=DataConfig(
                train=str(base / f"{prefix}train"),
                validation=str(base / f"{prefix}validation"),
                test=str(base / test),
                classes=self.classes,
            ),
            image=ImageConfig(size=self.size, resize="stretch", mean=[0.5] * 3, std=[0.25] * 3),
            model=ModelConfig(architecture="small_cnn"),
            runtime=RuntimeConfig(batch_size=256, workers=0),
        )

    @classmethod
    def load(cls, root: str | Path) -> Problem:
        path = Path(root).expanduser().resolve()
        try:
            values = json.loads((path / INFO_FILE).read_text())
        except FileNotFoundError:
            raise DataError(
                f"{path} holds no generated problem ({INFO_FILE} is missing)",
                "generate one with 'robustar problems make KIND DIR'",
                "generate one with robustar.data.problems.generate(kind, out)",
            ) from None
        return cls(**{**values, "root": path})


def check_output(
    counts: dict[str, int] | None, defaults: dict[str, int], out: str | Path
) -> tuple[dict[str, int], Path]:
    """Image counts per split (the defaults' splits only) and a folder free of problem data."""
    sizes = {**defaults, **(counts or {})}
    if set(sizes) != set(defaults) or any(n < 0 for n in sizes.values()):
        raise DataError(f"counts {counts} name unknown splits", f"use {', '.join(defaults)}")
    root = Path(out).expanduser().resolve()
    if (root / "data").exists() or (root / TRUTH_DIR).exists():
        raise DataError(f"{root} already holds data", "choose a new folder for the problem")
    return sizes, root


def generate(
    kind: str,
    out: str | Path,
    *,
    seed: int = 0,
    agreement: float = 0.95,
    ood: Literal["random", "anti", "neutral"] = "random",
    counts: dict[str, int] | None = None,
    progress: ProgressCallback = None,
    **options: object,
) -> Problem:
    """Write problem `kind` under `out` (data/, truth/, problem.json); the same seed gives
    the same files. `options` are the kind's own (see `PROBLEMS.describe()`)."""
    entry = PROBLEMS.entry(kind)
    try:
        chosen = entry.options.model_validate(options)
    except ValidationError as error:
        raise DataError(
            f"invalid options for problem kind {kind!r}: {validation_problems(error)}",
            f"use the options 'robustar problems list' shows for {kind}",
            f"use the options robustar.data.problems.PROBLEMS.describe() shows for {kind}",
        ) from None
    if not 0 <= agreement <= 1 or ood not in ("random", "anti", "neutral"):
        raise DataError(
            f"agreement {agreement} or ood {ood!r} is invalid",
            "choose agreement in [0, 1] and ood 'random', 'anti' or 'neutral'",
        )
    sizes, root = check_output(counts, DEFAULT_COUNTS, out)
    spec = entry.target(**chosen.model_dump())
    problem = Problem(
        root,
        kind,
        chosen.model_dump(),
        seed,
        agreement,
        ood,
        spec.size,
        [str(c) for c in range(spec.classes)],
        sizes,
    )
    made = not root.exists()
    try:
        _write(problem, spec, progress)
    except BaseException:  # leave the folder as it was
        shutil.rmtree(root if made else root / "data", ignore_errors=True)
        shutil.rmtree(root / TRUTH_DIR, ignore_errors=True)
        raise
    info = {k: v for k, v in asdict(problem).items() if k != "root"}
    (root / INFO_FILE).write_text(json.dumps(info, indent=2) + "\n")
    return problem


def _write(problem: Problem, spec: Kind, progress: ProgressCallback) -> None:
    digits = load_digits()
    wanted = np.flatnonzero(digits.target < spec.classes)
    rng = np.random.default_rng(problem.seed)
    order = rng.permutation(wanted)
    cut = int(len(order) * 0.65)
    total, done = sum(problem.counts.values()), 0
    for split in SPLITS:
        source = order[cut:] if split in _HELD_OUT_SOURCE else order[:cut]
        for i, index in enumerate(rng.choice(source, size=problem.counts[split])):
            label = int(digits.target[index])
            canvas, coverage = draw_digit(
                digits.images[index], spec.size, round(spec.size * 0.6), rng
            )
            clean = canvas.astype(np.uint8)
            shortcut = _shortcut(split, label, spec.classes, problem.agreement, problem.ood, rng)
            if shortcut is None:  # a neutral image: no shortcut at all
                mask, image = np.zeros(coverage.shape, dtype=bool), clean
            else:
                mask, layer = spec.mark(clean, coverage, shortcut, rng)
                image = np.where(mask[..., None], layer, clean)
            rel = Path(split) / str(label) / f"{i:05d}.png"
            _save(image, problem.root / "data" / rel)
            _save(mask.astype(np.uint8) * 255, problem.root / TRUTH_DIR / "masks" / rel)
            _save(clean, problem.root / TRUTH_DIR / "clean" / rel)
            digit = (coverage >= 0.5).astype(np.uint8) * 255
            _save(digit, problem.root / TRUTH_DIR / "objects" / rel)
            done += 1
            report(progress, f"generate {problem.kind} problem", done, total)


def _shortcut(
    split: str, label: int, classes: int, agreement: float, ood: str, rng: np.random.Generator
) -> int | None:
    """The class whose shortcut this image carries (None: none, a neutral image)."""
    if split in _CORRELATED and rng.random() < agreement:
        return label
    if split == "ood" and ood == "neutral":
        return None
    if split == "ood" and ood == "anti":
        return int((label + rng.integers(1, classes)) % classes)
    return int(rng.integers(0, classes))


def _save(array: np.ndarray, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(array).save(path, compress_level=1)
