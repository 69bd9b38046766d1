"""A model version as a function: RGB uint8 images -> class probabilities, batched; with
ten-crop test-time augmentation as an option."""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image
from torch import nn
from torchvision.transforms.v2 import functional as TF

from robustar.data.transforms import ModelInput
from robustar.discover.edits.benchmark import Classify
from robustar.models.store import ModelStore

BATCH = 128
CROP_RATIO = 0.875  # ImageNet's ten-crop: resize to 256, crop 224


def ten_crop(network: nn.Module, batch: torch.Tensor) -> torch.Tensor:
    """Softmax averaged over ten crops (four corners, the centre, and their mirror images)
    of the batch enlarged by 1 / CROP_RATIO, so each crop has the model's input size."""
    height, width = batch.shape[-2:]
    enlarged = F.interpolate(
        batch,
        size=(round(height / CROP_RATIO), round(width / CROP_RATIO)),
        mode="bilinear",
        align_corners=False,
    )
    crops = torch.cat(TF.ten_crop(enlarged, [height, width]))  # (10 N, C, H, W)
    probabilities = torch.softmax(network(crops).float(), dim=1)
    return probabilities.view(10, len(batch), -1).mean(0)


def classifier(
    models: ModelStore, transform: ModelInput, version: int | None, tta: bool = False
) -> Classify:
    """The version's network on the configured device, behind the workspace's transform;
    `tta`: ten-crop test-time augmentation."""
    device = models.device
    network = models.load(version).to(device).eval()

    def classify(images: list[np.ndarray]) -> np.ndarray:
        out = []
        with torch.inference_mode():
            for start in range(0, len(images), BATCH):
                chunk = images[start : start + BATCH]
                batch = torch.stack([transform(Image.fromarray(i)) for i in chunk]).to(device)
                found = ten_crop(network, batch) if tta else network(batch).float().softmax(1)
                out.append(found.cpu().numpy())
        return np.concatenate(out)

    return classify
