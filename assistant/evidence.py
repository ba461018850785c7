"""Scoring evidence sentences against a question: shared by the extractive answerer and refusals."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from assistant.lexical import LexicalIndex, lexical_tokens
from assistant.question import Question
from assistant.retrieve import Hit
from assistant.sentences import normalise_space, sentence_spans

_FIGURE = re.compile(r"(?<![\w.])(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?\s*%?|\b(?:one|two|three|four|five|six|seven|"
                     r"eight|nine|ten|eleven|twelve|twenty|thirty|forty|fifty|hundred|half|third|quarter)\b", re.I)
_YEAR_ONLY = re.compile(r"^(?:19|20)\d\d$")
_ROLE = re.compile(r"\b(Director|Councillor|Cllr|Chair(?:man|woman|person)?|Head of|Manager|Officer|Lead|Member|"
                   r"Cabinet|Commissioner|Mr|Mrs|Ms|Dr|Chief Executive|Principal|Service Director|Assistant)\b")
_DATEISH = re.compile(r"\b(?:(?:19|20)\d\d|January|February|March|April|May|June|July|August|September|October|"
                      r"November|December)\b")
_RESOLUTION_START = re.compile(r"^[\s\u00a0(]*(?:RESOLVED|Resolved|RECOMMENDED|Recommended|AGREED|Agreed|That|"
                               r"\(?[ivx]+\)|\(?\d\))", re.I)
# Words every question about these minutes shares; they say nothing about which sentence answers it.
_GENERIC = set(lexical_tokens(
    "minutes committee council meeting said say says discuss discussed report reported item scrutiny members "
    "member tell told mention mentioned what which about regarding children child social care how many much "
    "number did does do was were is are be been from during in on at for of the a an any there their its "
    "according give list describe explain summarise summarize please me us our who whom when where why whether "
    "happened happen figure figures per cent percentage proportion rate year years"))


def figures(text: str) -> list[str]:
    """Numbers in the text, normalised ('1,200' -> '1200'), years included."""
    return [m.group(0).replace(",", "").replace(" ", "").lower() for m in _FIGURE.finditer(text)]


def has_answer_figure(text: str) -> bool:
    """A figure that is not just a year: what 'how many' or 'what percentage' needs."""
    return any(not _YEAR_ONLY.match(f) for f in figures(text) if any(ch.isdigit() for ch in f)) or bool(
        re.search(r"\b(?:one|two|three|four|five|six|seven|eight|nine|ten|twelve|twenty|hundred|half|third|quarter)\b",
                  text, re.I))


@dataclass(frozen=True)
class ScoredSentence:
    hit: Hit
    hit_rank: int
    start: int  # offsets within hit.text
    end: int
    score: float
    coverage: float  # share of the question's weighted words in the sentence
    similarity: float = 0.0  # cosine similarity of sentence and question embeddings (0 if not embedded)

    @property
    def support(self) -> float:
        """How well the sentence matches the question, by words or by meaning."""
        return max(self.coverage, (self.similarity - 0.25) / 0.4)

    @property
    def text(self) -> str:
        return self.hit.text[self.start:self.end]


class QuestionTerms:
    """The question's content words, weighted by how rare they are in the index."""

    def __init__(self, question: Question, lexical: LexicalIndex) -> None:
        council_words = set(lexical_tokens(" ".join(question.councils)))
        tokens = [t for t in dict.fromkeys(lexical_tokens(question.text)) if t not in _GENERIC | council_words]
        n = max(len(lexical), 1)
        self.weights = {t: math.log(1 + (n - lexical.document_frequency(t) + 0.5) /
                                    (lexical.document_frequency(t) + 0.5)) for t in tokens}
        self.total = sum(self.weights.values())

    def coverage(self, text: str) -> float:
        if not self.total:
            return 0.0
        present = set(lexical_tokens(text))
        return sum(w for t, w in self.weights.items() if t in present) / self.total


def score_sentences(question: Question, hits: list[Hit], terms: QuestionTerms, embedder=None,
                    query_vector=None, max_hits: int = 4, max_embedded: int = 12) -> list[ScoredSentence]:
    """Candidate answer sentences, best first: meaning (when an embedder is given), words, place, type."""
    candidates: list[tuple[Hit, int, float, int, int, str, float]] = []
    for rank, hit in enumerate(hits[:max_hits]):
        context = terms.coverage(_header(hit) + " " + hit.text)
        for span in sentence_spans(hit.text):
            plain = normalise_space(span.of(hit.text))
            if len(plain.split()) < 4:
                continue
            candidates.append((hit, rank, context, span.start, span.end, plain, terms.coverage(plain)))
    # Embedding every sentence would cost more than the rest of the answer: embed the likeliest few.
    candidates.sort(key=lambda c: -(c[6] + 0.5 * c[2] + 0.2 / (1 + c[1]) + _type_bonus(question, c[0], c[5])))
    similarities = [0.0] * len(candidates)
    if embedder is not None and query_vector is not None and candidates:
        import numpy as np

        top = candidates[:max_embedded]
        vectors = np.asarray(embedder.embed_documents([c[5] for c in top]), dtype=np.float32)
        sims = vectors @ np.asarray(query_vector, dtype=np.float32)
        similarities[:len(top)] = [float(x) for x in sims]
    scored = []
    for (hit, rank, context, start, end, plain, coverage), similarity in zip(candidates, similarities):
        score = (0.4 * similarity + 0.3 * coverage + 0.1 * context + 0.1 / (1 + rank)
                 + _type_bonus(question, hit, plain))
        if plain.endswith("?"):
            score -= 0.1  # a member's question restates the topic; the answer follows it
        scored.append(ScoredSentence(hit, rank, start, end, score, coverage, similarity))
    scored.sort(key=lambda s: -s.score)
    return scored


def _type_bonus(question: Question, hit: Hit, sentence: str) -> float:
    if question.wants == "number":
        return 0.2 if has_answer_figure(sentence) else -0.2
    if question.wants == "who":
        return 0.2 if _ROLE.search(sentence) else -0.1
    if question.wants == "when":
        return 0.2 if _DATEISH.search(sentence) else -0.1
    if question.wants == "resolution":
        return 0.25 if hit.metadata.get("kind") == "resolution" or _RESOLUTION_START.match(sentence) else 0.0
    return 0.0


def _header(hit: Hit) -> str:
    m = hit.metadata
    return " ".join(str(m.get(k, "")) for k in ("council", "committee", "item_title"))
