"""Choose the torch device: cuda, then mps, then cpu, unless the configuration names one."""

from __future__ import annotations

import torch

from robustar.errors import ConfigError


def select_device(requested: str = "auto") -> torch.device:
    if requested == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        if torch.backends.mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    available = {
        "cpu": True,
        "cuda": torch.cuda.is_available(),
        "mps": torch.backends.mps.is_available(),
    }
    if not available.get(requested, False):
        raise ConfigError(
            f"[runtime] device: {requested!r} is not available on this machine",
            'set device = "auto" (or "cpu") in robustar.toml, or pass --device cpu',
        )
    return torch.device(requested)
