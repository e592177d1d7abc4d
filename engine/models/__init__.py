"""SQLAlchemy models of the domain; importing this package registers every table on `Base`."""

from engine.models.attachments import Attachment
from engine.models.audit import AuditEvent
from engine.models.exports import ExportJob
from engine.models.instansi import Instansi, Region, Unit
from engine.models.integration import ChangeEvent, ChangeSequence, IdempotencyRecord, ReportChannel
from engine.models.oidc import OidcLink, OidcProvider
from engine.models.process import HumanTask, ProcessDefinition, ProcessInstance
from engine.models.reports import Report, TimelineEntry
from engine.models.users import AuthToken, RoleMembership, User

__all__ = [
    "Attachment",
    "AuditEvent",
    "AuthToken",
    "ChangeEvent",
    "ChangeSequence",
    "ExportJob",
    "HumanTask",
    "IdempotencyRecord",
    "Instansi",
    "OidcLink",
    "OidcProvider",
    "ProcessDefinition",
    "ProcessInstance",
    "Region",
    "Report",
    "ReportChannel",
    "RoleMembership",
    "TimelineEntry",
    "Unit",
    "User",
]
