"""SLA policy precedence: instansi policy > SOP `sla` property > supervisor's policy > national,
never above the national maximum; and the deploy linter's check that every task has an SLA."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from engine.errors import InvalidInput
from engine.models import Instansi
from sla import policies
from sla.policies import Policy


def instansi(s: Any, code: str) -> Instansi:
    return s.scalar(select(Instansi).where(Instansi.code == code))


def resolve(
    s: Any,
    code: str | None,
    milestone: str,
    sop: str | None = None,
    classification: str | None = None,
) -> Policy:
    return policies.resolve(
        s,
        instansi=instansi(s, code) if code else None,
        milestone=milestone,
        classification=classification,
        sop_property=sop,
    )


def test_national_defaults_from_the_domain(factory: Any) -> None:
    with factory() as s:
        assert resolve(s, None, "verification") == Policy(3, "wd")
        assert resolve(s, "34.04", "follow-up").duration == 5
        assert resolve(s, "34.04", "follow-up").source == "national default"


def test_precedence_and_cap(factory: Any) -> None:
    with factory() as s, s.begin():
        sleman, diy = instansi(s, "34.04"), instansi(s, "34")
        policies.set_policy(s, milestone="follow-up", duration=4, unit="wd", instansi=diy)
        # the supervisor's policy applies below it...
        assert resolve(s, "34.04", "follow-up").source == "policy of 34"
        assert resolve(s, "34.04", "follow-up").duration == 4
        # ...unless the SOP sets its own property
        assert resolve(s, "34.04", "follow-up", sop="16wh") == Policy(
            16, "wh", source="SOP property"
        )
        # an instansi's own policy beats both
        policies.set_policy(s, milestone="follow-up", duration=2, unit="wd", instansi=sleman)
        assert resolve(s, "34.04", "follow-up", sop="16wh").duration == 2
        # a SOP property above the national maximum (5 wd = 40 office hours) is capped
        capped = resolve(s, "51.03", "follow-up", sop="60wh")
        assert (capped.duration, capped.unit) == (5, "wd")
        assert "capped" in capped.source
        # a national change moves the maximum for everyone
        policies.set_policy(s, milestone="follow-up", duration=3, unit="wd")
        assert resolve(s, "51.03", "follow-up").duration == 3
        assert resolve(s, "51.03", "follow-up", sop="4wd").duration == 3
        s.rollback()


def test_classification_specific_policy_wins(factory: Any) -> None:
    with factory() as s, s.begin():
        policies.set_policy(
            s,
            milestone="verification",
            duration=2,
            unit="wd",
            classification="permintaan_informasi",
        )
        assert resolve(s, None, "verification", classification="permintaan_informasi").duration == 2
        assert resolve(s, None, "verification", classification="pengaduan").duration == 3
        s.rollback()


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"milestone": "lunch", "duration": 2, "unit": "wd"}, "milestone"),
        ({"milestone": "follow-up", "duration": 2, "unit": "days"}, "unit"),
        ({"milestone": "follow-up", "duration": 0, "unit": "wd"}, "duration"),
        ({"milestone": "follow-up", "duration": 2, "unit": "wd", "reminder": 2}, "reminder"),
        (
            {"milestone": "follow-up", "duration": 2, "unit": "wd", "escalation_every": 0},
            "escalation_every",
        ),
    ],
)
def test_bad_policies_are_refused_naming_the_field(factory: Any, kwargs: dict, field: str) -> None:
    with factory() as s, s.begin(), pytest.raises(InvalidInput) as err:
        policies.set_policy(s, **kwargs)
    assert err.value.field == field


def test_instansi_may_not_exceed_the_national_maximum(factory: Any) -> None:
    with factory() as s, s.begin(), pytest.raises(InvalidInput) as err:
        policies.set_policy(
            s, milestone="follow-up", duration=6, unit="wd", instansi=instansi(s, "34.04")
        )
    assert err.value.field == "duration"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("5wd", Policy(5, "wd", source="SOP property")),
        (" 8 wh ", Policy(8, "wh", source="SOP property")),
        (None, None),
        ("", None),
    ],
)
def test_sla_property(value: str | None, expected: Policy | None) -> None:
    assert policies.parse_sla_property(value) == expected


@pytest.mark.parametrize("value", ["5d", "wd", "0wd", "5 weeks", "1000wd"])
def test_bad_sla_property(value: str) -> None:
    with pytest.raises(InvalidInput) as err:
        policies.parse_sla_property(value)
    assert err.value.field == "sla"


def test_linter_check_every_user_task_has_an_sla() -> None:
    meta = {
        "verify": {"milestone": "verification", "properties": {}},
        "extra_review": {"milestone": None, "properties": {"sla": "2wd"}},
        "no_sla": {"milestone": None, "properties": {}},
        "broken": {"milestone": None, "properties": {"sla": "soon"}},
        "odd_milestone": {"milestone": "lunch", "properties": {}},
    }
    assert policies.missing_sla(meta) == ["no_sla", "broken", "odd_milestone"]
