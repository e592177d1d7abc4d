"""`lapor dev generate` fills the database with consistent reports through the real engine."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from typing import Any

from click.testing import CliRunner
from sqlalchemy import func, select

from api.cli import main
from engine import devdata
from engine.models import HumanTask, ProcessInstance, Report


def test_generate_spreads_statuses_and_keeps_instances_consistent(factory: Any) -> None:
    seen: list[int] = []
    devdata.generate(
        factory,
        count=40,
        seed=7,
        start=datetime(2026, 6, 1, tzinfo=UTC),
        days=90,
        progress=seen.append,
    )
    assert seen[-1] == 40
    with factory() as s:
        reports = s.scalars(select(Report)).all()
        assert len(reports) == 40
        statuses = Counter(r.status for r in reports)
        assert len(statuses) >= 4, statuses
        assert all(
            datetime(2026, 3, 3, tzinfo=UTC) <= r.created_at <= datetime(2026, 6, 1, tzinfo=UTC)
            for r in reports
        )
        for report in reports:
            intakes = s.scalar(
                select(func.count())
                .select_from(ProcessInstance)
                .where(ProcessInstance.report_id == report.id, ProcessInstance.parent_id.is_(None))
            )
            assert intakes == 1
            open_tasks = s.scalar(
                select(func.count())
                .select_from(HumanTask)
                .where(HumanTask.report_id == report.id, HumanTask.status == "open")
            )
            waiting = report.status in {"on_hold", "followed_up", "closed", "archived"}
            assert open_tasks == (0 if waiting else 1), (report.status, open_tasks)


def test_cli_generate_prints_progress_and_count(database_url: str, monkeypatch: Any) -> None:
    monkeypatch.setenv("LAPOR_DATABASE_URL", database_url)
    result = CliRunner().invoke(main, ["dev", "generate", "--reports", "3", "--seed", "1"])
    assert result.exit_code == 0, result.output
    assert "generated 3 reports" in result.output
    bad = CliRunner().invoke(main, ["dev", "generate", "--reports", "0"])
    assert bad.exit_code == 2 and "--reports" in bad.output
