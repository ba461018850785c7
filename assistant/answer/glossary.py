"""Words that mean the same thing in children's social care minutes, for matching questions to text.

Members ask in everyday words ("children who left care"); minutes use the service's terms
("discharged", "ceased to be looked after") and acronyms (LAC, CiC, NQSW). Each group lists
phrases that count as the same thing when deciding whether a sentence is about the question.
"""

from __future__ import annotations

import functools

GROUPS: list[list[str]] = [
    ["discharged", "left care", "leaving care", "ceased to be looked after", "leave care", "exits from care"],
    ["looked after children", "children in care", "LAC", "CLA", "CiC", "children looked after", "care population"],
    ["care leavers", "care experienced", "leaving care", "former relevant"],
    ["child protection plan", "CP plan", "CPP", "subject to a plan"],
    ["newly qualified social workers", "NQSW", "ASYE", "newly qualified"],
    ["agency workers", "agency staff", "locum", "interim"],
    ["social workers", "social work staff", "practitioners", "workforce"],
    ["vacancy", "vacancies", "unfilled posts"],
    ["caseload", "caseloads", "cases per worker"],
    ["inspection", "Ofsted", "ILACS", "monitoring visit", "focused visit", "inspected"],
    ["judgement", "judgment", "grade", "rating", "rated", "judged"],
    ["foster carers", "fostering", "foster families", "foster placements"],
    ["adoption", "adopters", "adopted", "adoptive"],
    ["youth justice", "youth offending", "YOT", "YOS", "young offenders", "reoffending"],
    ["first time entrants", "FTE"],
    ["front door", "MASH", "multi-agency safeguarding hub", "contact and referral"],
    ["education employment or training", "EET", "NEET", "in work or learning"],
    ["unaccompanied asylum seeking children", "UASC", "asylum seeking"],
    ["independent reviewing officer", "IRO", "IROs"],
    ["child sexual exploitation", "CSE", "sexual exploitation"],
    ["special educational needs", "SEND", "SEN"],
    ["early help", "EH", "early intervention"],
    ["spend", "spent", "cost", "expenditure", "budget", "funding"],
    ["dental", "teeth", "tooth", "oral health", "dentist"],
    ["council tax", "council tax exemption", "council tax support"],
    ["children's services", "children's social care", "CSC"],
    ["corporate parenting", "corporate parent"],
    ["next report", "further report", "next update", "further update", "report back", "progress report"],
    ["safeguarding partnership", "safeguarding board", "LSCB", "safeguarding children board"],
]


@functools.lru_cache(maxsize=1)
def phrase_groups() -> tuple[tuple[tuple[str, ...], ...], ...]:
    """Each group's phrases as sequences of stemmed tokens."""
    from assistant.text import lexical_tokens

    return tuple(tuple(tokens for tokens in (tuple(lexical_tokens(p)) for p in group) if tokens) for group in GROUPS)


def _contains(tokens: list[str], phrase: tuple[str, ...]) -> bool:
    size = len(phrase)
    return any(tuple(tokens[i:i + size]) == phrase for i in range(len(tokens) - size + 1))


@functools.lru_cache(maxsize=512)
def _asked_groups(question_tokens: tuple[str, ...]) -> tuple[tuple[tuple[tuple[str, ...], ...], frozenset[str]], ...]:
    """The groups the question uses a phrase of, each with the question's tokens that phrase covers."""
    asked = []
    for group in phrase_groups():
        used = [phrase for phrase in group if _contains(list(question_tokens), phrase)]
        if used:
            asked.append((group, frozenset(t for phrase in used for t in phrase)))
    return tuple(asked)


def covered_by_synonym(question_tokens: list[str], text_tokens: list[str]) -> set[str]:
    """The question's tokens that the text covers by using another phrase of the same group.

    Whole phrases are matched, not single words: 'front door' is covered by 'MASH', but a text that
    merely says 'safeguarding' does not cover 'front door'.
    """
    asked = _asked_groups(tuple(question_tokens))
    if not asked:
        return set()
    longest = max(len(phrase) for group, _ in asked for phrase in group)
    # Every run of up to `longest` tokens in the text, so each phrase is one set lookup.
    runs = {tuple(text_tokens[i:i + size]) for size in range(1, longest + 1)
            for i in range(len(text_tokens) - size + 1)}
    covered: set[str] = set()
    for group, tokens in asked:
        if any(phrase in runs for phrase in group):
            covered |= tokens
    return covered
