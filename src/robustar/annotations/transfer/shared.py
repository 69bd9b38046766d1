"""What the formats share: an exported item, a mask found in an import source (decoded once
its image, and so its size, is known), the category check."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from robustar.errors import DataError

Item = tuple[int, str, np.ndarray]  # exported: image id, image name, mask
Decoder = Callable[[int, int], np.ndarray]  # (width, height) -> bool mask


@dataclass(frozen=True)
class Found:
    name: str  # the image name the source gives
    where: str  # the place in the source, for messages
    decode: Decoder


def check_categories(wanted: str, found: set[str], source: str, what: str) -> None:
    """An unknown category is an error that lists those the source has."""
    if wanted not in found:
        listed = ", ".join(sorted(found)) or "none"
        raise DataError(
            f"{source} has no {what} {wanted!r} (it has: {listed})",
            "name the one to read with --category (REST: category=); default: the mask kind",
        )
