"""What each kind of job does; every handler calls the library with the job's progress."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict
from typing import TYPE_CHECKING, Any

from robustar.errors import DataError
from robustar.explain.attribution import DEFAULT_METHOD
from robustar.jobs.context import JobContext
from robustar.train.options import parse_options
from robustar.train.plain import EpochResult

if TYPE_CHECKING:
    from robustar.workspace import Workspace

Handler = Callable[["Workspace", dict[str, Any], JobContext], dict[str, Any]]
HANDLERS: dict[str, Handler] = {}


def handler(kind: str) -> Callable[[Handler], Handler]:
    def register(function: Handler) -> Handler:
        HANDLERS[kind] = function
        return function

    return register


@handler("train")
def train(workspace: Workspace, params: dict[str, Any], job: JobContext) -> dict[str, Any]:
    options = parse_options(params.get("options", {}))
    architecture = options.architecture or workspace.config.model.architecture
    job.log(f"training {architecture}, {options.epochs} epochs, paired={options.paired}")
    curves: list[dict[str, Any]] = []

    def epoch_done(e: EpochResult) -> None:
        curves.append(asdict(e))
        job.update_result(epochs=curves)
        accuracy = "" if e.val_accuracy is None else f", validation accuracy {e.val_accuracy:.3f}"
        job.log(
            f"epoch {e.epoch}: train loss {e.train_loss:.4f}, "
            f"accuracy {e.train_accuracy:.3f}{accuracy}"
        )

    version = workspace.train(
        options,
        progress=job.progress,
        predict=params.get("predict", True),
        run_dir=workspace.root / "runs" / f"job-{job.job_id}",
        on_epoch=epoch_done,
    )
    job.log(f"model version {version.id} is now current")
    return {"version_id": version.id, "metrics": version.metrics, "epochs": curves}


@handler("predict")
def predict(workspace: Workspace, params: dict[str, Any], job: JobContext) -> dict[str, Any]:
    splits = params.get("splits") or list(workspace.folders)
    result = {}
    for split in splits:
        metrics = workspace.predict(split, params.get("version"), job.progress)
        result[split] = {"accuracy": metrics.accuracy, "images": metrics.images}
        job.log(f"{split}: accuracy {metrics.accuracy}")
    return result


@handler("auto_annotate")
def auto_annotate(workspace: Workspace, params: dict[str, Any], job: JobContext) -> dict[str, Any]:
    from robustar.annotations.proposals import auto_annotate, parse_request

    request = parse_request(params)
    made = auto_annotate(workspace, request, job.progress, job.job_id)
    job.log(f"{made} {request.kind} proposals by {request.method}, waiting for review")
    return {"proposals": made}


@handler("attribution")
def attribution(workspace: Workspace, params: dict[str, Any], job: JobContext) -> dict[str, Any]:
    info = workspace.attribution.build(
        params.get("method", DEFAULT_METHOD),
        dim=params.get("dim", 1024),
        damping=params.get("damping", 1e-3),
        progress=job.progress,
        fresh=params.get("fresh", False),
        ensemble=params.get("ensemble", 1),
    )
    job.log(f"{info.method} index of model version {info.version}: {info.images} images")
    return {"version": info.version, "method": info.method, "images": info.images}


@handler("saliency")
def saliency(workspace: Workspace, params: dict[str, Any], job: JobContext) -> dict[str, Any]:
    count = workspace.explain.precompute(
        params.get("split", "test"), params.get("method", "max_gradient"), None, job.progress
    )
    return {"images": count}


def get_handler(kind: str) -> Handler:
    if kind not in HANDLERS:
        raise DataError(f"unknown job kind {kind!r}", f"use one of {', '.join(sorted(HANDLERS))}")
    return HANDLERS[kind]
