"""Work per person: assign images to an annotator, and everyone's progress."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from robustar.cli.common import WorkspaceDir, app, open_workspace, stdout
from robustar.errors import DataError


def _ids(text: str | None) -> list[int] | None:
    if text is None:
        return None
    try:
        return [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise DataError(
            f"--ids {text!r} is not a list of image ids", "write them as --ids 1,2,3"
        ) from None


@app.command()
def assign(
    directory: WorkspaceDir,
    to: Annotated[str, typer.Option("--to", help="the account that masks them")],
    ids: Annotated[str | None, typer.Option(help="chosen image ids: 1,2,3")] = None,
    class_name: Annotated[
        str | None, typer.Option("--class", help="every image of this class (in --split)")
    ] = None,
    split: Annotated[str, typer.Option(help="the split of --class")] = "train",
    suspicious: Annotated[
        int | None, typer.Option(help="the top N of the suspicious queue (class-balanced)")
    ] = None,
    unannotated: Annotated[
        bool, typer.Option("--unannotated", help="only images without a mask of --kind")
    ] = False,
    kind: Annotated[str, typer.Option(help="the mask to make: spurious or object")] = "spurious",
) -> None:
    """Give images to an annotator to mask; an image assigned before moves to them."""
    from robustar.annotations.selection import Selection  # torch: not at start-up

    selection = Selection(_ids(ids), class_name, split, suspicious, unannotated)
    made = open_workspace(directory).assignments.assign(to, selection, kind)
    moved = f" ({made.moved} moved from others)" if made.moved else ""
    stdout.print(f"assigned {made.images} images to {made.assignee}: {made.batch}{moved}")


@app.command()
def assignments(
    directory: WorkspaceDir,
    user: Annotated[str | None, typer.Option(help="only this account's work")] = None,
) -> None:
    """Progress per annotator and per batch (done / assigned); with --user, their queue."""
    work = open_workspace(directory).assignments
    if user is None:
        people = Table("account", "role", "done", "assigned", "last mask saved (UTC)")
        for p in work.people():
            last = "-" if p.last_activity is None else f"{p.last_activity:%Y-%m-%d %H:%M}"
            people.add_row(p.name, p.role, str(p.done), str(p.assigned), last)
        stdout.print(people)
    batches = Table("account", "kind", "batch", "done", "assigned", "assigned at (UTC)")
    for b in work.batches(user):
        when = f"{b.assigned_at:%Y-%m-%d %H:%M}"
        batches.add_row(b.assignee, b.kind, b.batch, str(b.done), str(b.assigned), when)
    stdout.print(batches)
    if user is not None:
        left = [a.image_id for a in work.queue(user)]
        shown = ", ".join(map(str, left[:20])) + (" …" if len(left) > 20 else "")
        stdout.print(f"{len(left)} images still to mask" + (f": {shown}" if left else ""))
