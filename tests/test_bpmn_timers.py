"""BPMN timers run on `engine.clock`: a waiting timer is a pending `bpmn_timer` deadline at its
exact due moment, and the sweep wakes the instance then, never earlier.

The clock is pinned in 2033, years away from the real date, so anything that still read the
wall clock (SpiffWorkflow's own timer code does) would show: a due moment computed from it would
be wrong, and a wall-clock comparison would never fire a 2033 timer.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from engine import clock, events
from engine.models import AuditEvent, HumanTask, Instansi, Report
from engine.runtime import Workflow, compile_bpmn
from engine.runtime.timers import ClockDurationTimerEventDefinition
from engine.services import definitions
from sla import bpmn_timers
from sla.models import Deadline
from sla.sweep import sweep
from tests.helpers import Api

FIXTURES = Path(__file__).resolve().parent / "bpmn"
T0 = datetime(2033, 3, 7, 2, 0, tzinfo=UTC)  # a Monday, 09:00 WIB
SECOND = timedelta(seconds=1)
FORWARD = {"outcome": "forward", "target_instansi": "34.04"}
DISPOSE = {"outcome": "disposisi", "target_unit": "34.04-DPUPKP"}
FOLLOW_UP = {"tindak_lanjut": "Perbaikan jalan sudah dijadwalkan oleh DPUPKP."}


@pytest.fixture()
def api(fresh_client: Any) -> Api:
    return Api(fresh_client)


def disposed(api: Api, factory: Any, sop: str, *, at_moment: datetime) -> str:
    """Deploy fixture `sop` for Kabupaten Sleman (34.04), file a report at T0, forward it
    there and dispose it at `at_moment`; returns the tracking id."""
    with factory() as s, s.begin():
        sleman = s.scalar(select(Instansi).where(Instansi.code == "34.04"))
        xml = (FIXTURES / sop).read_bytes()
        definitions.deploy(s, key="sop-34.04", kind="sop", instansi_id=sleman.id, xml=xml)
    at(T0)
    tracking = api.file()["tracking_id"]
    api.complete("nasional", tracking, FORWARD)
    at(at_moment)
    api.complete("sleman", tracking, DISPOSE)
    return tracking


def rows(factory: Any, tracking: str, *columns: Any, kind: str | None = None) -> list[tuple]:
    """`columns` of the report's timer deadlines (`kind`) or else of its tasks, oldest first."""
    table: Any = Deadline if kind else HumanTask
    stmt = select(*columns).join(Report, Report.id == table.report_id)
    stmt = stmt.where(Report.tracking_id == tracking).order_by(table.id)
    with factory() as s:
        return [tuple(r) for r in s.execute(stmt.where(table.kind == kind) if kind else stmt)]


def timer_rows(factory: Any, tracking: str) -> list[tuple]:
    return rows(factory, tracking, Deadline.status, Deadline.due_at, kind=bpmn_timers.KIND)


def tasks(factory: Any, tracking: str) -> list[tuple]:
    return rows(factory, tracking, HumanTask.bpmn_id, HumanTask.status)


def at(moment: datetime) -> None:
    clock.set_clock(moment)


def test_intermediate_timer_wakes_the_instance_exactly_at_its_moment(
    api: Api, factory: Any
) -> None:
    settled = T0 + timedelta(minutes=17, microseconds=250)
    tracking = disposed(api, factory, "sop-timer-catch.bpmn", at_moment=settled)
    due = settled + timedelta(hours=2)
    assert timer_rows(factory, tracking) == [("pending", due)]
    assert tasks(factory, tracking)[-1] == ("receive", "completed")  # nothing open meanwhile

    at(due - SECOND)
    sweep(factory, scheduler="t")
    assert timer_rows(factory, tracking) == [("pending", due)]
    assert [t for t in tasks(factory, tracking) if t[1] == "open"] == []

    at(due)
    sweep(factory, scheduler="t")
    assert timer_rows(factory, tracking) == [("fired", due)]
    follow_up = api.task_for("sleman.pu", tracking)
    assert follow_up["bpmn_id"] == "follow_up" and follow_up["milestone"] == "follow-up"
    with factory() as s:
        task = s.scalar(select(HumanTask).where(HumanTask.bpmn_id == "follow_up"))
        assert task is not None and task.created_at == due  # its SLA counts from the wake
        assert s.scalar(
            select(Deadline.id).where(Deadline.task_id == task.id, Deadline.kind == "due")
        )
        actions = s.scalars(select(AuditEvent.action).where(AuditEvent.report_id == task.report_id))
        assert "instance.timer_fired" in list(actions)
    sweep(factory, scheduler="t")  # fires nothing twice
    assert timer_rows(factory, tracking) == [("fired", due)]

    api.complete("sleman.pu", tracking, FOLLOW_UP)
    assert api.report(tracking)["status"] == "followed_up"


def test_interrupting_boundary_timer_cancels_the_task_and_takes_the_timer_path(
    api: Api, factory: Any
) -> None:
    tracking = disposed(api, factory, "sop-timer-boundary.bpmn", at_moment=T0)
    due = T0 + timedelta(hours=4)
    assert timer_rows(factory, tracking) == [("pending", due)]
    assert api.task_for("sleman.pu", tracking)["bpmn_id"] == "follow_up"

    at(due - SECOND)
    sweep(factory, scheduler="t")
    assert tasks(factory, tracking)[-1] == ("follow_up", "open")

    at(due)
    sweep(factory, scheduler="t")
    assert timer_rows(factory, tracking) == [("fired", due)]
    assert tasks(factory, tracking)[-2:] == [
        ("follow_up", "cancelled"),
        ("follow_up_by_admin", "open"),
    ]
    with factory() as s:  # the cancelled task's SLA deadlines went with it
        pending = select(Deadline.kind).join(HumanTask, HumanTask.id == Deadline.task_id)
        pending = pending.where(HumanTask.bpmn_id == "follow_up", Deadline.status == "pending")
        assert s.scalars(pending).all() == []
    by_admin = api.task_for("sleman", tracking)  # Admin Instansi lane, default follow-up form
    assert by_admin["milestone"] == "follow-up"
    assert "tindak_lanjut" in by_admin["form_schema"]["required"]
    api.complete("sleman", tracking, FOLLOW_UP)
    assert api.report(tracking)["status"] == "followed_up"
    assert timer_rows(factory, tracking) == [("fired", due)]


def test_completing_the_task_in_time_cancels_its_boundary_timer(api: Api, factory: Any) -> None:
    tracking = disposed(api, factory, "sop-timer-boundary.bpmn", at_moment=T0)
    at(T0 + timedelta(hours=3, minutes=59))
    api.complete("sleman.pu", tracking, FOLLOW_UP)
    assert timer_rows(factory, tracking) == [("cancelled", T0 + timedelta(hours=4))]
    at(T0 + timedelta(days=1))
    sweep(factory, scheduler="t")
    assert [t for t in tasks(factory, tracking) if t[1] == "open"] == []
    assert api.report(tracking)["status"] == "followed_up"


def test_processes_without_timers_plan_nothing(api: Api, factory: Any) -> None:
    seen: list[dict[str, Any]] = []

    def record(_session: Any, event: events.Event) -> None:
        seen.append(dict(event.payload))

    events.subscribe(events.INSTANCE_SETTLED, record)
    try:
        at(T0)
        tracking = api.file()["tracking_id"]
        api.complete("nasional", tracking, FORWARD)
    finally:
        events.unsubscribe(events.INSTANCE_SETTLED, record)
    assert seen and all(not p["uses_timers"] and p["timers"] == [] for p in seen)
    assert timer_rows(factory, tracking) == []


def test_a_stale_timer_deadline_fires_harmlessly(api: Api, factory: Any) -> None:
    at(T0)
    tracking = api.file()["tracking_id"]
    with factory() as s, s.begin():
        report = s.scalar(select(Report).where(Report.tracking_id == tracking))
        task = s.scalar(select(HumanTask).where(HumanTask.report_id == report.id))
        row = Deadline(kind=bpmn_timers.KIND, report_id=report.id, due_at=T0, created_at=T0)
        row.status, row.instance_id = "pending", task.instance_id  # the intake: no timers
        s.add(row)
    assert sweep(factory, scheduler="t").failed == 0
    assert timer_rows(factory, tracking) == [("fired", T0)]
    assert tasks(factory, tracking) == [("verify", "open")]


# ------------------------------------------------------------ the runtime alone (no database)

RESTORE = pytest.mark.parametrize("restore", [False, True], ids=["in_memory", "save_restore"])


class Run:
    """One instance in memory; with `restore`, dumped and loaded again before every step."""

    def __init__(self, xml: bytes, restore: bool, data: dict[str, Any] | None = None) -> None:
        compiled = compile_bpmn(xml)
        self.spec_json, self.restore = compiled.spec_json, restore
        self._wf = Workflow.start(compiled.checksum, compiled.spec_json, data or {})

    @property
    def wf(self) -> Workflow:
        if self.restore:
            state = self._wf.dump()
            self._wf = Workflow.load(state, self.spec_json)
            assert self._wf.dump() == state
        return self._wf

    def ready(self) -> list[str]:
        return [t.bpmn_id for t in self.wf.ready_user_tasks()]


@RESTORE
def test_runtime_timer_fired_while_saved(restore: bool) -> None:
    at(T0)
    run = Run((FIXTURES / "sop-timer-catch.bpmn").read_bytes(), restore, {"reopened": False})
    wf = run.wf
    wf.complete_task(wf.ready_user_tasks()[0].guid, DISPOSE)
    assert run.wf.waiting_timers() == [T0 + timedelta(hours=2)]
    at(T0 + timedelta(hours=2) - timedelta(microseconds=1))
    assert run.wf.refresh_timers() is False
    at(T0 + timedelta(days=400))  # long after: it fires once, on the next wake
    assert run.wf.refresh_timers() is True
    assert run.ready() == ["follow_up"]
    assert run.wf.waiting_timers() == [] and run.wf.refresh_timers() is False


def test_spec_json_is_the_librarys_and_loads_into_clock_timers() -> None:
    compiled = compile_bpmn((FIXTURES / "sop-timer-boundary.bpmn").read_bytes())
    spec = json.loads(compiled.spec_json)["spec"]["task_specs"]["follow_up_timeout"]
    assert spec["event_definition"]["typename"] == "DurationTimerEventDefinition"
    run = Run((FIXTURES / "sop-timer-boundary.bpmn").read_bytes(), restore=True)
    task_spec = run.wf._wf.spec.task_specs["follow_up_timeout"]
    assert isinstance(task_spec.event_definition, ClockDurationTimerEventDefinition)


def _process(body: str, *flows: str) -> bytes:
    pairs = [flow.split(">") for flow in flows]
    body += "".join(
        f'<bpmn:sequenceFlow id="f{i}" sourceRef="{a}" targetRef="{b}"/>'
        for i, (a, b) in enumerate(pairs)
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?><bpmn:definitions '
        'xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" '
        'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" id="d" targetNamespace="t">'
        f'<bpmn:process id="p" isExecutable="true">{body}</bpmn:process></bpmn:definitions>'
    ).encode()


def _timer(kind: str, expression: str) -> str:
    return (
        f'<bpmn:timerEventDefinition id="{kind}_def"><bpmn:{kind} '
        f'xsi:type="bpmn:tFormalExpression">{expression}</bpmn:{kind}></bpmn:timerEventDefinition>'
    )


TIME_DATE = _process(
    '<bpmn:startEvent id="s"/><bpmn:userTask id="work"/><bpmn:endEvent id="e"/>'
    '<bpmn:scriptTask id="compute"><bpmn:script>wake_at = "2033-03-07T09:00:00+07:00"'
    '</bpmn:script></bpmn:scriptTask><bpmn:intermediateCatchEvent id="wait">'
    + _timer("timeDate", "wake_at")
    + "</bpmn:intermediateCatchEvent>",
    *("s>compute", "compute>wait", "wait>work", "work>e"),
)
CYCLE = _process(
    '<bpmn:startEvent id="s"/><bpmn:userTask id="work"/><bpmn:endEvent id="e"/>'
    '<bpmn:boundaryEvent id="nag" attachedToRef="work" cancelActivity="false">'
    + _timer("timeCycle", '"R3/PT1H"')
    + '</bpmn:boundaryEvent><bpmn:scriptTask id="remind"><bpmn:script>reminded = True'
    '</bpmn:script></bpmn:scriptTask><bpmn:endEvent id="e2"/>',
    *("s>work", "work>e", "nag>remind", "remind>e2"),
)


@RESTORE
def test_computed_time_date_fires_when_our_clock_reaches_it(restore: bool) -> None:
    at(T0 - timedelta(hours=1))
    run = Run(TIME_DATE, restore)
    assert run.wf.waiting_timers() == [T0]  # 09:00 WIB is 02:00 UTC
    at(T0 - timedelta(microseconds=1))
    assert run.wf.refresh_timers() is False and run.ready() == []
    at(T0)
    assert run.wf.refresh_timers() is True and run.ready() == ["work"]


@RESTORE
def test_cycle_timer_counts_from_our_clock_and_catches_up(restore: bool) -> None:
    at(T0)
    run = Run(CYCLE, restore)
    assert run.wf.waiting_timers() == [T0 + timedelta(hours=1)]
    at(T0 + timedelta(hours=2, minutes=30))  # two cycles are due: one wake runs both
    assert run.wf.refresh_timers() is True
    assert run.wf.waiting_timers() == [T0 + timedelta(hours=3)]
    assert run.ready() == ["work"]  # a non-interrupting timer leaves the task ready
    at(T0 + timedelta(hours=3))
    assert run.wf.refresh_timers() is True and run.wf.waiting_timers() == []
