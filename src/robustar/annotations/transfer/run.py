"""Exports end to end, and imports that read and check everything before anything is stored:
the plan says what matched, what did not, and what would change."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from robustar.annotations.transfer import coco, labelstudio, pngs
from robustar.annotations.transfer.names import Matcher
from robustar.annotations.transfer.options import ExportOptions, ImportOptions, ImportReport
from robustar.annotations.transfer.shared import Found, Item
from robustar.errors import DataError
from robustar.progress import ProgressCallback, report
from robustar.storage import atomic_bytes

SHOWN = 10  # names an error lists before "and N more"


@dataclass(frozen=True)
class ExportFile:
    """An export as one file to download: a zip of PNGs or a JSON document."""

    data: bytes
    media_type: str
    filename: str
    count: int


def export_file(items: Iterable[Item], options: ExportOptions) -> ExportFile:
    counted = _Counted(items)
    stem = f"robustar-{options.kind}-masks"
    if options.format == "png":
        data, count = pngs.zip_bytes(counted)
        return ExportFile(data, "application/zip", f"{stem}.zip", count)
    if options.format == "labelstudio":
        document: object = labelstudio.tasks(counted, options.kind)
    else:
        document = coco.document(counted, options.kind, options.format == "coco-polygons")
    name = f"{stem}-{options.format}.json"
    return ExportFile(json.dumps(document).encode(), "application/json", name, counted.count)


def export_path(out: Path, items: Iterable[Item], options: ExportOptions) -> int:
    """A PNG folder (or a zip when `out` ends in .zip), else one JSON file."""
    if options.format == "png" and out.suffix.lower() != ".zip":
        return pngs.write_folder(out, items)
    exported = export_file(items, options)
    atomic_bytes(out, exported.data)
    return exported.count


class _Counted:
    def __init__(self, items: Iterable[Item]) -> None:
        self.items = items
        self.count = 0

    def __iter__(self) -> Iterator[Item]:
        for item in self.items:
            self.count += 1
            yield item


def read_source(source: Path | bytes, options: ImportOptions) -> list[Found]:
    """Every mask the source holds, not decoded yet; `source` a file or folder, or the bytes
    of an upload."""
    where = "the upload" if isinstance(source, bytes) else str(source)
    if options.format == "png" and isinstance(source, Path) and source.is_dir():
        found = pngs.read_folder(source)
    else:
        data = source if isinstance(source, bytes) else _read(source)
        category = options.category or options.kind
        if options.format == "png":
            found = pngs.read_zip(data, where)
        elif options.format == "labelstudio":
            found = labelstudio.read(data, where, category)
        else:
            found = coco.read(data, where, category)
    return found


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as error:
        raise DataError(f"cannot read {path}: {error.strerror}", "give an existing file") from None


@dataclass
class Plan:
    report: ImportReport
    changed: dict[int, np.ndarray]  # image id -> the mask to store


def plan(
    found: list[Found],
    matcher: Matcher,
    current: Callable[[int], np.ndarray | None],
    dry_run: bool,
    progress: ProgressCallback = None,
) -> Plan:
    """Match every name, decode every matched mask (several for one image are united) and
    compare with the current mask; a bad mask stops it with its place named."""
    masks: dict[int, np.ndarray] = {}
    unmatched: list[str] = []
    ambiguous: dict[str, list[str]] = {}
    for done, item in enumerate(found):
        rows = matcher(item.name)
        if not rows:
            unmatched.append(item.name)
        elif len(rows) > 1:
            ambiguous[item.name] = sorted(row.name for row in rows)
        else:
            mask = item.decode(rows[0].width, rows[0].height)
            previous = masks.get(rows[0].id)
            masks[rows[0].id] = mask if previous is None else previous | mask
        report(progress, "read masks", done + 1, len(found))
    changed = {}
    for image_id, mask in masks.items():
        now = current(image_id)
        if now is None or not np.array_equal(now, mask):
            changed[image_id] = mask
    result = ImportReport(
        dry_run=dry_run,
        masks=len(found),
        matched=len(masks),
        would_change=len(changed),
        stored=0,
        unmatched=sorted(set(unmatched)),
        ambiguous=ambiguous,
    )
    return Plan(result, changed)


def check(plan: Plan, source: str, options: ImportOptions) -> None:
    """Refuse an import whose names do not all match one image (unless skipping is allowed),
    or that holds no mask at all."""
    found = plan.report
    if found.masks == 0:
        raise DataError(f"{source} holds no {options.format} masks", "give the exported file")
    problems = []
    if found.unmatched:
        problems.append(f"{len(found.unmatched)} match no image: {_listed(found.unmatched)}")
    if found.ambiguous:
        several = [f"{name} ({', '.join(rows)})" for name, rows in found.ambiguous.items()]
        problems.append(f"{len(several)} match several images: {_listed(several)}")
    if problems and not options.skip_unmatched:
        raise DataError(
            f"{source}: of {found.masks} masks, " + "; ".join(problems) + "; nothing was stored",
            "fix the names, or match them otherwise (--match stem, --split, --image-root), or "
            "store the rest with --skip-unmatched; --dry-run lists every name",
        )


def _listed(names: list[str]) -> str:
    more = f" and {len(names) - SHOWN} more" if len(names) > SHOWN else ""
    return ", ".join(names[:SHOWN]) + more
