"""What each kind of job does; every handler calls the library with the job's progress.

Handlers see the workspace through `JobHost`, the few things they use, so this module sits
below `robustar.workspace` (which satisfies it) and above every stage.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import asdict
from pathlib import Path
from typing import Any, Protocol

from sqlalchemy.orm import Session

from robustar.annotations.masks import Masks
from robustar.annotations.proposals import parse_request
from robustar.errors import DataError
from robustar.explain.attribution import DEFAULT_METHOD
from robustar.explain.attributor import Attribution
from robustar.explain.explainer import Explain
from robustar.jobs.context import JobContext
from robustar.models.versions import EpochResult, VersionInfo
from robustar.paths import Paths
from robustar.predict.metrics import SplitMetrics
from robustar.progress import ProgressCallback
from robustar.train.options import TrainOptions, parse_options


class JobHost(Protocol):
    """What a job handler needs of a workspace."""

    paths: Paths
    folders: dict[str, Path]
    masks: Masks
    explain: Explain
    attribution: Attribution

    @property
    def default_architecture(self) -> str: ...

    def session(self) -> AbstractContextManager[Session]: ...

    def train(
        self,
        options: TrainOptions | None = None,
        progress: ProgressCallback = None,
        predict: bool = True,
        run_dir: Path | None = None,
        on_epoch: Callable[[EpochResult], None] | None = None,
    ) -> VersionInfo: ...

    def predict(
        self, split: str, version: int | None = None, progress: ProgressCallback = None
    ) -> SplitMetrics: ...


Handler = Callable[[JobHost, dict[str, Any], JobContext], dict[str, Any]]
HANDLERS: dict[str, Handler] = {}


def handler(kind: str) -> Callable[[Handler], Handler]:
    """Register a job kind: the worker runs `function(host, params, job)` for it."""

    def register(function: Handler) -> Handler:
        HANDLERS[kind] = function
        return function

    return register


@handler("train")
def train(host: JobHost, params: dict[str, Any], job: JobContext) -> dict[str, Any]:
    options = parse_options(params.get("options", {}))
    architecture = options.architecture or host.default_architecture
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

    version = host.train(
        options,
        progress=job.progress,
        predict=params.get("predict", True),
        run_dir=host.paths.runs / f"job-{job.job_id}",
        on_epoch=epoch_done,
    )
    job.log(f"model version {version.id} is now current")
    return {"version_id": version.id, "metrics": version.metrics, "epochs": curves}


@handler("predict")
def predict(host: JobHost, params: dict[str, Any], job: JobContext) -> dict[str, Any]:
    splits = params.get("splits") or list(host.folders)
    result = {}
    for split in splits:
        metrics = host.predict(split, params.get("version"), job.progress)
        result[split] = {"accuracy": metrics.accuracy, "images": metrics.images}
        job.log(f"{split}: accuracy {metrics.accuracy}")
    return result


@handler("auto_annotate")
def auto_annotate(host: JobHost, params: dict[str, Any], job: JobContext) -> dict[str, Any]:
    request = parse_request(params)
    made = host.masks.propose_all(request, job.progress, job.job_id)
    job.log(f"{made} {request.kind} proposals by {request.method}, waiting for review")
    return {"proposals": made}


@handler("attribution")
def attribution(host: JobHost, params: dict[str, Any], job: JobContext) -> dict[str, Any]:
    info = host.attribution.build(
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
def saliency(host: JobHost, params: dict[str, Any], job: JobContext) -> dict[str, Any]:
    count = host.explain.precompute(
        params.get("split", "test"), params.get("method", "max_gradient"), None, job.progress
    )
    return {"images": count}


def get_handler(kind: str) -> Handler:
    if kind not in HANDLERS:
        raise DataError(f"unknown job kind {kind!r}", f"use one of {', '.join(sorted(HANDLERS))}")
    return HANDLERS[kind]
