"""Search filters: council, committee and a meeting-date range, checked when they are made."""

from __future__ import annotations

from dataclasses import dataclass

from assistant.errors import BadFilterError
from assistant.text import MONTH_NAMES, date_span, no_such_date, parse_meeting_date

# A council or committee is named in a few words; a filter far longer names none. Every answer's filters go into the
# audit log and into the answer's own text: a council field of megabytes (the app's API takes whatever it is sent) had
# written megabytes to the log with each question, which is itself held to 2,000 characters.
MAX_NAME_FILTER_CHARS = 500
_EXAMPLE_NAMES = {"council": "Sefton", "committee": "Corporate Parenting"}
# How much of a date that cannot be read its message repeats: a value of megabytes had been echoed whole.
_SHOWN_DATE_CHARS = 40


@dataclass(frozen=True)
class Filters:
    council: str = ""
    committee: str = ""
    since: str = ""  # YYYY-MM-DD (a year or year-month is read as its first day)
    until: str = ""

    def __post_init__(self) -> None:
        # Filters arrive from the CLI, the app and JSON files (briefings, questions): a blank value means no
        # filter (as is null), a year may come as a number, and anything else that is not text gets a message.
        for name in ("council", "committee", "since", "until"):
            value = "" if getattr(self, name) is None else getattr(self, name)
            if name in ("since", "until") and isinstance(value, int) and not isinstance(value, bool):
                value = str(value)
            if not isinstance(value, str):
                raise BadFilterError.about(name, f"filter must be text, not {value!r}.",
                                           'Write it in quotes, for example "2019-04-01" or "Rotherham".')
            object.__setattr__(self, name, value.strip())
        for name in ("council", "committee"):
            if len(getattr(self, name)) > MAX_NAME_FILTER_CHARS:
                raise BadFilterError.about(name, f"filter is {len(getattr(self, name)):,} characters long; the limit "
                                           f"is {MAX_NAME_FILTER_CHARS:,}.",
                                           f"Give the {name}'s name, or a part of it (\"{_EXAMPLE_NAMES[name]}\"), or "
                                           "leave it empty.")
        for name in ("since", "until"):
            if getattr(self, name):
                _day(getattr(self, name), name, last=name == "until")
        if self.since and self.until and self._since_int > self._until_int:
            raise BadFilterError(f"The date range ends ({self.until}) before it starts ({self.since}).",
                                 "Swap the two dates, or leave one of them empty.")

    @property
    def active(self) -> bool:
        return any((self.council, self.committee, self.since, self.until))

    @property
    def _since_int(self) -> int:
        return _day(self.since, "since", last=False) if self.since else 0

    @property
    def _until_int(self) -> int:
        return _day(self.until, "until", last=True) if self.until else 99991231

    def describe(self) -> str:
        parts = []
        if self.council:
            parts.append(f"council: {self.council}")
        if self.committee:
            parts.append(f"committee: {self.committee}")
        if self.since or self.until:
            parts.append(f"meeting date: {_as_read(self.since)} to {_as_read(self.until)}")
        return "; ".join(parts) or "none"

    def as_dict(self) -> dict:
        return {k: v for k, v in self.__dict__.items() if v}


def _as_read(value: str) -> str:
    """A filter's date as given, and as read when it was not given as ISO: '01/03/2019' could be 1 March or, to
    American eyes, 3 January, so the member sees which ('01/03/2019 (1 March 2019)')."""
    if not value:
        return "any"
    iso = parse_meeting_date(value)
    if iso == value:
        return value
    year, _, rest = iso.partition("-")
    month, _, day = rest.partition("-")
    words = " ".join(part for part in (str(int(day)) if day else "", MONTH_NAMES[int(month) - 1] if month else "",
                                       year) if part)
    return value if words.casefold() == " ".join(value.split()).casefold() else f"{value} ({words})"


def _day(value: str, name: str, last: bool) -> int:
    try:
        iso = parse_meeting_date(value)
    except ValueError:
        if missing := no_such_date(value):  # written as asked, but no such day: not a mistake of form
            raise BadFilterError.about(name, f"date {value.strip()} does not exist: {missing.reason}.",
                                       f"{missing.advice}, for example {missing.example}.") from None
        shown = repr(value) if len(value) <= _SHOWN_DATE_CHARS else \
            f"{value[:_SHOWN_DATE_CHARS]!r}... ({len(value):,} characters)"
        raise BadFilterError.about(name, f"date must be like 2019-04-01, not {shown}.",
                                   "Use YYYY-MM-DD (a year, or a year and month, also works).") from None
    span = date_span(iso)
    return span[1] if last else span[0]
