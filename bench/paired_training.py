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
import torch
from PIL import Image

from bench.common import OUTPUT, scaled_demo, table
from robustar import Workspace
from robustar.data.masked import MaskedDataset
from robustar.data.spurious_digits import PATCH_COLOURS
from robustar.demo import BASELINE, create_demo, demo_config
from robustar.models.registry import create_model
from robustar.predict.engine import make_loader
from robustar.train.fillers import Pixels
from robustar.train.paired import PairedLoss, plain_loss
from robustar.train.run import spurious_masks

SEEDS = (0, 1, 2)
SMOKE = {"seeds": (0,), "share": 0.02, "epochs": 1, "step_batches": 2, "step_repeats": 1}
PAIRED = {"paired": True, "filler": "mixture", "regularizer": "l2", "pair_weight": 0.2}


def test_accuracy(workspace: Workspace, seed: int, **changes: object) -> float:
    """Train without touching the current version's predictions; the last epoch's test accuracy."""
    options = BASELINE.model_copy(update={"seed": seed, "name": None, **changes})
    version = workspace.train(options, predict=False)
    return workspace.training_curves(version.id)[-1].test_accuracy


def step_time_ratio(workspace: Workspace, batches: int = 30, repeats: int = 5) -> float:
    """Paired / plain time of the same training steps (loading included), interleaved and
    best-of, so that both see the same machine load."""
    config = workspace.config
    cpu = torch.device("cpu")
    masked = MaskedDataset(
        workspace.dataset("train"),
        spurious_masks(workspace.db, workspace.root),
        config.image.size,
        config.image.resize,
    )
    model = create_model(config.model.architecture, len(workspace.classes))
    optimizer = torch.optim.AdamW(model.parameters(), 3e-3)
    generator = torch.Generator().manual_seed(0)
    paired = PairedLoss(
        PAIRED["filler"],
        PAIRED["regularizer"],
        PAIRED["pair_weight"],
        Pixels(config.image.mean, config.image.std, cpu),
        generator,
    )

    def steps(objective, dataset) -> float:  # type: ignore[no-untyped-def]
        loader = make_loader(dataset, 64, 0, cpu, True, torch.Generator().manual_seed(1))
        started = time.perf_counter()
        for _, batch in zip(range(batches), loader, strict=False):
            masks = batch[3] if len(batch) > 3 else None
            loss, _ = objective(model, batch[0], batch[1], masks)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        return time.perf_counter() - started

    plain_times, paired_times = [], []
    for _ in range(repeats):
        plain_times.append(steps(plain_loss, workspace.dataset("train")))
        paired_times.append(steps(paired, masked))
    return min(paired_times) / min(plain_times)


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


def run(
    seeds: tuple[int, ...] = SEEDS,
    share: float = 1.0,
    epochs: int = BASELINE.epochs,
    step_batches: int = 30,
    step_repeats: int = 5,
) -> str:
    """On `share` of the demo's default size, `epochs` of the demo's recipe each; the step-time
    ratio over `step_batches`."""
    root = OUTPUT / "paired-demo"
    shutil.rmtree(root, ignore_errors=True)
    demo = create_demo(root, scaled_demo(share), train=False)
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
    ratio = float("nan")

    def record(name: str, workspace: Workspace, **changes: object) -> None:
        for seed in seeds:
            accuracy = test_accuracy(workspace, seed, epochs=epochs, **changes)
            rows.setdefault(name, []).append(accuracy)

    base_ws = with_true_masks(demo, "paired-base", 0.0)
    record("1. baseline (spurious train split)", base_ws)
    record("2. reference (clean variant)", clean)
    for share in (1.0, 0.3, 0.1):
        workspace = with_true_masks(demo, f"paired-{int(share * 100)}", share)
        record(f"3. paired, true masks of {share:.0%} of train", workspace, **PAIRED)
        if share == 0.1:
            ratio = step_time_ratio(workspace, step_batches, step_repeats)
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
        recovered = "" if name.startswith(("1.", "2.")) else f"{(mean - base) / gap:.0%}"
        spread = f"{min(values):.3f}-{max(values):.3f}"
        lines.append([name, f"{mean:.3f}", spread, recovered])
    lines.append(["step time, paired / plain, 10% masks", f"{ratio:.2f}", "", ""])
    return table(
        f"Paired training on spurious digits: test accuracy, mean of {len(seeds)} seeds "
        f"(gap (2)-(1) = {gap * 100:.1f} points; targets: 10% masks recover >= 2/3, "
        "auto-annotation >= 1/2, step time <= 1.3)",
        ["run", "test accuracy", "range", "gap recovered"],
        lines,
    )


if __name__ == "__main__":
    started = time.perf_counter()
    print(run())
    print(f"({time.perf_counter() - started:.0f} s)")
