"""The dattri library's TRAK and TracIn on a model and tensors: the reference implementations
the attribution benchmarks compare Robustar with (same model, data and projection dimension)."""

from __future__ import annotations

import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset


def _loader(x: torch.Tensor, y: torch.Tensor, batch_size: int = 64) -> DataLoader:
    return DataLoader(TensorDataset(x, y), batch_size=batch_size, shuffle=False)


def _margin(model: nn.Module):  # type: ignore[no-untyped-def]
    """dattri's TRAK example target, log(p / (1 - p)) of the label for one sample, with
    log(1 - p) as a log-sum-exp over the other classes so that p near 1 stays finite."""

    def f(params, data):  # type: ignore[no-untyped-def]
        image, label = data
        log_p = torch.func.functional_call(model, params, image.unsqueeze(0))[0].log_softmax(0)
        own = torch.arange(len(log_p)) == label
        others = log_p.masked_fill(own, float("-inf")).logsumexp(0)
        return log_p.masked_fill(~own, float("-inf")).logsumexp(0) - others

    return f


def _probability(model: nn.Module):  # type: ignore[no-untyped-def]
    def m(params, data):  # type: ignore[no-untyped-def]
        image, label = data
        logits = torch.func.functional_call(model, params, image.unsqueeze(0))
        return torch.exp(-nn.functional.cross_entropy(logits, label.unsqueeze(0)))

    return m


def _loss(model: nn.Module):  # type: ignore[no-untyped-def]
    def f(params, data):  # type: ignore[no-untyped-def]
        image, label = data
        logits = torch.func.functional_call(model, params, image.unsqueeze(0))
        return nn.functional.cross_entropy(logits, label.unsqueeze(0))

    return f


def trak(
    model: nn.Module,
    checkpoints: list[dict[str, torch.Tensor]],
    train: tuple[torch.Tensor, torch.Tensor],
    dim: int,
):  # type: ignore[no-untyped-def]
    """A cached dattri TRAK attributor (`cache` featurises the training set)."""
    from dattri.algorithm.trak import TRAKAttributor
    from dattri.task import AttributionTask

    model.eval()
    task = AttributionTask(loss_func=_margin(model), model=model, checkpoints=checkpoints)
    attributor = TRAKAttributor(
        task, _probability(model), projector_kwargs={"proj_dim": dim, "device": "cpu"}
    )
    attributor.cache(_loader(*train))
    return attributor


def trak_scores(attributor, test: tuple[torch.Tensor, torch.Tensor]) -> torch.Tensor:  # type: ignore[no-untyped-def]
    """(tests, training images); positive supports the test label."""
    return attributor.attribute(_loader(*test)).T


def tracin_scores(
    model: nn.Module,
    checkpoints: list[dict[str, torch.Tensor]],
    rates: list[float],
    train: tuple[torch.Tensor, torch.Tensor],
    test: tuple[torch.Tensor, torch.Tensor],
    dim: int,
) -> torch.Tensor:
    """dattri TracIn over the epoch checkpoints: (tests, training images)."""
    from dattri.algorithm.tracin import TracInAttributor
    from dattri.task import AttributionTask

    model.eval()
    task = AttributionTask(loss_func=_loss(model), model=model, checkpoints=checkpoints)
    attributor = TracInAttributor(
        task,
        torch.tensor(rates),
        normalized_grad=False,
        projector_kwargs={"proj_dim": dim, "device": "cpu"},
    )
    return attributor.attribute(_loader(*train), _loader(*test)).T
