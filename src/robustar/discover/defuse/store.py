"""Defuse's rows as the faces see them: runs, regions and correction fine-tunes, and the
float32 blobs that hold latent codes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import numpy as np
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from robustar.db.tables import DefuseCode, DefuseCorrection, DefuseRegion, DefuseRun
from robustar.errors import NotFoundError


def to_blob(codes: np.ndarray) -> bytes:
    return np.ascontiguousarray(codes, dtype=np.float32).tobytes()


def from_blob(blob: bytes, latent: int) -> np.ndarray:
    return np.frombuffer(blob, dtype=np.float32).reshape(-1, latent).copy()


@dataclass(frozen=True)
class RadiusShare:
    """How often a perturbation of this radius changed the classifier's answer."""

    radius: float
    drawn: int
    flipped: int
    share: float


@dataclass(frozen=True)
class DefuseRunInfo:
    id: int
    created_at: datetime
    author: str
    image_size: int
    latent: int
    vae_settings: dict
    curves: list[dict]
    has_vae: bool
    version_id: int | None
    search_settings: dict
    searched_images: int
    search_done: bool
    flip_share: list[RadiusShare]
    codes: int
    regions: int
    labelled: int


@dataclass(frozen=True)
class RegionInfo:
    id: int
    run_id: int
    component: int
    weight: float
    size: int
    samples: int
    predicted: list[int]  # the classifier's answer on each training sample
    label: int | None
    label_name: str | None
    unrecognisable: bool
    author: str | None
    labelled_at: datetime | None


def run_row(session: Session, run_id: int) -> DefuseRun:
    row = session.get(DefuseRun, run_id)
    if row is None:
        raise NotFoundError(
            f"Defuse run {run_id} does not exist",
            "list the runs: robustar discover defuse runs WS",
            "list the runs: ws.defuse.runs()",
        )
    return row


def region_row(session: Session, run_id: int, region_id: int) -> DefuseRegion:
    row = session.get(DefuseRegion, region_id)
    if row is None or row.run_id != run_id:
        raise NotFoundError(
            f"run {run_id} has no region {region_id}",
            f"list the regions: robustar discover defuse regions WS {run_id}",
            f"list the regions: ws.defuse.regions({run_id})",
        )
    return row


def run_info(session: Session, row: DefuseRun) -> DefuseRunInfo:
    codes = session.scalar(select(func.count()).where(DefuseCode.run_id == row.id)) or 0
    regions = list(session.scalars(select(DefuseRegion).where(DefuseRegion.run_id == row.id)))
    radii = row.search.get("radii", [])
    shares = [
        RadiusShare(r, d, f, f / d if d else 0.0)
        for r, d, f in zip(radii, row.drawn, row.flips, strict=False)
    ]
    return DefuseRunInfo(
        row.id,
        row.created_at,
        row.author,
        row.image_size,
        row.latent,
        row.vae,
        row.curves,
        row.vae_file is not None,
        row.version_id,
        row.search,
        row.searched_images,
        row.search_done,
        shares,
        codes,
        len(regions),
        sum(r.label is not None or r.unrecognisable for r in regions),
    )


def region_info(row: DefuseRegion, classes: list[str]) -> RegionInfo:
    return RegionInfo(
        row.id,
        row.run_id,
        row.component,
        row.weight,
        row.size,
        len(row.predicted),
        row.predicted,
        row.label,
        None if row.label is None else classes[row.label],
        row.unrecognisable,
        row.author,
        row.labelled_at,
    )


@dataclass(frozen=True)
class CorrectionRow:
    """One fine-tune: `mixed` is CE(train) + λ·CE(regions), `baseline` the regions alone."""

    id: int
    mode: str
    weight: float
    version_id: int | None
    status: str
    region_accuracy: float
    test_accuracy: float | None
    region_accuracy_by_region: dict[str, float]
    guard: str | None


@dataclass(frozen=True)
class CorrectionReport:
    """Accuracy on the labelled regions' held-out samples and on the test split, before (the
    searched version) and after each fine-tune."""

    run_id: int
    version_id: int
    regions: int
    held_out_samples: int
    region_accuracy: float
    test_accuracy: float | None
    region_accuracy_by_region: dict[str, float]
    rows: list[CorrectionRow]


def correction_row(row: DefuseCorrection) -> CorrectionRow:
    after = row.report.get("after", {})
    return CorrectionRow(
        row.id,
        row.mode,
        row.weight,
        row.version_id,
        row.status,
        after.get("region", 0.0),
        after.get("test"),
        after.get("by_region", {}),
        row.report.get("guard"),
    )
