"""The retention rule: which model versions, caches, runs and job records gc keeps, and why.

KeptVersion, always: the current version, its parent and the version the regression guard judged it
against (the next guard and `compare` need them), pinned versions, the last N versions,
versions a queued or running job names or may have made, and every annotation (gc never looks
at annotations/). Everything a removed version owns goes with it: its folder, its caches and
its training run. Caches of versions that no longer exist, thumbnails of images no longer
indexed, run folders without a version and old finished job records go too. Anything written
in the last `min_age_hours` stays: it may be work in progress in another process.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from robustar.db.tables import Image, Job, ModelVersion, utcnow
from robustar.housekeeping.disk import size_of, version_caches
from robustar.jobs.store import ACTIVE
from robustar.models.versions import MODELS_DIR, REMOVED
from robustar.numbers import NOT_BOOL
from robustar.paths import Paths
from robustar.train.plain import STATE_FILE

FINISHED = ("succeeded", "failed", "cancelled")  # interrupted jobs stay: they resume
MEDIA_CACHES = ("thumbnails", "display")  # named by image fingerprint, not by version
_JOB_RUN = re.compile(r"job-(\d+)(?:-|$)")
_VERSION_CACHE = re.compile(r"v(\d+)")


class Retention(BaseModel):
    """What gc keeps beyond what it always keeps (see the module's docstring)."""

    keep_last: Annotated[
        int, Field(ge=1, le=1_000_000, description="the newest N versions are kept"), NOT_BOOL
    ] = 5
    unfinished: bool = Field(
        False,
        strict=True,
        description="also remove unfinished (resumable) runs that no running job holds",
    )
    job_days: (
        Annotated[
            float,
            Field(ge=0, le=36_500, description="finished job records older than this many days go"),
            NOT_BOOL,
        ]
        | None
    ) = Field(30, description="null: keep every job record")
    min_age_hours: Annotated[
        float,
        Field(ge=0, le=87_600, description="files written more recently are kept (in progress)"),
        NOT_BOOL,
    ] = 1


@dataclass(frozen=True)
class Removal:
    """One thing gc removes: a version (with its caches and run), a cache, a run or a job."""

    kind: Literal["version", "cache", "run", "job"]
    name: str
    reason: str
    paths: list[str]  # relative to the workspace root
    bytes: int
    version_id: int | None = None
    job_id: int | None = None


@dataclass(frozen=True)
class KeptVersion:
    """A live version gc keeps, with every reason that applies."""

    version_id: int
    name: str
    reasons: list[str]


@dataclass(frozen=True)
class Plan:
    remove: list[Removal]
    kept: list[KeptVersion]
    bytes: int = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "bytes", sum(i.bytes for i in self.remove))


def _referenced(params: Any) -> Iterable[int]:
    """Version ids a job's parameters name (`version`, `version_id`, at any depth)."""
    if isinstance(params, dict):
        for key, value in params.items():
            if key in ("version", "version_id") and isinstance(value, int):
                yield value
            else:
                yield from _referenced(value)
    elif isinstance(params, list):
        for value in params:
            yield from _referenced(value)


def protected(
    versions: list[ModelVersion], active: list[Job], keep_last: int
) -> dict[int, list[str]]:
    """The versions that must stay, each with its reasons; a DB-only rule, cheap to recheck."""
    keep: dict[int, list[str]] = {}

    def add(version_id: int | None, reason: str) -> None:
        if version_id is not None:
            keep.setdefault(version_id, []).append(reason)

    live = [v for v in versions if v.status not in REMOVED]
    for v in live:
        if v.is_current:
            add(v.id, "current")
            add(v.parent_id, "parent of the current version (the regression guard compares)")
            if v.guard is not None:
                add(v.guard.get("parent_id"), "the version the current one was judged against")
        if v.pinned:
            add(v.id, "pinned")
    for v in sorted(live, key=lambda v: v.id)[-keep_last:]:
        add(v.id, f"one of the last {keep_last}")
    for job in active:
        for version_id in _referenced(job.params):
            add(version_id, f"named by {job.status} job {job.id}")
        for v in live:
            if v.created_at >= job.created_at:
                add(v.id, f"made while job {job.id} is {job.status}")
    removed = {v.id for v in versions if v.status in REMOVED}
    return {k: reasons for k, reasons in keep.items() if k not in removed}


def _rel(paths: Paths, path: Path) -> str:
    return path.relative_to(paths.root).as_posix()


def _recent(path: Path, seconds: float) -> bool:
    """Whether anything in the tree was written in the last `seconds`."""
    cutoff = time.time() - seconds
    if path.stat().st_mtime >= cutoff:
        return True
    return any(p.stat().st_mtime >= cutoff for p in path.rglob("*") if not p.is_symlink())


def _item(
    kind: Literal["version", "cache", "run", "job"],
    name: str,
    reason: str,
    paths: Paths,
    found: list[Path],
    **ids: int | None,
) -> Removal:
    rels = [_rel(paths, p) for p in found if p.exists()]
    return Removal(kind, name, reason, rels, sum(size_of(p).bytes for p in found), **ids)


def _version_items(
    paths: Paths, versions: list[ModelVersion], keep: dict[int, list[str]], keep_last: int
) -> list[Removal]:
    items = []
    for v in versions:
        if v.id in keep:
            continue
        run = v.config.get("run") if isinstance(v.config, dict) else None
        found = [paths.root / MODELS_DIR / f"v{v.id}", *version_caches(paths.cache, v.id)]
        if isinstance(run, str) and run:
            found.append(paths.runs / run)
        found = [p for p in found if p.exists()]
        if v.status in REMOVED:
            if found:
                reason = f"files left over from a version already {v.status}"
                items.append(_item("version", f"v{v.id}", reason, paths, found, version_id=v.id))
            continue
        reason = (
            f"older than the last {keep_last}; not current, its parent or pinned; "
            "no pending job uses it"
        )
        items.append(_item("version", f"v{v.id}", reason, paths, found, version_id=v.id))
    return items


def _orphan_caches(paths: Paths, known: set[int]) -> list[Removal]:
    """Caches of version ids that have no row at all (a recreated database)."""
    items = []
    for folder in sorted(paths.cache.glob("*/v*")) if paths.cache.is_dir() else []:
        match = _VERSION_CACHE.fullmatch(folder.name)
        if match and folder.parent.name not in MEDIA_CACHES and int(match[1]) not in known:
            name = _rel(paths, folder)
            reason = "cache of a model version this workspace does not have"
            items.append(_item("cache", name, reason, paths, [folder]))
    return items


def _media_orphans(session: Session, paths: Paths, min_age: float) -> list[Removal]:
    """Thumbnails and display copies of images no longer indexed (one item per kind)."""
    fingerprints = set(session.scalars(select(Image.fingerprint)))
    cutoff = time.time() - min_age
    items = []
    for kind in MEDIA_CACHES:
        folder = paths.cache / kind
        stale = [
            f
            for f in (folder.rglob("*.*") if folder.is_dir() else [])
            if f.is_file() and f.stem not in fingerprints and f.stat().st_mtime < cutoff
        ]
        if stale:
            reason = f"{len(stale)} files of images no longer indexed"
            items.append(_item("cache", f"cache/{kind}", reason, paths, stale))
    return items


def _run_items(
    paths: Paths,
    versions: list[ModelVersion],
    active: list[Job],
    rule: Retention,
) -> tuple[list[Removal], set[int]]:
    """Run folders no kept version owns; also the ids of jobs whose run folder stays."""
    owners = {v.config.get("run"): v for v in versions if isinstance(v.config, dict)}
    active_ids = {j.id for j in active}
    items, held = [], set()
    for folder in (
        sorted(p for p in paths.runs.iterdir() if p.is_dir()) if paths.runs.is_dir() else []
    ):
        owner = owners.get(folder.name)
        match = _JOB_RUN.match(folder.name)
        job_id = int(match[1]) if match else None
        if owner is not None:
            continue  # kept with its version, or removed with it
        unfinished = (folder / STATE_FILE).is_file()
        if (
            job_id in active_ids
            or (unfinished and not rule.unfinished)
            or _recent(folder, rule.min_age_hours * 3600)
        ):
            if job_id is not None:
                held.add(job_id)
            continue
        reason = (
            "unfinished run no running job holds (--unfinished)"
            if unfinished
            else "run folder without a model version (stopped, or its version was removed)"
        )
        items.append(_item("run", _rel(paths, folder), reason, paths, [folder], job_id=job_id))
    return items, held


def _job_items(
    session: Session, days: float | None, held: set[int], now: datetime
) -> list[Removal]:
    if days is None:
        return []
    old = select(Job).where(Job.status.in_(FINISHED), Job.finished_at < now - timedelta(days=days))
    return [
        Removal(
            "job",
            f"job {j.id}",
            f"{j.kind} job {j.status} over {days:g} days ago",
            [],
            0,
            job_id=j.id,
        )
        for j in session.scalars(old.order_by(Job.id))
        if j.id not in held
    ]


def make_plan(session: Session, paths: Paths, rule: Retention) -> Plan:
    versions = list(session.scalars(select(ModelVersion).order_by(ModelVersion.id)))
    active = list(session.scalars(select(Job).where(Job.status.in_(ACTIVE))))
    keep = protected(versions, active, rule.keep_last)
    runs, held = _run_items(paths, versions, active, rule)
    remove = [
        *_version_items(paths, versions, keep, rule.keep_last),
        *_orphan_caches(paths, {v.id for v in versions}),
        *_media_orphans(session, paths, rule.min_age_hours * 3600),
        *runs,
        *_job_items(session, rule.job_days, held, utcnow()),
    ]
    kept = [KeptVersion(v.id, v.name, keep[v.id]) for v in versions if v.id in keep]
    return Plan(remove, kept)
