"""The question's content words, weighted by how rare they are in the index: how much of what was asked a
passage mentions (with glossary synonyms and acronyms counted as the words they stand for)."""

from __future__ import annotations

import functools
import math
import re

from assistant.answer.glossary import covered_by_synonym
from assistant.index.lexical import LexicalIndex
from assistant.records import Question
from assistant.text import ACRONYM_GAP_WORDS, QUESTION_FILLER_WORDS, lexical_tokens, word_runs_with_initials



@functools.cache
def _question_filler() -> frozenset[str]:
    """The filler words' tokens: made at the first question, as tokenising loads bm25s (and scipy) for its stop
    words, which importing this module must not."""
    return frozenset(lexical_tokens(QUESTION_FILLER_WORDS))


class QuestionTerms:
    """The question's content words, weighted by how rare they are in the index."""

    def __init__(self, question: Question, lexical: LexicalIndex) -> None:
        council_words = set(lexical_tokens(" ".join(question.councils)))
        self.text = question.text
        self.question_tokens = lexical_tokens(question.text)
        tokens = [t for t in dict.fromkeys(self.question_tokens) if t not in _question_filler() | council_words]
        n = max(len(lexical), 1)
        self.weights = {t: math.log(1 + (n - lexical.document_frequency(t) + 0.5) /
                                    (lexical.document_frequency(t) + 0.5)) for t in tokens}
        self.total = sum(self.weights.values())

    def coverage(self, text: str) -> float:
        """Share of the question's weighted words in the text, counting a glossary synonym as the word."""
        if not self.total:
            return 0.0
        tokens = lexical_tokens(text)
        present = set(tokens) | covered_by_synonym(self.question_tokens, tokens) | self._spelled_as_acronym(tokens)
        return sum(w for t, w in self.weights.items() if t in present) / self.total

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
