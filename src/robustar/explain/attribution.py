"""Data attribution: which training images drove a prediction, from an index built once.

An index holds one feature row per training image (memory-mapped on disk, built in batches,
resumable) and, for `influence` and `trak`, the inverse of a damped kernel. A query is two
matrix products. Scores are signed: positive means the training image supports the test
image's label (removing it would raise the test loss), negative means it opposes it.

- influence: exact last-layer influence (Koh & Liang 2017) with the Gauss-Newton Hessian,
  which is exact for the last layer, plus damping; score = g_test^T H^-1 g_i / N.
- trak: all-parameter gradients projected to `dim` (TRAK-style), kernel (Phi^T Phi + damping I).
- tracin: TracIn over the version's saved epoch checkpoints (Pruthi et al. 2020): the sum over
  epochs of the learning rate times the dot product of last-layer gradients.
- cosine: cosine similarity of last-layer gradients (the baseline).
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import torch

from robustar.errors import DataError, NotFoundError
from robustar.explain.gradients import LastLayer, Projected
from robustar.media import CACHE_DIR
from robustar.models.checkpoint import load_weights
from robustar.models.registry import create_model
from robustar.predict.engine import make_loader
from robustar.progress import ProgressCallback, report

if TYPE_CHECKING:
    from robustar.workspace import Workspace

METHODS = ("influence", "trak", "tracin", "cosine")
# The default: on the demo its most opposing images share the wrong class's label and patch
# 6.5x more often than random; last-layer influence surfaces high-loss outliers instead
# (docs/benchmarks.md).
DEFAULT_METHOD = "trak"


@dataclass(frozen=True)
class IndexInfo:
    version: int
    method: str
    dim: int
    width: int  # feature length: dim for trak, the last layer's size otherwise
    images: int
    done: int
    damping: float

    @property
    def complete(self) -> bool:
        return self.done == self.images


@dataclass(frozen=True)
class Scored:
    image_id: int
    score: float


class Featuriser:
    def __init__(
        self,
        model: torch.nn.Module,
        method: str,
        dim: int,
        checkpoints: list[tuple[torch.nn.Module, float]] = (),  # type: ignore[assignment]
    ) -> None:
        self.method = method
        if method == "trak":
            self.projected = Projected(model, dim)
        elif method == "tracin":
            self.epochs = [(LastLayer(m), lr**0.5) for m, lr in checkpoints]
        else:
            self.last = LastLayer(model)

    def __call__(
        self, x: torch.Tensor, y: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Features and this batch's share of the kernel (None for cosine)."""
        if self.method == "trak":
            phi = self.projected.features(x, y).double()
            return phi, phi.T @ phi
        if self.method == "tracin":
            parts = [last.features(x, y)[0].double() * root for last, root in self.epochs]
            return torch.cat(parts, 1), None
        phi, p, h1 = self.last.features(x, y)
        if self.method == "influence":
            return phi.double(), LastLayer.gauss_newton(p.double(), h1.double())
        return torch.nn.functional.normalize(phi.double(), dim=1), None


class AttributionIndex:
    def __init__(self, workspace: Workspace, version: int, method: str) -> None:
        if method not in METHODS:
            raise DataError(f"unknown attribution method {method!r}", f"use {', '.join(METHODS)}")
        self.ws, self.version, self.method = workspace, version, method
        self.folder = workspace.root / CACHE_DIR / "attribution" / f"v{version}" / method

    # ----- files ---------------------------------------------------------------------------

    def _meta_path(self) -> Path:
        return self.folder / "meta.json"

    def info(self) -> IndexInfo | None:
        if not self._meta_path().is_file():
            return None
        meta = json.loads(self._meta_path().read_text())
        return IndexInfo(
            self.version,
            self.method,
            meta["dim"],
            meta["width"],
            meta["images"],
            meta["done"],
            meta["damping"],
        )

    def _write_meta(self, **meta: object) -> None:
        tmp = self.folder / ".meta.json.tmp"
        tmp.write_text(json.dumps(meta))
        tmp.replace(self._meta_path())

    def _features(self, mode: str = "r") -> np.memmap:
        info = self.info()
        assert info is not None
        return np.memmap(
            self.folder / "features.f32", np.float32, mode, shape=(info.images, info.width)
        )

    # ----- building --------------------------------------------------------------------------

    def build(
        self,
        dim: int = 1024,
        damping: float = 1e-3,
        batch_size: int = 64,
        progress: ProgressCallback = None,
        fresh: bool = False,
    ) -> IndexInfo:
        """Featurise every training image; continue where an interrupted build stopped."""
        info = self.info()
        if fresh or (info is not None and (info.dim != dim or info.damping != damping)):
            shutil.rmtree(self.folder, ignore_errors=True)
            info = None
        dataset = self.ws.dataset("train")
        featuriser = self._featuriser(dim)
        ids = np.asarray(dataset.ids, dtype=np.int64)
        if info is None:
            self.folder.mkdir(parents=True, exist_ok=True)
            np.save(self.folder / "ids.npy", ids)
            probe, _ = featuriser(*self._probe(dataset))
            width = probe.shape[1]
            np.memmap(
                self.folder / "features.f32", np.float32, "w+", shape=(len(ids), width)
            ).flush()
            self._write_meta(dim=dim, width=width, images=len(ids), done=0, damping=damping)
            info = self.info()
        elif not np.array_equal(np.load(self.folder / "ids.npy"), ids):
            raise DataError(
                "the training split changed since this index was started",
                "rebuild the index from scratch (fresh=True, or --fresh)",
            )
        assert info is not None
        meta = json.loads(self._meta_path().read_text())
        features = self._features("r+")
        kernel_path = self.folder / "kernel-sum.npy"
        kernel = np.load(kernel_path) if kernel_path.is_file() else None
        start = info.done - info.done % batch_size
        subset = torch.utils.data.Subset(dataset, range(start, len(ids)))
        loader = make_loader(
            subset, batch_size, self.ws.config.runtime.workers, torch.device("cpu")
        )
        row = start
        for x, y, _ in loader:
            phi, part = featuriser(x, y)
            features[row : row + len(x)] = phi.float().numpy()
            if part is not None:
                kernel = part.numpy() if kernel is None else kernel + part.numpy()
            row += len(x)
            features.flush()
            if kernel is not None:
                np.save(kernel_path, kernel)
            self._write_meta(**{**meta, "done": row})
            report(progress, f"attribution index ({self.method})", row, len(ids))
        if kernel is not None:
            self._solve(kernel, len(ids), damping)
        return self.info()  # type: ignore[return-value]

    def _probe(self, dataset) -> tuple[torch.Tensor, torch.Tensor]:  # type: ignore[no-untyped-def]
        x, y, _ = dataset[0]
        return x[None], torch.tensor([y])

    def _solve(self, kernel: np.ndarray, n: int, damping: float) -> None:
        """The damped inverse kernel; damping keeps it finite and well conditioned."""
        if self.method == "influence":
            kernel = kernel / n
        scale = float(np.trace(kernel)) / len(kernel) or 1.0
        damped = kernel + damping * scale * np.eye(len(kernel))
        inverse = np.linalg.inv(damped)
        if not np.isfinite(inverse).all():
            raise DataError("the attribution kernel could not be inverted", "raise the damping")
        np.save(self.folder / "inverse.npy", inverse / (n if self.method == "influence" else 1))

    # ----- queries ---------------------------------------------------------------------------

    def ready(self) -> IndexInfo:
        info = self.info()
        if info is None or not info.complete:
            raise NotFoundError(
                f"the {self.method} attribution index of model version {self.version} is "
                f"{'missing' if info is None else 'incomplete'}",
                "build it: 'robustar attribute build DIR' or the image page's button",
            )
        return info

    def featuriser(self) -> Featuriser:
        """The same featuriser the index was built with (the projection is seeded)."""
        return self._featuriser(self.ready().dim)

    def _featuriser(self, dim: int) -> Featuriser:
        model = self.ws.load_model(self.version)
        if self.method != "tracin":
            return Featuriser(model, self.method, dim)
        return Featuriser(model, self.method, dim, self._checkpoints())

    def _checkpoints(self) -> list[tuple[torch.nn.Module, float]]:
        """Each saved epoch of the version with the learning rate it was trained at."""
        version = self.ws.model(self.version)
        curves = self.ws.training_curves(self.version)
        folder = (self.ws.root / version.checkpoint).parent
        found = []
        for epoch in curves:
            path = folder / f"epoch-{epoch.epoch:03d}.safetensors"
            if path.is_file():
                model = create_model(version.architecture, version.num_classes)
                found.append((load_weights(model, path, version.num_classes), epoch.learning_rate))
        if not found:
            raise DataError(
                f"TracIn needs the epoch checkpoints of a trained version; version "
                f"{self.version} has none",
                "train a version in Robustar, or use the trak, influence or cosine method",
            )
        return found

    def test_features(
        self, image_ids: list[int], featuriser: Featuriser | None = None
    ) -> torch.Tensor:
        featuriser = featuriser or self.featuriser()
        images = [self.ws.image(i) for i in image_ids]
        if any(i.label is None for i in images):
            raise DataError("attribution needs labelled images", "pick an image with a label")
        x = torch.stack([self.ws.transform(self.ws.load_image(i)) for i in image_ids])
        y = torch.tensor([i.label for i in images])
        return featuriser(x, y)[0]

    def scores(self, test: torch.Tensor, chunk: int = 65536) -> np.ndarray:
        """(tests, training images) scores, streamed over the memory-mapped rows."""
        self.ready()
        left = test.numpy().astype(np.float32)
        inverse = self.folder / "inverse.npy"
        if inverse.is_file():
            left = (test.numpy() @ np.load(inverse)).astype(np.float32)
        features = self._features()
        return np.concatenate(
            [left @ features[s : s + chunk].T for s in range(0, len(features), chunk)], axis=1
        )

    def ids(self) -> np.ndarray:
        return np.load(self.folder / "ids.npy")
