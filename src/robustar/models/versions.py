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
        )
    return row


def current_version(session: Session) -> ModelVersion | None:
    return session.scalars(select(ModelVersion).where(ModelVersion.is_current)).first()


def set_current(session: Session, version_id: int) -> None:
    get_version(session, version_id)
    session.execute(update(ModelVersion).values(is_current=ModelVersion.id == version_id))


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
) -> ModelVersion:
    """Save the model's weights into the staged folder and record it as the new current version.

    The folder is moved to models/v<id>. If the transaction then fails, the row is rolled back
    and the id is free again; a leftover folder of that id is replaced when the id is reused.
    """
    save_weights(model, staged / WEIGHTS_FILE)
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
    set_current(session, row.id)
    return row


def epoch_metrics(session: Session, version_id: int) -> list[EpochResult]:
    """The version's training curve, as the training loop reported it."""
    get_version(session, version_id)
    rows = session.scalars(
        select(EpochMetric).where(EpochMetric.version_id == version_id).order_by(EpochMetric.epoch)
    )
    return [EpochResult(**{f.name: getattr(r, f.name) for f in fields(EpochResult)}) for r in rows]
