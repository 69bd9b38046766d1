"""The `robustar` command line: a thin face over robustar.Workspace."""

from __future__ import annotations

import json
import sys
from dataclasses import asdict
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from robustar.cli_progress import progress_bars
from robustar.errors import RobustarError
from robustar.predict.metrics import SplitMetrics

app = typer.Typer(
    help="Robustar: find and fix what image models get wrong.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
models_app = typer.Typer(help="Model versions: list, import, make current.", no_args_is_help=True)
app.add_typer(models_app, name="models")
masks_app = typer.Typer(help="Masks: import, export, progress.", no_args_is_help=True)
app.add_typer(masks_app, name="masks")
jobs_app = typer.Typer(help="Jobs: list, cancel, resume.", no_args_is_help=True)
app.add_typer(jobs_app, name="jobs")
attribute_app = typer.Typer(
    help="Data attribution: build, query, suspicious.", no_args_is_help=True
)
app.add_typer(attribute_app, name="attribute")
console = Console(stderr=True)
stdout = Console()

WorkspaceDir = Annotated[Path, typer.Argument(help="workspace folder")]
Quiet = Annotated[bool, typer.Option("--quiet", "-q", help="no progress bars")]


def _open(path: Path):  # type: ignore[no-untyped-def]
    from robustar.workspace import Workspace

    return Workspace.open(path)


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.1f}%"


def _print_metrics(m: SplitMetrics) -> None:
    stdout.print(
        f"[bold]{m.split}[/]: {m.images} images, accuracy {_pct(m.accuracy)}, "
        f"loss {'-' if m.loss is None else f'{m.loss:.4f}'} (model version {m.version_id})"
    )


@app.command()
def init(
    directory: WorkspaceDir,
    train: Annotated[Path, typer.Option(help="train folder: one sub-folder per class")],
    validation: Annotated[Path | None, typer.Option(help="validation folder")] = None,
    test: Annotated[Path | None, typer.Option(help="test folder (out-of-domain is best)")] = None,
    pool: Annotated[Path | None, typer.Option(help="unlabelled pool folder")] = None,
    class_file: Annotated[Path | None, typer.Option(help="one class name per line")] = None,
    architecture: Annotated[
        str, typer.Option(help="model name, see 'robustar models architectures'")
    ] = "resnet18",
    checkpoint: Annotated[Path | None, typer.Option(help="weights to import as version 1")] = None,
    image_size: Annotated[int, typer.Option(help="model input size in pixels")] = 224,
    resize: Annotated[str, typer.Option(help="pad, stretch or crop")] = "pad",
    device: Annotated[str, typer.Option(help="auto, cpu, cuda or mps")] = "auto",
    batch_size: Annotated[int, typer.Option()] = 64,
    database_url: Annotated[str | None, typer.Option(help="SQLAlchemy URL; default SQLite")] = None,
    quiet: Quiet = False,
) -> None:
    """Create a workspace from existing image folders and index them."""
    from robustar.config import parse_config
    from robustar.workspace import Workspace

    def absolute(p: Path | None) -> str | None:
        return None if p is None else str(p.expanduser().resolve())

    raw = {
        "data": {
            "train": absolute(train),
            "validation": absolute(validation),
            "test": absolute(test),
            "pool": absolute(pool),
            "class_file": absolute(class_file),
        },
        "image": {"size": image_size, "resize": resize},
        "model": {"architecture": architecture, "checkpoint": absolute(checkpoint)},
        "runtime": {"device": device, "batch_size": batch_size},
        "database": {"url": database_url},
    }
    raw = {k: {f: v for f, v in section.items() if v is not None} for k, section in raw.items()}
    config = parse_config(raw, directory / "robustar.toml")
    with progress_bars(console, not quiet) as progress:
        workspace = Workspace.create(directory, config, progress)
    _print_info(workspace)


@app.command()
def demo(
    directory: WorkspaceDir = Path("demo-workspace"),
    serve_after: Annotated[bool, typer.Option("--serve/--no-serve", help="serve after")] = True,
    train: Annotated[bool, typer.Option("--train/--no-train", help="train the baseline")] = True,
    port: Annotated[int | None, typer.Option()] = None,
    quiet: Quiet = False,
) -> None:
    """Create the spurious-digits demo workspace, train its baseline, then serve it."""
    from robustar.demo import create_demo

    with progress_bars(console, not quiet) as progress:
        workspace = create_demo(directory, train=train, progress=progress)
    _print_info(workspace)
    if serve_after:
        _serve(workspace, None, port)


@app.command()
def info(
    directory: WorkspaceDir,
    as_json: Annotated[bool, typer.Option("--json", help="machine-readable output")] = False,
) -> None:
    """Splits, class counts, model versions and their accuracy."""
    workspace = _open(directory)
    if as_json:
        stdout.print_json(json.dumps(asdict(workspace.info()), default=str))
    else:
        _print_info(workspace)


def _print_info(workspace) -> None:  # type: ignore[no-untyped-def]
    info = workspace.info()
    stdout.print(f"[bold]workspace[/] {info.root}")
    stdout.print(f"[bold]classes[/] ({len(info.classes)}): {', '.join(info.classes)}")
    table = Table("split", "images", "problems", "per class")
    for s in info.splits:
        counts = " ".join(f"{k}:{v}" for k, v in s.class_counts.items())
        table.add_row(s.name, str(s.images), str(s.problems), counts)
    stdout.print(table)
    if not info.versions:
        stdout.print("no model versions yet: run 'robustar train' or 'robustar models import'")
        return
    _print_versions(info.versions, [s.name for s in info.splits])


def _print_versions(versions, splits: list[str]) -> None:  # type: ignore[no-untyped-def]
    table = Table("", "id", "name", "parent", "architecture", "source", *splits)
    for v in versions:
        accuracy = [_pct(v.metrics.get(s, {}).get("accuracy")) for s in splits]
        table.add_row(
            "*" if v.is_current else "",
            str(v.id),
            v.name,
            "-" if v.parent_id is None else str(v.parent_id),
            v.architecture,
            v.source,
            *accuracy,
        )
    stdout.print(table)


@app.command()
def scan(
    directory: WorkspaceDir,
    split: Annotated[list[str] | None, typer.Option(help="split(s); default all")] = None,
    quiet: Quiet = False,
) -> None:
    """Re-index the split folders: new, changed and removed files."""
    workspace = _open(directory)
    with progress_bars(console, not quiet) as progress:
        reports = workspace.scan(split, progress)
    for r in reports:
        stdout.print(
            f"{r.split}: {r.images} images (+{r.added} new, {r.changed} changed, "
            f"-{r.removed} removed), {len(r.problems)} problems, {r.seconds:.1f}s"
        )
        for rel, message in r.problems[:20]:
            stdout.print(f"  [yellow]problem[/] {rel}: {message}")


@app.command()
def predict(
    directory: WorkspaceDir,
    split: Annotated[list[str] | None, typer.Option(help="split(s); default all")] = None,
    version: Annotated[int | None, typer.Option(help="model version; default current")] = None,
    quiet: Quiet = False,
) -> None:
    """Run the model over splits and cache the predictions."""
    workspace = _open(directory)
    with progress_bars(console, not quiet) as progress:
        results = [workspace.predict(s, version, progress) for s in split or workspace.folders]
    for m in results:
        _print_metrics(m)


FILLER_HELP = "uniform, weak, minor, black, colour, hstripes, vstripes, mixture, blur, other, worst"


@app.command()
def train(
    directory: WorkspaceDir,
    epochs: Annotated[int, typer.Option()] = 10,
    learning_rate: Annotated[float, typer.Option("--lr")] = 1e-3,
    optimizer: Annotated[str, typer.Option(help="sgd, adam or adamw")] = "adamw",
    schedule: Annotated[str, typer.Option(help="constant, cosine or step")] = "cosine",
    batch_size: Annotated[int | None, typer.Option()] = None,
    weight_decay: Annotated[float, typer.Option()] = 0.0,
    seed: Annotated[int, typer.Option()] = 0,
    init: Annotated[str, typer.Option(help="scratch, current or checkpoint")] = "scratch",
    checkpoint: Annotated[Path | None, typer.Option(help="weights for --init checkpoint")] = None,
    architecture: Annotated[str | None, typer.Option()] = None,
    device: Annotated[str | None, typer.Option(help="auto, cpu, cuda or mps")] = None,
    name: Annotated[str | None, typer.Option()] = None,
    augment: Annotated[str, typer.Option(help="none or flip")] = "none",
    paired: Annotated[bool, typer.Option(help="paired training on annotated images")] = False,
    filler: Annotated[str, typer.Option(help=FILLER_HELP)] = "mixture",
    regularizer: Annotated[str, typer.Option(help="l2, l1, cosine or kl")] = "l2",
    pair_weight: Annotated[float, typer.Option(help="λ of the pair regulariser")] = 0.2,
    predict_after: Annotated[bool, typer.Option("--predict/--no-predict")] = True,
    queue: Annotated[bool, typer.Option(help="queue a job for the worker instead")] = False,
    quiet: Quiet = False,
) -> None:
    """Train a new model version (plain or paired) and make it current."""
    from robustar.train.options import parse_options

    options = parse_options(
        {
            k: v
            for k, v in dict(
                epochs=epochs,
                learning_rate=learning_rate,
                optimizer=optimizer,
                schedule=schedule,
                batch_size=batch_size,
                weight_decay=weight_decay,
                seed=seed,
                init=init,
                checkpoint=None if checkpoint is None else str(checkpoint),
                architecture=architecture,
                device=device,
                name=name,
                augment=augment,
                paired=paired,
                filler=filler,
                regularizer=regularizer,
                pair_weight=pair_weight,
            ).items()
            if v is not None
        }
    )
    workspace = _open(directory)
    if queue:
        job = workspace.jobs.train(options, predict_after)
        stdout.print(
            f"queued training as job {job.id}; 'robustar serve' or 'robustar worker' runs it"
        )
        return
    with progress_bars(console, not quiet) as progress:
        version = workspace.train(options, progress, predict=predict_after)
    stdout.print(f"trained model version {version.id} ({version.name}); it is now current")
    _print_versions([version], list(workspace.folders))


@app.command()
def serve(
    directory: WorkspaceDir,
    host: Annotated[str | None, typer.Option(help="default: [server] host, 127.0.0.1")] = None,
    port: Annotated[int | None, typer.Option(help="default: [server] port, 8000")] = None,
    worker: Annotated[bool, typer.Option("--worker/--no-worker", help="run queued jobs")] = True,
) -> None:
    """Serve the web app and the REST API (docs at /api/docs), with a job worker beside it."""
    _serve(_open(directory), host, port, worker)


def _serve(workspace, host: str | None, port: int | None, worker: bool = True) -> None:  # type: ignore[no-untyped-def]
    import subprocess

    import uvicorn

    from robustar.server.app import create_app

    host = host or workspace.config.server.host
    port = port or workspace.config.server.port
    if host not in ("127.0.0.1", "localhost", "::1"):
        console.print(f"[yellow]warning[/]: serving on {host}, reachable from other machines")
    console.print(f"serving {workspace.root} on http://{host}:{port} (API docs: /api/docs)")
    process = None
    if worker:  # a separate process, so training never blocks the server
        command = [sys.executable, "-m", "robustar.jobs.worker", str(workspace.root)]
        process = subprocess.Popen(command)
    try:
        uvicorn.run(create_app(workspace), host=host, port=port, log_level="warning")
    finally:
        if process is not None:
            process.terminate()
            process.wait(timeout=30)


@app.command("worker")
def run_worker(directory: WorkspaceDir) -> None:
    """Run queued jobs one at a time (what 'robustar serve' starts beside the server)."""
    from robustar.jobs.worker import serve_forever

    root = _open(directory).root
    console.print(f"worker for {root}: waiting for jobs (Ctrl+C stops)")
    serve_forever(root)


@jobs_app.command("list")
def jobs_list(directory: WorkspaceDir) -> None:
    """Recent jobs with status and progress."""
    table = Table("id", "kind", "status", "progress", "created", "error")
    for job in _open(directory).jobs.list():
        share = f"{job.stage} {job.done}/{job.total}" if job.total else job.stage
        error = (job.error or "").strip().splitlines()[-1:] or [""]
        created = f"{job.created_at:%Y-%m-%d %H:%M}"
        table.add_row(str(job.id), job.kind, job.status, share, created, error[0][:60])
    stdout.print(table)


@jobs_app.command("cancel")
def jobs_cancel(directory: WorkspaceDir, job: int) -> None:
    """Cancel a queued or running job (a running one stops within seconds)."""
    info = _open(directory).jobs.cancel(job)
    state = "cancel requested" if info.status == "running" else info.status
    stdout.print(f"job {info.id}: {state}")


@jobs_app.command("resume")
def jobs_resume(directory: WorkspaceDir, job: int) -> None:
    """Queue an interrupted, failed or cancelled job again (training resumes its epochs)."""
    info = _open(directory).jobs.resume(job)
    stdout.print(f"job {info.id} is queued again")


@models_app.command("list")
def models_list(directory: WorkspaceDir) -> None:
    """All model versions with lineage and accuracy; * marks the current one."""
    workspace = _open(directory)
    _print_versions(workspace.models, list(workspace.folders))


@models_app.command("use")
def models_use(directory: WorkspaceDir, version: int) -> None:
    """Make a model version current."""
    chosen = _open(directory).use_model(version)
    stdout.print(f"model version {chosen.id} ({chosen.name}) is now current")


@models_app.command("import")
def models_import(
    directory: WorkspaceDir,
    checkpoint: Path,
    architecture: Annotated[str | None, typer.Option()] = None,
    name: Annotated[str | None, typer.Option()] = None,
) -> None:
    """Import a state dict (.pt/.pth or .safetensors) as a new current version."""
    version = _open(directory).import_model(checkpoint, architecture, name)
    stdout.print(f"imported {checkpoint} as model version {version.id} ({version.architecture})")


@models_app.command("architectures")
def models_architectures() -> None:
    """Model names that `architecture` accepts."""
    from robustar.models.registry import list_models

    for source, names in list_models().items():
        stdout.print(f"[bold]{source}[/] ({len(names)}): {' '.join(names[:60])}")


@app.command()
def explain(
    directory: WorkspaceDir,
    image: Annotated[int | None, typer.Argument(help="image id; omit with --split")] = None,
    method: Annotated[
        str,
        typer.Option(
            help="max_gradient, gradient, smoothgrad, "
            "integrated_gradients, guided_backprop, gradcam"
        ),
    ] = "max_gradient",
    target: Annotated[
        str | None, typer.Option(help="class name or index; default predicted")
    ] = None,
    out: Annotated[Path | None, typer.Option(help="write the heat map PNG here")] = None,
    split: Annotated[str | None, typer.Option(help="precompute a whole split instead")] = None,
    quiet: Quiet = False,
) -> None:
    """Saliency of one image (PNG and the share inside its spurious mask), or of a split."""
    workspace = _open(directory)
    if split is not None:
        with progress_bars(console, not quiet) as progress:
            count = workspace.explain.precompute(split, method, None, progress)
        stdout.print(f"{method} saliency cached for {count} {split} images")
        return
    if image is None:
        raise typer.BadParameter("give an image id or --split")
    chosen = None if target is None else (int(target) if target.isdigit() else target)
    heat, explained = workspace.explain.saliency(image, method, chosen)
    if out is not None:
        out.write_bytes(workspace.explain.render(heat))
    share = workspace.explain.mass_in_mask(image, "spurious", method)
    inside = "" if share is None else f"; {share:.1%} of it inside the spurious mask"
    stdout.print(f"image {image}: {method} for class {workspace.classes[explained]}{inside}")


@attribute_app.command("build")
def attribute_build(
    directory: WorkspaceDir,
    method: Annotated[str, typer.Option(help="influence, trak or cosine")] = "trak",
    dim: Annotated[int, typer.Option(help="projection dimension (trak)")] = 1024,
    damping: Annotated[float, typer.Option()] = 1e-3,
    fresh: Annotated[bool, typer.Option(help="start over instead of resuming")] = False,
    quiet: Quiet = False,
) -> None:
    """Build (or finish) the attribution index of the current model version."""
    workspace = _open(directory)
    with progress_bars(console, not quiet) as progress:
        info = workspace.attribution.build(method, None, dim, damping, progress, fresh)
    stdout.print(f"{info.method} index of version {info.version}: {info.images} training images")


@attribute_app.command("query")
def attribute_query(
    directory: WorkspaceDir,
    image: int,
    k: Annotated[int, typer.Option()] = 8,
    method: Annotated[str, typer.Option()] = "trak",
) -> None:
    """The training images that most support and most oppose an image's label."""
    found = _open(directory).attribution.query(image, k, method)
    for group, rows in found.items():
        stdout.print(
            f"[bold]{group}[/]: " + ", ".join(f"{s.image_id} ({s.score:+.3g})" for s in rows)
        )


@attribute_app.command("suspicious")
def attribute_suspicious(
    directory: WorkspaceDir,
    limit: Annotated[int, typer.Option()] = 20,
    method: Annotated[str, typer.Option()] = "trak",
) -> None:
    """Training images ranked by harmful influence on misclassified test images."""
    ranked = _open(directory).attribution.suspicious(method, limit=limit)
    for rank, s in enumerate(ranked, 1):
        stdout.print(f"{rank:4d}. image {s.image_id}  score {s.score:.4f}")


MaskFormat = Annotated[str, typer.Option("--format", help="png (a folder) or coco (a JSON file)")]
MaskKind = Annotated[str, typer.Option("--kind", help="spurious or object")]


@masks_app.command("export")
def masks_export(
    directory: WorkspaceDir,
    out: Path,
    format: MaskFormat = "png",
    kind: MaskKind = "spurious",
    split: Annotated[str | None, typer.Option(help="one split only")] = None,
) -> None:
    """Write the current masks as a PNG folder or a COCO RLE JSON file."""
    count = _open(directory).masks.export_to(out, format, kind, split)
    stdout.print(f"exported {count} {kind} masks to {out}")


@masks_app.command("import")
def masks_import(
    directory: WorkspaceDir, source: Path, format: MaskFormat = "png", kind: MaskKind = "spurious"
) -> None:
    """Read masks (PNG folder or COCO JSON); nothing is stored unless every mask is valid."""
    count = _open(directory).masks.import_from(source, format, kind)
    stdout.print(f"imported {count} {kind} masks from {source}")


@masks_app.command("progress")
def masks_progress(directory: WorkspaceDir, kind: MaskKind = "spurious") -> None:
    """Annotated images per split and class."""
    progress = _open(directory).masks.progress(kind)
    table = Table("split", "annotated", "images", "per class (annotated/images)")
    for split, classes in progress.items():
        done = sum(d for d, _ in classes.values())
        total = sum(t for _, t in classes.values())
        detail = " ".join(f"{name}:{d}/{t}" for name, (d, t) in classes.items())
        table.add_row(split, str(done), str(total), detail)
    stdout.print(table)


def main() -> None:
    try:
        app()
    except RobustarError as error:
        console.print(f"[red]error[/]: {error.what}", highlight=False, soft_wrap=True)
        if error.fix:
            console.print(f"  [bold]fix[/]: {error.fix}", highlight=False, soft_wrap=True)
        sys.exit(2)
    except KeyboardInterrupt:
        console.print("interrupted")
        sys.exit(130)
