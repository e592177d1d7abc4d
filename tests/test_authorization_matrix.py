"""The authorisation matrix: every route of the app, asked by every kind of caller, in every
scope, answers as its entry below says.

The routes are read from the app's URL map: every (rule, method) under `/api/v1` and every page
(not the API docs, vendor and static files or health checks). A route without an entry in `API`
or `PAGES` fails `test_every_route_has_an_entry`, so a new route is judged the day it lands; an
entry for a route that is gone fails `test_every_entry_is_a_route`.

The actors (tests/authz_world.py `USERS`), seeded demo users but one, chosen so that each
meets Sleman's objects in a different scope:

- anon: nobody (no token, no cookie): no scope;
- own: `sleman`, admin_instansi of Kabupaten Sleman (34.04): the objects' own instansi;
- other: `badung`, admin_instansi of Kabupaten Badung (51.03): another regency, same level;
- super: `diy`, supervisor of the DI Yogyakarta province (34), which supervises Sleman;
- national: `nasional`, admin_nasional: every instansi;
- designer: `designer.sleman`, process_designer of Sleman (no seeded user designs for one
  instansi; made as tests/test_designer_api.py makes it): own instansi, another role;
- other_designer (definition routes only): `designer.badung`, process_designer of Badung
  (made likewise): the designer of another instansi;
- own_key, other_key (API routes only): API keys with every permission of Sleman and of
  Badung: like Sleman's and Badung's admins on the routes keys may call (`KEY_ROUTES`), 403 on
  any other route that needs a login;
- for the pelapor's own routes (API and citizen pages): the report's secret (`secret`), another
  report's secret (`wrong_secret`), none (`no_secret`; left out where the body needs one).

Every object a route is asked about (report, confidential report, task, escalation, alert,
attachment, duplicate, webhook, outbox message, SLA policy, calendar day, office hours, API key,
staff user, unit, SOP definition, process instance, instansi) belongs to Sleman and is made
lazily, only for the routes that need it (`World`); since each actor meets it in its own scope,
every route is exercised on an object of the actor's own instansi, of another instansi at the
same level and of a supervised one.

An entry gives, per actor, the expected outcome: `OK` (authorisation passed: a 2xx or 3xx
answer that is not a redirect to /login, or 409/422, a change refused after authorising), 401,
403, 404, or `LOGIN` (a page sends the anonymous visitor to /login); any other answer (400, 500)
fails. Refused actors go first, allowed ones after (their calls change state; `renew` remakes an
object an allowed call used up). Bodies are valid, so that validation (422, checked before the
view) never hides the authorisation answer; changes to the shared registry are asked in a form
the service refuses after authorising (rename to the same name, merge into itself, split into a
taken code). Pages are asked with the session cookie of a bearer token (the cookie carries such
a token) and its CSRF token; citizens' forms with the login form's double-submit cookie.

Design choices the table encodes: another instansi's report, task, duplicate, attachment, alert,
user or API key is 404, exactly like a missing one; settings (calendar days, SLA policies,
office hours, webhooks) are registry data, refused with 403 (`sla.admin`); tasks are offered
to roles, so a national admin reads an instansi's task but cannot claim or complete it (they
intervene through supervision) and gets 404 there like anyone else; supervisors read the
attachments of (non-rahasia) reports their tree handles; definitions outside a designer's
scope are 404.

Adding a route: one line in `API` or `PAGES`, keyed by (rule, method) as the URL map spells it,
e.g. (outcomes for anon, own, other, super, national, designer)::

    ("/api/v1/tasks/<int:task_id>", "GET"): Entry(staff(401, OK, 404, 404, 404, 404)),

URL parameters are filled from the `World` attribute of the same name (or `args`); `send` gives
the body; `given` names objects to make first. A wrong answer that is a known bug stays
expected as it should be, listed in `bugs` (actor -> reason): that actor runs in its own test,
marked `xfail(strict=True)`, so the fix is noticed.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from contextlib import nullcontext
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import Engine, delete

from engine.db import make_session_factory
from engine.models import ExportJob
from engine.seed.loader import DEMO_PASSWORD
from tests.authz_world import (
    ANON,
    DISPOSE,
    EVERYONE,
    FORWARD,
    KOTA_YOGYAKARTA,
    LOGIN,
    OK,
    OPEN311_FILING,
    OTHER,
    OTHER_DESIGNER,
    OTHER_KEY,
    OWN,
    OWN_KEY,
    PUBLIC_PAGE,
    SLEMAN,
    SLEMAN_UNIT,
    USERS,
    Caller,
    Entry,
    Outcome,
    World,
    body,
    ensure_designers,
    fill,
    first_item,
    form,
    judged,
    new_user,
    pelapor,
    png,
    query,
    remove_made_users,
    secret_body,
    secret_form,
    secret_query,
    staff,
    xml,
)
from tests.conftest import build_app
from tests.helpers import REPORT, Api

SKIPPED = re.compile(r"^/(api/docs|api/openapi\.json|vendor|static|web/static|healthz|readyz)(/|$)")


# Staff who see one of the report's tasks (national admins: the intake), its supervisors (the
# province's), or its pelapor.
ATTACHMENT_READERS = {**staff(404, OK, 404, OK, OK, 404), **pelapor(OK, 404)}
SETTINGS = staff(401, OK, 403, 403, OK, 403)  # Sleman's own settings: its admin and national
NATIONAL_ONLY = staff(401, 403, 403, 403, OK, 403)
SSO_SETTINGS = staff(401, OK, 404, 404, OK, 403)  # Sleman's SSO: another instansi's is 404
ITS_TASK = staff(401, OK, 404, 404, 404, 404)  # offered to Sleman's admin_instansi
READS_TASK = staff(401, OK, 404, 404, OK, 404)  # and national admins read every task
SEES_REPORT = staff(401, OK, 404, 404, OK, 404)  # a visible task of it, or national
SUPERVISES = staff(401, 404, 404, OK, OK, 404)  # escalated to the province
DESIGNED_ELSEWHERE = {OTHER_DESIGNER: 404}  # Badung's designer: Sleman's SOP is not theirs
NEW_DAY = {"day": "2026-03-11", "kind": "holiday", "reason": "Erupsi Merapi"}
POLICY = {"milestone": "disposition", "duration": 2, "unit": "wd"}
SAME_NAME = {"name": "Kabupaten Sleman"}  # valid, refused after authorisation (422)
INTO_ITSELF = {"into": SLEMAN}  # 409
TAKEN_CODE = {"code": KOTA_YOGYAKARTA, "name": "Kabupaten Sleman Baru", "units": [SLEMAN_UNIT]}
REASON = "Laporan melewati tenggat disposisi."
MY_EXPORT = staff(401, OK, 404, 404, 404, 404)  # asked by Sleman's admin (409 until it is done)

API: dict[tuple[str, str], Entry] = {
    # -- service levels: calendar, policies, office hours, webhooks, outbox
    ("/api/v1/admin/calendar", "GET"): Entry(
        staff(401, OK, OK, 403, OK, 403), query({"year": 2026})
    ),
    ("/api/v1/admin/calendar", "POST"): Entry(SETTINGS, body({**NEW_DAY, "instansi_code": SLEMAN})),
    ("/api/v1/admin/calendar/<int:adjustment_id>", "DELETE"): Entry(
        SETTINGS, renew=("adjustment_id",)
    ),
    ("/api/v1/admin/sla-policies", "GET"): Entry(SETTINGS, query({"instansi": SLEMAN})),
    ("/api/v1/admin/sla-policies", "PUT"): Entry(SETTINGS, body({**POLICY, "instansi": SLEMAN})),
    ("/api/v1/admin/sla-policies/<int:policy_id>", "DELETE"): Entry(SETTINGS, renew=("policy_id",)),
    ("/api/v1/admin/office-hours/<instansi_code>", "GET"): Entry(SETTINGS),
    ("/api/v1/admin/office-hours/<instansi_code>", "PUT"): Entry(
        SETTINGS, body({"opens": "07:30", "closes": "15:30"})
    ),
    ("/api/v1/admin/office-hours/<instansi_code>", "DELETE"): Entry(SETTINGS),
    ("/api/v1/admin/webhooks", "GET"): Entry(SETTINGS, query({"instansi": SLEMAN})),
    ("/api/v1/admin/webhooks", "POST"): Entry(
        SETTINGS, body({"instansi": SLEMAN, "url": "https://hooks.example.org/sleman"})
    ),
    ("/api/v1/admin/webhooks/<int:webhook_id>", "DELETE"): Entry(SETTINGS),
    ("/api/v1/admin/webhooks/<int:webhook_id>/test", "POST"): Entry(SETTINGS),
    ("/api/v1/admin/webhooks/<int:webhook_id>/deliveries", "GET"): Entry(SETTINGS),
    ("/api/v1/changes", "GET"): Entry(staff(401, OK, OK, 403, OK, 403)),
    ("/api/v1/admin/outbox", "GET"): Entry(NATIONAL_ONLY),
    ("/api/v1/admin/outbox/<int:message_id>/resend", "POST"): Entry(NATIONAL_ONLY),
    # -- the instansi registry (national admins)
    ("/api/v1/admin/instansi/<code>", "GET"): Entry(NATIONAL_ONLY),
    ("/api/v1/admin/instansi/<code>", "PATCH"): Entry(NATIONAL_ONLY, body(SAME_NAME)),
    ("/api/v1/admin/instansi/<code>/merge", "POST"): Entry(NATIONAL_ONLY, body(INTO_ITSELF)),
    ("/api/v1/admin/instansi/<code>/split", "POST"): Entry(NATIONAL_ONLY, body(TAKEN_CODE)),
    # -- an instansi's SSO provider: its admins and national; its other staff 403, others 404
    # (the PUT names an issuer nobody answers on: refused with 422 after authorising)
    ("/api/v1/instansi/<code>/sso", "GET"): Entry(SSO_SETTINGS),
    ("/api/v1/instansi/<code>/sso", "PUT"): Entry(
        SSO_SETTINGS,
        body(
            {
                "issuer": "http://127.0.0.1:9",
                "client_id": "lapor",
                "client_secret": "rahasia",
                "email_domains": ["slemankab.go.id"],
            }
        ),
    ),
    ("/api/v1/instansi/<code>/sso", "DELETE"): Entry(SSO_SETTINGS),
    # -- staff, units and API keys
    ("/api/v1/admin/users", "GET"): Entry(SETTINGS, query({"instansi": SLEMAN})),
    ("/api/v1/admin/users", "POST"): Entry(SETTINGS, body(lambda _w: new_user())),
    ("/api/v1/admin/users/<int:user_id>/deactivate", "POST"): Entry(
        staff(401, OK, 404, 403, OK, 403), renew=("user_id",)
    ),
    ("/api/v1/admin/users/<int:user_id>/delegate", "POST"): Entry(
        staff(401, OK, 404, 403, OK, 403), body(lambda w: {"to_user_id": w.colleague_id})
    ),
    ("/api/v1/admin/units", "POST"): Entry(
        SETTINGS, body({"instansi": SLEMAN, "code": f"{SLEMAN}-AUTHZ", "name": "Unit Uji"})
    ),
    ("/api/v1/api-keys", "GET"): Entry(staff(401, OK, OK, 403, OK, 403)),
    ("/api/v1/api-keys", "POST"): Entry(
        SETTINGS,
        body({"instansi": SLEMAN, "name": "Aplikasi Kecamatan", "permissions": ["tasks:read"]}),
    ),
    ("/api/v1/api-keys/<int:key_id>", "DELETE"): Entry(staff(401, OK, 404, 403, OK, 403)),
    # -- report exports: staff who handle or supervise reports ask (the province may ask for
    # Sleman's, Badung may not: 403 naming `instansi`); a job is its requester's alone (404)
    ("/api/v1/exports", "POST"): Entry(
        staff(401, OK, 403, OK, OK, 403), body({"instansi": SLEMAN, "format": "csv"})
    ),
    ("/api/v1/exports/<int:export_id>", "GET"): Entry(
        MY_EXPORT, extra={OWN_KEY: 404, OTHER_KEY: 404}
    ),
    ("/api/v1/exports/<int:export_id>/file", "GET"): Entry(
        MY_EXPORT, extra={OWN_KEY: 404, OTHER_KEY: 404}
    ),
    # -- alerts: each user's own
    ("/api/v1/alerts", "GET"): Entry(staff(401, OK, OK, OK, OK, OK)),
    ("/api/v1/alerts/<int:alert_id>/read", "POST"): Entry(staff(401, 404, 404, OK, 404, 404)),
    # -- login and password reset (public)
    ("/api/v1/auth/login", "POST"): Entry(
        EVERYONE, body({"username": "sleman", "password": DEMO_PASSWORD})
    ),
    ("/api/v1/auth/password-reset", "POST"): Entry(EVERYONE, body({"login": "sleman"})),
    ("/api/v1/auth/password-reset/confirm", "POST"): Entry(
        EVERYONE, body({"token": "bukan-token-yang-dikirim", "password": "sandi-baru-2026!"})
    ),
    # -- operations: incidents (national admins), process definitions (designers)
    ("/api/v1/incidents", "GET"): Entry(NATIONAL_ONLY),
    ("/api/v1/incidents/<int:instance_id>/retry", "POST"): Entry(NATIONAL_ONLY),
    ("/api/v1/process-definitions", "GET"): Entry(
        staff(401, 403, 403, 403, OK, OK), extra={OTHER_DESIGNER: OK}
    ),
    ("/api/v1/process-definitions", "POST"): Entry(
        staff(401, 403, 403, 403, 403, OK), xml(3, instansi=SLEMAN), extra={OTHER_DESIGNER: 403}
    ),
    ("/api/v1/process-definitions/validate", "POST"): Entry(
        staff(401, 403, 403, 403, 403, OK), xml(4), extra={OTHER_DESIGNER: OK}
    ),
    ("/api/v1/process-definitions/<string:key>", "GET"): Entry(
        staff(401, 404, 404, 404, OK, OK), extra=DESIGNED_ELSEWHERE
    ),
    ("/api/v1/process-definitions/<string:key>/versions/<int:version>/xml", "GET"): Entry(
        staff(401, 404, 404, 404, OK, OK), extra=DESIGNED_ELSEWHERE
    ),
    ("/api/v1/process-definitions/<string:key>/versions/<int:version>/rollback", "POST"): Entry(
        staff(401, 404, 404, 404, 403, OK), extra=DESIGNED_ELSEWHERE
    ),
    ("/api/v1/process-definitions/<key>/migrations", "POST"): Entry(
        staff(401, 403, 403, 403, OK, OK),
        body({"from_version": 1, "to_version": 2, "dry_run": True}),
        extra=DESIGNED_ELSEWHERE,
    ),
    # -- public: registry, feed, deadlines, filing
    ("/api/v1/regions", "GET"): Entry(EVERYONE),
    ("/api/v1/instansi", "GET"): Entry(EVERYONE, query({"q": "sleman"})),
    ("/api/v1/sla/due", "GET"): Entry(
        EVERYONE,
        query({"from": "2026-02-02T09:00:00+07:00", "working_days": 3, "instansi": SLEMAN}),
    ),
    ("/api/v1/public/reports", "GET"): Entry(EVERYONE),
    ("/api/v1/public/reports/<string:tracking_id>", "GET"): Entry(EVERYONE, given=("task_id",)),
    ("/api/v1/reports", "POST"): Entry(EVERYONE, body(REPORT)),
    ("/api/v1/reports/resend-link", "POST"): Entry(
        EVERYONE, body({"email": "sentinel@example.org"})
    ),
    # -- the pelapor's own: the report's secret, another's, none
    ("/api/v1/reports/<string:tracking_id>", "GET"): Entry(
        pelapor(OK, 404, 404), secret_query(), args={"tracking_id": "rahasia_id"}, owner="rahasia"
    ),
    ("/api/v1/reports/<string:tracking_id>/replies", "POST"): Entry(
        pelapor(OK, 404), secret_body(kind="comment", text="Mohon segera ditangani.")
    ),
    ("/api/v1/reports/<string:tracking_id>/gesi/delete", "POST"): Entry(
        pelapor(OK, 404), secret_body()
    ),
    ("/api/v1/reports/<string:tracking_id>/personal-data", "GET"): Entry(
        pelapor(OK, 404), secret_query()
    ),
    ("/api/v1/reports/<string:tracking_id>/identity/delete", "POST"): Entry(
        pelapor(OK, 404), secret_body()
    ),
    ("/api/v1/reports/<string:tracking_id>/attachments", "POST"): Entry(
        pelapor(OK, 404),
        lambda _w, s: {
            "data": {"secret": s, "file": (io.BytesIO(png()), "foto.png")},
            "content_type": "multipart/form-data",
        },
    ),
    ("/api/v1/reports/<string:tracking_id>/attachments", "GET"): Entry(
        ATTACHMENT_READERS, secret_query(), given=("attachment_id", "task_id")
    ),
    ("/api/v1/attachments/<int:attachment_id>", "GET"): Entry(
        ATTACHMENT_READERS, secret_query(), given=("attachment_id", "task_id")
    ),
    # -- officers: tasks, bursts, duplicates, redactions
    ("/api/v1/tasks", "GET"): Entry(staff(401, OK, OK, OK, OK, OK)),
    ("/api/v1/tasks/<int:task_id>", "GET"): Entry(READS_TASK),
    ("/api/v1/tasks/<int:task_id>/claim", "POST"): Entry(ITS_TASK),
    ("/api/v1/tasks/<int:task_id>/complete", "POST"): Entry(ITS_TASK, body({"data": DISPOSE})),
    ("/api/v1/tasks/<int:task_id>/complete-group", "POST"): Entry(
        ITS_TASK, body({"data": DISPOSE})
    ),
    ("/api/v1/tasks/complete-many", "POST"): Entry(
        ITS_TASK, body(lambda w: {"task_ids": [w.task_id], "data": DISPOSE}), answer=first_item
    ),
    ("/api/v1/reports/<string:tracking_id>/duplicates", "GET"): Entry(
        SEES_REPORT, given=("task_id",)
    ),
    ("/api/v1/reports/<string:tracking_id>/duplicates", "POST"): Entry(
        SEES_REPORT, body(lambda w: {"duplicate": w.second}), given=("task_id",)
    ),
    ("/api/v1/reports/<string:tracking_id>/duplicates/<string:duplicate>", "DELETE"): Entry(
        SEES_REPORT, renew=("duplicate",)
    ),
    ("/api/v1/reports/<string:tracking_id>/redactions", "POST"): Entry(
        SEES_REPORT, body({"phrases": ["Kaliurang"]}), given=("task_id",)
    ),
    # -- supervision of an escalated report
    ("/api/v1/reports/<string:tracking_id>/supervision", "GET"): Entry(
        SUPERVISES, args={"tracking_id": "escalated"}
    ),
    ("/api/v1/reports/<string:tracking_id>/supervision/remind", "POST"): Entry(
        SUPERVISES,
        body({"message": "Mohon segera didisposisikan."}),
        args={"tracking_id": "escalated"},
    ),
    ("/api/v1/reports/<string:tracking_id>/supervision/deadline", "POST"): Entry(
        SUPERVISES, body({"reason": REASON, "working_days": 3}), args={"tracking_id": "escalated"}
    ),
    ("/api/v1/reports/<string:tracking_id>/supervision/reassign", "POST"): Entry(
        SUPERVISES,
        body({"reason": REASON, "instansi": KOTA_YOGYAKARTA}),
        args={"tracking_id": "escalated"},
    ),
    ("/api/v1/reports/<string:tracking_id>/supervision/take-over", "POST"): Entry(
        SUPERVISES, body({"reason": REASON}), args={"tracking_id": "escalated"}
    ),
}

# Pages: anonymous visitors go to /login; a role the page is not for gets its 403 page;
# another instansi's task, report or alert is the 404 page, like a missing one.
OFFICER_TASK = staff(LOGIN, OK, 404, 403, 404, 403)  # officer roles only; Sleman's task
PAGE_SETTINGS = staff(LOGIN, OK, 403, 403, OK, 403)
PAGE_NATIONAL = staff(LOGIN, 403, 403, 403, OK, 403)
PAGE_SUPERVISES = staff(LOGIN, 404, 404, OK, OK, 403)
ESCALATED = {"tracking_id": "escalated"}
PAGES: dict[tuple[str, str], Entry] = {
    # citizens and the public: no sign-in, the pelapor's secret in the link
    ("/", "GET"): PUBLIC_PAGE,
    ("/lapor", "GET"): PUBLIC_PAGE,
    ("/lapor", "POST"): PUBLIC_PAGE,
    ("/lapor/<tracking_id>", "GET"): Entry(
        pelapor(OK, 404, 404), secret_query(), args={"tracking_id": "rahasia_id"}, owner="rahasia"
    ),
    ("/lapor/<tracking_id>/terkirim", "GET"): Entry(pelapor(OK, 404, 404), secret_query()),
    ("/lapor/<tracking_id>/balas", "POST"): Entry(
        pelapor(OK, 404, 404), secret_form(kind="comment", text="Mohon segera ditangani.")
    ),
    ("/lapor/<tracking_id>/hapus-data-diri", "POST"): Entry(pelapor(OK, 404, 404), secret_form()),
    ("/lapor/<tracking_id>/hapus-identitas", "POST"): Entry(pelapor(OK, 404, 404), secret_form()),
    ("/lacak", "GET"): PUBLIC_PAGE,
    ("/lacak/kirim-ulang", "GET"): PUBLIC_PAGE,
    ("/lacak/kirim-ulang", "POST"): PUBLIC_PAGE,
    ("/publik", "GET"): PUBLIC_PAGE,
    ("/publik/<tracking_id>", "GET"): PUBLIC_PAGE,
    ("/login", "GET"): PUBLIC_PAGE,
    ("/login", "POST"): PUBLIC_PAGE,
    ("/logout", "POST"): PUBLIC_PAGE,
    ("/lupa-sandi", "GET"): PUBLIC_PAGE,
    ("/lupa-sandi", "POST"): PUBLIC_PAGE,
    ("/sandi-baru", "GET"): PUBLIC_PAGE,
    ("/sandi-baru", "POST"): PUBLIC_PAGE,
    ("/masuk/sso", "GET"): PUBLIC_PAGE,
    ("/masuk/sso/<code>", "GET"): PUBLIC_PAGE,
    ("/masuk/sso/callback", "GET"): PUBLIC_PAGE,
    # officers
    ("/tugas", "GET"): Entry(staff(LOGIN, OK, OK, 403, OK, 403)),
    ("/tugas/<int:task_id>", "GET"): Entry(OFFICER_TASK),
    ("/tugas/<int:task_id>", "POST"): Entry(OFFICER_TASK, form(DISPOSE)),
    ("/tugas/<int:task_id>/ambil", "POST"): Entry(OFFICER_TASK),
    ("/tugas/<int:task_id>/catatan", "POST"): Entry(
        OFFICER_TASK, form({"text": "Sudah dicek ke lokasi."})
    ),
    ("/tugas/<int:task_id>/duplikat", "POST"): Entry(
        OFFICER_TASK, form(lambda w: {"duplicate": w.second}), given=("task_id",)
    ),
    ("/tugas/<int:task_id>/duplikat/<tracking_id>/lepas", "POST"): Entry(
        OFFICER_TASK, args={"tracking_id": "duplicate"}, given=("task_id",), renew=("duplicate",)
    ),
    ("/tugas/<int:task_id>/samarkan", "POST"): Entry(OFFICER_TASK, form({"phrase": "Kaliurang"})),
    ("/verifikasi", "GET"): Entry(PAGE_NATIONAL),
    ("/verifikasi", "POST"): Entry(
        PAGE_NATIONAL,
        form(lambda w: {"task_ids": str(w.intake_task_id), "target_instansi": SLEMAN}),
    ),
    ("/verifikasi/<int:task_id>", "GET"): Entry(PAGE_NATIONAL, args={"task_id": "intake_task_id"}),
    ("/verifikasi/<int:task_id>", "POST"): Entry(
        PAGE_NATIONAL, form(FORWARD), args={"task_id": "intake_task_id"}
    ),
    # supervisors
    ("/peringatan", "GET"): Entry(staff(LOGIN, OK, OK, OK, OK, OK)),
    ("/peringatan/semua-dibaca", "POST"): Entry(staff(LOGIN, OK, OK, OK, OK, OK)),
    ("/peringatan/<int:alert_id>/dibaca", "POST"): Entry(staff(LOGIN, 404, 404, OK, 404, 404)),
    ("/peringatan/<int:alert_id>/buka", "POST"): Entry(staff(LOGIN, 404, 404, OK, 404, 404)),
    ("/pengawasan", "GET"): Entry(staff(LOGIN, OK, OK, OK, OK, 403)),
    ("/pengawasan/<tracking_id>", "GET"): Entry(staff(LOGIN, OK, 404, OK, OK, 403), args=ESCALATED),
    ("/pengawasan/<tracking_id>/ingatkan", "POST"): Entry(
        PAGE_SUPERVISES, form({"message": "Mohon segera."}), args=ESCALATED
    ),
    ("/pengawasan/<tracking_id>/tenggat", "POST"): Entry(
        PAGE_SUPERVISES, form({"reason": REASON, "working_days": "3"}), args=ESCALATED
    ),
    ("/pengawasan/<tracking_id>/alihkan", "POST"): Entry(
        PAGE_SUPERVISES,
        form({"reason": REASON, "target": f"instansi:{KOTA_YOGYAKARTA}"}),
        args=ESCALATED,
    ),
    ("/pengawasan/<tracking_id>/ambil-alih", "POST"): Entry(
        PAGE_SUPERVISES, form({"reason": REASON}), args=ESCALATED
    ),
    # administration: calendar, SLA policies, staff and units
    ("/admin/kalender", "GET"): Entry(staff(LOGIN, OK, OK, 403, OK, 403)),
    ("/admin/kalender", "POST"): Entry(PAGE_SETTINGS, form({**NEW_DAY, "instansi_code": SLEMAN})),
    ("/admin/kalender/<int:adjustment_id>/hapus", "POST"): Entry(
        PAGE_SETTINGS, renew=("adjustment_id",)
    ),
    ("/admin/sla", "GET"): Entry(PAGE_SETTINGS, query({"instansi": SLEMAN})),
    ("/admin/webhook", "GET"): Entry(staff(LOGIN, OK, OK, 403, OK, 403)),
    ("/admin/webhook", "POST"): Entry(
        PAGE_SETTINGS, form({"instansi": SLEMAN, "url": "http://127.0.0.1:9/hook"})
    ),
    ("/admin/webhook/<int:webhook_id>", "GET"): Entry(PAGE_SETTINGS),
    ("/admin/webhook/<int:webhook_id>/uji", "POST"): Entry(PAGE_SETTINGS),
    ("/admin/webhook/<int:webhook_id>/nonaktifkan", "POST"): Entry(
        PAGE_SETTINGS, renew=("webhook_id",)
    ),
    ("/admin/sla", "POST"): Entry(PAGE_SETTINGS, form({**POLICY, "instansi": SLEMAN})),
    ("/admin/sla/<int:policy_id>/hapus", "POST"): Entry(PAGE_SETTINGS, renew=("policy_id",)),
    ("/admin/pengguna", "GET"): Entry(PAGE_SETTINGS, query({"instansi": SLEMAN})),
    ("/admin/pengguna", "POST"): Entry(
        PAGE_SETTINGS,
        form(
            lambda _w: {
                **{k: new_user()[k] for k in ("username", "full_name", "password")},
                "role": "pejabat_penghubung",
                "unit": SLEMAN_UNIT,
                "instansi": SLEMAN,
            }
        ),
    ),
    ("/admin/pengguna/<int:user_id>/nonaktifkan", "POST"): Entry(
        staff(LOGIN, OK, 404, 403, OK, 403), renew=("user_id",)
    ),
    ("/admin/pengguna/<int:user_id>/delegasi", "POST"): Entry(
        staff(LOGIN, OK, 404, 403, OK, 403), form(lambda w: {"to_user_id": str(w.colleague_id)})
    ),
    ("/admin/unit", "POST"): Entry(
        PAGE_SETTINGS, form({"instansi": SLEMAN, "code": f"{SLEMAN}-AUTHZW", "name": "Unit Uji"})
    ),
    # the instansi registry (national admins)
    ("/admin/instansi", "GET"): Entry(PAGE_NATIONAL, query({"q": "sleman"})),
    ("/admin/instansi/<code>", "GET"): Entry(PAGE_NATIONAL),
    ("/admin/instansi/<code>/nama", "POST"): Entry(PAGE_NATIONAL, form(SAME_NAME)),
    ("/admin/instansi/<code>/gabung", "POST"): Entry(PAGE_NATIONAL, form(INTO_ITSELF)),
    ("/admin/instansi/<code>/pecah", "POST"): Entry(PAGE_NATIONAL, form(TAKEN_CODE)),
    # the BPMN designer
    ("/designer", "GET"): Entry(staff(LOGIN, 403, 403, 403, 403, OK)),
    # Prometheus: open unless LAPOR_METRICS_TOKEN is set (tests/test_metrics.py tests the token)
    ("/metrics", "GET"): Entry(EVERYONE),
}
# Open311 GeoReport v2 (api/open311): reading is public; filing takes only an API key
# (`api_key`, or the key headers) whose instansi may file to the jurisdiction (Sleman's may,
# Badung's may not); staff logins and cookies count for nothing there. Unknown paths: 404.
OPEN311_FORMAT = {"fmt": "open311_format"}
OPEN311_NOWHERE = Entry(staff(404, 404, 404, 404, 404, 404), args={"rest": "open311_unknown"})
OPEN311: dict[tuple[str, str], Entry] = {
    ("/open311/discovery.<fmt>", "GET"): Entry(EVERYONE, args=OPEN311_FORMAT),
    ("/open311/v2/services.<fmt>", "GET"): Entry(EVERYONE, args=OPEN311_FORMAT),
    ("/open311/v2/services/<name>", "GET"): Entry(EVERYONE, args={"name": "open311_service"}),
    ("/open311/v2/requests.<fmt>", "GET"): Entry(EVERYONE, args=OPEN311_FORMAT),
    ("/open311/v2/requests.<fmt>", "POST"): Entry(
        staff(403, 403, 403, 403, 403, 403),
        form(OPEN311_FILING),
        args=OPEN311_FORMAT,
        extra={OWN_KEY: OK, OTHER_KEY: 403},
    ),
    ("/open311/v2/requests/<name>", "GET"): Entry(EVERYONE, args={"name": "open311_request"}),
    ("/open311/v2/tokens/<name>", "GET"): Entry(EVERYONE, args={"name": "open311_token"}),
    ("/open311/<path:rest>", "GET"): OPEN311_NOWHERE,
    ("/open311/<path:rest>", "POST"): OPEN311_NOWHERE,
}
TABLE = {**API, **PAGES, **OPEN311}

# The routes an agency app's API key may call (with the permission for it); a key acts for its
# one instansi like its admin and officers. Every other route that needs a login refuses keys.
KEY_ROUTES = {
    ("/api/v1/tasks", "GET"),
    ("/api/v1/tasks/<int:task_id>", "GET"),
    ("/api/v1/tasks/<int:task_id>/claim", "POST"),
    ("/api/v1/tasks/<int:task_id>/complete", "POST"),
    ("/api/v1/tasks/<int:task_id>/complete-group", "POST"),
    ("/api/v1/tasks/complete-many", "POST"),
    ("/api/v1/reports/<string:tracking_id>/attachments", "GET"),
    ("/api/v1/attachments/<int:attachment_id>", "GET"),
    ("/api/v1/reports/<string:tracking_id>/duplicates", "GET"),
    ("/api/v1/reports/<string:tracking_id>/duplicates", "POST"),
    ("/api/v1/reports/<string:tracking_id>/duplicates/<string:duplicate>", "DELETE"),
    ("/api/v1/reports/<string:tracking_id>/redactions", "POST"),
    ("/api/v1/admin/webhooks", "GET"),
    ("/api/v1/admin/webhooks", "POST"),
    ("/api/v1/admin/webhooks/<int:webhook_id>", "DELETE"),
    ("/api/v1/admin/webhooks/<int:webhook_id>/test", "POST"),
    ("/api/v1/admin/webhooks/<int:webhook_id>/deliveries", "GET"),
    ("/api/v1/changes", "GET"),
    ("/api/v1/exports", "POST"),
    ("/api/v1/exports/<int:export_id>", "GET"),  # a key is not the job's requester: 404
    ("/api/v1/exports/<int:export_id>/file", "GET"),
}


def expected(rule: str, method: str) -> dict[str, Outcome]:
    """The entry's outcomes, and for an API route the API keys' of Sleman and of Badung: as
    Sleman's admin and Badung's on a key route, 403 on any other route that needs a login."""
    entry = TABLE[(rule, method)]
    found = {**entry.expect, **entry.extra}
    if not rule.startswith("/api/") or ANON not in found:
        return found
    if found[ANON] == OK:
        return {**found, OWN_KEY: OK, OTHER_KEY: OK}
    if (rule, method) in KEY_ROUTES:  # unless the entry says otherwise (`extra`)
        return {**found, OWN_KEY: found[OWN], OTHER_KEY: found[OTHER], **entry.extra}
    return {**found, OWN_KEY: 403, OTHER_KEY: 403}


def url_map_routes() -> list[tuple[str, str]]:
    """Every (rule, method) of the app under /api/v1 and every page, sorted."""
    from api import create_app
    from api.db import db

    app = create_app({"DATABASE_URL": "sqlite://", "TESTING": True, "CHECK_MIGRATIONS": False})
    try:
        return sorted(
            (rule.rule, method)
            for rule in app.url_map.iter_rules()
            if not SKIPPED.match(rule.rule) and rule.endpoint.rsplit(".", 1)[-1] != "static"
            for method in (rule.methods or set()) - {"HEAD", "OPTIONS"}
        )
    finally:
        db.engine(app).dispose()


ROUTES = url_map_routes()


def cases() -> Iterator[Any]:
    """One test per asked route; its known bugs, if any, in a second, strictly failing one."""
    for rule, method in ROUTES:
        entry = TABLE.get((rule, method))
        if entry is None or entry.public:
            continue
        name = f"{method} {rule}"
        fine = [actor for actor in expected(rule, method) if actor not in entry.bugs]
        yield pytest.param(rule, method, fine, id=name)
        if entry.bugs:
            reason = "; ".join(f"{actor}: {why}" for actor, why in entry.bugs.items())
            mark = pytest.mark.xfail(strict=True, raises=AssertionError, reason=reason)
            yield pytest.param(rule, method, list(entry.bugs), id=f"{name} [bug]", marks=mark)


def test_every_route_has_an_entry() -> None:
    missing = [
        f"    ({rule!r}, {method!r}): Entry(...),"
        for rule, method in ROUTES
        if (rule, method) not in TABLE
    ]
    assert not missing, (
        "routes with no entry in the authorisation matrix: add each to API or PAGES in "
        "tests/test_authorization_matrix.py with the outcome every actor should get (see the "
        "module docstring; PUBLIC_PAGE for a citizen page):\n" + "\n".join(missing)
    )


def test_every_entry_is_a_route() -> None:
    known = set(ROUTES)
    stale = [f"{method} {rule}" for rule, method in TABLE if (rule, method) not in known]
    assert not stale, f"entries for routes the app no longer has (remove them): {stale}"


# -- asking ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def client(database_url: str, db_engine: Engine) -> Iterator[FlaskClient]:
    """One app for the module; no cookie jar: each request carries its actor's own cookie."""
    from api.db import db

    factory = make_session_factory(db_engine)
    ensure_designers(factory)
    app = build_app(database_url)
    yield app.test_client(use_cookies=False)
    db.engine(app).dispose()
    with factory() as s, s.begin():  # export jobs (not in clean_slate's tables)
        s.execute(delete(ExportJob))
    remove_made_users(factory)


@pytest.fixture()
def world(client: FlaskClient, db_engine: Engine) -> World:
    return World(Api(lambda: nullcontext(client)), make_session_factory(db_engine))


@pytest.mark.parametrize(("rule", "method", "actors"), list(cases()))
def test_route(
    rule: str, method: str, actors: list[str], world: World, client: FlaskClient
) -> None:
    entry, outcomes = TABLE[(rule, method)], expected(rule, method)
    caller = Caller(client, world)
    page = not rule.startswith("/api/")
    for name in entry.given:
        getattr(world, name)
    wrong, allowed_before = [], False
    for actor in sorted(actors, key=lambda a: outcomes[a] == OK):  # refused ones first
        want = outcomes[actor]
        if want == OK and allowed_before:
            for name in entry.renew:
                world.renew(name)
        url = fill(rule, entry, world)
        response = caller.send(actor, method, url, entry.send, page=page, owner=entry.owner)
        got = judged(entry, response)
        allowed_before = allowed_before or got == OK
        if got != want:
            text = response.get_data(as_text=True)[:300].replace("\n", " ")
            wrong.append(
                f"{actor} ({USERS.get(actor, actor)}): expected {want}, got {got} "
                f"({response.status_code} {response.location or ''} {text})"
            )
    assert not wrong, f"{method} {rule}:\n" + "\n".join(wrong)
