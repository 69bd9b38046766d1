"""Carry out a retention plan: mark the rows, then delete or archive the files.

The rows change first, in one short transaction that rechecks the rule against the database
(a version made current, or a job queued, since the plan was made is spared); the files go
after the commit. A crash in between leaves files of versions already marked removed: the
next plan lists them as leftovers. Only files under models/, runs/ and cache/ are ever touched.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import asdict, dataclass
from pathlib import Path

from sqlalchemy import delete, false, select, update
from sqlalchemy.orm import Session

from robustar.db.session import Database
from robustar.db.tables import Job, ModelVersion, Prediction, Suspicion
from robustar.errors import DataError
from robustar.housekeeping.retention import (
    KeptVersion,
    Plan,
    Removal,
    Retention,
    make_plan,
    protected,
)
from robustar.jobs.store import ACTIVE, to_info
from robustar.models.versions import ARCHIVED, DELETED, MODELS_DIR
from robustar.paths import Paths

_MANAGED = (MODELS_DIR, "runs", "cache")  # gc's reach; annotations/ and the rest are not


@dataclass(frozen=True)
class GcResult:
    dry_run: bool
    archive: str | None  # the folder removed files were moved to; None: deleted
    removed: list[Removal]  # what was (or, in a dry run, would be) removed
    kept: list[KeptVersion]  # the live versions kept, with why
    bytes: int  # freed (or that would be freed) in the workspace


def _check_archive(paths: Paths, archive: Path, plan: Plan) -> None:
    for managed in _MANAGED:
        if archive.is_relative_to(paths.root / managed):
            raise DataError(
                f"the archive folder {archive} is inside the workspace's {managed}/",
                "choose a folder outside models/, runs/ and cache/",
            )
    taken = [p for item in plan.remove for p in item.paths if (archive / p).exists()]
    if taken:
        raise DataError(
            f"the archive folder {archive} already holds {taken[0]}"
            + (f" and {len(taken) - 1} more" if len(taken) > 1 else ""),
            "choose a new or empty archive folder",
        )


def _lock(session: Session) -> list[ModelVersion]:
    """Hold the versions until commit, so no version becomes current meanwhile: SQLite's write
    lock (any write takes it), row locks elsewhere."""
    if session.get_bind().dialect.name == "sqlite":
        session.execute(update(ModelVersion).where(false()).values(pinned=ModelVersion.pinned))
    return list(session.scalars(select(ModelVersion).order_by(ModelVersion.id).with_for_update()))


def _still_removable(session: Session, plan: Plan, rule: Retention) -> list[Removal]:
    versions = _lock(session)
    active = list(session.scalars(select(Job).where(Job.status.in_(ACTIVE))))
    keep = protected(versions, active, rule.keep_last)
    busy = {j.id for j in active}
    return [
        i
        for i in plan.remove
        if i.version_id not in keep and (i.job_id is None or i.job_id not in busy)
    ]


def _mark(session: Session, items: list[Removal], archive: Path | None) -> None:
    version_ids = [i.version_id for i in items if i.kind == "version" and i.version_id is not None]
    job_ids = [i.job_id for i in items if i.kind == "job" and i.job_id is not None]
    if version_ids:
        status = DELETED if archive is None else ARCHIVED
        where = None if archive is None else str(archive)
        session.execute(
            update(ModelVersion)
            .where(
                ModelVersion.id.in_(version_ids), ModelVersion.status.not_in((DELETED, ARCHIVED))
            )
            .values(status=status, archived_to=where, is_current=False)
        )
        session.execute(delete(Prediction).where(Prediction.version_id.in_(version_ids)))
        session.execute(delete(Suspicion).where(Suspicion.version_id.in_(version_ids)))
    if job_ids:
        if archive is not None:
            for row in session.scalars(select(Job).where(Job.id.in_(job_ids))):
                target = archive / "jobs" / f"{row.id}.json"
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_text(json.dumps(asdict(to_info(row)), default=str, indent=1))
        session.execute(delete(Job).where(Job.id.in_(job_ids)))


def _remove_files(paths: Paths, items: list[Removal], archive: Path | None) -> None:
    for item in items:
        for rel in item.paths:
            if rel.split("/")[0] not in _MANAGED:
                raise DataError(f"gc refuses to touch {rel}: it is outside models/, runs/, cache/")
            source = paths.root / rel
            if not source.exists():
                continue
            if archive is None:
                shutil.rmtree(source) if source.is_dir() else source.unlink()
            else:
                (archive / rel).parent.mkdir(parents=True, exist_ok=True)
                shutil.move(source, archive / rel)


def collect(
    db: Database, paths: Paths, rule: Retention, dry_run: bool = True, archive: Path | None = None
) -> GcResult:
    """Plan under `rule`; unless `dry_run`, remove (or move to `archive`) what it names."""
    archive = None if archive is None else archive.expanduser().resolve()
    with db.session() as session:
        plan = make_plan(session, paths, rule)
    if archive is not None:
        _check_archive(paths, archive, plan)
    where = None if archive is None else str(archive)
    if dry_run:
        return GcResult(True, where, plan.remove, plan.kept, plan.bytes)
    with db.session() as session:
        items = _still_removable(session, plan, rule)
        _mark(session, items, archive)
    _remove_files(paths, items, archive)
    return GcResult(False, where, items, plan.kept, sum(i.bytes for i in items))
