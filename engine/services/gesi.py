"""The pelapor's optional GESI answers on a report (gender, disability, vulnerable group): given
only if they chose to when filing, used only for disaggregated statistics, and deleted whenever
they ask (UU 27/2022 on personal data protection).

Only the pelapor, known by the secret of their report, may delete them; anyone else gets 404,
exactly like an unknown tracking id. The deletion is audited with the report's id only: the
audit trail never holds the answers.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from engine.models.reports import GESI_CHOICES
from engine.services import audit, reports

FIELDS = tuple(GESI_CHOICES)


def delete(session: Session, *, tracking_id: str, secret: str | None) -> list[str]:
    """Clear the GESI answers of the pelapor's report; one transaction. Returns the names of
    the answers that were cleared (none when none were given or all were deleted before; then
    nothing is written)."""
    with session.begin():
        report = reports.find_owned(session, tracking_id=tracking_id, secret=secret)
        cleared = [name for name in FIELDS if getattr(report, name) is not None]
        for name in cleared:
            setattr(report, name, None)
        if cleared:
            audit.record(
                session, actor="pelapor", action="report.gesi_deleted", report_id=report.id
            )
    return cleared
