"""`Workspace.edits`: previews, benchmark runs, stored tables and their export; what the
Python API, the CLI, the REST routes and the job handler call."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image as PILImage
from sqlalchemy import select

from robustar.annotations.masks import Masks
from robustar.data.images import ImageStore
from robustar.data.problems import Problem
from robustar.db.tables import Image
from robustar.discover.edits import store
from robustar.discover.edits.apply import EditSpec, apply, make_backend
from robustar.discover.edits.background import complexity
from robustar.discover.edits.benchmark import TEN_CROP, Item, evaluate, view_label
from robustar.discover.edits.catalogue import EDITS
from robustar.discover.edits.classify import classifier
from robustar.discover.edits.geometry import rate
from robustar.discover.edits.inpaint import BACKENDS, remove
from robustar.discover.edits.request import MAX_SEEDS, BenchmarkRequest
from robustar.discover.edits.table import Row, export, summarise
from robustar.errors import DataError
from robustar.models.store import ModelStore
from robustar.progress import ProgressCallback
from robustar.registry import MethodInfo
from robustar.report import Format

# The benchmark's default edits: the control, background changes, sizes, place and angle.
SUITE: tuple[tuple[str, dict[str, Any]], ...] = (
    ("identity", {}),
    ("background", {"source": "image"}),
    ("background", {"source": "colour"}),
    ("background", {"source": "noise"}),
    ("complexity", {"strength": 20.0}),
    ("complexity", {"strength": -20.0}),
    ("size", {"rate": "full"}),
    ("size", {"rate": 0.1}),
    ("size", {"rate": 0.08}),
    ("size", {"rate": 0.05}),
    ("position", {}),
    ("rotation", {"angle": 90.0}),
)


def default_suite() -> list[EditSpec]:
    return [EditSpec(name, options) for name, options in SUITE]


@dataclass(frozen=True)
class Prediction:
    predicted: int
    probabilities: list[float]


@dataclass(frozen=True)
class Preview:
    """One edited image beside its original, with the model's view of both."""

    image: np.ndarray
    mask: np.ndarray
    original: Prediction
    edited: Prediction
    object_rate: float
    background_complexity: float


@dataclass(frozen=True)
class RunInfo:
    """A stored benchmark run: which version, split and options; its table and skips; per
    edit label (and "original") the mean object pixel rate and background complexity of
    the edited images, the charts' axes."""

    id: int
    version_id: int
    split: str
    created_at: str
    options: dict[str, Any]
    images: int
    skipped: dict[str, dict[str, int]]
    rows: list[Row]
    measures: dict[str, dict[str, float]]


class Edits:
    """Attribute edits over a workspace's images, object masks and model versions."""

    def __init__(self, images: ImageStore, models: ModelStore, masks: Masks) -> None:
        self._images, self._models, self._masks = images, models, masks

    # ----- what there is -------------------------------------------------------------------

    def describe(self) -> list[MethodInfo]:
        return EDITS.describe()

    def backends(self) -> list[MethodInfo]:
        return BACKENDS.describe()

    # ----- one image -----------------------------------------------------------------------

    def pixels(self, image_id: int) -> tuple[np.ndarray, np.ndarray]:
        """The image (RGB uint8, native size) and its object mask; a DataError naming the
        fix when it has none."""
        image = np.asarray(self._images.load(image_id).convert("RGB"))
        mask = self._masks.current_pixels(image_id, "object")
        if mask is None:
            raise DataError(
                f"image {image_id} has no object mask",
                "draw one in the editor (kind 'object') or run auto-annotation with kind object",
            )
        return image, mask

    def edit(
        self,
        image_id: int,
        edit: str | EditSpec,
        options: dict[str, Any] | None = None,
        seed: int = 0,
        backend: str | None = None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """The edited image and its object mask, regenerated from (image, edit, seed)."""
        spec = edit if isinstance(edit, EditSpec) else EditSpec(edit, options or {})
        image, mask = self.pixels(image_id)
        edited = apply(
            spec,
            image,
            mask,
            seed=seed,
            image_key=image_id,
            backend=make_backend(backend),
            donor=self._donor(image_id, mask.shape),
        )
        return edited.image, edited.mask

    def preview(
        self,
        image_id: int,
        edit: str | EditSpec,
        options: dict[str, Any] | None = None,
        seed: int = 0,
        version: int | None = None,
        backend: str | None = None,
    ) -> Preview:
        """The edit with the model's prediction before and after (the preview page's)."""
        image, _ = self.pixels(image_id)
        edited, mask = self.edit(image_id, edit, options, seed, backend)
        probabilities = classifier(self._models, self._images.transform, version)([image, edited])
        before, after = (Prediction(int(p.argmax()), [float(x) for x in p]) for p in probabilities)
        return Preview(edited, mask, before, after, rate(mask), complexity(edited, mask))

    def _donor(
        self, image_id: int, shape: tuple[int, int]
    ) -> Callable[[np.random.Generator], np.ndarray | None]:
        """Another image of the same split with an object mask, its object removed."""

        def lend(rng: np.random.Generator) -> np.ndarray | None:
            split = self._images.record(image_id).split
            others = [i for i in self._masked_ids(split) if i != image_id]
            if not others:
                return None
            other = int(others[int(rng.integers(0, len(others)))])
            image, mask = self.pixels(other)
            filled = remove(image, mask, make_backend()) if 0 < mask.mean() < 1 else image
            return np.asarray(PILImage.fromarray(filled).resize((shape[1], shape[0])))

        return lend

    def _masked_ids(self, split: str) -> list[int]:
        return [i for i in self._split_ids(split) if self._masks.current(i, "object") is not None]

    def _split_ids(self, split: str, limit: int | None = None) -> list[int]:
        self._images.folder(split)  # an unknown split fails naming the configured ones
        query = select(Image.id).where(Image.split == split, Image.label.is_not(None))
        with self._images.db.session() as session:
            return list(session.scalars(query.order_by(Image.id).limit(limit)))

    # ----- the benchmark -------------------------------------------------------------------

    def run_request(
        self,
        request: BenchmarkRequest,
        progress: ProgressCallback = None,
        stop: Callable[[], bool] = lambda: False,
    ) -> list[RunInfo]:
        return self.run(
            request.split,
            request.versions,
            request.specs(),
            request.seeds,
            request.limit,
            request.backend,
            progress,
            stop,
            request.ten_crop,
        )

    def run(
        self,
        split: str = "test",
        versions: Sequence[int] | None = None,
        edits: Sequence[EditSpec] | None = None,
        seeds: int = 3,
        limit: int | None = None,
        backend: str | None = None,
        progress: ProgressCallback = None,
        stop: Callable[[], bool] = lambda: False,
        ten_crop: bool = False,
    ) -> list[RunInfo]:
        """Benchmark each version (default: the current one) on the split's labelled images
        with object masks: every edit at seeds 0..seeds-1; one stored run per version.
        `ten_crop`: also under ten-crop test-time augmentation, as rows of their own."""
        if not 1 <= seeds <= MAX_SEEDS:
            raise DataError(f"seeds {seeds} is out of range", f"choose seeds in 1..{MAX_SEEDS}")
        if limit is not None and limit < 1:
            raise DataError(f"limit {limit} is out of range", "choose a limit of 1 or more")
        specs = list(edits or default_suite())
        chosen = [self._models.get(v).id for v in versions] if versions else [self._models.get().id]
        ids = self._split_ids(split, limit)
        options = {
            "edits": [s.to_json() for s in specs],
            "seeds": seeds,
            "limit": limit,
            "backend": backend or BACKENDS.default,
            "ten_crop": ten_crop,
        }
        done = []
        for version in chosen:
            tally = evaluate(
                self._items(ids),
                specs,
                list(range(seeds)),
                classifier(self._models, self._images.transform, version),
                make_backend(backend),
                total=len(ids),
                progress=progress,
                stop=stop,
                ten_crop=(
                    classifier(self._models, self._images.transform, version, tta=True)
                    if ten_crop
                    else None
                ),
            )
            done.append(self.get(store.save(self._images.db, version, split, options, tally)))
        return done

    def _items(self, ids: Sequence[int]) -> Iterator[Item]:
        labels = self._images.labels(list(ids))
        for image_id in ids:
            image = np.asarray(self._images.load(image_id).convert("RGB"))
            mask = self._masks.current_pixels(image_id, "object")
            yield Item(image_id, int(labels[image_id] or 0), image, mask)

    def _info(self, record: store.RunRecord) -> RunInfo:
        labels = [EditSpec(e["name"], e["options"]).label for e in record.options.get("edits", [])]
        views = ["", TEN_CROP] if record.options.get("ten_crop") else [""]
        return RunInfo(
            record.id,
            record.version_id,
            record.split,
            record.created_at.isoformat(),
            record.options,
            record.images,
            record.skipped,
            summarise(
                record.counts,
                self._images.classes,
                [view_label(label, view) for view in views for label in labels],
            ),
            record.measures,
        )

    def runs(self, version: int | None = None) -> list[RunInfo]:
        return [self._info(r) for r in store.runs(self._images.db, version)]

    def get(self, run_id: int) -> RunInfo:
        return self._info(store.get(self._images.db, run_id))

    def flips(self, run_id: int, limit: int = 200, offset: int = 0) -> list[store.FlipRecord]:
        return store.flips(self._images.db, run_id, limit, offset)

    def export(
        self, run_ids: Sequence[int], format: Format = "markdown", per_class: bool = False
    ) -> str:
        """The runs' tables side by side (a column pair per run), as Markdown or HTML."""
        runs = [self.get(r) for r in run_ids]
        names = [f"v{r.version_id} {r.split} (run {r.id})" for r in runs]
        return export(dict(zip(names, [r.rows for r in runs], strict=True)), format, per_class)

    # ----- data ------------------------------------------------------------------------------

    def load_problem_masks(self, problem: str | Path, splits: Sequence[str] | None = None) -> int:
        """Save a generated problem's true object masks (truth/objects) as `object` masks of
        the matching images; returns how many were saved."""
        found = Problem.load(problem)
        saved = 0
        for split in splits or list(self._images.folders):
            folder = self._images.folder(split).resolve()
            for image_id in self._split_ids(split):
                path = folder / self._images.record(image_id).relpath
                try:
                    truth = found.object_mask(path)
                except ValueError:  # the split's folder is not in this problem
                    break
                if truth.exists():
                    self._masks.set(image_id, np.asarray(PILImage.open(truth)) > 0, "object")
                    saved += 1
        return saved
