"""Paired training on the demo's spurious digits: does it recover the clean model's accuracy?

All in one run, mean over seeds: (1) baseline on the spurious train split; (2) reference on the
clean variant; (3) paired training with the true masks of 100%, 30% and 10% of the training
images; (4) paired training with masks from batch colour-range auto-annotation (no true masks).
Also the step-time ratio of paired to plain training with 10% masks.
"""

from __future__ import annotations

import shutil
import statistics
import time

import numpy as np
from PIL import Image

from bench.common import OUTPUT, table
from robustar import Workspace
from robustar.data.spurious_digits import PATCH_COLOURS
from robustar.demo import BASELINE, create_demo, demo_config

SEEDS = (0, 1, 2)
PAIRED = {"paired": True, "filler": "mixture", "regularizer": "l2", "pair_weight": 0.2}


def test_accuracy(workspace: Workspace, seed: int, **changes: object) -> tuple[float, float]:
    """Train without touching the current version's predictions; (test accuracy, s/epoch)."""
    options = BASELINE.model_copy(update={"seed": seed, "name": None, **changes})
    version = workspace.train(options, predict=False)
    curves = workspace.training_curves(version.id)
    return curves[-1].test_accuracy, statistics.mean(e.seconds for e in curves)


def with_true_masks(source: Workspace, root_name: str, share: float) -> Workspace:
    root = OUTPUT / root_name
    shutil.rmtree(root, ignore_errors=True)
    workspace = Workspace.create(root, source.config.model_copy(deep=True))
    images = workspace.images("train", sort="id")
    chosen = np.random.default_rng(0).permutation(len(images))[: round(share * len(images))]
    for index in chosen:
        image = images[int(index)]
        truth = source.root / "truth/masks/train" / image.relpath
        workspace.masks.set(image.id, np.asarray(Image.open(truth)) > 0)
    return workspace


def absolute_config(source: Workspace):  # type: ignore[no-untyped-def]
    config = demo_config()
    for split, folder in source.folders.items():
        setattr(config.data, split, str(folder))
    return config


def run() -> str:
    root = OUTPUT / "paired-demo"
    shutil.rmtree(root, ignore_errors=True)
    demo = create_demo(root, train=False)
    demo.close()
    demo = Workspace.open(root)
    config = absolute_config(demo)
    demo.config = config

    clean_root = OUTPUT / "paired-clean"
    shutil.rmtree(clean_root, ignore_errors=True)
    clean_config = config.model_copy(deep=True)
    clean_config.data.train = str(root / "truth/clean/train")
    clean_config.data.validation = str(root / "truth/clean/validation")
    clean_config.data.pool = None
    clean = Workspace.create(clean_root, clean_config)

    rows: dict[str, list[float]] = {}
    seconds: dict[str, list[float]] = {}

    def record(name: str, workspace: Workspace, **changes: object) -> None:
        for seed in SEEDS:
            accuracy, per_epoch = test_accuracy(workspace, seed, **changes)
            rows.setdefault(name, []).append(accuracy)
            seconds.setdefault(name, []).append(per_epoch)

    base_ws = with_true_masks(demo, "paired-base", 0.0)
    record("1. baseline (spurious train split)", base_ws)
    record("2. reference (clean variant)", clean)
    for share in (1.0, 0.3, 0.1):
        workspace = with_true_masks(demo, f"paired-{int(share * 100)}", share)
        record(f"3. paired, true masks of {share:.0%} of train", workspace, **PAIRED)
        if share == 0.1:
            record("   plain training, same workspace (step time)", workspace)
    auto_root = OUTPUT / "paired-auto"
    shutil.rmtree(auto_root, ignore_errors=True)
    auto = Workspace.create(auto_root, config.model_copy(deep=True))
    colours = [tuple(int(v) for v in c) for c in PATCH_COLOURS]
    auto.masks.auto_annotate(split="train", method="colour", colours=colours, tolerance=12)
    for proposal in auto.masks.proposals(limit=100_000)[1]:
        auto.masks.accept(proposal.id)
    record("4. paired, colour-range auto-annotation", auto, **PAIRED)

    base = statistics.mean(rows["1. baseline (spurious train split)"])
    ref = statistics.mean(rows["2. reference (clean variant)"])
    gap = ref - base
    lines = []
    for name, values in rows.items():
        mean = statistics.mean(values)
        recovered = "" if name.startswith(("1.", "2.", " ")) else f"{(mean - base) / gap:.0%}"
        spread = f"{min(values):.3f}-{max(values):.3f}"
        lines.append([name, f"{mean:.3f}", spread, recovered])
    paired10 = statistics.mean(seconds["3. paired, true masks of 10% of train"])
    plain10 = statistics.mean(seconds["   plain training, same workspace (step time)"])
    lines.append(["step time, paired / plain, 10% masks", f"{paired10 / plain10:.2f}", "", ""])
    return table(
        f"Paired training on spurious digits: test accuracy, mean of {len(SEEDS)} seeds "
        f"(gap (2)-(1) = {gap * 100:.1f} points; targets: 10% masks recover >= 2/3, "
        "auto-annotation >= 1/2, step time <= 1.3)",
        ["run", "test accuracy", "range", "gap recovered"],
        lines,
    )


if __name__ == "__main__":
    started = time.perf_counter()
    print(run())
    print(f"({time.perf_counter() - started:.0f} s)")
