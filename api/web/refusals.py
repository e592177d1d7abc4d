"""A service's refusal (`engine.errors.DomainError`) in the visitor's language, by its `code`.

Services explain a refusal in English for the API's problem+json body; pages never show those
words. They show the sentence for the error's code here instead (the classes' codes and the few
finer ones services raise, e.g. an attachment's `pixels` or `too_many`), and a generic sentence
for a code with no entry yet. A page that knows better for a given field may say more.
tests/browser/test_page_messages.py fails when a service raises a code that has no entry here.
"""

from __future__ import annotations

from collections.abc import Callable

from flask_babel import gettext as _

from engine.errors import DomainError
from engine.services import attachments

SENTENCES: dict[str, Callable[[], str]] = {
    # the codes of the error classes in engine.errors
    "bad_request": lambda: _("Permintaan ini tidak dapat diproses."),
    "invalid": lambda: _("Isian tidak dapat diterima."),
    "not_found": lambda: _("Data yang dirujuk tidak ditemukan."),
    "forbidden": lambda: _("Anda tidak berwenang melakukan perubahan ini."),
    "unauthorized": lambda: _("Sesi Anda sudah berakhir. Silakan masuk lagi."),
    "conflict": lambda: _("Perubahan ini bentrok dengan data yang ada."),
    "too_large": lambda: _(
        "Berkas terlalu besar: paling besar %(mb)s MB.", mb=attachments.MAX_BYTES // (1024 * 1024)
    ),
    "unsupported_type": lambda: _("Hanya foto JPG, PNG, WebP atau PDF yang diterima."),
    # finer codes raised by engine.services.auth (LockedOut) and engine.services.api_keys
    "locked": lambda: _("Terlalu banyak percobaan yang gagal. Coba lagi nanti."),
    "missing_permission": lambda: _("Anda tidak berwenang melakukan perubahan ini."),
    # raised by engine.services.idempotency (agency apps' retried filings)
    "idempotency_key_reused": lambda: _("Kunci idempoten ini sudah dipakai untuk permintaan lain."),
    # raised by engine.services.oidc_login and sso_config (staff SSO)
    "sso_refused": lambda: _("Masuk dengan SSO ditolak."),
    "invalid_domain": lambda: _("Domain email ini tidak valid."),
    # raised by engine.services.exports
    "expired": lambda: _("Berkas ini sudah kedaluwarsa dan dihapus."),
    "too_many_exports": lambda: _(
        "Terlalu banyak ekspor yang sedang berjalan. Tunggu hingga selesai."
    ),
    # finer codes raised by sla.interventions (supervisors' actions) and sla.outbox
    "nobody_holds": lambda: _(
        "Belum ada petugas yang memegang tugas ini: alihkan atau ambil alih."
    ),
    "already_held": lambda: _("Anda sudah memegang tugas ini."),
    "not_escalated": lambda: _(
        "Tugas terbuka laporan ini tidak dieskalasi kepada Anda atau sudah berubah."
    ),
    "no_open_task": lambda: _("Laporan ini tidak lagi memiliki tugas terbuka."),
    "changed_meanwhile": lambda: _("Laporan ini baru saja diubah orang lain. Muat ulang halaman."),
    "content_removed": lambda: _(
        "Isi pesan ini sudah dihapus sesuai masa retensi, jadi tidak dapat dikirim ulang."
    ),
    # finer codes raised by engine.services.attachments
    "pixels": lambda: _("Gambarnya terlalu besar (terlalu banyak piksel)."),
    "unsafe_pdf": lambda: _("PDF yang terenkripsi atau berisi skrip tidak diterima."),
    "too_many": lambda: _(
        "Paling banyak %(count)s berkas per laporan.", count=attachments.MAX_PER_REPORT
    ),
    "closed": lambda: _(
        "Lampiran hanya dapat ditambahkan dalam 24 jam setelah melapor, atau saat petugas "
        "meminta informasi tambahan."
    ),
}


def refusal(error: DomainError) -> str:
    """The sentence shown for `error` on a page: by its code, never its English message."""
    sentence = SENTENCES.get(error.code)
    return sentence() if sentence else _("Permintaan ini tidak dapat diproses.")
