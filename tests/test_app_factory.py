"""The app factory starts nothing at import, checks its config and refuses an old schema."""

from __future__ import annotations

import threading
from typing import Any

import pytest

from api import create_app
from api.config import ConfigError
from engine.schema import SchemaOutdated
from tests.conftest import TEST_CONFIG


def test_factory_starts_no_threads_and_builds_an_app(database_url: str, make_app: Any) -> None:
    before = {t.ident for t in threading.enumerate()}
    app = make_app(database_url)
    assert app.testing
    assert {t.ident for t in threading.enumerate()} == before
    assert {"reports.Reports", "tasks.Complete", "health.readyz"} <= set(app.view_functions)


def test_refuses_unmigrated_database_naming_the_fix(new_database: Any) -> None:
    url = new_database("lapor_empty")
    with pytest.raises(SchemaOutdated) as err:
        create_app({"DATABASE_URL": url, **TEST_CONFIG})
    assert "not migrated" in str(err.value.code)
    assert "lapor db upgrade" in str(err.value.code)


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("LAPOR_ARGON2_TIME_COST", "three", "LAPOR_ARGON2_TIME_COST='three' is not a valid int"),
        ("LAPOR_CHECK_MIGRATIONS", "maybe", "LAPOR_CHECK_MIGRATIONS='maybe' is not a valid bool"),
        ("LAPOR_DATABASE_URL", "mysql://x", "LAPOR_DATABASE_URL must be an sqlite:// or postgres"),
    ],
)
def test_bad_setting_stops_with_the_variable_named(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str, message: str
) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(ConfigError) as err:
        create_app()
    assert message in str(err.value.code)
