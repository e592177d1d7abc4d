"""The translation layer: Flask-Babel reading our .po catalogues, compiled in memory at start.

Templates are written in Bahasa Indonesia (the default); `translations/<lang>/LC_MESSAGES/
*.po` hold the other languages, one file per page area. `?lang=en` switches and is remembered
in a cookie.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations
from flask import Blueprint, Flask, Response, current_app, request
from flask_babel import Babel, Domain, get_locale
from werkzeug.utils import cached_property

TRANSLATIONS = Path(__file__).with_name("translations")
DEFAULT = "id"
LANGUAGES = {"id": "Bahasa Indonesia", "en": "English"}
LANG_COOKIE = "lapor_lang"
LANG_COOKIE_AGE = 365 * 24 * 3600


def load_catalogues(folder: Path = TRANSLATIONS) -> dict[tuple[str, str], Translations]:
    """Every `<lang>/LC_MESSAGES/*.po` compiled in memory (no .mo files) and merged into one
    catalogue per language: each page area keeps its own file (`messages.po`, `citizen.po`...)."""
    found: dict[tuple[str, str], Translations] = {}
    for po in sorted(folder.glob("*/LC_MESSAGES/*.po")):
        lang = po.parent.parent.name
        with po.open("rb") as fh:
            catalog = read_po(fh, locale=lang)
        compiled = io.BytesIO()
        write_mo(compiled, catalog)
        compiled.seek(0)
        translations = Translations(fp=compiled)
        if (lang, "messages") in found:
            found[lang, "messages"].merge(translations)
        else:
            found[lang, "messages"] = translations
    return found


class CatalogueDomain(Domain):
    """Flask-Babel's domain whose translation cache starts filled with our compiled catalogues."""

    def __init__(self, catalogues: dict[tuple[str, str], Translations]) -> None:
        super().__init__(translation_directories=[])
        self.cache = dict(catalogues)


class LaporBabel(Babel):
    @cached_property
    def domain_instance(self) -> Domain:  # type: ignore[override]
        return CatalogueDomain(load_catalogues())


babel = LaporBabel()


def select_locale() -> str:
    asked = request.args.get("lang")
    if asked in LANGUAGES:
        return asked
    remembered = request.cookies.get(LANG_COOKIE)
    return remembered if remembered in LANGUAGES else DEFAULT


def remember_language(response: Response) -> Response:
    """`?lang=xx` on any page is kept in a cookie so that later pages follow it."""
    asked = request.args.get("lang")
    if asked in LANGUAGES and request.cookies.get(LANG_COOKIE) != asked:
        response.set_cookie(
            LANG_COOKIE,
            asked,
            max_age=LANG_COOKIE_AGE,
            httponly=True,
            samesite="Lax",
            secure=bool(current_app.config.get("SESSION_COOKIE_SECURE")),
        )
    return response


def language_links() -> list[dict[str, Any]]:
    """The switch shown on every page: the current path with `lang` set to each language."""
    current = str(get_locale() or DEFAULT)
    kept = [(k, v) for k, v in request.args.items(multi=True) if k != "lang"]
    return [
        {
            "code": code,
            "label": label,
            "url": f"{request.path}?{urlencode([*kept, ('lang', code)])}",
            "current": code == current,
        }
        for code, label in LANGUAGES.items()
    ]


def init_app(app: Flask) -> None:
    babel.init_app(app, default_locale=DEFAULT, locale_selector=select_locale)


def install(blueprint: Blueprint) -> None:
    """Pages of `blueprint` remember `?lang=` and get the language switch in their templates."""
    blueprint.after_request(remember_language)
    blueprint.context_processor(lambda: {"language_links": language_links, "lang": get_locale})
