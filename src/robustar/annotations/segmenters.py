"""Mask proposals from a segmentation model, behind one interface.

Backends (the `SEGMENTERS` registry, chosen by [segmentation] backend): a torchvision
segmentation network with the user's checkpoint, or Segment Anything (the `segment-anything`
package) with the user's checkpoint and click prompts. No weights are
downloaded; both load with the same safe checkpoint loader as classifiers.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Protocol

import cv2
import numpy as np
import torch
from PIL import Image
from pydantic import BaseModel
from torch import nn

from robustar.config import SegmentationConfig
from robustar.errors import ConfigError, DataError
from robustar.models.checkpoint import apply_state_dict, load_weights, read_state_dict
from robustar.models.device import select_device
from robustar.registry import Registry, pick_options

Point = tuple[int, int]
HOW_TO = (
    'add a [segmentation] section to robustar.toml, e.g. backend = "torchvision", '
    'architecture = "deeplabv3_resnet50", num_classes = 21, checkpoint = "seg.pt"; or '
    'backend = "sam", model_type = "vit_b", checkpoint = "sam_vit_b.pth"'
)
_MEAN = torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1)
_STD = torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1)
MAX_SIDE = 1024


class Segmenter(Protocol):
    def propose(
        self, image: Image.Image, points: Sequence[Point], labels: Sequence[int]
    ) -> np.ndarray:
        """A boolean mask at the image's size; labels are 1 (include) or 0 (exclude)."""
        ...


class TorchvisionSegmenter:
    """The predicted class under the first positive click (or `target_class`), as the
    connected region that contains the click."""

    def __init__(
        self, model: nn.Module, device: torch.device, target_class: int | None = None
    ) -> None:
        self.model = model.eval().to(device)
        self.device = device
        self.target_class = target_class

    @torch.inference_mode()
    def class_map(self, image: Image.Image) -> np.ndarray:
        scale = min(1.0, MAX_SIDE / max(image.size))
        work = image.resize((round(image.width * scale), round(image.height * scale)))
        x = torch.from_numpy(np.asarray(work).copy()).permute(2, 0, 1)[None].float() / 255
        out = self.model(((x - _MEAN) / _STD).to(self.device))
        logits = out["out"] if isinstance(out, dict) else out
        classes = logits.argmax(1)[0].to(torch.int32).cpu().numpy()
        return cv2.resize(classes, image.size, interpolation=cv2.INTER_NEAREST)

    def propose(
        self, image: Image.Image, points: Sequence[Point], labels: Sequence[int]
    ) -> np.ndarray:
        classes = self.class_map(image)
        positive = [p for p, label in zip(points, labels, strict=True) if label == 1]
        if not positive:
            target = 0 if self.target_class is None else self.target_class
            return classes == target if self.target_class is not None else classes != 0
        x, y = _inside(positive[0], image)
        target = classes[y, x] if self.target_class is None else self.target_class
        region = (classes == target).astype(np.uint8)
        _, components = cv2.connectedComponents(region)
        return components == components[y, x] if region[y, x] else region.astype(bool)


class SamSegmenter:
    """Segment Anything with point prompts; the best of its three masks by predicted IoU."""

    def __init__(self, sam: nn.Module) -> None:
        from segment_anything import SamPredictor

        self.predictor = SamPredictor(sam.eval())

    def propose(
        self, image: Image.Image, points: Sequence[Point], labels: Sequence[int]
    ) -> np.ndarray:
        if not points:
            raise DataError("Segment Anything needs at least one click", "click on the region")
        self.predictor.set_image(np.asarray(image))
        masks, scores, _ = self.predictor.predict(
            point_coords=np.array([_inside(p, image) for p in points], dtype=np.float32),
            point_labels=np.array(labels, dtype=np.int32),
            multimask_output=True,
        )
        return masks[int(np.argmax(scores))].astype(bool)


def _inside(point: Point, image: Image.Image) -> tuple[int, int]:
    x, y = int(point[0]), int(point[1])
    if not (0 <= x < image.width and 0 <= y < image.height):
        raise DataError(f"the click ({x}, {y}) is outside the image", "click on the image")
    return x, y


SegmenterFactory = Callable[[SegmentationConfig, Path, str], Segmenter]
SEGMENTERS: Registry[SegmenterFactory] = Registry("segmentation backend")


def load_segmenter(config: SegmentationConfig | None, root: Path, device: str) -> Segmenter:
    if config is None:
        raise ConfigError("no segmentation model is configured", HOW_TO)
    if config.backend not in SEGMENTERS:
        raise ConfigError(
            f"[segmentation] backend: unknown backend {config.backend!r}",
            f"use one of {', '.join(SEGMENTERS)}",
        )
    checkpoint = Path(config.checkpoint).expanduser()
    checkpoint = checkpoint if checkpoint.is_absolute() else root / checkpoint
    if not checkpoint.is_file():
        raise ConfigError(
            f"[segmentation] checkpoint: {checkpoint} does not exist",
            "put the weights there or fix the path; nothing is downloaded",
        )
    return SEGMENTERS.get(config.backend)(config, checkpoint, device)


def _settings(*names: str) -> type[BaseModel]:
    """The [segmentation] settings a backend reads, as its published options."""
    return pick_options(SegmentationConfig, "checkpoint", *names, title="segmentation")


@SEGMENTERS.register("sam", "Segment Anything with click prompts", _settings("model_type"))
def sam(config: SegmentationConfig, checkpoint: Path, device: str) -> Segmenter:
    try:
        from segment_anything import sam_model_registry
    except ImportError:
        raise ConfigError(
            '[segmentation] backend "sam" needs the segment-anything package',
            "pip install 'robustar[sam]'",
        ) from None
    model = sam_model_registry[config.model_type](checkpoint=None)
    return SamSegmenter(load_weights(model, checkpoint, num_classes=-1))


@SEGMENTERS.register(
    "torchvision",
    "a torchvision segmentation network: the class under the click, as a connected region",
    _settings("architecture", "num_classes", "target_class"),
)
def torchvision_network(config: SegmentationConfig, checkpoint: Path, device: str) -> Segmenter:
    from torchvision import models

    names = models.list_models(module=models.segmentation)
    if config.architecture not in names:
        raise ConfigError(
            f"[segmentation] architecture: unknown model {config.architecture!r}",
            f"use one of {', '.join(names)}",
        )
    state = read_state_dict(checkpoint)
    model = models.get_model(
        config.architecture,
        weights=None,
        weights_backbone=None,
        num_classes=config.num_classes,
        aux_loss=any(key.startswith("aux_classifier.") for key in state) or None,
    )
    apply_state_dict(model, state, checkpoint, config.num_classes)
    return TorchvisionSegmenter(model, select_device(device), config.target_class)
