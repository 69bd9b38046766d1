"""Other images' backgrounds for the `background` edit, kept as the benchmark streams."""

from __future__ import annotations

from collections import deque

import cv2
import numpy as np

from robustar.discover.edits.catalogue import Donor

POOL = 32  # backgrounds kept: enough variety, bounded memory


class DonorPool:
    """The last few backgrounds seen (each an image with its object in-painted away);
    `donor(key)` lends one of another image, resized to the asking image's size."""

    def __init__(self, size: int = POOL) -> None:
        self._items: deque[tuple[int, np.ndarray]] = deque(maxlen=size)

    def add(self, key: int, background: np.ndarray) -> None:
        self._items.append((key, background))

    def donor(self, key: int, shape: tuple[int, int]) -> Donor:
        def lend(rng: np.random.Generator) -> np.ndarray | None:
            others = [b for k, b in self._items if k != key]
            if not others:
                return None
            chosen = others[int(rng.integers(0, len(others)))]
            height, width = shape
            return cv2.resize(chosen, (width, height), interpolation=cv2.INTER_LINEAR)

        return lend
