"""What firing a deadline does: remind, escalate up the supervision tree, alert, auto-close.

Escalation goes from the one responsible upwards: a unit's task to its instansi, then the
supervising instansi (province for a regency/city, Home Affairs for a province, KemenPANRB at the
top); at the 60-day outer limit the Ombudsman is notified. Each step writes in-app alerts for the
target's supervisors and admins, and outbox deliveries (email, webhooks), in the firing's
transaction.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine import clock
from engine.models import HumanTask, Instansi, Report, RoleMembership, User
from engine.services import audit
from engine.services import reports as report_service
from engine.services.progress import add_timeline
from sla import bpmn_timers, changes, deadlines, outbox, policies
from sla.alerts import alert_user
from sla.calendar_service import calendar_for
from sla.models import Deadline, Escalation

ALERT_ROLES = ("supervisor", "admin_instansi")


def when(moment: datetime | None) -> str:
    return f"{moment:%Y-%m-%d %H:%M} UTC" if moment is not None else "(tanpa tenggat)"


def escalation_chain(session: Session, task: HumanTask) -> list[Instansi]:
    """Who hears about an overdue task, level 1 first."""
    top = deadlines.national_instansi(session)
    if task.instansi_id is None:
        return [top]
    instansi = session.get(Instansi, task.instansi_id)
    assert instansi is not None
    chain = [instansi] if task.unit_id is not None else []
    current, seen = instansi.supervisor, {instansi.id}
    while current is not None and current.id not in seen:
        chain.append(current)
        seen.add(current.id)
        current = current.supervisor
    return chain or [top]


def recipients(session: Session, instansi: Instansi) -> list[User]:
    """Staff alerted for an instansi: its supervisors and admins (national admins at the top)."""
    clause = (RoleMembership.instansi_id == instansi.id) & RoleMembership.role.in_(ALERT_ROLES)
    if instansi.code == deadlines.NATIONAL_CODE:
        clause = clause | (RoleMembership.role == "admin_nasional")
    return list(
        session.scalars(
            select(User)
            .join(RoleMembership)
            .where(clause, User.active.is_(True))
            .distinct()
            .order_by(User.id)
        )
    )


def notify(
    session: Session,
    *,
    instansi: Instansi,
    report: Report,
    kind: str,
    title: str,
    body: str,
    escalation: Escalation | None = None,
    event_key: str,
) -> int:
    """In-app alert + email for each recipient, webhook per endpoint; returns alerts made."""
    users = recipients(session, instansi)
    for user in users:
        alert_user(
            session,
            user=user,
            report=report,
            kind=kind,
            title=title,
            body=body,
            event_id=f"{event_key}-u{user.id}",
            escalation_id=escalation.id if escalation else None,
        )
    for endpoint in changes.webhooks_for(session, type=kind, instansi_id=instansi.id):
        outbox.enqueue_webhook(
            session,
            endpoint=endpoint,
            event=kind,
            report_id=report.id,
            event_id=f"{event_key}-w{endpoint.id}",
            data={
                "tracking_id": report.tracking_id,
                "status": report.status,
                "title": title,
                "level": escalation.level if escalation else None,
            },
        )
    return len(users)


def escalate(
    session: Session, deadline: Deadline, task: HumanTask, report: Report, level: int
) -> None:
    chain = escalation_chain(session, task)
    target = chain[min(level, len(chain)) - 1]
    escalation = Escalation(
        report_id=report.id,
        task_id=task.id,
        level=level,
        from_instansi_id=task.instansi_id,
        to_instansi_id=target.id,
        reason="overdue",
        created_at=clock.now(),
    )
    session.add(escalation)
    session.flush()
    title = f"Laporan {report.tracking_id} terlambat: eskalasi tingkat {level}"
    body = (
        f"Tugas '{task.name}' pada laporan {report.tracking_id} ('{report.title}') melewati "
        f"batas waktu {when(task.due_at)} dan dieskalasi ke {target.name}."
    )
    notify(
        session,
        instansi=target,
        report=report,
        kind="escalation",
        title=title,
        body=body,
        escalation=escalation,
        event_key=f"esc{escalation.id}",
    )
    add_timeline(
        session,
        report,
        "escalated",
        public=False,
        data={"level": level, "instansi": target.code, "task": task.bpmn_id},
    )
    changes.escalated(session, report, escalation_id=escalation.id, level=level, to=target.code)
    audit.record(
        session,
        actor="system",
        action="task.escalated",
        report_id=report.id,
        task_id=task.id,
        data={"level": level, "to": target.code},
    )
    if level < len(chain):  # stays overdue for another period: one level higher
        every = int((deadline.payload or {}).get("escalation_every", 2))
        cal = calendar_for(session, deadlines.responsible_instansi(session, task))
        deadlines.schedule(
            session,
            kind="escalation",
            report_id=report.id,
            task_id=task.id,
            level=level + 1,
            payload=deadline.payload,
            due_at=cal.add_working_days(clock.now(), every).due_at,
        )


def remind(session: Session, deadline: Deadline, task: HumanTask, report: Report) -> None:
    """Remind whoever holds the task (else everyone it is offered to) that it is due soon."""
    if task.assignee_id is not None:
        users = [u for u in [session.get(User, task.assignee_id)] if u is not None]
    else:
        users = offered_to(session, task)
    title = f"Pengingat: laporan {report.tracking_id} segera jatuh tempo"
    body = f"Tugas '{task.name}' jatuh tempo {when(task.due_at)}."
    for user in users:
        alert_user(
            session,
            user=user,
            report=report,
            kind="reminder",
            title=title,
            body=body,
            event_id=f"rem{deadline.id}-u{user.id}",
        )


def offered_to(session: Session, task: HumanTask) -> list[User]:
    """The users holding the task's role in its instansi/unit (national: admin nasional)."""
    clause = RoleMembership.role == task.role
    if task.role != "admin_nasional":
        clause = clause & (RoleMembership.instansi_id == task.instansi_id)
        if task.unit_id is not None:
            clause = clause & (
                RoleMembership.unit_id.is_(None) | (RoleMembership.unit_id == task.unit_id)
            )
    return list(
        session.scalars(
            select(User).join(RoleMembership).where(clause, User.active.is_(True)).distinct()
        )
    )


def outer_limit(session: Session, report: Report) -> None:
    ombudsman = session.scalar(select(Instansi).where(Instansi.code == deadlines.OMBUDSMAN_CODE))
    if ombudsman is None:
        return
    escalation = Escalation(
        report_id=report.id,
        task_id=None,
        level=0,
        from_instansi_id=report.current_instansi_id,
        to_instansi_id=ombudsman.id,
        reason="outer_limit",
        created_at=clock.now(),
    )
    session.add(escalation)
    session.flush()
    title = f"Laporan {report.tracking_id} melewati batas 60 hari"
    notify(
        session,
        instansi=ombudsman,
        report=report,
        kind="outer_limit",
        title=title,
        body=f"Laporan '{report.title}' belum selesai 60 hari setelah verifikasi.",
        escalation=escalation,
        event_key=f"esc{escalation.id}",
    )
    add_timeline(session, report, "outer_limit", public=False, data={"to": ombudsman.code})


def warn_pelapor(session: Session, report: Report) -> None:
    if report.pelapor_email:
        outbox.enqueue_email(
            session,
            to=report.pelapor_email,
            report_id=report.id,
            event_id=f"warn-autoclose-{report.id}-{report.updated_at:%Y%m%d%H%M%S}",
            subject=f"Laporan {report.tracking_id} akan ditutup otomatis",
            body="Tindak lanjut laporan Anda belum ditanggapi. Laporan akan ditutup otomatis "
            "dalam 2 hari kerja jika tidak ada tanggapan.",
        )


def fire(session: Session, deadline: Deadline) -> None:
    """Do what a due deadline means; runs inside the sweep's transaction."""
    report = session.get(Report, deadline.report_id)
    if report is None:
        return
    task = session.get(HumanTask, deadline.task_id) if deadline.task_id else None
    if deadline.kind in ("due", "escalation", "reminder"):
        if task is None or task.status != "open":
            return
        if deadline.kind == "reminder":
            remind(session, deadline, task, report)
        else:
            escalate(session, deadline, task, report, level=max(deadline.level, 1))
    elif deadline.kind == "outer_limit":
        outer_limit(session, report)
    elif deadline.kind == "auto_close_warning":
        warn_pelapor(session, report)
        changes.auto_close_warned(
            session, report, deadline_id=deadline.id, days=policies.AUTO_CLOSE_WARNING_DAYS
        )
    elif deadline.kind == "auto_close":
        report_service.close_unanswered(session, report_id=report.id)
    elif deadline.kind == bpmn_timers.KIND:
        bpmn_timers.fire(session, deadline)
