"""The officer's task inbox (`/tugas`): their open tasks, soonest due first, filtered by SLA state,
milestone and who holds them, a page at a time. Filters and paging run in SQL
(`sla.views.inbox`), so a unit with thousands of tasks still finds the right ones."""

from __future__ import annotations

from typing import Any

from flask import Response, render_template, request, url_for

from api.db import db
from api.web.officer_common import blp, staff, task_url
from engine.services import tasks
from engine.services.auth import Principal
from sla import views as sla_views

MILESTONES = ("verification", "disposition", "follow-up")
PER_PAGE = 50
MAX_PAGE = 10_000


def chosen_page() -> int:
    """The `halaman` asked for (1 when missing or not a page number)."""
    raw = request.args.get("halaman", "")
    return min(int(raw), MAX_PAGE) if raw.isdigit() and len(raw) <= 6 and int(raw) > 0 else 1


def inbox_rows(
    principal: Principal,
    *,
    state: str | None = None,
    milestone: str | None = None,
    who: str | None = None,
    page: int = 1,
    per_page: int = PER_PAGE,
) -> tuple[list[dict[str, Any]], int]:
    """One page of task cards for the templates, and how many tasks match on all pages."""
    found = sla_views.inbox(
        db.session(),
        principal=principal,
        state=state,
        milestone=milestone,
        who=who,
        limit=per_page,
        offset=(page - 1) * per_page,
    )
    rows = [
        {
            "task": row.task,
            "tracking_id": row.tracking_id,
            "title": row.title,
            "sla": sla,
            "url": task_url(row.task, principal),
            "mine": row.task.assignee_id == principal.user_id,
        }
        for row, sla in found.rows
    ]
    return rows, found.total


def pager(endpoint: str, page: int, total: int, **kept: str) -> dict[str, Any]:
    """Links to the previous and next page of a list, keeping its filters."""
    pages = max(1, -(-total // PER_PAGE))
    kept = {k: v for k, v in kept.items() if v}
    return {
        "page": page,
        "pages": pages,
        "previous": url_for(endpoint, halaman=page - 1, **kept) if page > 1 else None,
        "next": url_for(endpoint, halaman=page + 1, **kept) if page < pages else None,
    }


@blp.get("/tugas")
def inbox() -> Response:
    signed = staff()
    if isinstance(signed, Response):
        return signed
    asked = request.args
    chosen = {
        "state": asked.get("state", "") if asked.get("state") in sla_views.STATES else "",
        "milestone": asked.get("milestone", "") if asked.get("milestone") in MILESTONES else "",
        "who": asked.get("who", "") if asked.get("who") in tasks.WHO else "",
    }
    page = chosen_page()
    rows, total = inbox_rows(
        signed[0],
        state=chosen["state"] or None,
        milestone=chosen["milestone"] or None,
        who=chosen["who"] or None,
        page=page,
    )
    return Response(
        render_template(
            "officer/inbox.html",
            rows=rows,
            total=total,
            pager=pager("officer.inbox", page, total, **chosen),
            chosen=chosen,
            states=sla_views.STATES,
            milestones=MILESTONES,
            done=asked.get("selesai", "")[:16],
            group_done=asked.get("grup", "")[:4],
            group_failed=asked.get("gagal", "")[:4],
        )
    )
