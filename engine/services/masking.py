"""Personal data out of text that others will read: phone numbers, email addresses and 16-digit
NIK masked, and the phrases officers redacted replaced.

Used by the public feed and by the report status view for visitors without the pelapor's secret.
Masking keeps text readable: the last two digits of a number stay, separators stay, an email
keeps its first letter and top-level domain. Dates, times, money amounts and tracking ids are
left alone; masking twice changes nothing. Redactions are non-public timeline entries of kind
`redaction` ({"phrases": [...]}), replaced case-insensitively by `[disamarkan]`.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.models import TimelineEntry

REDACTION_KIND = "redaction"
REDACTED = "[disamarkan]"
DOT = "•"

# --- masking -------------------------------------------------------------------------------

_EMAIL = re.compile(
    r"(?<![\w.%+-])(?P<local>[A-Za-z0-9][A-Za-z0-9._%+-]*)@"
    r"(?P<domain>[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*)\.(?P<tld>[A-Za-z]{2,24})(?![\w-])"
)
_NIK = re.compile(
    r"(?<![\w•])(?<![\d•][ .-])"
    r"(?:\d{16}"
    r"|\d{4}(?P<a>[ .-])\d{4}(?P=a)\d{4}(?P=a)\d{4}"
    r"|\d{6}(?P<b>[ .-])\d{6}(?P=b)\d{4}"
    r"|\d{2}(?P<c>[ .-])\d{2}(?P=c)\d{2}(?P=c)\d{6}(?P=c)\d{4})"
    r"(?![\w•])(?![ .-][\d•])"
)
_PHONE = re.compile(
    r"(?<![\w•+])(?<![\d•][ .-])"
    r"(?P<prefix>\+62|62|\(0|0)"
    r"(?:"
    r"[ .-]?\(?8\d(?:[ .-]?\d){7,10}"  # mobile: 8 and 8-11 more digits
    r"|\)?[ .-]?[2-7]\d{0,2}\)?[ .-]?\d{3,4}[ .-]?\d{3,4}"  # fixed line with its area code
    r")"
    r"(?![\w•])(?![ .-][\d•])"
)
_THOUSANDS = re.compile(r"\d{1,3}(?:[.,]\d{3})+")
_MONEY_BEFORE = re.compile(r"(?:rp|idr)\.?\s*$", re.IGNORECASE)


def _dots_but_last(text: str, keep: int = 2) -> str:
    """Every digit of `text` but the last `keep` becomes a dot; separators stay."""
    digits = sum(ch.isdigit() for ch in text)
    out: list[str] = []
    seen = 0
    for ch in text:
        if ch.isdigit():
            seen += 1
            out.append(ch if seen > digits - keep else DOT)
        else:
            out.append(ch)
    return "".join(out)


def _email(match: re.Match[str]) -> str:
    return f"{match['local'][0]}{DOT * 3}@{DOT * 3}.{match['tld']}"


def _nik(match: re.Match[str]) -> str:
    return _dots_but_last(match[0])


def _phone(match: re.Match[str]) -> str:
    whole, prefix = match[0], match["prefix"]
    before = match.string[max(0, match.start() - 6) : match.start()]
    if _MONEY_BEFORE.search(before) or (prefix == "62" and _THOUSANDS.fullmatch(whole)):
        return whole  # an amount of money, not a phone number
    return prefix + _dots_but_last(whole[len(prefix) :])


def mask(text: str) -> str:
    """`text` with email addresses, Indonesian phone numbers and NIK masked (module docstring)."""
    text = _EMAIL.sub(_email, text)
    text = _NIK.sub(_nik, text)
    return _PHONE.sub(_phone, text)


# --- redaction -----------------------------------------------------------------------------


def _pattern(phrases: Iterable[str]) -> re.Pattern[str] | None:
    alternatives = [r"\s+".join(re.escape(w) for w in p.split()) for p in phrases if p.split()]
    alternatives.sort(key=len, reverse=True)  # the longest phrase wins where phrases overlap
    return re.compile("|".join(alternatives), re.IGNORECASE) if alternatives else None


class Publisher:
    """Turns stored text into public text for one report: redacted, then masked."""

    def __init__(self, phrases: Iterable[str] = ()) -> None:
        self.pattern = _pattern(phrases)

    def __call__(self, text: str | None) -> str | None:
        if text is None:
            return None
        if self.pattern is not None:
            text = self.pattern.sub(REDACTED, text)
        return mask(text)


def phrases_of(session: Session, report_ids: Sequence[int]) -> dict[int, list[str]]:
    found: dict[int, list[str]] = defaultdict(list)
    if not report_ids:
        return found
    rows = session.execute(
        select(TimelineEntry.report_id, TimelineEntry.data).where(
            TimelineEntry.report_id.in_(report_ids), TimelineEntry.kind == REDACTION_KIND
        )
    )
    for report_id, data in rows:
        found[report_id] += [p for p in (data or {}).get("phrases", []) if isinstance(p, str)]
    return found
