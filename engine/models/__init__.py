"""SQLAlchemy models of the domain; importing this package registers every table on `Base`."""

from engine.models.attachments import Attachment
from engine.models.audit import AuditEvent
from engine.models.instansi import Instansi, Region, Unit
from engine.models.process import HumanTask, ProcessDefinition, ProcessInstance
from engine.models.reports import Report, TimelineEntry
from engine.models.users import AuthToken, RoleMembership, User

__all__ = [
    "Attachment",
    "AuditEvent",
    "AuthToken",
    "HumanTask",
    "Instansi",
    "ProcessDefinition",
    "ProcessInstance",
    "Region",
    "Report",
    "RoleMembership",
    "TimelineEntry",
    "Unit",
    "User",
]
