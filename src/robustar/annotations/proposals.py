"""Batch auto-annotation: a proposal method over a filtered set, kept apart from accepted masks
until a person accepts, edits or rejects each proposal."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, StrictBool, ValidationError
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from robustar.accounts import actor
from robustar.annotations.maskfile import read_mask, write_mask
from robustar.annotations.store import current_row, save_mask
from robustar.db.session import Database
from robustar.db.tables import Proposal, utcnow
from robustar.errors import DataError, NotFoundError, validation_problems
from robustar.numbers import NOT_BOOL, JsonFloat, JsonInt
from robustar.progress import ProgressCallback, report

PROPOSALS_DIR = "annotations/proposals"
OBJECT_METHODS = ("grabcut", "segment")  # they find the object, not what is spurious


class AutoAnnotate(BaseModel):
    """What to propose, and for which images (the gallery's filters)."""

    model_config = ConfigDict(extra="forbid")

    split: Literal["train", "validation", "test", "pool"] = "train"
    kind: Literal["spurious", "object"] = "spurious"
    method: Literal["colour", "grabcut", "segment"]
    # Strict numbers: a boolean is not a number (JSON clients mix them up).
    colours: list[tuple[JsonInt, JsonInt, JsonInt]] = Field(
        default_factory=list, description="colour method: RGB colours to select"
    )
    tolerance: JsonInt = Field(16, ge=0, le=255, description="colour method: per channel")
    margin: JsonFloat = Field(0.1, ge=0, lt=0.5, description="grabcut: box inset per side")
    invert: StrictBool | None = Field(
        None,
        description="propose everything but what the method finds; not set: inverted for "
        "grabcut and segment with kind spurious (they find the object), else not",
    )
    filters: dict[str, Any] = Field(default_factory=dict, description="gallery filters")
    limit: Annotated[int, Field(ge=1), NOT_BOOL] | None = None

    @property
    def inverted(self) -> bool:
        """Whether proposals are the complement of the method's region."""
        if self.invert is not None:
            return self.invert
        return self.kind == "spurious" and self.method in OBJECT_METHODS


def parse_request(params: dict[str, Any]) -> AutoAnnotate:
    try:
        return AutoAnnotate.model_validate(params)
    except ValidationError as error:
        problems = validation_problems(error)
        raise DataError(
            f"invalid auto-annotation request: {problems}", "fix those fields"
        ) from None


@dataclass(frozen=True)
class AutoAnnotated:
    """What a batch made: pending proposals, and images whose proposal was empty (not kept:
    an empty mask is nothing to review)."""

    proposals: int
    empty: int


@dataclass(frozen=True)
class ProposalInfo:
    id: int
    image_id: int
    kind: str
    method: str
    job_id: int | None
    pixels: int
    status: str
    created_at: datetime
    reviewed_by: str | None = None


def _info(row: Proposal) -> ProposalInfo:
    return ProposalInfo(
        row.id,
        row.image_id,
        row.kind,
        row.method,
        row.job_id,
        row.pixels,
        row.status,
        row.created_at,
        row.reviewed_by,
    )


def auto_annotate(
    db: Database,
    root: Path,
    image_ids: list[int],
    params: AutoAnnotate,
    propose: Callable[[int], np.ndarray],
    progress: ProgressCallback = None,
    job_id: int | None = None,
) -> AutoAnnotated:
    """Make one pending proposal per image with `propose` (inverted when the request says so),
    skipping empty ones: an inverted region where the method found nothing (the whole image)
    is empty of information too."""
    empty = 0
    for done, image_id in enumerate(image_ids, 1):
        found = propose(image_id)
        mask = ~found if params.inverted else found
        if found.any() and mask.any():  # the method found something, and left something
            _store(db, root, image_id, mask, params, job_id)
        else:
            empty += 1
        report(progress, "auto-annotate", done, len(image_ids))
    return AutoAnnotated(len(image_ids) - empty, empty)


def _store(
    db: Database,
    root: Path,
    image_id: int,
    mask: np.ndarray,
    params: AutoAnnotate,
    job_id: int | None,
) -> None:
    """One pending proposal: its row, then its file (a failed write rolls the row back)."""
    with db.session() as session:
        row = Proposal(
            image_id=image_id,
            kind=params.kind,
            method=params.method,
            job_id=job_id,
            file="",
            pixels=int(mask.sum()),
            status="pending",
        )
        session.add(row)
        session.flush()
        row.file = f"{PROPOSALS_DIR}/{row.id}.png"
        write_mask(mask, root / row.file)


def _get(session: Session, proposal_id: int) -> Proposal:
    row = session.get(Proposal, proposal_id)
    if row is None:
        raise NotFoundError(f"proposal {proposal_id} does not exist")
    return row


def list_proposals(
    db: Database,
    status: str = "pending",
    kind: str | None = None,
    limit: int = 100,
    offset: int = 0,
) -> tuple[int, list[ProposalInfo]]:
    query = select(Proposal).where(Proposal.status == status)
    if kind is not None:
        query = query.where(Proposal.kind == kind)
    with db.session() as session:
        total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
        rows = session.scalars(query.order_by(Proposal.id).limit(limit).offset(offset))
        return int(total), [_info(r) for r in rows]


def proposal_mask(db: Database, root: Path, proposal_id: int) -> tuple[ProposalInfo, np.ndarray]:
    with db.session() as session:
        row = _get(session, proposal_id)
        return _info(row), read_mask(root / row.file)


def review(
    db: Database,
    root: Path,
    proposal_id: int,
    accept: bool,
    edited: np.ndarray | None = None,
    store: bool = True,
) -> ProposalInfo:
    """Accept (as the next mask version, optionally edited) or reject a pending proposal.
    `store=False` only records the decision (the page saved its edited mask itself). The same
    decision again is answered with the proposal as it is (a second click, a retried request).
    The reviewer, and the new mask version's author, is the acting account."""
    by = actor.current()
    status = "accepted" if accept else "rejected"
    with db.session() as session:
        row = _get(session, proposal_id)
        if row.status == status:
            return _info(row)
        if row.status != "pending":
            raise DataError(
                f"proposal {proposal_id} was already {row.status}",
                "review pending proposals; to change the mask, edit the image's mask",
            )
        if accept and store:
            mask = edited if edited is not None else read_mask(root / row.file)
            current = current_row(session, row.image_id, row.kind)
            save_mask(
                session,
                root,
                row.image_id,
                row.kind,
                mask,
                None if current is None else current.version,
                by.name,
                by.user_id,
            )
        row.status = status
        row.reviewed_at = utcnow()
        row.reviewed_by = by.name
        return _info(row)
