"""One entry point, `create_model(name, num_classes)`, for every model source.

Names:
- a built-in network (`small_cnn`, `tiny_cnn`), registered with `@register`;
- a torchvision classification architecture (`resnet18`, or explicitly `torchvision/resnet18`);
- a timm architecture when timm is installed (`timm/resnet18`);
- the user's own code, `package.module:callable`, called with `num_classes=`.
No weights are downloaded: starting weights come from a local checkpoint.

Only the first three are *registered* (`is_registered`): a name from outside the server machine
(HTTP) must be one of those, since a `module:callable` imports and runs code.
"""

from __future__ import annotations

import importlib
import inspect
from collections.abc import Callable

from torch import nn

from robustar.errors import ConfigError
from robustar.models.builtin import small_cnn, tiny_cnn

ModelFactory = Callable[..., nn.Module]
_BUILTIN: dict[str, ModelFactory] = {}


def register(name: str, factory: ModelFactory) -> None:
    _BUILTIN[name] = factory


register("small_cnn", small_cnn)
register("tiny_cnn", tiny_cnn)


def _torchvision_names() -> list[str]:
    from torchvision import models

    return sorted(models.list_models(module=models))


def _torchvision(name: str) -> ModelFactory:
    from torchvision import models

    if name not in _torchvision_names():
        raise _unknown(name)
    return lambda num_classes: models.get_model(name, weights=None, num_classes=num_classes)


def _timm(name: str) -> ModelFactory:
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
    return lambda num_classes: timm.create_model(name, pretrained=False, num_classes=num_classes)


def _user(target: str) -> ModelFactory:
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
    return factory


def _unknown(name: str) -> ConfigError:
    return ConfigError(
        f"[model] architecture: unknown model {name!r}",
        f"use a built-in ({', '.join(sorted(_BUILTIN))}), a torchvision name such as resnet18, "
        "timm/<name>, or package.module:callable",
    )


def _resolve(name: str) -> ModelFactory:
    if ":" in name:
        return _user(name)
    source, slash, rest = name.partition("/")
    if slash:
        if source == "timm":
            return _timm(rest)
        if source == "torchvision":
            return _torchvision(rest)
        raise _unknown(name)
    if name in _BUILTIN:
        return _BUILTIN[name]
    return _torchvision(name)


def check_name(name: str) -> None:
    """Raise ConfigError unless `name` resolves to a factory (without building the model)."""
    _resolve(name)


def create_model(name: str, num_classes: int) -> nn.Module:
    factory = _resolve(name)
    accepts = "num_classes" in inspect.signature(factory).parameters
    model = factory(num_classes=num_classes) if accepts else factory()
    if not isinstance(model, nn.Module):
        raise ConfigError(
            f"[model] architecture: {name!r} returned {type(model).__name__}, not a torch module",
            "make the callable return an nn.Module",
        )
    return model


def is_registered(name: str) -> bool:
    """Whether `name` is a built-in, torchvision or (installed) timm architecture: a name that
    selects code already shipped, never a `module:callable` that would import any module."""
    if ":" in name:
        return False
    try:
        _resolve(name)
    except ConfigError:
        return False
    return True


def check_registered(name: str) -> str:
    """`name` if `is_registered`, else a ConfigError saying what a remote client may name."""
    if not is_registered(name):
        raise ConfigError(
            f"architecture {name!r} is not registered",
            f"name a built-in ({', '.join(sorted(_BUILTIN))}), a torchvision architecture such "
            "as resnet18, or timm/<name>; a package.module:callable is accepted only from the "
            "CLI or Python on the server machine",
        )
    return name


def list_models() -> dict[str, list[str]]:
    """Known names per source (timm only when installed)."""
    names = {"builtin": sorted(_BUILTIN), "torchvision": _torchvision_names()}
    try:
        import timm

        names["timm"] = [f"timm/{n}" for n in timm.list_models()]
    except ImportError:
        pass
    return names
