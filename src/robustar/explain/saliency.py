"""Saliency maps with one interface: `saliency(model, x, method, target)` -> (H, W) or (3, H, W).

`x` is one normalised image (1, 3, S, S) at the model's input size. Each method is a function
in the `SALIENCY` registry (Captum's implementations); every method but `gradient` returns a
non-negative (S, S) map.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

import numpy as np
import torch
import torch.nn.functional as F
from captum.attr import (
    GuidedBackprop,
    IntegratedGradients,
    LayerAttribution,
    LayerGradCam,
    NoiseTunnel,
    Saliency,
)
from pydantic import Field
from torch import nn

from robustar.errors import DataError
from robustar.registry import Registry

DEFAULT_METHOD = "max_gradient"
SALIENCY: Registry[Callable[..., np.ndarray]] = Registry("saliency method", DEFAULT_METHOD)


def last_conv_layer(model: nn.Module) -> nn.Module:
    """Grad-CAM's default layer: the last convolution in module order."""
    convs = [m for m in model.modules() if isinstance(m, nn.Conv2d)]
    if not convs:
        raise DataError(
            "Grad-CAM needs a convolutional layer; this model has none",
            "use another saliency method",
        )
    return convs[-1]


def find_layer(model: nn.Module, name: str | None) -> nn.Module:
    if name is None:
        return last_conv_layer(model)
    modules = dict(model.named_modules())
    if name not in modules:
        raise DataError(
            f"the model has no layer {name!r}",
            f"use one of its module names, e.g. {list(modules)[-3:]}",
        )
    return modules[name]


def saliency(
    model: nn.Module, x: torch.Tensor, method: str, target: int, **options: object
) -> np.ndarray:
    """The registered method's map of `target` for x; `options` may hold more than the method
    takes (e.g. `baseline`, `layer`): each method takes the ones it declares."""
    SALIENCY.entry(method)  # an unknown name fails before the model is touched
    x = x.detach().clone().requires_grad_(True)
    return SALIENCY.call(method, model.eval(), x, target, **options)


def _numpy(t: torch.Tensor) -> np.ndarray:
    return t.detach().cpu().numpy()


@SALIENCY.register("max_gradient")
def max_gradient(model: nn.Module, x: torch.Tensor, target: int) -> np.ndarray:
    """The largest absolute input gradient over the colour channels."""
    return _numpy(Saliency(model).attribute(x, target=target, abs=False)[0].abs().amax(0))


@SALIENCY.register("gradient")
def gradient(model: nn.Module, x: torch.Tensor, target: int) -> np.ndarray:
    """The signed input gradient per RGB channel (3, H, W)."""
    return _numpy(Saliency(model).attribute(x, target=target, abs=False)[0])


@SALIENCY.register("smoothgrad")
def smoothgrad(
    model: nn.Module,
    x: torch.Tensor,
    target: int,
    *,
    samples: Annotated[int, Field(ge=1, le=256, description="noisy copies averaged")] = 16,
    seed: Annotated[int, Field(description="seed of the noise")] = 0,
) -> np.ndarray:
    """Absolute gradients averaged over noisy copies of the image (SmoothGrad)."""
    torch.manual_seed(seed)
    grad = NoiseTunnel(Saliency(model)).attribute(
        x, nt_type="smoothgrad", nt_samples=samples, stdevs=0.15, target=target, abs=True
    )[0]
    return _numpy(grad.amax(0))


@SALIENCY.register("integrated_gradients")
def integrated_gradients(
    model: nn.Module,
    x: torch.Tensor,
    target: int,
    baseline: torch.Tensor | None = None,
    *,
    steps: Annotated[int, Field(ge=2, le=512, description="steps of the path integral")] = 32,
) -> np.ndarray:
    """Gradients integrated along the path from a black image (the baseline) to the image."""
    reference = torch.zeros_like(x) if baseline is None else baseline
    attr = IntegratedGradients(model).attribute(
        x, baselines=reference, target=target, n_steps=steps
    )[0]
    return _numpy(attr.abs().sum(0))


@SALIENCY.register("guided_backprop")
def guided_backprop(model: nn.Module, x: torch.Tensor, target: int) -> np.ndarray:
    """Guided backpropagation: only positive gradients pass back through each ReLU."""
    return _numpy(GuidedBackprop(model).attribute(x, target=target)[0].abs().amax(0))


@SALIENCY.register("gradcam")
def gradcam(
    model: nn.Module,
    x: torch.Tensor,
    target: int,
    *,
    layer: Annotated[
        str | None, Field(description="the layer explained; default: the last convolution")
    ] = None,
) -> np.ndarray:
    """Grad-CAM: a convolution layer's activations weighted by their gradients, upsampled."""
    cam = LayerGradCam(model, find_layer(model, layer)).attribute(x, target=target)
    cam = LayerAttribution.interpolate(F.relu(cam), tuple(x.shape[-2:]), "bilinear")
    return _numpy(cam[0, 0])


def normalise(heat: np.ndarray) -> np.ndarray:
    """To [0, 1] by the 99th percentile, so one hot pixel does not flatten the rest."""
    top = float(np.percentile(heat, 99)) if heat.size else 0.0
    if top <= 0:
        top = float(heat.max()) if heat.size else 0.0
    return np.clip(heat / top, 0, 1) if top > 0 else np.zeros_like(heat)


def mass_in_mask(heat: np.ndarray, mask: np.ndarray) -> float | None:
    """The share of the (non-negative) saliency mass that falls inside the mask."""
    if heat.shape != mask.shape:
        raise DataError(
            f"the saliency map is {heat.shape} but the mask is {mask.shape}",
            "compare maps and masks at the image's native size",
        )
    total = float(np.abs(heat).sum())
    return None if total == 0 else float(np.abs(heat)[mask].sum()) / total
