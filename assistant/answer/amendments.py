"""A named check: a figure quoted from minutes that a later meeting corrected when it approved them.

A committee approves its minutes at its next meeting, sometimes 'subject to an amendment': 'the figure of 412
looked-after children reported in March should read 421'. The reader reads one sentence at a time and cannot know
that, so the superseded figure had been quoted, and led in bold, as if it stood.

A correction is read only where one is made: in the minutes of the same council and committee's next meeting, in
the item that approves the last meeting's minutes or takes matters arising from them (text.MINUTES_ITEM_WORDS), in
a sentence that speaks of minutes, amending or correcting (text.AMENDING_STEMS), with the figure as minuted on one
side of an amending phrase (text.AMENDED_TO_PHRASES, text.IN_PLACE_OF_PHRASES) and a figure of the same kind on the
other. It must be about what the quote is about: the correction names the quote's minute number, or the word after
the figure is the same in both ('412 looked-after ...'), or the two sentences share at least two words. 'Rather
than' and the like must come with a word of the record ('should read 19 rather than 22'; text.RECORD_WORDS): '30
beds rather than 24' under matters arising is a change of plan. A number that labels ('minute 8', 'Quarter 2',
'2023/24') is no figure, and a sentence that asks (text.ASKING_WORDS) corrects nothing. Such a sentence is quoted
after the one it corrects, and the answer says so.
"""

from __future__ import annotations

from dataclasses import dataclass

from assistant.answer.passages import Passages
from assistant.index.lexical import LexicalEntry
from assistant.records import Amendment, Hit, ScoredSentence
from assistant.text import (AMENDED_TO_PHRASES, AMENDING_STEMS, ASKING_WORDS, IN_PLACE_OF_PHRASES, MINUTES_ITEM_WORDS,
                            MONTH_NUMBERS, NUMBER_LABEL_WORDS, RECORD_WORDS, committee_key, council_key_of, fold,
                            lexical_tokens, normalise_space, number_token_spans, sentence_spans, token_value)

# How far (in words and numbers) the figure as minuted may stand before 'should read' ('412 looked-after children
# reported in March should read 421'), and a figure from the other side of any amending phrase.
_FAR_BEFORE, _NEAR = 8, 3
# Each amending phrase as its words, and whether the correction follows it ('should read 421') or comes before it
# ('421 rather than 412'), under its first word.
def _by_first_word() -> dict[str, list[tuple[list[str], bool]]]:
    phrases: dict[str, list[tuple[list[str], bool]]] = {}
    for phrase, correction_after in [(p, True) for p in AMENDED_TO_PHRASES] + [(p, False) for p in IN_PLACE_OF_PHRASES]:
        phrases.setdefault(phrase.split()[0], []).append((phrase.split(), correction_after))
    return phrases


_AMENDING_PHRASES = _by_first_word()
_SHARED_WORDS = 2  # words a correction shares with the quote, when neither names the other's minute nor noun


@dataclass(frozen=True)
class Figure:
    """A number in a sentence, with the sign that gives its kind ('£', '%', '£m', ''): £3,000 is never 3,000
    children, nor £1.2m £1.2; and the word after it ('looked' in '412 looked-after children'), '' when none."""

    value: float
    kind: str
    text: str  # as written, with its sign: '£3,000', '£1.2m', '72 per cent'
    next_word: str


def figures_of(text: str) -> list[tuple[int, Figure]]:
    """The figures of a text that a correction could be about, each with its place among its words and numbers:
    not a year (2023), a day of a date ('14 March'), part of a financial year ('2023/24'), nor a number that a word
    before it labels ('minute 8')."""
    spans = number_token_spans(text)
    found = []
    for i, (token, start, end) in enumerate(spans):
        value = token_value(token)
        if value is None or not token[0].isdigit() or "/" in (text[start - 1:start], text[end:end + 1]):
            continue
        before = spans[i - 1][0].lower() if i else ""
        after = spans[i + 1][0].lower() if i + 1 < len(spans) else ""
        if before in NUMBER_LABEL_WORDS or after in MONTH_NUMBERS:
            continue
        pound = text[:start].rstrip().endswith("£")
        rest = text[end:].lstrip().lower()
        percent = rest.startswith("%") or rest.startswith("per cent")
        suffix = text[end:end + 1].lower()
        multiple = suffix if suffix in ("m", "k") and not text[end + 1:end + 2].isalpha() else ""  # '£1.2m
        if not (pound or percent) and 1900 <= value <= 2100 and token.isdigit():
            continue  # a year
        kind = ("£" if pound else "") + multiple + ("%" if percent else "")
        shown = ("£" if pound else "") + token + multiple + ("%" if rest.startswith("%") else " per cent" if percent
                                                              else "")
        # the word after the figure and its sign, where it runs on in the same clause
        next_word = "" if percent or multiple or text[end:end + 1] not in (" ", "\u00a0", "-") else after
        found.append((i, Figure(value, kind, shown, next_word if next_word.isalpha() else "")))
    return found


def mentions_figure(text: str, figure: str) -> bool:
    """Whether a text gives the figure as a figure of the same kind ('412' in 'There were 412 children', not in
    '2,412', nor '£412' for '412')."""
    wanted = [(f.value, f.kind) for _, f in figures_of(figure)]
    return bool(wanted) and any((f.value, f.kind) in wanted for _, f in figures_of(text))


def corrections_in(sentence: str) -> list[tuple[Figure, Figure]]:
    """(as minuted, as corrected) for each figure the sentence corrects: '412 ... should read 421',
    '£2,500 rather than £3,000', 'was 213 and not 231'."""
    words = [token.lower() for token, _, _ in number_token_spans(sentence)]
    numbered = figures_of(sentence)
    of_the_record = not RECORD_WORDS.isdisjoint(words)
    if not ASKING_WORDS.isdisjoint(words) or sentence.rstrip().endswith("?"):
        return []
    found = []
    for at, word in enumerate(words):
        for phrase, replacement_after in _AMENDING_PHRASES.get(word, ()):
            if words[at:at + len(phrase)] != phrase or not (replacement_after or of_the_record):
                continue
            end = at + len(phrase)
            after = [f for i, f in numbered if end <= i < end + _NEAR]
            # the nearest figure of the same kind before the phrase: not '8 teams' in '8 teams ... 22 should read 19'
            before = [f for i, f in numbered if at - (_FAR_BEFORE if replacement_after else _NEAR) <= i < at
                      and after and f.kind == after[0].kind]
            if before and before[-1].value != after[0].value:
                found.append((before[-1], after[0]) if replacement_after else (after[0], before[-1]))
    return found


@dataclass(frozen=True)
class _Correction:
    """A sentence of later minutes that corrects a figure, as the check keeps it for a council."""

    entry: LexicalEntry
    start: int
    end: int
    was: Figure
    now: Figure
    minute_numbers: frozenset[str]  # the minutes it names ('Minute 52' -> '52')

    @property
    def words(self) -> frozenset[str]:
        """Its words as lexical_tokens gives them, numbers aside (made only for a correction of a quoted figure)."""
        return frozenset(word for word in lexical_tokens(self.entry.text[self.start:self.end]) if not word[0].isdigit())


def later_amendments(quotes: list[ScoredSentence], passages: Passages) -> tuple[list[ScoredSentence], list[Amendment]]:
    """The quotes, each followed by any later sentence that corrects one of its figures, with the Amendments that
    say where those stand and what they correct. A correcting sentence the reader quoted anyway moves to stand
    after the quote it corrects; none is quoted twice."""
    by_words = {normalise_space(q.text): q for q in quotes}
    placed: dict[str, int] = {}  # each sentence quoted, by its words: where it stands
    result: list[ScoredSentence] = []
    amendments: list[Amendment] = []
    for quote in quotes:
        words = normalise_space(quote.text)
        if words in placed:
            continue
        placed[words] = len(result)
        result.append(quote)
        for correction in _corrections_of(quote, passages):
            sentence = normalise_space(correction.entry.text[correction.start:correction.end])
            if sentence not in placed:
                placed[sentence] = len(result)
                result.append(by_words.get(sentence) or _as_quote(correction))
            amendment = Amendment(placed[sentence], correction.was.text, correction.now.text)
            if amendment not in amendments:  # quoted before its figure's quote: noted all the same
                amendments.append(amendment)
    return result, amendments


def _corrections_of(quote: ScoredSentence, passages: Passages) -> list[_Correction]:
    """The corrections, in the minutes of the same council and committee's next meeting, of a figure of the quote
    that are about what the quote is about. Minutes are approved, and corrected, at the committee's next meeting: a
    later one's correction of the same figure is of other minutes."""
    metadata = quote.hit.metadata
    held = str(metadata.get("meeting_date") or "")
    figures = figures_of(quote.text)
    if not held or not figures:
        return []
    committee = committee_key(str(metadata.get("committee") or ""))
    council = council_key_of(metadata)
    following = next((date for (of, date) in sorted(_meetings(council, passages))
                      if of == committee and date[:len(held)] > held), "")
    corrections = _corrections_at(council, committee, following, passages) if following else []
    if not corrections:
        return []
    title = str(metadata.get("item_title") or "")
    numbered_as = title.split(".")[0].strip() if title[:1].isdigit() else ""  # '35. Performance Report' -> '35'
    quoted_words = frozenset(word for word in lexical_tokens(quote.text) if not word[0].isdigit())
    found = []
    for correction in corrections:
        for _, figure in figures:
            if (figure.value, figure.kind) != (correction.was.value, correction.was.kind):
                continue
            if numbered_as and numbered_as in correction.minute_numbers or (
                    figure.next_word and figure.next_word == correction.was.next_word) or (
                    len(quoted_words & correction.words) >= _SHARED_WORDS):
                found.append(correction)
                break
    return found


def _meetings(council: str, passages: Passages) -> dict[tuple[str, str], list[LexicalEntry]]:
    """A council's chunks by (committee key, meeting date), dated ones only: a grouping of its chunks the first
    time, kept with the passages for the next question. A date given less exactly ('2023') sorts before the days
    of its year, and is never taken for a meeting after one of them."""
    kept = passages.kept.get(("meetings", council))
    if kept is None:
        kept = passages.kept[("meetings", council)] = {}
        for entry in passages.lexical.council_entries(council):
            if date := str(entry.metadata.get("meeting_date") or ""):
                kept.setdefault((committee_key(str(entry.metadata.get("committee") or "")), date), []).append(entry)
    return kept


def _corrections_at(council: str, committee: str, date: str, passages: Passages) -> list[_Correction]:
    """Every correction of a figure in one meeting's minutes: a plain search of its chunks the first time it is
    wanted, kept with the passages."""
    key = ("corrections", council, committee, date)
    if key not in passages.kept:
        passages.kept[key] = list(_search(_meetings(council, passages).get((committee, date), [])))
    return passages.kept[key]


def _search(entries: list[LexicalEntry]):
    phrases = AMENDED_TO_PHRASES + IN_PLACE_OF_PHRASES
    for entry in entries:
        title = fold(str(entry.metadata.get("item_title") or ""))
        if not any(word in title for word in MINUTES_ITEM_WORDS):
            continue
        for span in sentence_spans(entry.text):
            text = span.of(entry.text)
            lowered = " ".join(text.lower().split())
            if not any(phrase in lowered for phrase in phrases) or not any(stem in lowered for stem in AMENDING_STEMS):
                continue
            spans = number_token_spans(text)
            minute_numbers = frozenset(number for (word, _, _), (number, _, _) in zip(spans, spans[1:])
                                       if word.lower() in ("minute", "minutes") and number[0].isdigit())
            for was, now in corrections_in(text):
                yield _Correction(entry, span.start, span.end, was, now, minute_numbers)


def _as_quote(correction: _Correction) -> ScoredSentence:
    """A sentence of a chunk that retrieval did not find, as a quote: it scored nothing, as it was not read."""
    hit = Hit(correction.entry.chunk_id, correction.entry.text, correction.entry.metadata, score=0.0)
    return ScoredSentence(hit, -1, correction.start, correction.end, score=0.0, coverage=0.0)
