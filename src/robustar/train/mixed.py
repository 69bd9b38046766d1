"""Batches drawn from two datasets at once: half from the training split, half from a new
labelled set (MAD's counterexamples), so fine-tuning on a few new images does not forget the
old ones. An epoch is one pass over the training split; the smaller set is cycled, reshuffled
at each pass."""

from __future__ import annotations

from collections.abc import Iterator

import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.data import ConcatDataset, DataLoader, Dataset, Sampler


class HalfAndHalf(Sampler[list[int]]):
    """Index batches over ConcatDataset([first, second]): ceil(b/2) from the first, the rest
    from the second."""

    def __init__(
        self, first: int, second: int, batch_size: int, generator: torch.Generator
    ) -> None:
        self.first, self.second = first, second
        self.take_first = max(1, (batch_size + 1) // 2)
        self.take_second = max(1, batch_size - self.take_first)
        self.generator = generator

    def __len__(self) -> int:
        return -(-self.first // self.take_first)

    def _cycle(self) -> Iterator[int]:
        while True:
            yield from (
                self.first + int(i) for i in torch.randperm(self.second, generator=self.generator)
            )

    def __iter__(self) -> Iterator[list[int]]:
        order = torch.randperm(self.first, generator=self.generator).tolist()
        others = self._cycle()
        for start in range(0, self.first, self.take_first):
            batch = order[start : start + self.take_first]
            yield batch + [next(others) for _ in range(self.take_second)]


def mixed_loader(
    train: Dataset,
    extra: Dataset,
    batch_size: int,
    workers: int,
    device: torch.device,
    generator: torch.Generator,
) -> DataLoader:
    """A loader whose every batch mixes `train` and `extra` 1:1."""
    sampler = HalfAndHalf(len(train), len(extra), batch_size, generator)  # type: ignore[arg-type]
    return DataLoader(
        ConcatDataset([train, extra]),
        batch_sampler=sampler,
        num_workers=workers,
        pin_memory=device.type == "cuda",
    )


class WeightedMix:
    """Objective for a `mixed_loader` batch: first·CE(train part) + second·CE(extra part).

    The extra images are the batch's last `take_second` (a short last batch only has fewer
    training images), so the split is positional; Defuse's CE(train) + λ·CE(regions) is
    weights (1, λ), fine-tuning on the new set alone is (0, 1)."""

    def __init__(self, take_second: int, weights: tuple[float, float]) -> None:
        self.take_second = take_second
        self.first, self.second = weights

    def __call__(
        self, model: nn.Module, x: torch.Tensor, y: torch.Tensor, m: torch.Tensor | None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        logits = model(x).float()
        cut = len(x) - self.take_second
        loss = self.second * F.cross_entropy(logits[cut:], y[cut:])
        if cut > 0 and self.first:
            loss = loss + self.first * F.cross_entropy(logits[:cut], y[:cut])
        return loss, logits
