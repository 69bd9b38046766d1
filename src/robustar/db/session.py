"""Engine creation (SQLite WAL by default, any SQLAlchemy URL) and schema migration."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.migration import MigrationContext
from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from robustar.errors import ConfigError

DB_FILE = "robustar.db"
_MIGRATIONS = Path(__file__).parent / "migrations"


def database_url(root: Path, configured: str | None) -> str:
    return configured or f"sqlite:///{(root / DB_FILE).as_posix()}"


def masked(url: str) -> str:
    """The URL as it may be shown: any password replaced by ***."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "(an unreadable database URL)"


def _sqlite_pragmas(dbapi_connection: Any, _record: object) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA busy_timeout={LOCK_WAIT_MS}")
    cursor.close()


# How long a statement waits for a lock held by another transaction before it fails (a mask
# save then answers "save again"): SQLite's busy timeout, PostgreSQL's lock_timeout.
LOCK_WAIT_MS = 10_000


def _connect_args(url: URL) -> dict[str, Any]:
    """PostgreSQL waits for a lock forever unless told otherwise: as long as SQLite, here
    (unless the URL sets its own server options)."""
    if url.get_backend_name() == "postgresql" and "options" not in url.query:
        return {"options": f"-c lock_timeout={LOCK_WAIT_MS}"}
    return {}


def make_engine(url: str) -> Engine:
    try:
        parsed = make_url(url)
        engine = create_engine(parsed, connect_args=_connect_args(parsed))
    except (ArgumentError, ImportError, ValueError) as error:
        raise ConfigError(
            f"[database] url: cannot use {masked(url)!r}: {error}",
            "give a SQLAlchemy URL such as postgresql+psycopg://user@host/db, "
            "or remove the field to use the workspace's SQLite file",
        ) from None
    if parsed.get_backend_name() == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def session_factory(engine: Engine) -> sessionmaker:
    return sessionmaker(bind=engine, expire_on_commit=False)


def upgrade(engine: Engine) -> None:
    """Bring the schema to the newest migration; a no-op when it is already there."""
    try:
        with engine.begin() as connection:
            migrate(connection)
    except OperationalError as error:
        raise unreachable(engine, error) from None


def migrate(connection: Connection) -> None:
    """Run the migrations inside the caller's transaction (PostgreSQL's DDL is transactional,
    so a failure later in that transaction leaves no schema behind)."""
    config = Config()
    config.set_main_option("script_location", str(_MIGRATIONS))
    config.attributes["connection"] = connection
    command.upgrade(config, "head")


def unreachable(engine: Engine, error: OperationalError) -> ConfigError:
    """The database cannot be used; named without its password (the URL's repr hides it, and
    a driver's message that repeats it has it replaced)."""
    reason = str(error.orig)
    if engine.url.password:
        reason = reason.replace(str(engine.url.password), "***")
    return ConfigError(
        f"cannot open the database {engine.url!r}: {reason}",
        "check [database] url in robustar.toml and that the database server is running",
    )


def revision(engine: Engine) -> str | None:
    """The schema's migration revision; None for an empty database."""
    with engine.connect() as connection:
        return revision_on(connection)


def revision_on(connection: Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()


class Database:
    """An engine and short transactions: what every stage is given to reach the database.

    Sessions are opened per call and never shared between threads.
    """

    def __init__(self, url: str) -> None:
        self.engine = make_engine(url)
        self._sessions = session_factory(self.engine)

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session that commits on success and rolls back on any error."""
        with self._sessions() as session, session.begin():
            yield session

    def upgrade(self) -> None:
        upgrade(self.engine)

    def close(self) -> None:
        self.engine.dispose()
