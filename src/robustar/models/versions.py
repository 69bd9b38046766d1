"""Model versions: lineage, configuration, metrics and checkpoint folder; one is current."""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, fields
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session
from torch import nn

from robustar.db.tables import EpochMetric, ModelVersion
from robustar.errors import NotFoundError
from robustar.models.checkpoint import save_weights

MODELS_DIR = "models"
WEIGHTS_FILE = "model.safetensors"
READY, CANDIDATE = "ready", "candidate"  # a candidate waits for the user to promote it
DELETED, ARCHIVED = "deleted", "archived"  # gc removed its files; the row stays for lineage
REMOVED = (DELETED, ARCHIVED)


@dataclass(frozen=True)
class EpochResult:
    """One training epoch's curves, as the training loop reports them and a version keeps."""

    epoch: int
    train_loss: float
    train_accuracy: float
    val_loss: float | None
    val_accuracy: float | None
    test_accuracy: float | None
    learning_rate: float
    seconds: float


@dataclass(frozen=True)
class GuardCheck:
    """One figure of the regression guard: the parent's and the new version's accuracy."""

    metric: str  # "validation" (clean) or "validation, masks filled"
    images: int
    parent: float
    candidate: float
    passed: bool  # candidate >= parent - tolerance


@dataclass(frozen=True)
class GuardReport:
    """The regression guard's verdict on a version trained from a parent."""

    parent_id: int
    tolerance: float  # accuracy points the version may lose on each check
    checks: list[GuardCheck]
    passed: bool
    reason: str  # the verdict in words, with the fix when it failed


def guard_report(data: dict[str, Any] | None) -> GuardReport | None:
    if data is None:
        return None
    checks = [GuardCheck(**c) for c in data["checks"]]
    return GuardReport(**{**data, "checks": checks})


@dataclass(frozen=True)
class VersionInfo:
    id: int
    name: str
    parent_id: int | None
    architecture: str
    num_classes: int
    source: str
    config: dict[str, Any]
    metrics: dict[str, Any]
    checkpoint: str
    created_at: datetime
    is_current: bool
    status: str  # READY, or CANDIDATE: held back by the regression guard until promoted
    guard: GuardReport | None  # None: no guard ran (no parent, guard off, or not finished)
    pinned: bool = False  # gc never removes it
    archived_to: str | None = None  # the folder gc moved its files to (status ARCHIVED)


def to_info(row: ModelVersion) -> VersionInfo:
    return VersionInfo(
        id=row.id,
        name=row.name,
        parent_id=row.parent_id,
        architecture=row.architecture,
        num_classes=row.num_classes,
        source=row.source,
        config=dict(row.config),
        metrics=dict(row.metrics),
        checkpoint=row.checkpoint,
        created_at=row.created_at,
        is_current=row.is_current,
        status=row.status,
        guard=guard_report(row.guard),
        pinned=row.pinned,
        archived_to=row.archived_to,
    )


def list_versions(session: Session) -> list[VersionInfo]:
    rows = session.scalars(select(ModelVersion).order_by(ModelVersion.id))
    return [to_info(row) for row in rows]


def get_version(session: Session, version_id: int) -> ModelVersion:
    row = session.get(ModelVersion, version_id)
    if row is None:
        raise NotFoundError(
            f"model version {version_id} does not exist",
            "list the versions with 'robustar models list DIR'",
            "list the versions with ws.models",
        )
    return row


def check_present(row: ModelVersion) -> ModelVersion:
    """The version, unless gc removed its files: then an error that says where they went."""
    if row.status in REMOVED:
        where = f" to {row.archived_to}" if row.archived_to else ""
        raise NotFoundError(
            f"model version {row.id} was {row.status}{where} by 'robustar gc'; its weights are "
            "no longer in the workspace",
            "use another version, or pin versions you want to keep ('robustar models pin')",
        )
    return row


def current_version(session: Session) -> ModelVersion | None:
    return session.scalars(select(ModelVersion).where(ModelVersion.is_current)).first()


def set_current(session: Session, version_id: int) -> None:
    """Make the version current; a candidate is thereby promoted (its guard report stays)."""
    row = check_present(get_version(session, version_id))
    session.execute(update(ModelVersion).values(is_current=ModelVersion.id == version_id))
    row.status = READY


def settle(session: Session, version_id: int, report: GuardReport) -> ModelVersion:
    """Record the guard's verdict: current when it passed, else a candidate."""
    row = get_version(session, version_id)
    row.guard = asdict(report)
    if report.passed:
        set_current(session, version_id)
    else:
        row.status = CANDIDATE
    return row


@contextmanager
def staging_dir(root: Path) -> Iterator[Path]:
    """A scratch folder for a version being made; removed unless `add_version` adopted it."""
    path = root / MODELS_DIR / f".staging-{uuid.uuid4().hex}"
    path.mkdir(parents=True)
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def add_version(
    session: Session,
    root: Path,
    staged: Path,
    model: nn.Module,
    *,
    name: str | None,
    parent_id: int | None,
    architecture: str,
    num_classes: int,
    source: str,
    config: dict[str, Any],
    epochs: list[EpochResult] = (),  # type: ignore[assignment]
    current: bool = True,
    metadata: dict[str, str] | None = None,
) -> ModelVersion:
    """Save the model's weights into the staged folder and record it as the new current version,
    or, with `current=False`, as a candidate the regression guard has yet to judge.

    `metadata` goes into the weights file (the input settings the version is scored with, so
    the file carries them when exported). The folder is moved to models/v<id>. If the
    transaction then fails, the row is rolled back and the id is free again; a leftover folder
    of that id is replaced when the id is reused.
    """
    save_weights(model, staged / WEIGHTS_FILE, metadata)
    row = ModelVersion(
        name=name or "",
        parent_id=parent_id,
        architecture=architecture,
        num_classes=num_classes,
        source=source,
        config=config,
        metrics={},
        checkpoint="",
    )
    session.add(row)
    session.flush()
    row.name = name or f"v{row.id}"
    final = root / MODELS_DIR / f"v{row.id}"
    final.parent.mkdir(parents=True, exist_ok=True)
    if final.exists():
        shutil.rmtree(final)
    staged.rename(final)
    row.checkpoint = f"{MODELS_DIR}/v{row.id}/{WEIGHTS_FILE}"
    for e in epochs:
        session.add(EpochMetric(version_id=row.id, **asdict(e)))
    if current:
        set_current(session, row.id)
    else:
        row.status = CANDIDATE
    return row


def epoch_metrics(session: Session, version_id: int) -> list[EpochResult]:
    """The version's training curve, as the training loop reported it."""
    get_version(session, version_id)
    rows = session.scalars(
        select(EpochMetric).where(EpochMetric.version_id == version_id).order_by(EpochMetric.epoch)
    )
    return [EpochResult(**{f.name: getattr(r, f.name) for f in fields(EpochResult)}) for r in rows]
