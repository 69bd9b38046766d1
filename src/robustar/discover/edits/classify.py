"""A model version as a function: RGB uint8 images -> class probabilities, batched."""

from __future__ import annotations

import numpy as np
import torch
from PIL import Image

from robustar.data.transforms import ModelInput
from robustar.discover.edits.benchmark import Classify
from robustar.models.store import ModelStore

BATCH = 128


def classifier(models: ModelStore, transform: ModelInput, version: int | None) -> Classify:
    """The version's network on the configured device, behind the workspace's transform."""
    device = models.device
    network = models.load(version).to(device).eval()

    def classify(images: list[np.ndarray]) -> np.ndarray:
        out = []
        with torch.inference_mode():
            for start in range(0, len(images), BATCH):
                chunk = images[start : start + BATCH]
                batch = torch.stack([transform(Image.fromarray(i)) for i in chunk]).to(device)
                out.append(torch.softmax(network(batch).float(), dim=1).cpu().numpy())
        return np.concatenate(out)

    return classify
