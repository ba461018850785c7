"""What a question asks for (a figure, a date, a person, or anything), and which councils and years it names.

The kind of fact asked for is a declared feature of the reader's candidates (answer/candidates.py); which
councils a question names narrows retrieval.
"""

from __future__ import annotations

import re
from typing import Collection, Iterable

from assistant.records import Asks, Question
from assistant.text import (as_typed_words, asks_for_the_latest, council_initials, indexed_name_of, mentioned_years,
                            named_councils, words_that_may_name_councils, years_asked_about)

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
_AROUND_A_WORD = ".,;:?!()[]\"'\u2018\u2019\u201c\u201d"
# 'compare' with one council named compares it with something else (the national average, an earlier year).
_COMPARING_WORD = "compare"


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
    councils = indexed_councils_named(text, known_council_keys)
    which = _WHICH_COUNCILS.search(text)
    if which and which.group(0).lower() == _COMPARING_WORD and councils:
        # 'compare' with councils named compares them with each other or with something else (the national average):
        # only 'which councils' asks about councils it does not name ('Which councils other than Durham and
        # Gateshead ...?').
        which = _WHICH_COUNCILS.search(text, which.end())
    return Question(text, asked_for(text), mentioned_years(text), councils, bool(which), asks_for_the_latest(text),
                    years_asked_about(text))


def indexed_councils_named(text: str, known_council_keys: Iterable[str]) -> tuple[str, ...]:
    """The indexed councils the text names. Every UK council of the shipped directory is looked for too, so that
    one whose name holds an indexed council's ('South Gloucestershire', where Gloucestershire's minutes are
    indexed) takes its words, and names none of the index's; a directory council named that the index holds under
    another name ('Southend-on-Sea', indexed as Southend Council) names the indexed one (indexed_as)."""
    from assistant.ingest.moderngov.directory import directory_council_keys

    known, councils = set(known_council_keys), directory_council_keys()
    named: list[str] = []
    for key in councils_named(text, known | councils, initialled=known):
        named += ([key] if key in known else indexed_as(key, known, councils)) + named_by_initials(key, known)
    return tuple(dict.fromkeys(named))


def named_by_initials(council_key: str, indexed_keys: Iterable[str]) -> list[str]:
    """The indexed keys that are this council's initials, or whose initials it is: one council indexed under
    two names ('BCP Council' and 'Bournemouth, Christchurch and Poole Council'), where naming it either way had
    searched half its minutes."""
    indexed, initials = set(indexed_keys), council_initials(council_key)
    # Initials that are themselves an indexed council's name, not any three letters: '--council NWL' is no name of
    # North West Leicestershire's where no council is indexed as 'NWL'.
    return sorted(k for k in indexed if k != council_key
                  and (k == initials or (council_key in indexed and council_initials(k) == council_key)))


def indexed_as(council_key: str, indexed_keys: Iterable[str], councils: Collection[str]) -> list[str]:
    """The indexed keys that are other names of this council (text.indexed_name_of) and name no other council of
    the directory `councils`: Southend Council's minutes for Southend-on-Sea."""
    return sorted(k for k in indexed_keys if k not in councils and indexed_name_of(council_key, k))


def councils_named(text: str, council_keys: Iterable[str], initialled: Collection[str] | None = None
                   ) -> tuple[str, ...]:
    """The councils of these keys that the text names: by name (text.named_councils; by its initials only when it is
    one of `initialled`), or by an initialism of four letters or more of one council of the shipped directory, typed
    in capitals ('RBWM', 'BANES', 'B&NES's'), or by a short name of one ('Redcar', 'Stockton', 'Windsor'). A person
    named after a title names no council ('Councillor Durham')."""
    from assistant.ingest.moderngov.directory import directory_short_names

    keys = set(council_keys)
    text = words_that_may_name_councils(text)
    named = list(named_councils(text, keys, initialled=initialled, short_names=directory_short_names()))
    for word in text.split():
        key = council_of_initialism(word.strip(_AROUND_A_WORD).removesuffix("'s").removesuffix("\u2019s"))
        if key in keys and key not in named:
            named.append(key)
    return tuple(named)


def council_of_initialism(word: str) -> str | None:
    """The key of the one directory council an initialism typed in capitals names ('RBWM', 'B&NES'), or None."""
    from assistant.ingest.moderngov.directory import directory_initialisms

    initials = word.replace("&", "")
    return directory_initialisms().get(initials.lower()) if initials.isalpha() and initials.isupper() else None
