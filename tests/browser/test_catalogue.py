"""The message catalogue is complete: every string of every page has English, once, and the
catalogue holds nothing the pages no longer use.

Pages are written in Bahasa Indonesia, so the msgids *are* the Indonesian text and no Indonesian
catalogue exists to fall behind; English lives in `api/web/translations/en/LC_MESSAGES/*.po`, one
file per page area (`messages.po` for the shared pages, `citizen.po`, `officer.po`...), which
`api/web/i18n.py` merges at start-up.

This runs Babel's own `pybabel extract` with the mapping in `babel.cfg` (Python under `api/web`,
Jinja templates in any `templates/` folder under it) into a temporary .pot, then compares.

To add a translation, after wrapping the new text in `_('...')` in a template or `gettext` /
`lazy_gettext` in Python:

1. see what is missing:   `.venv/bin/pytest -q tests/browser/test_catalogue.py`
   (or `.venv/bin/pybabel extract -F babel.cfg -k lazy_gettext -o /tmp/messages.pot .`);
2. add to *your area's* .po file (`api/web/translations/en/LC_MESSAGES/<area>.po`; a new area
   starts its own file with the header of `messages.po`)::

       msgid "Teks dalam Bahasa Indonesia"
       msgstr "The English text"

   keeping placeholders (`%(name)s`, `{count}`) as they are;
3. delete the entries whose text the pages no longer use, and drop `#, fuzzy` once checked
   (fuzzy entries are not compiled, so they count as untranslated).

No .mo files are built: the .po files are read at start-up.
"""

from __future__ import annotations

import re
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog, Message
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[2]
ENGLISH = ROOT / "api" / "web" / "translations" / "en" / "LC_MESSAGES"
BRACES = re.compile(r"\{(\w+)\}")
KEYWORDS = ["gettext", "lazy_gettext", "lazy_ngettext:1,2", "_", "ngettext:1,2"]


def msgid(message: Message) -> str:
    return message.id if isinstance(message.id, str) else message.id[0]


@pytest.fixture(scope="module")
def used(tmp_path_factory: pytest.TempPathFactory) -> Catalog:
    """The strings the pages use, as `pybabel extract` finds them."""
    pot = tmp_path_factory.mktemp("catalogue") / "messages.pot"
    pybabel = Path(sys.executable).with_name("pybabel")
    command = [str(pybabel), "-q", "extract", "-F", str(ROOT / "babel.cfg")]
    command += [f"--keyword={k}" for k in KEYWORDS]
    command += ["--ignore-dirs=.* _* node_modules tests", "-o", str(pot), "."]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    with pot.open("rb") as fh:
        catalog = read_po(fh)
    assert len(catalog) > 0, "pybabel found no strings: is babel.cfg right?"
    return catalog


@pytest.fixture(scope="module")
def english() -> dict[str, list[tuple[str, Message]]]:
    """Every English entry by msgid, with the file it is in (one file each, we hope)."""
    found: dict[str, list[tuple[str, Message]]] = defaultdict(list)
    for po in sorted(ENGLISH.glob("*.po")):
        with po.open("rb") as fh:
            catalog = read_po(fh, locale="en")
        for message in catalog:
            if message.id:
                found[msgid(message)].append((po.name, message))
    return found


def translated(message: Message) -> bool:
    """Has English that the app will use (fuzzy entries are left out when compiled)."""
    strings = message.string if isinstance(message.string, tuple | list) else (message.string,)
    return not message.fuzzy and all(s and s.strip() for s in strings)


def where(message: Message) -> str:
    return ", ".join(f"{path}:{line}" for path, line in message.locations) or "?"


def test_every_page_string_has_english(
    used: Catalog, english: dict[str, list[tuple[str, Message]]]
) -> None:
    missing = [
        f"  {msgid(m)!r}  (used in {where(m)})"
        for m in used
        if m.id and not any(translated(entry) for _file, entry in english.get(msgid(m), []))
    ]
    assert not missing, (
        "strings without English: add them to your area's .po file in "
        f"{ENGLISH.relative_to(ROOT)}\n" + "\n".join(missing)
    )


def test_plural_strings_are_translated_as_plurals(
    used: Catalog, english: dict[str, list[tuple[str, Message]]]
) -> None:
    wrong = [
        f"  {msgid(m)!r} in {file}"
        for m in used
        if m.id
        for file, entry in english.get(msgid(m), [])
        if m.pluralizable != entry.pluralizable
    ]
    assert not wrong, "singular/plural mismatch with the code:\n" + "\n".join(wrong)


def test_no_string_is_translated_twice(english: dict[str, list[tuple[str, Message]]]) -> None:
    twice = {
        text: [file for file, _m in entries]
        for text, entries in english.items()
        if len(entries) > 1
    }
    assert not twice, (
        "msgids in more than one .po file (only one would win): keep one entry, in "
        f"messages.po when several areas use the string: {twice}"
    )


def test_no_stale_entries(used: Catalog, english: dict[str, list[tuple[str, Message]]]) -> None:
    in_use = {msgid(m) for m in used if m.id}
    stale = sorted(
        f"  {text!r} in {entries[0][0]}" for text, entries in english.items() if text not in in_use
    )
    assert not stale, "entries no page uses any more: delete them\n" + "\n".join(stale)


def test_placeholders_match(english: dict[str, list[tuple[str, Message]]]) -> None:
    """Babel's own checks (`%(name)s` kept in the English text), and the same for the `{name}`
    placeholders that page scripts fill in."""
    problems = []
    for entries in english.values():
        for file, message in entries:
            if translated(message) and isinstance(message.id, str):
                wanted, got = (set(BRACES.findall(str(t))) for t in (message.id, message.string))
                if wanted != got:
                    problems.append(f"  {file}: {message.id!r}: placeholders {got} != {wanted}")
            catalog = Catalog(locale="en")
            catalog[message.id] = message
            for _message, errors in catalog.check():
                problems += [f"  {file}: {msgid(message)!r}: {error}" for error in errors]
    assert not problems, "\n".join(problems)
