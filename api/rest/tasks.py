"""The officers' task inbox: list, open, claim and complete human tasks."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView

from api.db import db
from api.rest.auth import current_principal
from api.rest.blueprint import Blueprint
from api.schemas.tasks import CompleteSchema, TaskDetailSchema, TaskListQuerySchema, TaskSchema
from engine.models import HumanTask
from engine.services import tasks
from sla import views as sla_views

blp = Blueprint(
    "tasks",
    __name__,
    url_prefix="/api/v1/tasks",
    description="Officers' human tasks (bearer token)",
)
SECURITY = [{"bearer": []}]
TASK_FIELDS = tuple(TaskSchema().fields)


def with_sla(rows: list[HumanTask]) -> list[dict[str, Any]]:
    """Task fields plus each task's SLA state and working days left."""
    slas = sla_views.task_sla(db.session(), rows)
    return [
        {
            **{name: getattr(row, name) for name in TASK_FIELDS if hasattr(row, name)},
            "sla_state": slas[row.id].state,
            "working_days_left": slas[row.id].working_days_left,
        }
        for row in rows
    ]


@blp.route("")
class Tasks(MethodView):
    @blp.doc(security=SECURITY)
    @blp.arguments(TaskListQuerySchema, location="query")
    @blp.response(200, TaskSchema(many=True))
    def get(self, query: dict[str, Any]) -> Any:
        """My tasks and my instansi/unit's open tasks, soonest due first; `scope=all`: every
        instansi's open tasks (national admins, to read; they act through supervision)."""
        return with_sla(tasks.list_for(db.session(), principal=current_principal(), **query))


@blp.route("/<int:task_id>")
class TaskById(MethodView):
    @blp.doc(security=SECURITY)
    @blp.response(200, TaskDetailSchema)
    def get(self, task_id: int) -> dict[str, Any]:
        """One task with its report and the JSON Schema of its form (national admins read
        every instansi's tasks)."""
        view = tasks.read(db.session(), principal=current_principal(), task_id=task_id)
        (body,) = with_sla([view.task])
        return {**body, "form_schema": view.form_schema, "report": view.report}


@blp.route("/<int:task_id>/claim")
class Claim(MethodView):
    @blp.doc(security=SECURITY)
    @blp.response(200, TaskSchema)
    def post(self, task_id: int) -> Any:
        """Take a task of my instansi/unit so others see it is being worked on."""
        return tasks.claim(db.session(), principal=current_principal(), task_id=task_id)


@blp.route("/<int:task_id>/complete")
class Complete(MethodView):
    @blp.doc(security=SECURITY)
    @blp.arguments(CompleteSchema)
    @blp.response(200, TaskSchema)
    def post(self, body: dict[str, Any], task_id: int) -> Any:
        """Complete a task with the form data its BPMN task asks for."""
        return tasks.complete(
            db.session(), principal=current_principal(), task_id=task_id, data=body["data"]
        )
