"""The schema is built by Alembic only: models and migrations agree, and downgrade works."""

from __future__ import annotations

from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, text

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


def test_a_newer_releases_revision_is_usable_an_older_one_is_not(new_database: Any) -> None:
    """Rolling deploys: old processes keep serving a database a newer release migrated."""
    url = new_database("lapor_migrations_rolling")
    schema.upgrade(url)
    engine = make_engine(url)
    try:
        with engine.begin() as conn:
            conn.execute(text("UPDATE alembic_version SET version_num = '0099_next_release'"))
        assert schema.is_ahead(schema.current_revision(engine))
        schema.require_current(engine)  # no SchemaOutdated
        with engine.begin() as conn:
            conn.execute(text("UPDATE alembic_version SET version_num = '0011'"))
        assert not schema.is_current(engine)
        with pytest.raises(schema.SchemaOutdated, match="at revision 0011"):
            schema.require_current(engine)
    finally:
        engine.dispose()
