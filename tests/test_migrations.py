"""The schema is built by Alembic only: models and migrations agree, and downgrade works."""

from __future__ import annotations

from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

import engine.models  # noqa: F401
import sla.models  # noqa: F401
from engine import schema
from engine.db import Base, make_engine


def test_models_match_migrated_schema(db_engine: Any) -> None:
    with db_engine.connect() as conn:
        diff = compare_metadata(
            MigrationContext.configure(conn, opts={"compare_type": True}), Base.metadata
        )
    assert diff == []


def test_upgrade_downgrade_upgrade(new_database: Any) -> None:
    url = new_database("lapor_migrations")
    schema.upgrade(url)
    engine = make_engine(url)
    try:
        assert schema.is_current(engine)
        assert set(Base.metadata.tables) <= set(inspect(engine).get_table_names())
        schema.downgrade(url, "base")
        assert schema.current_revision(engine) is None
        assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
        schema.upgrade(url)
        assert schema.current_revision(engine) == schema.head_revision()
    finally:
        engine.dispose()
