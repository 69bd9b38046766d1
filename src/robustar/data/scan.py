"""Index a split folder: every image once, with a stable id, size, label and fingerprint.

Rescans are incremental: files whose size and modification time are unchanged are not read
again; new and changed files are read, hashed and fully decoded (in worker processes when
there are many), removed files lose their rows. The whole scan is one transaction.
"""

from __future__ import annotations

import hashlib
import os
import time
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import Row, delete, insert, select, update
from sqlalchemy.orm import Session

from robustar.data.formats import read_pixels
from robustar.data.imageio import IMAGE_EXTENSIONS, ImageDecodeError, Reading, picture
from robustar.data.tiles import cut_large
from robustar.db.tables import Image, ScanProblem
from robustar.errors import DataError
from robustar.progress import ProgressCallback, report

PARALLEL_THRESHOLD = 2000


@dataclass(frozen=True)
class FoundFile:
    relpath: str
    label: int | None
    size_bytes: int
    mtime_ns: int


@dataclass
class ScanReport:
    split: str
    added: int = 0
    changed: int = 0
    removed: int = 0
    unchanged: int = 0
    problems: list[tuple[str, str]] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def images(self) -> int:
        return self.added + self.changed + self.unchanged


def walk_files(
    folder: Path, split_root: Path, problems: list[tuple[str, str]], prefix: str = ""
) -> Iterator[tuple[str, os.stat_result]]:
    """Files under `folder`; a symbolic link is followed only when its target lies inside the
    split (`split_root`, resolved), otherwise it is a problem, and a link back to a folder
    above it is not followed again."""
    with os.scandir(folder) as entries:
        for entry in sorted(entries, key=lambda e: e.name):
            if entry.name.startswith("."):
                continue
            rel = f"{prefix}{entry.name}"
            if entry.is_symlink():
                target = Path(entry.path).resolve()
                if target != split_root and split_root not in target.parents:
                    problems.append((rel, f"link to {target}, outside the split folder; skipped"))
                    continue
                here = folder.resolve()
                if entry.is_dir() and (target == here or target in here.parents):
                    problems.append((rel, "link to a folder above it (a loop); skipped"))
                    continue
            if entry.is_dir(follow_symlinks=True):
                yield from walk_files(Path(entry.path), split_root, problems, rel + "/")
            elif entry.is_file(follow_symlinks=True):
                yield rel, entry.stat(follow_symlinks=True)


def find_files(
    root: Path, classes: list[str] | None
) -> tuple[list[FoundFile], list[tuple[str, str]]]:
    """List candidate image files; `classes` None means an unlabelled split (the pool)."""
    found: list[FoundFile] = []
    problems: list[tuple[str, str]] = []
    index = {name: i for i, name in enumerate(classes or [])}
    seen_classes: dict[str, int] = {}
    for rel, stat in walk_files(root, root.resolve(), problems):
        suffix = os.path.splitext(rel)[1].lower()
        label = None
        if classes is not None:
            folder, sep, _ = rel.partition("/")
            if not sep:
                problems.append((rel, "not inside a class folder; move it into one"))
                continue
            if folder not in index:
                raise DataError(
                    f"{root / folder}: folder is not one of the classes ({', '.join(classes)})",
                    "rename or remove the folder, or add the class to the class list",
                )
            label = index[folder]
            seen_classes.setdefault(folder, 0)
        if suffix not in IMAGE_EXTENSIONS:
            problems.append((rel, f"not an image file (extension {suffix or 'none'})"))
            continue
        if label is not None:
            seen_classes[rel.partition("/")[0]] += 1
        found.append(FoundFile(rel, label, stat.st_size, stat.st_mtime_ns))
    if classes is not None:
        skipped = {rel for rel, _ in problems}
        for child in sorted(root.iterdir()):
            if child.name in skipped:  # a link that is reported as a problem
                continue
            if child.is_dir() and not child.name.startswith(".") and child.name not in index:
                raise DataError(
                    f"{child}: folder is not one of the classes ({', '.join(classes)})",
                    "rename or remove the folder, or add the class to the class list",
                )
            if child.is_dir() and child.name in index and not seen_classes.get(child.name):
                raise DataError(
                    f"{child}: class folder contains no images",
                    "add images to it, or remove the folder (and the class, if it has no "
                    "images anywhere)",
                )
    return found, problems


def find_listed(
    root: Path, listed: dict[str, int | None]
) -> tuple[list[FoundFile], list[tuple[str, str]]]:
    """The files a labels table lists for the split (relative path -> class index, None for
    the pool); a listed file that is gone, or a link out of the folder, is a problem."""
    found: list[FoundFile] = []
    problems: list[tuple[str, str]] = []
    inside = root.resolve()
    for rel, label in sorted(listed.items()):
        path = root / rel
        if not path.is_file():
            problems.append(
                (
                    rel,
                    "listed in the labels file but missing; restore it or remove "
                    "its row from labels.csv",
                )
            )
            continue
        if inside not in path.resolve().parents:
            problems.append((rel, f"link to {path.resolve()}, outside the split folder; skipped"))
            continue
        suffix = os.path.splitext(rel)[1].lower()
        if suffix not in IMAGE_EXTENSIONS:
            problems.append((rel, f"not an image file (extension {suffix or 'none'})"))
            continue
        stat = path.stat()
        found.append(FoundFile(rel, label, stat.st_size, stat.st_mtime_ns))
    return found, problems


def _unchanged(row: Row | None, f: FoundFile) -> bool:
    return row is not None and row.size_bytes == f.size_bytes and row.mtime_ns == f.mtime_ns


def _read(task: tuple[str, str, Reading]) -> tuple[str, int, int, str] | tuple[str, str]:
    """Worker: hash and fully decode one file, as the model sees it and as the page shows it
    (so a wrong channel mapping is a problem here); return (rel, w, h, digest) or (rel, problem)."""
    path, rel, reading = task
    try:
        data = Path(path).read_bytes()
    except OSError as error:
        return rel, f"cannot read file: {error.strerror or error}"
    try:
        pixels = read_pixels(data, reading.max_pixels)
        image = picture(pixels, reading, rel)
        if reading.display_channels is not None:
            picture(pixels, reading.for_display(), rel)
    except ImageDecodeError as error:
        return rel, str(error)
    return rel, image.width, image.height, hashlib.blake2b(data, digest_size=16).hexdigest()


def _read_all(
    split: str,
    root: Path,
    files: list[FoundFile],
    reading: Reading,
    workers: int,
    progress: ProgressCallback,
) -> Iterator[tuple[str, int, int, str] | tuple[str, str]]:
    tasks = [(str(root / f.relpath), f.relpath, reading) for f in files]
    if workers > 1 and len(tasks) >= PARALLEL_THRESHOLD:
        with ProcessPoolExecutor(max_workers=workers) as pool:
            for done, result in enumerate(pool.map(_read, tasks, chunksize=256), 1):
                report(progress, f"scan {split}", done, len(tasks))
                yield result
    else:
        for done, task in enumerate(tasks, 1):
            report(progress, f"scan {split}", done, len(tasks))
            yield _read(task)


def scan_split(
    session: Session,
    split: str,
    root: Path,
    classes: list[str] | None,
    reading: Reading,
    workers: int = 1,
    progress: ProgressCallback = None,
    listed: dict[str, int | None] | None = None,
    large: tuple[int, int] | None = None,
) -> ScanReport:
    """Bring the image index of one split up to date with its folder (caller commits); with
    `listed` (a labels table's rows for the split), with those files and labels instead of
    the class sub-folders. `large` (threshold, tile side) cuts TIFFs above the threshold into
    tiles first (class folders only: a labels table lists its files)."""
    started = time.perf_counter()
    if not root.is_dir():
        raise DataError(
            f"{split} folder {root} does not exist",
            f"create it, or fix [data] {split} in robustar.toml",
        )
    found, problems = find_files(root, classes) if listed is None else find_listed(root, listed)
    existing = {
        row.relpath: row
        for row in session.execute(
            select(Image.id, Image.relpath, Image.size_bytes, Image.mtime_ns, Image.label).where(
                Image.split == split
            )
        )
    }
    # Only files not indexed as they are now can be new slides.
    if large is not None and listed is None:
        fresh = [f.relpath for f in found if not _unchanged(existing.get(f.relpath), f)]
        slides, wrote = cut_large(root, fresh, *large)
        if wrote:
            found, problems = find_files(root, classes)
        found = [f for f in found if f.relpath not in slides]
        problems += list(slides.items())
    result = ScanReport(split=split, problems=problems)
    todo: list[FoundFile] = []
    ids: dict[str, int] = {}
    relabelled: list[dict] = []  # unchanged files whose row in labels.csv changed label
    for f in found:
        row = existing.pop(f.relpath, None)
        if row is None:
            todo.append(f)
        elif _unchanged(row, f):
            result.unchanged += 1
            if row.label != f.label:
                relabelled.append({"id": row.id, "label": f.label})
        else:
            ids[f.relpath] = row.id
            todo.append(f)
    by_rel = {f.relpath: f for f in todo}
    gone = [row.id for row in existing.values()]
    new_rows: list[dict] = []
    changed_rows: list[dict] = []
    for outcome in _read_all(split, root, todo, reading, workers, progress):
        if len(outcome) == 2:
            rel, message = outcome
            result.problems.append((rel, message))
            if rel in ids:
                gone.append(ids[rel])
            continue
        rel, width, height, digest = outcome
        f = by_rel[rel]
        values = dict(
            split=split,
            relpath=rel,
            label=f.label,
            width=width,
            height=height,
            size_bytes=f.size_bytes,
            mtime_ns=f.mtime_ns,
            fingerprint=digest,
        )
        if rel in ids:
            changed_rows.append({"id": ids[rel], **values})
        else:
            new_rows.append(values)
    if gone:
        session.execute(delete(Image).where(Image.id.in_(gone)))
    if new_rows:
        session.execute(insert(Image), new_rows)
    for rows in (changed_rows, relabelled):
        if rows:
            session.execute(update(Image), rows)
    session.execute(delete(ScanProblem).where(ScanProblem.split == split))
    if result.problems:
        session.execute(
            insert(ScanProblem),
            [{"split": split, "relpath": r, "message": m} for r, m in result.problems],
        )
    result.added, result.changed, result.removed = len(new_rows), len(changed_rows), len(gone)
    result.seconds = time.perf_counter() - started
    return result
