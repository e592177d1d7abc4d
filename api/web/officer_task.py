"""One task (`/tugas/<id>`): its report with attachments, timeline and public text, the form built
from the task's JSON Schema, claiming it, and completing it (for a main report, optionally with
the same follow-up for its linked duplicates). Forms work without JavaScript; field errors come
back next to their fields in the visitor's language, with what was typed."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Response, redirect, render_template, request, url_for

from api.db import db
from api.web.officer_common import (
    OFFICER_ROLES,
    blp,
    not_found,
    service_error,
    staff,
    task_url,
)
from api.web.pages import staff_form
from api.web.task_forms import check, form_fields, read_form, translate_data
from engine.errors import Conflict, DomainError, InvalidInput, NotFound
from engine.services import attachments, bursts, masking, officer_notes, tasks
from engine.services.auth import Principal
from sla import views as sla_views


def _attachments(principal: Principal, tracking_id: str) -> list[dict[str, Any]]:
    """The report's files with what the page shows of them (no name when the pelapor is anonim)."""
    return [
        {
            "id": v.attachment.id,
            "name": v.original_name,
            "kind": attachments.EXTENSIONS[v.attachment.content_type].upper(),
            "size": v.attachment.size,
            "url": url_for("attachments.AttachmentById", attachment_id=v.attachment.id),
        }
        for v in attachments.list_for(db.session(), who=principal, tracking_id=tracking_id)
    ]


def _public_text(case: officer_notes.CaseFile) -> tuple[list[str], str | None, str | None]:
    """The phrases hidden so far, and the title and body as the public sees them."""
    phrases = [
        phrase
        for item in case.timeline
        if item.kind == masking.REDACTION_KIND
        for phrase in item.data.get("phrases", [])
        if isinstance(phrase, str)
    ]
    publish = masking.Publisher(phrases)
    return phrases, publish(case.title), publish(case.body)


def task_page(
    principal: Principal,
    task_id: int,
    *,
    values: Mapping[str, Any] | None = None,
    errors: Mapping[str, str] | None = None,
    message: str | None = None,
    note: str = "",
    note_error: str | None = None,
    duplicate: str = "",
    duplicate_error: str | None = None,
    phrase: str = "",
    phrase_error: str | None = None,
    status: int = 200,
) -> Response:
    try:
        case = officer_notes.case_file(db.session(), principal=principal, task_id=task_id)
        files = _attachments(principal, case.tracking_id)
    except NotFound:
        return not_found()
    (sla,) = sla_views.task_sla(db.session(), [case.task]).values()
    duplicates = None  # None: linking is not offered (the task is done)
    if case.task.status == "open":
        try:
            duplicates = bursts.duplicates_of(
                db.session(), principal=principal, main_tracking_id=case.tracking_id
            )
        except NotFound:
            duplicates = None
    errors = dict(errors or {})
    page_error = errors.pop("", None)
    phrases, public_title, public_body = _public_text(case)
    return Response(
        render_template(
            "officer/task.html",
            case=case,
            task=case.task,
            sla=sla,
            fields=form_fields(case.form_schema, values or {}, errors, units=case.units),
            form_title=translate_data(str((case.form_schema or {}).get("title") or "")),
            form_help=translate_data(str((case.form_schema or {}).get("description") or "")),
            can_work=case.task.status == "open"
            and case.task.assignee_id in (None, principal.user_id),
            mine=case.task.assignee_id == principal.user_id,
            verify_url=task_url(case.task, principal),
            message=message or page_error,
            note=note,
            note_error=note_error,
            duplicates=duplicates,
            duplicate=duplicate,
            duplicate_error=duplicate_error,
            files=files,
            phrases=phrases,
            public_title=public_title,
            public_body=public_body,
            phrase=phrase,
            phrase_error=phrase_error,
            flash=request.args.get("ok", ""),
        ),
        status=status,
    )


@blp.get("/tugas/<int:task_id>")
def task(task_id: int) -> Response:
    signed = staff()
    if isinstance(signed, Response):
        return signed
    return task_page(signed[0], task_id)


@blp.post("/tugas/<int:task_id>/ambil")
def claim(task_id: int) -> Response:
    signed = staff_form(*OFFICER_ROLES)
    if isinstance(signed, Response):
        return signed
    try:
        tasks.claim(db.session(), principal=signed[0], task_id=task_id)
    except NotFound:
        return not_found()
    except Conflict as exc:
        return task_page(signed[0], task_id, message=service_error(exc)[1], status=409)
    back = {
        "inbox": url_for("officer.inbox"),
        "queue": url_for("officer.queue"),
        "verify": url_for("officer.verify", task_id=task_id),
    }
    target = back.get(request.form.get("back", ""), url_for("officer.task", task_id=task_id))
    return redirect(target, code=303)  # type: ignore[return-value]


def complete_checked(
    principal: Principal, task_id: int, schema: Mapping[str, Any] | None, data: dict[str, Any]
) -> dict[str, str]:
    """Validate and complete; the errors by field ('' for the page) when refused."""
    errors = check(schema, data)
    if errors:
        return errors
    try:
        tasks.complete(db.session(), principal=principal, task_id=task_id, data=data)
    except (InvalidInput, Conflict) as exc:
        name, text = service_error(exc)
        known = name in ((schema or {}).get("properties") or {})
        return {name if known else "": text}
    return {}


@blp.post("/tugas/<int:task_id>")
def complete(task_id: int) -> Response:
    signed = staff_form(*OFFICER_ROLES)
    if isinstance(signed, Response):
        return signed
    try:
        view = tasks.get(db.session(), principal=signed[0], task_id=task_id)
    except NotFound:
        return not_found()
    data, shown, errors = read_form(view.form_schema, request.form)
    if request.form.get("group") == "1" and not errors:
        return _complete_group(signed[0], task_id, view, data, shown)
    errors = errors or complete_checked(signed[0], task_id, view.form_schema, data)
    if errors:
        return task_page(signed[0], task_id, values=shown, errors=errors, status=422)
    target = url_for("officer.inbox", selesai=view.report.tracking_id)
    return redirect(target, code=303)  # type: ignore[return-value]


def _complete_group(
    principal: Principal, task_id: int, view: Any, data: dict[str, Any], shown: dict[str, Any]
) -> Response:
    """Complete the main report's task, then the same step of each linked duplicate."""
    errors = check(view.form_schema, data)
    if not errors:
        try:
            results = bursts.complete_group(
                db.session(), principal=principal, task_id=task_id, data=data
            )
        except NotFound:
            return not_found()
        except DomainError as exc:
            if exc.status == 409:
                errors = {"": service_error(Conflict(exc.message))[1]}
            else:
                name, text = service_error(exc)
                known = name in ((view.form_schema or {}).get("properties") or {})
                errors = {name if known else "": text}
    if errors:
        return task_page(principal, task_id, values=shown, errors=errors, status=422)
    done = sum(r.status == 200 for r in results[1:])
    target = url_for(
        "officer.inbox",
        selesai=view.report.tracking_id,
        grup=done,
        gagal=len(results) - 1 - done,
    )
    return redirect(target, code=303)  # type: ignore[return-value]
