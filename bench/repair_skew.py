"""Class-skewed masks (issue 11, item 4): the demo with true masks on images of one class only.

A user who annotates only class 9 and retrains must not get a model whose filled regions
became a new shortcut to class 9. Through the product (`Workspace.train`): the vanilla model
(plain training, defaults) against paired training with the defaults, and with `borrow` on,
validation and test accuracy, mean and spread over seeds. Target: the defaults lose
no more validation accuracy than max(1 point, 2 standard deviations of the seeds).
"""

from __future__ import annotations

import shutil
import statistics
import time

import numpy as np
from PIL import Image

from bench.common import OUTPUT, scaled_demo, table
from robustar.demo import create_demo
from robustar.train.options import TrainOptions

SEEDS = (0, 1, 2)
CLASS = 9
ANNOTATED = 60  # the walkthrough's user annotated 59 images, all of class 9
SMOKE = {"seeds": (0,), "share": 0.05, "epochs": 1, "annotated": 10}


def run(
    seeds: tuple[int, ...] = SEEDS, share: float = 1.0, epochs: int = 10, annotated: int = ANNOTATED
) -> str:
    root = OUTPUT / "skew-demo"
    shutil.rmtree(root, ignore_errors=True)
    workspace = create_demo(root, scaled_demo(share), train=False)
    images = [i for i in workspace.images("train", sort="id", limit=100_000) if i.label == CLASS]
    chosen = np.random.default_rng(0).permutation(len(images))[:annotated]
    for index in chosen:
        image = images[int(index)]
        truth = root / "truth/masks/train" / image.relpath
        workspace.masks.set(image.id, np.asarray(Image.open(truth)) > 0)
    runs = {
        "vanilla (plain training)": {},
        "paired, defaults": {"paired": True},
        "paired, defaults with borrow": {"paired": True, "borrow": True},
    }
    found: dict[str, list[tuple[float, float]]] = {}
    for name, changes in runs.items():
        for seed in seeds:
            options = TrainOptions(epochs=epochs, seed=seed, **changes)  # type: ignore[arg-type]
            version = workspace.train(options, predict=False)
            last = workspace.training_curves(version.id)[-1]
            found.setdefault(name, []).append((last.val_accuracy or 0.0, last.test_accuracy or 0.0))
    vanilla = [v for v, _ in found["vanilla (plain training)"]]
    spread = statistics.stdev(vanilla) if len(vanilla) > 1 else 0.0
    allowed = max(0.01, 2 * spread)
    rows = []
    for name, values in found.items():
        val = statistics.mean(v for v, _ in values)
        test = statistics.mean(t for _, t in values)
        loss = statistics.mean(vanilla) - val
        verdict = "" if name.startswith("vanilla") else ("ok" if loss <= allowed else "LOSES")
        rows.append([name, f"{val:.3f}", f"{test:.3f}", f"{loss * 100:+.1f}", verdict])
    return table(
        f"Masks on {annotated} training images of class {CLASS} only (demo at {share:.0%}, "
        f"{epochs} epochs, seeds {seeds}): validation loss allowed {allowed * 100:.1f} points",
        ["run", "validation", "test (patch random)", "val. points lost", "target"],
        rows,
    )


if __name__ == "__main__":
    started = time.perf_counter()
    print(run(), flush=True)
    print(f"({time.perf_counter() - started:.0f} s)")
