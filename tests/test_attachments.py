"""Attachments: checked by their bytes, cleaned of metadata, stored under random names outside
the web root, served with safe headers, seen only by the pelapor and the report's handlers; and
the optional GESI answers, accepted, validated and shown nowhere."""

from __future__ import annotations

import io
import re
import struct
import zlib
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from PIL import ExifTags, Image, ImageCms, PngImagePlugin

from api.config import ConfigError, Settings
from engine import clock
from engine.seed.loader import DEMO_PASSWORD
from tests.helpers import REPORT, problem_of

ROOT = Path(__file__).resolve().parent.parent
SENTINEL = "Sentinel Pelapor"
GESI = {
    "gender": "perempuan",
    "disability": "sensorik_netra",
    "vulnerable_group": "masyarakat_adat",
}


@pytest.fixture()
def folder(tmp_path: Path) -> Path:
    return tmp_path / "attachments"


@pytest.fixture()
def client(make_app: Callable[..., Flask], database_url: str, folder: Path) -> FlaskClient:
    return make_app(database_url, ATTACHMENT_DIR=str(folder)).test_client()


def file_report(client: FlaskClient, **overrides: Any) -> dict[str, Any]:
    response = client.post("/api/v1/reports", json={**REPORT, **overrides})
    assert response.status_code == 201, response.get_json()
    body: dict[str, Any] = response.get_json()
    return body


def upload(
    client: FlaskClient,
    filed: dict[str, Any],
    content: bytes,
    name: str = "foto.jpg",
    declared: str = "image/jpeg",
    secret: str | None = None,
) -> Any:
    return client.post(
        f"/api/v1/reports/{filed['tracking_id']}/attachments",
        data={
            "secret": secret if secret is not None else filed["secret"],
            "file": (io.BytesIO(content), name, declared),
        },
        content_type="multipart/form-data",
    )


def login(client: FlaskClient, username: str) -> dict[str, str]:
    response = client.post(
        "/api/v1/auth/login", json={"username": username, "password": DEMO_PASSWORD}
    )
    assert response.status_code == 200, response.get_json()
    return {"Authorization": f"Bearer {response.get_json()['token']}"}


def task_of(client: FlaskClient, username: str, tracking_id: str) -> dict[str, Any]:
    headers = login(client, username)
    for task in client.get("/api/v1/tasks", headers=headers).get_json():
        detail: dict[str, Any] = client.get(f"/api/v1/tasks/{task['id']}", headers=headers).json
        if detail["report"]["tracking_id"] == tracking_id:
            return detail
    raise AssertionError(f"{username} has no task for {tracking_id}")


def complete(client: FlaskClient, username: str, tracking_id: str, data: dict[str, Any]) -> None:
    task = task_of(client, username, tracking_id)
    response = client.post(
        f"/api/v1/tasks/{task['id']}/complete", json={"data": data}, headers=login(client, username)
    )
    assert response.status_code == 200, response.get_json()


# --- files made for the tests ----------------------------------------------------------------


def srgb_profile() -> bytes:
    profile: bytes = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    return profile


def jpeg_with_gps() -> bytes:
    image = Image.new("RGB", (64, 48), (200, 30, 30))
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "SentinelCam"
    exif[ExifTags.Base.Artist] = SENTINEL
    exif[ExifTags.Base.Orientation] = 6  # rotated: the stored photo must come out upright
    gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    gps[ExifTags.GPS.GPSLatitudeRef] = "S"
    gps[ExifTags.GPS.GPSLatitude] = (7.0, 43.0, 12.5)
    gps[ExifTags.GPS.GPSLongitudeRef] = "E"
    gps[ExifTags.GPS.GPSLongitude] = (110.0, 21.0, 30.0)
    out = io.BytesIO()
    xmp = f'<x:xmpmeta xmlns:x="adobe:ns:meta/"><dc:creator>{SENTINEL}</dc:creator></x:xmpmeta>'
    image.save(
        out,
        "JPEG",
        exif=exif.tobytes(),
        icc_profile=srgb_profile(),
        comment=SENTINEL.encode(),
        xmp=xmp.encode(),
    )
    data = out.getvalue()
    with Image.open(io.BytesIO(data)) as check:  # the test file really carries it all
        assert check.getexif().get_ifd(ExifTags.IFD.GPSInfo)
        assert {"exif", "icc_profile", "xmp", "comment"} <= set(check.info)
    return data


def png_with_text() -> bytes:
    info = PngImagePlugin.PngInfo()
    info.add_text("Author", SENTINEL)
    info.add_text("Comment", SENTINEL, zip=True)
    info.add_itxt("Description", SENTINEL, lang="id")
    out = io.BytesIO()
    image = Image.new("RGBA", (32, 32), (0, 120, 200, 128))
    exif = Image.Exif()
    exif[ExifTags.Base.Artist] = SENTINEL
    image.save(out, "PNG", pnginfo=info, icc_profile=srgb_profile(), exif=exif.tobytes())
    data = out.getvalue()
    with Image.open(io.BytesIO(data)) as check:
        assert check.text and "icc_profile" in check.info  # type: ignore[attr-defined]
    return data


def png_header_only(width: int, height: int) -> bytes:
    """A tiny PNG that claims `width` x `height` pixels (a decompression bomb's header)."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        crc = zlib.crc32(kind + body) & 0xFFFFFFFF
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\0" * 64))
        + chunk(b"IEND", b"")
    )


PDF = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
    b"2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
)


def stored_files(folder: Path) -> list[Path]:
    return sorted(folder.iterdir()) if folder.exists() else []


# --- metadata is gone ------------------------------------------------------------------------


def test_jpeg_comes_back_without_exif_gps_xmp_icc(client: FlaskClient, folder: Path) -> None:
    filed = file_report(client)
    response = upload(client, filed, jpeg_with_gps(), name="IMG_2024 Sentinel.JPG")
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["content_type"] == "image/jpeg"
    assert body["original_name"] == "IMG_2024 Sentinel.jpg"
    download = client.get(body["url"], query_string={"secret": filed["secret"]})
    assert download.status_code == 200
    (on_disk,) = stored_files(folder)
    for content in (download.data, on_disk.read_bytes()):
        assert b"Exif" not in content and b"SentinelCam" not in content
        assert SENTINEL.encode() not in content and b"xmpmeta" not in content
        with Image.open(io.BytesIO(content)) as image:
            assert image.format == "JPEG"
            assert len(image.getexif()) == 0
            assert not image.getexif().get_ifd(ExifTags.IFD.GPSInfo)
            assert not {"exif", "icc_profile", "xmp", "comment"} & set(image.info)
            assert image.size == (48, 64)  # turned upright by its former Orientation tag
    assert body["size"] == len(download.data)


def test_png_text_chunks_icc_and_exif_removed(client: FlaskClient, folder: Path) -> None:
    filed = file_report(client)
    response = upload(client, filed, png_with_text(), name="peta.png", declared="image/png")
    assert response.status_code == 201, response.get_json()
    (on_disk,) = stored_files(folder)
    content = on_disk.read_bytes()
    for marker in (b"tEXt", b"zTXt", b"iTXt", b"iCCP", b"eXIf", SENTINEL.encode()):
        assert marker not in content
    with Image.open(on_disk) as image:
        assert image.mode == "RGBA" and not image.text  # type: ignore[attr-defined]


def test_webp_reencoded(client: FlaskClient) -> None:
    out = io.BytesIO()
    exif = Image.Exif()
    exif[ExifTags.Base.Artist] = SENTINEL
    Image.new("RGB", (20, 20), "green").save(out, "WEBP", exif=exif.tobytes())
    response = upload(client, file_report(client), out.getvalue(), name="x.webp")
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["content_type"] == "image/webp"


# --- what is accepted and refused -------------------------------------------------------------


def test_pdf_accepted_byte_for_byte(client: FlaskClient, folder: Path) -> None:
    filed = file_report(client)
    response = upload(client, filed, PDF, name="../../etc/surat<script>.pdf", declared="text/html")
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["content_type"] == "application/pdf"
    assert body["original_name"] == "surat_script.pdf"
    assert stored_files(folder)[0].read_bytes() == PDF


@pytest.mark.parametrize(
    "marker", [b"/JavaScript", b"/JS", b"/Launch", b"/EmbeddedFile", b"/Encrypt", b"/J#61vaScript"]
)
def test_pdf_with_scripts_actions_or_encryption_refused(client: FlaskClient, marker: bytes) -> None:
    content = PDF.replace(b"/Type/Catalog", b"/Type/Catalog/OpenAction<<" + marker + b" 3 0 R>>")
    body = problem_of(upload(client, file_report(client), content, name="a.pdf"), 415)
    assert body["field"] == "file" and body["code"] == "unsafe_pdf"


@pytest.mark.parametrize(
    ("content", "name", "declared"),
    [
        (b"<!doctype html><script>alert(document.cookie)</script>", "foto.jpg", "image/jpeg"),
        (b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>', "a.png", "image/png"),
        (b"GIF89a\x01\x00\x01\x00\x00\x00\x00;", "a.gif", "image/gif"),
        (b"MZ\x90\x00" + b"\0" * 60, "laporan.pdf", "application/pdf"),
    ],
)
def test_wrong_type_by_content_is_415(
    client: FlaskClient, folder: Path, content: bytes, name: str, declared: str
) -> None:
    body = problem_of(upload(client, file_report(client), content, name, declared), 415)
    assert body["field"] == "file" and body["code"] == "unsupported_type"
    assert stored_files(folder) == []


def test_fake_image_with_a_jpeg_signature_is_422(client: FlaskClient) -> None:
    content = b"\xff\xd8\xff\xe0<html><script>alert(1)</script></html>"
    body = problem_of(upload(client, file_report(client), content), 422)
    assert body["field"] == "file"


def test_empty_and_missing_file(client: FlaskClient) -> None:
    filed = file_report(client)
    assert problem_of(upload(client, filed, b""), 422)["field"] == "file"
    response = client.post(
        f"/api/v1/reports/{filed['tracking_id']}/attachments",
        data={"secret": filed["secret"], "file": "not a file part"},
        content_type="multipart/form-data",
    )
    assert problem_of(response, 422)["field"] == "file"
    response = client.post(
        f"/api/v1/reports/{filed['tracking_id']}/attachments", json={"secret": filed["secret"]}
    )
    assert problem_of(response, 422)["field"] == "file"


def test_six_megabytes_is_413(client: FlaskClient, folder: Path) -> None:
    filed = file_report(client)
    content = b"\xff\xd8\xff\xe0" + b"\0" * (6 * 1024 * 1024)
    # the multipart body by hand: the test client would spool it to a file it never closes
    multipart = (
        b'--B\r\nContent-Disposition: form-data; name="secret"\r\n\r\n'
        + filed["secret"].encode()
        + b'\r\n--B\r\nContent-Disposition: form-data; name="file"; filename="big.jpg"\r\n'
        + b"Content-Type: image/jpeg\r\n\r\n"
        + content
        + b"\r\n--B--\r\n"
    )
    response = client.post(
        f"/api/v1/reports/{filed['tracking_id']}/attachments",
        data=multipart,
        content_type="multipart/form-data; boundary=B",
    )
    body = problem_of(response, 413)
    assert body["field"] == "file" and body["code"] == "too_large"
    assert stored_files(folder) == []


@pytest.mark.parametrize(("width", "height"), [(20_000, 20_000), (8_000, 6_000)])
def test_decompression_bomb_refused(client: FlaskClient, width: int, height: int) -> None:
    content = png_header_only(width, height)
    assert len(content) < 200
    body = problem_of(upload(client, file_report(client), content, "bom.png", "image/png"), 413)
    assert body["field"] == "file" and body["code"] == "pixels" and "pixels" in body["detail"]


def test_a_sixth_attachment_is_409(client: FlaskClient, folder: Path) -> None:
    filed = file_report(client)
    for n in range(5):
        assert upload(client, filed, PDF, name=f"{n}.pdf").status_code == 201
    body = problem_of(upload(client, filed, PDF, name="6.pdf"), 409)
    assert body["field"] == "file" and body["code"] == "too_many"
    assert len(stored_files(folder)) == 5


def test_upload_window_24_hours_or_while_on_tunda(client: FlaskClient) -> None:
    now = clock.now()
    filed, held = file_report(client), file_report(client, target_instansi=None)
    complete(client, "nasional", held["tracking_id"], {"outcome": "tunda", "reason": "Foto?"})
    clock.set_clock(now + timedelta(hours=25))
    body = problem_of(upload(client, filed, PDF, name="late.pdf"), 409)
    assert body["field"] == "file" and body["code"] == "closed"
    assert upload(client, held, PDF, name="asked.pdf").status_code == 201


def test_wrong_secret_or_unknown_report_is_404(client: FlaskClient) -> None:
    filed = file_report(client)
    assert problem_of(upload(client, filed, PDF, secret="x" * 20), 404)["field"] == "tracking_id"
    other = {**filed, "tracking_id": "ABCDEFGHJK"}
    assert problem_of(upload(client, other, PDF), 404)["field"] == "tracking_id"
    assert problem_of(upload(client, filed, PDF, secret="short"), 422)["field"] == "secret"


# --- who sees them ---------------------------------------------------------------------------


def test_only_the_pelapor_and_the_handlers_see_attachments(client: FlaskClient) -> None:
    filed = file_report(client, anonim=True)
    tracking = filed["tracking_id"]
    attachment = upload(client, filed, PDF, name=f"KTP {SENTINEL}.pdf").get_json()
    listing = f"/api/v1/reports/{tracking}/attachments"

    own = client.get(listing, query_string={"secret": filed["secret"]})
    assert (
        own.status_code == 200 and own.get_json()[0]["original_name"] == "KTP Sentinel Pelapor.pdf"
    )
    for query in ({}, {"secret": "x" * 24}):
        assert problem_of(client.get(listing, query_string=query), 404)["field"] == "tracking_id"
        problem_of(client.get(attachment["url"], query_string=query), 404)
    # a public (non-rahasia) report's status is public; its attachments are not
    assert client.get(f"/api/v1/reports/{tracking}").status_code == 200

    complete(client, "nasional", tracking, {"outcome": "forward", "target_instansi": "34.04"})
    for officer in ("sleman", "nasional"):  # the handling instansi, and the national admins
        answer = client.get(listing, headers=login(client, officer))
        assert answer.status_code == 200
        # an anonim pelapor's file name may name them: staff never see it
        assert answer.get_json()[0]["original_name"] is None
        assert SENTINEL not in answer.get_data(as_text=True)
        download = client.get(attachment["url"], headers=login(client, officer))
        assert download.status_code == 200 and download.data == PDF
        assert SENTINEL not in str(download.headers)
    badung = login(client, "badung")  # another instansi guessing ids
    assert problem_of(client.get(listing, headers=badung), 404)["field"] == "tracking_id"
    assert problem_of(client.get(attachment["url"], headers=badung), 404)["field"] == (
        "attachment_id"
    )
    problem_of(client.get("/api/v1/attachments/987654321", headers=badung), 404)
    problem_of(client.get("/api/v1/attachments/99999999999999999999", headers=badung), 404)


def test_download_headers(client: FlaskClient) -> None:
    filed = file_report(client)
    body = upload(client, filed, jpeg_with_gps(), name='a";b.jpg', declared="text/html").get_json()
    response = client.get(body["url"], query_string={"secret": filed["secret"]})
    assert response.status_code == 200
    assert response.mimetype == "image/jpeg"
    assert response.headers["Content-Disposition"] == (
        f'attachment; filename="lampiran-{body["id"]}.jpg"'
    )
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Content-Security-Policy"] == "default-src 'none'; sandbox"
    assert "no-store" in response.headers["Cache-Control"]


def test_files_are_stored_outside_the_web_root_with_random_names(
    client: FlaskClient, folder: Path
) -> None:
    filed = file_report(client)
    for name in ("laporan.pdf", "laporan.pdf"):
        assert upload(client, filed, PDF, name=name).status_code == 201
    names = [p.name for p in stored_files(folder)]
    assert len(set(names)) == 2 and all(re.fullmatch(r"[0-9a-f]{32}", n) for n in names)
    static = client.application.static_folder
    assert static is None or not folder.resolve().is_relative_to(Path(static).resolve())
    default = Path(Settings().ATTACHMENT_DIR).resolve()
    assert not default.is_relative_to(ROOT / "api") and default.is_relative_to(ROOT / "instance")
    with pytest.raises(ConfigError, match="LAPOR_ATTACHMENT_DIR"):
        Settings.from_env({"ATTACHMENT_DIR": str(ROOT / "api" / "web" / "static" / "files")})


# --- GESI answers -----------------------------------------------------------------------------


def test_gesi_answers_accepted_validated_and_shown_nowhere(
    client: FlaskClient, factory: Any
) -> None:
    from sqlalchemy import select

    from engine.models import Report

    filed = file_report(client, **GESI, gesi_consent=True)
    with factory() as s:
        report = s.scalar(select(Report).where(Report.tracking_id == filed["tracking_id"]))
        assert (report.gender, report.disability, report.vulnerable_group) == tuple(GESI.values())
    assert file_report(client, gender=None)["tracking_id"]
    for name in GESI:
        response = client.post("/api/v1/reports", json={**REPORT, name: "unknown"})
        body = problem_of(response, 422)
        assert body["field"] == name and name in body["errors"]

    public = client.get(f"/api/v1/reports/{filed['tracking_id']}")
    task = client.get(
        f"/api/v1/tasks/{task_of(client, 'nasional', filed['tracking_id'])['id']}",
        headers=login(client, "nasional"),
    )
    for response in (public, task):
        assert response.status_code == 200
        text = response.get_data(as_text=True)
        assert not any(key in text for key in GESI), text
        assert not any(value in text for value in GESI.values()), text
