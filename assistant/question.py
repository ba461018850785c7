"""What a question asks for: a figure, a person, a decision, a date; which councils and years it names."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Iterable, Literal

from assistant.normalise import fold

Wants = Literal["number", "who", "resolution", "when", "general"]

_NUMBER = re.compile(
    r"\b(how many|how much|how often|how long|what (?:was |is |were |are )?(?:the )?"
    r"(?:percentage|proportion|number|rate|figure|share|total|amount|count|cost|budget|spend)|"
    r"percentage|proportion of|number of|what per ?cent|how high|how low|how far)\b", re.I)
_WHO = re.compile(r"^\s*(who|whom)\b|\bwho (?:presented|introduced|chaired|attended|gave|reported|was|is)\b|"
                  r"\bwhich (?:officer|councillor|member|director|person|cabinet member|lead)\b|\bname of\b", re.I)
_RESOLUTION = re.compile(r"\b(agree|agreed|resolve|resolved|decide|decided|decision|resolution|recommend\w*|"
                         r"outcome of the (?:item|meeting)|what did the committee (?:do|ask for|request))\b", re.I)
_WHEN = re.compile(r"^\s*when\b|\bwhat date\b|\bwhich (?:month|year|date)\b|\bby when\b", re.I)
_WHICH_COUNCILS = re.compile(r"\b(which|what|how many) (councils|authorities|local authorities)\b|"
                             r"\bcompare\b|\bacross (?:the )?councils\b", re.I)
_YEAR = re.compile(r"\b((?:19|20)\d\d)(?:\s*[/\u2013-]\s*(\d\d(?:\d\d)?))?\b")


@dataclass(frozen=True)
class Question:
    text: str
    wants: Wants
    years: tuple[int, ...]
    councils: tuple[str, ...]  # council keys of indexed councils that the question names
    which_councils: bool

    @property
    def names_several_councils(self) -> bool:
        return len(self.councils) > 1 or self.which_councils


def analyse(text: str, known_council_keys: Iterable[str] = ()) -> Question:
    if _NUMBER.search(text):
        wants: Wants = "number"
    elif _WHO.search(text):
        wants = "who"
    elif _WHEN.search(text):
        wants = "when"
    elif _RESOLUTION.search(text):
        wants = "resolution"
    else:
        wants = "general"
    return Question(text, wants, mentioned_years(text), named_councils(text, known_council_keys),
                    bool(_WHICH_COUNCILS.search(text)))


def mentioned_years(text: str) -> tuple[int, ...]:
    """Years the text names; a financial year '2021/22' names both 2021 and 2022."""
    years: list[int] = []
    for match in _YEAR.finditer(text):
        first = int(match.group(1))
        years.append(first)
        if match.group(2):
            tail = match.group(2)
            second = int(tail) if len(tail) == 4 else first // 100 * 100 + int(tail)
            if 0 < second - first <= 1:
                years.append(second)
    return tuple(dict.fromkeys(years))


def named_councils(text: str, known_council_keys: Iterable[str]) -> tuple[str, ...]:
    """Known council keys whose words all appear, as a phrase, in the question."""
    folded = f" {fold(text)} "
    found = []
    for key in sorted(set(known_council_keys), key=len, reverse=True):
        if key and f" {key} " in folded and not any(f" {key} " in f" {longer} " for longer in found):
            found.append(key)
    return tuple(found)
