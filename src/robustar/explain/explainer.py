"""`Workspace.explain`: saliency maps at native size (cached), mass in masks, and
activation-maximisation images per class."""

from __future__ import annotations

import io
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import torch
from PIL import Image

from robustar.data.images import ImageStore
from robustar.data.transforms import to_native
from robustar.explain.activation import activation_maximisation
from robustar.explain.saliency import DEFAULT_METHOD, SALIENCY, mass_in_mask, normalise, saliency
from robustar.models.store import ModelStore
from robustar.predict.predictor import Predictor
from robustar.progress import ProgressCallback, report
from robustar.storage import atomic_bytes

# The current mask of (image id, kind), or None: given by a later stage (annotations), so that
# explanations can measure saliency inside painted pixels without importing that stage.
MaskLookup = Callable[[int, str], np.ndarray | None]


@dataclass(frozen=True, eq=False)
class SaliencyMap:
    """One image's saliency for one class, at the image's native size.

    Shapes: `map` is (H, W) float32 for every method, H the image's height and W its width
    in pixels (rows first, like the image as an array and its masks: `map[y, x]`), and
    non-negative; for `gradient`, whose map is signed per colour channel, `map` is the
    largest absolute gradient over the channels and `channels` keeps the signed (3, H, W)
    gradient (RGB first); `channels` is None for every other method.

    `target` is the class index explained (the predicted class unless one was asked for),
    `version` the model version, `layer` the Grad-CAM layer asked for (None: the last
    convolution; always None for the other methods)."""

    image_id: int
    method: str
    target: int
    version: int
    layer: str | None
    map: np.ndarray
    channels: np.ndarray | None = None

    @classmethod
    def of(
        cls,
        heat: np.ndarray,
        image_id: int,
        method: str,
        target: int,
        version: int,
        layer: str | None,
    ) -> SaliencyMap:
        """From a method's native-size map: (H, W), or (3, H, W) for a per-channel one."""
        heat = heat.astype(np.float32)
        flat = np.abs(heat).max(0) if heat.ndim == 3 else heat
        channels = heat if heat.ndim == 3 else None
        return cls(image_id, method, target, version, layer, flat, channels)


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
        method: str = DEFAULT_METHOD,
        target: int | str | None = None,
        version: int | None = None,
        layer: str | None = None,
    ) -> SaliencyMap:
        """The map at the image's native size (see `SaliencyMap` for its shape) of class
        `target` (default: the predicted class, read from the stored prediction when there is
        one). Cached per (version, image, method, target, layer); a cached map is read
        without decoding the image or running the model."""
        SALIENCY.entry(method)  # an unknown method fails before any work
        version_id = self._models.get(version).id
        layer = layer if method == "gradcam" else None
        if target is None:
            target = self._predictor.predicted(image_id, version_id)
        else:
            target = self._images.class_index(target)
        if target is not None:
            cached = self._cache_file(version_id, image_id, method, target, layer)
            if cached.is_file():
                return SaliencyMap.of(np.load(cached), image_id, method, target, version_id, layer)
        x = self._images.transform(self._images.load(image_id))[None]
        with self._lock:
            heat, target = self._compute(image_id, x, method, target, version_id, layer)
        return SaliencyMap.of(heat, image_id, method, target, version_id, layer)

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
        return native, target

    def render(self, found: SaliencyMap) -> bytes:
        """PNG whose alpha is the normalised saliency, ready to lay over the image (and to
        threshold): a signed per-channel gradient as RGB, any other map as a colour heat map."""
        heat = found.channels
        if heat is not None:
            scale = float(np.percentile(np.abs(heat), 99)) or 1.0
            rgb = np.clip(0.5 + 0.5 * heat / scale, 0, 1).transpose(1, 2, 0)
            level = (normalise(found.map) * 255).astype(np.uint8)
            image = Image.fromarray(np.dstack([(rgb * 255).astype(np.uint8), level]), "RGBA")
        else:
            level = (normalise(found.map) * 255).astype(np.uint8)
            colour = cv2.applyColorMap(level, cv2.COLORMAP_INFERNO)[..., ::-1]
            image = Image.fromarray(np.dstack([colour, level]), "RGBA")
        buffer = io.BytesIO()
        image.save(buffer, format="PNG")
        return buffer.getvalue()

    def mask_share(self, found: SaliencyMap, kind: str = "spurious") -> float | None:
        """Share of this map inside its image's current mask; None without a mask (or when
        the map is zero everywhere)."""
        mask = self._mask_of(found.image_id, kind)
        return None if mask is None else mass_in_mask(found.map, mask)

    def mass_in_mask(
        self,
        image_id: int,
        kind: str = "spurious",
        method: str = DEFAULT_METHOD,
        version: int | None = None,
        target: int | str | None = None,
        layer: str | None = None,
    ) -> float | None:
        """Share of the saliency inside the image's current mask; None without a mask."""
        mask = self._mask_of(image_id, kind)
        if mask is None:
            return None
        return mass_in_mask(self.saliency(image_id, method, target, version, layer).map, mask)

    def precompute(
        self,
        split: str,
        method: str = DEFAULT_METHOD,
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
