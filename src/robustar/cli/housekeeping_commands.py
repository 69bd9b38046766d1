"""Housekeeping: disk use, gc under the retention rule, backups, pinned versions."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape
from rich.table import Table

from robustar.cli.common import (
    Quiet,
    WorkspaceDir,
    app,
    console,
    models_app,
    open_workspace,
    stdout,
)
from robustar.cli.progress import progress_bars

if TYPE_CHECKING:
    from robustar.housekeeping.disk import DiskReport
    from robustar.housekeeping.gc import GcResult


UNITS = ("B", "KiB", "MiB", "GiB", "TiB")


def size(count: int) -> str:
    """Bytes in binary units, as du -h writes them."""
    value, unit = float(count), 0
    while value >= 1024 and unit < len(UNITS) - 1:
        value, unit = value / 1024, unit + 1
    return f"{count} B" if unit == 0 else f"{value:.1f} {UNITS[unit]}"


def label(version_id: int, name: str) -> str:
    return escape(name) if name == f"v{version_id}" else f"v{version_id} {escape(name)}"


def print_usage(report: DiskReport, quiet: bool) -> None:
    table = Table("category", "size", "files")
    for usage in report.categories:
        table.add_row(usage.category, size(usage.bytes), str(usage.files))
    table.add_row("[bold]total[/]", f"[bold]{size(report.total_bytes)}[/]", "")
    stdout.print(table)
    if quiet or not report.versions:
        return
    versions = Table("version", "status", "model", "caches", "run")
    for v in report.versions:
        status = "current" if v.is_current else v.status
        status += ", pinned" if v.pinned else ""
        versions.add_row(
            label(v.id, v.name),
            status,
            size(v.model_bytes),
            size(v.cache_bytes),
            size(v.run_bytes),
        )
    stdout.print(versions)


def print_gc(result: GcResult, quiet: bool) -> None:
    if not quiet:
        kept = Table("kept", "why")
        for k in result.kept:
            kept.add_row(label(k.version_id, k.name), "; ".join(k.reasons))
        stdout.print(kept)
        if result.removed:
            removed = Table("remove" if result.dry_run else "removed", "size", "why")
            for item in result.removed:
                removed.add_row(escape(item.name), size(item.bytes), escape(item.reason))
            stdout.print(removed)
    verb = "would free" if result.dry_run else "freed"
    where = f", moved to {result.archive}" if result.archive else ""
    stdout.print(f"{len(result.removed)} items, {verb} {size(result.bytes)}{where}")
    if result.dry_run and result.removed:
        stdout.print("a dry run: nothing changed; run again with --apply to remove them")


@app.command()
def du(directory: WorkspaceDir, quiet: Quiet = False) -> None:
    """Disk used by the workspace, by category and by model version (`-q`: categories only)."""
    print_usage(open_workspace(directory).disk_usage(), quiet)


@app.command()
def gc(
    directory: WorkspaceDir,
    apply: Annotated[bool, typer.Option("--apply", help="remove; without it, a dry run")] = False,
    keep_last: Annotated[int, typer.Option(min=1, help="keep the newest N versions")] = 5,
    unfinished: Annotated[
        bool, typer.Option(help="also remove unfinished runs no running job holds")
    ] = False,
    job_days: Annotated[
        float, typer.Option(min=0, help="remove finished job records older than this (days)")
    ] = 30,
    keep_jobs: Annotated[bool, typer.Option(help="keep every job record")] = False,
    min_age_hours: Annotated[
        float, typer.Option(min=0, help="keep files written more recently (work in progress)")
    ] = 1,
    archive: Annotated[
        Path | None, typer.Option(help="move what goes into this folder instead of deleting")
    ] = None,
    report: Annotated[bool, typer.Option("--report", help="only show disk use (as `du`)")] = False,
    quiet: Quiet = False,
) -> None:
    """Remove old model versions (with their caches and runs), orphaned caches and runs, and
    old job records. Always kept: the current version, its parent, pinned versions, the last
    N, what a queued or running job uses, and every annotation. A dry run unless --apply."""
    workspace = open_workspace(directory)
    if report:
        print_usage(workspace.disk_usage(), quiet)
        return
    result = workspace.gc(
        dry_run=not apply,
        archive=archive,
        keep_last=keep_last,
        unfinished=unfinished,
        job_days=None if keep_jobs else job_days,
        min_age_hours=min_age_hours,
    )
    print_gc(result, quiet)


@app.command()
def backup(
    directory: WorkspaceDir,
    dest: Annotated[Path, typer.Argument(help="a new or empty folder outside the workspace")],
    caches: Annotated[bool, typer.Option(help="also copy cache/ (rebuildable)")] = False,
    quiet: Quiet = False,
) -> None:
    """Copy the workspace consistently while it is in use (the server may run): a database
    snapshot (SQLite online backup, or pg_dump), then its files. Restore: open the copy."""
    workspace = open_workspace(directory)
    with progress_bars(console, not quiet) as progress:
        result = workspace.backup(dest, caches, progress)
    what = "robustar.db" if result.database == "sqlite" else "robustar.pgdump (pg_restore it)"
    stdout.print(
        f"backed up to {result.folder}: {what} and {result.files} files, {size(result.bytes)}"
    )


@models_app.command("pin")
def models_pin(
    directory: WorkspaceDir,
    version: int,
    unpin: Annotated[bool, typer.Option("--unpin", help="let gc remove it again")] = False,
) -> None:
    """Pin a version so that `robustar gc` always keeps it."""
    info = open_workspace(directory).pin_model(version, not unpin)
    stdout.print(f"model version {info.id} is {'pinned' if info.pinned else 'not pinned'}")
