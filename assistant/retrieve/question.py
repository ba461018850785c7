"""What a question asks for: a figure, a person, a decision, a date; which councils and years it names."""

from __future__ import annotations

import re
from typing import Iterable

from assistant.records import Expects, Question, Wants
from assistant.text import COUNT_WORD_PATTERN, NUMBER_WORDS, YEAR_PATTERN, mentioned_months, mentioned_years, named_councils

_NUMBER = re.compile(
    r"\b(how many|how much|how often|how long|what (?:was |is |were |are )?(?:the )?(?:average |typical |total )?"
    r"(?:percentage|proportion|number|rate|figure|share|total|amount|count|cost|budget|spend)|"
    r"percentage|proportion of|number of|what per ?cent|how high|how low|how far)\b", re.I)
# 'what has happened to the number of referrals?': asks how something changed, which words can answer.
_TREND = re.compile(r"\bwhat (?:has |have |had )?happened to\b|\b(?:gone|go|going|went) (?:up|down)\b|"
                    r"\b(?:risen|rising|fallen|falling|increased|increasing|decreased|decreasing|reduced) or\b|"
                    r"\bhow (?:has|have|did) (?:the )?[\w\s-]{0,40}?(?:changed?|moved?|gone|trended)\b|\btrend\b", re.I)
_WHO = re.compile(r"^\s*(who|whom)\b|\bwho (?:presented|introduced|chaired|attended|gave|reported|was|is)\b|"
                  r"\bwhich (?:officer|councillor|member|director|person|cabinet member|lead)\b|\bname of\b", re.I)
_RESOLUTION = re.compile(r"\b(agree|agreed|resolve|resolved|decide|decided|decision|resolution|recommend\w*|"
                         r"outcome of the (?:item|meeting)|what did the committee (?:do|ask for|request))\b", re.I)
_WHEN = re.compile(r"^\s*when\b(?![^?]*,\s*(?:what|which|who|how|where|why)\b)|\bwhat date\b|\bwhich (?:month|year|date)\b|\bby when\b", re.I)
_WHICH_COUNCILS = re.compile(r"\b(which|what|how many) (councils|authorities|local authorities)\b|"
                             r"\bcompare\b|\bacross (?:the )?councils\b", re.I)
_EXPECTS: list[tuple[str, re.Pattern]] = [
    ("money", re.compile(r"\bhow much\b.*\b(?:spen(?:d|ds|ding|t)|costs?|costing|pay|pays|paying|paid|budget\w*|"
                         r"fund\w*|worth|charg\w*|invest\w*|grants?|money|sav(?:e|es|ed|ing|ings)|overspen\w*|premium|"
                         r"allowances?|payments?|fees?|salar(?:y|ies)|supplements?|bursar(?:y|ies))\b|\b(?:budget|cost|spend|spending|price|salary|fee)s? "
                         r"(?:was|is|were|are|of|for)\b|\bhow much (?:money|funding)\b|\bwhat (?:was|is) the (?:budget|"
                         r"cost|spend)\b", re.I)),
    ("percentage", re.compile(r"\b(?:what|which) (?:was |is |were |are )?(?:the )?(?:percentage|proportion|per ?cent|"
                              r"share|rate)\b|\bpercentage of\b|\bwhat (?:proportion|share) of\b|\bwhat (?:is|was|were|are) (?:the |its |[\w-]+['\u2019]s )?(?:[\w-]+ ){0,3}rate\b",
                              re.I)),
    ("age", re.compile(r"\b(?:what|which) ages?\b|\bhow old\b|\bage range\b|\bup to what age\b|"
                       r"\b(?:average|typical|mean|median) age\b", re.I)),
    ("duration", re.compile(r"\bhow long\b", re.I)),
    ("frequency", re.compile(r"\bhow often\b|\bhow frequently\b", re.I)),
    ("count", re.compile(r"\bhow many\b|\bwhat (?:is|was|were|are) the (?:total )?number of\b|\bhow often\b|"
                         r"\bwhat (?:was|is|were|are) the (?:average|mean|median|typical|total)\b", re.I)),
    ("date", re.compile(r"^\s*when\b(?![^?]*,\s*(?:what|which|who|how|where|why)\b)|\bwhen (?:did|does|do|is|was|will|were|are|has|have|had)\b|\bwhat date\b|\b(?:which|what) (?:month|year|date|day)\b|\bby when\b", re.I)),
    ("grade", re.compile(r"\b(?:ofsted )?(?:rating|grade|graded|judgement|judgment|judged|rated)\b", re.I)),
    ("person", re.compile(r"^\s*(?:who|whom)\b|\bwhich (?:officer|councillor|member|director|person)\b|"
                          r"\bname of the\b", re.I)),
    # 'Which provider...', 'What system does it use?', 'What is the academy called?': a named thing.
    ("name", re.compile(r"\b(?:which|what)\s+(?:[\w'\u2019-]+\s+){0,2}?(?:provider|organi[sz]ation|company|companies|"
                        r"charit(?:y|ies)|universit(?:y|ies)|college|body|bodies|agency|agencies|firm|consultancy|"
                        r"police force|system|software|tool|app|platform|programme|program|scheme|project|initiative|"
                        r"framework|award|schools?|centres?|centers?|hubs?|homes?|academy|"
                        r"report|review|strategy|fund|network|campaign|charter|protocol|pilot)s?\b(?!\s+(?:of|for)\b)|"
                        r"\b(?:is|was|are|were)\s+(?:[\w'\u2019-]+\s+){0,6}?called\b|\bstand for\b", re.I)),
]


def expected_answer(text: str) -> Expects:
    """What a direct answer must contain (money, a percentage, a count, a date...), or ''."""
    for name, pattern in _EXPECTS:
        if pattern.search(text):
            return name
    return ""


# 'which council has the lowest rate', 'the most placements': an extreme, which only a ranking answers.
_EXTREME = re.compile(r"\b(?:the|its|their)\s+(?:lowest|highest|largest|smallest|biggest|greatest|fewest|"
                      r"most(?!\s+recent)|least|best(?!\s+interests?)|worst)\b", re.I)
# 'What did Ofsted find...', 'Did the cabinet approve...': asks about something that has happened.
_OUTCOME = re.compile(r"\bdid\b|\bwhat (?:was|were) the (?:outcome|result|finding|conclusion|decision)s?\b", re.I)
_PROSPECT_WORDS = re.compile(r"\b(?:next|want\w*|plan\w*|intend\w*|expect\w*|due|going to|will|would)\b", re.I)
_UPCOMING = re.compile(r"\b(?:next|upcoming|forthcoming)\b", re.I)
# 'before its 2023 inspection', 'prior to 2019': a time earlier than the year named.
_BEFORE_YEAR = re.compile(r"\b(?:before|prior to|previous to|ahead of)\s+(?:(?:its|the|their|his|her)\s+)?"
                          r"(?:[a-z]+\s+){0,2}?(" + YEAR_PATTERN + r")\b", re.I)


def analyse(text: str, known_council_keys: Iterable[str] = ()) -> Question:
    if _TREND.search(text):
        wants: Wants = "trend"
    elif _NUMBER.search(text):
        wants = "number"
    elif _WHO.search(text):
        wants = "who"
    elif _WHEN.search(text):
        wants = "when"
    elif _RESOLUTION.search(text):
        wants = "resolution"
    else:
        wants = "general"
    before = _BEFORE_YEAR.search(text)
    return Question(text, wants, mentioned_years(text), named_councils(text, known_council_keys),
                    bool(_WHICH_COUNCILS.search(text)), expected_answer(text),
                    extreme=bool(_EXTREME.search(text)),
                    upcoming=bool(_UPCOMING.search(text)),
                    outcome=bool(_OUTCOME.search(text)) and not _PROSPECT_WORDS.search(text),
                    before_year=int(before.group(1)) if before else None,
                    months=mentioned_months(text), listed=listed_count(text), counted=counted_words(text, wants))


_LISTED = re.compile(rf"\b(?:what|which)\s+(?:are|were|will be)\s+(?:the|its|their|[\w-]+['\u2019]s)\s+"
                     rf"(\d+|{COUNT_WORD_PATTERN})\b", re.I)


def listed_count(text: str) -> int:
    """'What are the eight high-level outcomes?' asks for eight things: 8 (0 when it asks for no list)."""
    match = _LISTED.search(text)
    if not match:
        return 0
    word = match.group(1).lower()
    return int(word) if word.isdigit() else NUMBER_WORDS[word]


def counted_words(text: str, wants: Wants) -> str:
    """What 'how many ...' counts: the words after it, up to the verb ('newly qualified social workers')."""
    match = re.search(r"\bhow many\s+((?:[\w'\u2019-]+\s+){0,5})", text, re.I)
    if match:
        return match.group(1)
    # 'the average age of foster carers' asks about carers ('what happened to the number of cases' is a
    # trend, which words like 'referrals have reduced' answer).
    match = re.search(r"\b(?:number|percentage|proportion|share|rate|age|ages)\s+of\s+((?:[\w'\u2019-]+\s+){0,5})",
                      text + " ", re.I)
    return match.group(1) if match and wants != "trend" else ""
