"""Saliency maps with one interface: `saliency(model, x, method, target)` -> (H, W) or (3, H, W).

`x` is one normalised image (1, 3, S, S) at the model's input size. Methods: `gradient` (the
signed gradient per RGB channel), `max_gradient` (largest absolute gradient over channels),
`smoothgrad`, `integrated_gradients`, `guided_backprop` and `gradcam` (Captum's
implementations); every method but `gradient` returns a non-negative (S, S) map.
"""

from __future__ import annotations

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
from torch import nn

from robustar.errors import DataError

METHODS = (
    "gradient",
    "max_gradient",
    "smoothgrad",
    "integrated_gradients",
    "guided_backprop",
    "gradcam",
)


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
    model: nn.Module,
    x: torch.Tensor,
    method: str,
    target: int,
    baseline: torch.Tensor | None = None,
    layer: str | None = None,
    samples: int = 16,
    seed: int = 0,
) -> np.ndarray:
    if method not in METHODS:
        raise DataError(f"unknown saliency method {method!r}", f"use one of {', '.join(METHODS)}")
    model = model.eval()
    x = x.detach().clone().requires_grad_(True)
    if method in ("gradient", "max_gradient"):
        grad = Saliency(model).attribute(x, target=target, abs=False)[0]
        if method == "gradient":
            return grad.detach().cpu().numpy()
        return grad.abs().amax(0).detach().cpu().numpy()
    if method == "smoothgrad":
        torch.manual_seed(seed)
        tunnel = NoiseTunnel(Saliency(model))
        grad = tunnel.attribute(
            x, nt_type="smoothgrad", nt_samples=samples, stdevs=0.15, target=target, abs=True
        )[0]
        return grad.amax(0).detach().cpu().numpy()
    if method == "integrated_gradients":
        reference = torch.zeros_like(x) if baseline is None else baseline
        attr = IntegratedGradients(model).attribute(
            x, baselines=reference, target=target, n_steps=32
        )[0]
        return attr.abs().sum(0).detach().cpu().numpy()
    if method == "guided_backprop":
        attr = GuidedBackprop(model).attribute(x, target=target)[0]
        return attr.abs().amax(0).detach().cpu().numpy()
    cam = LayerGradCam(model, find_layer(model, layer)).attribute(x, target=target)
    cam = LayerAttribution.interpolate(F.relu(cam), tuple(x.shape[-2:]), "bilinear")
    return cam[0, 0].detach().cpu().numpy()


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
