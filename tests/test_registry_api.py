"""The public registry pickers: provinces then regencies, and instansi search by words."""

from __future__ import annotations

from typing import Any

from tests.helpers import problem_of


def test_provinces_then_the_regencies_of_one(client: Any) -> None:
    provinces = client.get("/api/v1/regions").get_json()
    assert len(provinces) == 38
    (diy_province,) = [p for p in provinces if p["code"] == "34"]
    assert "YOGYAKARTA" in diy_province["name"].upper() and diy_province["parent_code"] is None
    diy = client.get("/api/v1/regions", query_string={"parent": "34"}).get_json()
    assert {r["code"] for r in diy} == {"34.01", "34.02", "34.03", "34.04", "34.71"}
    assert all(r["parent_code"] == "34" for r in diy)
    assert client.get("/api/v1/regions", query_string={"parent": "99"}).get_json() == []


def test_instansi_search_matches_every_word_and_the_region(client: Any) -> None:
    found = client.get("/api/v1/instansi", query_string={"q": "sleman"}).get_json()
    assert found[0]["code"] == "34.04" and found[0]["supervisor_code"] == "34"
    both = client.get("/api/v1/instansi", query_string={"q": "kabupaten sleman"}).get_json()
    assert [i["code"] for i in both] == ["34.04"]
    in_diy = client.get("/api/v1/instansi", query_string={"region": "34", "limit": 50}).get_json()
    assert {"34", "34.04"} <= {i["code"] for i in in_diy}
    assert all((i["region_code"] or "").startswith("34") for i in in_diy)
    assert client.get("/api/v1/instansi", query_string={"q": "100%_"}).get_json() == []


def test_bad_queries_name_the_field(client: Any) -> None:
    assert problem_of(client.get("/api/v1/instansi?q=" + "x" * 101), 422)["field"] == "q"
    assert problem_of(client.get("/api/v1/instansi?limit=0"), 422)["field"] == "limit"
    assert problem_of(client.get("/api/v1/regions?parent=" + "1" * 17), 422)["field"] == "parent"
