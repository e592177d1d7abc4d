"""The web pages: citizens (file, track, reply), officers (inbox, tasks, verification),
supervisors (alerts, overdue tree, interventions), administration (calendar, SLA policies),
the BPMN designer, and staff login/logout with a server-side session cookie.

Pages are written in Bahasa Indonesia; English comes from the catalogue in `translations/`
(`?lang=en`, remembered in a cookie). Front-end libraries are served from node_modules
through `/vendor/<path>`; only our own small scripts and styles live in `static/`.
"""

from __future__ import annotations

from typing import Any

from flask import Flask


def init_app(app: Flask, settings: Any) -> None:
    """Attach the translation layer and the page blueprints to `app`."""
    from api.web import (
        admin,
        auth_pages,
        citizen,
        designer,
        i18n,
        officer,
        pages,
        public,
        registry_pages,
        sso_pages,
        staff_pages,
        supervisor,
        webhook_pages,
    )

    app.config["SESSION_COOKIE_SECURE"] = settings.SESSION_COOKIE_SECURE
    i18n.init_app(app)
    for area in (
        auth_pages,
        citizen,
        public,
        officer,
        supervisor,
        admin,
        staff_pages,
        registry_pages,
        designer,
        sso_pages,
        webhook_pages,
    ):
        app.register_blueprint(area.blp)
    app.context_processor(lambda: {"nav_links": pages.nav_links})
