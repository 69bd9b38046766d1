"""`Workspace.masks`: the annotation stage (Python API, CLI and server use it)."""

from __future__ import annotations

import threading
from collections.abc import Collection, Iterator
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import select

from robustar.accounts import actor
from robustar.annotations import assist, proposals, store
from robustar.annotations.coverage import Coverage, annotated_counts, judge
from robustar.annotations.maskfile import as_binary
from robustar.annotations.proposals import AutoAnnotate, AutoAnnotated, ProposalInfo
from robustar.annotations.segmenters import Segmenter, load_segmenter
from robustar.annotations.transfer import run
from robustar.annotations.transfer.names import Matcher, Naming, Row
from robustar.annotations.transfer.options import (
    ExportOptions,
    ImportOptions,
    ImportReport,
    parse,
)
from robustar.annotations.transfer.shared import Item
from robustar.config import LABELLED_SPLITS, RuntimeConfig, SegmentationConfig
from robustar.data.images import ImageStore
from robustar.db.tables import Image, Mask
from robustar.errors import ConflictError, DataError, NotFoundError
from robustar.predict.browse import Browser
from robustar.progress import ProgressCallback, report

SET_ATTEMPTS = 5  # `set` overwrites: a save lost to a concurrent one is tried again


class Masks:
    """Versioned binary masks of kind `spurious` (default) or `object`, at native size."""

    def __init__(
        self,
        images: ImageStore,
        browser: Browser,
        root: Path,
        segmentation: SegmentationConfig | None,
        runtime: RuntimeConfig,
    ) -> None:
        self._images = images
        self._db = images.db
        self._browser = browser
        self._root = root
        self._segmentation = segmentation
        self._runtime = runtime
        self._segmenter: Segmenter | None = None
        self._segmenter_lock = threading.Lock()

    def get(self, image_id: int, kind: str = "spurious", version: int | None = None) -> np.ndarray:
        """The mask as a boolean array (height, width); NotFoundError when there is none."""
        with self._db.session() as session:
            return store.load_mask(session, self._root, image_id, kind, version)[1]

    def current_pixels(self, image_id: int, kind: str = "spurious") -> np.ndarray | None:
        """The current mask, or None when the image has none."""
        try:
            return self.get(image_id, kind)
        except NotFoundError:
            return None

    def current(self, image_id: int, kind: str = "spurious") -> store.MaskVersion | None:
        with self._db.session() as session:
            row = store.current_row(session, image_id, store.check_kind(kind))
            return None if row is None else store.to_info(row)

    def load(
        self, image_id: int, kind: str = "spurious", version: int | None = None
    ) -> tuple[store.MaskVersion, np.ndarray]:
        with self._db.session() as session:
            return store.load_mask(session, self._root, image_id, kind, version)

    def save(
        self,
        image_id: int,
        mask: np.ndarray,
        kind: str = "spurious",
        base_version: int | None = None,
        author: str | None = None,
    ) -> store.MaskVersion:
        """Save a new version; ConflictError unless `base_version` is the current version.
        The author is the acting account (the OS account outside team mode) unless given."""
        mask = as_binary(np.asarray(mask), "the mask")
        by = actor.current() if author is None else actor.Actor(author)
        with self._db.session() as session:
            return store.save_mask(
                session, self._root, image_id, kind, mask, base_version, by.name, by.user_id
            )

    def set(self, image_id: int, mask: np.ndarray, kind: str = "spurious") -> store.MaskVersion:
        """Save over whatever is current (scripts; the page uses `save` with its version)."""
        for _ in range(SET_ATTEMPTS - 1):
            current = self.current(image_id, kind)
            try:
                return self.save(image_id, mask, kind, None if current is None else current.version)
            except ConflictError:
                continue  # someone saved in between: overwrite their version instead
        current = self.current(image_id, kind)
        return self.save(image_id, mask, kind, None if current is None else current.version)

    def history(self, image_id: int, kind: str = "spurious") -> list[store.MaskVersion]:
        with self._db.session() as session:
            return store.history(session, image_id, kind)

    def restore(
        self, image_id: int, version: int, kind: str = "spurious", base_version: int | None = None
    ) -> store.MaskVersion:
        """Make an old version current again, as a new version (history is never rewritten)."""
        old = self.get(image_id, kind, version)
        return self.save(image_id, old, kind, base_version)

    def progress(self, kind: str = "spurious") -> dict[str, dict[str, tuple[int, int]]]:
        """Per labelled split and class: (annotated images, images)."""
        splits = [s for s in LABELLED_SPLITS if s in self._images.folders]
        counts = annotated_counts(self._db, splits, store.check_kind(kind))
        names = self._images.classes
        return {
            split: {names[label]: c for label, c in classes.items()}
            for split, classes in counts.items()
        }

    def coverage(self, split: str = "train") -> Coverage:
        """Spurious masks per class of a labelled split, and whether they are too skewed for
        paired training (see `judge`)."""
        if split not in LABELLED_SPLITS or split not in self._images.folders:
            present = [s for s in LABELLED_SPLITS if s in self._images.folders]
            raise DataError(f"no labelled split {split!r}", f"use one of {', '.join(present)}")
        counts = annotated_counts(self._db, [split], "spurious").get(split, {})
        names = self._images.classes
        return judge(split, {name: counts.get(i, (0, 0)) for i, name in enumerate(names)})

    # ----- assisted selection ----------------------------------------------------------------

    def superpixels(self, image_id: int, segments: int = 200) -> np.ndarray:
        return assist.superpixels(self._images.load(image_id), segments)

    def grabcut(
        self,
        image_id: int,
        box: tuple[int, int, int, int],
        foreground: list[tuple[int, int]] = (),  # type: ignore[assignment]
        background: list[tuple[int, int]] = (),  # type: ignore[assignment]
    ) -> np.ndarray:
        return assist.grabcut(self._images.load(image_id), box, foreground, background)

    def segment(
        self, image_id: int, points: list[tuple[int, int]], labels: list[int]
    ) -> np.ndarray:
        """A proposal from the configured segmentation model (loaded once, on first use)."""
        with self._segmenter_lock:
            if self._segmenter is None:
                self._segmenter = load_segmenter(
                    self._segmentation, self._root, self._runtime.device
                )
            return self._segmenter.propose(self._images.load(image_id), points, labels)

    # ----- batch proposals and their review -------------------------------------------------

    def auto_annotate(self, progress: ProgressCallback = None, **params: object) -> AutoAnnotated:
        """Propose masks for a filtered set in this process (a job does the same in the
        worker: `Workspace.jobs.auto_annotate`). Returns the proposals made and the images
        whose proposal was empty (not kept)."""
        return self.propose_all(proposals.parse_request(params), progress)

    def propose_all(
        self,
        params: AutoAnnotate,
        progress: ProgressCallback = None,
        job_id: int | None = None,
    ) -> AutoAnnotated:
        """One pending proposal per image the request's filters select, but none that is
        empty (see `AutoAnnotate.invert` for what an object method proposes as spurious)."""
        selected = self._browser.images(
            params.split, sort="id", limit=params.limit, **params.filters
        )
        ids = [image.id for image in selected]
        return proposals.auto_annotate(
            self._db, self._root, ids, params, lambda i: self._propose(i, params), progress, job_id
        )

    def _propose(self, image_id: int, params: AutoAnnotate) -> np.ndarray:
        if params.method == "colour":
            if not params.colours:
                raise DataError("the colour method needs colours", "give colours=[[r, g, b], ...]")
            return assist.colour_range(
                self._images.load(image_id), params.colours, params.tolerance
            )
        if params.method == "grabcut":
            image = self._images.load(image_id)
            dx, dy = round(image.width * params.margin), round(image.height * params.margin)
            return assist.grabcut(image, (dx, dy, image.width - dx, image.height - dy))
        return self.segment(image_id, [], [])

    def proposals(
        self, status: str = "pending", kind: str | None = None, limit: int = 100, offset: int = 0
    ) -> tuple[int, list[ProposalInfo]]:
        return proposals.list_proposals(self._db, status, kind, limit, offset)

    def proposal(self, proposal_id: int) -> tuple[ProposalInfo, np.ndarray]:
        return proposals.proposal_mask(self._db, self._root, proposal_id)

    def accept(
        self, proposal_id: int, edited: np.ndarray | None = None, store: bool = True
    ) -> ProposalInfo:
        mask = None if edited is None else as_binary(np.asarray(edited), "the edited mask")
        return proposals.review(self._db, self._root, proposal_id, True, mask, store)

    def reject(self, proposal_id: int) -> ProposalInfo:
        return proposals.review(self._db, self._root, proposal_id, False)

    # ----- import and export -----------------------------------------------------------------

    def _exported(
        self, options: ExportOptions, image_ids: Collection[int] | None = None
    ) -> Iterator[Item]:
        """(image id, name, mask) of each current mask the options select (only of
        `image_ids` when given: a view's export), in id order."""
        query = (
            select(Image.id, Image.split, Image.relpath)
            .join(Mask, Mask.image_id == Image.id)
            .where(Mask.is_current, Mask.kind == store.check_kind(options.kind))
            .order_by(Image.id)
        )
        if options.split is not None:
            self._images.folder(options.split)  # an unknown split is an error, not no masks
            query = query.where(Image.split == options.split)
        if options.label is not None:
            query = query.where(Image.label == self._images.class_index(options.label))
        naming = Naming(
            self._images.folders, options.image_root, options.absolute_paths, options.name_prefix
        )
        with self._db.session() as session:
            rows = session.execute(query).all()
        chosen = None if image_ids is None else set(image_ids)
        for image_id, split, relpath in rows:
            if chosen is None or image_id in chosen:
                yield image_id, naming(split, relpath), self.get(image_id, options.kind)

    def export_to(
        self,
        out: str | Path,
        format: str = "png",
        image_ids: Collection[int] | None = None,
        **options: Any,
    ) -> int:
        """Write the current masks (ExportOptions: format, kind, split, label, image_root,
        absolute_paths, name_prefix), only those of `image_ids` when given (a view's export):
        a PNG folder (or .zip) or one JSON file; returns the number of masks."""
        chosen = parse(ExportOptions, {"format": format, **options})
        return run.export_path(Path(out), self._exported(chosen, image_ids), chosen)

    def export_file(self, **options: Any) -> run.ExportFile:
        """The export as one file in memory (PNG: a zip), for a download."""
        chosen = parse(ExportOptions, options)
        return run.export_file(self._exported(chosen), chosen)

    def import_from(
        self,
        source: str | Path | bytes,
        format: str = "png",
        progress: ProgressCallback = None,
        **options: Any,
    ) -> ImportReport:
        """Read, match and check every mask first (ImportOptions: format, kind, category,
        match, split, image_root, skip_unmatched, dry_run); then store the ones that change
        (one new version each), unless it is a dry run or something is wrong."""
        chosen = parse(ImportOptions, {"format": format, **options})
        store.check_kind(chosen.kind)
        if chosen.split is not None:
            self._images.folder(chosen.split)
        given = source if isinstance(source, bytes) else Path(source)
        found = run.read_source(given, chosen)
        with self._db.session() as session:
            rows = [
                Row(*row)
                for row in session.execute(
                    select(Image.id, Image.split, Image.relpath, Image.width, Image.height)
                )
            ]
        matcher = Matcher(rows, self._images.folders, chosen.match, chosen.split, chosen.image_root)
        plan = run.plan(
            found,
            matcher,
            lambda image_id: self.current_pixels(image_id, chosen.kind),
            chosen.dry_run,
            progress,
        )
        if chosen.dry_run:
            return plan.report
        run.check(plan, "the upload" if isinstance(given, bytes) else str(given), chosen)
        by = actor.current()
        with self._db.session() as session:
            for done, (image_id, mask) in enumerate(plan.changed.items()):
                row = store.current_row(session, image_id, chosen.kind)
                store.save_mask(
                    session,
                    self._root,
                    image_id,
                    chosen.kind,
                    mask,
                    None if row is None else row.version,
                    by.name,
                    by.user_id,
                )
                report(progress, "store masks", done + 1, len(plan.changed))
        return plan.report.model_copy(update={"stored": len(plan.changed)})
