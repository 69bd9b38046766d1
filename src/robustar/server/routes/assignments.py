"""Work per person (team mode): admins assign images to annotators and follow everyone's
progress; each annotator reads their own queue."""

from __future__ import annotations

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, Field

from robustar.annotations.assignments import (
    Assigned,
    AssignmentInfo,
    BatchProgress,
    PersonProgress,
)
from robustar.annotations.selection import Selection
from robustar.db.kinds import MaskKind
from robustar.errors import DataError
from robustar.server.auth import ADMIN, AnnotatorDep
from robustar.server.deps import WorkspaceDep
from robustar.server.params import Id, Split

router = APIRouter(prefix="/assignments", tags=["assignments"])


class AssignRequest(BaseModel):
    """Exactly one of `ids`, `class_name` (with `split`) or `suspicious`."""

    to: str = Field(min_length=1, max_length=64, description="the account that masks them")
    kind: MaskKind = "spurious"
    ids: list[Id] | None = Field(None, max_length=100_000, description="chosen image ids")
    class_name: str | None = Field(None, max_length=200, description="every image of a class")
    split: Split = Field("train", description="the split of `class_name`")
    suspicious: int | None = Field(
        None, ge=1, le=100_000, description="the top N of the suspicious queue (class-balanced)"
    )
    unannotated: bool = Field(False, description="only images without a mask of `kind`")


class MyWork(BaseModel):
    """Your images still to mask, in the order assigned, and done / assigned per batch."""

    queue: list[AssignmentInfo]
    batches: list[BatchProgress]


class TeamProgress(BaseModel):
    people: list[PersonProgress]
    batches: list[BatchProgress]


@router.post("", response_model=Assigned, status_code=201, dependencies=ADMIN)
def assign(workspace: WorkspaceDep, body: AssignRequest) -> Assigned:
    """Give images to an annotator; an image assigned before (for this kind) moves to them."""
    selection = Selection(
        ids=body.ids,
        class_name=body.class_name,
        split=body.split,
        suspicious=body.suspicious,
        unannotated=body.unannotated,
    )
    return workspace.assignments.assign(body.to, selection, body.kind)


@router.get("/mine", response_model=MyWork)
def my_work(request: Request, workspace: WorkspaceDep, principal: AnnotatorDep) -> MyWork:
    """The signed-in account's queue (images not done yet) and its progress."""
    if not request.app.state.team:
        raise DataError(
            "this server runs in local mode: work is assigned to team accounts only",
            "serve with --team (README.md, 'Team mode')",
        )
    assignments = workspace.assignments
    return MyWork(
        queue=assignments.queue(principal.name), batches=assignments.batches(principal.name)
    )


@router.get("/progress", response_model=TeamProgress, dependencies=ADMIN)
def progress(
    workspace: WorkspaceDep,
    user: str | None = Query(None, max_length=64, description="only this account's batches"),
) -> TeamProgress:
    """Per account: assigned, done, last mask saved; and every batch's progress."""
    assignments = workspace.assignments
    return TeamProgress(people=assignments.people(), batches=assignments.batches(user))
