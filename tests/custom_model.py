"""A user's own model factory, used through 'tests.custom_model:build'."""

from torch import nn


def build(num_classes: int) -> nn.Module:
    return nn.Sequential(nn.Flatten(), nn.LazyLinear(num_classes))


def not_a_model() -> str:
    return "oops"


def timm_like(num_classes: int) -> nn.Module:
    """A network declaring its input as a timm model does (timm is not installed here)."""
    model = nn.Sequential(nn.Flatten(), nn.Linear(3 * 16 * 16, num_classes))
    model.pretrained_cfg = {"mean": (0.5,) * 3, "std": (0.5,) * 3, "input_size": (3, 16, 16)}
    return model


def segmenter(num_classes: int) -> nn.Module:
    """A user's segmenter: a 1x1 convolution, declared by its `task` attribute."""
    return nn.Conv2d(3, num_classes, 1)


segmenter.task = "segmentation"  # type: ignore[attr-defined]
