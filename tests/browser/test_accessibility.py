"""Every page of the app passes axe-core, in both languages, at phone and desktop width; and the
login form works with the keyboard alone, with the focus always visible.

The pages are the GET rules of the app's URL map (not the API, vendor files, static files or
health checks): a page nobody has listed in `PAGES` below fails, so a new page is checked from
the day it lands. For each page, in Bahasa Indonesia and in English (`?lang=en`), at 360 px and
1280 px wide, axe-core (npm `axe-core`, from node_modules) must report no `serious` or
`critical` violation, and a full-page screenshot is written to `tests-output/screenshots/`.

axe is added with `add_init_script`, which the browser runs outside the page's CSP: the pages
keep their real Content-Security-Policy, so an inline script that production would refuse
fails here too (as a console error).

Adding a page: one line in `PAGES`, keyed by its endpoint (`blueprint.function`), with one
`View` per way of looking at it: the demo user signed in (None: nobody), the values of its URL
parameters and extra query arguments, each named after a `Samples` property, and the samples
to make first so that its lists are not empty (`given`). A parameter that needs a new kind of
value gets a new `Samples` property (made through the API, lazily, so that only the pages that
use it pay for it). E.g.::

    "citizen.history": (View(args={"tracking_id": "tracking_id"}, query={"secret": "secret"}),),
    "officer.unit_inbox": (View("sleman.pu", given=("instansi_task_id",)),),
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from contextlib import nullcontext
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from functools import cached_property
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

import pytest
from flask import url_for
from playwright.sync_api import expect

from engine import clock
from engine.seed.loader import DEMO_PASSWORD
from tests.browser.conftest import TIMEOUT_MS, LiveServer
from tests.helpers import Api

ROOT = Path(__file__).resolve().parents[2]
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
SCREENSHOTS = ROOT / "tests-output" / "screenshots"
LANGS = ("id", "en")
WIDTHS = (360, 1280)
HEIGHT = 800
BLOCKING = {"serious", "critical"}
NOT_PAGES = re.compile(r"^/(api|vendor|static|healthz|readyz|metrics|open311)(/|$)")
FORWARD = {"outcome": "forward", "target_instansi": "34.04"}


def next_monday_morning() -> datetime:
    """09:00 in Yogyakarta (02:00 UTC) next Monday: the same working-day position every run, and
    later than the real time, so that the browser keeps the session cookies it is given."""
    today = clock.wall().date()
    return datetime.combine(today + timedelta(days=7 - today.weekday()), time(2), tzinfo=UTC)


class Samples:
    """Values for URL parameters, made on first use through the API of the app under test
    (the test's data is removed afterwards, like any test's)."""

    def __init__(self, api: Api, start: datetime) -> None:
        self.api = api
        self.start = start

    @cached_property
    def report(self) -> dict[str, Any]:
        """A report filed by a citizen (public, not anonymous, with GESI answers, which its
        pelapor's status page shows with the form to delete them), waiting for intake."""
        return self.api.file(gender="perempuan", vulnerable_group="lansia", gesi_consent=True)

    @property
    def tracking_id(self) -> str:
        return str(self.report["tracking_id"])

    @property
    def secret(self) -> str:
        return str(self.report["secret"])

    @cached_property
    def intake_task_id(self) -> str:
        """The open intake task of `report`, in the national admin's (`nasional`) inbox."""
        return str(self.api.task_for("nasional", self.tracking_id)["id"])

    @cached_property
    def instansi_task_id(self) -> str:
        """`report` forwarded to Sleman: the open task in Sleman's admin's (`sleman`) inbox."""
        self.api.complete("nasional", self.tracking_id, FORWARD)
        return str(self.api.task_for("sleman", self.tracking_id)["id"])

    @cached_property
    def overdue_tracking_id(self) -> str:
        """`report`, forwarded to Sleman, whose open task is long overdue: the clock moves on
        60 days (sign in after making it: sessions from before have expired)."""
        assert self.instansi_task_id
        clock.set_clock(self.start + timedelta(days=60))
        return self.tracking_id

    @cached_property
    def webhook_id(self) -> str:
        """A webhook of Sleman with one queued test event in its delivery log."""
        token = self.api.login("sleman")
        hook = {"instansi": "34.04", "url": "http://127.0.0.1:9/sleman"}
        made = self.api.call("POST", "/api/v1/admin/webhooks", token=token, json=hook)
        webhook_id = str(made.get_json()["id"])
        self.api.call("POST", f"/api/v1/admin/webhooks/{webhook_id}/test", token=token)
        return webhook_id

    instansi_code = "34.04"  # Kabupaten Sleman (admin `sleman`, supervisor `diy`)
    unit_code = "34.04-DPUPKP"  # its public works unit (`sleman.pu`)
    definition_key = "sop-default"


@dataclass(frozen=True)
class View:
    """One way to look at a page: who is signed in (a demo username; None: nobody), its URL
    parameters and extra query arguments (name -> name of a `Samples` property)."""

    user: str | None = None
    args: Mapping[str, str] = field(default_factory=dict)
    query: Mapping[str, str] = field(default_factory=dict)
    given: tuple[str, ...] = ()  # samples to make first, so that lists are not empty
    status: int = 200  # a refusal page answers its 4xx

    @property
    def name(self) -> str:
        return self.user or "anonymous"


# Every page of the URL map, by endpoint. Demo users (password `lapor-demo-2026`): `designer`,
# `nasional` (national admin), `sleman` (instansi admin), `sleman.pu` (unit officer), `diy`
# (supervisor); None for the public.
TRACKED = {"tracking_id": "tracking_id"}
OWNER = {"secret": "secret"}
PAGES: dict[str, tuple[View, ...]] = {
    "web.login": (View(), View("designer")),
    "web.forgot_password": (View(),),
    "web.reset_password": (View(),),  # without a live token: the "link does not work" page
    "designer.page": (View("designer"),),
    # citizen: public
    "citizen.home": (View(),),
    "citizen.file_form": (View(),),
    "citizen.filed": (View(args=TRACKED, query=OWNER),),
    "citizen.track": (View(),),
    "citizen.report_status": (View(args=TRACKED, query=OWNER), View(args=TRACKED)),
    "citizen.resend_form": (View(),),
    # public feed: a report forwarded to Sleman (verified) is published
    "public.feed": (View(given=("instansi_task_id",)),),
    "public.report": (View(args=TRACKED, given=("instansi_task_id",)),),
    # officer: national admin verifies, instansi admins and unit officers follow up
    "officer.inbox": (View("sleman", given=("instansi_task_id",)),),
    "officer.queue": (View("nasional", given=("intake_task_id",)),),
    "officer.verify": (View("nasional", args={"task_id": "intake_task_id"}),),
    "officer.task": (View("sleman", args={"task_id": "instansi_task_id"}),),
    # supervisor
    "supervisor.alerts": (View("diy"),),
    "supervisor.overdue": (View("diy", given=("overdue_tracking_id",)),),
    "supervisor.report": (View("diy", args={"tracking_id": "overdue_tracking_id"}),),
    # working calendars and SLA policies: national and instansi admins
    "admin_pages.calendar": (View("sleman"),),
    "admin_pages.policies": (View("nasional"),),
    # webhooks: the list with its form, and one endpoint's delivery log
    "webhook_pages.webhooks": (View("sleman", given=("webhook_id",)),),
    "webhook_pages.webhook_log": (View("sleman", args={"webhook_id": "webhook_id"}),),
    # staff SSO: the provider search, and the refusals without a configured provider
    "sso_pages.choose": (View(),),
    "sso_pages.callback": (View(status=400),),  # no login was started
    "sso_pages.start": (View(args={"code": "instansi_code"}, status=404),),  # no provider
    # staff administration: users, roles and units of an instansi
    "staff_pages.users": (View("sleman", given=("instansi_task_id",)),),
    # the instansi registry: national admins search, rename, merge, split
    "registry_pages.search": (View("nasional", query={"q": "instansi_code"}),),
    "registry_pages.instansi": (View("nasional", args={"code": "instansi_code"}),),
}


def page_rules() -> dict[str, str]:
    """endpoint -> rule of every GET page in the app's URL map."""
    from api import create_app
    from api.db import db

    app = create_app({"DATABASE_URL": "sqlite://", "TESTING": True, "CHECK_MIGRATIONS": False})
    try:
        return {
            rule.endpoint: rule.rule
            for rule in app.url_map.iter_rules()
            if "GET" in (rule.methods or ())
            and not NOT_PAGES.match(rule.rule)
            and rule.endpoint.rsplit(".", 1)[-1] != "static"
        }
    finally:
        db.engine(app).dispose()


RULES = page_rules()


@pytest.fixture()
def samples(live_server: LiveServer) -> Samples:
    start = next_monday_morning()
    clock.set_clock(start)  # clean_slate sets it back after the test
    client = live_server.app.test_client()
    return Samples(Api(lambda: nullcontext(client)), start)


class Tab:
    """One browser tab with axe in every page it opens, for the whole module: it keeps count of
    the requests in flight and of the script errors its pages raise."""

    def __init__(self, context: Any) -> None:
        self.context = context
        self.page = context.new_page()
        self.errors: list[str] = []
        self.pending: set[Any] = set()
        self.page.on("request", lambda request: self.pending.add(request))
        self.page.on("requestfinished", lambda request: self.pending.discard(request))
        self.page.on("requestfailed", lambda request: self.pending.discard(request))
        self.page.on("pageerror", lambda exc: self.errors.append(str(exc)))
        self.page.on("console", self.console)
        self.page.on("response", self.response)

    def console(self, message: Any) -> None:  # failed loads are judged by `response` below
        if message.type == "error" and not message.text.startswith("Failed to load resource"):
            self.errors.append(message.text)

    def response(self, answer: Any) -> None:  # pages may answer 4xx; scripts and styles may not
        if answer.status >= 400 and answer.request.resource_type in {"script", "stylesheet"}:
            self.errors.append(f"{answer.status} {answer.url}")

    def settle(self, quiet_ms: int = 100) -> None:
        """Wait until nothing has been in flight for `quiet_ms` (the page's own fetches are
        done), much sooner than Playwright's fixed half second of `networkidle`."""
        for _ in range(TIMEOUT_MS // 20):
            if not self.pending:
                self.page.wait_for_timeout(quiet_ms)
                if not self.pending:
                    return
            self.page.wait_for_timeout(20)
        pytest.fail(f"requests still pending: {[r.url for r in self.pending]}")

    def sign_in(self, username: str | None) -> None:
        """Start a session for `username` (None: no session) as the login form would."""
        self.context.clear_cookies()
        if username is None:
            return
        form = self.context.request.get("/login").text()  # sets the login CSRF cookie
        token = re.search(r'name="csrf_token" value="([^"]+)"', form)
        assert token is not None
        data = {"csrf_token": token.group(1), "username": username, "password": DEMO_PASSWORD}
        answer = self.context.request.post("/login", form=data, max_redirects=0)
        assert answer.status == 303, f"{username} cannot sign in: {answer.status}"


@pytest.fixture(scope="module")
def tab(browser: Any, live_server: LiveServer) -> Iterator[Tab]:
    if not AXE.exists():
        pytest.fail(f"{AXE} is missing: run `make install` (npm ci)")
    context = browser.new_context(base_url=live_server.url, locale="id-ID")
    context.set_default_timeout(TIMEOUT_MS)
    context.add_init_script(path=str(AXE))
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    yield Tab(context)
    context.close()


RUN_AXE = """async () => {
  const result = await axe.run(document, {
    rules: { 'target-size': { enabled: true } },  // tap targets: off in axe by default
    resultTypes: ['violations'],
  });
  return result.violations.map((v) => ({
    id: v.id, impact: v.impact, help: v.help, url: v.helpUrl,
    nodes: v.nodes.map((n) => ({ target: n.target.join(' '), summary: n.failureSummary })),
  }));
}"""


WIDER_THAN_SCREEN = """() => {
  const width = document.documentElement.clientWidth;
  if (document.documentElement.scrollWidth <= width) return null;
  const wide = [...document.querySelectorAll('body *')].filter(
    (el) => el.getBoundingClientRect().right > width + 1 && el.getClientRects().length);
  return wide.slice(0, 5).map((el) => el.tagName.toLowerCase() + (el.id ? '#' + el.id : '')
    + (typeof el.className === 'string' && el.className ? '.' + el.className.split(' ')[0] : ''));
}"""


def describe(violations: list[dict[str, Any]]) -> str:
    lines = []
    for v in violations:
        lines.append(f"  [{v['impact']}] {v['id']}: {v['help']} ({v['url']})")
        for node in v["nodes"][:8]:
            summary = " / ".join(line.strip() for line in node["summary"].splitlines()[1:])
            lines.append(f"      {node['target']}: {summary}")
    return "\n".join(lines)


def url_of(live_server: LiveServer, endpoint: str, view: View, samples: Samples) -> str:
    values = {k: getattr(samples, v) for k, v in {**view.args, **view.query}.items()}
    with live_server.app.test_request_context():
        return url_for(endpoint, **values)


def check(tab: Tab, url: str, lang: str, name: str, status: int = 200) -> list[str]:
    """Open `url` in `lang` at phone width, then desktop width: what axe and the layout find
    wrong, with a screenshot at each width."""
    page = tab.page
    page.set_viewport_size({"width": WIDTHS[0], "height": HEIGHT})
    joiner = "&" if "?" in url else "?"
    answer = page.goto(f"{url}{joiner}{urlencode({'lang': lang})}")
    assert answer is not None and answer.status == status, f"{name}, {lang}: {answer}"
    assert urlsplit(page.url).path == urlsplit(url).path, f"{name}, {lang}: at {page.url}"
    assert page.locator("html").get_attribute("lang") == lang, f"{name}, {lang}"
    tab.settle()
    found = []
    for width in WIDTHS:
        where = f"{name}, {lang}, {width}px"
        if width != WIDTHS[0]:  # the same page, resized: the layout follows the width
            page.set_viewport_size({"width": width, "height": HEIGHT})
            page.evaluate("() => new Promise((done) => requestAnimationFrame(() => done()))")
        blocking = [v for v in page.evaluate(RUN_AXE) if v["impact"] in BLOCKING]
        if blocking:
            found.append(f"{where}:\n{describe(blocking)}")
        overflow = page.evaluate(WIDER_THAN_SCREEN)
        if overflow:  # WCAG 1.4.10: no sideways scrolling at phone width
            found.append(f"{where}: wider than the screen: {overflow}")
        page.screenshot(path=str(SCREENSHOTS / f"{name}-{lang}-{width}.png"), full_page=True)
    return found


@pytest.mark.parametrize("endpoint", sorted(set(RULES) | set(PAGES)))
def test_page_has_no_serious_accessibility_violation(
    endpoint: str, live_server: LiveServer, tab: Tab, samples: Samples
) -> None:
    if endpoint not in PAGES:
        pytest.fail(
            f"page {RULES[endpoint]} ({endpoint}) has no entry in PAGES of {__file__}: "
            "add who may see it and the sample values of its parameters"
        )
    if endpoint not in RULES:
        pytest.fail(f"PAGES lists {endpoint}, which is not a GET page of the app: remove it")
    tab.errors.clear()
    found = []
    for view in PAGES[endpoint]:
        for name in view.given:
            getattr(samples, name)
        url = url_of(live_server, endpoint, view, samples)
        tab.sign_in(view.user)
        for lang in LANGS:
            found += check(tab, url, lang, f"{endpoint}-{view.name}", view.status)
    assert not found, "serious or critical axe violations:\n" + "\n".join(found)
    assert not tab.errors, f"errors in the page: {tab.errors}"


FOCUSED = """() => {
  const el = document.activeElement;
  if (!el || el === document.body) return null;
  const style = getComputedStyle(el);
  return {
    tag: el.tagName.toLowerCase(), id: el.id, name: el.getAttribute('name'),
    text: (el.innerText || '').trim(), outline: style.outlineStyle,
    width: parseFloat(style.outlineWidth) || 0, color: style.outlineColor,
  };
}"""


def focused(tab: Any) -> dict[str, Any] | None:
    found: dict[str, Any] | None = tab.evaluate(FOCUSED)
    return found


def label(element: dict[str, Any]) -> str:
    return str(element["name"] or element["text"] or element["id"] or element["tag"])


def test_login_works_with_the_keyboard_alone_and_focus_is_always_visible(page: Any) -> None:
    page.goto("/login")
    expect(page.locator("input[name=username]")).to_be_focused()  # autofocus

    # one full round of Tab from the username field: every stop shows where the focus is
    stops = []
    for _ in range(30):
        page.keyboard.press("Tab")
        here = focused(page)
        if here is None:  # past the last element, before the browser wraps round
            continue
        stops.append(label(here))
        assert here["outline"] != "none" and here["width"] >= 2, f"focus not visible: {here}"
        if here["name"] == "username":
            break
    expected = ["password", "Masuk", "Langsung ke konten utama", "LAPOR Flow"]
    expected += ["Bahasa Indonesia", "English", "username"]  # header menu links may come between
    assert [stop for stop in stops if stop in expected] == expected, stops

    page.keyboard.type("designer")
    page.keyboard.press("Tab")
    page.keyboard.type(DEMO_PASSWORD)
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    page.wait_for_url("**/designer")

    # on the next page the skip link is the first stop, and takes the focus past the header
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Langsung ke konten utama")
    expect(skip).to_be_focused()
    expect(skip).to_be_in_viewport()
    page.keyboard.press("Enter")
    expect(page.locator("main")).to_be_focused()
    page.keyboard.press("Tab")  # the next stop is inside the page's content, not the header
    assert page.evaluate("() => document.querySelector('main').contains(document.activeElement)")
