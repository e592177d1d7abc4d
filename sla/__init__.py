"""Service levels: working-day calendars, deadlines, the scheduler, escalation, notifications.

`install()` subscribes the SLA bookkeeping to the engine's in-transaction events; every process
that runs engine services (web workers, schedulers, CLI) calls it once.
"""


def install() -> None:
    from sla import bpmn_timers, deadlines, pelapor_notices

    bpmn_timers.install()
    deadlines.install()
    pelapor_notices.install()
