"""A torch Dataset of images and their label maps, both brought to the model's input size by
the same `[image]` resize policy (label maps with nearest-neighbour, so no class is blended)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch
from PIL import Image
from torch.utils.data import Dataset

from robustar.config import ImageConfig
from robustar.data.imageio import ImageDecodeError, Reading, load_image
from robustar.data.labelmaps import LabelClasses, LabelledImage, read_pair
from robustar.data.transforms import ModelInput, fit_to_size
from robustar.errors import DataError


class LabelMapDataset(Dataset):
    """Items are (image tensor [3, S, S], label map [S, S] int64, index). An image without a
    label map (a pool image: a plain path) gets a map of the ignore index. Padding (`pad`)
    is ignored too, never background."""

    def __init__(
        self,
        items: Sequence[LabelledImage | Path],
        classes: LabelClasses,
        image: ImageConfig,
        reading: Reading | None = None,
    ) -> None:
        self.items = list(items)
        self.classes = classes
        self.image = image
        self.reading = reading or Reading()
        self.to_input = ModelInput(image)
        # label maps are resized shifted by one, so that the 0 the padding adds means "ignore"
        self.shift = ((np.arange(256) + 1) % 256).astype(np.uint8)
        self.shift[classes.ignore_index] = 0

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, torch.Tensor, int]:
        item = self.items[index]
        path = item.image if isinstance(item, LabelledImage) else item
        try:
            picture = load_image(path, self.reading)
        except (OSError, ImageDecodeError) as error:
            raise DataError(f"image {path} cannot be read: {error}", "replace the file") from None
        size = self.image.size
        if not isinstance(item, LabelledImage):
            labels = torch.full((size, size), self.classes.ignore_index, dtype=torch.int64)
            return self.to_input(picture), labels, index
        shifted = Image.fromarray(self.shift[read_pair(item, self.classes)])
        fitted = np.asarray(
            fit_to_size(shifted, size, self.image.resize, Image.Resampling.NEAREST), np.int64
        )
        indices = np.where(fitted == 0, self.classes.ignore_index, fitted - 1)
        return self.to_input(picture), torch.from_numpy(indices), index
