"""Scoring evidence sentences against a question: shared by the extractive answerer and refusals."""

from __future__ import annotations

import functools
import math
import re
from dataclasses import dataclass

from assistant.answer.passages import Passages
from assistant.index.lexical import LexicalIndex
from assistant.records import Hit, Question, ScoredSentence
from assistant.text import (ACRONYM_GAP_WORDS, COUNT_WORD_PATTERN, FIGURE_WORD_PATTERN, MONTH_OR_ABBREVIATION_PATTERN,
                            MONTH_PATTERN, NOT_PERSON_WORDS, NOT_QUESTION_NAME_WORDS, NOT_THING_WORDS, YEAR_PATTERN,
                            figures, lexical_tokens, normalise_space, sentence_spans, strip_bullet,
                            word_runs_with_initials)

_YEAR_ONLY = re.compile(rf"^{YEAR_PATTERN}$")
_ROLE = re.compile(r"\b(Director|Councillor|Cllr|Chair(?:man|woman|person)?|Head of|Manager|Officer|Lead|Member|"
                   r"Cabinet|Commissioner|Mr|Mrs|Ms|Dr|Chief Executive|Principal|Service Director|Assistant)\b")
_DATEISH = re.compile(rf"\b(?:{YEAR_PATTERN}|{MONTH_PATTERN})\b")
_RESOLUTION_START = re.compile(r"^[\s\u00a0(]*(?:RESOLVED|Resolved|RECOMMENDED|Recommended|AGREED|Agreed|That|"
                               r"\(?[ivx]+\)|\(?\d\))", re.I)
# Words every question about these minutes shares; they say nothing about which sentence answers it.
_GENERIC = set(lexical_tokens(
    "minutes committee council meeting said say says discuss discussed report reported item scrutiny members "
    "member tell told mention mentioned what which about regarding children child social care how many much "
    "number did does do was were is are be been from during in on at for of the a an any there their its "
    "according give list describe explain summarise summarize please me us our who whom when where why whether "
    "happened happen figure figures per cent percentage proportion rate year years has have had be been being "
    "since apart after before into onto over under its it this that these those would could should will shall "
    "may might must can also other than then there here such so very just only still yet whole end start "
    "currently current latest recent recently now today want wanted wants"))


GENERIC_TOKENS = frozenset(_GENERIC)


def has_answer_figure(text: str) -> bool:
    """A figure that is not just a year: what 'how many' or 'what percentage' needs."""
    return any(not _YEAR_ONLY.match(f) for f in figures(text) if any(ch.isdigit() for ch in f)) or bool(
        re.search(rf"\b(?:{FIGURE_WORD_PATTERN})\b", text, re.I))


_MONTHS = MONTH_OR_ABBREVIATION_PATTERN
_DATE_PHRASE = re.compile(rf"\b\d{{1,2}}(?:st|nd|rd|th)?\s+(?:{_MONTHS})\b\.?(?:,?\s+\d{{4}})?|"
                          rf"\b(?:{_MONTHS})\s+\d{{4}}\b|\b\d{{1,2}}/\d{{1,2}}/\d{{2,4}}\b|"
                          rf"\b{YEAR_PATTERN}\s*[/\u2013-]\s*\d{{2}}\b")
_REFERENCE = re.compile(r"\b(?:minute|item|no|nos|paragraph|para|page|appendix|section|report)\.?\s*\d+", re.I)
_PROVIDES = {
    "money": re.compile(r"\u00a3\s?\d|\b\d[\d,.]*\s?(?:m|k|bn|million|billion|thousand)\b|\bpounds\b", re.I),
    "percentage": re.compile(r"\d(?:[\d.,]*)\s?%|\bper ?cent\b|\bper \d|\b\d[\d.,]* (?:in|out of) (?:every )?\d", re.I),
    # Ofsted's four grades, written as grades: capitalised or quoted, or next to a word about judging.
    "grade": re.compile(r"\b(?:Outstanding|Good|Requires? Improvement|Inadequate)\b|"
                        r"[\u2018'\"](?:outstanding|good|requires? improvement|inadequate)|"
                        r"\b(?:judged|judgement|judgment|rated|graded|grade|rating)\b[^.]{0,40}\b(?:outstanding|good|"
                        r"requires? improvement|inadequate)\b|\b(?:outstanding|good|requires? improvement|inadequate)"
                        r"\b[^.]{0,20}\b(?:judgement|judgment|rating|grade|overall)\b"),
    "age": re.compile(r"\baged?\b|\byears? old\b|\byear[- ]olds?\b|\b(?:under|over|up to)\s+\d|\b\d{1,2}\s*(?:-|to|\u2013)\s*\d{1,2}\b",
                      re.I),
    "duration": re.compile(rf"\b(?:\d+|{COUNT_WORD_PATTERN}|a|several)[\s-]+"
                           r"(?:working\s+)?(?:days?|weeks?|months?|years?|hours?)\b", re.I),
    "frequency": re.compile(rf"\bevery\s+(?:\d+|{COUNT_WORD_PATTERN}|other|few)?\s*(?:days?|weeks?|months?|years?|"
                            r"quarters?)\b|\b(?:daily|weekly|fortnightly|monthly|quarterly|annually|yearly|bi-annual\w*|"
                            r"biannual\w*|twice|termly)\b|\b\w+ times a (?:day|week|month|year)\b|\beach (?:week|month|"
                            r"quarter|year)\b", re.I),
    "date": re.compile(rf"\b(?:{_MONTHS})\b|\b(?:in|within|after|by)\s+(?:\d+|{COUNT_WORD_PATTERN})"
                       rf"\s+(?:days?|weeks?|months?|years?)\b|\b{YEAR_PATTERN}\b|"
                       r"\b\d{{1,2}}/\d{{1,2}}\b|\b(?:next|last|this|previous|"
                       r"following)\s+(?:week|month|year|meeting|quarter|spring|summer|autumn|winter)\b|"
                       r"\b(?:spring|summer|autumn|winter)\b|\bQ[1-4]\b|\bquarter\b", re.I),
}
_NAME = re.compile(r"\b(?:Cllr|Councillor|Mr|Mrs|Ms|Miss|Dr|Professor|Prof|Sir|Dame|Lord|Lady)\.?\s+[A-Z][\w'\u2019-]+|"
                   r"\b[A-Z]\.?\s+[A-Z][a-z]{2,}(?:-[A-Z][a-z]+)?\b(?!\s+[A-Z])|"
                   r"\b[A-Z][a-z]+(?:[-'\u2019][A-Z]?[a-z]+)?\s+[A-Z][a-z]+(?:-[A-Z][a-z]+)?\b")
_ROLE_PHRASE = re.compile(r"\b(?:(?:Service|Strategic|Executive|Assistant|Deputy|Corporate)\s+)?(?:Director|Head|Chair|"
                          r"Chairman|Chairwoman|Chief Executive|Lead Member|Cabinet Member|Portfolio Holder|Manager|Leader|"
                          r"Commissioner|Principal Social Worker)\b[^.;,]{0,60}", re.I)


def count_figures(text: str) -> list[str]:
    """Figures that can answer 'how many': not years, dates, percentages or references like 'Minute No. 5'."""
    cleaned = re.sub(r"\(\s*[\divxlcIVXLCa-hA-H]{1,4}\s*\)", " ", strip_bullet(text))  # '(3)', '(ii)': list numbers
    cleaned = _DATE_PHRASE.sub(" ", cleaned)
    cleaned = _REFERENCE.sub(" ", cleaned)
    cleaned = re.sub(r"\d[\d.,]*\s?%", " ", cleaned)
    cleaned = _PROVIDES["duration"].sub(" ", cleaned)  # '9 months', 'three years': how long, not how many
    found = [f for f in re.findall(r"(?<![\w.])\d{1,3}(?:,\d{3})+(?:\.\d+)?|(?<![\w.])\d+(?:\.\d+)?", cleaned)
             if not _YEAR_ONLY.match(f)]
    words = re.findall(rf"\b(?:{COUNT_WORD_PATTERN})\b", cleaned, re.I)
    return found + words


def gives_new_figure(sentence: str, question: str) -> bool:
    """Does the sentence give a figure the question does not already state? ('The rate per 10,000 was
    higher' repeats the question's '10,000' and gives no rate.)"""
    given = set(figures(question))
    # 'Section 47 enquiries per 10,000': the 47 names a kind of enquiry; it is no figure.
    return any(f not in given for f in figures(_REFERENCE.sub(" ", sentence)))


_TITLES = {"Cllr", "Councillor", "Mr", "Mrs", "Ms", "Miss", "Dr", "Professor", "Prof", "Sir", "Dame", "Lord", "Lady"}


def provides(expects: str, sentence: str, question: str = "", place_words: frozenset[str] = frozenset(),
             common_words: frozenset[str] = frozenset()) -> bool:
    """Does the sentence hold the kind of fact the question asks for? (`place_words`: council names' words;
    `common_words`: words the minutes also write in lower case, so 'Focused Visit' is not a person.)"""
    if not expects:
        return True
    if expects in ("money", "percentage", "count") and not gives_new_figure(sentence, question):
        return False
    if expects == "count":
        return bool(count_figures(sentence))
    if expects == "person":
        asked = set(re.findall(r"[A-Za-z]+", question.lower()))
        for match in _NAME.finditer(sentence):
            words = re.findall(r"[A-Za-z]+", match.group(0))
            if any(w not in _TITLES and len(w) > 1 and w.lower() in common_words for w in words):
                continue
            if (not any(w in NOT_PERSON_WORDS or w.lower() in place_words for w in words)
                    and not all(w.lower() in asked for w in words)):
                return True
        return any(not set(re.findall(r"[a-z]+", m.group(0).lower())) <= asked for m in _ROLE_PHRASE.finditer(sentence))
    if expects == "name":
        return bool(names_in(sentence, question, place_words))
    return bool(_PROVIDES[expects].search(sentence))


_QUOTED_NAME = re.compile(r"[\u2018'\"\u201c]([A-Z][^\u2019'\"\u201d]{2,80})[\u2019'\"\u201d]")
_CAPITALISED_RUN = re.compile(r"(?:[A-Z][\w'\u2019&-]*|[0-9]+)(?:\s+(?:(?:of|for|and|the|on|in|&)\s+)*"
                              r"(?:[A-Z][\w'\u2019&-]*|[0-9]+))*")


def names_in(sentence: str, question: str = "", place_words: frozenset[str] = frozenset()) -> list[str]:
    """Names of things the sentence gives that the question does not: a quoted title, a capitalised name
    ('Anna Freud Centre', 'Mosaic'), an acronym. The sentence's first word is a capital of grammar unless
    the name goes on; roles, councils, months and the service's own words are not names."""
    asked = set(lexical_tokens(question))
    plain = strip_bullet(sentence).strip()
    found = []
    for match in _QUOTED_NAME.finditer(plain):
        if not set(lexical_tokens(match.group(1))) <= asked:
            found.append(match.group(1))
    for match in _CAPITALISED_RUN.finditer(plain):
        words = [re.sub(r"['\u2019]s?$", "", w) for w in re.findall(r"[A-Za-z][\w'\u2019-]*", match.group(0))]
        if match.start() == 0:  # the first word's capital is grammar's; the rest of the run may be a name
            words = words[1:]
        meaningful = [w for w in words if w.lower() not in ("of", "for", "and", "the", "on", "in")
                      and w not in NOT_PERSON_WORDS and w not in NOT_THING_WORDS and w not in NOT_QUESTION_NAME_WORDS
                      and w.lower() not in place_words]
        if meaningful and any(not set(lexical_tokens(w)) <= asked for w in meaningful):
            found.append(match.group(0))
    return found


class QuestionTerms:
    """The question's content words, weighted by how rare they are in the index."""

    def __init__(self, question: Question, lexical: LexicalIndex) -> None:
        council_words = set(lexical_tokens(" ".join(question.councils)))
        self.text = question.text
        self.question_tokens = lexical_tokens(question.text)
        tokens = [t for t in dict.fromkeys(self.question_tokens) if t not in _GENERIC | council_words]
        n = max(len(lexical), 1)
        self.weights = {t: math.log(1 + (n - lexical.document_frequency(t) + 0.5) /
                                    (lexical.document_frequency(t) + 0.5)) for t in tokens}
        self.total = sum(self.weights.values())
        # What the question is about, without its dates and numbers ('2016', '17' of '2016/17'): a figure
        # in a sentence that merely shares the question's year is not bound to what was asked.
        self.topic = {t: w for t, w in self.weights.items() if not t[0].isdigit()}

    def coverage(self, text: str, topic_only: bool = False) -> float:
        """Share of the question's weighted words in the text, counting a glossary synonym as the word."""
        weights = self.topic if topic_only else self.weights
        total = sum(weights.values())
        if not total:
            return 0.0
        from assistant.answer.glossary import covered_by_synonym

        tokens = lexical_tokens(text)
        present = set(tokens) | covered_by_synonym(self.question_tokens, tokens) | self._spelled_as_acronym(tokens)
        return sum(w for t, w in weights.items() if t in present) / total

    def _spelled_as_acronym(self, text_tokens: list[str]) -> set[str]:
        """The question's words that the text writes as their acronym ('return home interviews' as 'RHI')."""
        present = set(text_tokens)
        return {token for acronym, tokens in self._acronyms.items() if acronym in present for token in tokens}

    @functools.cached_property
    def _acronyms(self) -> dict[str, tuple[str, ...]]:
        words = [w for w in re.findall(r"[A-Za-z][A-Za-z'\u2019-]*", self.text) if w.lower() not in ACRONYM_GAP_WORDS]
        found: dict[str, tuple[str, ...]] = {}
        for acronym, run in word_runs_with_initials(words, (3, 4, 5)):  # two letters ('sc') would match by chance
            found.setdefault(acronym, tuple(lexical_tokens(" ".join(run))))
        return found


_INTERROGATIVE = re.compile(r"^[\s\u00a0\u00b7\-\u2013*]*(?:what|how|when|why|who|whom|which|could|would|were|was|is|are|"
                           r"will|can|did|do|does|has|have|should)\b", re.I)


def is_question_like(sentence: str) -> bool:
    """A member's question or a heading that restates a topic: context for an answer, not one itself."""
    plain = sentence.strip()
    return plain.endswith("?") or bool(_INTERROGATIVE.match(plain)) or bool(
        re.search(r"[\u2013-]\s*(?:how|what|why|when)\b.*[^.]$", plain, re.I))


_PAGE_FURNITURE = re.compile(rf"^(?:Meeting\s*:|Meeting of\b.*\b{YEAR_PATTERN}\b|"
                             r"Report (?:of|by)\b|Supporting documents|Additional documents|"
                             r"Decision maker|Agenda item|Issue\s*-|Decided at meeting|View the background|"
                             r"Members of the public are welcome|Publicly accessible meetings)", re.I)


def is_heading(sentence: str) -> bool:
    """A title, a meeting line or a document entry: it names a topic but states nothing, so it never
    answers a question (though it may introduce the sentence that does)."""
    plain = strip_bullet(sentence).strip()
    from assistant.ingest.structure import DOCUMENT_ENTRY

    if _PAGE_FURNITURE.match(plain) or DOCUMENT_ENTRY.search(plain):
        return True
    if plain[-1:] in ".!?:;)\u2019\u201d'\"":
        return False
    # A title capitalises every word that carries meaning; a sentence has lower-case words of its own.
    words = [w for w in re.findall(r"[A-Za-z][A-Za-z'\u2019-]*", plain) if len(w) > 3]
    return bool(words) and all(w[0].isupper() or w in ("with", "from", "into") for w in words)


def _introduces(previous: str) -> bool:
    """A member's question or a heading: it names the topic the next sentence answers. (A short sentence
    of its own does not: its words must not vouch for a figure or date in the next one.)"""
    plain = strip_bullet(previous).strip()
    return is_question_like(plain) or (len(plain.split()) < 12 and plain[-1:] not in ".!;")


_BACK_REFERENCE = re.compile(r"\b(?:this|these|that|those|such)\s+(?:subject|issues?|areas?|matters?|work|topics?|"
                             r"points?|aspects?|concerns?|approach|regard|respect)\b|^(?:this|these|they|if (?:this|that|so)|"
                             r"as a result|therefore)\b|\bsuch\s+(?!as\b|a\b|an\b)[a-z]+", re.I)


QUOTED_WITH_ANTECEDENT_WORDS = 60


def _last_sentence(text: str) -> str:
    spans = sentence_spans(text)
    return normalise_space(spans[-1].of(text)) if spans else ""


def refers_back(sentence: str) -> bool:
    """'...doing an excellent job on this subject': the sentence takes its topic from the one before."""
    return bool(_BACK_REFERENCE.search(strip_bullet(sentence)))


def _is_fragment(sentence: str) -> bool:
    """A piece of a sentence (cut where a page was truncated or split): no start, or no end and few words."""
    stripped = strip_bullet(sentence)
    if not stripped:
        return True
    starts_badly = stripped[0].islower() and not sentence.lstrip().startswith(("\u00b7", "-", "\u2022", "("))
    ends_badly = stripped[-1] not in ".!?:;)\u2019\u201d'\"" and len(stripped.split()) < 8
    return starts_badly or ends_badly


def _opens_list(sentence: str) -> bool:
    return bool(re.search(r"(?::|:-|as follows\W*|the following\W*)$", sentence.strip(), re.I))


def score_sentences(question: Question, hits: list[Hit], terms: QuestionTerms, embedder=None,
                    query_vector=None, max_hits: int = 4, max_embedded: int = 10,
                    passages: Passages | None = None) -> list[ScoredSentence]:
    """Candidate answer sentences, best first, by meaning (when an embedder is given), words, place and type.

    A sentence is read with the member's question or heading just before it, because minutes often
    put the topic in one line and the answer in the next.
    """
    candidates: list[_Candidate] = []
    # An explanation reads better with what its 'this' refers to; a figure, date or name stands alone
    # (and its checks must see only the sentence that gives it).
    explains = question.wants == "general" and not question.expects
    for rank, hit in enumerate(hits[:max_hits]):
        context = terms.coverage(item_header(hit) + " " + hit.text)
        spans = sentence_spans(hit.text)
        plains = [normalise_space(sp.of(hit.text)) for sp in spans]
        title = title_key(str(hit.metadata.get("item_title", "")))
        for i, (span, plain) in enumerate(zip(spans, plains)):
            if (len(plain.split()) < 4 or is_question_like(plain) or _is_fragment(plain) or is_heading(plain)
                    or (title and title_key(plain) == title)):
                continue
            start, end = span.start, span.end
            points_back = refers_back(plain)
            if i:
                introduced = _introduces(plains[i - 1])
                lead = plains[i - 1] if introduced or points_back else ""
                if (points_back and explains and not introduced
                        and len(lead.split()) + len(plain.split()) <= QUOTED_WITH_ANTECEDENT_WORDS):
                    start = spans[i - 1].start  # quote what 'this' refers to as well
            else:  # across a chunk boundary, only a sentence that points back takes the one before
                lead = _last_sentence(passages.chunk_before(hit.metadata)) if points_back and passages is not None else ""
            if _opens_list(plain):  # 'there were four themes:' -- the answer is the list after it
                for follower in spans[i + 1:i + 4]:
                    end = follower.end
            window = f"{lead} {normalise_space(hit.text[span.start:end])}".strip()
            candidates.append(_Candidate(hit, rank, context, start, end, window, lead, terms.coverage(window),
                                         terms.coverage(window, topic_only=True), _type_bonus(question, hit, plain)))
    # Embedding every sentence would cost more than the rest of the answer: embed the likeliest few.
    candidates.sort(key=lambda c: -(c.coverage + 0.5 * c.context + 0.2 / (1 + c.rank) + c.bonus))
    similarities = [0.0] * len(candidates)
    if embedder is not None and query_vector is not None and candidates:
        import numpy as np

        top = candidates[:max_embedded]
        vectors = np.asarray(embedder.embed_documents([c.window for c in top]), dtype=np.float32)
        sims = vectors @ np.asarray(query_vector, dtype=np.float32)
        similarities[:len(top)] = [float(x) for x in sims]
    scored = [
        ScoredSentence(c.hit, c.rank, c.start, c.end,
                       0.4 * sim + 0.3 * c.coverage + 0.1 * c.context + 0.1 / (1 + c.rank) + c.bonus,
                       c.coverage, sim, c.topic_coverage, c.lead)
        for c, sim in zip(candidates, similarities)
    ]
    scored.sort(key=lambda s: -s.score)
    return scored


def title_key(text: str) -> str:
    """A title's words, case-folded, without an '(Agenda item 9)' suffix: the item's own title repeated
    in its text ('Options for the Future of directly provided Children's Homes') is a heading even where
    it is not in title case. ('' for text too short to tell.)"""
    text = re.sub(r"\s*\((?:agenda )?item\s*[\w.]*\)\s*$", "", text, flags=re.I)
    key = re.sub(r"\W+", " ", text).strip().casefold()
    return key if len(key) > 10 else ""


@dataclass(frozen=True)
class _Candidate:
    hit: Hit
    rank: int
    context: float
    start: int
    end: int
    window: str
    lead: str
    coverage: float
    topic_coverage: float
    bonus: float


_CHANGE = re.compile(r"\b(?:increas\w*|decreas\w*|reduc\w*|ris(?:e|en|es|ing)|rose|fall\w*|fell|grew|grow\w*|"
                     r"declin\w*|drop\w*|doubl\w*|halved|improv\w*|deteriorat\w*|worse\w*|stable|steady|remain\w*|"
                     r"unchanged|static|(?:higher|lower|more|fewer|less) than)\b", re.I)


def states_change(text: str) -> bool:
    """Does the text say how something moved (up, down, the same), in words or figures?"""
    return bool(_CHANGE.search(text)) or has_answer_figure(text)


def _type_bonus(question: Question, hit: Hit, sentence: str) -> float:
    if question.wants == "trend":
        return 0.2 if _CHANGE.search(sentence) else -0.1
    if question.wants == "number":
        return 0.2 if has_answer_figure(sentence) else -0.2
    if question.wants == "who":
        return 0.2 if _ROLE.search(sentence) else -0.1
    if question.wants == "when":
        return 0.2 if _DATEISH.search(sentence) else -0.1
    if question.wants == "resolution":
        return 0.25 if hit.metadata.get("kind") == "resolution" or _RESOLUTION_START.match(sentence) else 0.0
    return 0.0


def item_header(hit: Hit) -> str:
    """The item's council, committee and title: words a passage is about without repeating them."""
    m = hit.metadata
    return " ".join(str(m.get(k, "")) for k in ("council", "committee", "item_title"))
