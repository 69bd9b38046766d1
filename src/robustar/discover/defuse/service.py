"""`Workspace.defuse`: the VAE, the error search, the regions, their labels, the correction
sweep and the views; what the Python API, the CLI, the REST routes and the job handlers call."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from sklearn.decomposition import PCA
from sqlalchemy import delete, insert, select
from torch import nn
from torch.utils.data import Dataset

from robustar.accounts import actor
from robustar.config import RuntimeConfig
from robustar.data.dataset import IndexedImage
from robustar.data.images import ImageStore
from robustar.db.tables import (
    DefuseCode,
    DefuseCorrection,
    DefuseRegion,
    DefuseRun,
    Image,
    utcnow,
)
from robustar.discover.defuse import store
from robustar.discover.defuse.pixels import grid, pixel_dataset, png, to_model_input
from robustar.discover.defuse.regions import fit_regions
from robustar.discover.defuse.search import search_batch
from robustar.discover.defuse.settings import (
    CorrectSettings,
    RegionSettings,
    SearchSettings,
    VaeSettings,
)
from robustar.discover.defuse.store import CorrectionReport, DefuseRunInfo, RegionInfo
from robustar.discover.defuse.training import PREVIEW_FILE, VAE_FILE, VaeEpoch, train_vae
from robustar.discover.defuse.vae import ConvVae, load_vae, save_vae
from robustar.errors import ConfigError, DataError
from robustar.models.store import ModelStore
from robustar.models.versions import VersionInfo
from robustar.predict.engine import make_loader
from robustar.progress import ProgressCallback, report

Trainer = Callable[..., VersionInfo]
DECODE = 512  # codes decoded and classified at a time


@dataclass(frozen=True)
class DecodedSample:
    png: bytes
    predicted: int
    confidence: float


@dataclass(frozen=True)
class MapPoint:
    x: float
    y: float
    cls: int  # training code: its label; error code: the prediction; region: its id


@dataclass(frozen=True)
class LatentMap:
    """PCA of the latent space: training codes, kept error codes, region means."""

    explained: list[float]
    training: list[MapPoint]
    errors: list[MapPoint]
    regions: list[MapPoint]


class CodeDataset(Dataset):
    """Decoded region samples as the classifier sees them, with their region's label; items
    like an ImageDataset's (image, label, id), id -1."""

    def __init__(self, inputs: torch.Tensor, labels: list[int]) -> None:
        self.inputs, self.labels = inputs, labels

    def __len__(self) -> int:
        return len(self.labels)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, int, int]:
        return self.inputs[index], self.labels[index], -1


class Defuse:
    """Novel errors from a VAE's latent space, distilled into regions a person labels."""

    def __init__(
        self,
        images: ImageStore,
        models: ModelStore,
        runtime: RuntimeConfig,
        runs: Path,
        train: Trainer,
    ) -> None:
        self.images, self.models, self.runtime = images, models, runtime
        self.runs_folder = runs
        self._train = train
        self._vaes: dict[tuple[int, float], ConvVae] = {}

    @property
    def classes(self) -> list[str]:
        return self.images.classes

    def folder(self, run_id: int) -> Path:
        return self.runs_folder / f"defuse-{run_id}"

    # ----- runs and the VAE --------------------------------------------------------------

    def _info(self, run_id: int) -> DefuseRunInfo:
        with self.images.db.session() as session:
            return store.run_info(session, store.run_row(session, run_id))

    def runs(self) -> list[DefuseRunInfo]:
        with self.images.db.session() as session:
            rows = session.scalars(select(DefuseRun).order_by(DefuseRun.id))
            return [store.run_info(session, r) for r in rows]

    def run(self, run_id: int) -> DefuseRunInfo:
        return self._info(run_id)

    def create_run(self, **settings: object) -> DefuseRunInfo:
        """A run with VAE settings (`VaeSettings`); its VAE is trained by `train_vae`."""
        options = VaeSettings.model_validate(settings)
        with self.images.db.session() as session:
            row = DefuseRun(
                author=actor.current().name,
                image_size=options.image_size,
                latent=options.latent,
                vae=options.model_dump(),
                curves=[],
                search={},
                drawn=[],
                flips=[],
                regions={},
            )
            session.add(row)
            session.flush()
            return store.run_info(session, row)

    def _settings(self, run_id: int) -> VaeSettings:
        with self.images.db.session() as session:
            return VaeSettings.model_validate(store.run_row(session, run_id).vae)

    def train_vae(
        self,
        run: int | None = None,
        progress: ProgressCallback = None,
        on_epoch: Callable[[VaeEpoch], None] | None = None,
        **settings: object,
    ) -> DefuseRunInfo:
        """Train a run's VAE on the training images (a new run with `settings` when `run` is
        None); a run stopped midway goes on from its last finished epoch."""
        run_id = self.create_run(**settings).id if run is None else run
        options = self._settings(run_id)
        folder = self.folder(run_id)
        folder.mkdir(parents=True, exist_ok=True)
        items = self._items("train")
        if not items:
            raise DataError("the train split has no labelled images", "scan the workspace")
        dataset = pixel_dataset(self.images, items, options.image_size)
        device = self.models.device
        generator = torch.Generator().manual_seed(options.seed)
        loader = make_loader(
            dataset, options.batch_size, self.runtime.workers, device, True, generator
        )

        def epoch_done(epoch: VaeEpoch) -> None:
            with self.images.db.session() as session:
                row = store.run_row(session, run_id)
                row.curves = [*row.curves, epoch.__dict__]
                row.vae_file = str((folder / VAE_FILE).relative_to(self.models.root))
            if on_epoch is not None:
                on_epoch(epoch)

        with self.images.db.session() as session:
            done = len(store.run_row(session, run_id).curves)
        if done < options.epochs:
            train_vae(loader, options, folder, device, progress, epoch_done)
        return self._info(run_id)

    def import_vae(self, checkpoint: str | Path, **settings: object) -> DefuseRunInfo:
        """A new run over a VAE trained elsewhere; the file must be for the run's image and
        latent size (settings `image_size`, `latent`)."""
        options = VaeSettings.model_validate(settings)
        model = load_vae(Path(checkpoint).expanduser(), options.image_size, options.latent)
        run_id = self.create_run(**settings).id
        folder = self.folder(run_id)
        folder.mkdir(parents=True, exist_ok=True)
        save_vae(model, folder / VAE_FILE)
        with self.images.db.session() as session:
            row = store.run_row(session, run_id)
            row.vae_file = str((folder / VAE_FILE).relative_to(self.models.root))
        return self._info(run_id)

    def vae(self, run_id: int) -> ConvVae:
        """The run's trained VAE (cached while its file is unchanged)."""
        with self.images.db.session() as session:
            row = store.run_row(session, run_id)
            file, size, latent = row.vae_file, row.image_size, row.latent
        if file is None:
            raise ConfigError(
                f"Defuse run {run_id} has no trained VAE yet",
                f"train it: robustar discover defuse vae WS --run {run_id}",
                f"train it: ws.defuse.train_vae({run_id})",
            )
        path = self.models.root / file
        key = (run_id, path.stat().st_mtime)
        if key not in self._vaes:
            self._vaes = {key: load_vae(path, size, latent).to(self.models.device).eval()}
        return self._vaes[key]

    def preview(self, run_id: int) -> bytes:
        """The last epoch's preview: inputs, reconstructions, prior samples (PNG)."""
        path = self.folder(run_id) / PREVIEW_FILE
        if not path.is_file():
            self.vae(run_id)  # names the fix when there is no VAE
            raise DataError(f"run {run_id} has no preview", "train its VAE for an epoch")
        return path.read_bytes()

    # ----- classifying decodings -----------------------------------------------------------

    def _classifier(self, version: int | None) -> tuple[int, nn.Module]:
        info = self.models.get(version)
        return info.id, self.models.load(info.id).to(self.models.device).eval()

    @torch.inference_mode()
    def _decode(self, run_id: int, codes: np.ndarray) -> torch.Tensor:
        vae = self.vae(run_id)
        device = self.models.device
        z = torch.from_numpy(np.ascontiguousarray(codes, dtype=np.float32))
        parts = [vae.decode(z[s : s + DECODE].to(device)).cpu() for s in range(0, len(z), DECODE)]
        return torch.cat(parts) if parts else torch.zeros(0, 3, vae.image_size, vae.image_size)

    @torch.inference_mode()
    def _classify(self, model: nn.Module, pixels: torch.Tensor) -> tuple[np.ndarray, np.ndarray]:
        """(predicted class, its probability) per decoded image."""
        device = self.models.device
        found = []
        for s in range(0, len(pixels), DECODE):
            x = to_model_input(pixels[s : s + DECODE].to(device), self.images.config)
            found.append(model(x).float().softmax(1).cpu())
        if not found:
            return np.zeros(0, dtype=int), np.zeros(0)
        probs = torch.cat(found)
        best = probs.max(1)
        return best.indices.numpy(), best.values.numpy()

    # ----- identification ------------------------------------------------------------------

    def _items(self, split: str, after: int = 0) -> list[IndexedImage]:
        folder = self.images.folder(split)
        with self.images.db.session() as session:
            rows = session.execute(
                select(Image.id, Image.relpath, Image.label)
                .where(Image.split == split, Image.label.is_not(None), Image.id > after)
                .order_by(Image.id)
            ).all()
        return [IndexedImage(r.id, folder / r.relpath, r.label) for r in rows]

    def search(
        self,
        run_id: int,
        version: int | None = None,
        progress: ProgressCallback = None,
        fresh: bool = False,
        **settings: object,
    ) -> DefuseRunInfo:
        """Search the training images for perturbed codes a classifier version (default: the
        current one) gets wrong, batch by batch, each batch stored in one transaction, so a
        stopped search resumes after its last stored batch. `settings` are SearchSettings'."""
        vae = self.vae(run_id)
        with self.images.db.session() as session:
            row = store.run_row(session, run_id)
            started = row.searched_upto > 0 or row.search_done
            if started and not fresh:
                if settings and SearchSettings.model_validate(settings).model_dump() != row.search:
                    raise ConfigError(
                        f"run {run_id} was searched with other settings ({row.search})",
                        "search again from the start with fresh=True (--fresh)",
                    )
                if version is not None and version != row.version_id:
                    raise ConfigError(
                        f"run {run_id} was searched with version {row.version_id}",
                        "search again from the start with fresh=True (--fresh)",
                    )
                options = SearchSettings.model_validate(row.search)
                version = row.version_id
            else:
                options = SearchSettings.model_validate(settings)
        version_id, classifier = self._classifier(version)
        with self.images.db.session() as session:
            row = store.run_row(session, run_id)
            if not started or fresh:
                session.execute(delete(DefuseCode).where(DefuseCode.run_id == run_id))
                row.version_id, row.search = version_id, options.model_dump()
                row.searched_upto = row.searched_images = 0
                row.drawn = row.flips = [0] * len(options.radii)
                row.search_done = False
            upto, done = row.searched_upto, row.searched_images
        items = self._items("train", upto)
        total = done + len(items)
        device = self.models.device
        loader = make_loader(
            pixel_dataset(self.images, items, vae.image_size),
            options.batch_size,
            self.runtime.workers,
            device,
        )
        for pixels, labels, ids in loader:
            rng = np.random.default_rng([options.seed, int(ids[0])])
            kept, drawn, flips = search_batch(
                vae, classifier, self.images.config, pixels, labels.tolist(), ids.tolist(),
                options, rng, device,
            )  # fmt: skip
            with self.images.db.session() as session:
                if kept:
                    session.execute(
                        insert(DefuseCode),
                        [
                            {
                                "run_id": run_id, "image_id": k.image_id, "label": k.label,
                                "predicted": k.predicted, "radius": k.radius, "norm": k.norm,
                                "code": store.to_blob(k.code),
                            }
                            for k in kept
                        ],
                    )  # fmt: skip
                row = store.run_row(session, run_id)
                row.drawn = [a + int(b) for a, b in zip(row.drawn, drawn, strict=True)]
                row.flips = [a + int(b) for a, b in zip(row.flips, flips, strict=True)]
                row.searched_upto = int(ids[-1])
                row.searched_images += len(ids)
                done = row.searched_images
            report(progress, "search for errors", done, total)
        with self.images.db.session() as session:
            store.run_row(session, run_id).search_done = True
        return self._info(run_id)

    def codes(self, run_id: int) -> np.ndarray:
        """The kept error codes, (n, latent)."""
        with self.images.db.session() as session:
            latent = store.run_row(session, run_id).latent
            blobs = list(
                session.scalars(
                    select(DefuseCode.code)
                    .where(DefuseCode.run_id == run_id)
                    .order_by(DefuseCode.id)
                )
            )
        return np.stack([store.from_blob(b, latent)[0] for b in blobs]) if blobs else (
            np.zeros((0, latent), dtype=np.float32)
        )  # fmt: skip

    # ----- distillation and labels --------------------------------------------------------

    def fit_regions(self, run_id: int, **settings: object) -> list[RegionInfo]:
        """Fit the mixture on the kept codes and store its heavy components as regions,
        replacing the run's earlier regions and their labels."""
        options = RegionSettings.model_validate(settings)
        with self.images.db.session() as session:
            row = store.run_row(session, run_id)
            if not row.search_done:
                raise ConfigError(
                    f"run {run_id} has no finished search",
                    f"search first: robustar discover defuse search WS {run_id}",
                    f"search first: ws.defuse.search({run_id})",
                )
            version = row.version_id
        found = fit_regions(self.codes(run_id), options)
        _, classifier = self._classifier(version)
        rows = []
        for region in found:
            predicted = self._classify(classifier, self._decode(run_id, region.samples))[0]
            held = self._classify(classifier, self._decode(run_id, region.held_out))[0]
            rows.append(
                {
                    "run_id": run_id,
                    "component": region.component,
                    "weight": region.weight,
                    "size": region.size,
                    "mean": store.to_blob(region.mean),
                    "samples": store.to_blob(region.samples),
                    "held_out": store.to_blob(region.held_out),
                    "predicted": predicted.tolist(),
                    "held_predicted": held.tolist(),
                    "unrecognisable": False,
                }
            )
        with self.images.db.session() as session:
            store.run_row(session, run_id).regions = options.model_dump()
            session.execute(delete(DefuseRegion).where(DefuseRegion.run_id == run_id))
            if rows:
                session.execute(insert(DefuseRegion), rows)
        return self.regions(run_id)

    def regions(self, run_id: int) -> list[RegionInfo]:
        with self.images.db.session() as session:
            store.run_row(session, run_id)
            rows = session.scalars(
                select(DefuseRegion).where(DefuseRegion.run_id == run_id).order_by(DefuseRegion.id)
            )
            return [store.region_info(r, self.classes) for r in rows]

    def region(self, run_id: int, region_id: int) -> RegionInfo:
        with self.images.db.session() as session:
            return store.region_info(store.region_row(session, run_id, region_id), self.classes)

    def samples(self, run_id: int, region_id: int, held_out: bool = False) -> list[DecodedSample]:
        """A region's decoded samples with the searched version's answers."""
        with self.images.db.session() as session:
            row = store.region_row(session, run_id, region_id)
            latent = store.run_row(session, run_id).latent
            codes = store.from_blob(row.held_out if held_out else row.samples, latent)
            version = store.run_row(session, run_id).version_id
        pixels = self._decode(run_id, codes)
        predicted, confidence = self._classify(self._classifier(version)[1], pixels)
        return [
            DecodedSample(png(p), int(c), float(q))
            for p, c, q in zip(pixels, predicted, confidence, strict=True)
        ]

    def sample_grid(self, run_id: int, region_id: int, columns: int = 8) -> bytes:
        with self.images.db.session() as session:
            row = store.region_row(session, run_id, region_id)
            codes = store.from_blob(row.samples, store.run_row(session, run_id).latent)
        return grid(self._decode(run_id, codes), columns)

    def label(
        self,
        run_id: int,
        region_id: int,
        value: int | str | None = None,
        unrecognisable: bool = False,
        author: str | None = None,
    ) -> RegionInfo:
        """Label a whole region with one class, or mark it unrecognisable (left out of the
        correction); `value=None` without `unrecognisable` clears the label."""
        index = None
        if value is not None and not unrecognisable:
            try:
                index = self.images.class_index(value)
            except DataError:
                raise DataError(
                    f"region label {value!r} is not a class of this workspace",
                    f"use one of {', '.join(self.classes)}, or mark the region unrecognisable",
                ) from None
        with self.images.db.session() as session:
            row = store.region_row(session, run_id, region_id)
            row.label, row.unrecognisable = index, unrecognisable
            labelled = index is not None or unrecognisable
            row.author = (author or actor.current().name) if labelled else None
            row.labelled_at = utcnow() if labelled else None
            return store.region_info(row, self.classes)

    def label_with(self, run_id: int, version: int, agreement: float = 0.6) -> list[RegionInfo]:
        """Label every region with a trusted model version (an oracle): the class it gives
        most of the region's samples when at least `agreement` of them agree, else
        unrecognisable. The author is recorded as `oracle v<version>`."""
        _, oracle = self._classifier(version)
        done = []
        for region in self.regions(run_id):
            with self.images.db.session() as session:
                row = store.region_row(session, run_id, region.id)
                codes = store.from_blob(row.samples, store.run_row(session, run_id).latent)
            predicted = self._classify(oracle, self._decode(run_id, codes))[0]
            counts = np.bincount(predicted, minlength=len(self.classes))
            best = int(counts.argmax())
            sure = counts[best] >= agreement * len(predicted)
            done.append(
                self.label(
                    run_id, region.id, best if sure else None, not sure, f"oracle v{version}"
                )
            )
        return done

    # ----- correction ---------------------------------------------------------------------

    def _labelled(self, run_id: int, held_out: bool) -> tuple[np.ndarray, list[int], list[int]]:
        """Codes, labels and region ids of the labelled regions' samples."""
        with self.images.db.session() as session:
            latent = store.run_row(session, run_id).latent
            rows = session.scalars(
                select(DefuseRegion)
                .where(DefuseRegion.run_id == run_id, DefuseRegion.label.is_not(None))
                .order_by(DefuseRegion.id)
            ).all()
            parts = [store.from_blob(r.held_out if held_out else r.samples, latent) for r in rows]
            labels = [r.label for r, p in zip(rows, parts, strict=True) for _ in p]
            regions = [r.id for r, p in zip(rows, parts, strict=True) for _ in p]
        codes = np.concatenate(parts) if parts else np.zeros((0, latent), dtype=np.float32)
        return codes, labels, regions  # type: ignore[return-value]

    def _accuracy(
        self, run_id: int, version: int, held: tuple[np.ndarray, list[int], list[int]]
    ) -> dict:
        """Accuracy on the held-out region samples (overall and per region) and the test
        split."""
        _, model = self._classifier(version)
        codes, labels, regions = held
        predicted = self._classify(model, self._decode(run_id, codes))[0]
        right = predicted == np.asarray(labels)
        by_region = {
            str(r): float(right[np.asarray(regions) == r].mean()) for r in sorted(set(regions))
        }
        return {"region": float(right.mean()), "by_region": by_region, "test": self._test(model)}

    @torch.inference_mode()
    def _test(self, model: nn.Module) -> float | None:
        if "test" not in self.images.folders:
            return None
        device = self.models.device
        loader = make_loader(
            self.images.dataset("test"), self.runtime.batch_size, self.runtime.workers, device
        )
        right = seen = 0
        for x, y, _ in loader:
            keep = y >= 0
            out = model(x.to(device)).argmax(1).cpu()
            right += int((out[keep] == y[keep]).sum())
            seen += int(keep.sum())
        return right / seen if seen else None

    def correct(
        self, run_id: int, progress: ProgressCallback = None, **settings: object
    ) -> CorrectionReport:
        """Fine-tune the searched version on CE(train) + λ·CE(labelled region samples) for
        each λ, and on the region samples alone (the baseline), each a new version judged by
        the regression guard; fine-tunes already made for this run are not repeated."""
        options = CorrectSettings.model_validate(settings)
        codes, labels, _ = self._labelled(run_id, held_out=False)
        if not labels:
            raise DataError(
                f"no region of Defuse run {run_id} is labelled with a class",
                f"label regions first: robustar discover defuse label WS {run_id} REGION CLASS",
                f"label regions first: ws.defuse.label({run_id}, region, cls)",
            )
        with self.images.db.session() as session:
            version = store.run_row(session, run_id).version_id
        assert version is not None
        held = self._labelled(run_id, held_out=True)
        before = self._accuracy(run_id, version, held)
        pixels = self._decode(run_id, codes)
        extra = CodeDataset(to_model_input(pixels, self.images.config), labels)
        plan = [("mixed", w) for w in options.weights]
        if options.baseline:
            plan.append(("baseline", 1.0))
        for mode, weight in plan:
            if self._made(run_id, version, mode, weight):
                continue
            weights = (1.0, weight) if mode == "mixed" else (0.0, 1.0)
            made = self._train(
                progress=progress,
                predict=False,
                parent=version,
                extra=extra,
                extra_weights=weights,
                init="current",
                epochs=options.epochs,
                learning_rate=options.learning_rate,
                batch_size=options.batch_size,
                seed=options.seed,
                name=f"defuse {run_id} {mode}" + (f" λ={weight:g}" if mode == "mixed" else ""),
            )
            after = self._accuracy(run_id, made.id, held)
            guard = made.guard.reason if made.guard is not None else None
            with self.images.db.session() as session:
                session.add(
                    DefuseCorrection(
                        run_id=run_id,
                        mode=mode,
                        weight=weight,
                        version_id=made.id,
                        status=made.status,
                        report={"parent": version, "before": before, "after": after,
                                "guard": guard},
                    )
                )  # fmt: skip
        return self.report(run_id)

    def _made(self, run_id: int, version: int, mode: str, weight: float) -> bool:
        with self.images.db.session() as session:
            rows = session.scalars(
                select(DefuseCorrection).where(
                    DefuseCorrection.run_id == run_id,
                    DefuseCorrection.mode == mode,
                    DefuseCorrection.weight == weight,
                )
            )
            return any(r.report.get("parent") == version for r in rows)

    def report(self, run_id: int) -> CorrectionReport:
        """The correction table: before, and each fine-tune of the run."""
        with self.images.db.session() as session:
            store.run_row(session, run_id)
            rows = list(
                session.scalars(
                    select(DefuseCorrection)
                    .where(DefuseCorrection.run_id == run_id)
                    .order_by(DefuseCorrection.id)
                )
            )
        if not rows:
            raise DataError(
                f"Defuse run {run_id} has no correction yet",
                f"run one: robustar discover defuse correct WS {run_id}",
                f"run one: ws.defuse.correct({run_id})",
            )
        before = rows[-1].report["before"]
        _, labels, regions = self._labelled(run_id, held_out=True)
        return CorrectionReport(
            run_id,
            int(rows[-1].report["parent"]),
            len(set(regions)),
            len(labels),
            before["region"],
            before["test"],
            before["by_region"],
            [store.correction_row(r) for r in rows],
        )

    # ----- views ----------------------------------------------------------------------------

    @torch.inference_mode()
    def _encode(self, run_id: int, items: list[IndexedImage]) -> np.ndarray:
        vae = self.vae(run_id)
        device = self.models.device
        loader = make_loader(
            pixel_dataset(self.images, items, vae.image_size),
            self.runtime.batch_size,
            self.runtime.workers,
            device,
        )
        parts = [vae.encode(x.to(device))[0].cpu().numpy() for x, _, _ in loader]
        return np.concatenate(parts) if parts else np.zeros((0, vae.latent), dtype=np.float32)

    def map(self, run_id: int, limit: int = 2000) -> LatentMap:
        """A 2-D PCA map of up to `limit` training codes, as many kept error codes and the
        region means (the PCA is fitted on the training codes)."""
        items = self._items("train")
        step = max(1, -(-len(items) // limit))
        items = items[::step]
        train = self._encode(run_id, items)
        pca = PCA(n_components=2).fit(train)
        with self.images.db.session() as session:
            latent = store.run_row(session, run_id).latent
            errors = session.execute(
                select(DefuseCode.code, DefuseCode.predicted)
                .where(DefuseCode.run_id == run_id)
                .order_by(DefuseCode.id)
            ).all()
            means = session.execute(
                select(DefuseRegion.id, DefuseRegion.mean).where(DefuseRegion.run_id == run_id)
            ).all()
        errors = errors[:: max(1, -(-len(errors) // limit))]

        def points(codes: np.ndarray, classes: list[int]) -> list[MapPoint]:
            if not len(codes):
                return []
            xy = pca.transform(codes)
            return [MapPoint(float(a), float(b), c) for (a, b), c in zip(xy, classes, strict=True)]

        def stack(blobs: list[bytes]) -> np.ndarray:
            return np.stack([store.from_blob(b, latent)[0] for b in blobs]) if blobs else (
                np.zeros((0, latent))
            )  # fmt: skip

        return LatentMap(
            [float(v) for v in pca.explained_variance_ratio_],
            points(train, [int(i.label or 0) for i in items]),
            points(stack([e.code for e in errors]), [e.predicted for e in errors]),
            points(stack([m.mean for m in means]), [m.id for m in means]),
        )

    def interpolate(
        self, run_id: int, first: int, second: int, steps: int = 8, version: int | None = None
    ) -> list[DecodedSample]:
        """Decodings along the straight line between two images' codes, each with a
        version's (default: the searched one, else the current) answer."""
        if not 2 <= steps <= 64:
            raise DataError(f"{steps} interpolation steps", "choose steps in 2..64")
        with self.images.db.session() as session:
            rows = {
                r.id: r
                for r in session.execute(
                    select(Image.id, Image.split, Image.relpath, Image.label).where(
                        Image.id.in_([first, second])
                    )
                )
            }
            searched = store.run_row(session, run_id).version_id
        for image in (first, second):
            if image not in rows:
                raise DataError(f"image {image} does not exist", "give ids of this workspace")
        items = [
            IndexedImage(i, self.images.folder(rows[i].split) / rows[i].relpath, rows[i].label)
            for i in (first, second)
        ]
        a, b = self._encode(run_id, items)
        t = np.linspace(0, 1, steps, dtype=np.float32)[:, None]
        pixels = self._decode(run_id, (1 - t) * a + t * b)
        model = self._classifier(version if version is not None else searched)[1]
        predicted, confidence = self._classify(model, pixels)
        return [
            DecodedSample(png(p), int(c), float(q))
            for p, c, q in zip(pixels, predicted, confidence, strict=True)
        ]

    def delete(self, run_id: int) -> None:
        """A run, its codes, regions and corrections (not the versions it made)."""
        with self.images.db.session() as session:
            session.delete(store.run_row(session, run_id))
        shutil.rmtree(self.folder(run_id), ignore_errors=True)
