"""Team accounts and the audit log: users add, list, set-role, disable, enable, password,
token, revoke; audit. Passwords are typed at a hidden prompt or piped (--password-stdin),
never given as an option (shell history, the process list)."""

from __future__ import annotations

import sys
from typing import Annotated

import typer
from rich.table import Table

from robustar.cli.common import WorkspaceDir, app, open_workspace, stdout, users_app

Name = Annotated[str, typer.Argument(help="account name")]
PasswordStdin = Annotated[
    bool, typer.Option("--password-stdin", help="read the password from standard input")
]


def _password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    return str(typer.prompt("password", hide_input=True, confirmation_prompt=True))


@users_app.command("add")
def users_add(
    directory: WorkspaceDir,
    name: Name,
    role: Annotated[str, typer.Option(help="admin, annotator or viewer")] = "annotator",
    password_stdin: PasswordStdin = False,
) -> None:
    """Create an account (team mode: 'robustar serve --team')."""
    user = open_workspace(directory).accounts.add(name, role, _password(password_stdin))
    stdout.print(f"added {user.name} ({user.role})")


@users_app.command("list")
def users_list(directory: WorkspaceDir) -> None:
    """Every account, its role and whether it is disabled."""
    table = Table("name", "role", "status", "created")
    for u in open_workspace(directory).accounts.users():
        status = "disabled" if u.disabled else "enabled"
        table.add_row(u.name, u.role, status, f"{u.created_at:%Y-%m-%d %H:%M}")
    stdout.print(table)


@users_app.command("set-role")
def users_set_role(
    directory: WorkspaceDir,
    name: Name,
    role: Annotated[str, typer.Argument(help="admin, annotator or viewer")],
) -> None:
    user = open_workspace(directory).accounts.set_role(name, role)
    stdout.print(f"{user.name} is now {user.role}")


@users_app.command("disable")
def users_disable(directory: WorkspaceDir, name: Name) -> None:
    """Disable an account: its sessions and tokens stop working at once."""
    open_workspace(directory).accounts.set_disabled(name, True)
    stdout.print(f"disabled {name}")


@users_app.command("enable")
def users_enable(directory: WorkspaceDir, name: Name) -> None:
    open_workspace(directory).accounts.set_disabled(name, False)
    stdout.print(f"enabled {name}")


@users_app.command("password")
def users_password(
    directory: WorkspaceDir, name: Name, password_stdin: PasswordStdin = False
) -> None:
    """Set a new password; the account's sessions end."""
    open_workspace(directory).accounts.set_password(name, _password(password_stdin))
    stdout.print(f"new password set for {name}")


@users_app.command("token")
def users_token(
    directory: WorkspaceDir,
    name: Name,
    label: Annotated[str, typer.Option(help="what the token is for")] = "",
) -> None:
    """Make a personal API token for scripts (Authorization: Bearer <token>); it is printed
    once and stored only hashed."""
    info, secret = open_workspace(directory).accounts.new_token(name, label)
    stdout.print(secret, highlight=False)
    typer.echo(f"token {info.id} for {name}: shown once, keep it secret", err=True)


@users_app.command("revoke")
def users_revoke(
    directory: WorkspaceDir, name: Name, token_id: Annotated[int, typer.Argument()]
) -> None:
    open_workspace(directory).accounts.revoke_token(name, token_id)
    stdout.print(f"revoked token {token_id} of {name}")


@app.command()
def audit(
    directory: WorkspaceDir,
    actor: Annotated[str | None, typer.Option(help="only this account's changes")] = None,
    limit: Annotated[int, typer.Option(min=1)] = 50,
) -> None:
    """The audit log, newest first: who changed what, when."""
    total, entries = open_workspace(directory).accounts.audit(limit, 0, actor)
    table = Table("when (UTC)", "who", "what", "target")
    for e in entries:
        who = e.actor if e.account else f"{e.actor} (OS)"
        table.add_row(f"{e.at:%Y-%m-%d %H:%M:%S}", who, e.action, e.target)
    stdout.print(table)
    stdout.print(f"{len(entries)} of {total} entries")
