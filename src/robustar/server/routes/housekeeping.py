"""Disk use and gc. POST /gc removes files: it is the page's "Clean up" action, a dry run
unless the body says otherwise; archiving (moving files to a folder) is the CLI's alone, since
no client names a server path."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import Field

from robustar.housekeeping.disk import DiskReport
from robustar.housekeeping.gc import GcResult
from robustar.housekeeping.retention import Retention
from robustar.server.auth import ADMIN, VIEWER
from robustar.server.deps import WorkspaceDep

router = APIRouter(tags=["housekeeping"])


class GcRequest(Retention):
    dry_run: bool = Field(
        True, strict=True, description="true: only report what would go; false: remove it"
    )


@router.get("/disk", response_model=DiskReport, dependencies=VIEWER)
def disk_usage(workspace: WorkspaceDep) -> DiskReport:
    """Disk used by the workspace by category (database, models, runs, annotations, each
    cache, other: they add up to the total) and by model version (folder, caches, run)."""
    return workspace.disk_usage()


@router.post("/gc", response_model=GcResult, dependencies=ADMIN)
def collect_garbage(workspace: WorkspaceDep, body: GcRequest) -> GcResult:
    """Remove old model versions (their folders, caches and runs; rows stay, marked
    deleted), orphaned caches and runs and old finished job records under the retention rule.
    Always kept: the current version, its parent, pinned versions, the last `keep_last`,
    versions a queued or running job uses, and every annotation. `dry_run` (the default)
    changes nothing and lists what would go."""
    rule = Retention.model_validate(body.model_dump(exclude={"dry_run"}))
    return workspace.gc(dry_run=body.dry_run, rule=rule)
