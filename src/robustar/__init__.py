"""Robustar: find and fix what image models get wrong.

import robustar
ws = robustar.Workspace.open("my-workspace")
ws.view("test").wrong().sort_by("loss", reverse=True).take(20)  # lazy; iterate for Samples

The names below are imported on first use, so that `import robustar.cli` (and so
`robustar --help`) does not import torch.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from robustar.config import WorkspaceConfig as WorkspaceConfig
    from robustar.data.propose import propose_model as propose_model
    from robustar.errors import RobustarError as RobustarError
    from robustar.models.registry import create_model as create_model
    from robustar.models.registry import list_models as list_models
    from robustar.train.options import TrainOptions as TrainOptions
    from robustar.train.search import SearchOptions as SearchOptions
    from robustar.workspace import Workspace as Workspace

_MODULES = {
    "RobustarError": "robustar.errors",
    "SearchOptions": "robustar.train.search",
    "TrainOptions": "robustar.train.options",
    "Workspace": "robustar.workspace",
    "WorkspaceConfig": "robustar.config",
    "create_model": "robustar.models.registry",
    "list_models": "robustar.models.registry",
    "propose_model": "robustar.data.propose",
}
__all__ = sorted(_MODULES)
__version__ = "0.1.0"


def __getattr__(name: str) -> object:
    if name not in _MODULES:
        raise AttributeError(f"module 'robustar' has no attribute {name!r}")
    value = getattr(importlib.import_module(_MODULES[name]), name)
    globals()[name] = value  # found directly from now on
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_MODULES])
