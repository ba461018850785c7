"""The extractive answer: the evidence sentences that answer the question, quoted and cited.

No language model: every sentence shown is a verbatim sentence of the minutes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from assistant.evidence import QuestionTerms, ScoredSentence, has_answer_figure, provides, score_sentences
from assistant.lexical import LexicalIndex, lexical_tokens
from assistant.question import Question
from assistant.records import RefusalReason
from assistant.retrieve import Hit

# Chosen on the seed questions' development phrasings; eval/README.md records how they were set.
MIN_RELEVANCE = 0.30  # share of the question's weighted words found in the best passage
MIN_COVERAGE = 0.30  # the same, in the best sentence
SECOND_SENTENCE_RATIO = 0.8
MAX_WORDS = 80

_PROPER = re.compile(r"\b([A-Z][a-zA-Z]+(?:[-'\u2019][A-Za-z]+)?|[A-Z]{2,})\b")
_NOT_NAMES = {"I", "Is", "Are", "Was", "Were", "Did", "Do", "Does", "What", "Which", "Who", "When", "How", "Why",
              "The", "In", "On", "At", "Of", "For", "And", "Or", "A", "An", "Has", "Have", "Had", "Can", "Could",
              "Council", "Councils", "Committee", "Scrutiny", "Councillor", "Councillors", "Members", "Member",
              "Director", "Children", "Social", "Care", "Services", "Service", "Board", "Cabinet", "Officer",
              "Officers", "Chair", "Report", "Minutes", "Please", "Tell", "Me", "Us", "My", "Our", "Any", "Give", "List",
              "Show", "Summarise", "Summarize", "Describe", "Explain", "According", "Where", "Whether", "Were",
              "Young", "People", "Local", "Authority", "Authorities", "Borough", "County", "City", "District",
              "Metropolitan", "Overview", "Select", "Commission", "Panel", "Annual", "Update", "Plan", "After",
              "Looked", "Early", "Help", "Child", "Protection", "Ofsted", "There", "This", "That", "These", "It"}


@dataclass(frozen=True)
class Draft:
    quotes: list[ScoredSentence]
    refusal: RefusalReason | None = None
    explanation: str = ""


_WHAT_IS_MISSING = {
    "money": "an amount of money", "percentage": "that percentage or rate", "count": "that number",
    "date": "a date", "grade": "an inspection grade", "person": "who it was", "age": "an age",
    "duration": "how long",
}


def draft_answer(question: Question, hits: list[Hit], lexical: LexicalIndex, embedder=None,
                 query_vector=None, place_words: frozenset[str] = frozenset()) -> Draft:
    """Pick the sentences to quote, or say why the minutes do not answer the question."""
    if not hits:
        return Draft([], "no_evidence", "Nothing in the indexed minutes is relevant to this question.")
    terms = QuestionTerms(question, lexical)
    scored = score_sentences(question, hits, terms, embedder, query_vector)
    relevance = max(max((terms.coverage(_header(h) + " " + h.text) for h in hits[:6]), default=0.0),
                    max(((h.dense or 0.0) - 0.2) / 0.4 for h in hits[:6]))
    if not scored or relevance < MIN_RELEVANCE:
        return Draft([], "no_evidence", "Nothing in the indexed minutes is relevant to this question.")
    evidence_text = "\n".join(h.metadata.get("council", "") for h in hits[:6]) + "\n" + " ".join(
        _header(h) + " " + h.text for h in hits[:6])
    missing = _missing_names(question.text, evidence_text)
    if missing:
        return Draft([], "not_stated", f"The minutes found do not mention {', '.join(missing)}.")
    if question.years and not _mentions_any_year(question.years, hits[:6]):
        years = "/".join(str(y) for y in question.years)
        return Draft([], "not_stated", f"The minutes found say nothing about {years}.")
    if question.expects:
        scored = [s for s in scored if provides(question.expects, s.text, question.text, place_words)]
        if not scored:
            return Draft([], "not_stated", f"The minutes found do not give {_WHAT_IS_MISSING[question.expects]}.")
    elif question.wants == "number":
        scored = [s for s in scored if has_answer_figure(s.text)]
        if not scored:
            return Draft([], "not_stated", "The minutes found do not give that figure.")
    if question.wants == "resolution":
        resolution = _resolution_block(hits)
        if resolution is not None:
            return Draft([resolution])
    best = scored[0]
    if best.support < MIN_COVERAGE:
        return Draft([], "not_stated", "The minutes found touch on the topic but do not state what was asked.")
    return Draft(_select(question, scored, best))


def _resolution_block(hits: list[Hit]) -> ScoredSentence | None:
    """The resolution of the best-matching item, whole where it is short: what was agreed, in full."""
    from assistant.sentences import sentence_spans

    top_source = hits[0].source_id
    for rank, hit in enumerate(hits[:6]):
        if hit.source_id != top_source or hit.metadata.get("kind") != "resolution":
            continue
        spans = sentence_spans(hit.text)
        end, words = spans[0].end, 0
        for span in spans:
            words += len(span.of(hit.text).split())
            if words > MAX_WORDS:
                break
            end = span.end
        return ScoredSentence(hit, rank, spans[0].start, end, 1.0, 1.0)
    return None


def _select(question: Question, scored: list[ScoredSentence], best: ScoredSentence) -> list[ScoredSentence]:
    chosen = [best]
    if question.names_several_councils:
        seen = {best.hit.metadata.get("council_key")}
        for candidate in scored:
            key = candidate.hit.metadata.get("council_key")
            if key not in seen and candidate.support >= MIN_COVERAGE and len(chosen) < 4:
                chosen.append(candidate)
                seen.add(key)
        return _in_reading_order(chosen)
    words = len(best.text.split())
    for candidate in scored[1:4]:
        if candidate.score < SECOND_SENTENCE_RATIO * best.score or candidate.support < MIN_COVERAGE:
            break
        if _overlaps(candidate, best) or words + len(candidate.text.split()) > MAX_WORDS:
            continue
        chosen.append(candidate)
        break
    return _in_reading_order(chosen)


def _in_reading_order(chosen: list[ScoredSentence]) -> list[ScoredSentence]:
    """Grouped by source (best source first), and in the minutes' own order within one."""
    order = list(dict.fromkeys(s.hit.source_id for s in chosen))
    return sorted(chosen, key=lambda s: (order.index(s.hit.source_id), s.hit.metadata.get("position", 0), s.start))


def _overlaps(a: ScoredSentence, b: ScoredSentence) -> bool:
    return a.hit.chunk_id == b.hit.chunk_id and a.start < b.end and b.start < a.end or a.text == b.text


def _missing_names(question: str, evidence: str) -> list[str]:
    """Proper names and acronyms in the question that the evidence never mentions.

    'English' matches 'England' (same first four letters), and a council's initials ('BCP') match it.
    """
    from assistant.normalise import council_key
    from assistant.question import council_initials

    present = set(lexical_tokens(evidence))
    present |= {council_initials(council_key(line)) for line in evidence.split("\n") if line}
    prefixes = {t[:4] for t in present if len(t) >= 4}
    missing = []
    for match in _PROPER.finditer(question):
        word = match.group(1)
        if word in _NOT_NAMES or word.capitalize() in _NOT_NAMES:
            continue
        sentence_start = not question[:match.start()].strip(" \"'\u2018\u201c(") or re.search(
            r"[.?!:;]\s*[\"'\u2018\u201c(]?$", question[:match.start()])
        if sentence_start and not word.isupper():  # 'Since', 'Apart': capitals of grammar, not names
            continue
        tokens = lexical_tokens(word)
        if tokens and not all(t in present or (len(t) >= 5 and t[:4] in prefixes) for t in tokens):
            missing.append(word)
    return list(dict.fromkeys(missing))


def _mentions_any_year(years: tuple[int, ...], hits: list[Hit]) -> bool:
    from assistant.question import mentioned_years

    for hit in hits:
        meta = hit.metadata
        found = set(mentioned_years(f"{hit.text} {meta.get('meeting_date', '')} {meta.get('period', '')}"))
        short = {f"{y % 100:02d}" for y in years}
        if found & set(years) or any(re.search(rf"/\s*{s}\b", hit.text) for s in short):
            return True
    return False


def _header(hit: Hit) -> str:
    m = hit.metadata
    return " ".join(str(m.get(k, "")) for k in ("council", "committee", "item_title"))
