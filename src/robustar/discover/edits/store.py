"""Benchmark runs in the database: one `edit_runs` row per (version, split) run, its flips in
`edit_flips`; results per version, so two versions' tables sit side by side."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select

from robustar.db.session import Database
from robustar.db.tables import EditFlip, EditRun
from robustar.discover.edits.benchmark import Tally
from robustar.errors import NotFoundError


@dataclass(frozen=True)
class RunRecord:
    id: int
    version_id: int
    split: str
    created_at: datetime
    options: dict[str, Any]
    images: int
    counts: list[Any]
    skipped: dict[str, dict[str, int]]
    measures: dict[str, dict[str, float]]


@dataclass(frozen=True)
class FlipRecord:
    image_id: int
    label: str
    edit: dict[str, Any]
    seed: int
    truth: int
    before: int
    after: int


def save(db: Database, version_id: int, split: str, options: dict[str, Any], tally: Tally) -> int:
    with db.session() as session:
        row = EditRun(
            version_id=version_id,
            split=split,
            options=options,
            images=tally.images,
            counts=tally.rows(),
            skipped=tally.skips(),
            measures=tally.measures(),
        )
        session.add(row)
        session.flush()
        session.add_all(
            EditFlip(
                run_id=row.id,
                image_id=f.image_id,
                edit=f.spec.to_json(),
                label=f.label,
                seed=f.seed,
                truth=f.truth,
                before=f.before,
                after=f.after,
            )
            for f in tally.flips
        )
        return row.id


def _record(row: EditRun) -> RunRecord:
    return RunRecord(
        row.id,
        row.version_id,
        row.split,
        row.created_at,
        row.options,
        row.images,
        row.counts,
        row.skipped,
        row.measures or {},
    )


def runs(db: Database, version_id: int | None = None) -> list[RunRecord]:
    query = select(EditRun).order_by(EditRun.id.desc())
    if version_id is not None:
        query = query.where(EditRun.version_id == version_id)
    with db.session() as session:
        return [_record(r) for r in session.scalars(query)]


def get(db: Database, run_id: int) -> RunRecord:
    with db.session() as session:
        row = session.get(EditRun, run_id)
        if row is None:
            raise NotFoundError(
                f"edit benchmark run {run_id} does not exist",
                "list runs with 'robustar discover edits runs'",
                "list runs with ws.edits.runs()",
            )
        return _record(row)


def flips(db: Database, run_id: int, limit: int = 200, offset: int = 0) -> list[FlipRecord]:
    get(db, run_id)
    query = (
        select(EditFlip)
        .where(EditFlip.run_id == run_id)
        .order_by(EditFlip.id)
        .offset(offset)
        .limit(limit)
    )
    with db.session() as session:
        return [
            FlipRecord(f.image_id, f.label, f.edit, f.seed, f.truth, f.before, f.after)
            for f in session.scalars(query)
        ]
