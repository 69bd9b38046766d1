"""Generated spurious-correlation problems: list the kinds, make one (and its workspace)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from robustar.cli.common import Quiet, app, console, stdout
from robustar.cli.progress import progress_bars
from robustar.errors import DataError

problems_app = typer.Typer(
    help="Generated spurious-correlation problems: list, make.", no_args_is_help=True
)
app.add_typer(problems_app, name="problems")


@problems_app.command("list")
def problems_list() -> None:
    """The problem kinds, each with its options and their defaults."""
    from robustar.data.problems import PROBLEMS

    table = Table("kind", "shortcut", "options")
    for info in PROBLEMS.describe():
        options = " ".join(f"{o.name}={o.default}" for o in info.options)
        table.add_row(info.name, escape(info.description), options)
    stdout.print(table)


def _pairs(values: list[str], what: str, example: str) -> dict[str, str]:
    pairs = dict(v.partition("=")[::2] for v in values)
    if any(not k or not v for k, v in pairs.items()):
        raise DataError(
            f"--{what} takes NAME=VALUE, got {values}", f"write e.g. --{what} {example}"
        )
    return pairs


@problems_app.command("make")
def problems_make(
    kind: Annotated[str, typer.Argument(help="problem kind, see 'robustar problems list'")],
    directory: Annotated[Path, typer.Argument(help="new folder for the problem")],
    seed: Annotated[int, typer.Option(help="the same seed writes the same files")] = 0,
    agreement: Annotated[
        float,
        typer.Option(help="share of train/validation/test images whose shortcut is the label's"),
    ] = 0.95,
    ood: Annotated[
        str,
        typer.Option(
            help="out-of-domain shortcut: 'random', 'anti' (never the label's) or 'neutral' (none)"
        ),
    ] = "random",
    option: Annotated[
        list[str] | None, typer.Option("--option", "-o", help="a kind's option, NAME=VALUE")
    ] = None,
    count: Annotated[
        list[str] | None, typer.Option("--count", help="images in a split, SPLIT=N")
    ] = None,
    workspace: Annotated[
        bool, typer.Option("--workspace/--no-workspace", help="also create a workspace there")
    ] = True,
    quiet: Quiet = False,
) -> None:
    """Write a problem: data/ (train, validation, test, ood, reference-*), truth/ (true masks,
    shortcut-free copies), problem.json; by default a workspace over it in the same folder."""
    from robustar.data.problems import generate

    try:
        counts = {k: int(v) for k, v in _pairs(count or [], "count", "train=500").items()}
    except ValueError:
        raise DataError(
            f"--count needs whole numbers, got {count}", "write e.g. --count train=500"
        ) from None
    with progress_bars(console, not quiet) as progress:
        problem = generate(
            kind,
            directory,
            seed=seed,
            agreement=agreement,
            ood=ood,  # type: ignore[arg-type]  # generate checks it
            counts=counts,
            progress=progress,
            **_pairs(option or [], "option", "size=48"),
        )
        if workspace:
            from robustar.workspace import Workspace

            Workspace.create(problem.root, problem.config(workspace=problem.root), progress).close()
    splits = " ".join(f"{s}:{n}" for s, n in problem.counts.items())
    stdout.print(
        f"[bold]{kind}[/] problem in {escape(str(problem.root))}: {problem.size} px, "
        f"{len(problem.classes)} classes; {splits}",
        soft_wrap=True,
    )
    if workspace:
        stdout.print("workspace there: train, validation, and ood as its test", soft_wrap=True)


@problems_app.command("segmentation")
def problems_segmentation(
    directory: Annotated[Path, typer.Argument(help="new folder for the problem")],
    seed: Annotated[int, typer.Option(help="the same seed writes the same files")] = 0,
    size: Annotated[int, typer.Option(help="image side, 32 to 64 px")] = 48,
    classes: Annotated[int, typer.Option(help="3 or 4: background and 2 or 3 shapes")] = 4,
    count: Annotated[
        list[str] | None, typer.Option("--count", help="images in a split, SPLIT=N")
    ] = None,
    workspace: Annotated[
        bool, typer.Option("--workspace/--no-workspace", help="also create a workspace there")
    ] = True,
    quiet: Quiet = False,
) -> None:
    """Write a segmentation problem: shapes on plain backgrounds in train/validation/test, a
    shifted pool (large objects, clutter, new backgrounds) whose true label maps are kept in
    truth/; by default a segmentation workspace over it in the same folder."""
    from robustar.data.problems import generate_segmentation

    try:
        counts = {k: int(v) for k, v in _pairs(count or [], "count", "train=300").items()}
    except ValueError:
        raise DataError(
            f"--count needs whole numbers, got {count}", "write e.g. --count train=300"
        ) from None
    with progress_bars(console, not quiet) as progress:
        problem = generate_segmentation(
            directory, seed=seed, size=size, classes=classes, counts=counts, progress=progress
        )
        if workspace:
            from robustar.workspace import Workspace

            Workspace.create(problem.root, problem.config(problem.root), progress).close()
    splits = " ".join(f"{s}:{n}" for s, n in problem.counts.items())
    stdout.print(
        f"[bold]segmentation[/] problem in {escape(str(problem.root))}: {problem.size} px, "
        f"classes {', '.join(problem.classes)}; {splits}",
        soft_wrap=True,
    )
    if workspace:
        stdout.print("workspace there: train it with 'robustar train DIR'", soft_wrap=True)
