"""A torch Dataset over indexed images: holds ids and paths, decodes one image per item."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import torch
from torch.utils.data import Dataset

from robustar.data.imageio import ImageDecodeError, Reading, load_image, unreadable

UNLABELLED = -1


@dataclass(frozen=True)
class IndexedImage:
    id: int
    path: Path
    label: int | None


class ImageDataset(Dataset):
    """Items are (image tensor, label or -1, image id)."""

    def __init__(
        self,
        items: Sequence[IndexedImage],
        transform: Callable[..., torch.Tensor],
        reading: Reading,
    ) -> None:
        self.ids = [item.id for item in items]
        self.paths = [str(item.path) for item in items]
        self.labels = [UNLABELLED if item.label is None else item.label for item in items]
        self.transform = transform
        self.reading = reading

    def __len__(self) -> int:
        return len(self.ids)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, int, int]:
        path = Path(self.paths[index])
        try:
            image = load_image(path, self.reading)
        except (OSError, ImageDecodeError) as error:
            raise unreadable(self.ids[index], error) from None
        return self.transform(image), self.labels[index], self.ids[index]
