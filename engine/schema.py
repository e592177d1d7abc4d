"""The database schema's migration state: upgrade it, and tell whether this code may use it.

Migrations follow expand/contract (README, "Migrations without downtime"): a release's
migrations only add what older code ignores, and removals wait for a later release. So during
a rolling deploy, processes of the previous release keep serving a database that the new
release already migrated: a revision this code does not know is one written by a newer
release (`ahead`) and is usable; a known revision short of this code's head is not.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Engine

ALEMBIC_INI = Path(__file__).resolve().parent.parent / "alembic.ini"
FIX_COMMAND = "lapor db upgrade"


def alembic_config(url: str) -> Config:
    config = Config(str(ALEMBIC_INI))
    config.attributes["url"] = url
    return config


def upgrade(url: str, revision: str = "head") -> None:
    command.upgrade(alembic_config(url), revision)


def downgrade(url: str, revision: str = "base") -> None:
    command.downgrade(alembic_config(url), revision)


def head_revision() -> str | None:
    script = ScriptDirectory.from_config(Config(str(ALEMBIC_INI)))
    return script.get_current_head()


@lru_cache(maxsize=1)
def known_revisions() -> frozenset[str]:
    """Every revision of this code's migration scripts."""
    script = ScriptDirectory.from_config(Config(str(ALEMBIC_INI)))
    return frozenset(rev.revision for rev in script.walk_revisions())


def is_ahead(current: str | None) -> bool:
    """Whether `current` was written by a newer release (a revision this code does not know)."""
    return current is not None and current not in known_revisions()


def is_usable(current: str | None) -> bool:
    """This code's head, or a newer release's revision (expand/contract keeps it compatible)."""
    return current == head_revision() or is_ahead(current)


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def is_current(engine: Engine) -> bool:
    return is_usable(current_revision(engine))


class SchemaOutdated(SystemExit):
    def __init__(self, current: str | None, head: str | None) -> None:
        where = "not migrated" if current is None else f"at revision {current}"
        super().__init__(
            f"The database is {where}, but this code needs revision {head}. "
            f"Run `{FIX_COMMAND}` (or `make run`, which does it) and start again."
        )


def require_current(engine: Engine) -> None:
    current = current_revision(engine)
    if not is_usable(current):
        raise SchemaOutdated(current, head_revision())
