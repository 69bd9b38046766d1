"""A user's own model factory, used through 'tests.custom_model:build'."""

from torch import nn


def build(num_classes: int) -> nn.Module:
    return nn.Sequential(nn.Flatten(), nn.LazyLinear(num_classes))


def not_a_model() -> str:
    return "oops"
