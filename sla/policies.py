"""SLA policies: how long each milestone may take, and which policy applies to a task.

Precedence (docs/bpmn-contract.md): a policy set for the task's instansi and milestone, then the
SOP task's `sla` property, then the supervising instansi's policy up the tree, then the national
policy (a row with no instansi, else the DOMAIN.md default below). No instansi may exceed the
national maximum: a longer value is refused when set and capped when applied.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine import clock
from engine.errors import InvalidInput
from engine.models import Instansi
from engine.services.bpmn_lint import Finding
from engine.status import MILESTONES
from sla.models import SlaPolicy

WORKING_DAYS, WORKING_HOURS = "wd", "wh"
HOURS_PER_DAY = 8
SLA_PROPERTY = re.compile(r"^\s*(\d{1,3})\s*(wd|wh)\s*$")


@dataclass(frozen=True)
class Policy:
    duration: int
    unit: str  # wd | wh
    reminder: int = 1  # before due, same unit
    escalation_every: int = 2  # working days between escalation levels
    source: str = "national default"

    def in_hours(self) -> int:
        return self.duration * HOURS_PER_DAY if self.unit == WORKING_DAYS else self.duration


# DOMAIN.md: verification 3 working days from filing, follow-up 5 working days after
# disposition; the instansi admin's own disposition step is ours to choose (2 working days).
NATIONAL_DEFAULTS: dict[str, Policy] = {
    "verification": Policy(3, WORKING_DAYS),
    "disposition": Policy(2, WORKING_DAYS),
    "follow-up": Policy(5, WORKING_DAYS),
    "close": Policy(2, WORKING_DAYS),
}
AUTO_CLOSE_WORKING_DAYS = 10  # no answer from the pelapor after a follow-up
AUTO_CLOSE_WARNING_DAYS = 2  # warn the pelapor this many working days before
OUTER_LIMIT_DAYS = 60  # calendar days from the end of verification (Perpres 76/2013)


def parse_sla_property(value: str | None) -> Policy | None:
    """Read a BPMN task's `sla` property (`5wd`, `8wh`); None when absent."""
    if value is None or not value.strip():
        return None
    match = SLA_PROPERTY.match(value)
    if match is None or int(match.group(1)) == 0:
        raise InvalidInput(f"sla property '{value}' must look like 5wd or 8wh", field="sla")
    return Policy(int(match.group(1)), match.group(2), source="SOP property")


def _row_policy(row: SlaPolicy, source: str) -> Policy:
    return Policy(row.duration, row.unit, row.reminder, row.escalation_every, source)


def _policy_row(
    session: Session, instansi_id: int | None, milestone: str, classification: str | None
) -> SlaPolicy | None:
    rows = session.scalars(
        select(SlaPolicy).where(
            SlaPolicy.instansi_id.is_(None)
            if instansi_id is None
            else SlaPolicy.instansi_id == instansi_id,
            SlaPolicy.milestone == milestone,
            (SlaPolicy.classification == classification) | SlaPolicy.classification.is_(None),
        )
    ).all()
    specific = [r for r in rows if r.classification is not None]
    chosen = specific or rows
    return chosen[0] if chosen else None


def national(session: Session, milestone: str, classification: str | None = None) -> Policy:
    row = _policy_row(session, None, milestone, classification)
    if row is not None:
        return _row_policy(row, "national policy")
    return NATIONAL_DEFAULTS.get(milestone, NATIONAL_DEFAULTS["follow-up"])


def _cap(policy: Policy, maximum: Policy) -> Policy:
    if policy.in_hours() <= maximum.in_hours():
        return policy
    return replace(maximum, source=f"{policy.source}, capped at the national maximum")


def resolve(
    session: Session,
    *,
    instansi: Instansi | None,
    milestone: str | None,
    classification: str | None,
    sop_property: str | None,
) -> Policy:
    """The policy for a task of `milestone` at `instansi` (None = national level)."""
    key = milestone or "follow-up"
    maximum = national(session, key, classification)
    if instansi is None:
        return maximum
    own = _policy_row(session, instansi.id, key, classification)
    if own is not None:
        return _cap(_row_policy(own, f"policy of {instansi.code}"), maximum)
    from_sop = parse_sla_property(sop_property)
    if from_sop is not None:
        return _cap(from_sop, maximum)
    seen = {instansi.id}
    current = instansi.supervisor
    while current is not None and current.id not in seen:
        seen.add(current.id)
        row = _policy_row(session, current.id, key, classification)
        if row is not None:
            return _cap(_row_policy(row, f"policy of {current.code}"), maximum)
        current = current.supervisor
    return maximum


def set_policy(
    session: Session,
    *,
    milestone: str,
    duration: int,
    unit: str,
    instansi: Instansi | None = None,
    classification: str | None = None,
    reminder: int = 1,
    escalation_every: int = 2,
) -> SlaPolicy:
    """Create or replace a policy (caller's transaction); refuses more than the national max."""
    if milestone not in MILESTONES:
        raise InvalidInput(f"unknown milestone '{milestone}'", field="milestone")
    if unit not in (WORKING_DAYS, WORKING_HOURS):
        raise InvalidInput("unit must be 'wd' (working days) or 'wh' (office hours)", field="unit")
    if not 1 <= duration <= 365:
        raise InvalidInput("duration must be between 1 and 365", field="duration")
    if not 0 <= reminder < duration:
        raise InvalidInput("the reminder must come before the deadline", field="reminder")
    if not 1 <= escalation_every <= 60:
        raise InvalidInput(
            "escalation_every must be between 1 and 60 working days", field="escalation_every"
        )
    candidate = Policy(duration, unit, reminder, escalation_every)
    if (
        instansi is not None
        and candidate.in_hours() > national(session, milestone, classification).in_hours()
    ):
        raise InvalidInput("longer than the national maximum for this milestone", field="duration")
    row = session.scalar(
        select(SlaPolicy).where(
            SlaPolicy.instansi_id.is_(None)
            if instansi is None
            else SlaPolicy.instansi_id == instansi.id,
            SlaPolicy.milestone == milestone,
            SlaPolicy.classification.is_(None)
            if classification is None
            else SlaPolicy.classification == classification,
        )
    )
    if row is None:
        row = SlaPolicy(
            instansi_id=instansi.id if instansi else None,
            milestone=milestone,
            classification=classification,
            created_at=clock.now(),
        )
        session.add(row)
    row.duration, row.unit = duration, unit
    row.reminder, row.escalation_every = reminder, escalation_every
    session.flush()
    return row


def missing_sla(task_meta: dict[str, dict]) -> list[str]:
    """User tasks with neither a valid `sla` property nor a milestone that a policy covers.
    Returns the offending task ids."""
    return [finding.element_id or "" for finding in lint_sla(task_meta)]


def lint_sla(task_meta: dict[str, dict]) -> list[Finding]:
    """The deploy linter's SLA rule: every task has a valid `sla` property or a milestone that
    a policy covers (registered by `sla.install`)."""
    findings = []
    for bpmn_id, meta in task_meta.items():
        properties = meta.get("properties") or {}
        try:
            has_property = parse_sla_property(properties.get("sla")) is not None
        except InvalidInput as exc:
            findings.append(Finding(f"task '{bpmn_id}': {exc.message}", bpmn_id))
            continue
        if not has_property and meta.get("milestone") not in NATIONAL_DEFAULTS:
            findings.append(
                Finding(
                    f"task '{bpmn_id}' has no SLA: give it an `sla` property (e.g. 5wd, 8wh) "
                    "or a milestone with a policy",
                    bpmn_id,
                )
            )
    return findings
