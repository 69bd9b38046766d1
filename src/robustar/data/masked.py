"""Training items with their spurious masks, transformed exactly like their images."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from PIL import Image
from torch.utils.data import Dataset

from robustar.data.dataset import ImageDataset
from robustar.data.transforms import fit_to_size


class MaskedDataset(Dataset):
    """Items are (image, label, image id, mask (1, H, W) in {0, 1}; zeros when unannotated)."""

    def __init__(self, base: ImageDataset, masks: dict[int, Path], size: int, policy: str):
        self.base, self.masks, self.size, self.policy = base, masks, size, policy

    def __len__(self) -> int:
        return len(self.base)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, int, int, torch.Tensor]:
        image, label, image_id = self.base[index]
        path = self.masks.get(image_id)
        if path is None:
            return image, label, image_id, torch.zeros(1, *image.shape[1:])
        with Image.open(path) as mask:
            fitted = fit_to_size(
                mask.convert("L"), self.size, self.policy, Image.Resampling.NEAREST
            )
        array = np.asarray(fitted, dtype=np.float32)[None] > 127
        return image, label, image_id, torch.from_numpy(array.astype(np.float32))
