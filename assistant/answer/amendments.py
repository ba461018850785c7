"""A named check: a figure quoted from minutes that a later meeting corrected when it approved them.

A committee approves its minutes at its next meeting, sometimes 'subject to an amendment': 'the figure of 412
looked-after children reported in March should read 421'. The reader reads one sentence at a time and cannot know
that, so the superseded figure had been quoted, and led in bold, as if it stood. Found here: a sentence of the same
council and committee's later minutes that speaks of minutes, amending or correcting (text.AMENDING_STEMS), with
the quoted figure on one side of an amending phrase (text.AMENDED_TO_PHRASES, text.IN_PLACE_OF_PHRASES) and another
figure of the same kind on the other. That sentence is quoted after the one it corrects, and the answer says so.
"""

from __future__ import annotations

from dataclasses import dataclass

from assistant.answer.passages import Passages
from assistant.index.lexical import LexicalEntry
from assistant.records import Amendment, Hit, ScoredSentence
from assistant.text import (AMENDED_TO_PHRASES, IN_PLACE_OF_PHRASES, MONTH_NUMBERS, committee_key, council_key_of,
                            normalise_space, number_token_spans, number_tokens, token_value)

# How far (in words and numbers) the figure as minuted may stand before 'should read' ('412 looked-after children
# reported in March should read 421'), and a figure from the other side of any amending phrase.
_FAR_BEFORE, _NEAR = 8, 3
_AMENDING_PHRASES = tuple((phrase.split(), True) for phrase in AMENDED_TO_PHRASES) + tuple(
    (phrase.split(), False) for phrase in IN_PLACE_OF_PHRASES)


@dataclass(frozen=True)
class Figure:
    """A number in a sentence, with the sign that gives its kind ('£', '%' or ''): £3,000 is never 3,000 children."""

    value: float
    kind: str
    text: str  # as written, with its sign: '£3,000'


def figures_of(text: str) -> list[tuple[int, Figure]]:
    """The figures of a text that a correction could be about, each with its place among number_tokens(text): not a
    year (2023), nor a day of a date ('14 March')."""
    spans = number_token_spans(text)
    found = []
    for i, (token, start, end) in enumerate(spans):
        value = token_value(token)
        if value is None or not token[0].isdigit():
            continue
        kind = "£" if text[:start].rstrip().endswith("£") else "%" if text[end:].lstrip().startswith("%") else ""
        after = spans[i + 1][0].lower() if i + 1 < len(spans) else ""
        if not kind and (1900 <= value <= 2100 and token.isdigit() or after in MONTH_NUMBERS):
            continue
        shown = f"£{token}" if kind == "£" else f"{token}%" if kind == "%" else token
        found.append((i, Figure(value, kind, shown)))
    return found


def corrections_in(sentence: str) -> list[tuple[Figure, Figure]]:
    """(as minuted, as corrected) for each figure the sentence corrects: '412 ... should read 421',
    '£2,500 rather than £3,000'."""
    words = [token.lower() for token in number_tokens(sentence)]
    numbered = figures_of(sentence)
    found = []
    for at in range(len(words)):
        for phrase, replacement_after in _AMENDING_PHRASES:
            if words[at:at + len(phrase)] != phrase:
                continue
            end = at + len(phrase)
            after = [f for i, f in numbered if end <= i < end + _NEAR]
            # the nearest figure of the same kind before the phrase: not 'minute 12' in '71% in minute 12 should read'
            before = [f for i, f in numbered if at - (_FAR_BEFORE if replacement_after else _NEAR) <= i < at
                      and after and f.kind == after[0].kind]
            if before and before[-1].value != after[0].value:
                found.append((before[-1], after[0]) if replacement_after else (after[0], before[-1]))
    return found


def later_amendments(quotes: list[ScoredSentence], passages: Passages) -> tuple[list[ScoredSentence], list[Amendment]]:
    """The quotes, each followed by any later sentence that corrects one of its figures (not one quoted already),
    with the Amendments that say where those stand and what they correct."""
    shown = {normalise_space(q.text) for q in quotes}
    result: list[ScoredSentence] = []
    amendments: list[Amendment] = []
    for quote in quotes:
        result.append(quote)
        quoted = {(f.value, f.kind) for _, f in figures_of(quote.text)}
        if not quoted:
            continue
        for entry, sentence, was, now in _corrections_after(quote.hit.metadata, passages):
            words = normalise_space(sentence.text)
            if (was.value, was.kind) not in quoted or words in shown:
                continue
            shown.add(words)
            amendments.append(Amendment(len(result), was.text, now.text))
            result.append(sentence)
    return result, amendments


def _corrections_after(metadata: dict, passages: Passages):
    """Each (entry, sentence, as minuted, as corrected) of the same council and committee's minutes of a later
    meeting than the chunk `metadata` describes."""
    held = str(metadata.get("meeting_date") or "")
    if not held:
        return
    committee = committee_key(str(metadata.get("committee") or ""))
    for entry, start, end in passages.amending_sentences(council_key_of(metadata)):
        later = str(entry.metadata.get("meeting_date") or "")
        if later[:len(held)] <= held:
            continue  # not later, or a date given less exactly ('2023') that may be the same meeting's
        if committee and committee_key(str(entry.metadata.get("committee") or "")) != committee:
            continue
        for was, now in corrections_in(entry.text[start:end]):
            yield entry, _as_quote(entry, start, end), was, now


def _as_quote(entry: LexicalEntry, start: int, end: int) -> ScoredSentence:
    """A sentence of a chunk that retrieval did not find, as a quote: it scored nothing, as it was not read."""
    hit = Hit(entry.chunk_id, entry.text, entry.metadata, score=0.0)
    return ScoredSentence(hit, -1, start, end, score=0.0, coverage=0.0)
