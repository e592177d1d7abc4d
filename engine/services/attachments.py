"""A pelapor's attachments: images and PDFs, checked by their bytes, cleaned, stored under random
names outside the web root, and read back only by those who may see the report.

Types are decided by magic bytes, never by the file name or the declared type. Images are decoded
and encoded again with Pillow from their pixels alone, so no EXIF, GPS, XMP, ICC or text block
survives (checked by reading the result back). PDFs are kept byte for byte but refused when they
are encrypted or carry scripts, launch actions or embedded files (a cheap scan of the names in
the file; names hidden in compressed object streams are not seen).
"""

from __future__ import annotations

import hashlib
import io
import logging
import os
import re
import secrets
import unicodedata
import warnings
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from PIL import Image, ImageOps, UnidentifiedImageError
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engine import clock, status
from engine.db import valid_id
from engine.errors import Conflict, InvalidInput, NotFound, TooLarge, UnsupportedType
from engine.models import Attachment, HumanTask, Instansi, Report
from engine.services import audit, reports, tasks
from engine.services.auth import Principal


def _drop_debug(record: logging.LogRecord) -> bool:
    return record.levelno > logging.DEBUG


# Pillow logs every EXIF tag's value at DEBUG while it reads a photo, and a photo's Artist or
# description can name an anonim pelapor: its modules' DEBUG records are dropped whatever level
# the deployment's logging sets.
Image.init()
for _name in [n for n in logging.root.manager.loggerDict if n == "PIL" or n.startswith("PIL.")]:
    logging.getLogger(_name).addFilter(_drop_debug)

MAX_BYTES = 5 * 1024 * 1024  # per file, as uploaded
MAX_PER_REPORT = 5
MAX_PIXELS = 40_000_000  # a 40-megapixel photo; more is refused as a decompression bomb
UPLOAD_WINDOW = timedelta(hours=24)  # after filing; later only while the report is on tunda

PNG, JPEG, WEBP, PDF = "image/png", "image/jpeg", "image/webp", "application/pdf"
EXTENSIONS = {PNG: "png", JPEG: "jpg", WEBP: "webp", PDF: "pdf"}
PILLOW_FORMATS = {PNG: "PNG", JPEG: "JPEG", WEBP: "WEBP"}
ENCODER_MODES = {"PNG": {"RGB", "RGBA", "L", "LA"}, "JPEG": {"RGB", "L"}, "WEBP": {"RGB", "RGBA"}}
PDF_REFUSED = frozenset({"JS", "JavaScript", "Launch", "EmbeddedFile", "EmbeddedFiles", "Encrypt"})
PDF_NAME = re.compile(rb"/([^\s/<>\[\]()%{}]+)")

# Pillow warns between MAX_IMAGE_PIXELS and twice that, and raises above: make both refusals.
Image.MAX_IMAGE_PIXELS = MAX_PIXELS
warnings.filterwarnings("error", category=Image.DecompressionBombWarning)


def sniff(data: bytes) -> str | None:
    """The content type the bytes themselves show, or None when not one we accept."""
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if data.startswith(b"\xff\xd8\xff"):
        return JPEG
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return WEBP
    if data.startswith(b"%PDF-"):
        return PDF
    return None


@dataclass(frozen=True)
class Prepared:
    """A checked and cleaned file, ready to store."""

    content: bytes
    content_type: str
    original_name: str

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.content).hexdigest()


def prepare(data: bytes, *, filename: str | None, field: str = "file") -> Prepared:
    """Check one uploaded file by its bytes and clean it; errors name `field`."""
    if len(data) > MAX_BYTES:
        raise TooLarge(f"a file may be at most {MAX_BYTES // (1024 * 1024)} MB", field=field)
    if not data:
        raise InvalidInput("the file is empty", field=field)
    kind = sniff(data)
    if kind is None:
        raise UnsupportedType("only PNG, JPEG or WebP images and PDF files", field=field)
    content = _check_pdf(data, field) if kind == PDF else _reencode(data, kind, field)
    return Prepared(content, kind, clean_name(filename, EXTENSIONS[kind]))


def _reencode(data: bytes, kind: str, field: str) -> bytes:
    fmt = PILLOW_FORMATS[kind]
    try:
        with Image.open(io.BytesIO(data), formats=[fmt]) as opened:
            opened.load()
            image = ImageOps.exif_transpose(opened)  # keep the photo upright without its EXIF
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise TooLarge(
            f"the image has too many pixels (at most {MAX_PIXELS:,})", field=field, code="pixels"
        ) from exc
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise InvalidInput(
            "the image cannot be read: damaged or not a real image", field=field
        ) from exc
    if "transparency" in image.info or image.mode not in ENCODER_MODES[fmt]:
        alpha = image.mode in {"RGBA", "LA", "PA"} or "transparency" in image.info
        image = image.convert("RGBA" if alpha and fmt != "JPEG" else "RGB")
    image.info = {}  # nothing of the original's metadata may reach the encoder
    out = io.BytesIO()
    options = {"quality": 90} if fmt in {"JPEG", "WEBP"} else {}
    image.save(out, format=fmt, **options)
    content = out.getvalue()
    _assert_clean(content, fmt)
    return content


def _assert_clean(content: bytes, fmt: str) -> None:
    with Image.open(io.BytesIO(content), formats=[fmt]) as check:
        leaked = set(check.info) & {"exif", "icc_profile", "xmp", "XML:com.adobe.xmp", "comment"}
        if leaked or len(check.getexif()) or getattr(check, "text", None):
            raise AssertionError(f"metadata survived re-encoding: {sorted(leaked)}")


def _check_pdf(data: bytes, field: str) -> bytes:
    for match in PDF_NAME.finditer(data):
        name = re.sub(rb"#([0-9A-Fa-f]{2})", lambda m: bytes([int(m.group(1), 16)]), match[1])
        if name.decode("latin-1") in PDF_REFUSED:
            raise UnsupportedType(
                "PDF files that are encrypted or carry scripts, actions or embedded files "
                "are not accepted",
                field=field,
                code="unsafe_pdf",
            )
    return data


def clean_name(filename: str | None, extension: str) -> str:
    """The client's file name as safe text: its last path part, letters, digits and a few
    punctuation marks, at most 100 characters, ending in the extension of the sniffed type."""
    base = re.split(r"[\\/]", unicodedata.normalize("NFKC", filename or ""))[-1]
    stem = base.rsplit(".", 1)[0] if "." in base else base
    stem = re.sub(r"[^\w .()-]+", "_", stem, flags=re.UNICODE).strip(" ._")[:100]
    return f"{stem or 'lampiran'}.{extension}"


class Store:
    """The folder of attachment files (outside the web root): write new, read existing."""

    def __init__(self, directory: str | os.PathLike[str]) -> None:
        self.directory = Path(directory)

    def write(self, content: bytes) -> str:
        self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        name = secrets.token_hex(16)
        fd = os.open(self.directory / name, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(content)
        return name

    def read(self, name: str) -> bytes:
        if not re.fullmatch(r"[0-9a-f]{32}", name):
            raise NotFound("no such attachment", field="attachment_id")
        try:
            return (self.directory / name).read_bytes()
        except FileNotFoundError as exc:
            raise NotFound("no such attachment", field="attachment_id") from exc


def store_all(
    session: Session, report: Report, *, store: Store, files: list[Prepared]
) -> list[Attachment]:
    """Store `files` as the report's attachments (in the caller's transaction)."""
    count = session.scalar(
        select(func.count()).select_from(Attachment).where(Attachment.report_id == report.id)
    )
    if (count or 0) + len(files) > MAX_PER_REPORT:
        raise Conflict(
            f"a report may have at most {MAX_PER_REPORT} attachments", field="file", code="too_many"
        )
    rows = []
    for item in files:
        row = Attachment(
            report_id=report.id,
            stored_name=store.write(item.content),
            original_name=item.original_name,
            content_type=item.content_type,
            size=len(item.content),
            sha256=item.sha256,
            created_at=clock.now(),
        )
        session.add(row)
        session.flush()
        audit.record(
            session,
            actor="pelapor",
            action="attachment.added",
            report_id=report.id,
            data={"attachment_id": row.id, "content_type": row.content_type, "size": row.size},
        )
        rows.append(row)
    return rows


def add(
    session: Session, *, store: Store, tracking_id: str, secret: str, files: list[Prepared]
) -> list[Attachment]:
    """The pelapor attaches files: within 24 hours of filing, or while the report waits for
    them (tunda); one transaction."""
    with session.begin():
        report = reports.find_owned(session, tracking_id=tracking_id, secret=secret)
        session.refresh(report, with_for_update=True)  # one upload at a time counts the limit
        open_window = clock.now() - report.created_at <= UPLOAD_WINDOW
        if not open_window and report.status != status.ON_HOLD:
            raise Conflict(
                "attachments can be added within 24 hours of filing, or when an officer asks "
                "for more information",
                field="file",
                code="closed",
            )
        rows = store_all(session, report, store=store, files=files)
        session.expunge_all()
    return rows


@dataclass(frozen=True)
class Pelapor:
    """The pelapor, known by the secret of their report."""

    secret: str | None


@dataclass(frozen=True)
class AttachmentView:
    attachment: Attachment
    original_name: str | None  # None for staff when the report is anonim


SUPERVISING_ROLES = frozenset({"supervisor", "admin_instansi"})


def _may_see(session: Session, who: Principal | Pelapor, report: Report) -> bool:
    """The pelapor (by the secret); staff who see one of the report's tasks; supervisors of
    the instansi handling it now (theirs or one below it in their supervised tree), unless the
    report is rahasia (only the pelapor and its handlers see those)."""
    if isinstance(who, Pelapor):
        return reports.secret_matches(report, who.secret)
    task = session.scalar(
        select(HumanTask.id)
        .where(HumanTask.report_id == report.id, tasks.visible_clause(who))
        .limit(1)
    )
    if task is not None:
        return True
    return not report.rahasia and _supervises(session, who, report.current_instansi_id)


def _supervises(session: Session, who: Principal, instansi_id: int | None) -> bool:
    """Whether `instansi_id` is in a tree the principal supervises: an instansi-wide supervisor
    or admin_instansi role there or above it (one recursive query up `supervisor_id`; UNION
    also stops at a cycle)."""
    roots = {
        m.instansi_id
        for m in who.memberships
        if m.role in SUPERVISING_ROLES and m.instansi_id is not None and m.unit_id is None
    }
    if instansi_id is None or not roots:
        return False
    start = select(Instansi.id.label("id"), Instansi.supervisor_id.label("up"))
    chain = start.where(Instansi.id == instansi_id).cte("above", recursive=True)
    chain = chain.union(start.where(Instansi.id == chain.c.up))
    found = select(chain.c.id).where(chain.c.id.in_(roots)).limit(1)
    return session.scalar(found) is not None


def _view(who: Principal | Pelapor, report: Report, row: Attachment) -> AttachmentView:
    # an anonim pelapor's file names may name them: staff never see them
    hidden = report.anonim and not isinstance(who, Pelapor)
    return AttachmentView(row, None if hidden else row.original_name)


def list_for(
    session: Session, *, who: Principal | Pelapor, tracking_id: str
) -> list[AttachmentView]:
    """A report's attachments, for its pelapor, the staff who see its tasks and its supervisors
    (`_may_see`; else 404)."""
    with session.begin():
        if not reports.is_tracking_id(tracking_id):
            raise NotFound("no report with this tracking id", field="tracking_id")
        report = session.scalar(select(Report).where(Report.tracking_id == tracking_id))
        if report is None or not _may_see(session, who, report):
            raise NotFound("no report with this tracking id", field="tracking_id")
        rows = session.scalars(
            select(Attachment).where(Attachment.report_id == report.id).order_by(Attachment.id)
        ).all()
        views = [_view(who, report, row) for row in rows]
        session.expunge_all()
    return views


@dataclass(frozen=True)
class OpenedAttachment:
    view: AttachmentView
    content: bytes


def open_for(
    session: Session, *, who: Principal | Pelapor, attachment_id: int, store: Store
) -> OpenedAttachment:
    """One attachment's bytes, under the report's visibility rules; anything else is 404."""
    if not valid_id(attachment_id):
        raise NotFound("no such attachment", field="attachment_id")
    with session.begin():
        row = session.get(Attachment, attachment_id)
        report = session.get(Report, row.report_id) if row is not None else None
        if row is None or report is None or not _may_see(session, who, report):
            raise NotFound("no such attachment", field="attachment_id")
        view = _view(who, report, row)
        session.expunge_all()
    return OpenedAttachment(view, store.read(row.stored_name))
