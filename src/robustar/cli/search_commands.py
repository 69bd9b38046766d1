"""`robustar repair-search`: train a grid of candidate settings and choose one from the masks."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from robustar.cli.common import Quiet, WorkspaceDir, app, console, open_workspace, percent, stdout
from robustar.cli.derive import Fields, command
from robustar.cli.progress import progress_bars

if TYPE_CHECKING:
    from robustar.repair_search import SearchResult

GRID_HELP = (
    "OPTION=V1,V2: a training option and the values to try; repeat for each option "
    "(default grid: filler=uniform,mixture pair_weight=1,5; init scratch, the default)"
)


_SWITCH = {"true": True, "false": False}


def _grid(entries: list[str]) -> dict[str, list[str | bool]]:
    """OPTION=V1,V2 entries; true and false are the switches' values (copy_loss=false,true)."""
    grid: dict[str, list[str | bool]] = {}
    for entry in entries:
        name, sep, values = entry.partition("=")
        if not sep or not name or not values:
            raise typer.BadParameter(f"{entry!r} is not OPTION=V1,V2 (e.g. filler=uniform,black)")
        grid[name.strip().replace("-", "_")] = [
            _SWITCH.get(v.strip().lower(), v.strip()) for v in values.split(",")
        ]
    return grid


def print_search(result: SearchResult, directory: Path) -> None:
    names = list(result.candidates[0].settings)
    table = Table("", "#", "version", *names, "clean val", "filled", "consistency", "score")
    for c in result.candidates:
        mark = "chosen" if c.chosen else "" if c.eligible else "excluded"
        table.add_row(
            mark,
            str(c.index),
            str(c.version_id),
            *(str(c.settings[n]) for n in names),
            percent(c.clean_accuracy),
            percent(c.filled_accuracy),
            percent(c.consistency),
            f"{c.score:.3f}",
        )
    stdout.print(table)
    stdout.print(escape(result.reason.replace("DIR", str(directory))), soft_wrap=True)


@command(app)
def repair_search(
    directory: WorkspaceDir,
    options: Annotated[
        dict[str, Any],
        Fields(
            "robustar.train.search:PairedTrainOptions",
            {"learning_rate": ("--lr", "--learning-rate")},
        ),
    ],
    grid: Annotated[list[str] | None, typer.Option(help=GRID_HELP, metavar="OPTION=V1,V2")] = None,
    tolerance: Annotated[
        float, typer.Option(help="clean validation points a choice may lose to the best")
    ] = 1.0,
    promote_best: Annotated[
        bool, typer.Option(help="promote the choice through the regression guard")
    ] = False,
    queue: Annotated[bool, typer.Option(help="queue a job for the worker instead")] = False,
    quiet: Quiet = False,
) -> None:
    """Train every combination of --grid as a candidate version (none becomes current) and
    choose one by the masks of the validation images: accuracy with the spurious regions
    filled, consistency of x and x', clean validation accuracy; the training flags set what
    the candidates share (paired unless --no-paired)."""
    from robustar.train.search import parse_search

    values: dict[str, Any] = {"base": options, "tolerance": tolerance}
    values["promote_best"] = promote_best
    if grid:
        values["grid"] = _grid(grid)
    parsed = parse_search(values)
    workspace = open_workspace(directory)
    if queue:
        job = workspace.jobs.repair_search(parsed)
        stdout.print(
            f"queued the repair search as job {job.id}; 'robustar serve' or 'robustar worker' "
            "runs it"
        )
        return
    count = len(parsed.candidates())
    console.print(f"repair search: {count} candidates, {parsed.base.epochs} epochs each")
    with progress_bars(console, not quiet) as progress:
        result = workspace.repair_search(parsed, progress)
    print_search(result, directory)
