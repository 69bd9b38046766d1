"""`Workspace.explain`: saliency maps at native size (cached), mass in masks, and
activation-maximisation images per class."""

from __future__ import annotations

import io
import threading
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np
import torch
from PIL import Image

from robustar.data.images import ImageStore
from robustar.data.transforms import to_native
from robustar.errors import DataError
from robustar.explain.activation import activation_maximisation
from robustar.explain.saliency import METHODS, mass_in_mask, normalise, saliency
from robustar.models.store import ModelStore
from robustar.predict.predictor import Predictor
from robustar.progress import ProgressCallback, report
from robustar.storage import atomic_bytes

# The current mask of (image id, kind), or None: given by a later stage (annotations), so that
# explanations can measure saliency inside painted pixels without importing that stage.
MaskLookup = Callable[[int, str], np.ndarray | None]


def share_inside(heat: np.ndarray, mask: np.ndarray) -> float | None:
    """Share of a map's mass inside a mask (a signed gradient counts by its largest channel);
    None when the map is zero everywhere."""
    return mass_in_mask(np.abs(heat).max(0) if heat.ndim == 3 else heat, mask)


class Explain:
    def __init__(
        self,
        images: ImageStore,
        models: ModelStore,
        predictor: Predictor,
        cache: Path,
        mask_of: MaskLookup,
    ) -> None:
        self._images = images
        self._models = models
        self._predictor = predictor
        self._cache = cache
        self._mask_of = mask_of
        self._loaded: dict[tuple[int, torch.device], torch.nn.Module] = {}
        # Some methods (guided backprop, Grad-CAM) put hooks on the shared model: one at a time.
        self._lock = threading.Lock()

    def _model(self, version: int) -> torch.nn.Module:
        """The version's network on the workspace's device (one version kept loaded)."""
        key = (version, self._models.device)
        if key not in self._loaded:
            self._loaded = {key: self._models.load(version).eval().to(key[1])}
        return self._loaded[key]

    def _cache_file(self, version: int, image_id: int, method: str, target: int, layer: str | None):
        name = f"{layer or 'auto'}" if method == "gradcam" else "map"
        return (
            self._cache
            / "saliency"
            / f"v{version}"
            / method
            / str(target)
            / f"{image_id}-{name}.npy"
        )

    def saliency(
        self,
        image_id: int,
        method: str = "max_gradient",
        target: int | str | None = None,
        version: int | None = None,
        layer: str | None = None,
    ) -> tuple[np.ndarray, int]:
        """The map at the image's native size, and the class it explains (default: the
        predicted class, read from the stored prediction when there is one). Cached per
        (version, image, method, target, layer); a cached map is read without decoding the
        image or running the model."""
        if method not in METHODS:
            raise DataError(
                f"unknown saliency method {method!r}", f"use one of {', '.join(METHODS)}"
            )
        version_id = self._models.get(version).id
        if target is None:
            target = self._predictor.predicted(image_id, version_id)
        else:
            target = self._images.class_index(target)
        if target is not None:
            cached = self._cache_file(version_id, image_id, method, target, layer)
            if cached.is_file():
                return np.load(cached).astype(np.float32), target
        x = self._images.transform(self._images.load(image_id))[None]
        with self._lock:
            return self._compute(image_id, x, method, target, version_id, layer)

    def _compute(
        self,
        image_id: int,
        x: torch.Tensor,
        method: str,
        target: int | None,
        version: int,
        layer: str | None,
    ) -> tuple[np.ndarray, int]:
        model = self._model(version)
        x = x.to(next(model.parameters()).device)
        if target is None:  # never predicted: the model's prediction now
            with torch.no_grad():
                target = int(model(x).argmax(1))
        baseline = self._images.transform.normalise_pixels(torch.zeros_like(x))
        heat = saliency(model, x, method, target, baseline=baseline, layer=layer)
        record = self._images.record(image_id)
        size, policy = self._images.config.size, self._images.config.resize
        if heat.ndim == 3:
            native = np.stack(
                [to_native(c, record.width, record.height, size, policy) for c in heat]
            )
        else:
            native = to_native(heat, record.width, record.height, size, policy)
        buffer = io.BytesIO()
        np.save(buffer, native.astype(np.float16))
        atomic_bytes(self._cache_file(version, image_id, method, target, layer), buffer.getvalue())
        return native.astype(np.float32), target

    def render(self, heat: np.ndarray) -> bytes:
        """PNG whose alpha is the normalised saliency, ready to lay over the image (and to
        threshold): a signed per-channel gradient as RGB, any other map as a colour heat map."""
        if heat.ndim == 3:
            scale = float(np.percentile(np.abs(heat), 99)) or 1.0
            rgb = np.clip(0.5 + 0.5 * heat / scale, 0, 1).transpose(1, 2, 0)
            level = (normalise(np.abs(heat).max(0)) * 255).astype(np.uint8)
            image = Image.fromarray(np.dstack([(rgb * 255).astype(np.uint8), level]), "RGBA")
        else:
            level = (normalise(heat) * 255).astype(np.uint8)
            colour = cv2.applyColorMap(level, cv2.COLORMAP_INFERNO)[..., ::-1]
            image = Image.fromarray(np.dstack([colour, level]), "RGBA")
        buffer = io.BytesIO()
        image.save(buffer, format="PNG")
        return buffer.getvalue()

    def mask_share(self, heat: np.ndarray, image_id: int, kind: str = "spurious") -> float | None:
        """Share of this map inside the image's current mask; None without a mask."""
        mask = self._mask_of(image_id, kind)
        return None if mask is None else share_inside(heat, mask)

    def mass_in_mask(
        self,
        image_id: int,
        kind: str = "spurious",
        method: str = "max_gradient",
        version: int | None = None,
        target: int | str | None = None,
        layer: str | None = None,
    ) -> float | None:
        """Share of the saliency inside the image's current mask; None without a mask."""
        mask = self._mask_of(image_id, kind)
        if mask is None:
            return None
        heat, _ = self.saliency(image_id, method, target, version, layer)
        return share_inside(heat, mask)

    def precompute(
        self,
        split: str,
        method: str = "max_gradient",
        version: int | None = None,
        progress: ProgressCallback = None,
    ) -> int:
        """Fill the cache for a split (the predicted class of each image)."""
        ids = self._images.dataset(split).ids
        for done, image_id in enumerate(ids, 1):
            self.saliency(image_id, method, None, version)
            report(progress, f"saliency {split}", done, len(ids))
        return len(ids)

    def activation_maximisation(self, target: int | str, version: int | None = None) -> bytes:
        """A PNG at the model's input size that the version scores as `target` (cached)."""
        index = self._images.class_index(target)
        assert index is not None
        model_version = self._models.get(version).id
        path = self._cache / "activation" / f"v{model_version}" / f"{index}.png"
        if not path.is_file():
            config = self._images.config
            with self._lock:
                image = activation_maximisation(
                    self._model(model_version), index, config.size, config.mean, config.std
                )
            buffer = io.BytesIO()
            image.save(buffer, format="PNG")
            atomic_bytes(path, buffer.getvalue())
        return path.read_bytes()
