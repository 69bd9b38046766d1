"""`robustar discover edits`: attribute edits (list, apply one, run the benchmark, tables,
flips) and loading a generated problem's true object masks."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from robustar.cli.common import Quiet, WorkspaceDir, console, discover_app, open_workspace, stdout
from robustar.cli.progress import progress_bars
from robustar.errors import DataError

if TYPE_CHECKING:
    from robustar.discover.edits.service import RunInfo

edits_app = typer.Typer(
    help="Attribute edits: list, apply, run, runs, table, flips, load-masks.", no_args_is_help=True
)
discover_app.add_typer(edits_app, name="edits")

EditOption = Annotated[
    list[str] | None, typer.Option("--option", "-o", help="an edit option, NAME=VALUE")
]


def _value(text: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


def _options(pairs: list[str]) -> dict[str, Any]:
    found = {}
    for pair in pairs:
        name, _, value = pair.partition("=")
        if not name or not value:
            raise DataError(f"an option takes NAME=VALUE, got {pair!r}", "write e.g. rate=0.05")
        found[name.strip()] = _value(value.strip())
    return found


def _edit(text: str) -> tuple[str, dict[str, Any]]:
    """`size:rate=0.05,blend=poisson` -> ("size", {...})."""
    name, _, rest = text.partition(":")
    return name.strip(), _options([p for p in rest.split(",") if p.strip()])


@edits_app.command("list")
def edits_list() -> None:
    """The edits, each with its options, defaults and ranges."""
    from robustar.discover.edits import EDITS

    table = Table("edit", "what it does", "options (default)")
    for info in EDITS.describe():
        options = " ".join(f"{o.name}={o.default}" for o in info.options)
        table.add_row(info.name, escape(info.description), escape(options))
    stdout.print(table)


@edits_app.command("apply")
def edits_apply(
    workspace: WorkspaceDir,
    image_id: Annotated[int, typer.Argument(help="an image with an object mask")],
    edit: Annotated[str, typer.Argument(help="edit name, see 'robustar discover edits list'")],
    option: EditOption = None,
    seed: Annotated[int, typer.Option(help="the same seed gives the same image")] = 0,
    version: Annotated[int | None, typer.Option(help="default: the current version")] = None,
    out: Annotated[Path | None, typer.Option(help="write the edited image here (PNG)")] = None,
) -> None:
    """Edit one image and show the model's prediction before and after."""
    from PIL import Image

    from robustar.discover.edits import EditSpec

    spec = EditSpec(edit, _options(option or []))
    with open_workspace(workspace) as ws:
        found = ws.edits.preview(image_id, spec, seed=seed, version=version)
        classes = ws.classes
    if out is not None:
        Image.fromarray(found.image).save(out)
    before, after = found.original, found.edited
    stdout.print(
        f"{spec.label}: {classes[before.predicted]} ({before.probabilities[before.predicted]:.2f})"
        f" -> {classes[after.predicted]} ({after.probabilities[after.predicted]:.2f}); "
        f"object rate {found.object_rate:.3f}, background complexity "
        f"{found.background_complexity:.2f}",
        soft_wrap=True,
    )


def _print_run(run: RunInfo) -> None:
    table = Table(
        "edit",
        "images",
        "original %",
        "edited %",
        "drop (points)",
        title=f"run {run.id}: version {run.version_id}, {run.split}, {run.images} images",
    )
    for row in run.rows:
        if row.class_name is None:
            ci = "" if row.ci is None else f" ± {100 * row.ci:.1f}"
            table.add_row(
                escape(row.edit),
                str(row.images),
                f"{100 * row.original:.1f}",
                f"{100 * row.edited:.1f}",
                f"{100 * row.drop:.1f}{ci}",
            )
    stdout.print(table)
    for edit, reasons in run.skipped.items():
        said = ", ".join(f"{n} {r}" for r, n in reasons.items())
        stdout.print(f"skipped for {escape(edit)}: {said}", soft_wrap=True)


@edits_app.command("run")
def edits_run(
    workspace: WorkspaceDir,
    split: Annotated[str, typer.Option(help="a labelled split")] = "test",
    version: Annotated[
        list[int] | None, typer.Option(help="a version to measure (repeat; default: current)")
    ] = None,
    edit: Annotated[
        list[str] | None,
        typer.Option(help="NAME[:OPT=V,...] (repeat; default: the standard suite)"),
    ] = None,
    seeds: Annotated[int, typer.Option(help="seeds 0..N-1 (the interval is over them)")] = 3,
    limit: Annotated[int | None, typer.Option(help="at most this many images")] = None,
    backend: Annotated[str, typer.Option(help="in-painting backend: telea or ns")] = "telea",
    ten_crop: Annotated[
        bool, typer.Option(help="also under ten-crop test-time augmentation (own rows)")
    ] = False,
    quiet: Quiet = False,
) -> None:
    """Benchmark versions under every edit; the tables are stored per version."""
    from pydantic import ValidationError

    from robustar.discover.edits.request import BenchmarkRequest
    from robustar.errors import validation_problems

    try:
        request = BenchmarkRequest(
            split=split,
            versions=version or None,
            edits=[dict(zip(("name", "options"), _edit(e), strict=True)) for e in edit or []]
            or None,
            seeds=seeds,
            limit=limit,
            backend=backend,
            ten_crop=ten_crop,
        )
    except ValidationError as error:
        raise DataError(
            f"invalid benchmark: {validation_problems(error)}",
            "see the ranges with 'robustar discover edits list'",
        ) from None
    with open_workspace(workspace) as ws, progress_bars(console, not quiet) as progress:
        runs = ws.edits.run_request(request, progress=progress)
    for run in runs:
        _print_run(run)


@edits_app.command("runs")
def edits_runs(
    workspace: WorkspaceDir,
    version: Annotated[int | None, typer.Option(help="only this version's runs")] = None,
) -> None:
    """Stored benchmark runs, newest first."""
    with open_workspace(workspace) as ws:
        runs = ws.edits.runs(version)
    table = Table("run", "version", "split", "images", "edits", "seeds", "when")
    for run in runs:
        table.add_row(
            str(run.id),
            str(run.version_id),
            run.split,
            str(run.images),
            str(len(run.options.get("edits", []))),
            str(run.options.get("seeds")),
            run.created_at[:19],
        )
    stdout.print(table)


@edits_app.command("table")
def edits_table(
    workspace: WorkspaceDir,
    runs: Annotated[list[int], typer.Argument(help="run ids, side by side")],
    format: Annotated[str, typer.Option(help="markdown or html")] = "markdown",
    per_class: Annotated[bool, typer.Option(help="also a row per edit and class")] = False,
    out: Annotated[Path | None, typer.Option(help="write to this file")] = None,
) -> None:
    """The robustness table of runs (e.g. two versions) as Markdown or HTML."""
    if format not in ("markdown", "html"):
        raise DataError(f"unknown format {format!r}", "use --format markdown or --format html")
    with open_workspace(workspace) as ws:
        text = ws.edits.export(runs, format, per_class)  # type: ignore[arg-type]  # checked
    if out is None:
        stdout.print(text, markup=False, highlight=False, soft_wrap=True)
    else:
        out.write_text(text)
        stdout.print(f"wrote {escape(str(out))}")


@edits_app.command("flips")
def edits_flips(
    workspace: WorkspaceDir,
    run: Annotated[int, typer.Argument(help="a run id")],
    limit: Annotated[int, typer.Option(help="at most this many")] = 50,
) -> None:
    """The images whose prediction an edit flipped (open one with 'apply' and its seed)."""
    with open_workspace(workspace) as ws:
        found, classes = ws.edits.flips(run, limit), ws.classes
    table = Table("image", "edit", "seed", "label", "before", "after")
    for f in found:
        table.add_row(
            str(f.image_id),
            escape(f.label),
            str(f.seed),
            classes[f.truth],
            classes[f.before],
            classes[f.after],
        )
    stdout.print(table)


@edits_app.command("load-masks")
def edits_load_masks(
    workspace: WorkspaceDir,
    problem: Annotated[Path, typer.Argument(help="a generated problem's folder")],
    split: Annotated[list[str] | None, typer.Option(help="only these splits (repeat)")] = None,
    quiet: Quiet = False,
) -> None:
    """Save a generated problem's true object masks as the workspace's `object` masks."""
    with open_workspace(workspace) as ws:
        saved = ws.edits.load_problem_masks(problem, split or None)
    stdout.print(f"saved {saved} object masks")
