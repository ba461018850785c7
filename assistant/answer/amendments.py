"""A named check: a figure quoted from minutes that the committee's next meeting corrected when it approved them.

A committee approves its minutes at its next meeting, sometimes 'subject to an amendment': 'the figure of 412
looked-after children reported in March should read 421'. The reader reads one sentence at a time and cannot know
that, so the superseded figure had been quoted, and led in bold, as if it stood. A false note would be worse: it
would tell a councillor the record was wrong. So a correction is read only where, and as, one is made:

- in the minutes of the same council and committee's next meeting that the index holds, both dated to the day and
  the committee known, and not naming another meeting's minutes ('the minutes of the meeting held on 20 June 2023')
  than the quote's, in the sentence or the item's title;
- in an item whose title says minutes (text.MINUTES_ITEM_WORDS; not matters arising, where updates since read
  alike), in a sentence that speaks of minutes, amending or correcting (text.AMENDING_STEMS), and does not ask;
- with the figure as minuted on one side of an amending phrase and a figure of the same kind, counting the same
  thing, on the other (text.AMENDED_TO_PHRASES, text.IN_PLACE_OF_PHRASES); a phrase without 'read' needs a word of
  the record beside a figure (text.RECORD_WORDS: 'should read 19 rather than 22'), as '30 beds rather than 24' is a
  change of plan;
- about what the quote is about: a correction naming minutes applies to a quote whose item has one of their numbers
  (or, numberless, when it names the quote's meeting); and it names the quote's minute, or shares two words with the
  quote near its figures ('412 looked-after children').

A number that labels ('minute 8', 'Quarter 2', '2023/24') or is a date or time ('14 March', '3rd May', '10 am') is
no figure. Such a sentence is quoted after the quote it corrects (or noted where the reader quoted it already, before
or after the quote), and the answer says so.
"""

from __future__ import annotations

from dataclasses import dataclass

from assistant.answer.passages import Passages
from assistant.index.lexical import LexicalEntry
from assistant.records import Amendment, Hit, ScoredSentence
from assistant.text import (AMENDED_TO_PHRASES, AMENDING_STEMS, ASKING_WORDS, IN_PLACE_OF_PHRASES, MINUTE_WORDS,
                            MINUTES_ITEM_WORDS, MONTH_NUMBERS, NUMBER_LABEL_WORDS, PERCENT, RECORD_WORDS, SCALE_WORDS,
                            committee_key, content_words, council_key_of, date_or_empty, fold, lexical_tokens,
                            normalise_space, number_token_spans, sentence_spans, token_value,
                            unit_after)

# How far (in words and numbers) the figure as minuted may stand before 'should read' ('412 looked-after children
# reported in March should read 421'); a figure from the other side of any amending phrase, and a word of the
# record from a figure; and the words either side of the correction's two figures that are compared with the quote's.
_FAR_BEFORE, _NEAR, _AROUND = 8, 3, 8
_SHARED_WORDS = 2


def _by_first_word() -> dict[str, list[tuple[list[str], bool, bool]]]:
    """Each amending phrase as its words, whether the correction follows it ('should read 421') or comes before it
    ('421 rather than 412'), and whether it speaks of the record itself ('read'), under its first word."""
    phrases: dict[str, list[tuple[list[str], bool, bool]]] = {}
    for phrase, correction_after in [(p, True) for p in AMENDED_TO_PHRASES] + [(p, False) for p in IN_PLACE_OF_PHRASES]:
        words = phrase.split()
        phrases.setdefault(words[0], []).append((words, correction_after, "read" in words))
    return phrases


_AMENDING_PHRASES = _by_first_word()
_AMENDING_WORDS = frozenset(" ".join(AMENDED_TO_PHRASES + IN_PLACE_OF_PHRASES).split()) | RECORD_WORDS


@dataclass(frozen=True)
class Figure:
    """A number in a sentence, with what gives its kind ('£', '%', a scale such as 'million', a rate's base such as
    'per 10000', a span of time such as 'week', or '' for a count): £3,000 is never 3,000 children, nor £1.2m £1.2,
    nor 12 weeks 12 children. And the word after it and its unit ('children' in '412 children'), '' when none."""

    value: float
    kind: str
    text: str  # as written, with its sign and unit: '£3,000', '£1.2m', '72 per cent', '65 per 10,000'
    noun: str = ""


def figures_of(text: str) -> list[tuple[int, Figure]]:
    """The figures of a text that a correction could be about, each with its place among its words and numbers.
    Not a year (2023), a day of a date ('14 March', 'March 14', '3rd May', '14.03.2023'), a time ('10 am'), part of a
    financial year, range or code ('2023/24', '3-4', 'Q2'), a rate's base ('per 10,000'), nor a number that a word
    just before it labels ('minute 8', 'Quarter 2')."""
    spans = number_token_spans(text)
    words = [token.lower() for token, _, _ in spans]
    found = []
    for i, (token, start, end) in enumerate(spans):
        value = token_value(token)
        if value is None or not token[0].isdigit():
            continue
        joined_before, joined_after = text[max(0, start - 2):start], text[end:end + 2]
        if joined_before[-1:].isalpha() or (joined_before[-1:] in ("/", ".", "-") and joined_before[:1].isdigit()) \
                or (joined_after[:1] in ("/", ".", "-") and joined_after[1:].isdigit()) or joined_after[:1] == "/":
            continue
        # a label touches its number ('minute 8', 'No. 5'), not across a comma ('In the quarter, 5 children')
        before = words[i - 1] if i and text[spans[i - 1][2]:start].strip() in ("", ".") else ""
        after = words[i + 1] if i + 1 < len(words) else ""
        attached = after if text[end:end + 1].isalpha() else ""  # '3rd', '£1.2m', '10am'
        if before in NUMBER_LABEL_WORDS or before == "per" or before in MONTH_NUMBERS or after in MONTH_NUMBERS \
                or after in ("am", "pm") or (attached and attached not in SCALE_WORDS):
            continue
        pound = text[:start].rstrip().endswith("\u00a3")
        if after == "per" and words[i + 2:i + 3] and words[i + 2][0].isdigit():
            unit, unit_words = "per " + words[i + 2].replace(",", ""), 2  # a rate: '65 per 10,000'
        else:
            unit, unit_words = unit_after(text, end, words, i + 1)
        if not (pound or unit) and 1900 <= value <= 2100 and token.isdigit():
            continue  # a year
        unit_end = (spans[i + unit_words][2] if unit_words else
                    end + text[end:].index("%") + 1 if unit == PERCENT else end)
        noun = words[i + unit_words + 1] if i + unit_words + 1 < len(words) else ""
        if not noun.isalpha() or text[unit_end:unit_end + 1].isalpha() or noun in _AMENDING_WORDS \
                or not lexical_tokens(noun):
            noun = ""  # what it counts is a word, not 'and', 'as' or 'should'
        shown = ("\u00a3" if pound else "") + " ".join(text[start:unit_end].split())
        found.append((i, Figure(value, ("\u00a3" if pound else "") + unit, shown, noun)))
    return found


def mentions_figure(text: str, figure: str) -> bool:
    """Whether a text gives the figure as a figure of the same kind ('412' in 'There were 412 children', not in
    '2,412', nor '£412' for '412')."""
    wanted = [(f.value, f.kind) for _, f in figures_of(figure)]
    return bool(wanted) and any((f.value, f.kind) in wanted for _, f in figures_of(text))


def corrections_in(sentence: str) -> list[tuple[Figure, Figure]]:
    """(as minuted, as corrected) for each figure the sentence corrects: '412 ... should read 421',
    '£2,500 rather than £3,000' after 'reads', 'was 213 and not 231 as stated'."""
    return [(was, now) for _, was, now in _corrections_read(sentence)]


def _corrections_read(sentence: str) -> list[tuple[tuple[int, int], Figure, Figure]]:
    """corrections_in, each with where the correction stands among the sentence's words and numbers (the first and
    last place of its two figures)."""
    words = [token.lower() for token, _, _ in number_token_spans(sentence)]
    if not ASKING_WORDS.isdisjoint(words) or sentence.rstrip().endswith("?"):
        return []
    numbered = figures_of(sentence)
    found = []
    for at, word in enumerate(words):
        for phrase, correction_after, of_the_record in _AMENDING_PHRASES.get(word, ()):
            if words[at:at + len(phrase)] != phrase:
                continue
            end = at + len(phrase)
            after = [(i, f) for i, f in numbered if end <= i < end + _NEAR]
            # the nearest figure of the same kind before the phrase: not '8 teams' in '8 teams ... 22 should read 19'
            before = [(i, f) for i, f in numbered if at - (_FAR_BEFORE if correction_after else _NEAR) <= i < at
                      and after and f.kind == after[0][1].kind]
            if not before or before[-1][1].value == after[0][1].value:
                continue
            (was_at, was), (now_at, now) = (before[-1], after[0]) if correction_after else (after[0], before[-1])
            if was.noun and now.noun and was.noun != now.noun:
                continue  # two things counted: '40 children ... should read 6 books each'
            beside = words[max(0, now_at - _NEAR):now_at] + words[max(0, was_at - _NEAR):was_at + _NEAR + 1]
            if of_the_record or not RECORD_WORDS.isdisjoint(beside):
                found.append(((min(was_at, now_at), max(was_at, now_at)), was, now))
    return found


def minutes_named(text: str) -> frozenset[str]:
    """The numbers of the minutes a text names ('Minute 52', 'Minute No. 52', 'minutes 14')."""
    words = [token for token, _, _ in number_token_spans(text)]
    named = set()
    for at, word in enumerate(words[:-1]):
        if word.lower() in MINUTE_WORDS:
            number = words[at + 2] if words[at + 1].lower() == "no" and at + 2 < len(words) else words[at + 1]
            if number[0].isdigit():
                named.add(number)
    return frozenset(named)


def approved_meetings(text: str) -> set[str]:
    """The days (or months) of the meetings whose minutes a text names: a date within a few words after 'held' or
    'meeting' ('the minutes of the meeting held on Tuesday, 14th March 2023', 'the meeting of 20/06/2023', 'the
    previous meeting (20 June 2023)'), as ISO dates. A date with no year names no meeting that can be checked."""
    words = [word.strip("(),;:.") for word in text.split()]
    days = set()
    for at, word in enumerate(words):
        if word.lower() not in ("held", "meeting"):
            continue
        for start in range(at + 1, min(at + 4, len(words))):
            date = next((day for size in (4, 3, 2, 1) if (day := _date_or_empty(words[start:start + size]))), "")
            if date:
                days.add(date)
                break
    return days


def _date_or_empty(words: list[str]) -> str:
    """The date some words give, with a year, as ISO ('' for none)."""
    text = " ".join(words)
    if not any(len(part) == 4 and part.isdigit() for part in text.replace("/", " ").replace("-", " ").split()):
        return ""
    return date_or_empty(text)


@dataclass(frozen=True)
class _Correction:
    """A sentence of a meeting's minutes that corrects a figure, as the check keeps it."""

    entry: LexicalEntry
    start: int
    end: int
    was: Figure
    now: Figure
    places: tuple[int, int]  # where its two figures stand among the sentence's words and numbers
    minute_numbers: frozenset[str]  # the minutes it names ('Minute 52' -> '52')
    approved: frozenset[str]  # the days of the meetings whose minutes it names

    @property
    def words_around(self) -> frozenset[str]:
        """The sentence's words (as lexical_tokens gives them) near its two figures, leaving out figures and the
        words of amending and of the record: what the figure counts ('looked-after children'), not the approval's
        own words ('meeting', 'record'), which lie further off."""
        tokens = [token for token, _, _ in number_token_spans(self.entry.text[self.start:self.end])]
        first, last = self.places
        near = [token for token in tokens[max(0, first - _AROUND):last + _AROUND + 1]
                if token.lower() not in _AMENDING_WORDS]
        return content_words(" ".join(near))


def later_amendments(quotes: list[ScoredSentence], passages: Passages) -> tuple[list[ScoredSentence], list[Amendment]]:
    """The quotes, each followed by any later sentence that corrects one of its figures, with the Amendments that
    say where those stand and what they correct. A correcting sentence the reader quoted anyway stays where it
    stands, and is noted there; none is quoted twice."""
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
    committee = committee_key(str(metadata.get("committee") or ""))
    figures = figures_of(quote.text)
    if len(held) != len("2023-03-14") or not committee or not figures:
        return []  # which meeting is next needs the day, and whose, the committee
    council = council_key_of(metadata)
    following = next((date for (of, date) in sorted(_meetings(council, passages))
                      if of == committee and len(date) == len(held) and date > held), "")  # a day, not "2023-06"
    corrections = _corrections_at(council, committee, following, passages) if following else []
    if not corrections:
        return []
    title = str(metadata.get("item_title") or "")
    # the quote's minute number: ModernGov's item number, or the one its title starts with ('35. Performance Report')
    numbered_as = str(metadata.get("item_number") or "").strip(". ") or (
        title.split()[0].strip(".") if title[:1].isdigit() else "")
    quoted_words = content_words(quote.text)
    found = []
    for correction in corrections:
        if correction.approved and held not in correction.approved:
            continue  # another meeting's minutes: the index lacks the meeting between
        if correction.minute_numbers and numbered_as not in correction.minute_numbers and (
                numbered_as or held not in correction.approved):
            # another minute's figure; or, where the quote's item gives no number, a minute of a meeting the
            # correction does not say is the quote's
            continue
        if not any((f.value, f.kind) == (correction.was.value, correction.was.kind) for _, f in figures):
            continue
        if numbered_as in correction.minute_numbers or len(quoted_words & correction.words_around) >= _SHARED_WORDS:
            found.append(correction)
    return found


def _meetings(council: str, passages: Passages) -> dict[tuple[str, str], list[LexicalEntry]]:
    """A council's chunks by (committee key, meeting date), dated ones only: a grouping of its chunks the first
    time, kept with the passages for the next question."""
    kept = passages.kept.get(("meetings", council))
    if kept is None:
        grouped: dict[tuple[str, str], list[LexicalEntry]] = {}
        for entry in passages.lexical.council_entries(council):
            if date := str(entry.metadata.get("meeting_date") or ""):
                grouped.setdefault((committee_key(str(entry.metadata.get("committee") or "")), date), []).append(entry)
        # kept whole once grouped: another question's thread asking meanwhile groups it too, never reads it half made
        kept = passages.kept[("meetings", council)] = grouped
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
            minute_numbers = minutes_named(text)
            approved = frozenset(approved_meetings(text) | approved_meetings(title))
            for places, was, now in _corrections_read(text):
                yield _Correction(entry, span.start, span.end, was, now, places, minute_numbers, approved)


def _as_quote(correction: _Correction) -> ScoredSentence:
    """A sentence of a chunk that retrieval did not find, as a quote: it scored nothing, as it was not read."""
    hit = Hit(correction.entry.chunk_id, correction.entry.text, correction.entry.metadata, score=0.0)
    return ScoredSentence(hit, -1, correction.start, correction.end, score=0.0, coverage=0.0)
