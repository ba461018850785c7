"""The extractive answer: the sentence of the minutes that answers the question, chosen by the trained reader.

Every candidate sentence of the items retrieved first gets the declared features of answer/candidates.py;
a cheap learned scorer keeps the likeliest few; the reader reads those with the question; a learned
combination of its score with the features gives each the probability that it answers. The likeliest is
quoted, and the second likeliest too when its probability clears a threshold fitted on validation data (at
most half the answers get one). Below the refusal threshold (also chosen on validation data) the answer is a
refusal. No language model: every sentence shown is a verbatim sentence of the minutes.
"""

from __future__ import annotations

import difflib
import json
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from assistant.answer.amendments import Figure, corrections_in, figures_of, later_amendments
from assistant.answer.candidates import (FEATURE_NAMES, Candidate, candidates, cut_off_at_item_end, feature_matrix,
                                        repeats_title, whole_sentence)
from assistant.answer.combine import ANSWERABILITY_INPUTS, Combination, answerability_inputs
from assistant.answer.terms import QuestionTerms
from assistant.answer.passages import Passages
from assistant.answer.reader import Reader, candidate_text
from assistant.records import Draft, Question, Retrieval, ScoredSentence
from assistant.retrieve.question import councils_named, indexed_as
from assistant.text import (council_key, council_key_of, first_few, lexical_tokens, mentioned_years, missing_names,
                            name_matches, named_councils, names_in, normalise_space, number_tokens,
                            question_names, readable_date, token_value, years_asked_about)
from assistant.verify.guard import years_of_figures

NOTHING_RELEVANT = "Nothing in the indexed minutes is relevant to this question."
NOT_STATED = "The minutes found do not state what was asked."


@dataclass(frozen=True)
class Calibration:
    """What the training script fitted: the cheap scorer, the combination, the refusal threshold and the
    second quote's threshold."""

    cheap_scorer: Combination  # which candidates the reader reads
    combination: Combination  # which of them answers
    answerability: Combination  # whether any does
    refusal_threshold: float
    candidates_read: int
    # The second likeliest sentence is quoted too when its probability is at least this share of the best's
    # (fitted so that at most half of the answerable validation questions get one); infinite: never, as for a
    # folder fitted before it existed.
    second_quote_ratio: float = math.inf

    @classmethod
    def load(cls, folder: Path) -> "Calibration":
        """The calibration `train` wrote beside its reader. A ModelError, saying what to do, when it is missing,
        unreadable, or fitted on other features than this version computes (a reader trained by an older one)."""
        from assistant.errors import ModelError

        path = folder / "calibration.json"
        retrain = ("Retrain it with `python -m assistant.answer.train --out DIR` and set ASSISTANT_READER to DIR, or "
                   "unset ASSISTANT_READER to use the shipped reader.")
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            # "stage1" is the cheap scorer's key in files already written.
            calibration = cls(Combination.from_dict(data["stage1"]), Combination.from_dict(data["combination"]),
                              Combination.from_dict(data["answerability"]), float(data["refusal_threshold"]),
                              int(data["candidates_read"]),
                              float(data.get("second_quote_ratio", math.inf)))
        except OSError as exc:
            raise ModelError(f"The reader's calibration {path} cannot be read ({exc.strerror or exc}).",
                             retrain) from None
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            what = f"lacks {exc}" if isinstance(exc, KeyError) else f"is not one `train` wrote ({exc})"
            raise ModelError(f"The reader's calibration {path} {what}.", retrain) from None
        if (calibration.cheap_scorer.names != FEATURE_NAMES or calibration.answerability.names != ANSWERABILITY_INPUTS
                or calibration.combination.names != FEATURE_NAMES + ("reader",)):
            raise ModelError(f"The reader's calibration {path} was fitted on other features than this version of "
                             "the assistant computes: the reader was trained by another version.", retrain)
        return calibration


def missing_names_check(question: Question, found: list[Candidate], passages: Passages) -> list[str]:
    """A named check: the proper names and acronyms of the question that none of the items read mentions (in its
    text, council, committee, title or meeting date). That suggests the minutes found are about something else;
    it is an input of the answerability model (how much it counts is fitted on validation, not a veto: a name
    can be missing because it is spelt another way), and a refusal's explanation when there is one."""
    items = {c.hit.source_id: c.hit.metadata for c in found}
    councils = [str(m.get("council", "")) for m in items.values()]
    described = " ".join(f"{m.get('committee', '')} {m.get('item_title', '')} {meeting_date_words(m)}"
                         for m in items.values())
    texts = " ".join(entry.text for source_id in items for entry in passages.chunks_of(source_id))
    return missing_names(question.text, f"{described} {texts}", councils)


def names_the_index_lacks(missing: list[str], passages: Passages) -> list[str]:
    """Of the names missing from the items read, those no indexed minutes mention at all: a council or place the
    index does not hold, so nothing found can be about it. This stays a veto, because no training question names
    a place the index lacks and the learned weight cannot know the case. Acronyms are left to the learned input
    (a council's initials need not appear in its minutes)."""
    return [name for name in missing
            if not name.isupper() and (tokens := lexical_tokens(name))
            and not any(passages.lexical.knows(token) for token in tokens)]


def councils_the_index_lacks(question: Question, passages: Passages, answering_item: str = ""
                             ) -> list[tuple[str, str, bool]]:
    """A named check: the UK councils (of the shipped directory) the question names whose minutes the index does
    not hold and some word of whose names no indexed minutes hold. Each word is matched as it is, not by its first
    four letters as other names are: 'Cardiff' had passed as 'Cardigan', and a question about Cardiff was
    answered from another council's minutes. A council named otherwise than an indexed one ('Kingston upon Hull'
    for Hull City Council) is the indexed one. Another council whose name holds an indexed council's (South
    Gloucestershire, where Gloucestershire's minutes are indexed) is lacking though the minutes hold its words; so is
    any council not indexed that the item to be quoted (`answering_item`) does not name: 'How many children are
    looked after in Nottinghamshire?' had been answered with Bridgend's count, as other minutes name Nottinghamshire
    Police, where a question about Essex children placed in Thurrock is answered from Thurrock's item that names
    Essex. The last of each (key, name, whether to say the index holds no minutes of it, rather than that no
    minutes mention it)."""
    from assistant.ingest.moderngov.directory import directory_place_names, directory_short_names

    places, short_names = directory_place_names(), directory_short_names()
    indexed = passages.lexical.council_keys
    lacking = []
    for key in councils_named(question.text, set(places) | indexed, initialled=indexed):
        if key in indexed or indexed_as(key, indexed, places):
            continue
        set_apart = any(name_matches(key, k) or name_matches(k, key) for k in indexed)
        # Minutes that call it by its short name mention it too ('children placed in Redcar').
        names = [key] + [short for short, of_key in short_names.items() if of_key == key]
        if set_apart or not any(all(passages.lexical.knows_exactly(token) for token in lexical_tokens(name))
                                for name in names):
            lacking.append((key, places.get(key, key), set_apart))
        elif answering_item and not any(named_councils(entry.text, [key], short_names=short_names)
                                        for entry in passages.chunks_of(answering_item)):
            lacking.append((key, places.get(key, key), True))
    return lacking


def _indexed_councils_like(names: list[str], question: str, passages: Passages) -> str:
    """' Did you mean Gateshead Council?' for a name no minutes mention that is spelt much as an indexed council
    is ('Gatshead'), as a council filter's suggests similar names; else ''."""
    close = list(dict.fromkeys(council for _, council in _spelt_as_indexed_councils(names, question, passages)))
    return f" Did you mean {first_few(close)}?" if close else ""


def _spelt_as_indexed_councils(names: list[str], question: str, passages: Passages) -> list[tuple[str, str]]:
    """Each name spelt much as an indexed council is, with that council's name: ('Gatshead', 'Gateshead Council').
    Never a person's name, after a title ('Councillor Dalton' is not Halton), nor another UK council's, spelt right
    (Calderdale is not a misspelt Allerdale)."""
    from assistant.ingest.moderngov.directory import directory_place_names

    councils = passages.lexical.council_names_by_key
    people = names_in(question)
    places = directory_place_names()
    return [(name, councils[key]) for name in names if name.split()[0] not in people and council_key(name) not in places
            for key in difflib.get_close_matches(council_key(name), list(councils), n=1, cutoff=SPELT_ALIKE)]


def misspelt_councils(question: str, passages: Passages, answering_council: str) -> list[str]:
    """A named check: the question's names that no indexed minutes hold as written, spelt much as an indexed council
    is ('Rotheram', 'Wolverhamton'), where the item to be quoted is not that council's (`answering_council`, its
    name). By the first four letters by which other names are matched, 'Rotheram' is known to the minutes (they
    hold Rotherham), so names_the_index_lacks passes it; yet 'How many looked after children did Rotheram have?'
    was answered with Middlesbrough's count, whether or not Rotherham's items were read beside Middlesbrough's.
    Refused, with the council meant suggested, as for a name no minutes mention."""
    # Each name once, as a refusal names it: 'Stoke-on-Trent and Burton upon Trent' give 'Trent' twice.
    unwritten = [name for name in dict.fromkeys(question_names(question)) if not name.isupper()
                 and (tokens := lexical_tokens(name)) and not all(passages.lexical.knows_exactly(token)
                                                                  for token in tokens)]
    return [name for name, council in _spelt_as_indexed_councils(unwritten, question, passages)
            if council_key(council) != council_key(answering_council)]


# How alike (difflib's ratio) a name must be spelt to an indexed council's to be suggested: 'Gatshead' and
# 'Gateshead' are 0.94, 'Durhum' and 'Durham' 0.83; 'Death' and 'Bath' 0.67.
SPELT_ALIKE = 0.8


def years_the_minutes_lack(question: Question, found: list[Candidate], passages: Passages
                           ) -> tuple[list[int], list[str]]:
    """A named check: the years the question asks about ('in 2025', 'at 31 March 2019') when none of them is
    covered by the indexed minutes of the councils it names (LexicalIndex.council_mentions_year); without a
    council named, of every council whose minutes were found. A figure from minutes that never mention a year is
    no figure of that year, yet the reader, which reads one sentence at a time, had answered 'How many ... in 2025?'
    with 2022's count. With the names of the councils searched. A question about two years, one covered, is
    answered. Years that bound a span ('since 2019') are no year asked about."""
    asked = years_asked_about(question.text)
    if not asked:
        return [], []
    names = passages.lexical.council_names_by_key
    councils = list(question.councils) or list(dict.fromkeys(council_key_of(c.hit.metadata) for c in found))
    if any(passages.lexical.council_mentions_year(key, year) for key in councils for year in asked):
        return [], []
    return list(asked), sorted({names.get(key) or key for key in councils})


def draft_answer(question: Question, retrieval: Retrieval, passages: Passages, reader: Reader,
                 calibration: Calibration) -> Draft:
    """The sentence or two to quote, with the short answer and the confidence, or why the minutes do not answer."""
    found = candidates(retrieval, passages)
    if not found:
        return Draft([], "no_evidence", NOTHING_RELEVANT)
    terms = QuestionTerms(question, passages.lexical)
    features = feature_matrix(question, terms, found)
    cheap = calibration.cheap_scorer.scores(features)
    top = np.argsort(-cheap, kind="stable")[:calibration.candidates_read]
    texts = [candidate_text(found[i].text, str(found[i].hit.metadata.get("item_title", ""))) for i in top]
    readings = reader.read(question.text, [" ".join(t.split()) for t in texts])
    inputs = np.column_stack([features[top], [r.logit for r in readings]])
    probabilities = calibration.combination.probabilities(inputs)
    best = int(np.argmax(probabilities))
    missing = missing_names_check(question, found, passages)
    answerability = answerability_inputs(inputs[:, -1], probabilities, features[top],
                                         np.asarray([r.span_margin for r in readings]), bool(missing))
    confidence = float(calibration.answerability.probabilities(np.asarray([answerability]))[0])
    quote = _scored(found[top[best]], float(probabilities[best]), features[top[best]])
    # The named checks refuse what the reader would answer; when it refuses itself, they say why more plainly
    # ('The index holds no minutes of Suffolk County Council.') than that the minutes do not say, or do not cover it.
    named = named_checks_refusal(question, missing, found, str(found[top[best]].hit.source_id), passages)
    if confidence < calibration.refusal_threshold and not features[:, FEATURE_NAMES.index("coverage")].any():
        return Draft([], "no_evidence", named or NOTHING_RELEVANT, confidence=confidence, best=quote)
    if confidence < calibration.refusal_threshold:
        explanation = named or (f"The minutes found do not mention {', '.join(missing)}." if missing else NOT_STATED)
        return Draft([], "not_stated", explanation, confidence=confidence, best=quote)
    if named:
        return Draft([], "not_stated", named, confidence=confidence, best=quote)
    # chosen_quotes puts `best` first, and a question for the latest figure leads with the newest meeting's (with
    # `best` after it when that differs); the same sentence found again in another item (boilerplate) is not
    # quoted twice.
    # A piece of a sentence too long for one chunk is quoted as its whole sentence (whole_sentence), first, so
    # that two pieces of one sentence are not quoted twice.
    order = chosen_quotes(probabilities, calibration.second_quote_ratio)
    if question.asks_latest and not question.names_several_councils:  # a comparison keeps the reader's order
        newest = newest_answer(probabilities, calibration.second_quote_ratio,
                               [str(found[i].hit.metadata.get("meeting_date", "")) for i in top])
        order = [newest] + [i for i in order if i != newest][:1]
    lead = order[0]
    chosen = [_scored(found[top[i]], float(probabilities[i]), features[top[i]]) for i in order]
    quotes = []
    for sentence in (whole_sentence(q, passages) for q in chosen):
        if all(normalise_space(sentence.text) != normalise_space(q.text) for q in quotes):
            quotes.append(sentence)
    # The short answer was read in the piece; the rest of its sentence may take it back ('95% ... but that figure
    # was later found to be wrong'), so a widened quote leads with no short answer.
    widened = quotes[0].text != chosen[0].text
    # Nor does a quote whose words the minutes' text cuts off, nor a heading that only repeats the item's title.
    unsure = widened or cut_off_at_item_end(quotes[0], passages) or repeats_title(quotes[0])
    short_answer = None if unsure else _short_answer(" ".join(texts[lead].split()), readings[lead].short_answer)
    # A figure that the next meeting corrected is quoted with the correction, and never leads in bold; nor does the
    # figure a quoted correction replaces ('412' of '412 ... should read 421').
    quotes, amendments = later_amendments(quotes, passages)
    corrected = {(figure.value, figure.kind) for amendment in amendments for _, figure in figures_of(amendment.was)}
    corrected |= {(was.value, was.kind) for quoted in quotes for was, _ in corrections_in(quoted.text)}
    given = [figure for _, figure in figures_of(short_answer)] if short_answer else []
    if short_answer and not given and short_answer.strip().isdigit():
        # bare, a figure in the range of years ('2000', read from '2000 hours') is taken for a year by figures_of
        given = [Figure(float(short_answer), "", short_answer.strip())]
    # a bare '72' read from its quote's corrected '72 per cent' is that figure; '72 children', or a 72 of another
    # quote, is not
    bare = len(given) == 1 and not given[0].kind and given[0].text == short_answer.strip()
    superseded = corrected | ({(figure.value, "") for _, figure in figures_of(quotes[0].text)
                               if (figure.value, figure.kind) in corrected} if bare else set())
    if short_answer and (restates_question(short_answer, question.text)
                         or of_another_year(short_answer, quotes[0].text, question.text)
                         or any((figure.value, figure.kind) in superseded for figure in given)):
        short_answer = None
    return Draft(quotes, short_answer=short_answer, confidence=confidence, best=quote, amendments=tuple(amendments))


def named_checks_refusal(question: Question, missing: list[str], found: list[Candidate], answering_item: str,
                         passages: Passages) -> str:
    """What the named checks say of a question the minutes cannot answer, or '': names no indexed minutes mention
    (names_the_index_lacks, misspelt_councils), councils whose minutes are not indexed (councils_the_index_lacks,
    given the item that would be quoted), years the minutes of the councils asked about never mention
    (years_the_minutes_lack)."""
    from assistant.ingest.moderngov.directory import directory_short_names

    unknown = names_the_index_lacks(missing, passages)
    answering_council = next((str(entry.metadata.get("council", ""))
                              for entry in passages.chunks_of(answering_item)), "")
    unknown += [name for name in misspelt_councils(question.text, passages, answering_council) if name not in unknown]
    said = {council_key(name) for name in unknown}  # 'Caerdydd' as the question gives it, not also 'Cardiff'
    short_names = directory_short_names()
    said |= {short_names[key] for key in said if key in short_names}  # 'Newark', not also 'Newark and Sherwood'
    councils = [(place, named_within) for key, place, named_within
                in councils_the_index_lacks(question, passages, answering_item) if key not in said]
    unknown += [place for place, named_within in councils if not named_within]
    if unknown:
        return (f"The indexed minutes never mention {', '.join(unknown)}."
                f"{_indexed_councils_like(unknown, question.text, passages)}")
    if councils:  # their words are in the minutes ('families in Surrey Heath'), their council's minutes are not
        return f"The index holds no minutes of {', '.join(place for place, _ in councils)}."
    years, councils_searched = years_the_minutes_lack(question, found, passages)
    if years:
        return (f"The indexed minutes of {first_few(councils_searched)} never mention "
                f"{' or '.join(map(str, years))}.")
    return ""


def restates_question(short_answer: str, question: str) -> bool:
    """Whether a short answer says nothing the question does not ('26' for 'Where were caseloads over 26
    rising?', 'three key objectives' for 'What were the three key objectives?'): no answer to lead with."""
    said = set(lexical_tokens(short_answer))
    return not said or said <= set(lexical_tokens(question))


def of_another_year(short_answer: str, sentence: str, question: str) -> bool:
    """Whether the short answer gives a figure that its sentence ties to another year than any the question asks
    about ('284' for a question about 2023, where the minutes say 'fell from 310 in 2021 to 284 in 2022'): the quote
    is there to be read, but no figure to lead with in bold."""
    asked = set(mentioned_years(question))
    # the year asked for itself is no figure of another year, but an amount written as one ('2,023 families') is
    wanted = {value for token in number_tokens(short_answer) if (value := token_value(token)) is not None
              and not (token.isdigit() and value in asked)}
    if not asked or not wanted:
        return False
    tied: dict[float, list[frozenset[int]]] = {}
    for value, years in years_of_figures(sentence):
        if value in wanted and years is not None:
            tied.setdefault(value, []).append(years)
    return any(not any(asked & years for years in groups) for groups in tied.values())


def newest_answer(probabilities: np.ndarray, second_quote_ratio: float, meeting_dates: list[str]) -> int:
    """For a question that asks for the latest figure: of the sentences the reader finds nearly as likely to answer
    as its best (at least `second_quote_ratio` of the best's probability, the hesitation that quotes a second
    sentence), the one from the newest meeting, the likeliest of that meeting's. The reader cannot know which
    meeting is newest: six meetings' counts of children in care read alike, and the oldest had led, undated."""
    best = int(np.argmax(probabilities))
    near = [best] + [i for i in range(len(probabilities))
                     if i != best and probabilities[i] >= second_quote_ratio * probabilities[best] > 0]
    return max(near, key=lambda i: (meeting_dates[i], probabilities[i], -i))


def chosen_quotes(probabilities: np.ndarray, second_quote_ratio: float) -> list[int]:
    """The likeliest sentence, and the second likeliest when the reader hesitates between them (its probability
    at least `second_quote_ratio` of the best's: two councils' figures, a decision and its date): the user sees
    both, each cited. Hesitation, not the second's own probability: on validation (cross-validated), at the
    same share of answers quoting two, the quotes held the answer for 0.846 of questions against 0.821."""
    order = np.argsort(-probabilities, kind="stable")
    hesitates = probabilities[order[0]] > 0 and second_to_best(probabilities) >= second_quote_ratio
    return [int(i) for i in order[:2 if hesitates else 1]]


def second_to_best(probabilities: np.ndarray) -> float:
    """The second likeliest sentence's probability as a share of the best's (0 without a second, or when no
    sentence is likely at all): what chosen_quotes compares with the ratio and what fitting the ratio sorts."""
    ordered = np.sort(probabilities)
    return float(ordered[-2] / ordered[-1]) if len(ordered) > 1 and ordered[-1] > 0 else 0.0


def _scored(chosen: Candidate, probability: float, features: np.ndarray) -> ScoredSentence:
    """A quote, scored by the fitted combination's probability that it answers (the answer's confidence, whether
    any sentence answers, is the Draft's)."""
    return ScoredSentence(chosen.hit, chosen.item_rank, chosen.start, chosen.end, probability,
                          float(features[FEATURE_NAMES.index("coverage")]))


def meeting_date_words(metadata: dict) -> str:
    """'2020-01-23' as 'January 2020': a question may name the month its meeting was held."""
    return readable_date(str(metadata.get("meeting_date", ""))[:7])


def _short_answer(text: str, span: tuple[int, int] | None) -> str | None:
    """The reader's short answer, when it lies in the sentence itself (not in the item header before it)."""
    if span is None:
        return None
    sentence_starts = text.find(" :: ") + 4 if " :: " in text else 0
    if span[0] < sentence_starts:
        return None
    return text[span[0]:span[1]] or None
