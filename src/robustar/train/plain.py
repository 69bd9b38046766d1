"""The plain supervised training loop: one epoch at a time, a checkpoint after each."""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.data import DataLoader

from robustar.models.checkpoint import save_weights
from robustar.progress import ProgressCallback, report
from robustar.train.options import TrainOptions


@dataclass(frozen=True)
class EpochResult:
    epoch: int
    train_loss: float
    train_accuracy: float
    val_loss: float | None
    val_accuracy: float | None
    learning_rate: float
    seconds: float


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


def _evaluate(model: nn.Module, loader: DataLoader, device: torch.device) -> tuple[float, float]:
    model.eval()
    loss_sum, correct, seen = 0.0, 0, 0
    with torch.inference_mode():
        for images, labels, _ in loader:
            images, labels = images.to(device), labels.to(device)
            logits = model(images).float()
            loss_sum += F.cross_entropy(logits, labels, reduction="sum").item()
            correct += (logits.argmax(1) == labels).sum().item()
            seen += len(labels)
    return loss_sum / max(seen, 1), correct / max(seen, 1)


def train_epochs(
    model: nn.Module,
    train_loader: DataLoader,
    val_loader: DataLoader | None,
    options: TrainOptions,
    device: torch.device,
    checkpoint_dir: Path,
    progress: ProgressCallback = None,
    on_epoch: Callable[[EpochResult], None] | None = None,
) -> list[EpochResult]:
    """Train in place; write `epoch-NNN.safetensors` after every epoch into checkpoint_dir."""
    model.to(device)
    optimizer = make_optimizer(model, options)
    schedule = make_schedule(optimizer, options)
    use_amp = device.type == "cuda"
    scaler = torch.amp.GradScaler(device.type, enabled=use_amp)
    results = []
    steps_total, step = options.epochs * len(train_loader), 0
    for epoch in range(1, options.epochs + 1):
        started = time.perf_counter()
        model.train()
        loss_sum, correct, seen = 0.0, 0, 0
        learning_rate = optimizer.param_groups[0]["lr"]
        for images, labels, _ in train_loader:
            images = images.to(device, non_blocking=True)
            labels = labels.to(device, non_blocking=True)
            with torch.autocast(device.type, enabled=use_amp):
                logits = model(images)
                loss = F.cross_entropy(logits.float(), labels)
            optimizer.zero_grad(set_to_none=True)
            scaler.scale(loss).backward()
            scaler.step(optimizer)
            scaler.update()
            loss_sum += loss.item() * len(labels)
            correct += (logits.argmax(1) == labels).sum().item()
            seen += len(labels)
            step += 1
            report(progress, f"train epoch {epoch}/{options.epochs}", step, steps_total)
        schedule.step()
        val_loss = val_accuracy = None
        if val_loader is not None and len(val_loader.dataset):  # type: ignore[arg-type]
            val_loss, val_accuracy = _evaluate(model, val_loader, device)
        save_weights(model, checkpoint_dir / f"epoch-{epoch:03d}.safetensors")
        result = EpochResult(
            epoch=epoch,
            train_loss=loss_sum / max(seen, 1),
            train_accuracy=correct / max(seen, 1),
            val_loss=val_loss,
            val_accuracy=val_accuracy,
            learning_rate=learning_rate,
            seconds=time.perf_counter() - started,
        )
        results.append(result)
        if on_epoch is not None:
            on_epoch(result)
    return results
