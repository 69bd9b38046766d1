"""Models: the architecture registry, safe checkpoint loading and device selection."""

from robustar.models.registry import create_model, list_models

__all__ = ["create_model", "list_models"]
