"""How much disk a workspace's folders use, by category and by model version.

Sizes are apparent sizes (the sum of the files' lengths, as `du --apparent-size -b` counts),
so that a report adds up to exactly what deleting the files would free on most filesystems.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from robustar.db.session import DB_FILE
from robustar.models.versions import MODELS_DIR, VersionInfo
from robustar.paths import Paths

ANNOTATIONS_DIR = "annotations"  # masks and proposals: never touched by gc


@dataclass(frozen=True)
class Size:
    bytes: int
    files: int

    def __add__(self, other: Size) -> Size:
        return Size(self.bytes + other.bytes, self.files + other.files)


NOTHING = Size(0, 0)


def size_of(path: Path) -> Size:
    """A file's or a folder tree's size (symbolic links are not followed); nothing if absent."""
    if path.is_symlink() or path.is_file():
        return Size(path.lstat().st_size, 1) if path.exists() or path.is_symlink() else NOTHING
    total = NOTHING
    if not path.is_dir():
        return total
    for folder, _dirs, files in os.walk(path):
        for name in files:
            total += Size(os.lstat(os.path.join(folder, name)).st_size, 1)
    return total


@dataclass(frozen=True)
class CategoryUsage:
    category: str  # database, models, runs, annotations, cache/<kind>, other
    bytes: int
    files: int


@dataclass(frozen=True)
class VersionUsage:
    """What one model version holds: its folder (weights, epoch checkpoints), its caches
    (saliency, activation, attribution) and its training run's folder."""

    id: int
    name: str
    status: str
    is_current: bool
    pinned: bool
    model_bytes: int
    cache_bytes: int
    run_bytes: int


@dataclass(frozen=True)
class DiskReport:
    total_bytes: int  # every file under the workspace folder
    categories: list[CategoryUsage]  # they add up to total_bytes
    versions: list[VersionUsage]


def database_files(root: Path) -> list[Path]:
    """The SQLite file and its write-ahead log (absent with PostgreSQL)."""
    return [root / f"{DB_FILE}{suffix}" for suffix in ("", "-wal", "-shm", "-journal")]


def version_caches(cache: Path, version_id: int) -> list[Path]:
    """Every cache folder of one version (cache/<kind>/v<id>), whatever the kind."""
    return sorted(cache.glob(f"*/v{version_id}"))


def run_folder(paths: Paths, version: VersionInfo) -> Path | None:
    run = version.config.get("run")
    return paths.runs / run if isinstance(run, str) and run else None


def disk_report(paths: Paths, versions: list[VersionInfo]) -> DiskReport:
    root = paths.root
    categories = {
        "database": sum((size_of(p) for p in database_files(root)), NOTHING),
        "models": size_of(root / MODELS_DIR),
        "runs": size_of(paths.runs),
        "annotations": size_of(root / ANNOTATIONS_DIR),
    }
    if paths.cache.is_dir():
        for kind in sorted(p for p in paths.cache.iterdir()):
            categories[f"cache/{kind.name}"] = size_of(kind)
    total = size_of(root)
    counted = sum(categories.values(), NOTHING)
    categories["other"] = Size(total.bytes - counted.bytes, total.files - counted.files)
    usage = [CategoryUsage(name, s.bytes, s.files) for name, s in categories.items()]
    per_version = []
    for v in versions:
        run = run_folder(paths, v)
        per_version.append(
            VersionUsage(
                v.id,
                v.name,
                v.status,
                v.is_current,
                v.pinned,
                size_of(root / MODELS_DIR / f"v{v.id}").bytes,
                sum(size_of(p).bytes for p in version_caches(paths.cache, v.id)),
                0 if run is None else size_of(run).bytes,
            )
        )
    return DiskReport(total.bytes, usage, per_version)
