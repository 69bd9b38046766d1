"""The workspace at a glance: splits, class counts, problem files, model versions, training
runs stopped before their end."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import func, select

from robustar.data.images import ImageStore
from robustar.db.tables import ScanProblem
from robustar.models.versions import VersionInfo, list_versions
from robustar.train.runs import UnfinishedRun, unfinished_runs


@dataclass(frozen=True)
class SplitInfo:
    name: str
    folder: str
    images: int
    class_counts: dict[str, int]
    problems: int


@dataclass(frozen=True)
class WorkspaceInfo:
    root: str
    classes: list[str]
    splits: list[SplitInfo]
    versions: list[VersionInfo]
    current_version: int | None
    unfinished_runs: list[UnfinishedRun]


def summarize(root: Path, images: ImageStore, runs: Path) -> WorkspaceInfo:
    with images.db.session() as session:
        problems = dict(
            session.execute(
                select(ScanProblem.split, func.count()).group_by(ScanProblem.split)
            ).all()
        )
        versions = list_versions(session)
    splits = []
    for split, folder in images.folders.items():
        counts = images.class_counts(split)
        splits.append(
            SplitInfo(split, str(folder), sum(counts.values()), counts, problems.get(split, 0))
        )
    current = next((v.id for v in versions if v.is_current), None)
    return WorkspaceInfo(
        str(root), images.classes, splits, versions, current, unfinished_runs(runs)
    )
