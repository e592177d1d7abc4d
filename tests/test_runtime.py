"""The BPMN runtime on its own (no database): compiling, refusing bad XML, running, saving.

Every scenario that drives a process runs twice: once in memory and once with the state dumped
and loaded again between every step, the way the engine keeps instances in the database.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from SpiffWorkflow.bpmn.serializer.migration.version_migration import MIGRATIONS

from engine.runtime import BpmnError, CompiledDefinition, TaskNotReady, Workflow, compile_bpmn
from engine.runtime import workflow as workflow_module
from engine.runtime.safe_xml import MAX_BPMN_BYTES
from engine.runtime.serializer import SERIALIZER, SERIALIZER_VERSION, dump_state, load_state

NATIONAL = Path(__file__).resolve().parent.parent / "bpmn" / "national"
INTAKE_XML = (NATIONAL / "intake.bpmn").read_text(encoding="utf-8")
SOP_XML = (NATIONAL / "sop-default.bpmn").read_text(encoding="utf-8")

START_DATA = {
    "report_id": 1,
    "tracking_id": "ABCDEFGHJK",
    "target_instansi": "34.04",
    "classification": "pengaduan",
    "reopened": False,
}
DISPOSE = {"outcome": "disposisi", "target_unit": "34.04-DPUPKP"}
FOLLOW_UP = {"tindak_lanjut": "Perbaikan jalan sudah dijadwalkan oleh DPUPKP."}
HAPPY = {"satisfied": True, "rating": 5, "comment": "Terima kasih"}
UNHAPPY = {"satisfied": False, "rating": 1, "comment": "Belum diperbaiki"}


def compile_text(text: str, filename: str = "test.bpmn") -> CompiledDefinition:
    return compile_bpmn(text.encode("utf-8"), filename=filename)


def start(definition: CompiledDefinition, data: dict[str, Any] | None = None) -> Workflow:
    """A new instance of a compiled definition (as the engine starts a deployed one)."""
    return Workflow.start(
        definition.checksum, definition.spec_json, dict(START_DATA if data is None else data)
    )


@pytest.fixture(scope="module")
def intake() -> CompiledDefinition:
    return compile_text(INTAKE_XML, "intake.bpmn")


@pytest.fixture(scope="module")
def sop() -> CompiledDefinition:
    return compile_text(SOP_XML, "sop-default.bpmn")


class Driver:
    """Drives one instance; with `restore`, dumps and reloads the state after every step."""

    def __init__(
        self, definition: CompiledDefinition, restore: bool, data: dict[str, Any] | None = None
    ) -> None:
        self.spec_json = definition.spec_json
        self.restore = restore
        self.dumps = 0
        self.wf = start(definition, START_DATA if data is None else data)
        self._checkpoint()

    def _checkpoint(self) -> None:
        if not self.restore:
            return
        state = self.wf.dump()
        assert json.loads(state)["serializer_version"] == SERIALIZER_VERSION
        self.wf = Workflow.load(state, self.spec_json)
        assert self.wf.dump() == state, "load + dump must reproduce the stored state"
        self.dumps += 1

    def ready(self) -> list[str]:
        return [t.bpmn_id for t in self.wf.ready_user_tasks()]

    def complete(self, bpmn_id: str, data: dict[str, Any]) -> None:
        tasks = [t for t in self.wf.ready_user_tasks() if t.bpmn_id == bpmn_id]
        assert len(tasks) == 1, f"expected one ready {bpmn_id}, have {self.ready()}"
        self.wf.complete_task(tasks[0].guid, data)
        self._checkpoint()

    def deliver(self, name: str, payload: dict[str, Any]) -> None:
        self.wf.deliver_message(name, payload)
        self._checkpoint()


RESTORE = pytest.mark.parametrize("restore", [False, True], ids=["in_memory", "save_restore"])


# ----------------------------------------------------------------------------- compiling


def test_intake_compiles_with_task_metadata(intake: CompiledDefinition) -> None:
    assert intake.process_id == "lapor_intake"
    assert len(intake.checksum) == 64
    assert set(intake.tasks) == {"verify"}
    verify = intake.tasks["verify"]
    assert verify.bpmn_id == "verify"
    assert verify.name == "Verifikasi laporan"
    assert verify.milestone == "verification"
    assert verify.lane == "Admin Nasional"
    assert verify.properties == {"milestone": "verification"}
    form = verify.form_schema
    assert form is not None
    assert form["type"] == "object" and form["additionalProperties"] is False
    assert form["required"] == ["outcome"]
    assert form["properties"]["outcome"]["enum"] == [
        "forward",
        "tunda",
        "bukan_wewenang",
        "arsipkan",
    ]
    assert form["properties"]["target_instansi"]["maxLength"] == 32
    assert json.loads(json.dumps(intake.task_meta_json()))["verify"]["milestone"] == "verification"


def test_sop_default_compiles_with_task_metadata(sop: CompiledDefinition) -> None:
    assert sop.process_id == "lapor_sop_default"
    assert set(sop.tasks) == {"receive", "follow_up", "close"}
    milestones = {key: meta.milestone for key, meta in sop.tasks.items()}
    assert milestones == {"receive": "disposition", "follow_up": "follow-up", "close": "close"}
    assert sop.tasks["receive"].lane == "Admin Instansi"
    assert sop.tasks["follow_up"].lane == "Pejabat Penghubung"
    assert sop.tasks["close"].lane == "Admin Instansi"
    task_specs = json.loads(sop.spec_json)["spec"]["task_specs"]
    assert task_specs["close"]["typename"] == "ScriptTask"  # not a user task, still a milestone
    assert task_specs["receive"]["typename"] == "UserTask"
    receive_form = sop.tasks["receive"].form_schema
    assert receive_form is not None
    assert receive_form["properties"]["outcome"]["enum"] == ["disposisi", "bukan_wewenang"]
    assert receive_form["properties"]["target_unit"]["maxLength"] == 64
    follow_form = sop.tasks["follow_up"].form_schema
    assert follow_form is not None and follow_form["required"] == ["tindak_lanjut"]


def test_compile_is_deterministic(sop: CompiledDefinition) -> None:
    again = compile_text(SOP_XML, "sop-default.bpmn")
    assert again.checksum == sop.checksum
    assert again.spec_json == sop.spec_json
    assert compile_text(SOP_XML + "\n").checksum != sop.checksum


def test_spec_json_holds_exactly_the_spec(sop: CompiledDefinition) -> None:
    spec = json.loads(sop.spec_json)
    assert set(spec) == {"spec", "subprocess_specs"}
    assert spec["spec"]["name"] == "lapor_sop_default"
    assert {"receive", "follow_up", "close", "await_rating"} <= set(spec["spec"]["task_specs"])


# ----------------------------------------------------------------------------- refusing


def assert_refused(text: str | bytes, *needles: str) -> BpmnError:
    raw = text.encode("utf-8") if isinstance(text, str) else text
    with pytest.raises(BpmnError) as caught:
        compile_bpmn(raw)
    message = caught.value.message
    assert str(caught.value) == message
    for needle in needles:
        assert needle in message, message
    return caught.value


BILLION_LAUGHS = """<?xml version="1.0"?>
<!DOCTYPE lolz [
  <!ENTITY lol "lol">
  <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
  <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
  <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
  <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
]>
"""


def with_doctype(doctype: str, xml: str) -> str:
    return xml.replace("<bpmn:definitions", doctype + "<bpmn:definitions", 1)


@pytest.mark.parametrize("placement", ["text", "attribute"])
def test_billion_laughs_is_refused(placement: str) -> None:
    if placement == "text":
        xml = SOP_XML.replace(
            '<bpmn:script>result = "closed"</bpmn:script>', "<bpmn:script>&lol5;</bpmn:script>"
        )
    else:
        xml = SOP_XML.replace('name="Tutup laporan"', 'name="&lol5;"')
    assert "&lol5;" in xml
    error = assert_refused(with_doctype(BILLION_LAUGHS.split("\n", 1)[1], xml))
    assert "lollol" not in error.message


@pytest.mark.parametrize("placement", ["text", "attribute"])
@pytest.mark.parametrize("target", ["etc_passwd", "tmp_secret"])
def test_external_entity_is_refused_and_never_read(
    placement: str, target: str, tmp_path: Path
) -> None:
    if target == "etc_passwd":
        url, secret = "file:///etc/passwd", "root:"
    else:
        secret_file = tmp_path / "secret.txt"
        secret_file.write_text("TOP-SECRET-7f3a9c", encoding="utf-8")
        url, secret = secret_file.as_uri(), "TOP-SECRET-7f3a9c"
    doctype = f'<!DOCTYPE bpmn:definitions [<!ENTITY xxe SYSTEM "{url}">]>\n'
    if placement == "text":
        xml = SOP_XML.replace(
            '<bpmn:script>result = "closed"</bpmn:script>', "<bpmn:script>&xxe;</bpmn:script>"
        )
    else:
        xml = SOP_XML.replace('name="Tutup laporan"', 'name="&xxe;"')
    assert "&xxe;" in xml
    with pytest.raises(BpmnError) as caught:
        compile_bpmn(with_doctype(doctype, xml).encode("utf-8"))
    rendered = " ".join(
        str(part) for part in (caught.value, caught.value.__cause__, caught.value.__context__)
    )
    assert secret not in rendered


def test_doctype_without_entities_is_refused() -> None:
    assert_refused(with_doctype("<!DOCTYPE bpmn:definitions>\n", SOP_XML), "DOCTYPE")


@pytest.mark.parametrize(
    "text",
    [
        "",
        "not xml at all",
        SOP_XML.replace("</bpmn:process>", "", 1),
        SOP_XML[: len(SOP_XML) // 2],
    ],
    ids=["empty", "text", "unclosed_tag", "truncated"],
)
def test_malformed_xml_is_refused(text: str) -> None:
    assert_refused(text, "not well-formed")


def test_file_over_5_mb_is_refused_before_parsing() -> None:
    assert MAX_BPMN_BYTES == 5 * 1024 * 1024
    padding = "<!--" + "x" * MAX_BPMN_BYTES + "-->"
    big = SOP_XML.replace("</bpmn:definitions>", padding + "</bpmn:definitions>")
    assert len(big.encode("utf-8")) > MAX_BPMN_BYTES
    assert_refused(big, "5 MB")
    # Size is checked on the raw bytes, even when the excess is not well-formed.
    assert_refused(b"<" * (MAX_BPMN_BYTES + 1), "5 MB")


def test_no_executable_process_is_refused() -> None:
    xml = SOP_XML.replace('isExecutable="true"', 'isExecutable="false"')
    assert_refused(xml, "exactly one executable process", "found 0")


def test_two_executable_processes_are_refused() -> None:
    second = (
        '<bpmn:process id="second_process" isExecutable="true">'
        '<bpmn:startEvent id="second_start" /></bpmn:process>\n  '
    )
    xml = SOP_XML.replace("<bpmn:message ", second + "<bpmn:message ", 1)
    assert xml.count('isExecutable="true"') == 2
    assert_refused(xml, "exactly one executable process", "found 2")


def test_form_schema_with_invalid_json_is_refused() -> None:
    xml = SOP_XML.replace('"title": "Tindak lanjut",', '"title": "Tindak lanjut",,', 1)
    assert xml != SOP_XML
    error = assert_refused(xml, "formSchema", "follow_up", "not valid JSON")
    assert error.element_id == "follow_up"


def test_sequence_flow_to_missing_element_is_refused() -> None:
    xml = SOP_XML.replace(
        'sourceRef="close" targetRef="end_closed"', 'sourceRef="close" targetRef="no_such_node"'
    )
    assert xml != SOP_XML
    error = assert_refused(xml, "no_such_node")
    assert error.element_id == "close"


def test_schema_invalid_element_is_refused_with_its_line() -> None:
    anchor = "<bpmn:incoming>flow_to_follow_up</bpmn:incoming>"
    xml = SOP_XML.replace(anchor, "<bpmn:bogusElement />" + anchor, 1)
    assert xml != SOP_XML
    error = assert_refused(xml, "bogusElement", "not expected")
    assert error.line == xml[: xml.index("<bpmn:bogusElement")].count("\n") + 1


# ----------------------------------------------------------------------------- the stored state


def test_state_is_stored_without_the_spec(sop: CompiledDefinition) -> None:
    wf = start(sop)
    state_json, spec_json = dump_state(wf._wf)
    state = json.loads(state_json)
    assert "spec" not in state and "subprocess_specs" not in state
    assert state["serializer_version"] == SERIALIZER_VERSION
    assert wf.dump() == state_json
    # The spec part of a running instance is the definition's stored spec, byte for byte.
    assert spec_json == sop.spec_json
    full = SERIALIZER.serialize_json(wf._wf)
    assert len(full) >= len(state_json) + len(spec_json) - 64
    assert len(state_json) * 2 < len(state_json) + len(spec_json), (
        f"state {len(state_json)} bytes vs spec {len(spec_json)} bytes"
    )


@RESTORE
def test_sop_closes_when_pelapor_is_satisfied(sop: CompiledDefinition, restore: bool) -> None:
    run = Driver(sop, restore)
    assert run.ready() == ["receive"]
    assert run.wf.waiting_messages() == []
    run.complete("receive", DISPOSE)
    assert run.ready() == ["follow_up"]
    run.complete("follow_up", FOLLOW_UP)
    assert run.ready() == []
    assert run.wf.waiting_messages() == ["pelapor_rating"]
    assert not run.wf.completed
    run.deliver("pelapor_rating", HAPPY)
    assert run.wf.completed
    data = run.wf.data
    assert data["result"] == "closed"
    assert data["reopened"] is False
    assert data["pelapor_rating"] == HAPPY
    assert data["target_unit"] == "34.04-DPUPKP"
    assert data["tracking_id"] == START_DATA["tracking_id"]
    assert run.dumps == (4 if restore else 0)


def test_sop_literal_start_dump_load_rating(sop: CompiledDefinition) -> None:
    wf = start(sop)
    (receive,) = wf.ready_user_tasks()
    assert (receive.bpmn_id, receive.name, receive.lane) == (
        "receive",
        "Telaah dan disposisi",
        "Admin Instansi",
    )
    wf.complete_task(receive.guid, DISPOSE)
    (follow_up,) = wf.ready_user_tasks()
    assert follow_up.lane == "Pejabat Penghubung"
    wf.complete_task(follow_up.guid, FOLLOW_UP)
    state = wf.dump()
    restored = Workflow.load(state, sop.spec_json)
    assert restored.waiting_messages() == ["pelapor_rating"]
    restored.deliver_message("pelapor_rating", HAPPY)
    assert restored.completed
    assert restored.data["result"] == "closed"


@RESTORE
def test_sop_reopens_once_then_closes(sop: CompiledDefinition, restore: bool) -> None:
    run = Driver(sop, restore)
    run.complete("receive", DISPOSE)
    first_guid = run.wf.ready_user_tasks()[0].guid
    run.complete("follow_up", FOLLOW_UP)
    assert run.wf.waiting_messages() == ["pelapor_rating"]
    run.deliver("pelapor_rating", UNHAPPY)
    assert not run.wf.completed
    assert run.ready() == ["follow_up"]
    assert run.wf.ready_user_tasks()[0].guid != first_guid
    assert run.wf.data["reopened"] is True
    run.complete("follow_up", {"tindak_lanjut": "Jalan sudah diaspal ulang minggu ini."})
    assert run.wf.waiting_messages() == ["pelapor_rating"]
    run.deliver("pelapor_rating", {**UNHAPPY, "rating": 2})
    assert run.wf.completed
    assert run.ready() == [] and run.wf.waiting_messages() == []
    data = run.wf.data
    assert data["result"] == "closed"
    assert data["reopened"] is True
    assert data["pelapor_rating"]["rating"] == 2
    assert run.dumps == (6 if restore else 0)


@RESTORE
def test_sop_bukan_wewenang(sop: CompiledDefinition, restore: bool) -> None:
    run = Driver(sop, restore)
    run.complete("receive", {"outcome": "bukan_wewenang", "reason": "Urusan provinsi"})
    assert run.wf.completed
    assert run.wf.data["result"] == "bukan_wewenang"


@RESTORE
def test_intake_bukan_wewenang_from_instansi_loops_back_to_verify(
    intake: CompiledDefinition, restore: bool
) -> None:
    run = Driver(intake, restore)
    assert [(t.bpmn_id, t.lane) for t in run.wf.ready_user_tasks()] == [
        ("verify", "Admin Nasional")
    ]
    first_guid = run.wf.ready_user_tasks()[0].guid
    run.complete("verify", {"outcome": "forward", "target_instansi": "34.04"})
    assert run.ready() == []
    assert run.wf.waiting_messages() == ["instansi_result"]
    run.deliver("instansi_result", {"result": "bukan_wewenang"})
    assert not run.wf.completed
    assert run.ready() == ["verify"]
    assert run.wf.ready_user_tasks()[0].guid != first_guid
    assert run.wf.waiting_messages() == []
    # Admin Nasional forwards elsewhere; this time the instansi closes the report.
    run.complete("verify", {"outcome": "forward", "target_instansi": "51.03"})
    assert run.wf.waiting_messages() == ["instansi_result"]
    run.deliver("instansi_result", {"result": "closed"})
    assert run.wf.completed
    assert run.wf.data["target_instansi"] == "51.03"


@RESTORE
def test_intake_tunda_waits_for_pelapor_info(intake: CompiledDefinition, restore: bool) -> None:
    run = Driver(intake, restore)
    run.complete("verify", {"outcome": "tunda", "reason": "Lokasi kurang jelas"})
    assert run.ready() == []
    assert run.wf.waiting_messages() == ["pelapor_info"]
    run.deliver("pelapor_info", {"text": "Di depan Pasar Sleman"})
    assert run.ready() == ["verify"]
    assert run.wf.data["pelapor_info"] == {"text": "Di depan Pasar Sleman"}
    run.complete("verify", {"outcome": "arsipkan"})
    assert run.wf.completed


# ----------------------------------------------------------------------------- refusals at run time


@RESTORE
def test_completing_unknown_or_done_task_raises(sop: CompiledDefinition, restore: bool) -> None:
    run = Driver(sop, restore)
    done = run.wf.ready_user_tasks()[0].guid
    run.complete("receive", DISPOSE)
    with pytest.raises(TaskNotReady):
        run.wf.complete_task(done, DISPOSE)
    assert run.ready() == ["follow_up"]


@pytest.mark.parametrize("guid", ["00000000-0000-0000-0000-000000000000", "not-a-guid"])
def test_completing_unknown_guid_raises_task_not_ready(sop: CompiledDefinition, guid: str) -> None:
    wf = start(sop)
    with pytest.raises(TaskNotReady):
        wf.complete_task(guid, DISPOSE)
    assert [t.bpmn_id for t in wf.ready_user_tasks()] == ["receive"]


def test_completing_a_non_user_task_raises(sop: CompiledDefinition) -> None:
    wf = start(sop)
    start_task = next(t for t in wf._wf.get_tasks() if t.task_spec.name == "start")
    with pytest.raises(TaskNotReady):
        wf.complete_task(str(start_task.id), {})


@RESTORE
def test_message_not_waited_for_raises(sop: CompiledDefinition, restore: bool) -> None:
    run = Driver(sop, restore)
    with pytest.raises(TaskNotReady):
        run.wf.deliver_message("pelapor_rating", HAPPY)  # still at `receive`
    run.complete("receive", DISPOSE)
    run.complete("follow_up", FOLLOW_UP)
    with pytest.raises(TaskNotReady):
        run.wf.deliver_message("pelapor_info", {"text": "salah proses"})
    assert run.wf.waiting_messages() == ["pelapor_rating"]
    run.deliver("pelapor_rating", HAPPY)
    assert run.wf.completed
    with pytest.raises(TaskNotReady):
        run.wf.deliver_message("pelapor_rating", HAPPY)


# ----------------------------------------------------------------------------- versions and caches


def waiting_for_rating(sop: CompiledDefinition) -> str:
    wf = start(sop)
    wf.complete_task(wf.ready_user_tasks()[0].guid, DISPOSE)
    wf.complete_task(wf.ready_user_tasks()[0].guid, FOLLOW_UP)
    return wf.dump()


def test_state_records_the_serializer_version(sop: CompiledDefinition) -> None:
    assert SERIALIZER_VERSION == SERIALIZER.VERSION == Workflow.serializer_version
    state = json.loads(waiting_for_rating(sop))
    assert state["serializer_version"] == SERIALIZER_VERSION
    restored = Workflow(load_state(json.dumps(state), sop.spec_json))
    assert restored.waiting_messages() == ["pelapor_rating"]


def test_load_state_rejects_non_objects(sop: CompiledDefinition) -> None:
    with pytest.raises(ValueError):
        load_state("[]", sop.spec_json)
    with pytest.raises(ValueError):
        load_state(waiting_for_rating(sop), "[]")


def test_state_from_serializer_1_4_is_migrated(sop: CompiledDefinition) -> None:
    """SpiffWorkflow 3.2 migrates 1.4 states to 1.5 while loading.

    The only 1.4 -> 1.5 change concerns children of event-based gateways; a process without one
    serializes identically in both versions apart from the version key, so a genuine 1.4 state
    of this SOP is the current state with `serializer_version` "1.4".
    """
    assert SERIALIZER_VERSION == "1.5"
    assert "1.4" in MIGRATIONS
    spec = json.loads(sop.spec_json)
    typenames = {ts["typename"] for ts in spec["spec"]["task_specs"].values()}
    assert "EventBasedGateway" not in typenames
    assert spec["subprocess_specs"] == {}
    state = json.loads(waiting_for_rating(sop))
    assert state["subprocesses"] == {}
    state["serializer_version"] = "1.4"
    old = Workflow.load(json.dumps(state), sop.spec_json)
    assert old.waiting_messages() == ["pelapor_rating"]
    assert json.loads(old.dump())["serializer_version"] == SERIALIZER_VERSION
    old.deliver_message("pelapor_rating", HAPPY)
    assert old.completed and old.data["result"] == "closed"


def test_clear_caches_then_load_again(sop: CompiledDefinition) -> None:
    state = waiting_for_rating(sop)
    workflow_module.clear_caches()
    restored = Workflow.load(state, sop.spec_json)
    assert restored.waiting_messages() == ["pelapor_rating"]
    restored.deliver_message("pelapor_rating", HAPPY)
    assert restored.completed and restored.data["result"] == "closed"
    workflow_module.clear_caches()
    fresh = start(sop)
    assert [t.bpmn_id for t in fresh.ready_user_tasks()] == ["receive"]
