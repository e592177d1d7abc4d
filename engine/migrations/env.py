"""Alembic environment: migrates the database named by the config or LAPOR_DATABASE_URL."""

from __future__ import annotations

import importlib
import os

from alembic import context

from engine.db import Base, make_engine

config = context.config
# Every package that owns tables is named in alembic.ini (`model_modules`), so engine does not
# import the packages above it.
for module in (config.get_main_option("model_modules") or "engine.models").split():
    importlib.import_module(module)
target_metadata = Base.metadata


def _url() -> str:
    url = config.attributes.get("url") or os.environ.get("LAPOR_DATABASE_URL")
    if not url:
        raise SystemExit("LAPOR_DATABASE_URL is not set: it names the database to migrate")
    return str(url)


def run_migrations_offline() -> None:
    context.configure(
        url=_url(), target_metadata=target_metadata, literal_binds=True, render_as_batch=True
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        context.configure(
            connection=connection, target_metadata=target_metadata, render_as_batch=True
        )
        with context.begin_transaction():
            context.run_migrations()
        return
    engine = make_engine(_url())
    with engine.connect() as conn:
        context.configure(connection=conn, target_metadata=target_metadata, render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
