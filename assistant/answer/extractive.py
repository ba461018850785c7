"""The extractive answer: the evidence sentences that answer the question, quoted and cited.

No language model: every sentence shown is a verbatim sentence of the minutes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable

from assistant.answer.evidence import (GENERIC_TOKENS, QuestionTerms, gives_new_figure, has_answer_figure,
                                       is_question_like, item_header, provides, score_sentences, states_change)
from assistant.answer.glossary import covered_by_synonym
from assistant.answer.passages import Passages
from assistant.records import Draft, Hit, Question, ScoredSentence
from assistant.text import (MONTH_NAMES, MONTH_NUMBERS, lexical_tokens, mentioned_years, missing_names,
                            sentence_spans)

SECOND_SENTENCE_RATIO = 0.8
MAX_WORDS = 80
SHORT_SENTENCE_WORDS = 25  # a sentence this short is quoted with the next one of its paragraph ...
CONTINUED_MAX_WORDS = 60  # ... when the two together stay this short


@dataclass(frozen=True)
class Thresholds:
    """When the evidence is taken to answer the question. The first four were set by eval/tune_thresholds.py,
    min_fallback by comparing 0.5, 0.6 and 0.7 on the tuning questions; eval/README.md has the figures."""

    min_relevance: float = 0.30  # how well the best passage matches the question, by words or meaning
    min_support: float = 0.30  # the same for the best sentence
    typed_min_coverage: float = 0.20  # a sentence giving a figure, date or name must name what was asked ...
    typed_min_similarity: float = 0.60  # ... or be this close in meaning to the question
    min_fallback: float = 0.6  # when the closest sentence does not answer, another must score this share of it


DEFAULT_THRESHOLDS = Thresholds()

_WHAT_IS_MISSING = {
    "money": "an amount of money", "percentage": "that percentage or rate", "count": "that number",
    "frequency": "how often",
    "date": "a date", "grade": "an inspection grade", "person": "who it was", "age": "an age",
    "duration": "how long", "name": "its name",
}


def draft_answer(question: Question, hits: list[Hit], passages: Passages, embedder=None,
                 query_vector=None, place_words: frozenset[str] = frozenset(),
                 thresholds: Thresholds = DEFAULT_THRESHOLDS, scored: list[ScoredSentence] | None = None) -> Draft:
    """Pick the sentences to quote, or say why the minutes do not answer the question."""
    if not hits:
        return Draft([], "no_evidence", "Nothing in the indexed minutes is relevant to this question.")
    terms = QuestionTerms(question, passages.lexical)
    if scored is None:
        scored = score_sentences(question, hits, terms, embedder, query_vector, passages=passages)
    relevance = max(max((terms.coverage(item_header(h) + " " + h.text) for h in hits[:6]), default=0.0),
                    max(((h.dense or 0.0) - 0.2) / 0.4 for h in hits[:6]))
    if not scored or relevance < thresholds.min_relevance:
        return Draft([], "no_evidence", "Nothing in the indexed minutes is relevant to this question.")
    closest = scored[0]
    evidence_text = "\n".join(h.metadata.get("council", "") for h in hits[:6]) + "\n" + " ".join(
        item_header(h) + " " + meeting_month(h) + " " + h.text for h in hits[:6])
    missing = missing_names(question.text, evidence_text)
    if missing:
        return Draft([], "not_stated", f"The minutes found do not mention {', '.join(missing)}.")
    if question.years and not _mentions_any_year(question.years, hits[:6]):
        years = "/".join(str(y) for y in question.years)
        return Draft([], "not_stated", f"The minutes found say nothing about {years}.")
    for keeps, missing in _sentence_checks(question, terms, passages, place_words, thresholds):
        scored = [s for s in scored if keeps(s)]
        if not scored:
            return Draft([], "not_stated", missing)
    if question.wants == "resolution":
        resolution = _resolution_block(hits)
        if resolution is not None:
            return Draft([resolution])
    best = scored[0]
    # When the passage closest to the question does not give what it asks, a much weaker one would be a guess.
    if best.support < thresholds.min_support or best.score < thresholds.min_fallback * closest.score:
        return Draft([], "not_stated", "The minutes found touch on the topic but do not state what was asked.")
    return Draft(_select(question, scored, best, thresholds.min_support))


_SUPERLATIVE = r"(?:lowest|highest|largest|smallest|biggest|greatest|fewest|most|least|best|worst)"
RANKING = re.compile(rf"\b(?:the|its|their)\s+(?:[\w-]+\s+)?{_SUPERLATIVE}\b|\b{_SUPERLATIVE}\s+(?:in|of|among|across)\b|"
                      r"\branked\b|\branking\b|\b(?:top|bottom)\s+(?:\d+|ten|five|quartile|third|half)\b", re.I)
_EARLIER = re.compile(r"\b(?:previous(?:ly)?|prior|before|earlier|formerly|last|preceding)\b", re.I)


# An agenda's purpose line ('To consider exempt information concerning the options...'): what an item was
# for, not what came of it. (A resolution may also read 'To note the report'; that one is an outcome.)
PURPOSE_LINE = re.compile(r"^[\s\u00b7\u2022*-]*To (?:consider|receive|note|provide|present|review|update|inform|seek|"
                      r"discuss)\b", re.I)
PROSPECTIVE = re.compile(r"\b(?:would be|will be|would take place|will take place|(?:was|were|is|are) due to|"
                          r"(?:was|were|is|are) (?:to be|going to|planned|scheduled|expected)|would (?:go|come|be)|"
                          r"next\b[^.]{0,40}\bwould)\b", re.I)
_FIGURE_KINDS = ("money", "percentage", "count", "grade")
_FUTURE = re.compile(r"\b(?:next|will|would|due|planned|scheduled|expected|future|forthcoming|upcoming|"
                     r"be (?:presented|submitted|brought|reported|received|held|considered|provided))\b", re.I)
# Words after 'how many' that say nothing about what is counted, and words that end what is counted.
_NOT_COUNTED = frozenset(lexical_tokens("times occasions people persons individuals more"))
_CLOSED_CLASS = frozenset("did does do were was are is have has had would will could can should might may went came got "
                          "took in on at for from to by of across within during under over per".split())


def _sentence_checks(question: Question, terms: QuestionTerms, passages: Passages, place_words: frozenset[str],
                     thresholds: Thresholds) -> list[tuple[Callable[[ScoredSentence], bool], str]]:
    """What an answer sentence must do for this question, in order, each with what the minutes lack when
    no sentence does it."""
    checks: list[tuple[Callable[[ScoredSentence], bool], str]] = []
    if question.expects:
        # The sentence must hold that kind of fact, and name what the question is about (in words or meaning).
        common = passages.lowercase_words if question.expects == "person" else frozenset()
        checks.append((lambda s: provides(question.expects, s.text, question.text, place_words, common) and (
            s.topic_coverage >= thresholds.typed_min_coverage or s.similarity >= thresholds.typed_min_similarity),
            f"The minutes found do not give {_WHAT_IS_MISSING[question.expects]}."))
    elif question.wants == "trend":
        checks.append((lambda s: states_change(s.text), "The minutes found do not say how that changed."))
    elif question.wants == "number":
        checks.append((lambda s: has_answer_figure(s.text) and gives_new_figure(s.text, question.text),
                       "The minutes found do not give that figure."))
    counted = counted_noun(question, place_words)
    if counted:
        checks.append((lambda s: names_counted(counted, f"{s.lead} {s.text}", terms.question_tokens),
                       f"The minutes found give no figure for {question.counted.strip()}."))
    if question.years and (question.wants in ("number", "trend") or question.expects in _FIGURE_KINDS):
        # 'In 2018 the MASH received 1,706 contacts' does not answer a question about 2019.
        checks.append((lambda s: same_period(s.text, question.years),
                       f"The minutes found give no figure for {'/'.join(map(str, question.years))}."))
    if question.upcoming and question.expects == "date":
        checks.append((lambda s: bool(_FUTURE.search(s.text)), "The minutes found do not say when that will next happen."))
    if question.outcome:
        # 'The visit would take place next week' does not say what the visit found.
        checks.append((lambda s: not PROSPECTIVE.search(s.text) and not (
            PURPOSE_LINE.match(s.text) and s.hit.metadata.get("kind") != "resolution"),
                       "The minutes found only say what was planned, not what happened."))
    if question.listed > 1:
        # 'a plan with 8 high level outcomes' repeats the question's count and lists none of them.
        checks.append((lambda s: lists_items(s.text, min(question.listed, 3)),
                       "The minutes found give how many, but do not list them."))
    if question.extreme:
        checks.append((lambda s: bool(RANKING.search(s.text)),
                       "The minutes found do not say which is the highest or lowest."))
    if question.months:
        # 'What did its June visit find?': a passage that never mentions June is about another time.
        # Whether an item names the month is the same for each of its sentences: worked out once an item.
        named_by_item: dict[str, bool] = {}

        def names_month(s: ScoredSentence) -> bool:
            if s.hit.source_id not in named_by_item:
                named_by_item[s.hit.source_id] = mentions_month(s.hit, question.months, passages)
            return named_by_item[s.hit.source_id]

        checks.append((names_month,
                       f"The minutes found say nothing about {' or '.join(_month_name(m) for m in question.months)}."))
    if question.before_year:
        checks.append((lambda s: speaks_of_earlier(s.text, question.before_year),
                       f"The minutes found say nothing about the time before {question.before_year}."))
    return checks


def lists_items(passage: str, wanted: int) -> bool:
    """Does the passage list at least `wanted` things (bullets, or parts joined by commas, semicolons, 'and')?"""
    bullets = len(re.findall(r"(?:^|\n)\s*(?:[\u00b7\u2022*-]|\(?[a-z0-9ivx]{1,3}[.)])\s+", passage))
    parts = len(re.findall(r"[,;]|\band\b", passage)) + 1
    return max(bullets, parts) >= wanted


def counted_noun(question: Question, place_words: frozenset[str]) -> str:
    """What 'how many' counts, stemmed ('adopt' in 'how many adopters...'), or '' when an answer need not
    name it: a word every question shares ('children', 'people') or a council's name."""
    # It is a plural noun: the first one before the verb ('care leavers live in...').
    plural = ""
    for word in re.findall(r"[\w'\u2019-]+", question.counted)[:5]:
        if word.lower() in _CLOSED_CLASS:
            break
        if re.search(r"[^su]s$|ren$|ple$", word.lower()):
            plural = word
            break
    head = lexical_tokens(plural)
    places = set(lexical_tokens(" ".join(place_words)))
    if not head or head[-1] in GENERIC_TOKENS | _NOT_COUNTED | places or head[-1][0].isdigit():
        return ""
    return head[-1]


def names_counted(noun: str, passage: str, question_tokens: list[str]) -> bool:
    """'How many adopters...': a count of children does not answer it."""
    tokens = lexical_tokens(passage)
    return noun in tokens or noun in covered_by_synonym(question_tokens, tokens)


def same_period(sentence: str, years: tuple[int, ...]) -> bool:
    """A sentence that names years must name one the question asks about (one naming none may be current)."""
    named = mentioned_years(sentence)
    return not named or bool(set(named) & set(years))


def speaks_of_earlier(sentence: str, year: int) -> bool:
    """Does the sentence speak of a time before `year` (an earlier year, or 'previously', 'the last...')?"""
    return any(y < year for y in mentioned_years(sentence)) or bool(_EARLIER.search(sentence))


def _resolution_block(hits: list[Hit]) -> ScoredSentence | None:
    """The resolution of the best-matching item, whole where it is short: what was agreed, in full."""
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


def _select(question: Question, scored: list[ScoredSentence], best: ScoredSentence,
            min_support: float) -> list[ScoredSentence]:
    chosen = [best]
    if question.names_several_councils:
        seen = {best.hit.metadata.get("council_key")}
        for candidate in scored:
            key = candidate.hit.metadata.get("council_key")
            if key not in seen and candidate.support >= min_support and len(chosen) < 4:
                chosen.append(candidate)
                seen.add(key)
        return _in_reading_order(chosen)
    if not question.expects and question.wants == "general":
        best = chosen[0] = with_next_sentence(best)
    words = len(best.text.split())
    for candidate in scored[1:4]:
        if candidate.score < SECOND_SENTENCE_RATIO * best.score or candidate.support < min_support:
            break
        if _overlaps(candidate, best) or words + len(candidate.text.split()) > MAX_WORDS:
            continue
        chosen.append(candidate)
        break
    return _in_reading_order(chosen)


def with_next_sentence(best: ScoredSentence) -> ScoredSentence:
    """A short sentence together with the next one of its paragraph, which in minutes usually carries the
    substance ('This was difficult to manage. We have had to employ additional contact staff...')."""
    from dataclasses import replace

    if len(best.text.split()) >= SHORT_SENTENCE_WORDS:
        return best
    text = best.hit.text
    following = next((span for span in sentence_spans(text) if span.start >= best.end), None)
    if following is None or "\n" in text[best.end:following.start]:
        return best
    addition = following.of(text)
    if is_question_like(addition) or len(best.text.split()) + len(addition.split()) > CONTINUED_MAX_WORDS:
        return best
    return replace(best, end=following.end)


def _in_reading_order(chosen: list[ScoredSentence]) -> list[ScoredSentence]:
    """Grouped by source (best source first), and in the minutes' own order within one."""
    order = list(dict.fromkeys(s.hit.source_id for s in chosen))
    return sorted(chosen, key=lambda s: (order.index(s.hit.source_id), s.hit.metadata.get("position", 0), s.start))


def _overlaps(a: ScoredSentence, b: ScoredSentence) -> bool:
    return a.hit.chunk_id == b.hit.chunk_id and a.start < b.end and b.start < a.end or a.text == b.text


_NUMERIC_DATE = re.compile(r"\b\d{1,2}[/.](\d{1,2})[/.]\d{2,4}\b")


def _month_name(month: int) -> str:
    return MONTH_NAMES[month - 1]


def mentions_month(hit: Hit, months: tuple[int, ...], passages: Passages) -> bool:
    """Does the passage's item, its title or its meeting date name one of these months ('June', 'Jun',
    '12/06/2019')? (The whole item: 'data to the end of July' may head the paragraph that gives the figure.)"""
    meta = hit.metadata
    if meta.get("meeting_month") in months:
        return True
    text = f"{passages.item_text(hit.source_id) or hit.text} {meta.get('item_title', '')} {meta.get('period', '')}"
    named = {MONTH_NUMBERS[word] for word in re.findall(r"[a-z]+", text.lower()) if word in MONTH_NUMBERS}
    named |= {int(m.group(1)) for m in _NUMERIC_DATE.finditer(text)}
    return bool(named & set(months))


def meeting_month(hit: Hit) -> str:
    """'January' for a meeting on 2020-01-23: a question may name the month the meeting was held."""
    month = hit.metadata.get("meeting_month")
    return _month_name(month) if isinstance(month, int) and 1 <= month <= 12 else ""


def _mentions_any_year(years: tuple[int, ...], hits: list[Hit]) -> bool:
    for hit in hits:
        meta = hit.metadata
        found = set(mentioned_years(f"{hit.text} {meta.get('meeting_date', '')} {meta.get('period', '')}"))
        short = {f"{y % 100:02d}" for y in years}
        if found & set(years) or any(re.search(rf"/\s*{s}\b", hit.text) for s in short):
            return True
    return False
