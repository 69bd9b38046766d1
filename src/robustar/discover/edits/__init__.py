"""Attribute edits (ImageNet-E, offline): change one attribute of an image's object or its
background (remove, complexity, replacement, size, position, rotation; identity as the
control), and measure how a model's accuracy drops."""

from robustar.discover.edits.apply import EditSpec, apply, check_options, make_backend
from robustar.discover.edits.catalogue import EDITS, Edited, Scene
from robustar.discover.edits.inpaint import BACKENDS, Backend
from robustar.discover.edits.skips import EditSkipped

__all__ = [
    "BACKENDS",
    "EDITS",
    "Backend",
    "EditSkipped",
    "EditSpec",
    "Edited",
    "Scene",
    "apply",
    "check_options",
    "make_backend",
]
