"""Designers' process-definition API: deploy (XML or multipart), identical re-deploys, versions,
XML, roll back, who may do what, and a corpus of bad files that are all refused with a 4xx
naming the problem and leave nothing deployed."""

from __future__ import annotations

import re
import threading
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from engine.models import AuditEvent, Instansi, ProcessDefinition, ProcessInstance, Report
from tests.helpers import Api, ensure_user, problem_of

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SOP = (ROOT / "bpmn/national/sop-default.bpmn").read_text(encoding="utf-8")
EXTERNAL = ROOT / "tests/bpmn/external"
URL = "/api/v1/process-definitions"


def renamed(xml: str, name: str) -> bytes:
    """The default SOP with the follow-up task renamed (a new version, same structure)."""
    return xml.replace('name="Tindak lanjut"', f'name="{name}"', 1).encode("utf-8")


@pytest.fixture
def designers(factory: Any) -> dict[str, str]:
    """An instansi designer for Sleman (34.04) and one for Badung (51.03)."""
    ensure_user(factory, "designer.sleman", [("process_designer", "34.04", None)])
    ensure_user(factory, "designer.badung", [("process_designer", "51.03", None)])
    return {"sleman": "designer.sleman", "badung": "designer.badung"}


def post_xml(api: Api, username: str, xml: bytes, **query: str) -> Any:
    token = api.login(username)
    with api.fresh() as client:
        return client.post(
            URL,
            data=xml,
            content_type="application/xml",
            headers={"Authorization": f"Bearer {token}"},
            query_string=query,
        )


def definition_count(factory: Any) -> int:
    with factory() as s:
        return int(s.scalar(select(func.count()).select_from(ProcessDefinition)) or 0)


def test_deploy_xml_then_identical_then_multipart_new_version(
    fresh_client: Any, factory: Any, designers: dict[str, str]
) -> None:
    api = Api(fresh_client)
    first = post_xml(api, designers["sleman"], renamed(DEFAULT_SOP, "Tindak lanjut Sleman"))
    assert first.status_code == 201, first.get_json()
    body = first.get_json()
    assert (body["key"], body["version"], body["instansi"], body["created"]) == (
        "sop-34.04",
        1,
        "34.04",
        True,
    )

    again = post_xml(api, designers["sleman"], renamed(DEFAULT_SOP, "Tindak lanjut Sleman"))
    assert again.status_code == 200 and again.get_json()["version"] == 1
    assert again.get_json()["created"] is False

    token = api.login(designers["sleman"])
    with api.fresh() as client:
        import io

        multipart = client.post(
            URL,
            data={"file": (io.BytesIO(renamed(DEFAULT_SOP, "Tindak lanjut v2")), "sop.bpmn")},
            content_type="multipart/form-data",
            headers={"Authorization": f"Bearer {token}"},
        )
    assert multipart.status_code == 201 and multipart.get_json()["version"] == 2

    listing = api.call("GET", URL, token=token).get_json()
    sleman = next(d for d in listing if d["key"] == "sop-34.04")
    assert [(v["version"], v["current"]) for v in sleman["versions"]] == [(1, False), (2, True)]
    assert {d["key"] for d in listing} == {"intake", "sop-default", "sop-34.04"}

    xml = api.call("GET", f"{URL}/sop-34.04/versions/1/xml", token=token)
    assert xml.status_code == 200 and xml.mimetype == "application/xml"
    assert 'name="Tindak lanjut Sleman"' in xml.get_data(as_text=True)
    with factory() as s:
        actions = s.scalars(
            select(AuditEvent.action).where(AuditEvent.action.like("definition.%"))
        ).all()
    assert actions == ["definition.deployed", "definition.deployed"]


def test_forwarded_reports_start_the_current_version_and_keep_theirs(
    fresh_client: Any, factory: Any, designers: dict[str, str]
) -> None:
    api = Api(fresh_client)
    v1 = renamed(DEFAULT_SOP, "Tindak lanjut satu")
    assert post_xml(api, designers["sleman"], v1).status_code == 201
    old = api.file()["tracking_id"]
    api.complete("nasional", old, {"outcome": "forward", "target_instansi": "34.04"})

    assert (
        post_xml(api, designers["sleman"], renamed(DEFAULT_SOP, "Tindak lanjut dua")).status_code
        == 201
    )
    new = api.file()["tracking_id"]
    api.complete("nasional", new, {"outcome": "forward", "target_instansi": "34.04"})

    # Badung has no SOP of its own: the national default (v1) runs there.
    other = api.file(target_instansi="51.03", region_code="51.03")["tracking_id"]
    api.complete("nasional", other, {"outcome": "forward", "target_instansi": "51.03"})

    def version_of(tracking: str) -> tuple[str, int]:
        with factory() as s:
            report = s.scalar(select(Report).where(Report.tracking_id == tracking))
            instance = s.scalar(
                select(ProcessInstance).where(
                    ProcessInstance.report_id == report.id, ProcessInstance.parent_id.isnot(None)
                )
            )
            return instance.definition.key, instance.definition.version

    assert version_of(old) == ("sop-34.04", 1)
    assert version_of(new) == ("sop-34.04", 2)
    assert version_of(other) == ("sop-default", 1)

    # Roll back to version 1: the next report starts on it, the running ones keep theirs.
    token = api.login(designers["sleman"])
    rolled = api.call("POST", f"{URL}/sop-34.04/versions/1/rollback", token=token)
    assert rolled.status_code == 200, rolled.get_json()
    assert [v["current"] for v in rolled.get_json()["versions"]] == [True, False]
    third = api.file()["tracking_id"]
    api.complete("nasional", third, {"outcome": "forward", "target_instansi": "34.04"})
    assert version_of(third) == ("sop-34.04", 1)
    assert version_of(new) == ("sop-34.04", 2)

    # Deploying version 2's file again makes it current again, with no new version.
    again = post_xml(api, designers["sleman"], renamed(DEFAULT_SOP, "Tindak lanjut dua"))
    assert (again.status_code, again.get_json()["version"]) == (200, 2)
    fourth = api.file()["tracking_id"]
    api.complete("nasional", fourth, {"outcome": "forward", "target_instansi": "34.04"})
    assert version_of(fourth) == ("sop-34.04", 2)


def test_a_province_sop_runs_for_its_regencies(
    fresh_client: Any, factory: Any, designers: dict[str, str]
) -> None:
    api = Api(fresh_client)
    ensure_user(factory, "designer.diy", [("process_designer", "34", None)])
    assert (
        post_xml(api, "designer.diy", renamed(DEFAULT_SOP, "Tindak lanjut DIY")).status_code == 201
    )
    tracking = api.file()["tracking_id"]
    api.complete("nasional", tracking, {"outcome": "forward", "target_instansi": "34.04"})
    receive = api.task_for("sleman", tracking)
    api.complete("sleman", tracking, {"outcome": "disposisi", "target_unit": "34.04-DPUPKP"})
    follow_up = api.task_for("sleman.pu", tracking)
    assert receive["milestone"] == "disposition"
    assert follow_up["name"] == "Tindak lanjut DIY"


def test_who_may_deploy_and_read(fresh_client: Any, designers: dict[str, str]) -> None:
    api = Api(fresh_client)
    xml = renamed(DEFAULT_SOP, "Tindak lanjut Badung")
    refused = post_xml(api, designers["sleman"], xml, instansi="51.03")
    assert problem_of(refused, 403)["field"] == "instansi"
    assert problem_of(post_xml(api, "sleman", xml), 403)["field"] == "role"
    unknown = post_xml(api, designers["sleman"], xml, instansi="99.99")
    assert problem_of(unknown, 404)["field"] == "instansi"
    assert post_xml(api, designers["badung"], xml).status_code == 201

    # Badung's definition is invisible to Sleman's designer: 404, as if it did not exist.
    sleman_token = api.login(designers["sleman"])
    hidden = api.call("GET", f"{URL}/sop-51.03/versions/1/xml", token=sleman_token)
    assert problem_of(hidden, 404)["field"] == "key"
    assert problem_of(api.call("GET", f"{URL}/sop-51.03", token=sleman_token), 404)
    rollback = api.call("POST", f"{URL}/sop-51.03/versions/1/rollback", token=sleman_token)
    assert problem_of(rollback, 404)["field"] == "key"
    # The national designer deploys the default SOP, or any instansi's.
    national = post_xml(api, "designer", xml)
    assert (national.status_code, national.get_json()["key"]) == (201, "sop-default")
    assert national.get_json()["version"] == 2
    assert post_xml(api, "designer", xml, instansi="51.03").status_code == 200
    assert problem_of(api.call("GET", URL), 401)
    assert problem_of(api.call("GET", URL, token=api.login("sleman")), 403)
    missing = api.call("GET", f"{URL}/sop-default/versions/99/xml", token=sleman_token)
    assert problem_of(missing, 404)["field"] == "version"
    huge = api.call("GET", f"{URL}/sop-default/versions/99999999999/xml", token=sleman_token)
    assert problem_of(huge, 404)["field"] == "version"


def _without_lanes(xml: str) -> str:
    return re.sub(r"<bpmn:laneSet.*?</bpmn:laneSet>", "", xml, flags=re.S)


def _unreachable_task(xml: str) -> str:
    return xml.replace(
        "</bpmn:process>",
        '<bpmn:scriptTask id="orphan" name="Yatim"><bpmn:script>x = 1</bpmn:script>'
        "</bpmn:scriptTask></bpmn:process>",
        1,
    )


def _complex_gateway(xml: str) -> str:
    match = re.search(r'<bpmn:exclusiveGateway id="(\w+)"(.*?)</bpmn:exclusiveGateway>', xml, re.S)
    assert match is not None
    return xml.replace(match.group(0), match.group(0).replace("exclusiveGateway", "complexGateway"))


def _form_replaced(xml: str, form: str) -> str:
    return re.sub(
        r"<spiffworkflow:formSchema>.*?</spiffworkflow:formSchema>",
        f"<spiffworkflow:formSchema>{form}</spiffworkflow:formSchema>",
        xml,
        count=1,
        flags=re.S,
    )


XXE = (
    '<?xml version="1.0"?><!DOCTYPE d [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
    '<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="d">'
    '<bpmn:process id="p" isExecutable="true" name="&xxe;"/></bpmn:definitions>'
)
LAUGHS = (
    '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
    + "".join(
        f'<!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">'
        for i in range(1, 10)
    )
    + ']><bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="d">'
    '<bpmn:process id="p" isExecutable="true" name="&lol9;"/></bpmn:definitions>'
)

BAD_FILES: dict[str, tuple[bytes, int, str]] = {
    "malformed": (b"<bpmn:definitions><bpmn:process", 422, "not well-formed"),
    "xxe": (XXE.encode(), 422, "DOCTYPE"),
    "billion-laughs": (LAUGHS.encode(), 422, "DOCTYPE"),
    "not-bpmn": (b"<html><body>hello</body></html>", 422, "executable process"),
    "non-executable": (
        DEFAULT_SOP.replace('isExecutable="true"', 'isExecutable="false"').encode(),
        422,
        "executable process",
    ),
    "missing-lanes": (_without_lanes(DEFAULT_SOP).encode(), 422, "is in no lane"),
    "unknown-lane": (
        DEFAULT_SOP.replace('name="Pejabat Penghubung"', 'name="Tukang Kebun"').encode(),
        422,
        "maps to no role",
    ),
    "no-milestone": (
        DEFAULT_SOP.replace(
            '<spiffworkflow:property name="milestone" value="follow-up" />', "", 1
        ).encode(),
        422,
        "has no milestone",
    ),
    "unknown-milestone": (
        DEFAULT_SOP.replace('value="follow-up"', 'value="lunch"', 1).encode(),
        422,
        "unknown milestone 'lunch'",
    ),
    "bad-form-json": (_form_replaced(DEFAULT_SOP, "{not json").encode(), 422, "not valid JSON"),
    "bad-form-schema": (
        _form_replaced(DEFAULT_SOP, '{"type": 5}').encode(),
        422,
        "not a valid JSON Schema",
    ),
    "bad-sla": (
        DEFAULT_SOP.replace(
            '<spiffworkflow:property name="milestone" value="follow-up" />',
            '<spiffworkflow:property name="milestone" value="follow-up" />'
            '<spiffworkflow:property name="sla" value="5 fortnights" />',
            1,
        ).encode(),
        422,
        "must look like 5wd or 8wh",
    ),
    "unreachable": (_unreachable_task(DEFAULT_SOP).encode(), 422, "'orphan' cannot be reached"),
    "unsupported-element": (_complex_gateway(DEFAULT_SOP).encode(), 422, "complexGateway"),
    "xsd-violation": (
        DEFAULT_SOP.replace("<bpmn:incoming>", "<bpmn:bogus/><bpmn:incoming>", 1).encode(),
        422,
        "bogus",
    ),
    "six-megabytes": (
        DEFAULT_SOP.replace(
            "</bpmn:definitions>", f"<!-- {'x' * 6_000_000} --></bpmn:definitions>"
        ).encode(),
        413,
        "larger than 5 MB",
    ),
    "empty": (b"   ", 422, "empty"),
    "script-escape": (
        DEFAULT_SOP.replace('result = "closed"', 'result = __import__("os").getcwd()').encode(),
        422,
        "__import__",
    ),
    "condition-escape": (
        DEFAULT_SOP.replace(
            'outcome == "bukan_wewenang"', "().__class__.__bases__[0].__subclasses__()"
        ).encode(),
        422,
        "__class__",
    ),
    "script-defines-function": (
        (EXTERNAL / "ScriptTest.bpmn").read_bytes(),
        422,
        "Activity_0kky4xd",
    ),
}


@pytest.mark.parametrize("case", sorted(BAD_FILES))
def test_bad_files_are_refused_naming_the_problem_and_nothing_is_deployed(
    fresh_client: Any, factory: Any, designers: dict[str, str], case: str
) -> None:
    xml, status, expected = BAD_FILES[case]
    api = Api(fresh_client)
    before = definition_count(factory)
    body = problem_of(post_xml(api, designers["sleman"], xml), status)
    everything = str(body)
    assert expected in everything, body
    assert body["field"] == "bpmn"
    assert definition_count(factory) == before

    token = api.login(designers["sleman"])
    with api.fresh() as client:
        checked = client.post(
            f"{URL}/validate",
            data=xml,
            content_type="application/xml",
            headers={"Authorization": f"Bearer {token}"},
        )
    if case in ("six-megabytes", "empty"):  # refused before the linter runs
        assert problem_of(checked, status)["field"] == "bpmn"
    else:
        report = checked.get_json()
        assert checked.status_code == 200 and report["valid"] is False
        assert any(expected in str(error) for error in report["errors"]), report


def test_findings_name_the_element_and_line(fresh_client: Any, designers: dict[str, str]) -> None:
    api = Api(fresh_client)
    xml = DEFAULT_SOP.replace('name="Pejabat Penghubung"', 'name="Tukang Kebun"').encode()
    body = problem_of(post_xml(api, designers["sleman"], xml), 422)
    (finding,) = [e for e in body["errors"] if "maps to no role" in e["message"]]
    line = DEFAULT_SOP.splitlines()[finding["line"] - 1]
    assert finding["element_id"] == "follow_up" and 'id="follow_up"' in line


def test_wrong_body_types_are_refused(fresh_client: Any, designers: dict[str, str]) -> None:
    api = Api(fresh_client)
    token = api.login(designers["sleman"])
    headers = {"Authorization": f"Bearer {token}"}
    with api.fresh() as client:
        as_json = client.post(URL, json={"xml": DEFAULT_SOP}, headers=headers)
        no_file = client.post(
            URL, data={"other": "x"}, content_type="multipart/form-data", headers=headers
        )
        long_code = client.post(
            URL,
            data=DEFAULT_SOP.encode(),
            content_type="application/xml",
            headers=headers,
            query_string={"instansi": "x" * 33},
        )
    assert problem_of(as_json, 415)["field"] == "Content-Type"
    assert problem_of(no_file, 422)["field"] == "file"
    assert problem_of(long_code, 422)["field"] == "instansi"


EXPECTED_RUNS = {
    "no-tasks.bpmn": ("completed", {}),
    "task_data_size.bpmn": ("completed", {"d": "a" * 512 + "b" * 512 + "c" * 512}),
    "timer.bpmn": ("waiting", {}),
    "event-gateway.bpmn": ("waiting", {}),
}


@pytest.mark.parametrize("name", sorted(EXPECTED_RUNS))
def test_files_exported_by_other_tools_deploy_and_run(
    fresh_client: Any, factory: Any, name: str
) -> None:
    xml = (EXTERNAL / name).read_bytes()
    assert b'exporter="Camunda Modeler"' in xml
    api = Api(fresh_client)
    deployed = post_xml(api, "designer", xml, instansi="34.04")
    assert deployed.status_code == 201, deployed.get_json()
    if name == "event-gateway.bpmn":
        assert "camunda.org" in deployed.get_json()["warnings"][0]["message"]

    from engine.runtime import Workflow

    with factory() as s:
        definition = s.scalar(select(ProcessDefinition).where(ProcessDefinition.key == "sop-34.04"))
        instansi = s.get(Instansi, definition.instansi_id)
        assert instansi.code == "34.04"
        wf = Workflow.start(definition.checksum, definition.spec_json, {})
    state, data = EXPECTED_RUNS[name]
    assert ("completed" if wf.completed else "waiting") == state
    for key, value in data.items():
        assert wf.data[key] == value
    if name == "timer.bpmn":
        assert len(wf.waiting_timers()) == 1


def test_two_designers_deploying_at_once_never_get_a_500(
    fresh_client: Any, factory: Any, designers: dict[str, str]
) -> None:
    """Both lint in parallel and race to insert version 1: each gets 201, or the loser a 409
    (PostgreSQL's unique constraint); never a 500 or two versions with one number."""
    api = Api(fresh_client)
    api.login(designers["sleman"])
    barrier = threading.Barrier(2)
    answers: list[int] = []

    def deploy(name: str) -> None:
        xml = renamed(DEFAULT_SOP, name)
        barrier.wait()
        answers.append(post_xml(api, designers["sleman"], xml).status_code)

    threads = [threading.Thread(target=deploy, args=(n,)) for n in ("Satu", "Dua")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(answers) in ([201, 201], [201, 409]), answers
    with factory() as s:
        versions = s.scalars(
            select(ProcessDefinition.version).where(ProcessDefinition.key == "sop-34.04")
        ).all()
    assert sorted(versions) == list(range(1, answers.count(201) + 1))
