"""The objects and the callers of the authorisation matrix (tests/test_authorization_matrix.py).

`World` makes, on first use and through the app's own API, the objects a route is asked about:
a report, its tasks, an escalation with its alert, an attachment, a webhook, an SLA policy, a
calendar day, an API key, a staff user, an instansi SOP... Every one of them belongs to
Kabupaten Sleman (34.04), so each actor meets it in a different scope (see `USERS`). Time is
pinned to early February 2026 (no holidays): filed on Monday 09:00 WIB, forwarded on Tuesday,
escalated to the DI Yogyakarta province when Sleman's disposition is late on Friday.

`Caller` sends one request as one actor: a bearer token or an API key (API), the session cookie
with its CSRF token (pages), a pelapor's secret, or nothing at all. `Entry` and the small
builders after it are the vocabulary of the matrix's table.
"""

from __future__ import annotations

import io
import itertools
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from pathlib import Path
from typing import Any

from flask.testing import FlaskClient
from PIL import Image
from sqlalchemy import delete, select

from api.web import session as web_session
from engine import clock
from engine.models import ExportJob, ProcessInstance, Report, User
from engine.seed.loader import DEMO_PASSWORD
from sla.models import Alert
from sla.sweep import sweep
from tests.helpers import Api, deploy_sop, ensure_user

ROOT = Path(__file__).resolve().parent.parent
SLEMAN, SLEMAN_UNIT, KOTA_YOGYAKARTA = "34.04", "34.04-DINKES", "34.71"
FILED_AT = "2026-02-02T09:00:00+07:00"  # Monday
FORWARDED_AT = "2026-02-03T10:00:00+07:00"  # Sleman's disposition is due Thursday
LATE_AT = "2026-02-06T00:00:01+07:00"  # ...so the sweep escalates it to the province (34)
FORWARD = {"outcome": "forward", "target_instansi": SLEMAN}
OPEN311_FILING = {  # a valid Open311 POST to Sleman (the api_key is added by the caller)
    "service_code": "pengaduan-infrastruktur",
    "jurisdiction_id": SLEMAN,
    "lat": "-7.7156",
    "long": "110.3856",
    "description": "Jalan berlubang besar di depan pasar Ngaglik sejak Januari.",
}
DISPOSE = {"outcome": "disposisi", "target_unit": "34.04-DPUPKP"}

# A staff actor is a user; a pelapor actor holds a secret (or none). Objects are Sleman's.
ANON, OWN, OTHER, SUPER, NATIONAL = "anon", "own", "other", "super", "national"
DESIGNER, OTHER_DESIGNER = "designer", "other_designer"
SECRET, WRONG_SECRET, NO_SECRET = "secret", "wrong_secret", "no_secret"
OWN_KEY, OTHER_KEY = "own_key", "other_key"  # API keys (every permission) of Sleman, Badung
KEY_INSTANSI = {OWN_KEY: SLEMAN, OTHER_KEY: "51.03"}
PERMISSIONS = ["reports:read", "reports:write", "tasks:read", "tasks:write", "webhooks:manage"]
USERS = {
    OWN: "sleman",  # admin_instansi of Kabupaten Sleman (34.04): the objects' own instansi
    OTHER: "badung",  # admin_instansi of Kabupaten Badung (51.03): a regency like Sleman
    SUPER: "diy",  # supervisor of the DI Yogyakarta province (34), which supervises Sleman
    NATIONAL: "nasional",  # admin_nasional: every instansi
    DESIGNER: "designer.sleman",  # process_designer of Sleman (made here, as test_designer_api)
    OTHER_DESIGNER: "designer.badung",  # process_designer of Badung (idem), for definitions
}
STAFF_ACTORS = (ANON, OWN, OTHER, SUPER, NATIONAL, DESIGNER)
PELAPOR_ACTORS = (SECRET, WRONG_SECRET, NO_SECRET)
CITIZEN_CSRF = "authz-citizen-form-csrf-token-0123456789"  # any value of 32+ characters
MADE_USERS = "authz.%"  # staff users the matrix creates; removed after the module
_serial = itertools.count(1)


def at(moment: str) -> None:
    clock.set_clock(datetime.fromisoformat(moment))


def png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (16, 16), (200, 30, 30)).save(out, "PNG")
    return out.getvalue()


def sop_xml(variant: int) -> bytes:
    """The national default SOP, as a Sleman variant (a comment makes each one a new version)."""
    xml = (ROOT / "bpmn/national/sop-default.bpmn").read_bytes()
    return xml + f"\n<!-- Sleman variant {variant} -->\n".encode()


def ensure_designers(factory: Any) -> None:
    ensure_user(factory, USERS[DESIGNER], [("process_designer", SLEMAN, None)])
    ensure_user(factory, USERS[OTHER_DESIGNER], [("process_designer", "51.03", None)])


def remove_made_users(factory: Any) -> None:
    """Delete the staff users the matrix created (after clean_slate removed their traces)."""
    with factory() as s, s.begin():
        for user in s.scalars(select(User).where(User.username.like(MADE_USERS))):
            s.delete(user)


class World:
    """Sleman's objects, each made through the API the first time a route needs it."""

    def __init__(self, api: Api, factory: Any) -> None:
        self.api = api
        self.factory = factory
        self.keys: dict[str, str] = {}
        at(FILED_AT)

    def token(self, username: str) -> str:
        return self.api.login(username)

    def ok(self, method: str, url: str, expect: int, **kwargs: Any) -> dict[str, Any]:
        """A call as the national admin that must answer `expect`; its JSON body."""
        response = self.api.call(method, url, token=self.token("nasional"), **kwargs)
        assert response.status_code == expect, (url, response.get_data(as_text=True))
        body: dict[str, Any] = response.get_json()
        return body

    def api_key(self, actor: str) -> str:
        """An API key of the actor's instansi with every permission (made once per test)."""
        if actor not in self.keys:
            body = {"instansi": KEY_INSTANSI[actor], "name": actor, "permissions": PERMISSIONS}
            self.keys[actor] = str(self.ok("POST", "/api/v1/api-keys", 201, json=body)["key"])
        return self.keys[actor]

    def renew(self, name: str) -> None:
        """Forget a made object, so that the next use makes another (after a delete)."""
        self.__dict__.pop(name, None)

    # -- reports and their work ----------------------------------------------------------

    @cached_property
    def report(self) -> dict[str, Any]:
        """A public, non-anonymous report to Sleman, waiting for the national intake."""
        return self.api.file()

    @property
    def tracking_id(self) -> str:
        return str(self.report["tracking_id"])

    @property
    def secret(self) -> str:
        return str(self.report["secret"])

    @cached_property
    def other_secret(self) -> str:
        """The secret of another report (of another pelapor)."""
        return str(self.api.file(title="Lampu jalan mati di Jalan Magelang km 8")["secret"])

    @cached_property
    def rahasia(self) -> dict[str, Any]:
        """A confidential report: only its pelapor (with the secret) may read it."""
        return self.api.file(rahasia=True, title="Pungutan liar di kantor kecamatan")

    @property
    def rahasia_id(self) -> str:
        return str(self.rahasia["tracking_id"])

    @cached_property
    def intake_task_id(self) -> int:
        return int(self.api.task_for("nasional", self.tracking_id)["id"])

    @cached_property
    def task_id(self) -> int:
        """`report` forwarded to Sleman: the disposition task in its admin's inbox."""
        at(FORWARDED_AT)
        self.api.complete("nasional", self.tracking_id, FORWARD)
        return int(self.api.task_for("sleman", self.tracking_id)["id"])

    @cached_property
    def second(self) -> str:
        """Another report forwarded to Sleman (a duplicate to link)."""
        assert self.task_id
        tracking = str(self.api.file(title="Jalan Kaliurang km 10 berlubang lagi")["tracking_id"])
        self.api.complete("nasional", tracking, FORWARD)
        return tracking

    @cached_property
    def duplicate(self) -> str:
        """`second`, linked as a duplicate of `report` (made again after an unlink)."""
        url = f"/api/v1/reports/{self.tracking_id}/duplicates"
        self.ok("POST", url, 201, json={"duplicate": self.second})
        return self.second

    @cached_property
    def escalated(self) -> str:
        """`report` with Sleman's disposition late: escalated to the province (34)."""
        assert self.task_id
        at(LATE_AT)
        sweep(self.factory, scheduler="authz")
        return self.tracking_id

    @cached_property
    def alert_id(self) -> int:
        """The DI Yogyakarta supervisor's alert about the escalation."""
        assert self.escalated
        with self.factory() as s:
            found = s.scalar(
                select(Alert.id)
                .join(User, User.id == Alert.user_id)
                .where(User.username == USERS[SUPER])
                .order_by(Alert.id)
                .limit(1)
            )
        assert found is not None, "the escalation alerted no supervisor"
        return int(found)

    @cached_property
    def attachment_id(self) -> int:
        """A photo the pelapor attached to `report` right after filing."""
        with self.api.fresh() as client:
            response = client.post(
                f"/api/v1/reports/{self.tracking_id}/attachments",
                data={"secret": self.secret, "file": (io.BytesIO(png()), "foto.png")},
                content_type="multipart/form-data",
            )
        assert response.status_code == 201, response.get_json()
        return int(response.get_json()["id"])

    @cached_property
    def instance_id(self) -> int:
        """The report's running process instance (not in incident)."""
        with self.factory() as s:
            found = s.scalar(
                select(ProcessInstance.id)
                .join(Report, Report.id == ProcessInstance.report_id)
                .where(Report.tracking_id == self.tracking_id)
                .order_by(ProcessInstance.id)
                .limit(1)
            )
        assert found is not None
        return int(found)

    # -- Sleman's settings ----------------------------------------------------------------

    @cached_property
    def webhook_id(self) -> int:
        body = {"instansi": SLEMAN, "url": "https://hooks.example.org/lapor"}
        return int(self.ok("POST", "/api/v1/admin/webhooks", 201, json=body)["id"])

    @cached_property
    def message_id(self) -> int:
        """An outbox message: the test event of Sleman's webhook."""
        return int(self.ok("POST", f"/api/v1/admin/webhooks/{self.webhook_id}/test", 202)["id"])

    @cached_property
    def policy_id(self) -> int:
        body = {"instansi": SLEMAN, "milestone": "disposition", "duration": 2, "unit": "wd"}
        return int(self.ok("PUT", "/api/v1/admin/sla-policies", 200, json=body)["policy"]["id"])

    @cached_property
    def adjustment_id(self) -> int:
        body = {
            "day": "2026-03-10",
            "kind": "holiday",
            "reason": "Banjir lahar dingin",
            "instansi_code": SLEMAN,
        }
        return int(self.ok("POST", "/api/v1/admin/calendar", 201, json=body)["adjustment"]["id"])

    @cached_property
    def key_id(self) -> int:
        body = {"instansi": SLEMAN, "name": "Aplikasi Sleman", "permissions": ["reports:read"]}
        return int(self.ok("POST", "/api/v1/api-keys", 201, json=body)["id"])

    @cached_property
    def user_id(self) -> int:
        """A staff user of a Sleman unit (removed after the module)."""
        return int(self.ok("POST", "/api/v1/admin/users", 201, json=new_user())["id"])

    @cached_property
    def colleague_id(self) -> int:
        """Another active Sleman officer, to delegate to."""
        with self.factory() as s:
            return int(s.scalar(select(User.id).where(User.username == "sleman.pu")) or 0)

    @cached_property
    def key(self) -> str:
        """Sleman's SOP (`sop-34.04`) in two versions."""
        for variant in (1, 2):
            deploy_sop(self.factory, SLEMAN, sop_xml(variant))
        return f"sop-{SLEMAN}"

    @property
    def version(self) -> int:
        assert self.key
        return 1

    @property
    def code(self) -> str:
        return SLEMAN

    @property
    def instansi_code(self) -> str:
        return SLEMAN

    @cached_property
    def export_id(self) -> int:
        """A CSV export of Sleman's reports asked by Sleman's admin (queued: only they see it);
        the module's earlier export jobs go first (at most three may wait per requester)."""
        with self.factory() as s, s.begin():
            s.execute(delete(ExportJob))
        response = self.api.call(
            "POST", "/api/v1/exports", token=self.token("sleman"), json={"instansi": SLEMAN}
        )
        assert response.status_code == 202, response.get_data(as_text=True)
        return int(response.get_json()["id"])

    # -- Open311 (api/open311): resources named with their format ---------------------------

    open311_format = "xml"
    open311_service = "pengaduan-infrastruktur.xml"
    open311_unknown = "v2/nothing.xml"

    @property
    def open311_request(self) -> str:
        return f"{self.tracking_id}.xml"

    @cached_property
    def open311_token(self) -> str:
        """The token Sleman's app was given for a report it filed over Open311."""
        with self.api.fresh() as client:
            response = client.post(
                "/open311/v2/requests.json",
                data={**OPEN311_FILING, "api_key": self.api_key(OWN_KEY)},
            )
        assert response.status_code == 200, response.get_data(as_text=True)
        return f"{response.get_json()[0]['token']}.xml"


def new_user() -> dict[str, Any]:
    """A valid new Sleman officer (a fresh username each time)."""
    return {
        "username": f"authz.petugas{next(_serial)}",
        "full_name": "Petugas Dinkes Sleman",
        "password": DEMO_PASSWORD,
        "roles": [
            {"role": "pejabat_penghubung", "instansi_code": SLEMAN, "unit_code": SLEMAN_UNIT}
        ],
    }


Send = Callable[[World, str | None], Mapping[str, Any]]


class Caller:
    """Sends one request as one actor (see `USERS`, `PELAPOR_ACTORS`)."""

    def __init__(self, client: FlaskClient, world: World) -> None:
        self.client = client
        self.world = world

    def secret_of(self, actor: str, owner: str) -> str | None:
        if actor == SECRET:
            return str(getattr(self.world, owner)["secret"])
        if actor == WRONG_SECRET:
            return self.world.other_secret
        return None

    def send(
        self, actor: str, method: str, url: str, send: Send | None, *, page: bool, owner: str
    ) -> Any:
        kwargs = dict(send(self.world, self.secret_of(actor, owner)) if send else {})
        headers: dict[str, str] = {}
        username = USERS.get(actor)
        if username is not None:
            token = self.world.token(username)
            if page:
                headers["Cookie"] = f"{web_session.COOKIE}={token}"
                if method != "GET":
                    form = dict(kwargs.get("data") or {})
                    form[web_session.CSRF_FIELD] = web_session.csrf_for(token)
                    kwargs["data"] = form
            else:
                headers["Authorization"] = f"Bearer {token}"
        elif actor in KEY_INSTANSI:
            headers["Authorization"] = f"Bearer {self.world.api_key(actor)}"
        elif page and method != "GET":  # a citizen's form: the double-submit CSRF cookie
            headers["Cookie"] = f"{web_session.LOGIN_CSRF_COOKIE}={CITIZEN_CSRF}"
            kwargs["data"] = {**(kwargs.get("data") or {}), web_session.CSRF_FIELD: CITIZEN_CSRF}
        return self.client.open(url, method=method, headers=headers, **kwargs)


# -- the matrix's entries -------------------------------------------------------------------

OK, LOGIN = "ok", "login"
Outcome = int | str


@dataclass(frozen=True)
class Entry:
    """How one (rule, method) answers each actor; `public`: a citizen page, not asked."""

    expect: Mapping[str, Outcome] = field(default_factory=dict)
    send: Send | None = None
    args: Mapping[str, str] = field(default_factory=dict)  # URL parameter -> World attribute
    given: tuple[str, ...] = ()  # World objects to make first, in this order
    renew: tuple[str, ...] = ()  # World objects to make again after an allowed call
    bugs: Mapping[str, str] = field(default_factory=dict)  # actor -> why it is a known bug
    answer: Callable[[Any], int] | None = None  # the status to judge (default: the HTTP one)
    owner: str = "report"  # the World report whose secret is the pelapor's own
    extra: Mapping[str, Outcome] = field(default_factory=dict)  # outcomes of more actors
    public: bool = False


PUBLIC_PAGE = Entry(public=True)


def staff(
    anon: Outcome, own: Outcome, other: Outcome, sup: Outcome, nat: Outcome, des: Outcome
) -> dict[str, Outcome]:
    """Expected outcomes, in the order anon, own, other, super, national, designer."""
    return dict(
        zip(
            (ANON, OWN, OTHER, SUPER, NATIONAL, DESIGNER),
            (anon, own, other, sup, nat, des),
            strict=True,
        )
    )


def pelapor(secret: Outcome, wrong: Outcome, none: Outcome | None = None) -> dict[str, Outcome]:
    """The pelapor's own secret, another report's, none (omitted where the body needs one)."""
    found = {SECRET: secret, WRONG_SECRET: wrong}
    return found if none is None else {**found, NO_SECRET: none}


EVERYONE = staff(OK, OK, OK, OK, OK, OK)


def body(value: Mapping[str, Any] | Callable[[World], Mapping[str, Any]]) -> Send:
    """A JSON body (a mapping, or made from the world)."""
    return lambda w, _s: {"json": value(w) if callable(value) else value}


def query(value: Mapping[str, Any]) -> Send:
    return lambda _w, _s: {"query_string": value}


def form(value: Mapping[str, Any] | Callable[[World], Mapping[str, Any]]) -> Send:
    return lambda w, _s: {"data": dict(value(w) if callable(value) else value)}


def secret_body(**extra: Any) -> Send:
    return lambda _w, s: {"json": {"secret": s, **extra}}


def secret_form(**extra: Any) -> Send:
    return lambda _w, s: {"data": {**({"secret": s} if s else {}), **extra}}


def secret_query() -> Send:
    return lambda _w, s: {"query_string": {"secret": s} if s else {}}


def xml(variant: int, **params: str) -> Send:
    return lambda _w, _s: {
        "data": sop_xml(variant),
        "content_type": "application/xml",
        "query_string": params,
    }


def first_item(response: Any) -> int:
    """A batch answers 200 with a status per item: judge the (only) item's."""
    if response.status_code != 200:
        return int(response.status_code)
    return int(response.get_json()["results"][0]["status"])


def fill(rule: str, entry: Entry, world: World) -> str:
    """The rule with each parameter taken from the world (`args`, else the same name)."""

    def value(match: re.Match[str]) -> str:
        name = match.group(1)
        return str(getattr(world, entry.args.get(name, name)))

    return re.sub(r"<(?:[a-z]+:)?([a-z_]+)>", value, rule)


def judged(entry: Entry, response: Any) -> Outcome:
    """The outcome class of an answer: LOGIN, OK (authorised), or the refusing status."""
    status = entry.answer(response) if entry.answer else int(response.status_code)
    if status in (301, 302, 303, 307):
        return LOGIN if response.location.split("?")[0].endswith("/login") else OK
    return OK if status < 400 or status in (409, 422) else status
