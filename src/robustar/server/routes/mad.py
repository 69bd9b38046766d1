"""MAD: competing models, pool scoring, rounds, the rating page's queue and ratings, picks and
strong labels, fine-tuning, the per-round table and the model ranking.

A rating's rater is the signed-in account in team mode; in local mode the page sends the
rater name its user typed (several people can rate on one machine)."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Query, Response
from pydantic import BaseModel, ConfigDict, Field

from robustar.discover.mad.competitors import Competitor
from robustar.discover.mad.ranking import Ranking
from robustar.discover.mad.ratings import Agreement, Opinion, Rating
from robustar.discover.mad.rounds import CandidateInfo, RoundInfo
from robustar.discover.mad.service import RoundsTable
from robustar.discover.mad.settings import MadSettings
from robustar.jobs.store import JobInfo
from robustar.server import schemas
from robustar.server.auth import ADMIN, VIEWER, AnnotatorDep, Principal
from robustar.server.deps import WorkspaceDep
from robustar.server.params import Id

router = APIRouter(prefix="/mad", tags=["mad"])

RaterName = Field(None, min_length=1, max_length=64, description="local mode: who rates")
MAX_IMPORT = 5_000_000  # characters of an imported ratings file


class AddModel(BaseModel):
    model_config = ConfigDict(extra="forbid")
    version: Id
    image_size: int | None = Field(None, ge=8, le=4096, description="default: [image] size")
    mean: list[float] | None = Field(None, min_length=1, max_length=3)
    std: list[float] | None = Field(None, min_length=1, max_length=3)
    class_map: list[str | None] | None = Field(
        None, max_length=100_000, description="our class name per model output (null: none)"
    )


class ScoreRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    versions: list[Id] | None = Field(None, max_length=64, description="default: every model")


class RoundRequest(MadSettings):
    target: Id | None = Field(None, description="default: last fine-tune, else current")
    competitors: list[Id] | None = Field(None, max_length=64, description="default: all others")
    tree: dict[str, str | None] | None = Field(
        None, max_length=100_000, description="class -> parent (a class hierarchy)"
    )


class RateRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    image_id: Id
    score: int = Field(ge=0, le=5, description="1 bad .. 5 excellent; 0 out of domain")
    rater: str | None = RaterName


class UndoRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    rater: str | None = RaterName


class ImportRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    text: str = Field(max_length=MAX_IMPORT, description="CSV image_id,rater,score or JSON")


class LabelRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    label: str = Field(min_length=1, max_length=200, description="a class name or index")


class FinetuneRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    epochs: int = Field(5, ge=1, le=1000)
    learning_rate: float | None = Field(None, gt=0, le=10)
    batch_size: int | None = Field(None, ge=1, le=65536)


class NextOut(BaseModel):
    """The rating page's next image for this rater, and how far the rater is."""

    candidate: CandidateInfo | None
    rated: int
    total: int
    rater: str
    classes: list[str]


class PickOut(BaseModel):
    train: list[int]
    test: list[int]


def rater_of(principal: Principal, given: str | None) -> str:
    """The account in team mode; the typed name (or the OS account) in local mode."""
    if principal.user_id is not None or not given:
        return principal.name
    return given.strip()


@router.get("/models", response_model=list[Competitor], dependencies=VIEWER)
def list_models(workspace: WorkspaceDep) -> list[Competitor]:
    """The models registered for MAD with their input settings and class maps."""
    return workspace.mad.competitors()


@router.post("/models", response_model=Competitor, dependencies=ADMIN)
def add_model(workspace: WorkspaceDep, body: AddModel) -> Competitor:
    """Register a model version (its class list and input size checked; another class list
    needs `class_map`). Upload other weights first with POST /models/import?current=false."""
    return workspace.mad.add(
        body.version,
        image_size=body.image_size,
        mean=body.mean,
        std=body.std,
        class_map=body.class_map,
    )


@router.post("/score", response_model=JobInfo, status_code=202, dependencies=ADMIN)
def queue_score(workspace: WorkspaceDep, body: ScoreRequest) -> JobInfo:
    """Queue the scoring of the pool by every registered model (resumable)."""
    workspace.images_store.folder("pool")
    for version in body.versions or []:
        workspace.mad.competitor(version)
    return workspace.jobs.submit("mad_score", body.model_dump(exclude_none=True))


@router.get("/rounds", response_model=list[RoundInfo], dependencies=VIEWER)
def list_rounds(workspace: WorkspaceDep) -> list[RoundInfo]:
    return workspace.mad.rounds()


@router.post("/rounds", response_model=RoundInfo, status_code=201, dependencies=ADMIN)
def new_round(workspace: WorkspaceDep, body: RoundRequest) -> RoundInfo:
    """Select a round's candidates; 400 naming the fix for an empty pool, unscored models or
    no confident disagreement (a lower threshold)."""
    settings = body.model_dump(exclude={"target", "competitors", "tree"})
    return workspace.mad.round(body.target, body.competitors, body.tree, **settings)


@router.get("/rounds/{round_id}", response_model=RoundInfo, dependencies=VIEWER)
def get_round(workspace: WorkspaceDep, round_id: Id) -> RoundInfo:
    return workspace.mad.get_round(round_id)


@router.get("/rounds/{round_id}/candidates", response_model=list[CandidateInfo])
def list_candidates(
    workspace: WorkspaceDep, round_id: Id, principal: AnnotatorDep
) -> list[CandidateInfo]:
    return workspace.mad.candidates(round_id)


@router.get("/rounds/{round_id}/next", response_model=NextOut)
def next_candidate(
    workspace: WorkspaceDep,
    round_id: Id,
    principal: AnnotatorDep,
    rater: str | None = Query(None, min_length=1, max_length=64),
) -> NextOut:
    """The next candidate this rater has not rated (None: done)."""
    name = rater_of(principal, rater)
    total = len(workspace.mad.candidates(round_id))
    mine = [r for r in workspace.mad.ratings(round_id) if r.rater == name]
    return NextOut(
        candidate=workspace.mad.next_candidate(round_id, name),
        rated=len(mine),
        total=total,
        rater=name,
        classes=workspace.classes,
    )


@router.post("/rounds/{round_id}/ratings", response_model=Rating, status_code=201)
def rate(
    workspace: WorkspaceDep, round_id: Id, body: RateRequest, principal: AnnotatorDep
) -> Rating:
    """Rate a candidate's prediction; a second rating by the same rater replaces the first
    (both kept in the history)."""
    return workspace.mad.rate(round_id, body.image_id, body.score, rater_of(principal, body.rater))


@router.post("/rounds/{round_id}/undo", response_model=Rating | None)
def undo(
    workspace: WorkspaceDep, round_id: Id, body: UndoRequest, principal: AnnotatorDep
) -> Rating | None:
    """Withdraw this rater's latest rating (null: nothing to undo)."""
    return workspace.mad.undo(round_id, rater_of(principal, body.rater))


@router.get(
    "/rounds/{round_id}/ratings",
    response_class=Response,
    responses=schemas.REPORT,
    dependencies=VIEWER,
)
def export_ratings(
    workspace: WorkspaceDep,
    round_id: Id,
    format: Literal["csv", "json"] = Query("csv"),
    history: bool = Query(False, description="every rating, superseded and undone ones too"),
) -> Response:
    text = workspace.mad.export_ratings(round_id, format, history)
    media = "text/csv" if format == "csv" else "application/json"
    return Response(
        text,
        media_type=f"{media}; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="ratings-{round_id}.{format}"'},
    )


@router.post("/rounds/{round_id}/ratings/import", dependencies=ADMIN)
def import_ratings(workspace: WorkspaceDep, round_id: Id, body: ImportRequest) -> dict[str, int]:
    """Ratings from another tool: every row checked, all stored or none."""
    return {"imported": workspace.mad.import_ratings(round_id, body.text)}


@router.get("/rounds/{round_id}/opinions", response_model=list[Opinion], dependencies=VIEWER)
def opinions(workspace: WorkspaceDep, round_id: Id) -> list[Opinion]:
    """Mean opinion score with its 95 % interval per candidate (out-of-domain excluded)."""
    return workspace.mad.opinions(round_id)


@router.get("/rounds/{round_id}/agreement", response_model=Agreement, dependencies=VIEWER)
def agreement(workspace: WorkspaceDep, round_id: Id) -> Agreement:
    return workspace.mad.agreement(round_id)


@router.post("/rounds/{round_id}/pick", response_model=PickOut, dependencies=ADMIN)
def pick(workspace: WorkspaceDep, round_id: Id) -> PickOut:
    """Pick the worst-rated candidates for training labels and the held-back test set."""
    train, test = workspace.mad.pick(round_id)
    return PickOut(train=train, test=test)


@router.get("/rounds/{round_id}/queue", response_model=list[CandidateInfo])
def queue(workspace: WorkspaceDep, round_id: Id, principal: AnnotatorDep) -> list[CandidateInfo]:
    """Picked candidates still waiting for their true class."""
    return workspace.mad.queue(round_id)


@router.put("/rounds/{round_id}/labels/{image_id}", status_code=204)
def label(
    workspace: WorkspaceDep, round_id: Id, image_id: Id, body: LabelRequest, principal: AnnotatorDep
) -> Response:
    workspace.mad.label(round_id, image_id, body.label)
    return Response(status_code=204)


@router.post(
    "/rounds/{round_id}/finetune", response_model=JobInfo, status_code=202, dependencies=ADMIN
)
def queue_finetune(workspace: WorkspaceDep, round_id: Id, body: FinetuneRequest) -> JobInfo:
    """Queue the fine-tune of the round's target on its labels mixed 1:1 with training."""
    workspace.mad.get_round(round_id)
    params = {"round": round_id, **body.model_dump(exclude_none=True)}
    return workspace.jobs.submit("mad_finetune", params)


@router.get("/table", response_model=RoundsTable, dependencies=VIEWER)
def table(workspace: WorkspaceDep) -> RoundsTable:
    """Accuracy of every model on the original test set and each round's test set."""
    return workspace.mad.table()


@router.get("/ranking", response_model=Ranking, dependencies=VIEWER)
def ranking(
    workspace: WorkspaceDep,
    threshold: float | None = Query(None, gt=0, le=1, description="default: every disagreement"),
) -> Ranking:
    """All registered models ranked by their pairwise MAD contests on labelled images."""
    return workspace.mad.ranking(threshold=threshold)
