"""Loose keys for council and committee names, and partial ISO dates with their spans."""

from __future__ import annotations

import calendar
import datetime as dt
import re
import unicodedata

# Words that vary between the ways one council is written ("Sefton Council",
# "Sefton Metropolitan Borough Council"); dropping them leaves the place name.
_COUNCIL_NOISE = {
    "council", "metropolitan", "borough", "district", "county", "city", "of", "the", "and",
    "royal", "london", "mbc", "cc", "bc", "dc", "mdc", "lbc", "unitary", "authority",
}
_COMMITTEE_NOISE = {"the", "of", "and", "committee", "commission", "panel", "board"}


def fold(text: str) -> str:
    """Lower case, accents and curly quotes folded, punctuation to spaces, spaces squeezed."""
    text = unicodedata.normalize("NFKD", text)
    text = "".join(c for c in text if not unicodedata.combining(c))
    text = text.replace("\u2019", "'").replace("&", " and ").lower()
    text = re.sub(r"'s\b", "", text)  # children's -> children, as often written without
    text = re.sub(r"[^a-z0-9]+", " ", text)
    return " ".join(text.split())


def _key(name: str, noise: set[str]) -> str:
    words = fold(name).split()
    kept = [w for w in words if w not in noise]
    return " ".join(kept or words)


def council_key(name: str) -> str:
    """'City of Bradford Metropolitan District Council' -> 'bradford'."""
    return _key(name, _COUNCIL_NOISE)


def committee_key(name: str) -> str:
    return _key(name, _COMMITTEE_NOISE)


def name_matches(wanted_key: str, stored_key: str) -> bool:
    """Loose match: every word the user typed appears among the stored name's words."""
    wanted = wanted_key.split()
    stored = set(stored_key.split())
    return bool(wanted) and all(w in stored for w in wanted)


# Month names and their abbreviations, lower-cased, to month numbers ('june': 6, 'sept': 9).
MONTH_NUMBERS = {m.lower(): i for i, m in enumerate(calendar.month_name) if m}
MONTH_NUMBERS.update({m.lower(): i for i, m in enumerate(calendar.month_abbr) if m})
MONTH_NUMBERS["sept"] = 9


def parse_meeting_date(value: object) -> str:
    """A meeting date as ISO, keeping it partial where the source is ('2018', '2018-09').

    Raises ValueError with a readable reason when the value is not a date.
    """
    if value is None or value == "":
        return ""
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, bool):
        raise ValueError(f"{value!r} is not a date")
    if isinstance(value, int):
        value = str(value)
    if not isinstance(value, str):
        raise ValueError(f"{value!r} is not a date")
    text = value.strip()
    if not text:
        return ""
    if m := re.fullmatch(r"(\d{4})(?:-(\d{1,2})(?:-(\d{1,2}))?)?", text):
        year, month, day = m.group(1), m.group(2), m.group(3)
        return _iso(int(year), int(month) if month else None, int(day) if day else None, text)
    if m := re.fullmatch(r"(\d{1,2})[/.](\d{1,2})[/.](\d{4})", text):  # UK order: day first
        return _iso(int(m.group(3)), int(m.group(2)), int(m.group(1)), text)
    words = re.sub(r"(\d)(st|nd|rd|th)\b", r"\1", text.lower().replace(",", " ")).split()
    words = [w for w in words if w not in _WEEKDAYS]
    if len(words) == 3 and words[0].isdigit() and words[1] in MONTH_NUMBERS and words[2].isdigit():
        return _iso(int(words[2]), MONTH_NUMBERS[words[1]], int(words[0]), text)
    if len(words) == 2 and words[0] in MONTH_NUMBERS and words[1].isdigit():
        return _iso(int(words[1]), MONTH_NUMBERS[words[0]], None, text)
    raise ValueError(f"{value!r} is not a date (use ISO: 2018, 2018-09 or 2018-09-12)")


_WEEKDAYS = {d.lower() for d in calendar.day_name} | {d.lower() for d in calendar.day_abbr}


def _iso(year: int, month: int | None, day: int | None, original: str) -> str:
    if not 1900 <= year <= 2100:
        raise ValueError(f"{original!r} has an implausible year")
    if month is None:
        return f"{year:04d}"
    if not 1 <= month <= 12:
        raise ValueError(f"{original!r} has no month {month}")
    if day is None:
        return f"{year:04d}-{month:02d}"
    try:
        return dt.date(year, month, day).isoformat()
    except ValueError:
        raise ValueError(f"{original!r} is not a real date") from None


def date_span(iso: str) -> tuple[int, int] | None:
    """The first and last day a partial ISO date covers, as yyyymmdd integers."""
    if not iso:
        return None
    parts = [int(p) for p in iso.split("-")]
    year = parts[0]
    if len(parts) == 1:
        return year * 10000 + 101, year * 10000 + 1231
    month = parts[1]
    if len(parts) == 2:
        last = calendar.monthrange(year, month)[1]
        return year * 10000 + month * 100 + 1, year * 10000 + month * 100 + last
    day = year * 10000 + month * 100 + parts[2]
    return day, day
