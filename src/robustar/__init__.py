"""Robustar: find and fix what image models get wrong.

import robustar
ws = robustar.Workspace.open("my-workspace")
ws.images("test", correct=False, sort="loss", descending=True, limit=20)
"""

from robustar.config import WorkspaceConfig
from robustar.errors import RobustarError
from robustar.models.registry import create_model, list_models
from robustar.train.options import TrainOptions
from robustar.workspace import Workspace

__all__ = [
    "RobustarError",
    "TrainOptions",
    "Workspace",
    "WorkspaceConfig",
    "create_model",
    "list_models",
]
__version__ = "0.1.0"
