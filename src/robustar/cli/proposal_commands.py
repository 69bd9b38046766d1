"""Proposals of auto-annotation: list, accept, reject."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from robustar.cli.common import WorkspaceDir, open_workspace, proposals_app, stdout
from robustar.errors import DataError

if TYPE_CHECKING:
    from robustar.workspace import Workspace

Ids = Annotated[list[int] | None, typer.Argument(help="proposal ids")]
AllPending = Annotated[bool, typer.Option("--all", help="every pending proposal (of --kind)")]
Kind = Annotated[str | None, typer.Option("--kind", help="spurious or object; default both")]


@proposals_app.command("list")
def proposals_list(
    directory: WorkspaceDir,
    status: Annotated[str, typer.Option(help="pending, accepted or rejected")] = "pending",
    kind: Kind = None,
    limit: Annotated[int, typer.Option(min=1)] = 100,
    offset: Annotated[int, typer.Option(min=0)] = 0,
) -> None:
    """Proposals by status, oldest first."""
    total, found = open_workspace(directory).masks.proposals(status, kind, limit, offset)
    table = Table("id", "image", "kind", "method", "pixels", "job", "created")
    for p in found:
        job = "-" if p.job_id is None else str(p.job_id)
        created = f"{p.created_at:%Y-%m-%d %H:%M}"
        table.add_row(str(p.id), str(p.image_id), p.kind, p.method, str(p.pixels), job, created)
    stdout.print(table)
    stdout.print(f"{len(found)} of {total} {status} proposals")


def _chosen(
    workspace: Workspace, ids: list[int] | None, every: bool, kind: str | None
) -> list[int]:
    if bool(ids) == every:
        raise DataError("name proposal ids or --all, not both nor neither", "see --help")
    if ids:
        return ids
    total, _ = workspace.masks.proposals("pending", kind, limit=1)
    return [p.id for p in workspace.masks.proposals("pending", kind, limit=max(total, 1))[1]]


def _decide(
    directory: Path, ids: list[int] | None, every: bool, kind: str | None, accept: bool
) -> None:
    """Accept or reject the chosen proposals, and say how many."""
    workspace = open_workspace(directory)
    chosen = _chosen(workspace, ids, every, kind)
    decide = workspace.masks.accept if accept else workspace.masks.reject
    for proposal_id in chosen:
        decide(proposal_id)
    stdout.print(f"{'accepted' if accept else 'rejected'} {len(chosen)} proposals")


@proposals_app.command("accept")
def proposals_accept(
    directory: WorkspaceDir, ids: Ids = None, every: AllPending = False, kind: Kind = None
) -> None:
    """Accept pending proposals as their images' next mask versions."""
    _decide(directory, ids, every, kind, accept=True)


@proposals_app.command("reject")
def proposals_reject(
    directory: WorkspaceDir, ids: Ids = None, every: AllPending = False, kind: Kind = None
) -> None:
    """Reject pending proposals (their images' masks stay as they are)."""
    _decide(directory, ids, every, kind, accept=False)
