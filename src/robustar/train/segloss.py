"""Losses for segmentation logits [N, C, H, W] against label maps [N, H, W]: pixel-wise
cross-entropy, soft Dice, and their sum (the `SEG_LOSSES` registry), each leaving out the
pixels marked with the ignore index.

Cross-entropy learns every pixel equally, so a small object on a large background counts
little; Dice scores each class's overlap whatever its size; their sum is the usual compromise.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

import torch
import torch.nn.functional as F
from pydantic import Field, ValidationError

from robustar.errors import DataError, validation_problems
from robustar.registry import Registry

IGNORE_INDEX = 255
SegLoss = Callable[..., torch.Tensor]
SEG_LOSSES: Registry[SegLoss] = Registry("segmentation loss", default="ce")


def _check(logits: torch.Tensor, target: torch.Tensor, ignore_index: int) -> None:
    if logits.ndim != 4 or target.shape != (logits.shape[0], *logits.shape[2:]):
        raise DataError(
            f"segmentation loss of logits {tuple(logits.shape)} against label maps "
            f"{tuple(target.shape)}",
            "give logits [N, C, H, W] and label maps [N, H, W] of the same size",
        )
    classes = logits.shape[1]
    if bool(((target >= classes) & (target != ignore_index) | (target < 0)).any()):
        raise DataError(
            f"label maps hold class indices outside 0..{classes - 1} (ignore: {ignore_index})",
            "train with as many model outputs as the class list has classes",
        )


@SEG_LOSSES.register("ce")
def cross_entropy(
    logits: torch.Tensor, target: torch.Tensor, ignore_index: int = IGNORE_INDEX
) -> torch.Tensor:
    """Pixel-wise cross-entropy over the labelled pixels."""
    _check(logits, target, ignore_index)
    if bool((target == ignore_index).all()):
        return logits.sum() * 0  # nothing labelled: no gradient, not NaN
    return F.cross_entropy(logits, target.long(), ignore_index=ignore_index)


@SEG_LOSSES.register("dice")
def dice(
    logits: torch.Tensor,
    target: torch.Tensor,
    ignore_index: int = IGNORE_INDEX,
    *,
    smooth: Annotated[float, Field(gt=0, le=100)] = 1.0,
) -> torch.Tensor:
    """One minus the soft Dice score, averaged over classes, over the batch's labelled pixels."""
    _check(logits, target, ignore_index)
    valid = (target != ignore_index).unsqueeze(1)
    probs = logits.softmax(1) * valid
    truth = F.one_hot(target.long().where(valid[:, 0], 0), logits.shape[1])
    truth = truth.permute(0, 3, 1, 2).to(probs.dtype) * valid
    dims = (0, 2, 3)
    overlap = (probs * truth).sum(dims)
    sizes = probs.sum(dims) + truth.sum(dims)
    return 1 - ((2 * overlap + smooth) / (sizes + smooth)).mean()


@SEG_LOSSES.register("ce+dice")
def ce_dice(
    logits: torch.Tensor,
    target: torch.Tensor,
    ignore_index: int = IGNORE_INDEX,
    *,
    smooth: Annotated[float, Field(gt=0, le=100)] = 1.0,
) -> torch.Tensor:
    """Cross-entropy plus Dice."""
    return cross_entropy(logits, target, ignore_index) + dice(
        logits, target, ignore_index, smooth=smooth
    )


def segmentation_loss(
    name: str,
    logits: torch.Tensor,
    target: torch.Tensor,
    ignore_index: int = IGNORE_INDEX,
    **options: object,
) -> torch.Tensor:
    """The registered loss `name` with its options (e.g. `smooth` for Dice), checked."""
    try:
        chosen = SEG_LOSSES.entry(name).options.model_validate(options)
    except ValidationError as error:
        raise DataError(
            f"invalid options for segmentation loss {name!r}: {validation_problems(error)}",
            "see robustar.train.segloss.SEG_LOSSES.describe() for each loss's options",
        ) from None
    options = chosen.model_dump()
    loss: torch.Tensor = SEG_LOSSES.call(name, logits, target, ignore_index, **options)
    return loss
