"""What training a segmenter changes in a run: label-map datasets, a pixel loss (the
`loss` option) in place of cross-entropy on images, and pixel accuracy (training) and mIoU
(validation, test) where a classifier's epochs report accuracy, so the curves, the best-epoch
choice and the regression guard read a segmenter's figures without knowing it is one."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import nn
from torch.utils.data import DataLoader, Dataset

from robustar.predict.segmetrics import SegMetrics
from robustar.train.plain import Objective, Scoring
from robustar.train.segloss import segmentation_loss


@dataclass(frozen=True)
class SegTask:
    """A segmentation workspace's training data: `dataset(split)` gives (image, label map
    [S, S], index) items at the model's input size."""

    dataset: Callable[[str], Dataset]
    num_classes: int
    ignore_index: int

    def objective(self, loss: str) -> Objective:
        def objective(
            model: nn.Module, x: torch.Tensor, y: torch.Tensor, masks: torch.Tensor | None
        ) -> tuple[torch.Tensor, torch.Tensor]:
            logits = model(x).float()
            return segmentation_loss(loss, logits, y, self.ignore_index), logits

        return objective

    def scoring(self, loss: str) -> Scoring:
        def evaluate(
            model: nn.Module, loader: DataLoader, device: torch.device
        ) -> tuple[float, float]:
            return self._evaluate(model, loader, device, loss)

        return Scoring(self._hits, evaluate)

    def _hits(self, logits: torch.Tensor, labels: torch.Tensor) -> tuple[int, int]:
        """Correct labelled pixels and labelled pixels of a batch."""
        labelled = labels != self.ignore_index
        correct = ((logits.argmax(1) == labels) & labelled).sum().item()
        return int(correct), int(labelled.sum().item())

    def _evaluate(
        self, model: nn.Module, loader: DataLoader, device: torch.device, loss: str
    ) -> tuple[float, float]:
        """Mean loss per image and the split's mIoU (of its summed confusion matrix; 0 when
        nothing is labelled)."""
        model.eval()
        metrics = SegMetrics(self.num_classes, self.ignore_index, per_image=False)
        loss_sum, seen = 0.0, 0
        with torch.inference_mode():
            for images, labels, *_ in loader:
                images, labels = images.to(device), labels.to(device)
                logits = model(images).float()
                loss_sum += segmentation_loss(loss, logits, labels, self.ignore_index).item() * len(
                    labels
                )
                seen += len(labels)
                metrics.update(logits, labels)
        miou = metrics.result().miou
        return loss_sum / max(seen, 1), 0.0 if math.isnan(miou) else miou
