"""The `lapor` commands that `make run` chains: upgrade, deploy, seed (idempotent)."""

from __future__ import annotations

from typing import Any

from click.testing import CliRunner
from sqlalchemy import func, select

from api.cli import main
from engine.db import make_engine, make_session_factory
from engine.models import Instansi, ProcessDefinition, Report, User


def test_make_run_chain_on_an_empty_database(new_database: Any, monkeypatch: Any) -> None:
    url = new_database("lapor_cli")
    monkeypatch.setenv("LAPOR_DATABASE_URL", url)
    monkeypatch.setenv("LAPOR_ARGON2_TIME_COST", "1")
    monkeypatch.setenv("LAPOR_ARGON2_MEMORY_COST", "8")
    runner = CliRunner()
    for args in (["db", "upgrade"], ["deploy"], ["seed", "--demo-reports", "5"]):
        result = runner.invoke(main, args)
        assert result.exit_code == 0, (args, result.output)
    again = runner.invoke(main, ["seed", "--demo-reports", "5"])
    assert "registry already loaded" in again.output
    assert "generated" not in again.output
    redeploy = runner.invoke(main, ["deploy"])
    assert "intake v1" in redeploy.output and "sop-default v1" in redeploy.output

    engine = make_engine(url)
    try:
        with make_session_factory(engine)() as s:
            assert s.scalar(select(func.count()).select_from(Instansi)) == 38 + 514 + 14
            assert s.scalar(select(func.count()).select_from(Report)) == 5
            assert s.scalar(select(func.count()).select_from(ProcessDefinition)) == 2
            assert s.scalar(select(User.id).where(User.username == "nasional")) is not None
    finally:
        engine.dispose()


def test_production_seed_loads_the_registry_only(new_database: Any, monkeypatch: Any) -> None:
    url = new_database("lapor_cli_registry")
    monkeypatch.setenv("LAPOR_DATABASE_URL", url)
    runner = CliRunner()
    for args in (["db", "upgrade"], ["seed", "--registry-only"]):
        result = runner.invoke(main, args)
        assert result.exit_code == 0, (args, result.output)
    assert "demo" not in result.output
    engine = make_engine(url)
    try:
        with make_session_factory(engine)() as s:
            assert s.scalar(select(func.count()).select_from(Instansi)) == 38 + 514 + 14
            assert s.scalar(select(func.count()).select_from(User)) == 0
            assert s.scalar(select(func.count()).select_from(Report)) == 0
    finally:
        engine.dispose()
