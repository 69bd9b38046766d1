"""Persistence: SQLAlchemy tables, engine/session creation and Alembic migrations."""
