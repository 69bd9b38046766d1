"""The workspace at a glance: splits, class counts, problem files, model versions."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import func, select

from robustar.db.tables import ScanProblem
from robustar.versions import VersionInfo, list_versions

if TYPE_CHECKING:
    from robustar.workspace import Workspace


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


def summarize(workspace: Workspace) -> WorkspaceInfo:
    with workspace.session() as session:
        problems = dict(
            session.execute(
                select(ScanProblem.split, func.count()).group_by(ScanProblem.split)
            ).all()
        )
        splits = []
        for split, folder in workspace.folders.items():
            counts = workspace.class_counts(split)
            splits.append(
                SplitInfo(split, str(folder), sum(counts.values()), counts, problems.get(split, 0))
            )
        versions = list_versions(session)
    current = next((v.id for v in versions if v.is_current), None)
    return WorkspaceInfo(str(workspace.root), workspace.classes, splits, versions, current)
