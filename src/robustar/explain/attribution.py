"""Data attribution: which training images drove a prediction, from an index built once.

An index holds one feature row per training image (memory-mapped on disk, built in batches,
resumable) and, for `influence` and `trak`, the inverse of a damped kernel. A query is two
matrix products. Scores are signed: positive means the training image supports the class
explained (removing it would raise the test loss on that class), negative means it opposes it.

- influence: exact last-layer influence (Koh & Liang 2017) with the Gauss-Newton Hessian,
  which is exact for the last layer, plus damping; score = g_test^T H^-1 g_i / N.
- influence-cg: influence with the whole model's curvature (Gauss-Newton over a sample of
  training images) for small models: each query solves H^-1 g_test by conjugate gradient, then
  meets the training gradients projected to `dim` (Johnson-Lindenstrauss keeps the products).
- trak: TRAK (Park et al. 2023): all-parameter gradients of the margin log(p / (1 - p)),
  projected to `dim`, kernel (Phi^T Phi + damping I), training rows weighted by 1 - p; with
  `ensemble` > 1 the scores are averaged over the version's last saved epoch checkpoints.
- tracin: TracIn over the version's saved epoch checkpoints (Pruthi et al. 2020): the sum over
  epochs of the learning rate times the dot product of last-layer gradients.
- cosine: cosine similarity of last-layer gradients (the baseline).
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import ClassVar, Literal, TypeVar

import numpy as np
import torch
import torch.nn.functional as F
from pydantic import BaseModel, Field

from robustar.data.dataset import ImageDataset
from robustar.data.images import ImageStore
from robustar.errors import DataError, NotFoundError
from robustar.explain.gradients import LastLayer, PerSample, Projection, parameter_count
from robustar.explain.hessian import GaussNewtonSolver, check_size
from robustar.models.checkpoint import load_weights
from robustar.models.registry import create_model
from robustar.models.store import ModelStore
from robustar.numbers import JsonFloat, JsonInt
from robustar.predict.engine import make_loader
from robustar.predict.samples import Sample
from robustar.progress import ProgressCallback, report
from robustar.registry import Registry, pick_options
from robustar.storage import atomic_path, atomic_write

F_ = TypeVar("F_", bound="Featuriser")

FORMAT = 2  # the layout of the files on disk
HESSIAN_SAMPLE = 128  # training images whose Gauss-Newton matrix stands for the Hessian
# The default: on the demo it finds the training images behind shortcut mistakes best (its
# suspicious queue's precision@100 is 4.8x random, TRAK's 0.4x: TRAK weights training images
# by 1 - p, and shortcut images are fitted with p near 1), and its LDS is within 0.01 of
# TRAK's (docs/benchmarks.md).
DEFAULT_METHOD = "cosine"


@dataclass(frozen=True)
class IndexInfo:
    version: int
    method: str
    dim: int
    width: int  # feature length: dim (x ensemble) when projected, the last layer's otherwise
    images: int
    done: int
    damping: float
    ensemble: int  # models whose scores are averaged (trak); 1 otherwise

    @property
    def complete(self) -> bool:
        return self.done == self.images


IndexState = Literal["ready", "not_built", "incomplete", "no_model"]


@dataclass(frozen=True)
class Readiness:
    """An expected state of a fresh workspace, not an error: an index not built yet (or
    half built, or no model to build it for) answers with what is missing and the fix."""

    status: IndexState
    detail: str | None = None
    fix: str | None = None  # for the command line and the pages
    python_fix: str | None = None  # the same fix as a Python call


@dataclass(frozen=True)
class Scored:
    """A training image's attribution score, with the image as a `Sample` (its class, the
    index version's prediction, its masks)."""

    score: float
    sample: Sample

    @property
    def image_id(self) -> int:
        return self.sample.id


@dataclass(frozen=True)
class Attributions:
    """The training images that most support (helpful) and most oppose (harmful) the test
    image's `target` class: removing a helpful one would lower the model's belief in it."""

    target: int
    helpful: list[Scored]
    harmful: list[Scored]


class IndexOptions(BaseModel):
    """An index's build settings; each method publishes the ones it uses."""

    dim: JsonInt = Field(1024, ge=8, le=16384, description="projection dimension")
    damping: JsonFloat = Field(1e-3, gt=0, le=10, description="relative to the curvature's scale")
    ensemble: JsonInt = Field(
        1, ge=1, le=20, description="average over this many last epoch checkpoints"
    )


INDEX_DEFAULTS = IndexOptions()


class Featuriser:
    """Index rows (training images) and query rows (test images) for one method, computed on
    the models' device and returned on the CPU.

    `train` also returns this batch's share of each kernel block (None when the method has no
    kernel); the index sums the shares, then inverts each block once (`invert`).
    """

    kernel: ClassVar[bool] = False  # queries go through the inverse kernel

    def __init__(self, models: list[torch.nn.Module], dim: int, images: int = 1) -> None:
        self.images = images
        self.device = next(models[0].parameters()).device

    @classmethod
    def prepare(
        cls, index: AttributionIndex, dim: int, ensemble: int, images: int, damping: float | None
    ) -> Featuriser:
        """The featuriser of the index's model version; `damping` is None while building."""
        return cls([index._model()], dim, images)

    def train(self, x: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None]:
        return self.rows(x.to(self.device), y.to(self.device))

    def test(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return self.query(x.to(self.device), y.to(self.device))

    def rows(self, x: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None]:
        raise NotImplementedError

    def query(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return self.rows(x, y)[0]

    @staticmethod
    def invert(kernels: np.ndarray, n: int, damping: float) -> np.ndarray:
        """The damped inverse of each summed kernel block, already divided by what turns
        products into scores; damping keeps it finite and well conditioned."""
        raise NotImplementedError


ATTRIBUTION: Registry[type[Featuriser]] = Registry("attribution method", DEFAULT_METHOD)


def method(
    name: str, description: str, *options: str, ranks: bool = True
) -> Callable[[type[F_]], type[F_]]:
    """Register a featuriser class with the index settings it uses; `ranks`: whether it can
    rank the suspicious queue (one query per misclassified image)."""
    model = pick_options(IndexOptions, *options, title=f"{name}-options")
    return ATTRIBUTION.register(name, description, model, ranks=ranks)  # type: ignore[return-value]


def _damped_inverse(kernel: np.ndarray, damping: float) -> np.ndarray:
    scale = float(np.trace(kernel)) / len(kernel) or 1.0
    return np.linalg.inv(kernel + damping * scale * np.eye(len(kernel)))


class _LastLayer(Featuriser):
    """Methods on the last layer's gradients of one or more models (each weighted)."""

    def __init__(
        self,
        models: list[torch.nn.Module],
        dim: int,
        images: int = 1,
        weights: list[float] | None = None,
    ) -> None:
        super().__init__(models, dim, images)
        self.last = [LastLayer(m) for m in models]
        self.roots = [w**0.5 for w in weights or [1.0] * len(models)]


@method("influence", "Influence, last layer: exact Gauss-Newton influence (Koh & Liang)", "damping")
class Influence(_LastLayer):
    kernel = True

    def rows(self, x: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None]:
        phi, p, h1 = (_host(t) for t in self.last[0].features(x, y))
        return phi, LastLayer.gauss_newton(p, h1)[None]

    @staticmethod
    def invert(kernels: np.ndarray, n: int, damping: float) -> np.ndarray:
        return np.stack([_damped_inverse(k / n, damping) for k in kernels]) / n


@method("cosine", "Gradient cosine: similarity of last-layer gradients (the baseline)")
class Cosine(_LastLayer):
    def rows(self, x: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None]:
        return F.normalize(_host(self.last[0].features(x, y)[0]), dim=1), None


@method("tracin", "TracIn: last-layer gradients summed over the saved epoch checkpoints")
class TracIn(_LastLayer):
    @classmethod
    def prepare(
        cls, index: AttributionIndex, dim: int, ensemble: int, images: int, damping: float | None
    ) -> Featuriser:
        models, rates = zip(*index._checkpoints(None, "TracIn sums over"), strict=True)
        return cls(list(models), dim, images, list(rates))

    def rows(self, x: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None]:
        pairs = zip(self.last, self.roots, strict=True)
        return torch.cat([_host(last.features(x, y)[0]) * r for last, r in pairs], 1), None


class _Projected(Featuriser):
    """Methods on all parameters' gradients, projected to `dim` (seeded)."""

    def __init__(self, models: list[torch.nn.Module], dim: int, images: int = 1) -> None:
        super().__init__(models, dim, images)
        self.grads = [PerSample(m) for m in models]
        self.projection = Projection(parameter_count(models[0]), dim, self.device)


@method("trak", "TRAK: projected margin gradients and their kernel", "dim", "damping", "ensemble")
class Trak(_Projected):
    kernel = True

    @classmethod
    def prepare(
        cls, index: AttributionIndex, dim: int, ensemble: int, images: int, damping: float | None
    ) -> Featuriser:
        if ensemble == 1:
            return cls([index._model()], dim, images)
        saved = index._checkpoints(ensemble, f"a TRAK ensemble of {ensemble} averages over")
        return cls([m for m, _ in saved], dim, images)

    def rows(self, x: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None]:
        rows, kernels = [], []
        for member in self.grads:
            g, p = member.margin(x, y)
            phi = _host(self.projection(g))
            rows.append(phi * (1 - _host(p))[:, None])  # TRAK's Q = 1 - p weighting
            kernels.append(phi.T @ phi)
        return torch.cat(rows, 1), torch.stack(kernels)

    def query(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return torch.cat([_host(self.projection(m.margin(x, y)[0])) for m in self.grads], 1)

    @staticmethod
    def invert(kernels: np.ndarray, n: int, damping: float) -> np.ndarray:
        """An average over the ensemble's members."""
        return np.stack([_damped_inverse(k, damping) for k in kernels]) / len(kernels)


@method(
    "influence-cg",
    "Influence, full model: a conjugate-gradient solve per query (seconds)",
    "dim",
    "damping",
    ranks=False,
)
class InfluenceCG(_Projected):
    def __init__(
        self,
        models: list[torch.nn.Module],
        dim: int,
        images: int = 1,
        hessian: GaussNewtonSolver | None = None,
    ) -> None:
        super().__init__(models, dim, images)
        self.hessian = hessian

    @classmethod
    def prepare(
        cls, index: AttributionIndex, dim: int, ensemble: int, images: int, damping: float | None
    ) -> Featuriser:
        model = index._model()
        check_size(model)  # before building, so a model too large fails at once
        hessian = (
            None if damping is None else GaussNewtonSolver(model, index._hessian_sample(), damping)
        )
        return cls([model], dim, images, hessian)

    def rows(self, x: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None]:
        return _host(self.projection(self.grads[0].loss(x, y))), None

    def query(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        assert self.hessian is not None
        solved = self.hessian.solve(self.grads[0].loss(x, y))
        return _host(self.projection(solved)) / self.images


def _host(t: torch.Tensor) -> torch.Tensor:
    """Model outputs move to the CPU in float64 for the sums and kernels (float64 is not
    available on every accelerator, e.g. mps, and these products are small)."""
    return t.detach().cpu().double()


def save_arrays(path: Path, **arrays: object) -> None:
    """A crash leaves the previous file or the new one, never half of one."""
    with atomic_path(path) as tmp, open(tmp, "wb") as f:
        np.savez(f, **arrays)  # type: ignore[arg-type]


class AttributionIndex:
    def __init__(
        self,
        images: ImageStore,
        models: ModelStore,
        cache: Path,
        workers: int,
        version: int,
        method: str,
    ) -> None:
        ATTRIBUTION.entry(method)  # an unknown name fails here, listing the registered ones
        self.images, self.models, self.workers = images, models, workers
        self.version, self.method = version, method
        self.folder = cache / "attribution" / f"v{version}" / method

    # ----- files ---------------------------------------------------------------------------

    def _meta_path(self) -> Path:
        return self.folder / "meta.json"

    def info(self) -> IndexInfo | None:
        if not self._meta_path().is_file():
            return None
        meta = json.loads(self._meta_path().read_text())
        if meta.get("format") != FORMAT:
            return None  # written by an older Robustar: rebuilt on the next build
        return IndexInfo(
            self.version,
            self.method,
            meta["dim"],
            meta["width"],
            meta["images"],
            meta["done"],
            meta["damping"],
            meta["ensemble"],
        )

    def written(self) -> int:
        """When the index's description was last written (nanoseconds)."""
        return self._meta_path().stat().st_mtime_ns

    def _write_meta(self, **meta: object) -> None:
        atomic_write(self._meta_path(), lambda tmp: tmp.write_text(json.dumps(meta)))

    def _features(self, mode: Literal["r", "r+", "w+"] = "r") -> np.memmap:
        info = self.info()
        assert info is not None
        path = self.folder / "features.f32"
        return np.memmap(path, dtype=np.float32, mode=mode, shape=(info.images, info.width))

    # ----- building --------------------------------------------------------------------------

    def build(
        self,
        dim: int = INDEX_DEFAULTS.dim,
        damping: float = INDEX_DEFAULTS.damping,
        batch_size: int = 64,
        progress: ProgressCallback = None,
        fresh: bool = False,
        ensemble: int = 1,
    ) -> IndexInfo:
        """Featurise every training image; continue where an interrupted build stopped."""
        if ensemble < 1:
            raise DataError(f"ensemble must be at least 1, not {ensemble}", "use 1 or more")
        if ensemble > 1 and "ensemble" not in ATTRIBUTION.entry(self.method).options.model_fields:
            ensembling = [
                e.name for e in ATTRIBUTION.entries() if "ensemble" in e.options.model_fields
            ]
            raise DataError(
                f"only the {' or '.join(ensembling)} method ensembles checkpoints, not "
                f"{self.method}",
                f"use the {' or '.join(ensembling)} method, or an ensemble of 1",
            )
        info = self.info()
        asked = (dim, damping, ensemble)
        if fresh or (info is not None and (info.dim, info.damping, info.ensemble) != asked):
            shutil.rmtree(self.folder, ignore_errors=True)
            info = None
        if info is not None and info.complete:
            return info  # built (and solved): nothing left to do
        dataset = self.images.dataset("train")
        featuriser = self._featuriser(dim, asked[2], len(dataset))
        ids = np.asarray(dataset.ids, dtype=np.int64)
        if info is None:
            shutil.rmtree(self.folder, ignore_errors=True)  # e.g. an older index format
            self.folder.mkdir(parents=True, exist_ok=True)
            np.save(self.folder / "ids.npy", ids)
            probe, _ = featuriser.train(*self._probe(dataset))
            width = probe.shape[1]
            np.memmap(
                self.folder / "features.f32", np.float32, "w+", shape=(len(ids), width)
            ).flush()
            self._write_meta(
                format=FORMAT,
                dim=dim,
                width=width,
                images=len(ids),
                done=0,
                damping=damping,
                ensemble=asked[2],
            )
            info = self.info()
        elif not np.array_equal(np.load(self.folder / "ids.npy"), ids):
            raise DataError(
                "the training split changed since this index was started",
                "rebuild the index from scratch (fresh=True, or --fresh)",
            )
        assert info is not None
        meta = json.loads(self._meta_path().read_text())
        features = self._features("r+")
        kernel_path = self.folder / "kernel-sum.npz"
        kernel, start = None, info.done
        if kernel_path.is_file():  # the kernel covers exactly the rows saved with it
            saved = np.load(kernel_path)
            kernel, start = saved["kernel"], int(saved["rows"])
        subset = torch.utils.data.Subset(dataset, range(start, len(ids)))
        loader = make_loader(subset, batch_size, self.workers, self.models.device)
        row = start
        for x, y, _ in loader:
            phi, part = featuriser.train(x, y)
            features[row : row + len(x)] = phi.float().numpy()
            features.flush()
            row += len(x)
            if part is not None:
                kernel = part.numpy() if kernel is None else kernel + part.numpy()
                save_arrays(kernel_path, kernel=kernel, rows=row)
            if kernel is None or row < len(ids):  # a kernel index is complete once solved
                self._write_meta(**{**meta, "done": row})
            report(progress, f"attribution index ({self.method})", row, len(ids))
        if kernel is not None:
            self._solve(kernel, len(ids), damping)
            self._write_meta(**{**meta, "done": len(ids)})
        return self.info()  # type: ignore[return-value]

    def _probe(self, dataset: ImageDataset) -> tuple[torch.Tensor, torch.Tensor]:
        x, y, _ = dataset[0]
        return x[None], torch.tensor([y])

    def _solve(self, kernels: np.ndarray, n: int, damping: float) -> None:
        inverse = ATTRIBUTION.get(self.method).invert(kernels, n, damping)
        if not np.isfinite(inverse).all():
            raise DataError("the attribution kernel could not be inverted", "raise the damping")
        save_arrays(self.folder / "inverse.npz", inverse=inverse)

    # ----- queries ---------------------------------------------------------------------------

    def ready(self) -> IndexInfo:
        info = self.info()
        if info is None or not info.complete:
            state = self.readiness()
            raise NotFoundError(state.detail or "", state.fix, state.python_fix)
        return info

    def readiness(self) -> Readiness:
        """Whether the index answers queries, or what is missing and how to build it."""
        info = self.info()
        if info is not None and info.complete:
            return Readiness("ready")
        return Readiness(
            "not_built" if info is None else "incomplete",
            f"the {self.method} attribution index of model version {self.version} is "
            f"{'missing' if info is None else 'incomplete'}",
            f"build it: 'robustar attribute build DIR --method {self.method}', or 'Build "
            "it' on an image page or the Suspicious page",
            f"build it: ws.attribution.build({self.method!r})",
        )

    def featuriser(self) -> Featuriser:
        """The same featuriser the index was built with (the projection is seeded)."""
        info = self.ready()
        return self._featuriser(info.dim, info.ensemble, info.images, info.damping)

    def _featuriser(
        self, dim: int, ensemble: int, images: int, damping: float | None = None
    ) -> Featuriser:
        """With `damping`, also the curvature that influence-cg queries solve against."""
        return ATTRIBUTION.get(self.method).prepare(self, dim, ensemble, images, damping)

    def _model(self) -> torch.nn.Module:
        return self.models.load(self.version).to(self.models.device)

    def _hessian_sample(self) -> torch.Tensor:
        """A fixed, seeded sample of training images (the same for every query)."""
        dataset = self.images.dataset("train")
        picks = np.random.default_rng(0).permutation(len(dataset))[:HESSIAN_SAMPLE]
        return torch.stack([dataset[int(i)][0] for i in np.sort(picks)])

    def _checkpoints(self, last: int | None, purpose: str) -> list[tuple[torch.nn.Module, float]]:
        """The version's last saved epochs (all with `last` None), each with the learning rate
        it was trained at; `purpose` says in an error what needs them."""
        version = self.models.get(self.version)
        folder = (self.models.root / version.checkpoint).parent
        epochs = [
            (folder / f"epoch-{e.epoch:03d}.safetensors", e.learning_rate)
            for e in self.models.training_curves(self.version)
        ]
        saved = [(path, rate) for path, rate in epochs if path.is_file()]
        if len(saved) < (last or 1):
            raise DataError(
                f"{purpose} {last or 'the'} epoch checkpoints; version {self.version} has "
                f"{len(saved)} (versions trained in Robustar keep one per epoch)",
                "use the cosine, influence or trak method (trak: an ensemble no larger than "
                "the checkpoints saved)",
            )
        return [
            (
                load_weights(
                    create_model(version.architecture, version.num_classes),
                    path,
                    version.num_classes,
                ).to(self.models.device),
                rate,
            )
            for path, rate in saved[-(last or len(saved)) :]
        ]

    def test_features(
        self,
        image_ids: list[int],
        featuriser: Featuriser | None = None,
        targets: list[int] | None = None,
    ) -> torch.Tensor:
        """Query rows for the images, explaining each image's `targets` class (default: its
        label)."""
        featuriser = featuriser or self.featuriser()
        if targets is None:
            targets = [self.images.record(i).label for i in image_ids]  # type: ignore[misc]
            if any(t is None for t in targets):
                raise DataError(
                    "attribution of an unlabelled image needs the class to explain",
                    "pass a target class (e.g. the predicted one)",
                )
        x = torch.stack([self.images.transform(self.images.load(i)) for i in image_ids])
        return featuriser.test(x, torch.tensor(targets))

    def scores(self, test: torch.Tensor, chunk: int = 65536) -> np.ndarray:
        """(tests, training images) scores, streamed over the memory-mapped rows."""
        self.ready()
        left = test.numpy().astype(np.float32)
        if ATTRIBUTION.get(self.method).kernel:
            blocks = self._inverse
            parts = np.split(test.numpy(), len(blocks), axis=1)
            solved = [p @ b for p, b in zip(parts, blocks, strict=True)]
            left = np.concatenate(solved, 1).astype(np.float32)
        features = self._features()
        return np.concatenate(
            [left @ features[s : s + chunk].T for s in range(0, len(features), chunk)], axis=1
        )

    @cached_property
    def _inverse(self) -> np.ndarray:
        """The inverse kernel blocks, read once per index object."""
        path = self.folder / "inverse.npz"
        if not path.is_file():
            raise NotFoundError(
                f"the {self.method} index of model version {self.version} lost its kernel",
                f"rebuild it: 'robustar attribute build DIR --method {self.method} --fresh'",
                f"rebuild it: ws.attribution.build({self.method!r}, fresh=True)",
            )
        return np.load(path)["inverse"]

    def ids(self) -> np.ndarray:
        return np.load(self.folder / "ids.npy")
