"""Run folders a killed training left behind, and resuming one.

A run keeps its options (`options.json`) and, after each epoch, a checkpoint and the
optimiser state (`state.pt`); a finished run drops the state. A folder that still has it was
stopped mid-run: a job's (`job-<id>`) is resumed through its job, any other (Python, CLI) is
listed here and resumed, or deleted, by name. A run stopped before its first epoch ended has
nothing to resume: training removes its folder.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from robustar.errors import DataError
from robustar.storage import atomic_write
from robustar.train.options import TrainOptions, parse_options
from robustar.train.plain import STATE_FILE

OPTIONS_FILE = "options.json"
JOB_PREFIX = "job-"


@dataclass(frozen=True)
class UnfinishedRun:
    name: str
    folder: str
    epochs_done: int
    epochs: int | None  # what it was asked for (None: started before options were kept)
    stopped_at: datetime


def save_options(run_dir: Path, options: TrainOptions) -> None:
    atomic_write(run_dir / OPTIONS_FILE, lambda tmp: tmp.write_text(options.model_dump_json()))


def _options(run_dir: Path) -> TrainOptions | None:
    path = run_dir / OPTIONS_FILE
    return parse_options(json.loads(path.read_text())) if path.is_file() else None


def unfinished_runs(runs: Path) -> list[UnfinishedRun]:
    """Runs outside jobs that stopped before their last epoch, oldest first."""
    found = []
    for run_dir in sorted(runs.glob("*/" + STATE_FILE)):
        folder = run_dir.parent
        if folder.name.startswith(JOB_PREFIX):
            continue
        options = _options(folder)
        found.append(
            UnfinishedRun(
                folder.name,
                str(folder),
                len(list(folder.glob("epoch-*.safetensors"))),
                None if options is None else options.epochs,
                datetime.fromtimestamp(run_dir.stat().st_mtime, UTC),
            )
        )
    return sorted(found, key=lambda r: r.stopped_at)


def delete_run(runs: Path, name: str) -> UnfinishedRun:
    """Remove an unfinished run's folder (its epoch checkpoints and curves); a finished
    run's folder is left alone."""
    run = _unfinished(runs, name)
    shutil.rmtree(run.folder)
    return run


def _unfinished(runs: Path, name: str) -> UnfinishedRun:
    found = {r.name: r for r in unfinished_runs(runs)}
    if name not in found:
        listed = ", ".join(found) or "none"
        raise DataError(
            f"no unfinished run named {name!r} (unfinished: {listed})",
            "name one 'robustar runs list DIR' lists; a job's run resumes with "
            "'robustar jobs resume'",
            "name one ws.unfinished_runs() lists; a job's run resumes with ws.jobs.resume(id)",
        )
    return found[name]


def resumable(runs: Path, name: str) -> tuple[Path, TrainOptions]:
    """The folder and options of the unfinished run `name`."""
    _unfinished(runs, name)
    options = _options(runs / name)
    if options is None:
        raise DataError(
            f"run {name} was started before runs kept their options",
            f"resume it from Python with the same options: ws.train(options, run_dir=runs/{name})",
        )
    return runs / name, options
