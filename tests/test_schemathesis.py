"""Schemathesis against our own OpenAPI spec: every operation, anonymously and with a bearer
token of each staff role, a few generated requests each (valid and invalid ones), all checks.

No 5xx and no response the spec does not describe (status, content type, body, headers). A token
run whose calls were mostly refused with 401 proves nothing about the operations behind the
token, so it fails; an anonymous run is meant to be refused at staff operations.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from typing import Any

import hypothesis
import pytest
import schemathesis
from flask import Flask
from hypothesis import HealthCheck, Phase
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.config import SchemathesisConfig
from sqlalchemy import Engine, delete, select, update

from engine.models import RoleMembership, User
from engine.seed.loader import DEMO_PASSWORD, DEMO_USERS
from tests.conftest import build_app
from tests.helpers import REPORT

ACTORS = {  # test id -> demo username (None: no token)
    "anonymous": None,
    "national-admin": "nasional",
    "instansi-admin": "sleman",
    "unit-officer": "sleman.pu",
    "supervisor": "diy",
    "designer": "designer",
}
EXAMPLES = 10  # per operation and actor, valid and invalid requests mixed
SETTINGS = hypothesis.settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,  # the same requests on every run
    database=None,
    phases=(Phase.explicit, Phase.generate),  # report the first failing request, no shrinking
    suppress_health_check=list(HealthCheck),
)
# A request the schema allows may still be refused for what its values mean (an unknown region
# code, an expired reset link, "give exactly one of ..."); the spec documents those answers as 422
# (415 for a file of the wrong kind). A 5xx is not_a_server_error's to report.
ACCEPTED = ["2xx", "3xx", "401", "403", "404", "409", "415", "422", "429", "5xx"]
CONFIG = {
    "checks": {"positive_data_acceptance": {"expected-statuses": ACCEPTED}},
    # OpenAPI 3.0 cannot forbid query parameters it does not list; we ignore them, as HTTP APIs do.
    "generation": {"allow-extra-parameters": False},
}
DEMO_USERNAMES = [username for username, _, _ in DEMO_USERS]


@pytest.fixture(scope="module")
def fuzzed_app(database_url: str) -> Iterator[Flask]:
    from api.db import db

    application = build_app(database_url)
    yield application
    db.engine(application).dispose()


@pytest.fixture(scope="module")
def staff_restored(db_engine: Engine) -> Iterator[None]:
    """Users outlive clean_slate: the users the fuzzer created go when the module is done (after
    the last clean_slate, which removes what refers to them)."""
    with db_engine.connect() as conn:
        before = set(conn.scalars(select(User.id)))
    yield
    with db_engine.begin() as conn:
        added = select(User.id).where(User.id.not_in(before))
        conn.execute(delete(RoleMembership).where(RoleMembership.user_id.in_(added)))
        conn.execute(delete(User).where(User.id.not_in(before)))


@pytest.fixture()
def demo_staff_active(staff_restored: None, db_engine: Engine) -> Iterator[None]:
    """An admin's token may deactivate demo staff (not itself); they are back for the next run."""
    yield
    with db_engine.begin() as conn:
        conn.execute(update(User).where(User.username.in_(DEMO_USERNAMES)).values(active=True))


def token_of(app: Flask, username: str) -> str:
    response = app.test_client().post(
        "/api/v1/auth/login", json={"username": username, "password": DEMO_PASSWORD}
    )
    assert response.status_code == 200, response.get_json()
    return str(response.get_json()["token"])


def existing(app: Flask, headers: dict[str, str]) -> dict[str, Any]:
    """Path parameters naming things that exist: a report filed now, the first task the actor
    sees (random ids and codes mostly meet a 404)."""
    client = app.test_client()
    filed = client.post("/api/v1/reports", json=REPORT)
    assert filed.status_code == 201, filed.get_json()
    known = {"tracking_id": filed.get_json()["tracking_id"]}
    inbox = client.get("/api/v1/tasks", headers=headers)
    if inbox.status_code == 200 and inbox.get_json():
        known["task_id"] = inbox.get_json()[0]["id"]
    return known


def fuzz(
    operation: Any, headers: dict[str, str], known: dict[str, Any], statuses: Counter[int]
) -> str | None:
    """Run the operation's examples with every check; the failure report, if any."""
    strategies = [
        operation.as_strategy(GenerationMode.POSITIVE),
        operation.as_strategy(GenerationMode.NEGATIVE),
    ]
    names = {parameter.name for parameter in operation.path_parameters}
    if names and names <= known.keys():
        path = {name: known[name] for name in names}
        strategies.append(operation.as_strategy(GenerationMode.POSITIVE, path_parameters=path))
    cases = st.one_of(strategies)

    @SETTINGS
    @hypothesis.given(case=cases)
    def run(case: Any) -> None:
        response = case.call_and_validate(headers=headers)
        statuses[response.status_code] += 1

    try:
        run()
    except Exception as failure:  # schemathesis's FailureGroup, or hypothesis giving up
        return f"{operation.label}\n{failure}"
    return None


@pytest.mark.usefixtures("demo_staff_active")
@pytest.mark.parametrize("actor", ACTORS)
def test_every_operation_keeps_to_the_spec(fuzzed_app: Flask, actor: str) -> None:
    username = ACTORS[actor]
    schema = schemathesis.openapi.from_wsgi(
        "/api/openapi.json", fuzzed_app, config=SchemathesisConfig.from_dict(CONFIG)
    )
    headers = {"Authorization": f"Bearer {token_of(fuzzed_app, username)}"} if username else {}
    known = existing(fuzzed_app, headers)
    failures, refused, calls = [], [], Counter[int]()
    operations = [result.ok() for result in schema.get_all_operations()]
    for operation in operations:
        statuses = Counter[int]()
        failure = fuzz(operation, headers, known, statuses)
        if failure:
            failures.append(failure)
        if statuses[401] > statuses.total() / 2:
            refused.append(operation.label)
        calls.update(statuses)
    summary = (
        f"{actor}: {len(operations)} operations ({len(refused)} mostly refused with 401), "
        f"{calls.total()} calls, statuses {dict(sorted(calls.items()))}"
    )
    print(summary)
    assert not failures, "\n\n".join([summary, *failures])
    assert calls.total() >= len(operations) * EXAMPLES // 2, summary
    if username:  # the anonymous run is refused at every staff operation, as it should be
        assert len(refused) <= len(operations) / 2, f"the token did not work: {summary}"
