"""What a question asks for (a figure, a date, a person, or anything), and which councils and years it names.

The kind of fact asked for is a declared feature of the reader's candidates (answer/candidates.py); which
councils a question names narrows retrieval.
"""

from __future__ import annotations

import re
from typing import Iterable

from assistant.records import Asks, Question
from assistant.text import as_typed_words, asks_for_the_latest, mentioned_years, named_councils

# 'how many', 'how much', 'what percentage', 'the number of', 'the average age of': a figure.
_FIGURE = re.compile(r"\bhow (?:many|much|often|long|old|high|low)\b|\bwhat (?:per ?cent|percentage|proportion|share)\b|"
                     r"\b(?:number|percentage|proportion|rate|total|amount|cost|budget|spend|average|age) of\b", re.I)
# 'When did...', 'what date', 'which year': a date ('When Ofsted visited, what did it find?' asks for a finding).
_DATE = re.compile(r"^\s*when\b(?![^?]*,\s*(?:what|which|who|how|where|why)\b)|\bwhat date\b|"
                   r"\b(?:which|what) (?:month|year|day)\b|\bby when\b", re.I)
# 'Who chaired...', 'which officer', 'the name of the': a person, by name or by role.
_PERSON = re.compile(r"^\s*(?:who|whom)\b|\bwho (?:presented|introduced|chaired|attended|gave|reported|was|is|leads?)\b|"
                     r"\bwhich (?:officer|councillor|member|director|person|cabinet member|lead)\b|\bname of the\b", re.I)
_WHICH_COUNCILS = re.compile(r"\b(?:which|what|how many) (?:councils|authorities|local authorities)\b|"
                             r"\bcompare\b|\bacross (?:the )?councils\b", re.I)


def asked_for(text: str) -> Asks:
    """The kind of fact a direct answer gives: a figure, a date, a person, or '' for anything else."""
    if _FIGURE.search(text):
        return "figure"
    if _DATE.search(text):
        return "date"
    if _PERSON.search(text):
        return "person"
    return ""


def analyse(text: str, known_council_keys: Iterable[str] = ()) -> Question:
    """The question as the words a person sees in it (however it was pasted), and what it asks for and names."""
    text = as_typed_words(text)
    return Question(text, asked_for(text), mentioned_years(text), named_councils(text, known_council_keys),
                    bool(_WHICH_COUNCILS.search(text)), asks_for_the_latest(text))
