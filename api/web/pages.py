"""What every page blueprint shares: the translation layer, who is signed in, the CSRF token,
safe response headers, the staff login gate, and the navigation in the header.

A page area (citizen, officer, supervisor, admin...) makes its blueprint with
`page_blueprint(...)`, and lists its header links with `add_nav_link`. A link is shown only
to the roles it names, and only once its endpoint is registered.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from babel.dates import format_datetime
from flask import Blueprint, Response, current_app, redirect, render_template, request, url_for
from flask_babel import get_locale

from api.web import i18n
from api.web.auth_pages import page_context, protect, signed_in
from api.web.forms import csrf_refused
from engine.services.auth import Principal


@dataclass(frozen=True)
class NavLink:
    endpoint: str
    label: Callable[[], str]  # a lazy translation: called when the page renders
    roles: frozenset[str] | None  # None: everyone, signed in or not; empty: any staff member
    badge: Callable[[Principal], int] | None = None  # e.g. the unread alert count
    order: int = 50  # the header lists links by `order`, then as they were added


_NAV: list[NavLink] = []


def add_nav_link(
    endpoint: str,
    label: Callable[[], str],
    *,
    roles: frozenset[str] | None = frozenset(),
    badge: Callable[[Principal], int] | None = None,
    order: int = 50,
) -> None:
    """Show a header link to `endpoint` (idempotent per endpoint); citizens' pages come first
    (order 10), then officers' (20), supervisors' (30), administration (40), the designer."""
    if all(link.endpoint != endpoint for link in _NAV):
        _NAV.append(NavLink(endpoint, label, roles, badge, order))
        _NAV.sort(key=lambda link: link.order)


def nav_links() -> list[dict[str, Any]]:
    """The header links for this request's visitor, in registration order."""
    staff = signed_in()
    principal = staff[0] if staff else None
    links = []
    for link in _NAV:
        if link.endpoint not in current_app.view_functions:
            continue
        if link.roles is not None and (
            principal is None or (link.roles and not link.roles & principal.roles())
        ):
            continue
        url = url_for(link.endpoint)
        links.append(
            {
                "url": url,
                "label": link.label(),
                "badge": link.badge(principal) if link.badge and principal else None,
                "current": request.path == url,
            }
        )
    return links


def page_blueprint(name: str, import_name: str, **kwargs: Any) -> Blueprint:
    """A blueprint of pages: translated, with the page context and safe headers."""
    blueprint = Blueprint(name, import_name, template_folder="templates", **kwargs)
    i18n.install(blueprint)
    blueprint.context_processor(page_context)
    blueprint.after_request(protect)
    return blueprint


def staff_or_login(*roles: str) -> tuple[Principal, str] | Response:
    """The signed-in staff member and session token, or the response to send instead: a
    redirect to /login (coming back here afterwards), or a 403 page when none of `roles`."""
    staff = signed_in()
    if staff is None:
        here = request.full_path if request.query_string else request.path
        return redirect(url_for("web.login", next=here))  # type: ignore[return-value]
    if roles and not set(roles) & staff[0].roles():
        return Response(render_template("forbidden.html"), status=403)
    return staff


def staff_form(*roles: str) -> tuple[Principal, str] | Response:
    """`staff_or_login` for a posted form, which must also carry the session's CSRF token
    (else the token-refused page)."""
    staff = staff_or_login(*roles)
    if isinstance(staff, Response):
        return staff
    return csrf_refused(staff[1]) or staff


ZONE_NAMES = {"Asia/Jakarta": "WIB", "Asia/Makassar": "WITA", "Asia/Jayapura": "WIT"}


def local_time(moment: datetime, zone: str, pattern: str) -> str:
    """`moment` written with the Babel `pattern` in `zone` and the page's language, followed by
    the zone's Indonesian abbreviation (WIB, WITA or WIT)."""
    text = format_datetime(moment, pattern, tzinfo=ZoneInfo(zone), locale=str(get_locale() or "id"))
    return f"{text} {ZONE_NAMES.get(zone, zone)}"
