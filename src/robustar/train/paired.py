"""Paired training: loss = CE(f(x), y) + λ·R(f(x), f(x')) [+ CE(f(x'), y)] on annotated images.

x' is x with its spurious mask filled (see fillers.py); R compares the logits of the two
copies and is averaged per sample, so λ does not scale with the batch size. The copies'
own cross-entropy (`copy_loss`) is off by default: on the problem suite it let a model learn
x' apart while keeping the shortcut on x (docs/decisions.md).

With `borrow`, each annotated image also lends its mask to an unannotated image of another
class in the batch, whose pair gets the regulariser too. Filled regions then appear under
every label, so when the masks cover few classes the filler cannot become a new shortcut to
those classes.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import nn

from robustar.registry import Registry
from robustar.train.fillers import FILLERS, Pixels

Regularizer = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]
REGULARIZERS: Registry[Regularizer] = Registry("regularizer")


@REGULARIZERS.register("l2", "squared L2 distance of the logits")
def squared_l2(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    return ((a - b) ** 2).sum(1).mean()


@REGULARIZERS.register("l1", "L1 distance of the logits")
def l1(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    return (a - b).abs().sum(1).mean()


@REGULARIZERS.register("cosine", "1 - cosine similarity of the logits")
def cosine(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    return (1 - F.cosine_similarity(a, b, dim=1)).mean()


@REGULARIZERS.register("kl", "KL divergence of the copy's prediction from the original's")
def kl(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """KL(softmax(a) || softmax(b)): the copy's prediction should match the original's."""
    return F.kl_div(
        F.log_softmax(b, 1), F.log_softmax(a, 1), log_target=True, reduction="batchmean"
    )


def plain_loss(
    model: nn.Module, x: torch.Tensor, y: torch.Tensor, m: torch.Tensor | None
) -> tuple[torch.Tensor, torch.Tensor]:
    logits = model(x).float()
    return F.cross_entropy(logits, y), logits


class PairedLoss:
    """Callable (model, x, y, masks) -> (loss, logits of x); masks are (B, 1, H, W)."""

    def __init__(
        self,
        filler: str,
        regularizer: str,
        weight: float,
        pixels: Pixels,
        generator: torch.Generator,
        worst_of: int = 4,
        borrow: bool = False,
        copy_loss: bool = False,
    ) -> None:
        self.filler, self.weight, self.pixels, self.generator = filler, weight, pixels, generator
        self.regularizer = REGULARIZERS[regularizer]
        self.worst_of, self.borrow, self.copy_loss = worst_of, borrow, copy_loss

    def borrowers(
        self, y: torch.Tensor, lenders: torch.Tensor, masked: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """For each lender, a random unannotated row of the batch with another label:
        (lenders, borrowers), leaving out lenders that no such row is left for."""
        other = (y[lenders, None] != y[None, :]) & ~masked[None, :]
        draw = torch.rand(other.shape, generator=self.generator).to(y.device)
        choice = (draw * other).argmax(1)
        kept = other.any(1)
        return lenders[kept], choice[kept]

    def counterpart(
        self, model: nn.Module, x: torch.Tensor, y: torch.Tensor, m: torch.Tensor
    ) -> torch.Tensor:
        """x' for the annotated images; a filler that scores candidates gets their loss."""

        def loss(candidate: torch.Tensor) -> torch.Tensor:
            training = model.training
            model.eval()  # scoring candidates must not move batch-norm statistics
            with torch.no_grad():
                losses = F.cross_entropy(model(candidate).float(), y, reduction="none")
            model.train(training)
            return losses

        return FILLERS.call(
            self.filler, x, m, self.pixels, self.generator, loss=loss, worst_of=self.worst_of
        )

    def __call__(
        self, model: nn.Module, x: torch.Tensor, y: torch.Tensor, m: torch.Tensor | None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        if m is None or not (masked := m.flatten(1).amax(1) > 0.5).any():
            return plain_loss(model, x, y, m)
        rows = masked.nonzero().squeeze(1)
        masks, own = m[rows], len(rows)
        if self.borrow:
            lenders, borrowers = self.borrowers(y, rows, masked)
            rows, masks = torch.cat([rows, borrowers]), torch.cat([masks, m[lenders]])
        x2 = self.counterpart(model, x[rows], y[rows], masks)
        # One forward for both, so that batch normalisation sees one batch: separate passes
        # gave the few copies their own statistics, which the comparison then measured.
        both = model(torch.cat([x, x2])).float()
        logits, logits2 = both[: len(x)], both[len(x) :]
        # Own pairs and borrowed pairs each averaged: borrowing must not dilute λ.
        loss = F.cross_entropy(logits, y)
        for part in (slice(0, own), slice(own, None)):
            if len(rows[part]):
                loss = loss + self.weight * self.regularizer(logits[rows[part]], logits2[part])
        if self.copy_loss:
            loss = loss + F.cross_entropy(logits2, y[rows])
        return loss, logits
