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
    ["safeguarding partnership", "safeguarding board", "LSCB", "safeguarding children board"],
]


@functools.lru_cache(maxsize=1)
def synonyms() -> dict[str, frozenset[str]]:
    """Stemmed token -> every stemmed token that can stand for it (its own included)."""
    from assistant.evidence import GENERIC_TOKENS
    from assistant.lexical import lexical_tokens

    table: dict[str, set[str]] = {}
    for group in GROUPS:
        # Only the words that carry the meaning: 'care' or 'after' alone would make everything a synonym.
        stems = {t for phrase in group for t in lexical_tokens(phrase)} - GENERIC_TOKENS - {"after", "from", "popul"}
        for stem in stems:
            table.setdefault(stem, {stem}).update(stems)
    return {k: frozenset(v) for k, v in table.items()}
