"""Reports from the pelapor's side: file one, read its public view, reply, supply info, rate."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine import clock, events, status
from engine.errors import Conflict, InvalidInput, NotFound
from engine.models import HumanTask, ProcessInstance, Region, Report, ReportChannel
from engine.models.reports import GESI_CHOICES
from engine.services import audit, definitions, driver
from engine.services.masking import Publisher, phrases_of
from engine.services.progress import add_timeline, resolve_instansi

TRACKING_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"  # no I, L, O, 0, 1
TRACKING_LENGTH = 10


def new_tracking_id() -> str:
    return "".join(secrets.choice(TRACKING_ALPHABET) for _ in range(TRACKING_LENGTH))


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class FiledReport:
    report: Report
    secret: str


@dataclass(frozen=True)
class Channel:
    """The integrated app (its API key) filing a report, and its own reference for it."""

    api_key_id: int
    external_ref: str | None = None


def create(
    session: Session,
    *,
    data: dict[str, Any],
    on_filed: Callable[[Session, Report], Any] | None = None,
    channel: Channel | None = None,
    after_filed: Callable[[Session, FiledReport], Any] | None = None,
) -> FiledReport:
    """File a report and start the national intake; one transaction. `on_filed` runs in it with
    the new report (the filing form stores the report's attachments with it); `channel` names
    the app that filed it; `after_filed` runs last in the transaction, with the answer (an
    idempotent filing records it there, so a raced duplicate rolls back whole)."""
    with session.begin():
        for name, choices in GESI_CHOICES.items():
            if data.get(name) is not None and data[name] not in choices:
                raise InvalidInput(f"'{name}' must be one of {', '.join(choices)}", field=name)
        if any(data.get(name) is not None for name in GESI_CHOICES) and not data.get(
            "gesi_consent"
        ):
            raise InvalidInput(
                "GESI answers are stored only with the pelapor's explicit consent "
                "(gesi_consent: true)",
                field="gesi_consent",
            )
        region = session.get(Region, data["region_code"])
        if region is None:
            raise InvalidInput(f"unknown region '{data['region_code']}'", field="region_code")
        target = None
        if data.get("target_instansi"):
            target = resolve_instansi(session, data["target_instansi"], "target_instansi")
        secret = secrets.token_urlsafe(24)
        now = clock.now()
        report = Report(
            tracking_id=new_tracking_id(),
            secret_hash=hash_secret(secret),
            classification=data["classification"],
            category=data["category"],
            title=data["title"],
            body=data["body"],
            region_code=region.code,
            target_instansi_id=target.id if target else None,
            anonim=data.get("anonim", False),
            rahasia=data.get("rahasia", False),
            pelapor_name=data.get("pelapor_name"),
            pelapor_email=data.get("pelapor_email"),
            pelapor_phone=data.get("pelapor_phone"),
            gender=data.get("gender"),
            disability=data.get("disability"),
            vulnerable_group=data.get("vulnerable_group"),
            status=status.PENDING_VERIFICATION,
            created_at=now,
            updated_at=now,
        )
        session.add(report)
        session.flush()
        add_timeline(session, report, "filed")
        if channel is not None:
            session.add(
                ReportChannel(
                    report_id=report.id,
                    api_key_id=channel.api_key_id,
                    external_ref=channel.external_ref,
                )
            )
        if on_filed is not None:
            on_filed(session, report)
        intake = definitions.newest_intake(session)
        driver.start_instance(
            session,
            report=report,
            definition=intake,
            data={
                "report_id": report.id,
                "tracking_id": report.tracking_id,
                "classification": report.classification,
                "target_instansi": target.code if target else None,
            },
        )
        audit.record(
            session,
            actor="pelapor",
            action="report.filed",
            report_id=report.id,
            data={"classification": report.classification, "region_code": report.region_code},
        )
        events.publish(session, events.Event(events.REPORT_FILED, report.id))
        filed = FiledReport(report, secret)
        if after_filed is not None:
            after_filed(session, filed)
    return filed


def _secret_matches(report: Report, secret: str | None) -> bool:
    return bool(secret) and hmac.compare_digest(report.secret_hash, hash_secret(secret or ""))


def is_tracking_id(text: str) -> bool:
    """Whether `text` has the shape of a tracking id (checked before any query)."""
    return len(text) == TRACKING_LENGTH and set(text) <= set(TRACKING_ALPHABET)


def _by_tracking_id(session: Session, tracking_id: str) -> Report:
    if not is_tracking_id(tracking_id):
        raise NotFound("no report with this tracking id", field="tracking_id")
    report = session.scalar(select(Report).where(Report.tracking_id == tracking_id))
    if report is None:
        raise NotFound("no report with this tracking id", field="tracking_id")
    return report


def find_owned(session: Session, *, tracking_id: str, secret: str | None) -> Report:
    """The report whose pelapor holds `secret` (in the caller's transaction); any mismatch
    answers 404, exactly like an unknown tracking id."""
    report = _by_tracking_id(session, tracking_id)
    if not _secret_matches(report, secret):
        raise NotFound("no report with this tracking id", field="tracking_id")
    return report


def secret_matches(report: Report, secret: str | None) -> bool:
    """Whether `secret` is the pelapor's secret of `report` (constant-time)."""
    return _secret_matches(report, secret)


@dataclass(frozen=True)
class PublicView:
    report: Report
    timeline: list[Any]
    current_due_at: Any
    owner: bool


def get_public(session: Session, *, tracking_id: str, secret: str | None = None) -> PublicView:
    """The status page; a rahasia report answers only to its pelapor's secret (else 404)."""
    with session.begin():
        report = _by_tracking_id(session, tracking_id)
        owner = _secret_matches(report, secret)
        if report.rahasia and not owner:
            raise NotFound("no report with this tracking id", field="tracking_id")
        timeline = [
            t for t in report.timeline if t.public or (owner and t.kind in PELAPOR_OWN_KINDS)
        ]
        due = session.scalar(
            select(HumanTask.due_at)
            .where(HumanTask.report_id == report.id, HumanTask.status == "open")
            .order_by(HumanTask.id.desc())
            .limit(1)
        )
        publish = None if owner else Publisher(phrases_of(session, [report.id])[report.id])
        session.expunge_all()
    if publish is not None:
        # Anyone may know a tracking id (the public feed shows them): without the secret, the
        # text is masked and redacted as in the feed. The rows are detached: nothing is saved.
        report.title = publish(report.title) or ""
        report.body = publish(report.body) or ""
        for entry in timeline:
            entry.text = publish(entry.text)
    return PublicView(report, timeline, due, owner)


REPLY_KINDS = ("info", "rating", "comment")
# private entries the pelapor wrote themselves; internal ones (escalations, supervision) stay
# hidden from the pelapor too
PELAPOR_OWN_KINDS = frozenset({"info_supplied", "comment"})


def reply(session: Session, *, tracking_id: str, secret: str, data: dict[str, Any]) -> Report:
    """The pelapor supplies info on tunda, rates the follow-up, or comments."""
    with session.begin():
        report = _by_tracking_id(session, tracking_id)
        if not _secret_matches(report, secret):
            raise NotFound("no report with this tracking id", field="tracking_id")
        kind = data["kind"]
        text = data.get("text")
        if kind == "info":
            if report.status != status.ON_HOLD:
                raise Conflict("the report is not waiting for information", field="kind")
            if not text:
                raise InvalidInput("the information is required", field="text")
            add_timeline(
                session,
                report,
                "info_supplied",
                new_status=status.PENDING_VERIFICATION,
                text=text,
                public=False,
            )
            _deliver(session, report, "intake", "pelapor_info", {"text": text})
        elif kind == "rating":
            if report.status != status.FOLLOWED_UP:
                raise Conflict("there is no follow-up to rate yet", field="kind")
            if data.get("rating") is None or data.get("satisfied") is None:
                field = "rating" if data.get("rating") is None else "satisfied"
                raise InvalidInput("a rating needs `rating` and `satisfied`", field=field)
            payload = {
                "rating": data["rating"],
                "satisfied": data["satisfied"],
                "comment": text or "",
            }
            add_timeline(
                session,
                report,
                "rated",
                text=text,
                data={"rating": data["rating"], "satisfied": data["satisfied"]},
            )
            sop = _deliver(session, report, "sop", "pelapor_rating", payload)
            _rating_answered(session, report, sop, closed_kind="closed", text=text)
        else:
            if not text:
                raise InvalidInput("the comment is required", field="text")
            add_timeline(session, report, "comment", text=text, public=False)
        audit.record(session, actor="pelapor", action=f"report.reply.{kind}", report_id=report.id)
    return report


def close_unanswered(session: Session, *, report_id: int) -> bool:
    """Auto-close a followed-up report nobody answered (runs in the caller's transaction).

    Returns False when the report is no longer waiting for the pelapor's answer.
    """
    report = session.get(Report, report_id)
    if report is None or report.status != status.FOLLOWED_UP:
        return False
    sop = _deliver(
        session,
        report,
        "sop",
        "pelapor_rating",
        {"rating": None, "satisfied": True, "comment": "", "auto_closed": True},
    )
    _rating_answered(session, report, sop, closed_kind="auto_closed")
    audit.record(session, actor="system", action="report.auto_closed", report_id=report.id)
    return True


def _rating_answered(
    session: Session,
    report: Report,
    sop: ProcessInstance,
    *,
    closed_kind: str,
    text: str | None = None,
) -> None:
    """Carry the SOP's answer to a rating to the report: closed when the SOP completed, reopened
    when it runs on. While the SOP is in incident nothing is decided yet: the report stays
    followed-up until an operator's retry lets the SOP answer (`after_retry`)."""
    if sop.status == driver.INCIDENT:
        return
    if sop.status == driver.COMPLETED:
        add_timeline(session, report, closed_kind, new_status=status.CLOSED)
    elif closed_kind == "closed":
        report.reopen_count += 1
        add_timeline(session, report, "reopened", new_status=status.REOPENED, text=text)


def after_retry(session: Session, *, report: Report, instance: ProcessInstance) -> None:
    """After an operator retried an SOP stopped in incident: if the pelapor's rating was what
    it was handling, the report now closes or reopens."""
    if (
        report.status != status.FOLLOWED_UP
        or instance.definition.kind != "sop"
        or instance.status == driver.INCIDENT
    ):
        return
    if instance.status == driver.RUNNING:
        wf = driver.load_workflow(session, instance)
        if "pelapor_rating" in wf.waiting_messages():
            return  # the rating has not been delivered yet
    _rating_answered(session, report, instance, closed_kind="closed")


def _deliver(
    session: Session, report: Report, kind: str, message: str, payload: dict[str, Any]
) -> Any:
    instance = driver.running_instance(session, report, kind)
    wf = driver.load_workflow(session, instance)
    if message not in wf.waiting_messages():
        raise Conflict(f"the process is not waiting for '{message}'", field="kind")
    wf.deliver_message(message, payload)
    driver.settle(session, report=report, instance=instance, wf=wf)
    return instance
