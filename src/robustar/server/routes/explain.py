"""Saliency maps and activation-maximisation images."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated

from fastapi import APIRouter, Query, Response
from pydantic import BaseModel, Field, StrictBool

from robustar.explain.attribution import (
    ATTRIBUTION,
    DEFAULT_METHOD,
    IndexOptions,
    IndexState,
    Readiness,
)
from robustar.explain.attribution import Scored as ScoredSample
from robustar.explain.attributor import QUEUE_SIZE, Ordering, Suspect
from robustar.explain.saliency import DEFAULT_METHOD as DEFAULT_SALIENCY
from robustar.explain.saliency import SALIENCY
from robustar.server import schemas
from robustar.server.auth import ADMIN, VIEWER
from robustar.server.deps import WorkspaceDep
from robustar.server.params import MAX_ID, Id

router = APIRouter(tags=["explain"])
Method = Annotated[str, SALIENCY.one_of]  # the registered names (GET /methods)


@router.get(
    "/images/{image_id}/saliency",
    responses=schemas.PNG,
    response_class=Response,
    dependencies=VIEWER,
)
def image_saliency(
    workspace: WorkspaceDep,
    image_id: Id,
    method: Method = DEFAULT_SALIENCY,
    target: int | None = Query(
        None, ge=0, le=MAX_ID, description="class; default: the predicted one"
    ),
    version: Id | None = Query(None, description="default: the current version"),
    layer: str | None = Query(None, description="Grad-CAM layer; default: the last conv"),
) -> Response:
    """At native size: an RGBA heat map whose alpha is the normalised saliency (the signed
    RGB gradient for method=gradient). X-Target names the class; X-Mask-Share is the share of
    saliency of this same map (method, class, layer) inside the spurious mask when the image has
    one."""
    found = workspace.explain.saliency(image_id, method, target, version, layer)
    headers = {"X-Target": str(found.target), "Cache-Control": "no-store"}
    share = workspace.explain.mask_share(found, "spurious")
    if share is not None:
        headers["X-Mask-Share"] = f"{share:.4f}"
    return Response(workspace.explain.render(found), media_type="image/png", headers=headers)


@router.get(
    "/models/{version}/activation/{target}",
    responses=schemas.PNG,
    response_class=Response,
    dependencies=VIEWER,
)
def activation(workspace: WorkspaceDep, version: Id, target: Id) -> Response:
    """An input the version scores as `target` as strongly as it can (at the model's size)."""
    png = workspace.explain.activation_maximisation(target, version)
    return Response(png, media_type="image/png")


AttributionMethod = Annotated[str, ATTRIBUTION.one_of]


class IndexReadiness(BaseModel):
    """Nothing built yet is a state of a new workspace, answered with 200, not an error."""

    status: IndexState = Field(
        description="ready; not_built / incomplete: build the index (POST /jobs/attribution); "
        "no_model: train or import a model first"
    )
    detail: str | None = Field(None, description="what is missing, when not ready")
    fix: str | None = Field(None, description="how to get it, when not ready")


def readiness(state: Readiness) -> dict[str, object]:
    """The state's fields the pages show (its Python fix stays in the library)."""
    return {"status": state.status, "detail": state.detail, "fix": state.fix}


# A training image's score; the library's carries the whole `Sample`, the page reads the
# images it shows by id (no docstring: it would change the schema's description).
class Scored(BaseModel):
    image_id: int
    score: float


def scored(rows: list[ScoredSample]) -> list[Scored]:
    return [Scored(image_id=s.image_id, score=s.score) for s in rows]


class Influence(IndexReadiness):
    """Empty lists and no target while the index is not ready."""

    method: str
    target: int | None = Field(description="the class explained")
    helpful: list[Scored]
    harmful: list[Scored]


class SuspiciousQueue(IndexReadiness):
    """An empty queue while the index is not ready."""

    method: str
    suspects: list[Suspect]
    images: list[schemas.ImageDetail] = Field(
        [],
        description="every suspect and the mistake it harms most, with the current "
        "predictions: the page shows them without a request per image",
    )


class IndexStatus(BaseModel):
    version: int
    method: str
    dim: int
    width: int
    images: int
    done: int
    damping: float
    ensemble: int
    complete: bool


class AttributionRequest(IndexOptions):
    """The settings a method does not use (GET /methods) are ignored."""

    method: AttributionMethod = DEFAULT_METHOD
    fresh: StrictBool = False


@router.get("/images/{image_id}/attribution", response_model=Influence, dependencies=VIEWER)
def image_attribution(
    workspace: WorkspaceDep,
    image_id: Id,
    method: AttributionMethod = DEFAULT_METHOD,
    k: int = Query(8, ge=1, le=100),
    target: int | None = Query(
        None,
        ge=0,
        le=MAX_ID,
        description="class; default: the label (the prediction when unlabelled)",
    ),
) -> Influence:
    """The training images that most support (helpful) and most oppose (harmful) the image's
    `target` class, by the current version's attribution index; `status` says when that
    index is not built yet."""
    workspace.image(image_id)  # an unknown image is a 404 whatever the index's state
    state = workspace.attribution.readiness(method)
    if state.status != "ready":
        return Influence(**readiness(state), method=method, target=None, helpful=[], harmful=[])
    found = workspace.attribution.query(image_id, k, method, target=target)
    return Influence(
        status="ready",
        method=method,
        target=found.target,
        helpful=scored(found.helpful),
        harmful=scored(found.harmful),
    )


@router.get("/attribution", response_model=list[IndexStatus], dependencies=VIEWER)
def attribution_status(workspace: WorkspaceDep) -> list[IndexStatus]:
    return [
        IndexStatus(**{**asdict(i), "complete": i.complete}) for i in workspace.attribution.status()
    ]


@router.get("/attribution/suspicious", response_model=SuspiciousQueue, dependencies=VIEWER)
def suspicious(
    workspace: WorkspaceDep,
    method: AttributionMethod = DEFAULT_METHOD,
    limit: int = Query(QUEUE_SIZE, ge=1, le=5000),
    ordering: Ordering = Query(
        "balanced", description="balanced: the mistakes' classes take turns; score: by score"
    ),
    exclude_annotated: bool = Query(False, description="leave out images with a spurious mask"),
) -> SuspiciousQueue:
    """Training images ranked by harmful influence on the misclassified test images; `status`
    says when the index is not built yet."""
    state = workspace.attribution.readiness(method, ranking=True)
    if state.status != "ready":
        return SuspiciousQueue(**readiness(state), method=method, suspects=[])
    suspects = workspace.attribution.suspicious(
        method, limit=limit, ordering=ordering, exclude_annotated=exclude_annotated
    )
    shown = [i for s in suspects for i in (s.image_id, s.harms_most)]
    images = [schemas.ImageDetail.of(i) for i in workspace.images_by_id(shown)]
    return SuspiciousQueue(status="ready", method=method, suspects=suspects, images=images)


@router.post("/jobs/attribution", status_code=202, tags=["jobs"], dependencies=ADMIN)
def queue_attribution(workspace: WorkspaceDep, body: AttributionRequest) -> dict:
    """Queue building (or finishing) the attribution index of the current version."""
    job = workspace.jobs.submit("attribution", body.model_dump())
    return {"id": job.id, "status": job.status}
