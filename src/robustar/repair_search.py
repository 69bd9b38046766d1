"""Repair search: train every candidate setting of a grid as a candidate version, measure each
on the user's own masks, and choose one by the criterion of `robustar.train.search`; the
choice is promoted only by the user, or through the regression guard with `promote_best`."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Protocol

from robustar.errors import DataError
from robustar.guard import SPLIT, Guard
from robustar.models.store import ModelStore
from robustar.models.versions import GuardReport, VersionInfo
from robustar.paths import Paths
from robustar.progress import ProgressCallback
from robustar.repair import Repair
from robustar.train.options import TrainOptions
from robustar.train.search import Figures, SearchOptions, choose, describe, eligible, score


@dataclass(frozen=True)
class Candidate:
    """One trained setting and its figures; `eligible` and `chosen` are known at the end."""

    index: int  # 1-based, in the grid's order
    settings: dict[str, Any]  # the grid's values for this candidate
    version_id: int
    clean_accuracy: float  # on the validation split
    filled_accuracy: float  # on the criterion's annotated images, spurious regions filled
    consistency: float  # share of filled copies predicted as their original
    score: float
    eligible: bool | None  # clean accuracy within the tolerance of the best candidate's
    chosen: bool


@dataclass(frozen=True)
class SearchResult:
    split: str  # where the criterion's annotated images are: validation, else train
    images: int  # how many
    fillers: list[str]
    tolerance: float
    candidates: list[Candidate]
    chosen_id: int  # the chosen candidate's model version
    promoted: bool  # made current (promote_best, and the guard passed)
    reason: str  # the choice, in words
    guard: GuardReport | None  # the guard's verdict when promote_best judged the choice


class SearchHost(Protocol):
    """What a repair search needs of a workspace."""

    paths: Paths
    folders: dict[str, Path]
    repair: Repair
    guard: Guard
    model_store: ModelStore

    def train(
        self,
        options: TrainOptions | None = None,
        progress: ProgressCallback = None,
        predict: bool = True,
        run_dir: Path | None = None,
        *,
        candidate: bool = False,
    ) -> VersionInfo: ...


def _criterion_split(host: SearchHost) -> tuple[str, int]:
    """Annotated validation images when there are any, else the annotated training images."""
    if SPLIT not in host.folders:
        raise DataError(
            "a repair search needs a validation split: it chooses by validation accuracy",
            "add [data] validation to robustar.toml (a folder like train's), then "
            "'robustar scan DIR'",
            "add [data] validation to robustar.toml (a folder like train's), then reopen the "
            "workspace and call ws.scan()",
        )
    for split in (SPLIT, "train"):
        if images := len(host.repair.annotated_ids(split)):
            return split, images
    raise DataError(
        "a repair search needs spurious masks: its criterion fills the masked regions",
        "annotate some validation (or training) images' spurious regions first "
        "(the Annotate page, 'robustar masks', or auto-annotation)",
        "annotate some validation (or training) images' spurious regions first "
        "(ws.masks.set(image_id, mask), or ws.masks.auto_annotate(...))",
    )


def _settings(trial: TrainOptions, options: SearchOptions) -> dict[str, Any]:
    return {name: getattr(trial, name) for name in options.grid}


def _trained(
    host: SearchHost, trial: TrainOptions, run_dir: Path | None, progress: ProgressCallback
) -> VersionInfo:
    """The candidate's version: trained now, or found from an interrupted search's run."""
    if run_dir is not None:
        for version in host.model_store.versions():
            if version.config.get("run") == run_dir.name:
                return version
    return host.train(trial, progress, run_dir=run_dir, candidate=True)


def run_search(
    host: SearchHost,
    options: SearchOptions,
    progress: ProgressCallback = None,
    on_candidate: Callable[[Candidate], None] | None = None,
    run_prefix: str | None = None,
) -> SearchResult:
    """Train, measure and choose (see the module's docstring). `run_prefix` names the
    candidates' run folders, so that a resumed search reuses the candidates it finished."""
    split, images = _criterion_split(host)
    trials = options.candidates()
    base = host.model_store.current()
    if base is None and any(t.init == "current" for t in trials):
        raise DataError(
            "the grid has init='current' but the workspace has no current model version",
            "train or import one first, or leave 'current' out of the grid's init",
        )
    found: list[Candidate] = []
    for index, trial in enumerate(trials, 1):
        settings = _settings(trial, options)
        name = trial.name or f"search {index}: {describe(settings)}"
        named = trial.model_copy(update={"name": name})

        def staged(stage: str, done: int, total: int, index: int = index) -> None:
            if progress is not None:
                progress(f"candidate {index}/{len(trials)}: {stage}", done, total)

        run_dir = host.paths.runs / f"{run_prefix}-c{index}" if run_prefix else None
        version = _trained(host, named, run_dir, staged)
        _, clean = host.guard.accuracy(version.id)  # predicts if a resumed job had not
        reliance = host.repair.reliance(version.id, split, options.fillers)
        assert reliance is not None  # the split has annotated images (checked above)
        figures = Figures(clean, reliance.filled, reliance.consistency)
        candidate = Candidate(
            index,
            settings,
            version.id,
            clean,
            figures.filled,
            figures.consistency,
            score(figures),
            eligible=None,
            chosen=False,
        )
        found.append(candidate)
        if on_candidate is not None:
            on_candidate(candidate)
    return _decide(host, options, found, split, images, base)


def _decide(
    host: SearchHost,
    options: SearchOptions,
    found: list[Candidate],
    split: str,
    images: int,
    base: VersionInfo | None,
) -> SearchResult:
    """Mark eligibility and the choice, promote it if asked, and say why in words."""
    figures = [Figures(c.clean_accuracy, c.filled_accuracy, c.consistency) for c in found]
    allowed = eligible(figures, options.tolerance)
    best = choose(figures, options.tolerance)
    final = [replace(c, eligible=allowed[i], chosen=i == best) for i, c in enumerate(found)]
    chosen = final[best]
    where = f"{images} annotated {split} images"
    if split != SPLIT:
        where += " (no validation image has a spurious mask, so the training masks stand in)"
    reason = (
        f"v{chosen.version_id} (candidate {chosen.index}) chosen: score {chosen.score:.3f} = "
        f"mean of accuracy with masks filled {100 * chosen.filled_accuracy:.1f}% and "
        f"consistency {100 * chosen.consistency:.1f}% on {where}; clean validation accuracy "
        f"{100 * chosen.clean_accuracy:.1f}%"
    )
    excluded = [str(c.index) for c in final if not c.eligible]
    if excluded:
        reason += (
            f"; candidate(s) {', '.join(excluded)} lost more than {options.tolerance:g} "
            "accuracy points of clean validation accuracy against the best, so were not eligible"
        )
    promoted, report = False, None
    if not options.promote_best:
        reason += (
            f"; it is a candidate: promote it to make it current (the Models page, "
            f"'robustar models use DIR {chosen.version_id}', or ws.use_model({chosen.version_id}))"
        )
    elif base is None or not options.base.guard:
        host.model_store.use(chosen.version_id)
        promoted = True
        reason += f"; v{chosen.version_id} is now current"
    else:
        report = host.guard.judge(chosen.version_id, options.base.guard_tolerance, base.id)
        promoted = host.model_store.settle(chosen.version_id, report).is_current
        reason += f"; regression guard: {report.reason}"
    return SearchResult(
        split,
        images,
        options.fillers,
        options.tolerance,
        final,
        chosen.version_id,
        promoted,
        reason,
        report,
    )
