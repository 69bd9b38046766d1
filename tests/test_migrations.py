from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from sqlalchemy import inspect, text

from robustar import Workspace
from robustar.db.session import _MIGRATIONS, upgrade
from robustar.db.tables import Base


def test_migrations_produce_exactly_the_declared_tables(workspace: Workspace) -> None:
    with workspace.engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    assert diff == []


def test_upgrade_is_idempotent_and_keeps_data(workspace: Workspace) -> None:
    before = workspace.count("train")
    upgrade(workspace.engine)
    assert workspace.count("train") == before
    assert "alembic_version" in inspect(workspace.engine).get_table_names()


def test_suspicion_rows_survive_the_upgrade_that_adds_harms_most(demo: Workspace) -> None:
    """0006 rebuilds the suspicion table on SQLite (batch mode); its rows must stay."""
    config = Config()
    config.set_main_option("script_location", str(_MIGRATIONS))
    image = demo.images("train", limit=1)[0]
    with demo.engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "0005")
        connection.execute(
            text(
                "INSERT INTO suspicion (version_id, image_id, method, score) "
                "VALUES (:v, :i, 'cosine', 0.5)"
            ),
            {"v": demo.model().id, "i": image.id},
        )
    upgrade(demo.engine)
    with demo.engine.connect() as connection:
        rows = connection.execute(text("SELECT image_id, score, harms_most FROM suspicion"))
        assert rows.all() == [(image.id, 0.5, None)]
