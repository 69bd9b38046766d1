"""Defuse: runs (VAE training as a job), the error search (a job), regions, the region page's
decoded samples and labels, the correction sweep (a job) and its report, the latent map and
interpolations. A region label's author is the signed-in account (team mode) or the OS one."""

from __future__ import annotations

import base64

from fastapi import APIRouter, Query, Response
from pydantic import BaseModel, ConfigDict, Field, StrictBool

from robustar.discover.defuse.service import LatentMap
from robustar.discover.defuse.settings import (
    CorrectSettings,
    RegionSettings,
    SearchSettings,
    VaeSettings,
)
from robustar.discover.defuse.store import CorrectionReport, DefuseRunInfo, RegionInfo
from robustar.jobs.store import JobInfo
from robustar.server.auth import ADMIN, VIEWER, AnnotatorDep
from robustar.server.deps import WorkspaceDep
from robustar.server.params import Id

router = APIRouter(prefix="/defuse", tags=["defuse"])


class RunJob(BaseModel):
    run: DefuseRunInfo
    job: JobInfo


class DefuseSearchRequest(SearchSettings):
    version: Id | None = Field(None, description="the classifier searched (default: current)")
    fresh: StrictBool = Field(False, description="start again, dropping the codes kept so far")
    regions: RegionSettings | None = Field(None, description="fit the regions afterwards")


class RegionLabelRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    label: str | None = Field(
        None, min_length=1, max_length=200, description="a class name or index; null clears"
    )
    unrecognisable: StrictBool = Field(False, description="exclude the region from the correction")


class DecodedOut(BaseModel):
    image: str = Field(description="data:image/png;base64,...")
    predicted: int
    confidence: float


def _data_url(png: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(png).decode()


@router.get("/runs", response_model=list[DefuseRunInfo], dependencies=VIEWER)
def list_runs(workspace: WorkspaceDep) -> list[DefuseRunInfo]:
    return workspace.defuse.runs()


@router.post("/runs", response_model=RunJob, status_code=202, dependencies=ADMIN)
def new_run(workspace: WorkspaceDep, body: VaeSettings) -> RunJob:
    """Create a run and queue the training of its VAE (resumable)."""
    run = workspace.defuse.create_run(**body.model_dump())
    return RunJob(run=run, job=workspace.jobs.submit("defuse_vae", {"run": run.id}))


@router.get("/runs/{run_id}", response_model=DefuseRunInfo, dependencies=VIEWER)
def get_run(workspace: WorkspaceDep, run_id: Id) -> DefuseRunInfo:
    return workspace.defuse.run(run_id)


@router.get(
    "/runs/{run_id}/preview",
    response_class=Response,
    responses={200: {"content": {"image/png": {}}}},
    dependencies=VIEWER,
)
def preview(workspace: WorkspaceDep, run_id: Id) -> Response:
    """Inputs, their reconstructions and prior samples after the last VAE epoch."""
    return Response(workspace.defuse.preview(run_id), media_type="image/png")


@router.post("/runs/{run_id}/search", response_model=JobInfo, status_code=202, dependencies=ADMIN)
def queue_search(workspace: WorkspaceDep, run_id: Id, body: DefuseSearchRequest) -> JobInfo:
    """Queue the error search over the training images (and the regions, when given)."""
    workspace.defuse.vae(run_id)
    settings = body.model_dump(exclude={"version", "fresh", "regions"})
    params = {"run": run_id, "settings": settings, "fresh": body.fresh}
    if body.version is not None:
        params["version"] = body.version
    if body.regions is not None:
        params["regions"] = body.regions.model_dump()
    return workspace.jobs.submit("defuse_search", params)


@router.post("/runs/{run_id}/regions", response_model=list[RegionInfo], dependencies=ADMIN)
def fit_regions(workspace: WorkspaceDep, run_id: Id, body: RegionSettings) -> list[RegionInfo]:
    """Fit the mixture again on the kept codes (replaces the regions and their labels)."""
    return workspace.defuse.fit_regions(run_id, **body.model_dump())


@router.get("/runs/{run_id}/regions", response_model=list[RegionInfo], dependencies=VIEWER)
def list_regions(workspace: WorkspaceDep, run_id: Id) -> list[RegionInfo]:
    return workspace.defuse.regions(run_id)


@router.get(
    "/runs/{run_id}/regions/{region_id}/samples",
    response_model=list[DecodedOut],
    dependencies=VIEWER,
)
def region_samples(
    workspace: WorkspaceDep, run_id: Id, region_id: Id, held_out: bool = False
) -> list[DecodedOut]:
    """The region's decoded samples with the searched version's answers."""
    found = workspace.defuse.samples(run_id, region_id, held_out)
    return [DecodedOut(image=_data_url(s.png), predicted=s.predicted, confidence=s.confidence)
            for s in found]  # fmt: skip


@router.put("/runs/{run_id}/regions/{region_id}/label", response_model=RegionInfo)
def label_region(
    workspace: WorkspaceDep,
    run_id: Id,
    region_id: Id,
    body: RegionLabelRequest,
    principal: AnnotatorDep,
) -> RegionInfo:
    """Label the whole region with a class, mark it unrecognisable, or clear it."""
    return workspace.defuse.label(
        run_id, region_id, body.label, body.unrecognisable, principal.name
    )


@router.post("/runs/{run_id}/correct", response_model=JobInfo, status_code=202, dependencies=ADMIN)
def queue_correct(workspace: WorkspaceDep, run_id: Id, body: CorrectSettings) -> JobInfo:
    """Queue the correction sweep (each λ, and the region-only baseline)."""
    workspace.defuse.run(run_id)
    return workspace.jobs.submit("defuse_correct", {"run": run_id, "settings": body.model_dump()})


@router.get("/runs/{run_id}/report", response_model=CorrectionReport, dependencies=VIEWER)
def report(workspace: WorkspaceDep, run_id: Id) -> CorrectionReport:
    return workspace.defuse.report(run_id)


@router.get("/runs/{run_id}/map", response_model=LatentMap, dependencies=VIEWER)
def latent_map(
    workspace: WorkspaceDep, run_id: Id, limit: int = Query(2000, ge=10, le=20_000)
) -> LatentMap:
    """PCA of the training codes, the kept error codes and the region means."""
    return workspace.defuse.map(run_id, limit)


@router.get("/runs/{run_id}/interpolate", response_model=list[DecodedOut], dependencies=VIEWER)
def interpolate(
    workspace: WorkspaceDep,
    run_id: Id,
    first: Id,
    second: Id,
    steps: int = Query(8, ge=2, le=64),
    version: Id | None = None,
) -> list[DecodedOut]:
    """Decodings between two images' codes with a version's answer at each step."""
    found = workspace.defuse.interpolate(run_id, first, second, steps, version)
    return [DecodedOut(image=_data_url(s.png), predicted=s.predicted, confidence=s.confidence)
            for s in found]  # fmt: skip
