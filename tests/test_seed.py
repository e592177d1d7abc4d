"""The seeded registry and demo users (read-only on the session database), and build_regions.

Regenerating `regions.csv` from the real `idn-area-data` npm tarball needs the network, so it is
not done here; build_regions is exercised on small synthetic packages instead, and the shipped
`regions.csv` is checked to be a fixed point of it.
"""

from __future__ import annotations

import csv
import io
import json
import tarfile
from collections import Counter
from pathlib import Path

import pytest
from argon2 import PasswordHasher
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from engine.models import Instansi, Region, RoleMembership, Unit, User
from engine.seed import build_regions as br
from engine.seed.loader import DATA, DEMO_PASSWORD, DEMO_USERS

# ----------------------------------------------------------------------------- the database


def instansi(session: Session, code: str) -> Instansi:
    found = session.scalar(select(Instansi).where(Instansi.code == code))
    assert found is not None, f"instansi {code} is missing"
    return found


def test_region_counts(factory: sessionmaker) -> None:
    with factory() as s:
        kinds = dict(s.execute(select(Region.kind, func.count()).group_by(Region.kind)).all())
        assert kinds == {"provinsi": 38, "kabupaten": 416, "kota": 98}
        assert s.scalar(select(func.count()).select_from(Region)) == 552
        orphans = s.scalars(
            select(Region.code).where(Region.kind != "provinsi", Region.parent_code.is_(None))
        ).all()
        assert orphans == []
        bad_parents = s.scalars(
            select(Region.code).where(Region.kind == "provinsi", Region.parent_code.is_not(None))
        ).all()
        assert bad_parents == []


def test_every_region_is_an_instansi(factory: sessionmaker) -> None:
    with factory() as s:
        kinds = dict(
            s.execute(
                select(Instansi.kind, func.count())
                .where(Instansi.kind.in_(("provinsi", "kabupaten", "kota")))
                .group_by(Instansi.kind)
            ).all()
        )
        assert kinds == {"provinsi": 38, "kabupaten": 416, "kota": 98}
        missing = s.scalars(
            select(Region.code).where(
                ~select(Instansi.id).where(Instansi.region_code == Region.code).exists()
            )
        ).all()
        assert missing == []
        mismatched = s.execute(
            select(Instansi.code, Instansi.region_code).where(
                Instansi.region_code.is_not(None), Instansi.region_code != Instansi.code
            )
        ).all()
        assert mismatched == []
        provinces = s.scalars(select(Instansi).where(Instansi.kind == "provinsi")).all()
        assert {p.supervisor.code for p in provinces if p.supervisor} == {"KEMENDAGRI"}
        assert all(p.supervisor is not None for p in provinces)


def test_sleman_supervision_chain(factory: sessionmaker) -> None:
    with factory() as s:
        sleman = instansi(s, "34.04")
        assert sleman.name == "Kabupaten Sleman"
        assert sleman.kind == "kabupaten"
        assert sleman.region_code == "34.04"
        chain = []
        current: Instansi | None = sleman
        while current is not None:
            chain.append(current.code)
            current = current.supervisor
        assert chain == ["34.04", "34", "KEMENDAGRI", "KEMENPANRB"]
        province = instansi(s, "34")
        assert province.kind == "provinsi"
        assert "Yogyakarta" in province.name
        region = s.get(Region, "34.04")
        assert region is not None and region.parent_code == "34"
        assert region.name == "Kabupaten Sleman"


@pytest.mark.parametrize(
    ("code", "zone"),
    [
        ("34.04", "Asia/Jakarta"),
        ("34", "Asia/Jakarta"),
        ("51.03", "Asia/Makassar"),
        ("51", "Asia/Makassar"),
    ],
)
def test_time_zones(factory: sessionmaker, code: str, zone: str) -> None:
    with factory() as s:
        region = s.get(Region, code)
        assert region is not None and region.timezone == zone
        assert instansi(s, code).timezone == zone


def test_papua_provinces_are_wit(factory: sessionmaker) -> None:
    with factory() as s:
        rows = s.execute(
            select(Region.code, Region.timezone).where(
                Region.kind == "provinsi", Region.code.like("9%")
            )
        ).all()
        assert len(rows) >= 6
        assert {zone for _code, zone in rows} == {"Asia/Jayapura"}
        for code, _zone in rows:
            assert instansi(s, code).timezone == "Asia/Jayapura"
        children = s.scalars(select(Region.timezone).where(Region.code.like("9_.%"))).all()
        assert children and set(children) == {"Asia/Jayapura"}


def test_regencies_inherit_their_province_time_zone(factory: sessionmaker) -> None:
    with factory() as s:
        zones = dict(s.execute(select(Region.code, Region.timezone)).all())
        parents = dict(s.execute(select(Region.code, Region.parent_code)).all())
        wrong = [
            code
            for code, parent in parents.items()
            if parent is not None and zones[code] != zones[parent]
        ]
        assert wrong == []
        assert set(zones.values()) == {"Asia/Jakarta", "Asia/Makassar", "Asia/Jayapura"}


def test_current_ministry_names(factory: sessionmaker) -> None:
    with factory() as s:
        names = set(s.scalars(select(Instansi.name)).all())
        for name in (
            "Kementerian Hukum",
            "Kementerian Hak Asasi Manusia",
            "Kementerian Imigrasi dan Pemasyarakatan",
            "Kementerian Pendidikan Dasar dan Menengah",
        ):
            assert name in names
        assert "Kementerian Hukum dan Hak Asasi Manusia" not in names
        assert not [n for n in names if "Hukum dan Hak Asasi" in n]
        ombudsman = instansi(s, "OMBUDSMAN")
        assert ombudsman.name == "Ombudsman Republik Indonesia"
        assert instansi(s, "KEMENDAGRI").supervisor is not None
        assert instansi(s, "KEMENPANRB").supervisor is None


def test_every_unit_belongs_to_an_existing_instansi(factory: sessionmaker) -> None:
    with factory() as s:
        orphans = s.scalars(
            select(Unit.code).where(
                ~select(Instansi.id).where(Instansi.id == Unit.instansi_id).exists()
            )
        ).all()
        assert orphans == []
        with (DATA / "demo_units.csv").open(newline="", encoding="utf-8") as fh:
            expected = {row["code"]: row["instansi_code"] for row in csv.DictReader(fh)}
        actual = dict(s.execute(select(Unit.code, Instansi.code).join(Unit.instansi)).all())
        assert actual == expected
        assert actual["34.04-DPUPKP"] == "34.04"


def test_demo_users_with_argon2_hashes_and_memberships(factory: sessionmaker) -> None:
    hasher = PasswordHasher()
    with factory() as s:
        for username, full_name, roles in DEMO_USERS:
            user = s.scalar(select(User).where(User.username == username))
            assert user is not None, f"demo user {username} is missing"
            assert user.full_name == full_name
            assert user.active
            assert user.password_hash.startswith("$argon2id$")
            assert DEMO_PASSWORD not in user.password_hash
            assert hasher.verify(user.password_hash, DEMO_PASSWORD)
            found = set()
            for m in user.memberships:
                unit = s.get(Unit, m.unit_id) if m.unit_id is not None else None
                inst = s.get(Instansi, m.instansi_id) if m.instansi_id is not None else None
                if unit is not None:
                    assert inst is not None and unit.instansi_id == inst.id
                    found.add((m.role, None, unit.code))
                else:
                    found.add((m.role, inst.code if inst else None, None))
            assert found == set(roles), username
        total = s.scalar(
            select(func.count())
            .select_from(RoleMembership)
            .join(User)
            .where(User.username.in_([u for u, _n, _r in DEMO_USERS]))
        )
        assert total == sum(len(r) for _u, _n, r in DEMO_USERS)


def test_readme_demo_users_are_seeded(factory: sessionmaker) -> None:
    with factory() as s:
        usernames = set(s.scalars(select(User.username)).all())
    assert usernames >= {"nasional", "sleman", "sleman.pu", "badung", "kemenkes", "diy", "designer"}


# ----------------------------------------------------------------------------- build_regions


def write_package(
    root: Path,
    provinces: list[tuple[str, str]],
    regencies: list[tuple[str, str, str]],
    *,
    name: str = "idn-area-data",
    version: str = "4.0.1",
) -> Path:
    """Write an extracted npm package: root/package/{package.json,data/*.csv}."""
    data = root / "package" / "data"
    data.mkdir(parents=True)
    with (data / "provinces.csv").open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(["code", "name"])
        writer.writerows(provinces)
    with (data / "regencies.csv").open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(["code", "province_code", "name"])
        writer.writerows(regencies)
    (root / "package" / "package.json").write_text(
        json.dumps({"name": name, "version": version}), encoding="utf-8"
    )
    return root


TINY_PROVINCES = [("51", "BALI"), ("34", "DI YOGYAKARTA"), ("94", "PAPUA TENGAH")]
TINY_REGENCIES = [
    ("34.71", "34", "KOTA YOGYAKARTA"),
    ("34.04", "34", "KABUPATEN SLEMAN"),
    ("51.03", "51", "KABUPATEN BADUNG"),
    ("94.01", "94", "Kabupaten Nabire"),
]


@pytest.fixture()
def tiny_counts(monkeypatch: pytest.MonkeyPatch) -> None:
    """Scale the expected national counts down to the tiny package."""
    monkeypatch.setattr(br, "EXPECTED_PROVINCES", 3)
    monkeypatch.setattr(br, "EXPECTED_KABUPATEN", 3)
    monkeypatch.setattr(br, "EXPECTED_KOTA", 1)


@pytest.fixture()
def tiny(tmp_path: Path) -> Path:
    return write_package(tmp_path / "src", TINY_PROVINCES, TINY_REGENCIES)


def test_title_case() -> None:
    assert br.title_case("DI YOGYAKARTA") == "DI Yogyakarta"
    assert br.title_case("DKI JAKARTA") == "DKI Jakarta"
    assert br.title_case("KABUPATEN SLEMAN") == "Kabupaten Sleman"
    assert br.title_case("Kabupaten Nabire") == "Kabupaten Nabire"
    assert br.title_case("Kota Baubau") == "Kota Baubau"


def test_build_regions_on_a_tiny_package(tiny: Path, tiny_counts: None) -> None:
    data = br.read_package(tiny)
    assert data.version == "4.0.1"
    regions = br.build_regions(data)
    assert [r.as_row() for r in regions] == [
        ("34", "DI Yogyakarta", "provinsi", "", "Asia/Jakarta"),
        ("34.04", "Kabupaten Sleman", "kabupaten", "34", "Asia/Jakarta"),
        ("34.71", "Kota Yogyakarta", "kota", "34", "Asia/Jakarta"),
        ("51", "Bali", "provinsi", "", "Asia/Makassar"),
        ("51.03", "Kabupaten Badung", "kabupaten", "51", "Asia/Makassar"),
        ("94", "Papua Tengah", "provinsi", "", "Asia/Jayapura"),
        ("94.01", "Kabupaten Nabire", "kabupaten", "94", "Asia/Jayapura"),
    ]


@pytest.mark.parametrize("layout", ["parent", "package", "data"])
def test_read_package_directory_layouts(tiny: Path, layout: str) -> None:
    source = {"parent": tiny, "package": tiny / "package", "data": tiny / "package" / "data"}
    data = br.read_package(source[layout])
    assert data.provinces_csv.startswith("code,name\n")
    assert data.regencies_csv.startswith("code,province_code,name\n")
    assert data.version == "4.0.1"


def test_read_package_tarball(tiny: Path, tmp_path: Path, tiny_counts: None) -> None:
    tgz = tmp_path / "idn-area-data-4.0.1.tgz"
    with tarfile.open(tgz, "w:gz") as tar:
        tar.add(tiny / "package", arcname="package")
    from_tar = br.read_package(tgz)
    from_dir = br.read_package(tiny)
    assert from_tar == from_dir
    assert br.build_regions(from_tar) == br.build_regions(from_dir)


def test_main_writes_the_csv(
    tiny: Path, tmp_path: Path, tiny_counts: None, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out" / "regions.csv"
    assert br.main([str(tiny), "-o", str(out)]) == 0
    raw = out.read_bytes()
    assert b"\r" not in raw
    lines = raw.decode("utf-8").splitlines()
    assert lines[0] == "code,name,kind,parent_code,timezone"
    assert lines[1] == "34,DI Yogyakarta,provinsi,,Asia/Jakarta"
    assert len(lines) == 8
    assert "wrote 7 rows" in capsys.readouterr().out
    # Same input, same bytes.
    again = tmp_path / "again.csv"
    assert br.main([str(tiny), "-o", str(again)]) == 0
    assert again.read_bytes() == raw


def test_unknown_province_code_fails(
    tmp_path: Path, tiny_counts: None, capsys: pytest.CaptureFixture[str]
) -> None:
    source = write_package(
        tmp_path / "src",
        [*TINY_PROVINCES[:2], ("99", "PROVINSI BARU")],
        TINY_REGENCIES[:3] + [("99.01", "99", "KABUPATEN BARU")],
    )
    with pytest.raises(br.BuildError, match="unknown province code 99"):
        br.build_regions(br.read_package(source))
    out = tmp_path / "regions.csv"
    assert br.main([str(source), "-o", str(out)]) == 1
    assert not out.exists()
    assert "unknown province code 99" in capsys.readouterr().err


def test_regency_under_unknown_province_fails(tmp_path: Path, tiny_counts: None) -> None:
    source = write_package(
        tmp_path / "src", TINY_PROVINCES, [*TINY_REGENCIES, ("35.01", "35", "KABUPATEN PACITAN")]
    )
    with pytest.raises(br.BuildError, match="35.01 has unknown province 35"):
        br.build_regions(br.read_package(source))


@pytest.mark.parametrize(
    ("regency", "message"),
    [
        (("34.72", "34", "KABUPATEN KELIRU"), "contradicts the code"),
        (("34.05", "34", "KOTA KELIRU"), "contradicts the code"),
        (("34.05", "34", "DISTRIK SESUATU"), "neither 'Kabupaten' nor 'Kota'"),
        (("34.05", "51", "KABUPATEN SALAH"), "listed under province 51"),
        (("34.4", "34", "KABUPATEN PENDEK"), "bad regency code"),
        (("34.04", "34", "KABUPATEN SLEMAN"), "duplicate regency code 34.04"),
    ],
)
def test_bad_regency_rows_fail(
    tmp_path: Path, tiny_counts: None, regency: tuple[str, str, str], message: str
) -> None:
    source = write_package(tmp_path / "src", TINY_PROVINCES, [*TINY_REGENCIES, regency])
    with pytest.raises(br.BuildError, match=message):
        br.build_regions(br.read_package(source))


def test_counts_must_match_the_nation(tiny: Path) -> None:
    with pytest.raises(br.BuildError, match="unexpected counts"):
        br.build_regions(br.read_package(tiny))


def test_wrong_package_is_refused(tmp_path: Path) -> None:
    source = write_package(tmp_path / "src", TINY_PROVINCES, TINY_REGENCIES, name="other-pkg")
    with pytest.raises(br.BuildError, match="expected 'idn-area-data'"):
        br.read_package(source)
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(br.BuildError, match="no provinces.csv"):
        br.read_package(empty)


def test_non_4x_release_is_refused(tmp_path: Path, tiny_counts: None) -> None:
    source = write_package(tmp_path / "src", TINY_PROVINCES, TINY_REGENCIES, version="3.1.0")
    out = tmp_path / "regions.csv"
    assert br.main([str(source), "-o", str(out)]) == 1
    assert not out.exists()


def test_shipped_regions_csv_is_a_fixed_point(tmp_path: Path) -> None:
    """Feeding regions.csv back as a package reproduces it byte for byte (offline check)."""
    shipped = (DATA / "regions.csv").read_bytes()
    rows = list(csv.DictReader(io.StringIO(shipped.decode("utf-8"))))
    assert Counter(r["kind"] for r in rows) == Counter(provinsi=38, kabupaten=416, kota=98)
    provinces = [(r["code"], r["name"]) for r in rows if r["kind"] == "provinsi"]
    regencies = [(r["code"], r["parent_code"], r["name"]) for r in rows if r["kind"] != "provinsi"]
    source = write_package(tmp_path / "src", provinces[::-1], regencies[::-1])
    out = tmp_path / "regions.csv"
    assert br.main([str(source), "-o", str(out)]) == 0
    assert out.read_bytes() == shipped
    for code, zone in br.PROVINCE_TIMEZONES.items():
        if code.startswith("9"):
            assert zone == "Asia/Jayapura"
