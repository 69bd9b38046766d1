"""The workspace database: `robustar db upgrade` migrates it to this release's schema."""

from __future__ import annotations

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
