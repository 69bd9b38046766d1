"""The training loop: epochs with a checkpoint and metrics after each, resumable.

After every epoch the run folder gets `epoch-NNN.safetensors` (weights) and `state.pt` (epoch,
optimizer, schedule, shuffling and metrics so far), both written atomically; a run started again
on the same folder continues after the last finished epoch.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.data import DataLoader

from robustar.models.checkpoint import save_weights
from robustar.models.versions import EpochResult
from robustar.progress import ProgressCallback, report
from robustar.storage import atomic_write
from robustar.train.background import swap_backgrounds
from robustar.train.options import TrainOptions

Objective = Callable[
    [nn.Module, torch.Tensor, torch.Tensor, torch.Tensor | None], tuple[torch.Tensor, torch.Tensor]
]
STATE_FILE = "state.pt"


def seed_everything(seed: int) -> torch.Generator:
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)
    return torch.Generator().manual_seed(seed)


def make_optimizer(model: nn.Module, options: TrainOptions) -> torch.optim.Optimizer:
    params = model.parameters()
    if options.optimizer == "sgd":
        return torch.optim.SGD(
            params,
            lr=options.learning_rate,
            momentum=options.momentum,
            weight_decay=options.weight_decay,
        )
    optimizer = torch.optim.Adam if options.optimizer == "adam" else torch.optim.AdamW
    return optimizer(params, lr=options.learning_rate, weight_decay=options.weight_decay)


def make_schedule(
    optimizer: torch.optim.Optimizer, options: TrainOptions
) -> torch.optim.lr_scheduler.LRScheduler:
    if options.schedule == "cosine":
        return torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=options.epochs)
    if options.schedule == "step":
        return torch.optim.lr_scheduler.StepLR(optimizer, options.step_size, options.gamma)
    return torch.optim.lr_scheduler.ConstantLR(optimizer, factor=1.0, total_iters=0)


def hits(logits: torch.Tensor, labels: torch.Tensor) -> tuple[int, int]:
    """Correct predictions and predictions made in a batch: a classifier's images."""
    return int((logits.argmax(1) == labels).sum().item()), len(labels)


def evaluate(model: nn.Module, loader: DataLoader, device: torch.device) -> tuple[float, float]:
    """Mean cross-entropy and accuracy of a classifier on a split."""
    model.eval()
    loss_sum, correct, seen = 0.0, 0, 0
    with torch.inference_mode():
        for images, labels, *_ in loader:
            images, labels = images.to(device), labels.to(device)
            logits = model(images).float()
            loss_sum += F.cross_entropy(logits, labels, reduction="sum").item()
            correct += (logits.argmax(1) == labels).sum().item()
            seen += len(labels)
    return loss_sum / max(seen, 1), correct / max(seen, 1)


def _save_state(path: Path, state: dict) -> None:
    atomic_write(path, lambda tmp: torch.save(state, tmp))


@dataclass
class Loaders:
    train: DataLoader
    validation: DataLoader | None = None
    test: DataLoader | None = None


@dataclass(frozen=True)
class Scoring:
    """What an epoch reports as accuracy: a classifier's share of correct images, or what a
    segmenter puts in its place (train: pixel accuracy; evaluation: mIoU)."""

    hits: Callable[[torch.Tensor, torch.Tensor], tuple[int, int]] = hits
    evaluate: Callable[[nn.Module, DataLoader, torch.device], tuple[float, float]] = evaluate


def train_epochs(
    model: nn.Module,
    loaders: Loaders,
    options: TrainOptions,
    device: torch.device,
    run_dir: Path,
    objective: Objective,
    generator: torch.Generator,
    progress: ProgressCallback = None,
    on_epoch: Callable[[EpochResult], None] | None = None,
    scoring: Scoring = Scoring(),
) -> list[EpochResult]:
    """Train in place, resuming from `run_dir/state.pt` when an earlier run left one."""
    model.to(device)
    optimizer = make_optimizer(model, options)
    schedule = make_schedule(optimizer, options)
    use_amp = device.type == "cuda"
    scaler = torch.amp.GradScaler(device.type, enabled=use_amp)
    results: list[EpochResult] = []
    state_path = run_dir / STATE_FILE
    if state_path.is_file():
        from robustar.models.checkpoint import load_weights

        state = torch.load(state_path, map_location="cpu", weights_only=True)
        last = state["epoch"]
        load_weights(model, run_dir / f"epoch-{last:03d}.safetensors", num_classes=-1)
        model.to(device)
        optimizer.load_state_dict(state["optimizer"])
        schedule.load_state_dict(state["schedule"])
        generator.set_state(state["generator"])
        results = [EpochResult(**r) for r in state["results"]]
    steps_total = options.epochs * len(loaders.train)
    step = len(results) * len(loaders.train)
    for epoch in range(len(results) + 1, options.epochs + 1):
        started = time.perf_counter()
        model.train()
        loss_sum, images_seen, correct, seen = 0.0, 0, 0, 0
        learning_rate = optimizer.param_groups[0]["lr"]
        for batch in loaders.train:
            images, labels = batch[0].to(device, non_blocking=True), batch[1].to(device)
            masks = batch[3].to(device) if len(batch) > 3 else None
            if options.augment == "flip":
                flip = torch.rand(len(images), generator=generator) < 0.5
                images[flip] = images[flip].flip(-1)
                if labels.ndim == 3:  # label maps turn with their images
                    labels[flip] = labels[flip].flip(-1)
                if masks is not None:
                    masks[flip] = masks[flip].flip(-1)
            if options.background_swap > 0 and masks is not None:
                images = swap_backgrounds(images, masks, options.background_swap, generator)
                masks = None  # object masks: the augmentation's, not the objective's
            with torch.autocast(device.type, enabled=use_amp):
                loss, logits = objective(model, images, labels, masks)
            optimizer.zero_grad(set_to_none=True)
            scaler.scale(loss).backward()
            scaler.step(optimizer)
            scaler.update()
            loss_sum += loss.item() * len(labels)
            images_seen += len(labels)
            batch_correct, batch_seen = scoring.hits(logits, labels)
            correct, seen = correct + batch_correct, seen + batch_seen
            step += 1
            report(progress, f"train epoch {epoch}/{options.epochs}", step, steps_total)
        schedule.step()
        val_loss = val_accuracy = test_accuracy = None
        if loaders.validation is not None and len(loaders.validation.dataset):  # type: ignore[arg-type]
            val_loss, val_accuracy = scoring.evaluate(model, loaders.validation, device)
        if loaders.test is not None and len(loaders.test.dataset):  # type: ignore[arg-type]
            test_accuracy = scoring.evaluate(model, loaders.test, device)[1]
        result = EpochResult(
            epoch=epoch,
            train_loss=loss_sum / max(images_seen, 1),
            train_accuracy=correct / max(seen, 1),
            val_loss=val_loss,
            val_accuracy=val_accuracy,
            test_accuracy=test_accuracy,
            learning_rate=learning_rate,
            seconds=time.perf_counter() - started,
        )
        results.append(result)
        save_weights(model, run_dir / f"epoch-{epoch:03d}.safetensors")
        _save_state(
            state_path,
            {
                "epoch": epoch,
                "optimizer": optimizer.state_dict(),
                "schedule": schedule.state_dict(),
                "generator": generator.get_state(),
                "results": [asdict(r) for r in results],
            },
        )
        if on_epoch is not None:
            on_epoch(result)
    return results
