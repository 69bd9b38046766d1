"""Segmentation MAD's selection on the generated problem: does it find the target's failures?

For each seed: a generated problem (biased training split, shifted pool with truth kept
apart), a target (`small_unet`) and a competitor (`tiny_unet`, another seed) trained on the
training split, then picks from the pool at the same budget: MAD's union M (n3 per
competitor, class and role), the entropy baseline (highest mean pixel entropy), a seeded
random draw, and, to see what the content constraint does on a biased training split, M
without the [p_k, q_k] share range, cut to the same budget (most discrepant first). Each pick
is scored by the target's mean per-image mIoU against the true label maps (lower: more
failures found) and by its share of shifted images. Training is short, so this measures the
selection, not a good segmenter.
"""

from __future__ import annotations

import shutil
import statistics
import time

import numpy as np
import torch
from torch.utils.data import DataLoader

from bench.common import OUTPUT, table
from robustar.config import ImageConfig
from robustar.data.labelmaps import LabelledImage, pair_folder
from robustar.data.problems import generate_segmentation
from robustar.data.segdataset import LabelMapDataset
from robustar.discover.mad.segmentation import (
    candidate_union,
    class_shares,
    entropy_select,
    mean_pixel_entropy,
    select_candidates,
    share_ranges,
    summarise,
)
from robustar.models.registry import create_model
from robustar.predict.segmetrics import SegMetrics
from robustar.train.segloss import segmentation_loss

SMOKE = {"seeds": 1, "train": 48, "pool": 48, "epochs": 1, "per_class": 2}
IMAGE = ImageConfig(size=32, resize="stretch", mean=[0.5] * 3, std=[0.25] * 3)


def _train(name: str, data: LabelMapDataset, epochs: int, seed: int) -> torch.nn.Module:
    torch.manual_seed(seed)
    model = create_model(name, len(data.classes.names), task="segmentation")
    optimiser = torch.optim.Adam(model.parameters(), lr=3e-3)
    generator = torch.Generator().manual_seed(seed)
    for _ in range(epochs):
        for images, labels, _ in DataLoader(data, 16, shuffle=True, generator=generator):
            loss = segmentation_loss("ce+dice", model(images), labels)
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
    return model.eval()


@torch.inference_mode()
def _logits(model: torch.nn.Module, data: LabelMapDataset) -> torch.Tensor:
    return torch.cat([model(x) for x, _, _ in DataLoader(data, 64)])


def one_seed(seed: int, train: int, pool: int, epochs: int, per_class: int) -> dict[str, float]:
    folder = OUTPUT / "seg_selection" / f"seed{seed}"
    shutil.rmtree(folder, ignore_errors=True)
    counts = {"train": train, "validation": 0, "test": 0, "pool": pool}
    problem = generate_segmentation(folder, seed=seed, size=32, classes=4, counts=counts)
    classes = problem.label_classes()
    count = len(classes.names)
    training = LabelMapDataset(pair_folder(problem.folder("train")), classes, IMAGE)
    images = sorted((problem.folder("pool") / "images").iterdir())
    truth = LabelMapDataset(
        [LabelledImage(p, problem.pool_truth() / f"{p.stem}.png") for p in images], classes, IMAGE
    )
    target = _train("small_unet", training, epochs, seed)
    competitor = _train("tiny_unet", training, epochs, seed + 1000)
    target_logits, competitor_logits = _logits(target, truth), _logits(competitor, truth)

    ranges = share_ranges((class_shares(labels, count) for _, labels, _ in training), count)
    ids = list(range(len(images)))
    summaries = summarise(ids, target_logits, competitor_logits, count)
    mad = candidate_union(select_candidates({1: summaries}, ranges, per_class=per_class))
    budget = len(mad)
    everything = {k: (1e-9, 1.0) for k in ranges}  # the content constraint switched off
    unlimited = select_candidates({1: summaries}, everything, per_class=per_class)
    wide = candidate_union(unlimited)[:budget]
    entropies = mean_pixel_entropy(target_logits).tolist()
    entropy = entropy_select(zip(ids, entropies, strict=True), budget)
    drawn = np.random.default_rng(seed).choice(len(ids), size=budget, replace=False).tolist()

    scores = SegMetrics(count)
    labels = torch.stack([truth[i][1] for i in ids])
    scores.update(target_logits, labels, image_ids=ids)
    miou = [s.scores.miou for s in scores.images]
    shifts = problem.pool_shifts()
    shifted = [shifts[p.stem] != "none" for p in images]
    result = {"budget": float(budget), "pool mIoU": float(np.nanmean(miou))}
    picks = (("MAD", mad), ("MAD, no size range", wide), ("entropy", entropy), ("random", drawn))
    for name, picked in picks:
        result[f"{name} mIoU"] = float(np.nanmean([miou[i] for i in picked]))
        result[f"{name} shifted"] = float(np.mean([shifted[i] for i in picked]))
    result["pool shifted"] = float(np.mean(shifted))
    return result


def run(
    seeds: int = 3, train: int = 300, pool: int = 400, epochs: int = 6, per_class: int = 5
) -> str:
    torch.set_num_threads(1)  # a small busy machine: threads wait on each other
    started = time.perf_counter()
    runs = [one_seed(s, train, pool, epochs, per_class) for s in range(seeds)]

    def cell(key: str) -> str:
        values = [r[key] for r in runs]
        spread = f" ± {statistics.stdev(values):.3f}" if len(values) > 1 else ""
        return f"{statistics.mean(values):.3f}{spread}"

    rows = [
        [name, cell(f"{name} mIoU"), cell(f"{name} shifted")]
        for name in ("MAD", "MAD, no size range", "entropy", "random", "pool")
    ]
    return table(
        f"Segmentation selection: target mIoU on each pick (lower = more failures found), "
        f"mean ± sd over {seeds} seed(s); budget {cell('budget')} of {pool} pool images; "
        f"{epochs} epochs on {train} training images; {time.perf_counter() - started:.0f} s",
        ["pick", "target mIoU", "shifted share"],
        rows,
    )
