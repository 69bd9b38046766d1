"""The workspace database: `robustar db upgrade` migrates it to this release's schema,
`robustar db migrate --to URL` moves it to another server."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from robustar.cli.common import WorkspaceDir, db_app, stdout


@db_app.command("upgrade")
def db_upgrade(directory: WorkspaceDir) -> None:
    """Migrate the database to the newest schema and print its revision (opening a workspace
    does the same; this runs it alone, e.g. before a server update)."""
    from robustar.config import load_config
    from robustar.db import session as db

    root = directory.expanduser().resolve()
    config = load_config(root)
    engine = db.make_engine(db.database_url(root, config.database.url))
    try:
        before = db.revision(engine)
        db.upgrade(engine)
        after = db.revision(engine)
    finally:
        engine.dispose()
    if before == after:
        stdout.print(f"database already at revision {after}")
    else:
        stdout.print(f"database upgraded from revision {before or '(empty)'} to {after}")


@db_app.command("migrate")
def db_migrate(
    directory: WorkspaceDir,
    to: Annotated[
        str,
        typer.Option(
            "--to",
            help="SQLAlchemy URL of a new, empty database, "
            "e.g. postgresql+psycopg://user:password@host/robustar",
        ),
    ],
) -> None:
    """Move the workspace's database to another server (SQLite to PostgreSQL), keeping every
    row and id, then point robustar.toml at it. Stop the server and the worker first; the
    old database is left as it was."""
    from robustar.config import load_config
    from robustar.db.session import DB_FILE, masked
    from robustar.db.transfer import move_workspace
    from robustar.jobs.lock import worker_lock

    root = directory.expanduser().resolve()
    had_url = load_config(root).database.url is not None
    with worker_lock(root):  # no worker can start and write during the copy
        counts = move_workspace(root, to)
    table = Table("table", "rows copied")
    for name, count in counts.items():
        table.add_row(name, f"{count:,}")
    stdout.print(table)
    kept = "" if had_url else f" ({DB_FILE} is kept; delete it once checked)"
    stdout.print(f"robustar.toml now uses {masked(to)}; the old database is unchanged{kept}")
