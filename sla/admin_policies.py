"""Admin changes to SLA policies: the national maximum per milestone (and classification) and
an instansi's own, shorter policy, inherited by the instansi it supervises.

Each change is one transaction: the policy row (`sla.policies.set_policy`, which refuses an
instansi policy above the national maximum), the recomputed due moments of the open tasks it
reaches (every task for a national change; the instansi and those below it in the tree for an
instansi change) and an audit event. National policies are for national admins; an instansi's
own also for its `admin_instansi`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.db import valid_id
from engine.errors import InvalidInput, NotFound
from engine.models import Instansi
from engine.models.reports import CLASSIFICATIONS
from engine.services import audit
from engine.services.auth import Principal
from sla import admin, policies
from sla.models import SlaPolicy


@dataclass(frozen=True)
class PolicyView:
    """A policy row as set by an admin."""

    id: int
    instansi_code: str | None  # None: national
    milestone: str
    classification: str | None
    duration: int
    unit: str
    reminder: int
    escalation_every: int
    created_at: datetime


@dataclass(frozen=True)
class EffectivePolicy:
    """The policy a task of `milestone` gets at this level, and where it comes from."""

    milestone: str
    duration: int
    unit: str
    reminder: int
    escalation_every: int
    source: str


@dataclass(frozen=True)
class PolicyListing:
    instansi_code: str | None
    effective: list[EffectivePolicy]
    policies: list[PolicyView]


def _view(session: Session, row: SlaPolicy) -> PolicyView:
    return PolicyView(
        id=row.id,
        instansi_code=admin.code_of(session, row.instansi_id),
        milestone=row.milestone,
        classification=row.classification,
        duration=row.duration,
        unit=row.unit,
        reminder=row.reminder,
        escalation_every=row.escalation_every,
        created_at=row.created_at,
    )


def _terms(row: SlaPolicy | None) -> dict[str, Any] | None:
    if row is None:
        return None
    return {
        "duration": row.duration,
        "unit": row.unit,
        "reminder": row.reminder,
        "escalation_every": row.escalation_every,
    }


def _affected(session: Session, instansi_id: int | None) -> set[int] | None:
    return None if instansi_id is None else admin.subtree_ids(session, instansi_id)


def list_policies(
    session: Session, *, principal: Principal, instansi_code: str | None = None
) -> PolicyListing:
    """For each milestone, the effective policy at the national level or for the instansi
    (no classification, no SOP property) with its source, and the rows set at that level."""
    admin.require_role(principal, admin.ADMINS, "see SLA policies")
    with session.begin():
        instansi = None
        if instansi_code is not None:
            instansi = admin.find_instansi(session, instansi_code, "instansi")
            admin.require_admin_of(principal, instansi, "see SLA policies")
        effective = []
        for milestone in policies.MILESTONES:
            policy = policies.resolve(
                session,
                instansi=instansi,
                milestone=milestone,
                classification=None,
                sop_property=None,
            )
            effective.append(
                EffectivePolicy(
                    milestone,
                    policy.duration,
                    policy.unit,
                    policy.reminder,
                    policy.escalation_every,
                    policy.source,
                )
            )
        scope = (
            SlaPolicy.instansi_id.is_(None)
            if instansi is None
            else SlaPolicy.instansi_id == instansi.id
        )
        rows = session.scalars(select(SlaPolicy).where(scope).order_by(SlaPolicy.id)).all()
        return PolicyListing(
            instansi.code if instansi else None, effective, [_view(session, r) for r in rows]
        )


def set_policy(
    session: Session,
    *,
    principal: Principal,
    milestone: str,
    duration: int,
    unit: str,
    reminder: int = 1,
    escalation_every: int = 2,
    instansi_code: str | None = None,
    classification: str | None = None,
) -> tuple[PolicyView, int]:
    """Create or replace the policy of a milestone (and classification), nationally or for an
    instansi; returns it and how many open due moments moved."""
    admin.require_role(principal, admin.ADMINS, "set SLA policies")
    if classification is not None and classification not in CLASSIFICATIONS:
        raise InvalidInput(
            f"classification must be one of {', '.join(CLASSIFICATIONS)}", field="classification"
        )
    for name, value in (
        ("duration", duration),
        ("reminder", reminder),
        ("escalation_every", escalation_every),
    ):
        if isinstance(value, bool) or not isinstance(value, int):
            raise InvalidInput(f"{name} must be a whole number", field=name)
    with session.begin():
        instansi: Instansi | None = None
        if instansi_code is not None:
            instansi = admin.find_instansi(session, instansi_code, "instansi")
        admin.require_admin_of(principal, instansi, "set SLA policies")
        instansi_id = instansi.id if instansi else None
        previous = _terms(
            session.scalar(
                select(SlaPolicy).where(
                    SlaPolicy.instansi_id.is_(None)
                    if instansi_id is None
                    else SlaPolicy.instansi_id == instansi_id,
                    SlaPolicy.milestone == milestone,
                    SlaPolicy.classification.is_(None)
                    if classification is None
                    else SlaPolicy.classification == classification,
                )
            )
        )
        row = policies.set_policy(
            session,
            milestone=milestone,
            duration=duration,
            unit=unit,
            instansi=instansi,
            classification=classification,
            reminder=reminder,
            escalation_every=escalation_every,
        )
        moved = admin.replan(session, _affected(session, instansi_id))
        view = _view(session, row)
        audit.record(
            session,
            actor=principal.actor,
            action="sla_policy.set",
            data={
                "policy_id": view.id,
                "instansi_code": view.instansi_code,
                "milestone": milestone,
                "classification": classification,
                **(_terms(row) or {}),
                "previous": previous,
                "moved": moved,
            },
        )
    return view, moved


def delete_policy(
    session: Session, *, principal: Principal, policy_id: int
) -> tuple[PolicyView, int]:
    """Remove a policy row (the level above applies again); returns the removed policy and how
    many open due moments moved."""
    admin.require_role(principal, admin.ADMINS, "delete SLA policies")
    with session.begin():
        row = None
        if valid_id(policy_id):
            row = session.scalar(
                select(SlaPolicy).where(SlaPolicy.id == policy_id).with_for_update()
            )
        if row is None:
            raise NotFound("no such SLA policy", field="policy_id")
        instansi = session.get(Instansi, row.instansi_id) if row.instansi_id else None
        admin.require_admin_of(principal, instansi, "delete SLA policies")
        view, terms, affected = (
            _view(session, row),
            _terms(row),
            _affected(session, row.instansi_id),
        )
        session.delete(row)
        session.flush()
        moved = admin.replan(session, affected)
        audit.record(
            session,
            actor=principal.actor,
            action="sla_policy.deleted",
            data={
                "policy_id": view.id,
                "instansi_code": view.instansi_code,
                "milestone": view.milestone,
                "classification": view.classification,
                **(terms or {}),
                "moved": moved,
            },
        )
    return view, moved
