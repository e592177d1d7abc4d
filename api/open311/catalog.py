"""Open311 services: each classification (pengaduan, aspirasi, permintaan informasi) with each
category the filing form offers, and the optional attributes a request may carry.

A service code is `<classification>-<category>`, spaces in the category written `_`:
`pengaduan-infrastruktur`, `permintaan_informasi-bantuan_sosial`. Names, groups and
descriptions are the form's own Indonesian labels (one list, `api.web.citizen_pages`). Every
service is `realtime` (the tracking id is answered at once) and has `metadata`: the service
definition lists the optional attributes `judul` (a title; else the description's first line),
`anonim` and `rahasia` (the pelapor's privacy modes, `true`/`false`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask_babel import force_locale

from api.web.citizen_pages import CATEGORIES, category_labels, classifications
from engine.models.reports import CLASSIFICATIONS

SEPARATOR = "-"
TITLE, ANONIM, RAHASIA = "judul", "anonim", "rahasia"
FLAG_VALUES = {"true": True, "false": False}


@dataclass(frozen=True)
class Service:
    code: str
    classification: str
    category: str
    name: str
    group: str
    description: str
    keywords: str

    def as_open311(self) -> dict[str, Any]:
        return {
            "service_code": self.code,
            "service_name": self.name,
            "description": self.description,
            "metadata": True,
            "type": "realtime",
            "keywords": self.keywords,
            "group": self.group,
        }


def code_of(classification: str, category: str) -> str:
    return f"{classification}{SEPARATOR}{category.replace(' ', '_')}"


def parse_code(code: str) -> tuple[str, str] | None:
    """(classification, category) of a service code of any category, or None when its
    classification is unknown (categories filed through the REST API may be any text)."""
    classification, separator, category = code.partition(SEPARATOR)
    if not separator or classification not in CLASSIFICATIONS or not category:
        return None
    return classification, category.replace("_", " ")


def _labels() -> tuple[dict[str, tuple[str, str]], dict[str, str]]:
    with force_locale("id"):  # the labels' own text: the msgids are Indonesian
        kinds = {value: (label, explained) for value, label, explained in classifications()}
        return kinds, dict(category_labels())


def _keywords(*words: str) -> str:
    """The words once each, ignoring case and `_` for a space (a list for search boxes)."""
    seen: dict[str, str] = {}
    for word in words:
        seen.setdefault(word.replace("_", " ").lower(), word.replace("_", " "))
    return ", ".join(seen.values())


def services() -> list[Service]:
    """Every service, grouped by classification, in the form's order."""
    kinds, categories = _labels()
    found = []
    for classification, (group, explained) in kinds.items():
        for category in CATEGORIES:
            label = categories[category]
            found.append(
                Service(
                    code=code_of(classification, category),
                    classification=classification,
                    category=category,
                    name=f"{group}: {label}",
                    group=group,
                    description=f"{explained} Kategori: {label}.",
                    keywords=_keywords(group, label, classification, category),
                )
            )
    return found


def find(code: str) -> Service | None:
    return next((s for s in services() if s.code == code), None)


def service_namer() -> Callable[[str, str], str]:
    """Names any report's service (classification, category), a category not in the list shown
    as filed; the labels are looked up once, for a whole list."""
    kinds, categories = _labels()

    def name(classification: str, category: str) -> str:
        group = kinds.get(classification, (classification, ""))[0]
        return f"{group}: {categories.get(category, category)}"

    return name


def definition(service: Service) -> dict[str, Any]:
    """The service definition: its optional attributes."""
    flags = [
        {"key": "true", "name": "Ya"},
        {"key": "false", "name": "Tidak"},
    ]
    attributes = [
        (
            TITLE,
            "string",
            "5-200 karakter",
            "Judul laporan. Bila kosong, baris pertama deskripsi menjadi judul.",
            None,
        ),
        (
            ANONIM,
            "singlevaluelist",
            "true atau false (bawaan: false)",
            "Anonim: identitas pelapor tidak ditampilkan kepada instansi maupun publik.",
            flags,
        ),
        (
            RAHASIA,
            "singlevaluelist",
            "true atau false (bawaan: false)",
            "Rahasia: laporan tidak dipublikasikan; hanya pelapor dan petugas yang menangani "
            "yang dapat melihatnya.",
            flags,
        ),
    ]
    return {
        "service_code": service.code,
        "attributes": [
            {
                "variable": True,
                "code": code,
                "datatype": datatype,
                "required": False,
                "datatype_description": explained,
                "order": order,
                "description": description,
                **({"values": values} if values is not None else {}),
            }
            for order, (code, datatype, explained, description, values) in enumerate(
                attributes, start=1
            )
        ],
    }
