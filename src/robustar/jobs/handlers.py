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
from robustar.discover.defuse.service import Defuse
from robustar.discover.defuse.training import VaeEpoch
from robustar.discover.edits.request import BenchmarkRequest
from robustar.discover.edits.service import Edits
from robustar.discover.mad.service import Mad
from robustar.errors import ConfigError
from robustar.explain.attribution import DEFAULT_METHOD
from robustar.explain.attributor import Attribution
from robustar.explain.explainer import Explain
from robustar.jobs.context import JobContext
from robustar.models.versions import EpochResult, VersionInfo
from robustar.paths import Paths
from robustar.predict.metrics import SplitMetrics
from robustar.progress import ProgressCallback
from robustar.registry import Registry
from robustar.repair_search import Candidate, SearchResult
from robustar.segment.scoring import SplitScores
from robustar.train.options import TrainOptions, parse_options
from robustar.train.search import SearchOptions, describe, parse_search


class JobHost(Protocol):
    """What a job handler needs of a workspace."""

    paths: Paths
    folders: dict[str, Path]
    masks: Masks
    explain: Explain
    attribution: Attribution

    @property
    def default_architecture(self) -> str: ...

    @property
    def edits(self) -> Edits: ...

    @property
    def mad(self) -> Mad: ...

    @property
    def defuse(self) -> Defuse: ...

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
    ) -> SplitMetrics | SplitScores: ...

    def repair_search(
        self,
        options: SearchOptions | None = None,
        progress: ProgressCallback = None,
        on_candidate: Callable[[Candidate], None] | None = None,
        run_prefix: str | None = None,
    ) -> SearchResult: ...


Handler = Callable[[JobHost, dict[str, Any], JobContext], dict[str, Any]]
# Job kinds: the worker runs `handler(host, params, job)` for a row of that kind.
JOB_KINDS: Registry[Handler] = Registry("job kind")


@JOB_KINDS.register("train")
def train(host: JobHost, params: dict[str, Any], job: JobContext) -> dict[str, Any]:
    """Train a new model version (plain or paired) and predict the labelled splits."""
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
    if version.guard is not None:
        job.log(f"regression guard: {version.guard.reason}")
    if version.is_current:
        job.log(f"model version {version.id} is now current")
    else:
        job.log(f"warning: model version {version.id} is a candidate, not current")
    return {
        "version_id": version.id,
        "status": version.status,
        "metrics": version.metrics,
        "epochs": curves,
    }


@JOB_KINDS.register("repair_search")
def repair_search(host: JobHost, params: dict[str, Any], job: JobContext) -> dict[str, Any]:
    """Train a grid of candidate versions, measure them on the user's masks, choose one."""
    options = parse_search(params.get("options", {}))
    count = len(options.candidates())
    job.log(f"repair search: {count} candidates, {options.base.epochs} epochs each")
    rows: list[dict[str, Any]] = []

    def measured(c: Candidate) -> None:
        rows.append(asdict(c))
        job.update_result(candidates=rows)
        job.log(
            f"candidate {c.index}/{count} ({describe(c.settings)}): v{c.version_id}, "
            f"clean {c.clean_accuracy:.3f}, filled {c.filled_accuracy:.3f}, "
            f"consistency {c.consistency:.3f}, score {c.score:.3f}"
        )

    result = host.repair_search(options, job.progress, measured, f"job-{job.job_id}")
    job.log(result.reason)
    return asdict(result)


@JOB_KINDS.register("predict")
def predict(host: JobHost, params: dict[str, Any], job: JobContext) -> dict[str, Any]:
    """Predict splits with a model version and store the predictions."""
    splits = params.get("splits") or list(host.folders)
    result = {}
    for split in splits:
        metrics = host.predict(split, params.get("version"), job.progress)
        if isinstance(metrics, SplitScores):
            result[split] = {"miou": metrics.miou, "images": metrics.images}
            job.log(f"{split}: mIoU {metrics.miou}")
            continue
        result[split] = {"accuracy": metrics.accuracy, "images": metrics.images}
        job.log(f"{split}: accuracy {metrics.accuracy}")
    return result


@JOB_KINDS.register("auto_annotate")
def auto_annotate(host: JobHost, params: dict[str, Any], job: JobContext) -> dict[str, Any]:
    """Propose masks for a filtered set of images; proposals wait for review."""
    request = parse_request(params)
    made = host.masks.propose_all(request, job.progress, job.job_id)
    how = f"{request.method}, inverted" if request.inverted else request.method
    job.log(f"{made.proposals} {request.kind} proposals by {how}, waiting for review")
    if made.empty:
        job.log(f"{made.empty} images got no proposal (the method found nothing)")
    return {"proposals": made.proposals, "empty": made.empty}


@JOB_KINDS.register("attribution")
def attribution(host: JobHost, params: dict[str, Any], job: JobContext) -> dict[str, Any]:
    """Build (or resume) an attribution index of the training images."""
    given = {k: params[k] for k in ("dim", "damping", "fresh", "ensemble") if k in params}
    method = params.get("method", DEFAULT_METHOD)
    info = host.attribution.build(method, **given, progress=job.progress)
    job.log(f"{info.method} index of model version {info.version}: {info.images} images")
    return {"version": info.version, "method": info.method, "images": info.images}


@JOB_KINDS.register("saliency")
def saliency(host: JobHost, params: dict[str, Any], job: JobContext) -> dict[str, Any]:
    """Fill the saliency cache for a split."""
    given = {"method": params["method"]} if "method" in params else {}
    count = host.explain.precompute(params.get("split", "test"), **given, progress=job.progress)
    return {"images": count}


@JOB_KINDS.register("edit_benchmark")
def edit_benchmark(host: JobHost, params: dict[str, Any], job: JobContext) -> dict[str, Any]:
    """Attribute-edit robustness of model versions over a split (tables stored per version)."""
    request = BenchmarkRequest.model_validate(params)
    runs = host.edits.run_request(request, progress=job.progress)
    for run in runs:
        overall = [r for r in run.rows if r.class_name is None]
        worst = max(overall, key=lambda r: r.drop, default=None)
        where = (
            "" if worst is None else f"; largest drop {100 * worst.drop:.1f} points ({worst.edit})"
        )
        job.log(f"version {run.version_id}: run {run.id}, {run.images} images{where}")
    return {"runs": [r.id for r in runs], "versions": [r.version_id for r in runs]}


@JOB_KINDS.register("mad_score")
def mad_score(host: JobHost, params: dict[str, Any], job: JobContext) -> dict[str, Any]:
    """Score the pool with every MAD model (or `versions`); resumes where a stop left off."""
    done = host.mad.score(params.get("versions"), progress=job.progress)
    for version, count in done.items():
        job.log(f"version {version}: {count} pool images scored")
    return {"scored": {str(v): n for v, n in done.items()}}


@JOB_KINDS.register("mad_finetune")
def mad_finetune(host: JobHost, params: dict[str, Any], job: JobContext) -> dict[str, Any]:
    """Fine-tune a round's target on its labelled counterexamples mixed 1:1 with training."""
    options = {k: v for k, v in params.items() if k != "round"}
    version = host.mad.finetune(int(params["round"]), progress=job.progress, **options)
    job.log(f"round {params['round']}: version {version.id} ({version.status})")
    return {"version": version.id, "status": version.status}


def _run_id(params: dict[str, Any]) -> int:
    if "run" not in params:
        raise ConfigError(
            "a Defuse job needs the run it works on",
            "create a run first (ws.defuse.create_run) and pass its id as 'run'",
        )
    return int(params["run"])


@JOB_KINDS.register("defuse_vae")
def defuse_vae(host: JobHost, params: dict[str, Any], job: JobContext) -> dict[str, Any]:
    """Train a Defuse run's VAE; a resumed job goes on from the last finished epoch."""
    run_id = _run_id(params)
    curves: list[dict[str, Any]] = []

    def epoch_done(e: VaeEpoch) -> None:
        curves.append(asdict(e))
        job.update_result(run=run_id, curves=curves)
        job.log(
            f"VAE epoch {e.epoch}: loss {e.loss:.2f} (reconstruction {e.reconstruction:.2f}, "
            f"KL {e.kl:.2f}, beta {e.beta:.2f})"
        )

    info = host.defuse.train_vae(run_id, progress=job.progress, on_epoch=epoch_done)
    return {"run": info.id, "curves": info.curves}


@JOB_KINDS.register("defuse_search")
def defuse_search(host: JobHost, params: dict[str, Any], job: JobContext) -> dict[str, Any]:
    """Search a run's latent space for errors of a version; resumes after the last stored
    batch."""
    run_id = _run_id(params)
    settings = params.get("settings") or {}
    fresh = bool(params.get("fresh", False)) and "run" not in job.result()  # not on resume
    job.update_result(run=run_id)
    info = host.defuse.search(
        run_id, params.get("version"), progress=job.progress, fresh=fresh, **settings
    )
    for share in info.flip_share:
        job.log(f"radius {share.radius:g}: {100 * share.share:.1f}% of samples flipped")
    job.log(f"{info.codes} error codes kept from {info.searched_images} images")
    if params.get("regions") is not None:
        regions = host.defuse.fit_regions(run_id, **params["regions"])
        job.log(f"{len(regions)} error regions")
    return {"run": run_id, "codes": info.codes, "flips": [asdict(s) for s in info.flip_share]}


@JOB_KINDS.register("defuse_correct")
def defuse_correct(host: JobHost, params: dict[str, Any], job: JobContext) -> dict[str, Any]:
    """The correction sweep of a run; a resumed job skips the fine-tunes already made."""
    run_id = _run_id(params)
    report = host.defuse.correct(run_id, progress=job.progress, **(params.get("settings") or {}))
    for row in report.rows:
        how = f"λ={row.weight:g}" if row.mode == "mixed" else "regions only"
        job.log(
            f"{how}: v{row.version_id} ({row.status}), region accuracy "
            f"{100 * report.region_accuracy:.1f}% → {100 * row.region_accuracy:.1f}%"
        )
    return asdict(report)


def get_handler(kind: str) -> Handler:
    return JOB_KINDS.get(kind)
