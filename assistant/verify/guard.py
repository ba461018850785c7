"""The grounding guard: is a generated sentence supported by the minutes it cites?

A sentence passes only if every figure and year in it appears in the cited text, every council
it names is a cited item's council, and it is close in meaning and wording to a cited sentence. Only a
copy of whole sentences passes at sight: a copied fragment ("adoption orders had risen" out of "the Panel
did not accept that adoption orders had risen") is judged like any other sentence.
"""

from __future__ import annotations

import re
from typing import Sequence

import numpy as np

from assistant.index.embedder import Embedder
from assistant.records import Hit, Verdict
from assistant.text import (Span, addresses_in, figures, lexical_tokens, mentioned_years, missing_names,
                            named_councils, normalise_space, number_tokens, number_values, sentence_spans,
                            strip_bullet)

_MARKER = re.compile(r"\s*\[\s*(\d+(?:\s*,\s*\d+)*)\s*\]")
# Words that deny what follows them: "rejected the suggestion that ...", "non-compliant".
_NEGATION = re.compile(r"\b(not|no|never|none|neither|nor|non|without|cannot|n't|unable|fail(?:ed)?|"
                       r"reject(?:ed|s)?|refused?|declined?)\b|n't\b", re.I)

DEFAULT_THRESHOLD = 0.55
SIMILARITY_WEIGHT = 0.6


_OPPOSITES = [
    ("increas", "decreas"), ("rise", "fall"), ("rose", "fell"), ("risen", "fallen"), ("higher", "lower"),
    ("more", "fewer"), ("more", "less"), ("improv", "deteriorat"), ("improv", "worse"), ("above", "below"),
    ("up", "down"), ("good", "poor"), ("strong", "weak"), ("approv", "reject"), ("agreed", "refused"),
    ("positive", "negative"), ("success", "fail"), ("gain", "loss"), ("over", "under"), ("best", "worst"),
    ("reduc", "increas"), ("grow", "shrink"), ("expand", "reduc"), ("fell", "increas"), ("fall", "increas"),
    ("up", "reduc"), ("down", "increas"), ("rose", "decreas"), ("rose", "reduc"), ("enough", "lack"),
    ("sufficient", "lack"), ("sufficient", "insufficient"), ("timely", "delay"), ("well", "poor"),
    ("effective", "ineffective"), ("met", "missed"), ("complet", "incomplet"),
    # Ofsted's grades: a claim that moves a judgement up or down the scale. Two-word grades and states are read as
    # one word (see _as_one_word): 'requires improvement to be good' is not 'good', nor 'off track' 'on track'.
    ("outstanding", "good"), ("outstanding", "inadequate"), ("good", "inadequate"),
    ("outstanding", "requiresimprovement"), ("good", "requiresimprovement"), ("inadequate", "requiresimprovement"),
    ("ontrack", "offtrack"),
]

# Words that give an amount without a figure: "most reports" where the minutes say "28.5% of reports".
_AMOUNT_WORDS = frozenset({"most", "majority", "all", "nearly", "almost", "half", "few", "many", "minority",
                           "several", "bulk", "vast"})


def _figure_problem(claim: str, source: str) -> str:
    """A number the claim gives that the source does not (words count: 'Twelve' is 12), or a number the
    source gives for something else ('3 permanent' where the minutes say '5 permanent ... 3 agency')."""
    source_values = number_values(source)
    source_words = [w.lower() for w in number_tokens(source)]
    claim_words = [w.lower() for w in number_tokens(claim)]
    available = {v for v, _ in source_values}
    for value, position in number_values(claim):
        if value not in available:
            return f"the figure {claim_words[position]} is not in the cited minutes"
        following = claim_words[position + 1] if position + 1 < len(claim_words) else ""
        if len(following) <= 3 or not following.isalpha() or following in _UNBOUND:
            continue
        stem = following[:5]
        places = [p for v, p in source_values if v == value]
        near = any(p + 1 < len(source_words) and source_words[p + 1].startswith(stem) for p in places)
        if not near and _other_number_near(source_values, source_words, stem, value):
            return f"in the cited minutes, {claim_words[position]} is not the figure for {following}"
    return ""


def _other_number_near(source_values, source_words, stem: str, value: float) -> bool:
    """Does a different number stand right before the word in the source?"""
    return any(v != value and p + 1 < len(source_words) and source_words[p + 1].startswith(stem)
               for v, p in source_values)


# Words that follow a number without being what it counts ('3 still', '2018 when').
_UNBOUND = {"still", "when", "which", "where", "while", "with", "were", "have", "that", "this", "from", "than",
            "then", "there", "they", "also", "into", "over", "under", "years", "year", "months", "month", "weeks",
            "week", "days", "about", "around", "only", "more", "less", "cent"}


def _letter_words(text: str) -> list[str]:
    return re.findall(r"[a-z]+", text.lower())


def _as_one_word(words: list[str]) -> list[str]:
    """'requires improvement (to be good)' as 'requiresimprovement', and 'on track' and 'off track' as one word each,
    so that the grade and the state are compared whole."""
    joined: list[str] = []
    i = 0
    while i < len(words):
        word, following = words[i], words[i + 1] if i + 1 < len(words) else ""
        if word.startswith("requir") and following == "improvement":
            joined.append("requiresimprovement")
            i += 5 if words[i + 2:i + 5] == ["to", "be", "good"] else 2
        elif word in ("on", "off") and following == "track":
            joined.append(word + "track")
            i += 2
        else:
            joined.append(word)
            i += 1
    return joined


def _flips_direction(claim: str, source: str) -> bool:
    """The claim says the opposite direction of the source ('fell' for 'rose', 'lower' for 'higher')."""
    claim_words, source_words = _as_one_word(_letter_words(claim)), _as_one_word(_letter_words(source))

    def has(words, stem):
        return any(w.startswith(stem) for w in words) if len(stem) > 4 else stem in words

    for a, b in _OPPOSITES:
        for this, that in ((a, b), (b, a)):
            if has(claim_words, this) and not has(claim_words, that) and has(source_words, that) \
                    and not has(source_words, this):
                return True
    return False


def _figure_not_in(claim: str, text: str, skipped: set[str] = frozenset()) -> str:
    """The first figure of the claim with a digit in it that the text does not give ('28.5%' and '28.5' count as
    one), or ''."""
    given = figures(text)
    available = set(given) | {f.rstrip("%") for f in given}
    for figure in figures(claim):
        if any(ch.isdigit() for ch in figure) and figure not in available and figure.rstrip("%") not in available \
                and figure not in skipped:
            return figure
    return ""


def _amount_for_figure(claim: str, source: str) -> bool:
    """The claim gives an amount in words ("most", "nearly all") that its best source sentence does not use, and
    leaves out a figure that sentence states: it has put a judgement in place of the minutes' figure."""
    claim_words, source_words = set(_letter_words(claim)), set(_letter_words(source))
    vague = (claim_words & _AMOUNT_WORDS) - source_words
    years = {str(year) for year in mentioned_years(source)}
    claim_figures = {f.rstrip("%") for f in figures(claim)}
    left_out = [f for f in figures(source) if f not in years and f.rstrip("%") not in claim_figures]
    return bool(vague) and bool(left_out)


def _foreign_link(claim: str, source: str) -> str:
    """A web or email address, or a Markdown link or image, that the cited minutes do not contain."""
    linked = addresses_in(claim) + [token for token in claim.split() if "](" in token]
    if any(token not in source for token in linked):
        return "links to something the cited minutes do not contain"
    return ""


def strip_markers(sentence: str) -> tuple[str, tuple[int, ...]]:
    """The sentence without its [n] markers, and the markers in order of appearance."""
    markers: list[int] = []
    for match in _MARKER.finditer(sentence):
        markers.extend(int(n) for n in match.group(1).split(","))
    return _MARKER.sub("", sentence).strip(), tuple(dict.fromkeys(markers))


def find_verbatim(text: str, claim: str) -> Span | None:
    """Where the claim stands in the text, ignoring differences in white space."""
    words = normalise_space(claim).split(" ")
    if not words or not words[0]:
        return None
    pattern = r"[\s\u00a0]+".join(re.escape(w) for w in words)
    # Whole words only: "48 children" is not in "148 children".
    pattern = (r"(?<!\w)" if words[0][0].isalnum() else "") + pattern + (r"(?!\w)" if words[-1][-1].isalnum() else "")
    match = re.search(pattern, text, re.I)
    return Span(match.start(), match.end()) if match else None


def covers_whole_sentences(text: str, span: Span) -> bool:
    """Does the span run from the start of a sentence of the text (after any bullet) to the end of one (before
    its closing punctuation)? A fragment leaves words of its sentence out, and those may deny it."""
    spans = sentence_spans(text)
    starts = any(s.start <= span.start < s.end and _only_a_bullet(text[s.start:span.start]) for s in spans)
    ends = any(s.start < span.end <= s.end and not _has_word(text[span.end:s.end]) for s in spans)
    return starts and ends


def _only_a_bullet(text: str) -> bool:
    """Is the text before a sentence's copied part nothing, punctuation, or a bullet or enumerator ("2.", "(b)")?"""
    return not _has_word(text) or strip_bullet(f"{text} x") == "x"


def _has_word(text: str) -> bool:
    return any(ch.isalnum() for ch in text)


class Guard:
    def __init__(self, embedder: Embedder, known_council_keys: Sequence[str] = (),
                 threshold: float = DEFAULT_THRESHOLD, nli=None) -> None:
        self.embedder = embedder
        self.council_keys = tuple(known_council_keys)
        self.threshold = threshold
        self.nli = nli  # optional: anything with entailment(premise, hypothesis) -> probability
        self._sentence_cache: dict[str, tuple[list[Span], np.ndarray]] = {}

    def check(self, sentence: str, cited: Sequence[Hit]) -> Verdict:
        claim, _ = strip_markers(sentence)
        if not cited:
            return Verdict(False, 0.0, "no citation")
        if not claim:
            return Verdict(False, 0.0, "empty sentence")
        for hit in cited:
            span = find_verbatim(hit.text, claim)
            if span and covers_whole_sentences(hit.text, span):
                return Verdict(True, 1.0, "verbatim", hit, span)
        cited_text = " ".join(hit.text for hit in cited)
        context = cited_text + " " + " ".join(
            f"{h.metadata.get('meeting_date', '')} {h.metadata.get('period', '')} {h.metadata.get('council', '')} "
            f"{h.metadata.get('committee', '')} {h.metadata.get('item_title', '')}" for h in cited)
        figure = _figure_not_in(claim, context)
        if figure:
            return self._with_quote(claim, cited, False, 0.0, f"the figure {figure} is not in the cited minutes")
        context_years = set(mentioned_years(context))
        for year in mentioned_years(claim):
            if year not in context_years:
                return self._with_quote(claim, cited, False, 0.0, f"the year {year} is not in the cited minutes")
        problem = _figure_problem(claim, cited_text) or self._figure_of_another_council(claim, cited)
        if problem:
            return self._with_quote(claim, cited, False, 0.0, problem)
        problem = _foreign_link(claim, cited_text)
        if problem:
            return self._with_quote(claim, cited, False, 0.0, problem)
        cited_councils = {h.metadata.get("council_key", "") for h in cited}
        text_councils = set(named_councils(cited_text, self.council_keys))  # places the minutes themselves name
        for key in named_councils(claim, self.council_keys):
            if key not in cited_councils and key not in text_councils:
                return self._with_quote(claim, cited, False, 0.0, f"names {key}, which the cited item is not about")
        missing = missing_names(claim, "\n".join(h.metadata.get("council", "") for h in cited) + "\n" + context)
        if missing:
            return self._with_quote(claim, cited, False, 0.0,
                                    f"names {', '.join(missing)}, which the cited minutes do not mention")
        similarity, hit, span = self._best_sentence(claim, cited)
        claim_tokens = set(lexical_tokens(claim))
        overlap = len(claim_tokens & set(lexical_tokens(context))) / len(claim_tokens) if claim_tokens else 0.0
        score = SIMILARITY_WEIGHT * similarity + (1 - SIMILARITY_WEIGHT) * overlap
        best_sentence = span.of(hit.text) if hit and span else ""
        if bool(_NEGATION.search(claim)) != bool(_NEGATION.search(best_sentence)):
            score -= 0.5  # "was not" against "was": a paraphrase that flips the meaning
        if _flips_direction(claim, best_sentence):
            score -= 0.5  # "fell" where the minutes say "rose"
        if best_sentence and _amount_for_figure(claim, best_sentence):
            return Verdict(False, 0.0, "gives as an amount what the cited minutes state as a figure", hit, span)
        if self.nli is not None and best_sentence:
            # An NLI model, when one is configured, has an equal say with the similarity score.
            score = 0.5 * score + 0.5 * self.nli.entailment(normalise_space(best_sentence), claim)
        score = max(0.0, min(1.0, score))
        supported = score >= self.threshold
        reason = "supported" if supported else f"too far from the cited minutes (score {score:.2f})"
        return Verdict(supported, score, reason, hit, span)

    def _figure_of_another_council(self, claim: str, cited: Sequence[Hit]) -> str:
        """A figure that a claim about one council takes from another council's cited minutes ("In Sefton, 148
        ..." citing Rotherham's 148 beside an item of Sefton's)."""
        named = named_councils(claim, self.council_keys)
        if len(named) != 1 or len(cited) < 2:
            return ""
        about = [h for h in cited if h.metadata.get("council_key") == named[0]
                 or named[0] in named_councils(h.text, self.council_keys)]
        years = {str(year) for year in mentioned_years(claim)}  # a year dates the claim; the year check covers it
        figure = _figure_not_in(claim, " ".join(h.text for h in about), skipped=years)
        return f"the figure {figure} is not in the cited minutes about {named[0]}" if figure else ""

    def _with_quote(self, claim, cited, supported, score, reason) -> Verdict:
        _, hit, span = self._best_sentence(claim, cited)
        return Verdict(supported, score, reason, hit, span)

    def _best_sentence(self, claim: str, cited: Sequence[Hit]) -> tuple[float, Hit | None, Span | None]:
        claim_vector = np.asarray(self.embedder.embed_query(claim), dtype=np.float32)
        best: tuple[float, Hit | None, Span | None] = (0.0, None, None)
        for hit in cited:
            spans, vectors = self._sentences(hit)
            if not spans:
                continue
            sims = vectors @ claim_vector
            i = int(np.argmax(sims))
            if sims[i] > best[0] or best[1] is None:
                best = (float(sims[i]), hit, spans[i])
        return best

    def _sentences(self, hit: Hit) -> tuple[list[Span], np.ndarray]:
        cached = self._sentence_cache.get(hit.chunk_id)
        if cached is None:
            spans = [s for s in sentence_spans(hit.text) if len(s.of(hit.text).split()) >= 3] or sentence_spans(hit.text)
            texts = [normalise_space(s.of(hit.text)) for s in spans]
            vectors = np.asarray(self.embedder.embed_documents(texts), dtype=np.float32) if texts else np.zeros((0, 1))
            cached = (spans, vectors)
            if len(self._sentence_cache) > 2048:
                self._sentence_cache.clear()
            self._sentence_cache[hit.chunk_id] = cached
        return cached


class CrossEncoderNLI:
    """An NLI cross-encoder from a local folder (ASSISTANT_NLI_MODEL), loaded on first use."""

    def __init__(self, path: str) -> None:
        from pathlib import Path

        from assistant.errors import ModelError

        if not Path(path).exists():
            raise ModelError(f"ASSISTANT_NLI_MODEL names {path}, which does not exist.",
                             "Point it at a local cross-encoder folder, or unset it.")
        self.path = path
        self._model = None
        self._entail_index = 0

    def entailment(self, premise: str, hypothesis: str) -> float:
        if self._model is None:
            self._load()
        logits = np.asarray(self._model.predict([(premise, hypothesis)]), dtype=np.float64)[0]
        if np.ndim(logits) == 0:  # a single-score model: already a probability of support
            return float(logits)
        probabilities = np.exp(logits - logits.max())
        probabilities /= probabilities.sum()
        return float(probabilities[self._entail_index])

    def _load(self) -> None:
        from sentence_transformers import CrossEncoder

        from assistant.errors import ConfigError

        try:  # a file, an empty folder or a model of another kind: each fails in its own way
            model = CrossEncoder(self.path, device="cpu", local_files_only=True)
            labels = {i: str(l).lower() for i, l in model.model.config.id2label.items()}
        except (OSError, ValueError, AttributeError) as exc:
            raise ConfigError(f"ASSISTANT_NLI_MODEL names {self.path}, which holds no NLI cross-encoder that "
                              f"loads: {exc}",
                              "Point it at a local sentence-transformers CrossEncoder folder (with config.json and "
                              "its weights), or unset it: the guard works without one.") from exc
        self._model = model
        self._entail_index = next((i for i, l in labels.items() if "entail" in l), len(labels) - 1)
