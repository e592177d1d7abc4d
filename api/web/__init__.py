"""Staff web pages: login/logout with a server-side session cookie and the BPMN designer.

Pages are written in Bahasa Indonesia; English comes from the catalogue in `translations/`
(`?lang=en`, remembered in a cookie). Front-end libraries are served from node_modules
through `/vendor/<path>`; only our own small scripts and styles live in `static/`.
"""

from __future__ import annotations

from typing import Any

from flask import Flask


def init_app(app: Flask, settings: Any) -> None:
    """Attach the translation layer and the page blueprints to `app`."""
    from api.web import auth_pages, designer, i18n, pages

    app.config["SESSION_COOKIE_SECURE"] = bool(
        getattr(settings, "SESSION_COOKIE_SECURE", settings.extra.get("SESSION_COOKIE_SECURE"))
    )
    i18n.init_app(app)
    app.register_blueprint(auth_pages.blp)
    app.register_blueprint(designer.blp)
    app.context_processor(lambda: {"nav_links": pages.nav_links})
