"""Service levels: working-day calendars, deadlines, the scheduler, escalation, notifications.

`install()` subscribes the SLA bookkeeping to the engine's in-transaction events; every process
that runs engine services (web workers, schedulers, CLI) calls it once.
"""


def install() -> None:
    from engine.services import bpmn_lint
    from sla import bpmn_timers, changes, deadlines, pelapor_notices, pelapor_privacy, policies

    bpmn_lint.register_task_rule(policies.lint_sla)

    bpmn_timers.install()
    changes.install()
    deadlines.install()
    pelapor_notices.install()
    pelapor_privacy.install()
