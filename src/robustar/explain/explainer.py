"""`Workspace.explain`: saliency maps at native size (cached), mass in masks, and
activation-maximisation images per class."""

from __future__ import annotations

import io
import os
import threading
import uuid
from pathlib import Path
from typing import TYPE_CHECKING

import cv2
import numpy as np
import torch
from PIL import Image

from robustar.annotations.store import current_row
from robustar.data.transforms import to_native
from robustar.explain.activation import activation_maximisation
from robustar.explain.saliency import SALIENCY, mass_in_mask, normalise, saliency
from robustar.media import CACHE_DIR
from robustar.progress import ProgressCallback, report

if TYPE_CHECKING:
    from robustar.workspace import Workspace


def _atomic_bytes(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{uuid.uuid4().hex}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


class Explain:
    def __init__(self, workspace: Workspace) -> None:
        self._ws = workspace
        self._models: dict[tuple[int, torch.device], torch.nn.Module] = {}
        # Some methods (guided backprop, Grad-CAM) put hooks on the shared model: one at a time.
        self._lock = threading.Lock()

    def _model(self, version: int) -> torch.nn.Module:
        """The version's network on the workspace's device (one version kept loaded)."""
        key = (version, self._ws.device)
        if key not in self._models:
            self._models = {key: self._ws.load_model(version).eval().to(key[1])}
        return self._models[key]

    def saliency(
        self,
        image_id: int,
        method: str = "max_gradient",
        target: int | str | None = None,
        version: int | None = None,
        layer: str | None = None,
    ) -> tuple[np.ndarray, int]:
        """The map at the image's native size, and the class it explains (default: the
        predicted class). Cached per (version, image, method, target)."""
        SALIENCY.entry(method)  # an unknown method fails before any work
        model_version = self._ws.model(version).id
        x = self._ws.transform(self._ws.load_image(image_id))[None]
        with self._lock:
            return self._saliency(image_id, x, method, target, model_version, layer)

    def _saliency(
        self,
        image_id: int,
        x: torch.Tensor,
        method: str,
        target: int | str | None,
        model_version: int,
        layer: str | None,
    ) -> tuple[np.ndarray, int]:
        model = self._model(model_version)
        x = x.to(next(model.parameters()).device)
        if target is None:
            with torch.no_grad():
                target = int(model(x).argmax(1))
        target = self._ws.class_index(target)
        assert target is not None
        name = f"{layer or 'auto'}" if method == "gradcam" else "map"
        path = (
            self._ws.root
            / CACHE_DIR
            / "saliency"
            / f"v{model_version}"
            / method
            / str(target)
            / f"{image_id}-{name}.npy"
        )
        if path.is_file():
            return np.load(path).astype(np.float32), target
        baseline = self._ws.transform.normalise_pixels(torch.zeros_like(x))
        heat = saliency(model, x, method, target, baseline=baseline, layer=layer)
        image = self._ws.image(image_id)
        size, policy = self._ws.config.image.size, self._ws.config.image.resize
        if heat.ndim == 3:
            native = np.stack([to_native(c, image.width, image.height, size, policy) for c in heat])
        else:
            native = to_native(heat, image.width, image.height, size, policy)
        buffer = io.BytesIO()
        np.save(buffer, native.astype(np.float16))
        _atomic_bytes(path, buffer.getvalue())
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

    def mass_in_mask(
        self,
        image_id: int,
        kind: str = "spurious",
        method: str = "max_gradient",
        version: int | None = None,
    ) -> float | None:
        """Share of the saliency inside the image's current mask; None without a mask."""
        with self._ws.session() as session:
            if current_row(session, image_id, kind) is None:
                return None
        heat, _ = self.saliency(image_id, method, None, version)
        heat = np.abs(heat).max(0) if heat.ndim == 3 else heat
        return mass_in_mask(heat, self._ws.masks.get(image_id, kind))

    def precompute(
        self,
        split: str,
        method: str = "max_gradient",
        version: int | None = None,
        progress: ProgressCallback = None,
    ) -> int:
        """Fill the cache for a split (the predicted class of each image)."""
        images = self._ws.images(split, sort="id")
        for done, image in enumerate(images, 1):
            self.saliency(image.id, method, None, version)
            report(progress, f"saliency {split}", done, len(images))
        return len(images)

    def activation_maximisation(self, target: int | str, version: int | None = None) -> bytes:
        """A PNG at the model's input size that the version scores as `target` (cached)."""
        index = self._ws.class_index(target)
        assert index is not None
        model_version = self._ws.model(version).id
        path = self._ws.root / CACHE_DIR / "activation" / f"v{model_version}" / f"{index}.png"
        if not path.is_file():
            config = self._ws.config.image
            with self._lock:
                image = activation_maximisation(
                    self._model(model_version), index, config.size, config.mean, config.std
                )
            buffer = io.BytesIO()
            image.save(buffer, format="PNG")
            _atomic_bytes(path, buffer.getvalue())
        return path.read_bytes()
