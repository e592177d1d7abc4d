"""Exports of reports as background jobs: ask for one, follow its progress, download the file;
the scheduler runs the queued ones, and takes again a job whose worker died.

Asking (`create`) checks the caller and the filters at once (errors name the field) and queues
an `ExportJob`; only its requester ever sees it (anyone else: NotFound, like a missing job).
Running (`run_next`, from the scheduler) claims the oldest queued job, or a running one whose
lease ran out, with a lease of `LEASE`; the requester's roles are read again (a deactivated
person or a revoked API key gets nothing: `requester_inactive`), and the rows are streamed in
keyset pages of `PAGE_ROWS` reports (each page its own short transaction, only the rows that
existed when the run began), written in constant memory (`export_writers`), with progress and
the lease renewed after every page. The file is written under a temporary name and renamed to
a random one when complete, so a download never sees half a file. A job taken again starts
over; after `MAX_ATTEMPTS` lost workers it fails (`worker_lost`). What each role gets of each
report is `export_scope`'s business. Files are removed after the retention period (`purge`,
called by `sla.retention`); a finished job past it reads as `expired` at once.
"""

from __future__ import annotations

import logging
import os
import re
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session, sessionmaker

from engine import clock
from engine.db import valid_id
from engine.errors import Conflict, DomainError, Forbidden, InvalidInput, NotFound
from engine.models import ExportJob, Report, User
from engine.models.exports import DONE, EXPIRED, FAILED, FORMATS, QUEUED, RUNNING
from engine.models.users import ApiKey
from engine.services import api_keys, audit, auth, officer_notes
from engine.services import export_scope as scoping
from engine.services.auth import Principal
from engine.services.export_writers import MIMETYPES, open_rows

log = logging.getLogger(__name__)

PAGE_ROWS = 1000  # reports per keyset page; progress and the lease are renewed per page
LEASE = timedelta(minutes=2)  # a running job whose lease is older belongs to a dead worker
MAX_ATTEMPTS = 3
MAX_PENDING = 3  # queued or running jobs per requester
PERMISSION = "reports:read"  # what an API key needs
FILE_NAME = re.compile(r"[0-9a-f]{32}\.(csv|xlsx)")


class Gone(DomainError):
    status = 410
    code = "expired"


class LeaseLost(Exception):
    """Another worker took the job over (this one was too slow to renew its lease)."""


@dataclass(frozen=True)
class ExportView:
    id: int
    state: str
    format: str
    filters: dict[str, Any]
    rows_total: int | None
    rows_done: int
    percent: float
    error_code: str | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    expires_at: datetime | None


@dataclass(frozen=True)
class ExportFile:
    path: Path
    download_name: str
    mimetype: str


def _view(job: ExportJob, retention: timedelta | None, now: datetime) -> ExportView:
    expires = None
    if job.state == DONE and job.finished_at is not None and retention is not None:
        expires = job.finished_at + retention
    state = EXPIRED if expires is not None and now >= expires else job.state
    if job.state == DONE:
        percent = 100.0
    elif job.rows_total:
        percent = round(min(job.rows_done / job.rows_total, 1.0) * 100, 1)
    else:
        percent = 0.0
    return ExportView(
        id=job.id,
        state=state,
        format=job.format,
        filters=dict(job.filters),
        rows_total=job.rows_total,
        rows_done=job.rows_done,
        percent=percent,
        error_code=job.error_code,
        created_at=job.created_at,
        started_at=job.started_at,
        finished_at=job.finished_at,
        expires_at=expires if state == DONE else None,
    )


# --- asking and reading ----------------------------------------------------------------------


def create(
    session: Session,
    *,
    principal: Principal,
    filters: Mapping[str, Any],
    fmt: str = "csv",
    retention: timedelta | None = None,
) -> ExportView:
    """Queue an export of the reports the principal may read, with `filters`
    (`export_scope.normalise`); one transaction, audited."""
    if fmt not in FORMATS:
        raise InvalidInput(f"format is one of {', '.join(FORMATS)}", field="format")
    if not principal.may(PERMISSION):
        raise Forbidden(f"this API key lacks the '{PERMISSION}' permission", field="Authorization")
    zone = officer_notes.time_zone(session, principal=principal)
    stored = scoping.normalise(filters, time_zone=zone)
    with session.begin():
        scope = scoping.scope_of(session, principal)
        if scope.empty:
            raise Forbidden(
                "only staff who handle or supervise reports may export them", field="role"
            )
        scoping.resolve(session, scope, stored)  # the instansi exists and is in scope
        pending = session.scalar(
            select(func.count(ExportJob.id)).where(
                ExportJob.requester_id == principal.user_id,
                ExportJob.state.in_((QUEUED, RUNNING)),
            )
        )
        if (pending or 0) >= MAX_PENDING:
            raise Conflict(
                f"at most {MAX_PENDING} exports may wait or run at once: wait for one to finish",
                code="too_many_exports",
            )
        now = clock.now()
        job = ExportJob(
            requester_id=principal.user_id,
            scope=scoping.describe(session, scope),
            filters=stored,
            format=fmt,
            state=QUEUED,
            rows_done=0,
            attempts=0,
            created_at=now,
        )
        session.add(job)
        session.flush()
        audit.record(
            session,
            actor=principal.actor,
            action="export.requested",
            data={"export_id": job.id, "format": fmt, "filters": stored},
        )
        return _view(job, retention, now)


def _own(session: Session, principal: Principal, export_id: int) -> ExportJob:
    job = session.get(ExportJob, export_id) if valid_id(export_id) else None
    if job is None or job.requester_id != principal.user_id:  # another's job: missing
        raise NotFound("no such export", field="export_id")
    return job


def get(
    session: Session, *, principal: Principal, export_id: int, retention: timedelta | None = None
) -> ExportView:
    """The requester's job with its progress (NotFound for anyone else)."""
    with session.begin():
        return _view(_own(session, principal, export_id), retention, clock.now())


def open_file(
    session: Session,
    *,
    principal: Principal,
    export_id: int,
    directory: str | os.PathLike[str],
    retention: timedelta,
) -> ExportFile:
    """The finished file of the requester's job: Conflict while it is not done, Gone after the
    retention period; the download is audited."""
    with session.begin():
        job = _own(session, principal, export_id)
        view = _view(job, retention, clock.now())
        if view.state == EXPIRED:
            raise Gone("the export's file was removed after its retention period")
        if view.state != DONE:
            raise Conflict(f"the export is {view.state}, not done", field="export_id")
        name = job.file_name or ""
        path = Path(directory) / name
        if not FILE_NAME.fullmatch(name) or not path.is_file():
            raise Gone("the export's file is no longer there")
        audit.record(
            session,
            actor=principal.actor,
            action="export.downloaded",
            data={"export_id": job.id},
        )
    return ExportFile(path, f"laporan-{job.id}.{job.format}", MIMETYPES[job.format])


# --- running ---------------------------------------------------------------------------------


def requester_principal(session: Session, user_id: int) -> Principal | None:
    """The requester as they are now: a person with their current roles, or an API key that is
    still live and may read reports; None when the account is gone or disabled."""
    user = session.get(User, user_id)
    if user is None or not user.active:
        return None
    key = session.scalar(select(ApiKey).where(ApiKey.user_id == user_id))
    if key is None:
        return auth.principal_of(session, user_id)
    granted = frozenset(key.permissions.split())
    if key.revoked_at is not None or PERMISSION not in granted:
        return None
    members = tuple(auth.Membership(role, key.instansi_id, None) for role in api_keys.KEY_ROLES)
    return Principal(user_id, key.prefix, members, api_key_id=key.id, permissions=granted)


Progress = Callable[[int, int], None]  # (rows done, rows total)


def write_rows(
    factory: sessionmaker,
    *,
    principal: Principal,
    stored: Mapping[str, Any],
    fmt: str,
    path: Path,
    progress: Progress | None = None,
    page_rows: int = PAGE_ROWS,
) -> int:
    """Write the export of `stored` filters for `principal` to `path`; returns the rows written.

    Keyset pages by report id, up to the newest id when it begins; `progress` after each page.
    """
    zone = ZoneInfo(stored["time_zone"])
    with factory() as session, session.begin():
        scope = scoping.scope_of(session, principal)
        if scope.empty:
            raise Forbidden("the requester may no longer export reports", field="role")
        filters = scoping.resolve(session, scope, stored)
        upto = session.scalar(select(func.max(Report.id))) or 0
        total = int(session.scalar(scoping.count(scope, filters, upto=upto)) or 0)
        started = clock.now()
    if progress is not None:
        progress(0, total)
    out = open_rows(fmt, path, scoping.COLUMNS)
    done, after = 0, 0
    try:
        while True:
            with factory() as session, session.begin():
                rows = session.execute(
                    scoping.page(scope, filters, after=after, upto=upto, limit=page_rows)
                ).all()
                dues = scoping.open_task_due(session, [r.id for r in rows])
            if not rows:
                break
            for r in rows:
                due = dues.get(r.id)
                out.write(
                    (
                        r.tracking_id,
                        r.created_at.astimezone(zone),
                        r.classification,
                        r.category,
                        r.status,
                        r.region_code,
                        r.region_name,
                        r.instansi_code,
                        r.instansi_name,
                        r.unit_code,
                        r.unit_name,
                        r.anonim,
                        r.rahasia,
                        r.title,
                        r.body,
                        r.pelapor_name,
                        r.pelapor_email,
                        r.pelapor_phone,
                        due.astimezone(zone) if due else None,
                        due < started if due else None,
                        r.closed_at.astimezone(zone) if r.closed_at else None,
                        r.updated_at.astimezone(zone),
                    )
                )
            done += len(rows)
            after = rows[-1].id
            del rows, dues
            if progress is not None:
                progress(done, total)
    finally:
        out.close()
    return done


def _claim(factory: sessionmaker, worker: str) -> tuple[int, int] | None:
    """Take the oldest queued job, or a running one whose lease ran out: (id, attempt)."""
    while True:
        with factory() as session, session.begin():
            now = clock.now()
            job = session.scalar(
                select(ExportJob)
                .where(
                    or_(
                        ExportJob.state == QUEUED,
                        and_(ExportJob.state == RUNNING, ExportJob.lease_until < now),
                    )
                )
                .order_by(ExportJob.id)
                .limit(1)
                .with_for_update(skip_locked=True)
            )
            if job is None:
                return None
            if job.attempts >= MAX_ATTEMPTS:
                log.warning("export %s failed: its worker was lost %d times", job.id, job.attempts)
                _fail(job, "worker_lost", now)
                continue
            job.state, job.attempts = RUNNING, job.attempts + 1
            job.lease_owner, job.lease_until = worker, now + LEASE
            job.started_at, job.rows_done, job.rows_total = now, 0, None
            return job.id, job.attempts


def _fail(job: ExportJob, code: str, now: datetime) -> None:
    job.state, job.error_code, job.finished_at = FAILED, code, now
    job.lease_owner = job.lease_until = None


def _held(session: Session, job_id: int, worker: str, attempt: int) -> ExportJob:
    """The job, locked, if this worker's lease on it still holds; else LeaseLost."""
    job = session.get(ExportJob, job_id, with_for_update=True)
    if job is None or job.state != RUNNING or job.lease_owner != worker or job.attempts != attempt:
        raise LeaseLost(job_id)
    return job


def _partials(directory: Path, job_id: int) -> list[Path]:
    return list(directory.glob(f"{job_id}-*.partial"))


def run_job(
    factory: sessionmaker,
    *,
    job_id: int,
    attempt: int,
    directory: str | os.PathLike[str],
    worker: str,
    page_rows: int = PAGE_ROWS,
) -> str:
    """Run a job this worker claimed; returns its final state (or `running` when another
    worker took it over meanwhile)."""
    folder = Path(directory)
    folder.mkdir(parents=True, exist_ok=True)
    for stale in _partials(folder, job_id):  # a lost worker's unfinished file
        stale.unlink(missing_ok=True)
    partial = folder / f"{job_id}-{attempt}.partial"
    with factory() as session, session.begin():
        job = _held(session, job_id, worker, attempt)
        stored, fmt = dict(job.filters), job.format
        principal = requester_principal(session, job.requester_id)
        if principal is None:
            _fail(job, "requester_inactive", clock.now())
            return FAILED

    def progress(done: int, total: int) -> None:
        with factory() as session, session.begin():
            job = _held(session, job_id, worker, attempt)
            job.rows_done, job.rows_total = done, total
            job.lease_until = clock.now() + LEASE

    try:
        rows = write_rows(
            factory,
            principal=principal,
            stored=stored,
            fmt=fmt,
            path=partial,
            progress=progress,
            page_rows=page_rows,
        )
        name = f"{secrets.token_hex(16)}.{fmt}"
        with factory() as session, session.begin():
            job = _held(session, job_id, worker, attempt)
            os.replace(partial, folder / name)  # inside the transaction: a lost lease keeps none
            job.state, job.file_name = DONE, name
            job.file_size = (folder / name).stat().st_size
            job.rows_done, job.finished_at = rows, clock.now()
            job.lease_owner = job.lease_until = None
            audit.record(
                session,
                actor="system",
                action="export.completed",
                data={"export_id": job_id, "rows": rows},
            )
        return DONE
    except LeaseLost:
        log.warning("export %s was taken over by another worker; this run stops", job_id)
        partial.unlink(missing_ok=True)
        return RUNNING
    except Exception as exc:
        code = exc.code if isinstance(exc, DomainError) else "internal"
        if not isinstance(exc, DomainError):
            log.exception("export %s failed", job_id)
        partial.unlink(missing_ok=True)
        with factory() as session, session.begin():
            try:
                _fail(_held(session, job_id, worker, attempt), code, clock.now())
            except LeaseLost:
                return RUNNING
        return FAILED


def run_next(
    factory: sessionmaker,
    *,
    directory: str | os.PathLike[str],
    worker: str,
    page_rows: int = PAGE_ROWS,
) -> int | None:
    """Claim and run one job (queued, or stale running); its id, or None when none waits."""
    claimed = _claim(factory, worker)
    if claimed is None:
        return None
    job_id, attempt = claimed
    run_job(
        factory,
        job_id=job_id,
        attempt=attempt,
        directory=directory,
        worker=worker,
        page_rows=page_rows,
    )
    return job_id


def export_to(
    factory: sessionmaker,
    *,
    principal: Principal,
    filters: Mapping[str, Any],
    fmt: str,
    out: str | os.PathLike[str],
    time_zone: str = officer_notes.HOME_ZONE,
    progress: Progress | None = None,
    page_rows: int = PAGE_ROWS,
    actor: str | None = None,
) -> int:
    """Export at once to the file `out` (the command line's `lapor export`), with the same
    checks and the same redaction as a job; written beside it under a temporary name, then
    renamed; audited (as `actor`, default the principal). Returns the rows written."""
    if fmt not in FORMATS:
        raise InvalidInput(f"format is one of {', '.join(FORMATS)}", field="format")
    stored = scoping.normalise(filters, time_zone=time_zone)
    target = Path(out)
    partial = target.with_name(f".{target.name}.{secrets.token_hex(4)}.partial")
    try:
        rows = write_rows(
            factory,
            principal=principal,
            stored=stored,
            fmt=fmt,
            path=partial,
            progress=progress,
            page_rows=page_rows,
        )
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)
    with factory() as session, session.begin():
        audit.record(
            session,
            actor=actor or principal.actor,
            action="export.written",
            data={"format": fmt, "filters": stored, "rows": rows},
        )
    return rows


# --- retention -------------------------------------------------------------------------------


def _remove_orphans(factory: sessionmaker, folder: Path) -> int:
    """Unfinished files of jobs no worker runs any more (failed after losing their worker)."""
    partials = {p: p.name.split("-", 1)[0] for p in folder.glob("*.partial")}
    ids = {int(i) for i in partials.values() if i.isdigit() and valid_id(int(i))}
    if not ids:
        return 0
    with factory() as session:
        running = set(
            session.scalars(
                select(ExportJob.id).where(ExportJob.id.in_(ids), ExportJob.state == RUNNING)
            )
        )
    gone = [p for p, i in partials.items() if i.isdigit() and int(i) not in running]
    for path in gone:
        path.unlink(missing_ok=True)
    return len(gone)


def expired_clause(before: datetime) -> Any:
    """Finished jobs whose file is past retention at `before` (finished earlier)."""
    return and_(ExportJob.state == DONE, ExportJob.finished_at < before)


def purge(
    factory: sessionmaker, *, before: datetime, directory: str | os.PathLike[str] | None
) -> int:
    """Remove the files of jobs finished before `before` (the job stays, `expired`), and the
    unfinished files of failed jobs; returns how many files went."""
    folder = Path(directory) if directory else None
    removed = 0
    while True:
        with factory() as session, session.begin():
            jobs = list(
                session.scalars(
                    select(ExportJob)
                    .where(expired_clause(before))
                    .order_by(ExportJob.id)
                    .limit(500)
                )
            )
            for job in jobs:
                if folder is not None and job.file_name and FILE_NAME.fullmatch(job.file_name):
                    (folder / job.file_name).unlink(missing_ok=True)
                job.state, job.file_name = EXPIRED, None
                removed += 1
        if not jobs:
            break
    if folder is not None and folder.is_dir():
        removed += _remove_orphans(factory, folder)
    return removed
