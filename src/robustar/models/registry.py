"""One entry point, `create_model(name, num_classes)`, for every model source.

Names:
- a built-in network (`small_cnn`, `tiny_cnn`, `small_unet`, `tiny_unet`), registered with
  `register`;
- a torchvision classification architecture (`resnet18`, or explicitly `torchvision/resnet18`)
  or segmentation architecture (`fcn_resnet50`, `deeplabv3_mobilenet_v3_large`,
  `lraspp_mobilenet_v3_large`, ...);
- a timm architecture when timm is installed (`timm/resnet18`);
- a segmentation-models-pytorch architecture when it is installed (`smp/unet`, `smp/fpn`, with
  an encoder: `smp/unet/resnet18`);
- the user's own code, `package.module:callable`, called with `num_classes=`.
No weights are downloaded: starting weights come from a local checkpoint.

Every name has a task: a classifier gives logits [N, C], a segmenter logits [N, C, H, W] at the
input's size (torchvision's segmenters return a dict; theirs is unwrapped). `create_model`
refuses a model of the other task, so a classification workspace never trains a segmenter by
mistake; a user's callable is a classifier unless it has an attribute `task = "segmentation"`.

Only the first four are *registered* (`is_registered`): a name from outside the server machine
(HTTP) must be one of those, since a `module:callable` imports and runs code.
"""

from __future__ import annotations

import importlib
import inspect
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

import torch
from torch import nn

from robustar.errors import ConfigError
from robustar.models.builtin import small_cnn, small_unet, tiny_cnn, tiny_unet

ModelFactory = Callable[..., nn.Module]
Task = Literal["classification", "segmentation"]
CLASSIFICATION: Task = "classification"
SEGMENTATION: Task = "segmentation"


@dataclass(frozen=True)
class _Resolved:
    factory: ModelFactory
    task: Task


_BUILTIN: dict[str, _Resolved] = {}


def register(name: str, factory: ModelFactory, task: Task = CLASSIFICATION) -> None:
    _BUILTIN[name] = _Resolved(factory, task)


register("small_cnn", small_cnn)
register("tiny_cnn", tiny_cnn)
register("small_unet", small_unet, SEGMENTATION)
register("tiny_unet", tiny_unet, SEGMENTATION)


def _torchvision_names(task: Task = CLASSIFICATION) -> list[str]:
    from torchvision import models

    module = models if task == CLASSIFICATION else models.segmentation
    return sorted(models.list_models(module=module))


def _torchvision(name: str) -> _Resolved:
    from torchvision import models

    if name in _torchvision_names(CLASSIFICATION):
        return _Resolved(
            lambda num_classes: models.get_model(name, weights=None, num_classes=num_classes),
            CLASSIFICATION,
        )
    if name in _torchvision_names(SEGMENTATION):

        def segmenter(num_classes: int) -> nn.Module:
            model = models.get_model(
                name, weights=None, weights_backbone=None, num_classes=num_classes, aux_loss=False
            )
            model.__class__ = _logits_only(type(model))
            return model

        return _Resolved(segmenter, SEGMENTATION)
    raise _unknown(name)


_LOGITS_ONLY: dict[type[nn.Module], type[nn.Module]] = {}


def _logits_only(base: type[nn.Module]) -> type[nn.Module]:
    """A subclass of a torchvision segmenter whose forward returns the logits tensor (its
    dict's "out"): same parameters and state-dict keys, so torchvision checkpoints still load.
    One per class, made once."""
    if base not in _LOGITS_ONLY:

        def forward(self: nn.Module, x: torch.Tensor) -> torch.Tensor:
            out: torch.Tensor = base.forward(self, x)["out"]
            return out

        name, namespace = base.__name__, {"forward": forward, "__module__": __name__}
        _LOGITS_ONLY[base] = type(name, (base,), namespace)
    return _LOGITS_ONLY[base]


def _smp(rest: str) -> _Resolved:
    try:
        import segmentation_models_pytorch as smp
    except ImportError:
        raise ConfigError(
            f"[model] architecture: 'smp/{rest}' needs segmentation-models-pytorch, which is "
            "not installed",
            "pip install 'robustar[smp]'",
        ) from None
    arch, _, encoder = rest.partition("/")
    names = getattr(smp, "__all__", dir(smp))
    known = {a.lower() for a in names if isinstance(getattr(smp, a, None), type)}
    if arch.lower() not in known:
        raise ConfigError(
            f"[model] architecture: segmentation-models-pytorch has no architecture {arch!r}",
            "use smp/unet, smp/fpn (or another smp architecture), optionally /<encoder>",
        )

    def build(num_classes: int) -> nn.Module:
        try:
            model: nn.Module = smp.create_model(
                arch, encoder_name=encoder or "resnet34", encoder_weights=None, classes=num_classes
            )
        except (KeyError, ValueError) as error:
            raise ConfigError(
                f"[model] architecture: smp/{rest}: {error}",
                "choose an encoder that smp.encoders.get_encoder_names() lists",
            ) from None
        return model

    return _Resolved(build, SEGMENTATION)


def _timm(name: str) -> _Resolved:
    try:
        import timm
    except ImportError:
        raise ConfigError(
            f"[model] architecture: {name!r} needs timm, which is not installed",
            "pip install 'robustar[timm]'",
        ) from None
    if not timm.is_model(name):
        raise ConfigError(
            f"[model] architecture: timm has no model named {name!r}",
            "see timm.list_models() for the names",
        )
    return _Resolved(
        lambda num_classes: timm.create_model(name, pretrained=False, num_classes=num_classes),
        CLASSIFICATION,
    )


def _user(target: str) -> _Resolved:
    module_name, _, attr = target.partition(":")
    try:
        module = importlib.import_module(module_name)
        factory = getattr(module, attr)
    except (ImportError, AttributeError) as error:
        raise ConfigError(
            f"[model] architecture: cannot import {target!r}: {error}",
            "give 'package.module:callable' for a module on PYTHONPATH (or installed)",
        ) from None
    if not callable(factory):
        raise ConfigError(f"[model] architecture: {target!r} is not callable", "name a function")
    task = getattr(factory, "task", CLASSIFICATION)
    return _Resolved(factory, SEGMENTATION if task == SEGMENTATION else CLASSIFICATION)


def _unknown(name: str) -> ConfigError:
    return ConfigError(
        f"[model] architecture: unknown model {name!r}",
        f"use a built-in ({', '.join(sorted(_BUILTIN))}), a torchvision name such as resnet18, "
        "timm/<name>, or package.module:callable",
    )


def _resolve(name: str) -> _Resolved:
    if ":" in name:
        return _user(name)
    source, slash, rest = name.partition("/")
    if slash:
        if source == "timm":
            return _timm(rest)
        if source == "torchvision":
            return _torchvision(rest)
        if source == "smp":
            return _smp(rest)
        raise _unknown(name)
    if name in _BUILTIN:
        return _BUILTIN[name]
    return _torchvision(name)


def _for_task(name: str, task: Task) -> _Resolved:
    resolved = _resolve(name)
    if resolved.task != task:
        raise ConfigError(
            f"[model] architecture: {name!r} is a {resolved.task} model, and this is a {task} task",
            f"choose a {task} architecture: {', '.join(list_models(task)['builtin'])}, "
            + (
                "a torchvision name such as resnet18"
                if task == CLASSIFICATION
                else "a torchvision segmenter such as fcn_resnet50, smp/unet"
            ),
        )
    return resolved


def model_task(name: str) -> Task:
    """Whether `name` builds a classifier or a segmenter."""
    return _resolve(name).task


def check_name(name: str, task: Task = CLASSIFICATION) -> None:
    """Raise ConfigError unless `name` resolves to a factory of `task` (without building)."""
    _for_task(name, task)


def create_model(name: str, num_classes: int, task: Task = CLASSIFICATION) -> nn.Module:
    factory = _for_task(name, task).factory
    accepts = "num_classes" in inspect.signature(factory).parameters
    model = factory(num_classes=num_classes) if accepts else factory()
    if not isinstance(model, nn.Module):
        raise ConfigError(
            f"[model] architecture: {name!r} returned {type(model).__name__}, not a torch module",
            "make the callable return an nn.Module",
        )
    return model


def is_registered(name: str) -> bool:
    """Whether `name` is a built-in, torchvision, (installed) timm or smp architecture, of
    either task: a name that selects code already shipped, never a `module:callable` that
    would import any module."""
    if ":" in name:
        return False
    try:
        _resolve(name)
    except ConfigError:
        return False
    return True


def check_registered(name: str, task: Task = CLASSIFICATION) -> str:
    """`name` if `is_registered` and of `task`, else a ConfigError saying what a remote
    client may name."""
    if not is_registered(name):
        raise ConfigError(
            f"architecture {name!r} is not registered",
            f"name a built-in ({', '.join(list_models(task)['builtin'])}), a torchvision "
            "architecture such as resnet18, or timm/<name>; a package.module:callable is "
            "accepted only from the CLI or Python on the server machine",
        )
    _for_task(name, task)
    return name


def list_models(task: Task = CLASSIFICATION) -> dict[str, list[str]]:
    """Known names of `task` per source (timm, smp only when installed)."""
    builtin = sorted(n for n, r in _BUILTIN.items() if r.task == task)
    names = {"builtin": builtin, "torchvision": _torchvision_names(task)}
    try:
        if task == CLASSIFICATION:
            import timm

            names["timm"] = [f"timm/{n}" for n in timm.list_models()]
        else:
            import segmentation_models_pytorch  # noqa: F401

            names["smp"] = ["smp/unet", "smp/fpn", "smp/unetplusplus", "smp/deeplabv3plus"]
    except ImportError:
        pass
    return names
