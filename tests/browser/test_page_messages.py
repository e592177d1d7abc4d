"""Pages never show English written for the API: marshmallow's validation messages and the
services' refusal details (`DomainError.message`) are said in the visitor's language.

- Every message the forms' schemas produce for bad input, and every message marshmallow itself
  can write, is read by its kind (`api.web.forms.explain`): in Indonesian it is never the raw
  English, and in English it is the catalogue's sentence, not the Indonesian one.
- Every `DomainError` code raised in `engine/` and `sla/` has a sentence in
  `api.web.refusals`, in both languages; unknown codes get a translated generic sentence.
- Pages in both languages: the citizen form, a reply the service refuses, the SLA policy
  form, and the registry's merge and split forms show translated words only.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from marshmallow import Schema, ValidationError, fields, validate

from api.schemas.pelapor import PelaporSecretSchema, ResendLinkSchema
from api.schemas.registry_admin import (
    InstansiMergeSchema,
    InstansiRenameSchema,
    InstansiSplitSchema,
)
from api.schemas.reports import ReplySchema, ReportCreateSchema
from api.schemas.sla_admin import CalendarDaySchema, PolicySetSchema
from api.schemas.staff_admin import DelegateSchema, UnitCreateSchema, UserCreateSchema
from api.web.forms import explain
from api.web.refusals import SENTENCES, refusal
from engine.errors import DomainError
from tests.browser.test_citizen_pages import GOOD, csrf, error_next_to
from tests.browser.test_login_pages import csrf_of, sign_in_client
from tests.helpers import Api

ROOT = Path(__file__).resolve().parents[2]
FORM_SCHEMAS = (
    ReportCreateSchema,
    ReplySchema,
    ResendLinkSchema,
    PelaporSecretSchema,
    CalendarDaySchema,
    PolicySetSchema,
    InstansiRenameSchema,
    InstansiMergeSchema,
    InstansiSplitSchema,
    UserCreateSchema,
    DelegateSchema,
    UnitCreateSchema,
)
BAD_INPUTS: tuple[Any, ...] = (
    "",
    "x",
    "\x00",
    "x" * 30001,
    "2026-99-99",
    None,
    True,
    0,
    -5,
    3.5,
    10**12,
    [],
    ["x" * 300],
    [{"role": "x"}],
    {},
)
# what marshmallow or our schemas write, which a page must never show
RAW_ENGLISH = re.compile(
    r"Missing data for required|may not be null|Not a valid [\w -]+\.|Length must be|"
    r"Shorter than minimum|Longer than maximum|Must be (?:one of|greater|less)|Unknown field|"
    r"Invalid (?:input|type|value)|letters, digits, \. _ -|not a phone number|must not contain"
)


def messages_of(error: Any) -> Iterator[str]:
    if isinstance(error, dict):
        for value in error.values():
            yield from messages_of(value)
    elif isinstance(error, list):
        for value in error:
            yield from messages_of(value)
    else:
        yield str(error)


def form_messages() -> set[str]:
    """Every message the forms' schemas give for a set of bad inputs (each field at once)."""
    found: set[str] = set()
    for make in FORM_SCHEMAS:
        schema = make()
        for bad in BAD_INPUTS:
            for data in ({}, {**dict.fromkeys(schema.load_fields, bad), "zz_unknown": 1}):
                try:
                    schema.load(data)
                except ValidationError as exc:
                    found.update(messages_of(exc.messages))
    return found


def marshmallow_messages() -> set[str]:
    """What marshmallow itself can write: each field's and validator's default message."""

    class Everything(Schema):
        text = fields.String(required=True)
        exact = fields.String(validate=validate.Length(equal=4))
        short = fields.String(validate=validate.Length(min=3))
        long = fields.String(validate=validate.Length(max=3))
        some = fields.List(fields.String(), validate=validate.Length(min=2, max=3))
        number = fields.Float(allow_nan=False)
        whole = fields.Integer(strict=True)
        exclusive = fields.Integer(
            validate=validate.Range(min=0, max=9, min_inclusive=False, max_inclusive=False)
        )
        below = fields.Integer(validate=validate.Range(max=9, max_inclusive=False))
        above = fields.Integer(validate=validate.Range(min=0, min_inclusive=False))
        at_most = fields.Integer(validate=validate.Range(max=9))
        at_least = fields.Integer(validate=validate.Range(min=1))
        day = fields.Date(validate=validate.Range(min=date(2020, 1, 1), max=date(2020, 12, 31)))
        moment = fields.AwareDateTime()
        time = fields.Time()
        yes = fields.Boolean()
        email = fields.Email()
        url = fields.Url()
        choice = fields.String(validate=validate.OneOf(["a", "b"]))
        choices = fields.List(fields.String(), validate=validate.ContainsOnly(["a", "b"]))
        mapping = fields.Dict()
        nested = fields.Nested(Schema.from_dict({"inner": fields.String(required=True)}))

    bad = {
        "text": None,
        "exact": "abc",
        "short": "ab",
        "long": "abcd",
        "some": ["a"],
        "number": "nan",
        "whole": "x",
        "exclusive": 9,
        "below": 9,
        "above": 0,
        "at_most": 10,
        "at_least": 0,
        "day": "2021-01-01",
        "moment": "2026-01-01T00:00:00",
        "time": "x",
        "yes": "x",
        "email": "x",
        "url": "x",
        "choice": "c",
        "choices": ["c"],
        "mapping": "x",
        "nested": "x",
        "unknown": 1,
    }
    with pytest.raises(ValidationError) as caught:
        Everything().load(bad)
    found = set(messages_of(caught.value.messages))
    assert len(found) >= len(bad) - 1, found  # one message per field (text: null)
    return found


def test_every_form_message_is_read_by_its_kind_in_both_languages(app: Flask) -> None:
    messages = form_messages()
    assert len(messages) > 30, messages
    for message in sorted(messages):
        with app.test_request_context("/?lang=id"):
            indonesian = explain(message, "typed")
            fallback = explain("a message nobody knows", "typed")
        with app.test_request_context("/?lang=en"):
            english = explain(message, "typed")
        assert indonesian != message and not RAW_ENGLISH.search(indonesian), message
        assert indonesian != fallback, f"{message!r} has no kind: add it to forms._KINDS"
        assert english != indonesian, f"{indonesian!r} has no English (messages.po)"


def test_marshmallow_messages_never_reach_a_page_in_english(app: Flask) -> None:
    for message in sorted(marshmallow_messages()):
        for lang in ("id", "en"):
            with app.test_request_context(f"/?lang={lang}"):
                shown = explain(message)
            assert shown != message and not RAW_ENGLISH.search(shown), (lang, message, shown)


def test_lengths_and_ranges_keep_their_limits(app: Flask) -> None:
    with app.test_request_context("/?lang=en"):
        assert explain("Length must be between 5 and 200.", "Jal") == (
            "Too short: at least 5 characters."
        )
        assert explain("Length must be between 5 and 200.", "x" * 201) == (
            "Too long: at most 200 characters."
        )
        assert explain("Length must be between 1 and 20.", ["a"] * 21) == "Choose at most 20."
        assert explain("Longer than maximum length 254.") == "Too long: at most 254 characters."
        assert explain("Must be greater than or equal to 1 and less than or equal to 60.") == (
            "Enter a value from 1 to 60."
        )
        assert explain("Must be greater than 0.") == "Enter a value greater than 0."
        assert explain("Must be one of: wd, wh.") == "Choose one of the options."
        assert explain("Missing data for required field.") == "Required."
        assert explain("anything else") == "This entry is not valid."
    with app.test_request_context("/?lang=id"):
        assert explain("Must be less than or equal to 5.") == "Isi nilai paling besar 5."
        assert explain("Length must be between 8 and 128.", "") == "Wajib diisi."


def raised_codes() -> set[str]:
    """The codes of `DomainError` and its subclasses, and every `code="..."` a raise in
    engine/ or sla/ passes: the codes a page can meet."""
    codes = set()
    for path in [*ROOT.joinpath("engine").rglob("*.py"), *ROOT.joinpath("sla").rglob("*.py")]:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Raise) and isinstance(node.exc, ast.Call):
                for keyword in node.exc.keywords:
                    if keyword.arg == "code" and isinstance(keyword.value, ast.Constant):
                        codes.add(str(keyword.value.value))
    pending = [DomainError]
    while pending:
        kind = pending.pop()
        codes.add(kind.code)
        pending += kind.__subclasses__()
    return codes


def test_every_refusal_code_has_a_sentence_in_both_languages(app: Flask) -> None:
    codes = raised_codes()
    assert {"not_found", "conflict", "pixels", "too_many", "closed"} <= codes
    assert codes <= set(SENTENCES), f"codes without a sentence: {codes - set(SENTENCES)}"
    for code in sorted(codes | {"some_new_code"}):
        error = DomainError("the service's own English words", code=code)
        with app.test_request_context("/?lang=id"):
            indonesian = refusal(error)
        with app.test_request_context("/?lang=en"):
            english = refusal(error)
        assert "service's own" not in indonesian + english, code
        assert english != indonesian, f"{code}: {indonesian!r} has no English"


# --- pages, in both languages ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("lang", "phone", "title"),
    [
        ("id", "Nomor telepon tidak valid", "Terlalu pendek: paling sedikit 5 karakter."),
        ("en", "This is not a valid phone number", "Too short: at least 5 characters."),
    ],
)
def test_citizen_form_errors_are_translated(
    client: FlaskClient, lang: str, phone: str, title: str
) -> None:
    data = {
        **GOOD,
        "csrf_token": csrf(client),
        "title": "Jal",
        "pelapor_phone": "abc",
        "pelapor_email": "x" * 250 + "@example.org",
        "classification": "robot",
        "gender": "robot",
    }
    response = client.post(f"/lapor?lang={lang}", data=data)
    html = response.get_data(as_text=True)
    assert response.status_code == 422 and f'<html lang="{lang}">' in html
    assert error_next_to(html, "pelapor_phone").startswith(phone)
    assert error_next_to(html, "title") == title
    for name in ("pelapor_email", "classification", "gender"):
        assert not RAW_ENGLISH.search(error_next_to(html, name)), name
    assert not RAW_ENGLISH.search(html)


@pytest.mark.parametrize(
    ("lang", "sentence"),
    [("id", "Isian tidak dapat diterima."), ("en", "This input cannot be accepted.")],
)
def test_a_reply_the_service_refuses_shows_no_english_detail(
    client: FlaskClient, app: Flask, lang: str, sentence: str
) -> None:
    """An empty comment passes the page's checks and the schema; the service refuses it
    (InvalidInput "the comment is required"): the page says why in the visitor's language."""
    from contextlib import nullcontext

    filed = Api(lambda: nullcontext(app.test_client())).file()
    form = {"csrf_token": csrf(client), "secret": filed["secret"], "kind": "comment"}
    response = client.post(f"/lapor/{filed['tracking_id']}/balas?lang={lang}", data=form)
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert f'<p class="error summary" role="alert">{sentence}</p>' in html
    assert "the comment is required" not in html


@pytest.mark.parametrize(
    ("lang", "between"),
    [("id", "Isi nilai 1 sampai"), ("en", "Enter a value from 1 to")],
)
def test_policy_form_limits_in_both_languages(client: FlaskClient, lang: str, between: str) -> None:
    assert sign_in_client(client, "nasional").status_code == 303
    token = csrf_of(client, "/admin/sla")
    data = {"csrf_token": token, "milestone": "follow-up", "duration": "0", "unit": "wd"}
    response = client.post(f"/admin/sla?lang={lang}", data=data)
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert re.search(rf'id="duration-error">{between} \d+\.<', html), html
    assert not RAW_ENGLISH.search(html)


@pytest.fixture()
def world(db_engine: Any, factory: Any) -> Iterator[dict[str, int]]:
    from tests.test_registry_admin import build_world

    yield from build_world(db_engine, factory)


@pytest.mark.parametrize(
    ("lang", "not_found", "pattern"),
    [
        ("id", "Data yang dirujuk tidak ditemukan.", "Pakai huruf, angka, titik"),
        ("en", "What this refers to was not found.", "Use letters, digits, dots"),
    ],
)
def test_registry_refusals_and_code_rule_are_translated(
    client: FlaskClient, world: dict[str, int], lang: str, not_found: str, pattern: str
) -> None:
    assert sign_in_client(client, "nasional").status_code == 303
    token = csrf_of(client, "/admin/instansi")
    merge = client.post(
        f"/admin/instansi/TST-A/gabung?lang={lang}", data={"csrf_token": token, "into": "TST-NO"}
    )
    html = merge.get_data(as_text=True)
    assert merge.status_code == 404
    # the sentence alone: no English detail from the service after it
    assert f'id="merge-into-error">{not_found}<' in html
    split = client.post(
        f"/admin/instansi/TST-A/pecah?lang={lang}",
        data={"csrf_token": token, "code": "bad code!", "name": "Dinas Uji", "units": "TST-A-PU"},
    )
    html = split.get_data(as_text=True)
    assert split.status_code == 422
    assert re.search(rf'id="split-code-error">{pattern}', html), html
    assert not RAW_ENGLISH.search(html)
