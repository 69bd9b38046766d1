"""Workspaces, data, training and serving: init, demo, info, scan, predict, train, serve."""

from __future__ import annotations

import json
import sys
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from robustar.cli.common import (
    Quiet,
    WorkspaceDir,
    app,
    console,
    open_workspace,
    percent,
    print_versions,
    stdout,
)
from robustar.cli.derive import Fields, command
from robustar.cli.mask_commands import print_coverage
from robustar.cli.progress import announce_steps, progress_bars
from robustar.config import LABELLED_SPLITS

if TYPE_CHECKING:
    from robustar.models.versions import VersionInfo
    from robustar.predict.metrics import SplitMetrics
    from robustar.segment.scoring import SplitScores
    from robustar.workspace import Workspace


def _print_metrics(m: SplitMetrics | SplitScores) -> None:
    from robustar.segment.scoring import SplitScores  # torch is loaded by now

    if isinstance(m, SplitScores):
        stdout.print(
            f"[bold]{m.split}[/]: {m.images} images, mIoU {percent(m.miou)}, pixel accuracy "
            f"{percent(m.pixel_accuracy)}"
        )
        return
    stdout.print(
        f"[bold]{m.split}[/]: {m.images} images, accuracy {percent(m.accuracy)}, "
        f"loss {'-' if m.loss is None else f'{m.loss:.4f}'} (model version {m.version_id})"
    )


@app.command()
def demo(
    directory: WorkspaceDir = Path("demo-workspace"),
    serve_after: Annotated[bool, typer.Option("--serve/--no-serve", help="serve after")] = True,
    train: Annotated[bool, typer.Option("--train/--no-train", help="train the baseline")] = True,
    port: Annotated[int | None, typer.Option()] = None,
    quiet: Quiet = False,
) -> None:
    """Create the spurious-digits demo workspace, train its baseline, then serve it
    (about 35-40 s on a quiet 2-core machine, minutes on a busy one)."""
    if not quiet:
        console.print("loading PyTorch (seconds; longer on a busy machine)")
    from robustar.demo import BASELINE, create_demo

    steps = {
        "generate": "generate 5,000 spurious-digit images",
        "scan": "index them",
        "train": f"train the baseline small CNN ({BASELINE.epochs} epochs, the longest step)",
        "predict": "predict every split",
    }
    if not train:
        del steps["train"], steps["predict"]
    with progress_bars(console, not quiet) as bars:
        progress = announce_steps(bars, console, steps)
        workspace = create_demo(directory, train=train, progress=progress)
    print_info(workspace)
    if serve_after:
        _serve(workspace, None, port)


@app.command()
def info(
    directory: WorkspaceDir,
    as_json: Annotated[bool, typer.Option("--json", help="machine-readable output")] = False,
) -> None:
    """Splits, class counts, model versions and their accuracy."""
    workspace = open_workspace(directory)
    if as_json:
        stdout.print_json(json.dumps(asdict(workspace.info()), default=str))
    else:
        print_info(workspace)


def print_info(workspace: Workspace) -> None:
    info = workspace.info()
    stdout.print(f"[bold]workspace[/] {escape(str(info.root))}")
    stdout.print(f"[bold]classes[/] ({len(info.classes)}): {escape(', '.join(info.classes))}")
    table = Table("split", "images", "problems", "per class")
    for s in info.splits:
        counts = " ".join(f"{k}:{v}" for k, v in s.class_counts.items())
        table.add_row(s.name, str(s.images), str(s.problems), counts)
    stdout.print(table)
    for run in info.unfinished_runs:
        done = f"{run.epochs_done}/{run.epochs or '?'} epochs"
        stdout.print(
            f"[yellow]unfinished run[/] {escape(run.name)} ({done}, stopped "
            f"{run.stopped_at:%Y-%m-%d %H:%M} UTC): resume with 'robustar train DIR --resume "
            f"{escape(run.name)}', or remove with 'robustar runs clean DIR {escape(run.name)}'"
        )
    if not info.versions:
        stdout.print("no model versions yet: run 'robustar train' or 'robustar models import'")
        return
    splits = [s.name for s in info.splits]
    print_versions(info.versions, splits)
    _print_against_parent(info.versions, [s for s in LABELLED_SPLITS if s in splits])


def _print_against_parent(versions: list[VersionInfo], splits: list[str]) -> None:
    """The current version's accuracy against its parent's, split by split."""
    by_id = {v.id: v for v in versions}
    current = next((v for v in versions if v.is_current), None)
    if current is None or current.parent_id not in by_id:
        return
    parent = by_id[current.parent_id]

    def accuracy(v: VersionInfo, split: str) -> float | None:
        value = v.metrics.get(split, {}).get("accuracy")
        return None if value is None else float(value)

    parts = []
    for split in splits:
        old, new = accuracy(parent, split), accuracy(current, split)
        points = "" if old is None or new is None else f" ({100 * (new - old):+.1f} points)"
        parts.append(f"{split} {percent(old)} → {percent(new)}{points}")
    stdout.print(
        f"[bold]v{current.id} against its parent v{parent.id}[/]: {', '.join(parts)}; "
        f"details: robustar compare DIR"
    )


@app.command()
def scan(
    directory: WorkspaceDir,
    split: Annotated[list[str] | None, typer.Option(help="split(s); default all")] = None,
    quiet: Quiet = False,
) -> None:
    """Re-index the split folders: new, changed and removed files."""
    workspace = open_workspace(directory)
    with progress_bars(console, not quiet) as progress:
        reports = workspace.scan(split, progress)
    for r in reports:
        stdout.print(
            f"{r.split}: {r.images} images (+{r.added} new, {r.changed} changed, "
            f"-{r.removed} removed), {len(r.problems)} problems, {r.seconds:.1f}s"
        )
        for rel, message in r.problems[:20]:
            stdout.print(f"  [yellow]problem[/] {escape(rel)}: {escape(message)}")


@app.command()
def predict(
    directory: WorkspaceDir,
    split: Annotated[list[str] | None, typer.Option(help="split(s); default all")] = None,
    version: Annotated[int | None, typer.Option(help="model version; default current")] = None,
    quiet: Quiet = False,
) -> None:
    """Run the model over splits and cache the predictions."""
    workspace = open_workspace(directory)
    with progress_bars(console, not quiet) as progress:
        results = [workspace.predict(s, version, progress) for s in split or workspace.folders]
    for m in results:
        _print_metrics(m)


@command(app)
def train(
    directory: WorkspaceDir,
    options: Annotated[
        dict[str, Any],
        Fields(
            "robustar.train.options:TrainOptions", {"learning_rate": ("--lr", "--learning-rate")}
        ),
    ],
    predict_after: Annotated[bool, typer.Option("--predict/--no-predict")] = True,
    queue: Annotated[bool, typer.Option(help="queue a job for the worker instead")] = False,
    resume: Annotated[
        str | None, typer.Option(help="go on with an unfinished run ('robustar info' lists them)")
    ] = None,
    quiet: Quiet = False,
) -> None:
    """Train a new model version (plain or paired) and make it current; one trained from
    the current version stays a candidate if it loses validation accuracy (--guard-tolerance)."""
    from robustar.errors import DataError
    from robustar.train.options import parse_options

    parsed = parse_options(options)
    if resume is not None and (queue or parsed != parse_options({})):
        raise DataError(
            "--resume goes on with the run's own options", "give --resume without other options"
        )
    workspace = open_workspace(directory)
    if resume is not None:
        with progress_bars(console, not quiet) as progress:
            version = workspace.train(progress=progress, predict=predict_after, resume=resume)
        stdout.print(f"resumed {resume}: model version {version.id} is now current")
        print_versions([version], list(workspace.folders))
        return
    if parsed.paired:  # skewed masks can teach a new shortcut: say so before it trains
        print_coverage(workspace.mask_coverage("train"), quiet)
    if queue:
        job = workspace.jobs.train(parsed, predict_after)
        stdout.print(
            f"queued training as job {job.id}; 'robustar serve' or 'robustar worker' runs it"
        )
        return
    with progress_bars(console, not quiet) as progress:
        version = workspace.train(parsed, progress, predict=predict_after)
    if version.is_current:
        stdout.print(f"trained model version {version.id} ({version.name}); it is now current")
    else:
        reason = version.guard.reason if version.guard else "the regression guard did not finish"
        console.print(f"[yellow]warning[/]: {escape(reason)}")
        stdout.print(f"trained model version {version.id} ({version.name}); it is a candidate")
    print_versions([version], list(workspace.folders))


@app.command()
def serve(
    directory: WorkspaceDir,
    host: Annotated[str | None, typer.Option(help="default: [server] host, 127.0.0.1")] = None,
    port: Annotated[int | None, typer.Option(help="default: [server] port, 8000")] = None,
    worker: Annotated[bool, typer.Option("--worker/--no-worker", help="run queued jobs")] = True,
    team: Annotated[
        bool, typer.Option("--team", help="team mode: accounts and roles ([server] team)")
    ] = False,
    insecure_http: Annotated[
        bool,
        typer.Option(
            "--insecure-http",
            help="team mode without TLS or a trusted proxy: only on a trusted LAN",
        ),
    ] = False,
) -> None:
    """Serve the web app and the REST API (docs at /api/docs), with a job worker beside it.
    With --team, people sign in with accounts ('robustar users add'); README 'Team mode'."""
    workspace = open_workspace(directory)
    settings = workspace.config.server
    settings.team = settings.team or team
    settings.insecure_http = settings.insecure_http or insecure_http
    _serve(workspace, host, port, worker)


def _serve(workspace: Workspace, host: str | None, port: int | None, worker: bool = True) -> None:
    import signal

    import uvicorn

    from robustar.jobs.supervisor import WorkerProcess
    from robustar.server.app import create_app

    settings = workspace.config.server
    host = host or settings.host
    port = port or settings.port
    app = create_app(workspace)  # team mode refuses here, before anything starts
    if host not in ("127.0.0.1", "localhost", "::1"):
        console.print(f"[yellow]warning[/]: serving on {host}, reachable from other machines")
    if settings.team and settings.insecure_http and not settings.tls_certfile:
        console.print(
            "[yellow]warning[/]: team mode over plain HTTP (--insecure-http): passwords and "
            "session cookies cross the network readable; use it on a trusted LAN only"
        )
    # uvicorn shuts down on SIGTERM, then raises it again: exit through `finally`, so the
    # worker is stopped too, rather than die there and leave it training.
    signal.signal(signal.SIGTERM, lambda signum, _frame: sys.exit(128 + signum))
    supervisor = WorkerProcess(workspace.root, workspace.session, console.print)
    scheme = "https" if settings.tls_certfile else "http"
    try:
        if worker:  # a separate process, so training never blocks the server
            supervisor.start()
        mode = " in team mode" if settings.team else ""
        console.print(
            f"serving {workspace.root}{mode} on {scheme}://{host}:{port} (API: /api/docs)"
        )
        uvicorn.run(
            app,
            host=host,
            port=port,
            log_level="warning",
            ssl_certfile=settings.tls_certfile,
            ssl_keyfile=settings.tls_keyfile,
            forwarded_allow_ips=",".join(settings.trusted_proxies) or None,
        )
    finally:
        supervisor.stop()


@app.command("worker")
def run_worker(directory: WorkspaceDir) -> None:
    """Run queued jobs one at a time (what 'robustar serve' starts beside the server); one
    worker per workspace. Ctrl+C or SIGTERM stops it after the running job's current step,
    leaving that job interrupted (resume it later)."""
    from robustar.jobs.lock import check_free
    from robustar.jobs.process import serve_forever

    root = open_workspace(directory).root
    check_free(root)
    console.print(f"worker for {root}: waiting for jobs (Ctrl+C stops)")
    serve_forever(root)
