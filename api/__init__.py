"""The HTTP face of LAPOR Flow: the Flask app factory, REST blueprints, schemas and the CLI.

`create_app` starts nothing at import time: no threads, no scheduler, no database engine.
"""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

from flask import Flask, send_from_directory
from flask_smorest import Api
from werkzeug.middleware.proxy_fix import ProxyFix

import sla
from api import errors, headers, limits, logs, metrics, web
from api.config import Settings
from api.db import db
from engine import personal_data, schema
from engine.services import auth


class LaporApi(Api):
    """flask-smorest with our problem+json error schema documented on every operation."""

    ERROR_SCHEMA = errors.ProblemSchema

    def handle_http_exception(self, error):  # type: ignore[no-untyped-def]
        return errors.handle_http_exception(error)

    def _register_responses(self) -> None:
        """The error responses every operation refers to (one per HTTP status, and `default`),
        documented with the content type `errors.problem` sends: application/problem+json."""
        problem = {errors.PROBLEM_JSON: {"schema": self.ERROR_SCHEMA}}
        for status in HTTPStatus:
            response: dict[str, Any] = {"description": status.phrase}
            if status >= 400:
                response["content"] = problem
            self.spec.components.response(status.name, response, lazy=True)
        default = {"description": "Default error response", "content": problem}
        self.spec.components.response("DEFAULT_ERROR", default, lazy=True)


def create_app(config: dict[str, Any] | None = None) -> Flask:
    settings = Settings.from_env(config)
    app = Flask(__name__)
    app.config.update(
        SECRET_KEY=settings.SECRET_KEY,
        TESTING=settings.TESTING,
        MAX_CONTENT_LENGTH=settings.MAX_CONTENT_LENGTH,
        LAPOR=settings,
        API_TITLE="LAPOR Flow API",
        API_VERSION="v1",
        OPENAPI_VERSION="3.0.3",
        OPENAPI_URL_PREFIX="/api",
        OPENAPI_JSON_PATH="openapi.json",
        OPENAPI_SWAGGER_UI_PATH="docs",
        OPENAPI_SWAGGER_UI_URL="/vendor/swagger-ui-dist/",
        JSON_SORT_KEYS=False,
    )
    auth.configure_hasher(
        time_cost=settings.ARGON2_TIME_COST, memory_cost=settings.ARGON2_MEMORY_COST
    )
    personal_data.configure(settings.PERSONAL_DATA_KEY)
    sla.install()
    db.init_app(app, settings.DATABASE_URL)
    if settings.CHECK_MIGRATIONS:
        try:
            schema.require_current(db.engine(app))
        except BaseException:
            db.engine(app).dispose()
            raise
    if settings.TEST_CLOCK:
        from sla import shared_clock

        shared_clock.enable(db.factory(app))

    api = LaporApi(
        app,
        spec_kwargs={
            "components": {"securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}}}
        },
    )
    from api.rest import (
        alerts,
        api_keys,
        attachments,
        bursts,
        changes,
        definitions,
        exports,
        health,
        operations,
        pelapor,
        public_feed,
        registry,
        registry_admin,
        reports,
        sla_admin,
        sso,
        staff_admin,
        supervision,
        tasks,
    )
    from api.rest import auth as auth_bp
    from api.rest import sla as sla_bp

    for blueprint in (
        reports.blp,
        attachments.blp,
        pelapor.blp,
        auth_bp.blp,
        tasks.blp,
        alerts.blp,
        sla_bp.blp,
        supervision.blp,
        sla_admin.blp,
        changes.blp,
        definitions.blp,
        operations.blp,
        registry.blp,
        bursts.blp,
        staff_admin.blp,
        public_feed.blp,
        registry_admin.blp,
        api_keys.blp,
        exports.blp,
        sso.blp,
    ):
        api.register_blueprint(blueprint)
    if settings.TEST_CLOCK:
        from api.rest import testing

        api.register_blueprint(testing.blp)
    app.register_blueprint(health.blp)
    metrics.init_app(app)
    from api.open311.blueprint import blp as open311_blp

    app.register_blueprint(open311_blp)
    errors.register(app)
    web.init_app(app, settings)
    headers.init_app(app)
    if settings.PROXY_HOPS:  # client address and https as the proxy saw them
        hops = settings.PROXY_HOPS
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)  # type: ignore[method-assign]
    limits.init_app(app, settings)

    node_modules = settings.NODE_MODULES

    @app.get("/vendor/<path:filename>")
    def vendor(filename: str):  # type: ignore[no-untyped-def]
        """Front-end packages installed from the npm registry by package.json."""
        return send_from_directory(node_modules, filename)

    logs.init_app(app)  # outermost: the request id covers every other middleware
    return app
