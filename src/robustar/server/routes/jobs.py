"""The task center's API: queue training, repair searches and prediction; list, watch (SSE),
cancel, resume."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator

from fastapi import APIRouter, Request
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, Field, TypeAdapter

from robustar.jobs.store import JobInfo
from robustar.server.auth import ADMIN, VIEWER
from robustar.server.deps import WorkspaceDep
from robustar.server.params import Id, Split
from robustar.train.options import RemoteTrainOptions
from robustar.train.search import RemoteSearchOptions

router = APIRouter(prefix="/jobs", tags=["jobs"])
EVENT_POLL_SECONDS = 0.5
_JOB_JSON = TypeAdapter(JobInfo)  # what the event stream sends: the same JSON as GET
SSE_EVENT = {  # one server-sent event, as Schemathesis and EventSource read the stream
    "type": "object",
    "required": ["data"],
    "properties": {
        "event": {"type": "string", "enum": ["end"]},
        "data": {"type": "string", "contentMediaType": "application/json"},
    },
}


class TrainRequest(BaseModel):
    options: RemoteTrainOptions = RemoteTrainOptions()
    predict: bool = Field(True, strict=True, description="predict the labelled splits afterwards")


class SearchRequest(BaseModel):
    options: RemoteSearchOptions = RemoteSearchOptions()


class PredictRequest(BaseModel):
    splits: list[Split] = []
    version: Id | None = None


@router.get("", response_model=list[JobInfo], dependencies=VIEWER)
def list_jobs(workspace: WorkspaceDep) -> list[JobInfo]:
    return workspace.jobs.list()


@router.get("/{job_id:int}", response_model=JobInfo, dependencies=VIEWER)
def get_job(workspace: WorkspaceDep, job_id: Id) -> JobInfo:
    return workspace.jobs.get(job_id)


@router.post("/train", response_model=JobInfo, status_code=202, dependencies=ADMIN)
def queue_training(workspace: WorkspaceDep, body: TrainRequest) -> JobInfo:
    """Queue a training run (plain or paired); the worker runs queued jobs in order."""
    return workspace.jobs.train(body.options, body.predict)


@router.post("/repair_search", response_model=JobInfo, status_code=202, dependencies=ADMIN)
def queue_repair_search(workspace: WorkspaceDep, body: SearchRequest) -> JobInfo:
    """Queue a repair search: every combination of `grid` over `base` is trained as a
    candidate version (none becomes current) and one is chosen by the user's masks; the
    job's result lists every candidate's figures and the choice."""
    return workspace.jobs.repair_search(body.options)


@router.post("/predict", response_model=JobInfo, status_code=202, dependencies=ADMIN)
def queue_prediction(workspace: WorkspaceDep, body: PredictRequest) -> JobInfo:
    return workspace.jobs.submit("predict", body.model_dump())


@router.post("/{job_id:int}/cancel", response_model=JobInfo, dependencies=ADMIN)
def cancel(workspace: WorkspaceDep, job_id: Id) -> JobInfo:
    return workspace.jobs.cancel(job_id)


@router.post("/{job_id:int}/resume", response_model=JobInfo, dependencies=ADMIN)
def resume(workspace: WorkspaceDep, job_id: Id) -> JobInfo:
    return workspace.jobs.resume(job_id)


@router.get(
    "/{job_id:int}/events",
    response_class=StreamingResponse,
    responses={
        200: {
            "content": {"text/event-stream": {"schema": SSE_EVENT}},
            "description": "an event with the job as JSON per change, then an `end` event",
        }
    },
    dependencies=VIEWER,
)
async def events(workspace: WorkspaceDep, job_id: Id, request: Request) -> StreamingResponse:
    """Server-sent events: the job as JSON whenever it changes, until it has finished."""
    await asyncio.to_thread(workspace.jobs.get, job_id)  # 404 before the stream starts

    async def stream() -> AsyncIterator[str]:
        last = None
        while not await request.is_disconnected():
            job = await asyncio.to_thread(workspace.jobs.get, job_id)
            state = (job.status, job.done, job.total, job.stage, len(job.log))
            if state != last:
                last = state
                yield f"data: {_JOB_JSON.dump_json(job).decode()}\n\n"
            if job.status not in ("queued", "running"):
                yield f"event: end\ndata: {json.dumps({'status': job.status})}\n\n"
                return
            await asyncio.sleep(EVENT_POLL_SECONDS)

    return StreamingResponse(
        stream(), media_type="text/event-stream", headers={"Cache-Control": "no-store"}
    )
