"""Move a workspace's database to another server (SQLite to PostgreSQL): every row, every id.

The copy runs in one transaction on the target: the schema is created there by the same
migrations, the tables are filled parents first, each in primary-key order, the id sequences
are moved past the copied ids (and the planner's statistics gathered), and the row counts are
compared with the source's. On PostgreSQL, whose DDL is transactional, any failure leaves the
target as empty as it was.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from sqlalchemy import Connection, Engine, Table, func, inspect, select, text
from sqlalchemy.exc import OperationalError

from robustar.config import DatabaseConfig, load_config, write_config
from robustar.db.session import (
    database_url,
    make_engine,
    masked,
    migrate,
    revision,
    revision_on,
    unreachable,
    upgrade,
)
from robustar.db.tables import Base
from robustar.errors import ConfigError, DataError

BATCH = 5_000  # rows read and inserted at a time
Progress = Callable[[str, int], None] | None  # (table, rows copied so far)


def move_workspace(root: Path, url: str) -> dict[str, int]:
    """Copy the workspace's database into the empty database at `url`, then point
    robustar.toml at it; the old database is left as it was. The row count of each table."""
    config = load_config(root)
    current = database_url(root, config.database.url)
    if masked(current) == masked(url):
        raise ConfigError(
            f"the workspace already uses {masked(url)}", "give the URL of another database"
        )
    source, target = make_engine(current), make_engine(url)
    try:
        upgrade(source)
        counts = copy_database(source, target)
    finally:
        source.dispose()
        target.dispose()
    write_config(root, config.model_copy(update={"database": DatabaseConfig(url=url)}))
    return counts


def copy_database(source: Engine, target: Engine, progress: Progress = None) -> dict[str, int]:
    """Copy every table of `source` (already at the newest schema) into the empty `target`;
    the row count of each table."""
    head = revision(source)
    try:
        with source.connect() as reading, target.begin() as writing:
            if tables := inspect(writing).get_table_names():
                raise ConfigError(
                    f"the target database {target.url!r} is not empty (it has the tables "
                    f"{', '.join(sorted(tables)[:5])})",
                    "give a new, empty database; nothing was copied",
                )
            migrate(writing)
            if revision_on(writing) != head:
                raise ConfigError(
                    f"the workspace database is at revision {head}, not this release's",
                    "run 'robustar db upgrade' on the workspace first",
                )
            counts = {t.name: _copy(reading, writing, t, progress) for t in _tables()}
            _settle_postgresql(writing)
            _verify(reading, writing, counts)
    except OperationalError as error:
        raise unreachable(target, error) from None
    return counts


def _tables() -> list[Table]:
    """Parents before children, as foreign keys require."""
    return list(Base.metadata.sorted_tables)


def _copy(reading: Connection, writing: Connection, table: Table, progress: Progress) -> int:
    """Rows in primary-key order, so a row that refers to an older row of its own table
    (a model version's parent) comes after it."""
    rows = reading.execution_options(stream_results=True, yield_per=BATCH).execute(
        select(table).order_by(*table.primary_key.columns)
    )
    copied = 0
    for chunk in rows.partitions(BATCH):
        writing.execute(table.insert(), [dict(row._mapping) for row in chunk])
        copied += len(chunk)
        if progress:
            progress(table.name, copied)
    return copied


def _settle_postgresql(writing: Connection) -> None:
    """PostgreSQL hands out ids from a sequence that copied rows did not advance: move each
    past the largest id, so the next row gets the id SQLite would have given it. And gather the
    planner's statistics now: without them the first queries on freshly filled tables may be
    planned as if they were empty."""
    if writing.dialect.name != "postgresql":
        return
    for table in _tables():
        if [c.name for c in table.primary_key.columns] == ["id"]:  # composite keys: none
            writing.execute(
                text(
                    f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), "
                    f"COALESCE(MAX(id), 1), MAX(id) IS NOT NULL) FROM {table.name}"
                )
            )
        writing.execute(text(f"ANALYZE {table.name}"))


def _verify(reading: Connection, writing: Connection, counts: dict[str, int]) -> None:
    """Each table holds as many rows on both sides, counted again now: a source that changed
    during the copy (a server still running) fails here and nothing is kept."""
    for table in _tables():
        before = reading.scalar(select(func.count()).select_from(table))
        after = writing.scalar(select(func.count()).select_from(table))
        if not before == after == counts[table.name]:
            raise DataError(
                f"table {table.name}: {before} rows in the workspace database but "
                f"{after} copied; the workspace changed during the copy",
                "stop the server and the worker of this workspace and run the command again",
            )
