"""BPMN timers on our clock: SpiffWorkflow's timer event definitions with `engine.clock` as "now".

SpiffWorkflow 3.2 reads the wall clock inside its timer code (`datetime.now(timezone.utc)` when
a duration timer becomes ready, when a cycle starts and whenever `refresh_timers` asks whether a
timer is due), so a pinned or shared test clock would never reach BPMN timers. Subclasses are the
contained fix: `has_fired` (duration, date) and `cycle_complete` (cycle) are the only methods
that read the time, and ours take it from `engine.clock.now()`. They also fire *at* the due
moment (`<=`, the library uses `<`), so a sweep that wakes an instance exactly at a timer's
`deadline.due_at` sees the timer fire.

The classes are registered in our one serializer under the library's own typenames
(`DurationTimerEventDefinition`...), so spec JSON is byte-for-byte what the library writes: specs
deployed before this module existed load into our classes, and the parser needs no change
(compiled specs only reach a running workflow through the serializer, see `workflow._specs` and
`serializer.load_state`). Registration happens on import; `engine.runtime.workflow` imports this
module, and every `engine.runtime` import runs the package `__init__`, which imports that.

Not covered: a timer combined with other triggers on one event (`MultipleEventDefinition`): the
library keeps one `event_value` for all of them, and `waiting_timers` does not report it.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from SpiffWorkflow.bpmn.serializer.default.event_definition import (
    TimerConditionalEventDefinitionConverter,
)
from SpiffWorkflow.bpmn.specs.event_definitions import timer as spiff_timer

from engine import clock
from engine.runtime.serializer import SERIALIZER

Library = spiff_timer.TimerEventDefinition


def _aware(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise ValueError("a timer date must carry its UTC offset (docs/bpmn-contract.md §9)")
    return value


def due_moment(value: Any) -> datetime | None:
    """The UTC moment a waiting timer's `PendingBpmnEvent.value` stands for, if it is one."""
    if isinstance(value, datetime):
        return _aware(value).astimezone(UTC)
    if isinstance(value, dict):  # a cycle with no cycles left
        return None
    if isinstance(value, str) and value.strip():
        try:
            moment = Library.parse_time_or_duration(value.strip())
        except Exception:  # noqa: BLE001 - an unparsable value is no moment
            return None
        return moment if isinstance(moment, datetime) else None
    return None


def _recurring(expression: str, now: datetime) -> tuple[int, datetime, timedelta]:
    """`parse_iso_recurring_interval`, counting a start-less interval from `now`."""
    components = expression.upper().replace("--", "/").strip("R").split("/")
    if len(components) == 2 and components[1].startswith("P"):
        cycles = int(components[0]) if components[0] else -1
        parsed = Library.parse_iso_duration(components[1])
        duration = Library.get_timedelta_from_start(parsed, now)
        return cycles, now + duration, duration
    cycles, start, duration = Library.parse_iso_recurring_interval(expression)
    return cycles, start, duration


class ClockTimeDateEventDefinition(spiff_timer.TimeDateEventDefinition):
    """A `timeDate` timer: the expression (a string with an offset, or an aware datetime held
    in a variable) is evaluated once; it fires when `engine.clock` reaches it."""

    def has_fired(self, my_task: Any) -> bool:
        event_value = my_task._get_internal_data("event_value")
        if event_value is None:
            event_value = my_task.workflow.script_engine.evaluate(my_task, self.expression)
            if isinstance(event_value, datetime):
                event_value = _aware(event_value).isoformat()
            my_task._set_internal_data(event_value=event_value)
        if Library.parse_time_or_duration(event_value) <= clock.now():
            my_task._set_internal_data(event_fired=True)
        return bool(my_task._get_internal_data("event_fired", False))


class ClockDurationTimerEventDefinition(spiff_timer.DurationTimerEventDefinition):
    """A `timeDuration` timer: due at `engine.clock` when its task became ready, plus the
    duration (months counted from that moment, as the library does)."""

    def has_fired(self, my_task: Any) -> bool:
        event_value = my_task._get_internal_data("event_value")
        if event_value is None:
            expression = my_task.workflow.script_engine.evaluate(my_task, self.expression)
            parsed = Library.parse_iso_duration(expression)
            start = clock.now()
            event_value = (start + Library.get_timedelta_from_start(parsed, start)).isoformat()
            my_task._set_internal_data(event_value=event_value)
        if Library.get_datetime(event_value) <= clock.now():
            my_task._set_internal_data(event_fired=True)
        return bool(my_task._get_internal_data("event_fired", False))


class ClockCycleTimerEventDefinition(spiff_timer.CycleTimerEventDefinition):
    """A `timeCycle` timer (`R3/PT1H`, `R/2026-07-01T08:00:00+07:00/P1D`...) on `engine.clock`.

    Each refresh advances at most one cycle, as in the library; `Workflow.refresh_timers`
    refreshes until nothing changes, so a late wake catches up.
    """

    def cycle_complete(self, my_task: Any) -> bool:
        now = clock.now()
        event_value = my_task._get_internal_data("event_value")
        if event_value is None:
            expression = my_task.workflow.script_engine.evaluate(my_task, self.expression)
            cycles, start, duration = _recurring(expression, now)
            event_value = {
                "cycles": cycles,
                "next": start.isoformat(),
                "duration": duration.total_seconds(),
            }
        ready = False
        if event_value["cycles"] != 0:
            next_event = datetime.fromisoformat(event_value["next"])
            if next_event <= now:
                following = next_event + timedelta(seconds=event_value["duration"])
                event_value["next"] = following.isoformat()
                event_value["cycles"] -= 1
                ready = True
        else:
            my_task.internal_data.pop("event_value", None)
            my_task.internal_data["event_fired"] = True
        my_task._set_internal_data(event_value=event_value)
        return ready


CLOCK_TIMERS: dict[type, str] = {
    ClockTimeDateEventDefinition: "TimeDateEventDefinition",
    ClockDurationTimerEventDefinition: "DurationTimerEventDefinition",
    ClockCycleTimerEventDefinition: "CycleTimerEventDefinition",
}


# `PendingBpmnEvent.event_type` of a waiting timer (the class name): ours and the library's
TIMER_EVENT_TYPES = frozenset({*CLOCK_TIMERS.values(), *(cls.__name__ for cls in CLOCK_TIMERS)})


def install(registry: Any) -> None:
    """Make `registry` restore the library's timer typenames as our classes (idempotent).

    Serializing is unchanged: the library's classes and ours write the same typename and fields.
    """
    for cls, typename in CLOCK_TIMERS.items():
        TimerConditionalEventDefinitionConverter(cls, registry, typename=typename)


def is_timer(event_definition: Any) -> bool:
    return isinstance(event_definition, Library)


install(SERIALIZER.registry)
