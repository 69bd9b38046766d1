"""Jobs: list, cancel, resume."""

from __future__ import annotations

from rich.table import Table

from robustar.cli.common import (
    WorkspaceDir,
    jobs_app,
    open_workspace,
    stdout,
)


@jobs_app.command("list")
def jobs_list(directory: WorkspaceDir) -> None:
    """Recent jobs with status and progress."""
    table = Table("id", "kind", "status", "progress", "created", "error")
    for job in open_workspace(directory).jobs.list():
        share = f"{job.stage} {job.done}/{job.total}" if job.total else job.stage
        error = (job.error or "").strip().splitlines()[-1:] or [""]
        created = f"{job.created_at:%Y-%m-%d %H:%M}"
        table.add_row(str(job.id), job.kind, job.status, share, created, error[0][:60])
    stdout.print(table)


@jobs_app.command("cancel")
def jobs_cancel(directory: WorkspaceDir, job: int) -> None:
    """Cancel a queued or running job (a running one stops within seconds)."""
    info = open_workspace(directory).jobs.cancel(job)
    state = "cancel requested" if info.status == "running" else info.status
    stdout.print(f"job {info.id}: {state}")


@jobs_app.command("resume")
def jobs_resume(directory: WorkspaceDir, job: int) -> None:
    """Queue an interrupted, failed or cancelled job again (training resumes its epochs)."""
    info = open_workspace(directory).jobs.resume(job)
    stdout.print(f"job {info.id} is queued again")
