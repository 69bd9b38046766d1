import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from robustar import Workspace
from robustar.db.session import upgrade
from robustar.db.tables import Base

# every test here runs on SQLite and on PostgreSQL (tests/conftest.py)
pytestmark = pytest.mark.usefixtures("database_url")


def test_migrations_produce_exactly_the_declared_tables(workspace: Workspace) -> None:
    with workspace.engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    assert diff == []


def test_upgrade_is_idempotent_and_keeps_data(workspace: Workspace) -> None:
    before = workspace.count("train")
    upgrade(workspace.engine)
    assert workspace.count("train") == before
    assert "alembic_version" in inspect(workspace.engine).get_table_names()
