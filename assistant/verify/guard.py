"""The grounding guard: is a generated sentence supported by the minutes it cites?

A sentence passes only if every figure in it appears in a cited block that gives one of its years too (each part of
it before its own markers, in a block those markers cite; the figures of one part in one block, unless each has its
own year), with the year, the unit and the 'to' or 'by' the minutes
give it, every council it names is a cited item's council, it uses no character the minutes do not that could hide
a word or a figure from these checks, the words it puts in quotation marks are the cited minutes' own, and it is
close in meaning and wording to a cited sentence. Only a
copy of whole sentences passes at sight: a copied fragment ("adoption orders had risen" out of "the Panel
did not accept that adoption orders had risen") is judged like any other sentence. A near copy that turns its
source round scores as high as the copy, so each clause is also read word by word beside the closest clause of the
cited text: a word of conflicting sense ('rising' for 'reducing', 'lower' for 'better'), a denial dropped or added, a
figure moved to another thing the minutes name, or a projection stated as fact (a figure, or a change the minutes
only expect), fails the sentence outright.
"""

from __future__ import annotations

import difflib
import functools
import re
import string
import unicodedata
from typing import Callable, Mapping, Sequence

import numpy as np

from assistant.index.embedder import Embedder
from assistant.records import Hit, Verdict, marker_text
from assistant.text import (AMOUNT_VERBS, AMOUNT_WORDS, APPROXIMATING_WORDS, ARTICLES, ATTACHING_WORDS,
                            BACK_REFERENCE_WORDS, BE_OR_GO, BUDGET_WORDS, CONFLICTING_SENSES, CONTRAST_WORDS,
                            DEMONSTRATIVES, FRACTION_PARTS, FUNCTION_WORDS, HEDGING_WORDS, MONTH_NUMBERS, NEGATIONS,
                            NOT_A_COUNT_AFTER, NO_CITATION, PART_JOINING_WORDS, PERCENT, PHRASAL_VERBS, PLAN_WORDS,
                            PROJECTING_BEFORE_TO, PROJECTING_WORDS, RELATING_OPENERS, SENSES, SPEECH_VERBS,
                            TARGET_ENDS, TARGET_MODALS, TARGET_WORDS, TIME_UNITS, UNBOUND, UNIT_WORDS, WHOLE_OF_PARTS,
                            WHOLE_WORD_SENSES, YEAR_COMPARING_WORDS, YEAR_TYING_WORDS, Span, addresses_in,
                            content_words, figure_units, figures, lexical_tokens, mentioned_years, missing_names,
                            named_councils, names_in, normalise_space, number_token_spans, number_tokens,
                            number_values, sentence_spans, stem, strip_bullet, token_value)

_MARKER = re.compile(r"\s*\[\s*(\d+(?:\s*,\s*\d+)*)\s*\]")

DEFAULT_THRESHOLD = 0.55
SIMILARITY_WEIGHT = 0.6


_CLAUSE_MARKS = ",;:\u2013\u2014"


def _figure_problem(claim: str, source: str) -> str:
    """A number the claim gives that the source does not (words count: 'Twelve' is 12), or a number the
    source gives for something else ('3 permanent' where the minutes say '5 permanent ... 3 agency')."""
    source_values = number_values(source)
    source_words, source_following = [w.lower() for w in number_tokens(source)], _words_following(source)
    claim_words, claim_following = [w.lower() for w in number_tokens(claim)], _words_following(claim)
    available = {v for v, _ in source_values}
    for value, position in number_values(claim):
        if value not in available:
            return f"the figure {claim_words[position]} is not in the cited minutes"
        following = claim_following[position]
        # A short word that says what is counted counts ('3 new carers' where the minutes say '5 new ... 3 returning');
        # a common one ('of', 'out', 'and') says nothing of it.
        if len(following) <= 2 or not following.isalpha() or following in UNBOUND or not content_words(following):
            continue
        # A short word is matched whole ('new' is not 'newly'), a longer one by its first five letters.
        same = (lambda word: word == following) if len(following) <= 3 else (
            lambda word, prefix=following[:5]: word.startswith(prefix))
        places = [p for v, p in source_values if v == value]
        near = any(same(source_following[p]) for p in places)
        if not near and _other_number_near(source_values, source_words, source_following, same, value, places):
            return f"in the cited minutes, {claim_words[position]} is not the figure for {following}"
    return ""


def _words_following(text: str) -> list[str]:
    """Each of the text's number_tokens, lower-cased, with the word after it in its sentence: '' for the last word of
    a sentence or a line ('... in February 2018.\n\nChildren on a plan': 2018 counts no children)."""
    spans = number_token_spans(text)
    following = []
    for (_, _, end), (word, start, _) in zip(spans, spans[1:]):
        apart = any(mark in text[end:start] for mark in ".!?\n")
        following.append("" if apart else word.lower())
    return following + [""] * bool(spans)


def _other_number_near(source_values, source_words: list[str], source_following: list[str],
                       same: Callable[[str], bool], value: float, places: list[int]) -> bool:
    """Does a different number stand right before the word in the source, but as the whole that the figure is a
    part of, the figure given with no group of its own ('Of the 40 new referrals, 12 were from schools', '12 of the
    40 new referrals': 12 new referrals were; not 'A total of 5 new carers and 3 returning carers', nor 'nine out of
    ten carers')? `source_following` gives each source word's next in its sentence."""

    def a_whole_of_it(at: int) -> bool:
        before = source_words[max(0, at - 2):at] or [""]  # a figure opening the text has no word before it
        marker = before[-1] if before[-1:] != ["the"] else (before[0] if len(before) == 2 else "")
        proportion = "out" in source_words[max(0, at - 3):at]  # 'nine out of ten', a share and no count
        return marker in WHOLE_OF_PARTS and any(
            (place > at or place < at and not proportion)
            and not content_words(source_following[place]) for place in places)
    return any(v != value and same(source_following[p]) and not a_whole_of_it(p) for v, p in source_values)


def _letter_words(text: str) -> list[str]:
    return [w.lower() for w in number_tokens(text) if w[0].isalpha()]


def _words(text: str) -> list[str]:
    """The text's words and numbers, lower-cased, with "n't" read as "not" ('wasn't' is 'was not')."""
    text = text.replace("n\u2019t", " not").replace("n't", " not")
    return [w.lower() for w in number_tokens(text)]


@functools.lru_cache(maxsize=1)
def _senses_bystem() -> dict[str, frozenset[str]]:
    senses: dict[str, set[str]] = {}
    for sense, listed in SENSES.items():
        for word in listed.split():
            senses.setdefault(stem(word), set()).add(sense)
    return {word_stem: frozenset(names) for word_stem, names in senses.items()}


def _senses_of(word: str) -> frozenset[str]:
    return WHOLE_WORD_SENSES.get(word) or _senses_bystem().get(stem(word), frozenset())


_JOINED_AS_WRITTEN = {"goup": "up", "godown": "down", "overbudget": "over budget", "underbudget": "under budget",
                      "overtarget": "over target", "undertarget": "under target", "aheadoftarget": "ahead",
                      "behindtarget": "behind", "requiresimprovement": "requires improvement", "ontrack": "on track",
                      "offtrack": "off track"}


@functools.lru_cache(maxsize=1)
def _phrasal_verb_stems() -> frozenset[str]:
    return frozenset(stem(word) for word in PHRASAL_VERBS.split())


def _gives_a_direction(words: list[str], i: int) -> bool:
    """Is 'up' or 'down' at this position a direction: after a form of 'be' or 'go' ('were up', 'was down to 68%',
    but not 'was down to staff absence'), or before a figure, 'on' or 'from' ('referrals up 12%', 'up on last year',
    'down from 300') where no verb makes it its own ('set up 3 teams', 'followed up on the actions')?"""
    previous = words[i - 1] if i else ""
    following = words[i + 1:i + 3] + ["", ""]
    if previous in BE_OR_GO:
        return following[0] != "to" or following[1][:1].isdigit()
    before_a_figure = following[0][:1].isdigit() or (following[0] == "by" and following[1][:1].isdigit())
    return (before_a_figure or following[0] in ("on", "from")) and stem(previous) not in _phrasal_verb_stems()


def _as_one_word(words: list[str]) -> list[str]:
    """'requires improvement (to be good)' as 'requiresimprovement', 'on track' and 'off track' as one word each, so
    that the grade and the state are compared whole; 'up' and 'down' that give a direction as 'goup' and 'godown',
    'over budget' as 'overbudget', 'behind target' as 'behindtarget', and 'as well as' as one word, so that neither
    'up' in 'set up', 'over' in 'over the year' nor 'well' in 'as well as' is read as a direction or a judgement."""
    joined: list[str] = []
    i = 0
    while i < len(words):
        word, following = words[i], words[i + 1] if i + 1 < len(words) else ""
        after_of = words[i + 2] if following == "of" and i + 2 < len(words) else following
        if word.startswith("requir") and following == "improvement":
            joined.append("requiresimprovement")
            i += 5 if words[i + 2:i + 5] == ["to", "be", "good"] else 2
        elif word in ("on", "off") and following == "track":
            joined.append(word + "track")
            i += 2
        elif word in ("go", "goes", "going", "gone", "went") and following in ("up", "down"):
            joined.append("go" + following)
            i += 2
        elif word in ("up", "down") and _gives_a_direction(words, i):
            joined.append("go" + word)
            i += 1
        elif word in ("over", "under") and following in BUDGET_WORDS:
            joined.append(word + ("target" if following.startswith("target") else "budget"))
            i += 1 if following.startswith("budget") or following.startswith("target") else 2
        elif word in ("ahead", "behind") and after_of in PLAN_WORDS:
            joined.append("aheadoftarget" if word == "ahead" else "behindtarget")
            i += 1
        elif word == "as" and words[i + 1:i + 3] == ["well", "as"]:
            joined.append("aswellas")
            i += 3
        else:
            joined.append(word)
            i += 1
    return joined


def _sense_words(words: list[str], denied: bool = False) -> dict[int, frozenset[str]]:
    """The positions of the words that give a sense, each with its senses: those no negation stands just before, or
    (`denied`) those one does ('did not increase'). A word denied in one sentence and stated in the other is left to
    the check of denials."""
    found = {}
    for i, word in enumerate(words):
        senses = _senses_of(word)
        if senses and bool(NEGATIONS.intersection(words[max(0, i - 3):i])) == denied:
            found[i] = senses
    return found


def _flips_direction(claim: str, source: str) -> str:
    """Aligned word by word, where the claim puts a word in place of source words of a conflicting sense ('rising'
    for 'reducing', 'worse' or 'lower' for 'better', 'fewer' for 'a similar number'), the two words, or ''. A word
    that shares a sense with one it replaced is a synonym ('grew' for 'rose', 'better' for 'had improved'). Words
    moved count too ('Adoption orders fell in 2018' where the minutes say 'In 2018 adoption orders rose'): a word the
    claim adds against one the source leaves out, where none it leaves out shares its sense. So does a denied word
    ('did not decrease' for 'did not increase')."""
    claim_words, source_words = _as_one_word(_words(claim)), _as_one_word(_words(source))
    matcher = difflib.SequenceMatcher(None, [stem(w) for w in source_words], [stem(w) for w in claim_words],
                                      autojunk=False)
    opcodes = matcher.get_opcodes()
    pairs = [(range(i1, i2), range(j1, j2)) for tag, i1, i2, j1, j2 in opcodes if tag == "replace"]
    # Words moved: what the claim adds, against all the source leaves out.
    left_out = [i for tag, i1, i2, _, _ in opcodes if tag in ("delete", "replace") for i in range(i1, i2)]
    added = [j for tag, _, _, j1, j2 in opcodes if tag == "insert" for j in range(j1, j2)]
    pairs.append((left_out, added))
    for denied in (False, True):
        claim_senses, source_senses = _sense_words(claim_words, denied), _sense_words(source_words, denied)
        for source_at, claim_at in pairs:
            replaced = [(source_words[i], source_senses[i]) for i in source_at if i in source_senses]
            for j in claim_at:
                senses = claim_senses.get(j, frozenset())
                conflicting = [other for other, other_senses in replaced if _conflict(senses, other_senses)]
                synonym = any(senses & other_senses and not _conflict(senses, other_senses)
                              for _, other_senses in replaced)
                if conflicting and not synonym:
                    word, other = _as_written(claim_words[j]), _as_written(conflicting[0])
                    return f"says '{word}' where the cited minutes say '{other}'"
    return ""


def _conflict(senses: frozenset[str], other_senses: frozenset[str]) -> bool:
    return any(frozenset((a, b)) in CONFLICTING_SENSES for a in senses for b in other_senses)


def _as_written(word: str) -> str:
    """A word as _as_one_word joined it, in the words a reader would write ('goup' is 'up')."""
    return _JOINED_AS_WRITTEN.get(word, word)


def _changes_a_denial(claim: str, source: str) -> str:
    """Aligned word by word, does the claim keep what its source denies but drop the denial ('were carrying out'
    for 'were not carrying out'), or deny what the source states? An added 'not fewer' or 'no concern' elsewhere in
    the sentence does not make up for it."""
    claim_words, source_words = _words(claim), _words(source)
    matcher = difflib.SequenceMatcher(None, source_words, claim_words, autojunk=False)
    kept_source, kept_claim = set(), set()
    for a, b, size in matcher.get_matching_blocks():
        kept_source.update(range(a, a + size))
        kept_claim.update(range(b, b + size))
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            continue
        dropped = [i for i in range(i1, i2) if source_words[i] in NEGATIONS]
        added = [j for j in range(j1, j2) if claim_words[j] in NEGATIONS]
        if len(dropped) > len(added) and any(_denies_what_is_kept(i, source_words, kept_source) for i in dropped):
            return "leaves out a denial in the cited minutes"
        if len(added) > len(dropped) and any(_denies_what_is_kept(j, claim_words, kept_claim) for j in added):
            return "denies what the cited minutes state"
    return ""


def _denies_what_is_kept(position: int, words: list[str], kept: set[int]) -> bool:
    """Is a word the negation at this position denies (one of the next three, not a bare 'the' or 'was') also in the
    other sentence, aligned?"""
    following = range(position + 1, min(position + 4, len(words)))
    return any(p in kept and words[p] not in FUNCTION_WORDS and words[p] not in NEGATIONS for p in following)


def _negation_count(text: str) -> int:
    return sum(word in NEGATIONS for word in _words(text))


def _denials_beside(claim: str, sentence: str) -> int:
    """The denials of the sentence, or only of its clauses that hold every word of the claim's clauses, one each:
    'The Panel approved the plan' drops no denial from 'The Panel approved the plan, but did not approve the budget',
    whose denial is of another clause; 'The Panel approved the budget' does."""
    closest = []
    for clause in _clauses(claim):
        near = _closest_clause(clause, sentence)
        if not near or not set(lexical_tokens(clause)) <= set(lexical_tokens(near)):
            return _negation_count(sentence)
        closest.append(near)
    return sum(_negation_count(clause) for clause in set(closest))


def _clauses(text: str) -> list[str]:
    """The text's sentences cut at clause punctuation (not a comma inside '1,200') and before a word that turns the
    sentence ('however', 'but')."""
    clauses: list[str] = []
    for span in sentence_spans(text) or [Span(0, len(text))]:
        sentence = span.of(text)
        marked = "".join("\n" if ch in _CLAUSE_MARKS and not _inside_a_number(sentence, i) else ch
                         for i, ch in enumerate(sentence))
        for piece in marked.split("\n"):
            current: list[str] = []
            for token in piece.split():
                if token.lower().strip("()") in CONTRAST_WORDS and current:
                    clauses.append(" ".join(current))
                    current = []
                current.append(token)
            if current:
                clauses.append(" ".join(current))
    return clauses


def _inside_a_number(text: str, i: int) -> bool:
    return 0 < i < len(text) - 1 and text[i - 1].isdigit() and text[i + 1].isdigit()


@functools.lru_cache(maxsize=64)
def _clauses_with_tokens(text: str) -> tuple[tuple[str, frozenset[str]], ...]:
    return tuple((clause, frozenset(lexical_tokens(clause))) for clause in _clauses(text))


def _closest_clause(clause: str, source: str) -> str:
    """The clause of the source that shares most of its words with the claim's clause (at least two), or ''."""
    wanted = set(lexical_tokens(clause))
    best, best_share = "", 0.0
    for candidate, tokens in _clauses_with_tokens(source):
        shared = len(wanted & tokens)
        share = shared / len(wanted | tokens) if shared >= 2 else 0.0
        if share > best_share:
            best, best_share = candidate, share
    return best


def _reverses_the_minutes(claim: str, source: str, best_sentence: str) -> str:
    """Each clause of the claim beside the clause of the cited text closest to it: a reversed direction or judgement,
    or a changed denial. A clause that shares too little with any ('Performance was better') is read beside the
    sentence closest to the whole claim for its denials only: its words of sense would meet words it does not
    replace."""
    for clause in _clauses(claim):
        closest = _closest_clause(clause, source)
        if closest:
            problem = _flips_direction(clause, closest) or _changes_a_denial(clause, closest)
        else:
            problem = _changes_a_denial(clause, best_sentence) if best_sentence else ""
        if problem:
            return problem
    return ""


def _projected_figure(claim: str, source: str) -> str:
    """A figure the claim states as fact where the cited text gives it only as a projection or under a condition
    ('if this continued it would be approximately 222'), or ''. A claim that itself hedges its figures is let be."""
    if set(_words(claim)) & HEDGING_WORDS:
        return ""
    years = {float(year) for year in mentioned_years(claim)}
    as_fact, as_projection = set(), set()
    for clause in _clauses(source):
        tokens = [t.lower() for t in number_tokens(clause)]
        aimed_at = _aimed_at(tokens)
        for value, position in number_values(clause):
            (as_projection if position in aimed_at or _is_projected(tokens, position) else as_fact).add(value)
    for value, position in number_values(claim):
        if value not in years and value in as_projection and value not in as_fact:
            return (f"states as fact the figure {number_tokens(claim)[position]}, which the cited minutes give only "
                    f"as a projection, a target or a duty")
    return ""


def _projected_change(claim: str, source: str) -> str:
    """A change the claim states as done ('performance improved', 'fell') where the clause of the cited text closest
    to it that gives a change of that sense only expects it ('it was anticipated that performance would improve',
    'expected to fall'); or ''. A change of that sense stated in another clause as close ('performance improved in
    the quarter') lets it be, one of another thing ('good at retention') does not. A claim that itself expects or
    hedges it is let be."""
    if set(_words(claim)) & HEDGING_WORDS:
        return ""
    changes = [(tokens, *_changes(clause)) for clause, tokens in _clauses_with_tokens(source)]
    for clause in _clauses(claim):
        wanted = set(lexical_tokens(clause))
        for word, senses, is_projected in _change_words(clause):
            giving = [(len(wanted & tokens) / len(wanted | tokens), bool(senses & stated), bool(senses & projected))
                      for tokens, projected, stated in changes if senses & (projected | stated)]
            if is_projected or not giving:
                continue
            _, is_stated, only_expected = max(giving)  # on a tie, a clause that states it
            if only_expected and not is_stated:
                return (f"states as done what the cited minutes only expect ('{_as_written(word)}'), a projection "
                        "given as fact")
    return ""


def _changes(text: str) -> tuple[frozenset[str], frozenset[str]]:
    """The senses of the changes the text expects, and of those it states."""
    projected: set[str] = set()
    stated: set[str] = set()
    for _, senses, is_projected in _change_words(text):
        (projected if is_projected else stated).update(senses)
    return frozenset(projected), frozenset(stated)


def _change_words(text: str) -> list[tuple[str, frozenset[str], bool]]:
    """Each word of the text that says which way something went ('improve', 'fell', 'rise'), with its senses and
    whether a projecting word governs it ('would improve', 'expected to fall', 'could rise')."""
    found = []
    for clause in _clauses(text):
        words = _as_one_word(_words(clause))
        for i, word in enumerate(words):
            senses = _senses_of(word) & _CHANGE_SENSES
            if not senses:
                continue
            before = words[max(0, i - _PROJECTION_REACH):i]
            is_projected = bool(set(before) & PROJECTING_WORDS) or any(
                a in PROJECTING_BEFORE_TO and b == "to" for a, b in zip(before, before[1:]))
            found.append((word, senses, is_projected))
    return found


# The senses of a change a projection can expect; and how many words before its word a projecting word governs it
# ('would improve', 'expected to fall', 'would continue to rise').
_CHANGE_SENSES = frozenset({"up", "down", "better", "worse", "achieved"})
_PROJECTION_REACH = 3


def _speaker_moved(claim: str, cited: Sequence[Hit]) -> str:
    """A person the claim has say something ('Councillor Bruff said that ...') whom the cited sentence holding those
    words, and the sentence before it, do not name: words the minutes give to 'a Member', or to another, put in a
    named member's mouth; or ''. 'She said ...' gives them to whoever the sentence before names. Words the cited
    text does not clearly hold are left to the other checks."""
    words = claim.split()
    found = next(((i, phrase) for i, word in enumerate(words) if word.strip(".,;:").lower() in SPEECH_VERBS
                  and (phrase := _speaker_beside(words, i))), None)
    if found is None:
        return ""
    verb, (first, last) = found
    speakers = names_in(" ".join(words[first:last]))
    # What is said: the claim but for who says it ('Councillor Bruff said that', ', said Councillor Bruff').
    said = content_words(" ".join(words[:min(first, verb)] + words[max(last, verb + 1):]))
    if len(said) < 2:
        return ""
    holding: list[str] = []  # the cited sentences sharing most of the words said, each with the sentence before it
    most = 0.0
    for hit in cited:
        spans = sentence_spans(hit.text)
        for i, span in enumerate(spans):
            share = len(said & content_words(span.of(hit.text))) / len(said)
            if share > most:
                most, holding = share, []
            if share == most:
                # 'She said ...', 'These were ...' give the words to whoever the sentence before names.
                opening = span.of(hit.text).split(" ", 1)[0].lower()
                earlier = spans[max(0, i - 1):i] if opening in BACK_REFERENCE_WORDS | DEMONSTRATIVES else []
                holding.append(" ".join(s.of(hit.text) for s in [*earlier, span, *_introducing(hit.text, spans, i)]))
    if most < _WORDS_SAID_SHARE or any(speakers & names_in(text) for text in holding):
        return ""
    return (f"has {' '.join(w.strip('.,') for w in words[first:last] if w.strip('.,') in speakers)} say what the "
            "cited minutes do not give to them")


def _speaker_beside(words: list[str], verb: int) -> tuple[int, int] | None:
    """Where the person a speech verb gives words to is named, just before it ('Councillor Margaret Bruff said',
    'The Chair, Councillor Bruff, noted'), before words set off by commas ('Councillor Bruff, who leads on services
    for children, said') or just after it (', said Councillor Bruff', 'According to Cllr Bruff'), as (first, last)
    word positions; else None."""
    before = (max(0, verb - _SPEAKER_REACH), verb)
    after = (verb + 1, min(len(words), verb + 1 + _SPEAKER_REACH))
    for first, last in (before, after):
        if names_in(" ".join(words[first:last])):
            return first, last
    # Further before it, with what is said of them set off by commas ('Councillor Bruff, who leads on services
    # for children, said'): the name is the last before the opening comma.
    if verb and words[verb - 1].endswith(","):
        opening = next((i for i in range(verb - 2, -1, -1) if words[i].endswith(",")), None)
        if opening is not None and names_in(" ".join(words[max(0, opening + 1 - _SPEAKER_REACH):opening + 1])):
            return max(0, opening + 1 - _SPEAKER_REACH), verb
    return None


# How many words from its speech verb a speaker's title and name may stand ('According to Councillor Margaret Bruff').
_SPEAKER_REACH = 5


# How much of what a claim has someone say a cited sentence must share to be where the claim takes it from.
_WORDS_SAID_SHARE = 0.5


def _introducing(text: str, spans: Sequence[Span], i: int) -> list[Span]:
    """The sentence that introduces the points the i-th sentence stands among ('Councillor Watson provided an update
    on each as follows:-', '... the key areas of improvement namely:'), when no sentence from it to the i-th gives
    words to another ('A Member noted that ...'); else none. Each point is then the words of whoever it names."""
    for j in range(i, -1, -1):
        sentence = spans[j].of(text)
        if j < i and sentence.rstrip(" -\u2013\u2014\u00a0\n").endswith(":"):
            return [spans[j]]
        if any(word.strip(string.punctuation).lower() in SPEECH_VERBS for word in sentence.split()):
            return []
    return []


def _aimed_at(tokens: list[str]) -> set[int]:
    """The positions of the figures a target or a duty governs: those after a target's word ('the target for
    2022/23 is that 90% ...', 'targets are 90% for visits and 85% for reviews') or a duty's ('should be completed
    within 20 working days', 'must normally be', 'should not exceed 20'), up to a word that turns to what was done
    ('the target was 90% and performance was 85%', 'missed its target and achieved 85%', 'met its target with
    412') or to what is said of it ('should be proud that 95% ...', 'must note that there were 412'). Years, and a
    financial year's second part, are no figure."""
    governed = set()
    for i, token in enumerate(tokens):
        if token not in TARGET_WORDS and token not in TARGET_MODALS:
            continue
        for j in range(i + 1, min(len(tokens), i + 1 + _TARGET_REACH)):
            if tokens[j] in TARGET_ENDS or token in TARGET_MODALS and tokens[j] == "that":
                break
            value = token_value(tokens[j])
            if value is not None and not mentioned_years(tokens[j]) and not _second_part_of_a_year(tokens, j):
                governed.add(j)
    return governed


def _second_part_of_a_year(tokens: list[str], j: int) -> bool:
    """Is the figure at j the '22' of '2021/22' (number_tokens gives it apart)?"""
    before = tokens[j - 1] if j else ""
    return bool(mentioned_years(before)) and before.isdigit() and len(tokens[j]) == 2 \
        and _the_year_after(before, tokens[j])


def _the_year_after(year: str, part: str) -> bool:
    """Is `part` the year after `year`, whole or by its last two digits ('2021' then '22' or '2022')?"""
    return part.isdigit() and (int(year) + 1) % 100 == int(part) % 100


# How many words after a target's word its figures may stand ('the target for 2022/23 is that 90%').
_TARGET_REACH = 10


def _is_projected(tokens: list[str], position: int) -> bool:
    """Does a projecting word govern the figure at this position: 'would be approximately 222', 'could reach 300',
    'expected to rise to 40', 'forecast at 222', 'projected to be 222'? Not 'would like to thank the 25', 'could
    evidence that 90%' or 'the plan to support the 30': there the figure is the object of another verb."""
    i = position - 1
    while i >= 0 and tokens[i] in APPROXIMATING_WORDS:
        i -= 1
    if i >= 0 and stem(tokens[i]) in AMOUNT_VERBS:
        i -= 1
        if i >= 0 and tokens[i] == "have":  # 'would have been 300'
            i -= 1
        if i >= 1 and tokens[i] == "to" and tokens[i - 1] in PROJECTING_BEFORE_TO:
            return True
    return i >= 0 and tokens[i] in PROJECTING_WORDS


def _unit_changed(claim: str, source: str) -> str:
    """A figure the claim gives in another unit than the minutes do ('£1.2 billion' for '£1.2 million', '74' for
    '74%', '20 weeks' for '20 working days'), or with 'by' where the minutes say 'to' ('increased by 61%' for
    'increased to 61%'), or ''. A span of time the claim or the minutes leave unsaid ('aged 16 to 18' beside
    '16-18 year olds') is no change."""
    given: dict[float, list[tuple[str, str]]] = {}
    for value, unit, before in figure_units(source):
        given.setdefault(value, []).append((unit, before))
    years = {float(year) for year in mentioned_years(claim)}
    for value, unit, before in figure_units(claim):
        if value in years or value not in given:
            continue
        units = {u for u, _ in given[value]}
        if unit not in units and not (_a_span_of_time(unit) and "" in units
                                      or not unit and all(map(_a_span_of_time, units))):
            shown = _shown_value(value)
            return (f"in the cited minutes, {shown} is {' or '.join(sorted(map(_unit_name, units)))}, not "
                    f"{_unit_name(unit)}")
        before_it = {b for u, b in given[value] if u == unit}
        if before in ("to", "by") and before_it and before_it <= {"to", "by"} and before not in before_it:
            shown = _shown_value(value)
            return f"says '{before} {shown}' where the cited minutes say '{before_it.pop()} {shown}'"
    return ""


def _a_span_of_time(unit: str) -> bool:
    return unit in TIME_UNITS


def _unit_name(unit: str) -> str:
    if unit == PERCENT:
        return "a percentage"
    if not unit:
        return "a plain number"
    return f"in {unit}s"


def _shown_value(value: float) -> str:
    """A figure as a message names it: '74', '1.2', '2345' (not '74.0')."""
    return f"{value:g}"


def years_of_figures(text: str) -> list[tuple[float, frozenset[int] | None]]:
    """Each figure of the text that is not a year, with the year (a financial year's two) it is plainly tied to in
    its clause, or None where no year is: a year just after it, through 'in', 'at', 'for', 'during' or 'of' ('284
    families in 2022', '388 at 31 March 2021'); else a year just before it, with no 'to', 'from' or 'and' between
    ('At 31 March 2022 there were 412'); else, in a clause of that one figure and one year, the year that 'in', 'at'
    and the like give, however far ('In 2021 referrals rose to 310'). A date counts whole, and a unit is the figure's
    own ('15.6 per cent in 2017'). Anything looser (a range, 'between 2021 and 2022'; 'up from 388 a year before'
    after a comma; a year five words away in a clause of other figures or years) ties the figure to no year, so that a
    check of its year cannot misread it."""
    found = []
    leading: frozenset[int] | None = None  # the year of a clause that is only a date ('At 31 March 2021, there ...')
    for clause in _clauses(text):
        tokens = number_token_spans(clause)
        words = [token.lower() for token, _, _ in tokens]
        years = _year_groups(clause, tokens, words)
        taken = {i for first, last, _ in years for i in range(first, last + 1)}
        counted = [word not in UNIT_WORDS for word in words]  # the words that count as distance
        figures_here = [i for i, (token, _, _) in enumerate(tokens)
                        if i not in taken and token_value(token) is not None]
        if len(years) == 1 and not figures_here and len(words) <= _DATE_CLAUSE_WORDS:
            leading = years[0][2]
            continue
        for i in figures_here:
            tied = _tied_year(i, years, words, counted)
            if tied is None and len(years) == 1 and len(figures_here) == 1 and years[0][0] \
                    and words[years[0][0] - 1] in YEAR_TYING_WORDS \
                    and not set(words[min(i, years[0][0]):max(i, years[0][1])]) & YEAR_COMPARING_WORDS:
                # A clause of one figure and one year that a preposition gives, however far apart ('412 children
                # were in care in Wexbury in 2022', 'In 2021 referrals rose to 310'): nothing else could be its year;
                # but for a year compared with ('risen to 310 compared with the position in 2019').
                tied = years[0][2]
            if tied is None and leading is not None and sum(counted[:i]) <= _YEAR_REACH \
                    and not set(words[:i]) & _PARTING_A_YEAR_BEFORE \
                    and not any(token_value(w) is not None for w in words[:i]):
                tied = leading  # 'At 31 March 2021, there were 412'
            found.append((token_value(tokens[i][0]), tied))
        leading = None
    return found


# How many words a clause that is only a date may hold ('At 31 March 2021', 'In the year to March 2023').
_DATE_CLAUSE_WORDS = 7


def _year_groups(clause: str, tokens, words: list[str]) -> list[tuple[int, int, frozenset[int]]]:
    """The clause's years, each as its first and last word and the years it names: '2021/22' both of its years,
    '31 March 2022' its day and month too."""
    groups = []
    taken: set[int] = set()
    for i, (token, _, end) in enumerate(tokens):
        if i in taken or not (len(token) == 4 and token.isdigit() and mentioned_years(token)):
            continue
        group, first, last = {int(token)}, i, i
        if i + 1 < len(tokens) and clause[end:tokens[i + 1][1]].strip() in ("/", "-", "\u2013") \
                and _the_year_after(token, tokens[i + 1][0]):
            group.add(int(token) + 1)  # '2021/22'
            last = i + 1
        if first and words[first - 1] in MONTH_NUMBERS:  # 'March 2022', '31 March 2022'
            first -= 1
            if first and words[first - 1].isdigit() and len(words[first - 1]) <= 2:
                first -= 1
        taken.update(range(first, last + 1))
        groups.append((first, last, frozenset(group)))
    return groups


# How near a year must stand to a figure to be its year, in words that count (units aside).
_YEAR_REACH = 4
_PARTING_A_YEAR_BEFORE = frozenset({"to", "from", "and", "or", "than", "with", "between"})


def _tied_year(i: int, years, words: list[str], counted: list[bool]) -> frozenset[int] | None:
    def distance(a: int, b: int) -> int:
        return sum(counted[a:b])

    for first, last, group in years:  # a year after the figure, tied by a preposition just before it
        between = words[i + 1:first - 1]
        if first > i and words[first - 1] in YEAR_TYING_WORDS and distance(i + 1, first) <= _YEAR_REACH \
                and not set(between) & _PARTING_A_YEAR_BEFORE \
                and not any(token_value(w) is not None for w in words[i + 1:first]):
            return group
    for first, last, group in reversed(years):  # else a year before it, nothing parting them
        if last < i:
            between = words[last + 1:i]
            if distance(last + 1, i) <= _YEAR_REACH and not set(between) & _PARTING_A_YEAR_BEFORE \
                    and not any(token_value(w) is not None for w in between):
                return group
            break
    return None


def _figure_of_another_year(claim: str, source: str) -> str:
    """A figure the claim ties to another year than the minutes do ('At 31 March 2021 there were 412' where they
    say 'At 31 March 2022 there were 412 ..., compared with 388 at 31 March 2021'), or ''. A figure the minutes also
    give in a sentence that names no year may be any year's."""
    tied: dict[float, set[frozenset[int]]] = {}
    loose: set[float] = set()
    for value, group in years_of_figures(source):
        if group is None:
            loose.add(value)
        else:
            tied.setdefault(value, set()).add(group)
    for value, group in years_of_figures(claim):
        if group is None or value in loose or value not in tied:
            continue
        if not any(_same_years(group, theirs) for theirs in tied[value]):
            years = " and ".join(sorted({_year_text(g) for g in tied[value]}))
            return f"in the cited minutes, {_shown_value(value)} is the figure for {years}, not {_year_text(group)}"
    return ""


def _same_years(one: frozenset[int], other: frozenset[int]) -> bool:
    """A year is its financial years' ('2022' and '2021/22'); two financial years are one only if equal ('2021/22'
    is not '2022/23', though both hold 2022)."""
    return one == other or (len(one) == 1 or len(other) == 1) and bool(one & other)


def _year_text(group: frozenset[int]) -> str:
    first = min(group)
    return f"{first}/{(first + 1) % 100:02d}" if len(group) > 1 else str(first)


def _characters_not_in(claim: str, context: str) -> str:
    """Letters or digits outside ASCII, or invisible format characters, that the cited minutes never use: a
    Cyrillic 'о' in 'nоt' reads as 'not' but is no denial to the checks, a superscript '¹²⁰' is a figure no check
    sees, and a zero-width space splits a word. Letters the minutes use (a Welsh 'ŵ') are let be."""
    # Compared composed: minutes saved with an accent as a mark of its own ('w' and U+0302) use 'ŵ' as much.
    claim, context = unicodedata.normalize("NFC", claim), unicodedata.normalize("NFC", context)
    unseen = sorted({ch for ch in claim
                     if (not ch.isascii() and ch.isalnum() or unicodedata.category(ch) == "Cf") and ch not in context})
    if not unseen:
        return ""
    return f"uses characters the cited minutes do not ({', '.join(f'U+{ord(ch):04X}' for ch in unseen[:3])})"


def _attachments(clause: str) -> list[tuple[str, str, str]]:
    """What the clause's prepositions tie things to ('from schools', 'of referrals'): (preposition, stem, word)."""
    words = _words(clause)
    found = []
    for i, word in enumerate(words):
        if word in ATTACHING_WORDS:
            j = i + 1
            while j < len(words) and words[j] in ARTICLES:
                j += 1
            if j < len(words) and words[j][0].isalpha() and words[j] not in FUNCTION_WORDS:
                found.append((word, stem(words[j]), words[j]))
    return found


def _figure_moved(claim: str, source: str) -> str:
    """The claim ties a figure to something ('39% ... from hospitals') where every clause of the cited text that gives
    the figure ties it to another thing the claim leaves out ('from schools (39% of referrals)'), and the cited text
    ties the claim's thing the same way elsewhere ('very few from hospitals'): the figure was moved, or ''."""
    claim_stems = {stem(w) for w in _words(claim)}
    source_clauses = [(c, _attachments(c), {v for v, _ in number_values(c)}) for c in _clauses(source)]
    tied_anywhere = {(p, tied) for _, attached, _ in source_clauses for p, tied, _ in attached}
    years = {float(year) for year in mentioned_years(claim)}
    for clause in _clauses(claim):
        attached = [(p, tied, word) for p, tied, word in _attachments(clause) if (p, tied) in tied_anywhere]
        for value, position in number_values(clause):
            givers = [(c, a) for c, a, values in source_clauses if value in values]
            if value in years or not attached or not givers:
                continue
            moves = [_moved_tie(attached, source_attached, claim_stems, {stem(w) for w in _words(c)})
                     for c, source_attached in givers]
            if all(moves):
                preposition, word, other = moves[0]
                return (f"in the cited minutes, {number_tokens(clause)[position]} is the figure {preposition} "
                        f"{other}, not {preposition} {word}")
    return ""


def _things_exchanged(claim: str, source: str) -> str:
    """Two figures the claim gives each with the thing the cited text gives the other with ('Referrals had dropped
    from 900 to 680, and contacts ... were 230', where 'contacts had dropped from 900 to 680 and referrals ... were
    230'): the part of the claim giving a figure names a thing that the part of the cited text giving it does not,
    and that the part giving another of the claim's figures does; and the cited part names a thing the claim gives
    that other figure with instead; neither word standing in both texts' parts of the other figure. Or ''."""
    years = {float(year) for year in mentioned_years(claim)}
    claimed, cited = _figure_parts(claim, years), _figure_parts(source, years)
    for own, values, own_text in claimed:
        for other, other_values, _ in claimed:
            if other is own:
                continue
            for giver, given, giver_text in cited:
                if not values & given:
                    continue
                for other_giver, other_given, _ in cited:
                    if other_giver is giver or not other_values & other_given or values & other_given:
                        continue
                    # Exchanged: each word is where the other was, and not also where it stands in the other text.
                    moved_in = (own - giver) & other_giver - other
                    moved_out = (giver - own) & other - other_giver
                    if moved_in and moved_out:
                        figure = next(_shown_value(v) for v, _ in number_values(own_text) if v in given)
                        return (f"in the cited minutes, {figure} is the figure of "
                                f"{_word_of(sorted(moved_out)[0], giver_text)}, not of "
                                f"{_word_of(sorted(moved_in)[0], own_text)}")
    return ""


def _word_of(token: str, text: str) -> str:
    """The text's word that content_words read as this token ('contacts' for 'contact')."""
    return next((w.strip(string.punctuation).lower() for w in text.split() if token in lexical_tokens(w)), token)


def _figure_parts(text: str, years: set[float]) -> list[tuple[frozenset[str], frozenset[float], str]]:
    """The text's clauses, cut again where 'and', 'but', 'while' or 'whereas' joins two, each with its content words
    and the figures it gives (not years), and its text: the parts in which a figure is given with what it counts."""
    parts = []
    for clause in _clauses(text):
        words: list[str] = []
        for word in [*clause.split(), "and"]:
            if word.lower() not in PART_JOINING_WORDS:
                words.append(word)
                continue
            part = " ".join(words)
            values = frozenset(v for v, _ in number_values(part)) - years
            if values:
                parts.append((frozenset(content_words(part)), values, part))
            words = []
    return parts


def _moved_tie(attached, source_attached, claim_stems: set[str], clause_stems: set[str]) -> tuple[str, str, str] | None:
    """A tie of the claim ('from hospitals') whose preposition the source clause ties to a thing the claim does not
    name ('from schools'), while the source clause does not name the claim's thing."""
    for preposition, word_stem, word in attached:
        for other_preposition, other_stem, other in source_attached:
            if preposition == other_preposition and word_stem != other_stem and other_stem not in claim_stems \
                    and word_stem not in clause_stems:
                return preposition, word, other
    return None


def _figure_not_in(claim: str, text: str, skipped: set[str] = frozenset()) -> str:
    """The first figure of the claim with a digit in it that the text does not give ('28.5%' and '28.5' count as
    one, and '12' is given by 'Twelve': a model writes in figures what minutes write in words), or ''."""
    given = figures(text)
    # '01 April' gives the 1 of '1 April'
    available = set(given) | {f.rstrip("%") for f in given} | {f.lstrip("0") for f in given if f[:1] == "0" and
                                                                f[1:2].isdigit()} | _counts_in_words(text)
    for figure in figures(claim):
        if any(ch.isdigit() for ch in figure) and figure not in available and figure.rstrip("%") not in available \
                and figure not in skipped:
            return figure
    return ""


def _counts_in_words(text: str) -> set[str]:
    """The counts the text writes in words, in figures ('Twelve foster carers' gives '12'); not a fraction's top
    ('Two thirds of staff' is no 2 staff), either number of a rate ('one in five', 'nine out of ten'), a bound
    ('fewer than five', 'up to ten'), nor 'no one'. A hyphen joins a word ('Three in-house homes' are 3)."""
    spans = number_token_spans(text)
    words = [token.lower() for token, _, _ in spans]
    counts = set()
    for i, word in enumerate(words):
        value = token_value(word) if word.isalpha() else None
        joined = i + 1 < len(spans) and text[spans[i + 1][2]:spans[i + 1][2] + 1] == "-"  # 'in-house', 'third-party'
        following = "" if joined or i + 1 >= len(words) else words[i + 1]
        previous = words[i - 1] if i else ""
        if value is None or following in FRACTION_PARTS or following == "in" or previous in NOT_A_COUNT_AFTER:
            continue
        counts.add(_shown_value(value))  # as figures() writes it: '12', '1.5'
    return counts


def _amount_for_figure(claim: str, source: str) -> bool:
    """The claim gives an amount in words ("most", "nearly all") that its best source sentence does not use, and
    leaves out a figure that sentence states: it has put a judgement in place of the minutes' figure."""
    claim_words, source_words = set(_letter_words(claim)), set(_letter_words(source))
    vague = (claim_words & AMOUNT_WORDS) - source_words
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


# Quotation marks and the characters a quotation is compared in: curly and straight quotes and apostrophes, single
# and double, are one ('children\u2019s' quotes 'children's; a quotation inside one turns its marks from double to
# single or back), and so are dashes.
_QUOTE_PAIRS = {"\"": "\"", "\u201c": "\u201d", "\u2018": "\u2019"}
_AS_COMPARED = str.maketrans({"\u2019": "'", "\u2018": "'", "\u201c": "'", "\u201d": "'", '"': "'", "\u2013": "-",
                              "\u2014": "-"})
# What marks words a quotation leaves out: "...", "\u2026", "[...]", "[\u2026]".
_LEFT_OUT = re.compile(r"\s*\[?\s*(?:\u2026|\.\s?\.\s?\.)\s*\]?\s*")


def quotations(text: str) -> list[str]:
    """The words the text puts in double quotation marks (straight or curly) or curly single ones, in order. A
    closing curly single quote with no opening one is an apostrophe ('children\u2019s'); straight single quotes
    are apostrophes as often, and are not read as quotation marks."""
    found, opened, closing = [], -1, ""
    for at, ch in enumerate(text):
        if opened >= 0 and ch == closing:
            if closing != "\u2019" or not text[at + 1:at + 2].isalpha():  # 'children\u2019s' inside a quotation
                found.append(text[opened + 1:at])
                opened = -1
        elif opened < 0 and ch in _QUOTE_PAIRS:
            opened, closing = at, _QUOTE_PAIRS[ch]
    return found


def _quotation_not_in(claim: str, source: str) -> str:
    """Words the claim puts in quotation marks that the cited minutes do not give as written: a quotation says they
    are the minutes' own words ('The minutes record that "all 148 children discharged in 2018 returned home
    safely"' had passed as a paraphrase of 'In 2018 148 children have been discharged')."""
    source = source.translate(_AS_COMPARED)
    for quoted in quotations(claim):
        words = quoted.translate(_AS_COMPARED).strip(" ,.;:!?\u2026")
        if any(ch.isalnum() for ch in words) and not _quoted_in(source, words):
            shown = words if len(words) <= 60 else words[:59].rstrip() + "\u2026"
            return f"quotes words the cited minutes do not contain (\u201c{shown}\u201d)"
    return ""


def _quoted_in(source: str, words: str) -> bool:
    """Do the quoted words stand in the source as written, each part an ellipsis leaves between ('148 children were
    discharged ... in 2018') in the source's order?"""
    at = 0
    for part in _LEFT_OUT.split(words):
        part = part.strip(" ,.;:!?")
        if not any(ch.isalnum() for ch in part):
            continue
        span = find_verbatim(source[at:], part)
        if span is None:
            return False
        at += span.end
    return True


def _about(hit: Hit) -> str:
    """What the block's item says of itself: its meeting's date, council, committee and title."""
    meta = hit.metadata
    return (f"{meta.get('meeting_date', '')} {meta.get('period', '')} {meta.get('council', '')} "
            f"{meta.get('committee', '')} {meta.get('item_title', '')}")


def marker_parts(sentence: str) -> list[tuple[str, tuple[int, ...]]]:
    """The sentence cut after each run of [n] markers, each part with the markers that end it ('rose from 596 [1]
    to 650 [2].' is two parts); words after the last markers belong to the part before them."""
    parts: list[tuple[str, tuple[int, ...]]] = []
    start = 0
    for match in _MARKER.finditer(sentence):
        text = sentence[start:match.start()]
        markers = tuple(int(n) for n in match.group(1).split(","))
        # '[1][5]', '[1], [5]' or '[1] and [5]': one run of markers, the word between them no part of the claim
        if parts and (not _has_word(text) or text.strip(" ,;").lower() in ("and", "or")):
            parts[-1] = (parts[-1][0] + ("" if _has_word(text) else text), parts[-1][1] + markers)
        else:
            parts.append((text, markers))
        start = match.end()
    rest = sentence[start:]
    if not parts:
        return [(rest, ())]
    parts[-1] = (parts[-1][0] + rest, parts[-1][1])
    return parts


def _figures_of_different_blocks(sentence: str, cited: Sequence[Hit], blocks: Mapping[int, Hit] | None) -> str:
    """Figures of one sentence (or of one part of it, before its own markers) that no block it cites gives beside one
    of the sentence's years: '2018' from one meeting's minutes and '596' from another's make a sentence neither says.
    Each part is checked against the blocks its markers name (all the cited blocks when they name none of them)."""
    parts = marker_parts(sentence) if blocks else [(strip_markers(sentence)[0], ())]
    for text, markers in parts:
        own = [blocks[m] for m in markers if m in blocks] if blocks else []
        candidates = own or list(cited)
        if _figures_given_by_one(text, candidates):
            continue
        given = list(dict.fromkeys(f for f in figures(text) if any(ch.isdigit() for ch in f)))
        named = _listed(given)
        if own and len(parts) > 1:
            which = "which does not give" if len(own) == 1 else "none of which gives"
            what = "it" if len(given) == 1 else "them all"
            return f"gives {named} before citing {marker_text(markers)}, {which} {what}"
        return f"gives {named}, which no cited block gives together"
    return ""


def _in_each_part(check: Callable[[str, str], str], sentence: str, cited: Sequence[Hit],
                  blocks: Mapping[int, Hit] | None) -> str:
    """A check of the sentence against the cited text, made of each part of it against the blocks its own markers
    cite where markers cut it into parts ('148 children ... [1], and 146 children ... [2]': the words after 146 are
    read in block 2, not beside block 1's '148 children')."""
    parts = marker_parts(sentence) if blocks else []
    if len(parts) < 2:
        return check(strip_markers(sentence)[0], " ".join(hit.text for hit in cited))
    for text, markers in parts:
        own = [blocks[m] for m in markers if m in blocks] or list(cited)
        if problem := check(text, " ".join(hit.text for hit in own)):
            return problem
    return ""


def _figures_put_together(sentence: str, cited: Sequence[Hit], blocks: Mapping[int, Hit] | None) -> str:
    """Figures of one part of a sentence (before its own markers) that the blocks those markers cite give only apart,
    related in the sentence as no block relates them; or ''."""
    parts = marker_parts(sentence) if blocks else [(strip_markers(sentence)[0], ())]
    joined: list[tuple[str, tuple[int, ...]]] = []
    for text, markers in parts:
        if joined and not _says_something_new(text):
            joined[-1] = (joined[-1][0] + text, joined[-1][1] + markers)
        else:
            joined.append((text, markers))
    for text, markers in joined:
        own = [blocks[m] for m in markers if m in blocks] if blocks else []
        apart = _figures_given_apart(text, own or list(cited))
        if apart:
            return f"gives {_listed(apart)} together, which no cited block does"
    return ""


def _says_something_new(part: str) -> bool:
    """Does a part of a sentence after another's markers say something of its own ('..., and 61% of those in care
    were ... [2]', '; the Panel noted that ...'), or more of the part before it ('..., which was 61% of those in care
    [2]', '(61% of those in care) [2]', '; this was 61% [2]', ', meaning 61% ...')? Only a part that 'and', 'but',
    'while' or 'whereas' opens, or one after a semicolon that opens with no word pointing back, is its own: any other
    relates its figures to the part before, and the two are checked as one, against the blocks both cite."""
    opening = part.lstrip(" ,;:-\u2013\u2014(").split(" ", 1)[0].lower().strip(string.punctuation)
    if opening in PART_JOINING_WORDS:
        return True
    return part.lstrip().startswith(";") and opening not in RELATING_OPENERS | BACK_REFERENCE_WORDS | DEMONSTRATIVES


def _listed(items: Sequence[str]) -> str:
    return " and ".join(items) if len(items) <= 2 else ", ".join(items[:-1]) + " and " + items[-1]


def _figures_given_apart(text: str, hits: Sequence[Hit]) -> list[str]:
    """The figures of a text citing two or more blocks when no one of them gives them all, and they are not each
    beside a year of their own: the text relates figures ('148 were discharged, which was 61% of those in care')
    that the minutes give apart, which neither block says; else []. Figures each tied to its own year ('551 at 31
    March 2022 and 596 at 31 March 2023 [1][2]') compare two meetings' figures, as the prompt asks them to be."""
    if len(hits) < 2:
        return []
    tied = dict(years_of_figures(text))  # each figure that is not a year (nor a financial year's '/22'), its year
    given = {shown: written for written, shown in _counts(text) if float(shown.rstrip("%")) in tied}
    if len(given) < 2:
        return []
    contexts = [f"{hit.text} {_about(hit)}" for hit in hits]
    if any(all(_gives(context, figure) for figure in given) for context in contexts):
        return []
    years = [tied[float(figure.rstrip("%"))] for figure in given]
    if None not in years and len(set(years)) == len(years):
        return []
    return list(given.values())


def _gives(context: str, figure: str) -> bool:
    """Does the block's text give the figure, a percentage as one ('61%' is not the '61' of '61 of them returned')?"""
    if _figure_not_in(figure, context):
        return False
    value = float(figure.rstrip("%"))
    return not figure.endswith("%") or any(v == value and unit == PERCENT for v, unit, _ in figure_units(context))


def _counts(text: str) -> list[tuple[str, str]]:
    """The text's figures in order, each as written and in digits: those it writes in words count ('Twelve foster
    carers' is ('twelve', '12')), but for a fraction's top, a rate, a bound, and 'one', which as often stands for a
    thing ('one of the points') as counts one."""
    in_words = _counts_in_words(text) - {"1"}
    return [(f, f if f[0].isdigit() else _shown_value(value)) for f in figures(text)
            if f[0].isdigit() or (value := token_value(f)) is not None and _shown_value(value) in in_words]


def _figures_given_by_one(text: str, hits: Sequence[Hit]) -> bool:
    """Is each figure of the text given by one of these blocks that also gives one of the text's years (in its
    words or its meeting's date), and each year by one of them? A year ties a figure to a time: '2018' from one
    meeting's minutes and '596' from another's make a sentence neither says, while '551 at 31 March 2022 and 596 at
    31 March 2023 [1][2]', each figure beside its own year, and figures with no year at all, may draw on two blocks."""
    if not any(ch.isdigit() for ch in text):
        return True
    contexts = [f"{hit.text} {_about(hit)}" for hit in hits]
    context_years = [{str(year) for year in mentioned_years(context)} for context in contexts]
    years = {str(year) for year in mentioned_years(text)}
    if not all(any(year in given for given in context_years) for year in years):
        return False
    return all(any(not _figure_not_in(figure, context) and (not years or years & given)
                   for context, given in zip(contexts, context_years))
               for figure in dict.fromkeys(figures(text)) if any(ch.isdigit() for ch in figure) and figure not in years)


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
                 threshold: float = DEFAULT_THRESHOLD, nli=None, other_council_keys: Sequence[str] = (),
                 short_names: Mapping[str, str] | None = None) -> None:
        """`known_council_keys` are the index's councils, named in any case ('what did sefton say'); the
        `other_council_keys` (the directory's other UK councils) are named only with a capital, as a model writes
        a council's name: 'a high peak' and 'the new forest school' name neither High Peak nor New Forest.
        `short_names` (a short name to its council's key, text.named_councils) name a council too: 'Redcar
        recruited 57 carers' citing Stockton-on-Tees's minutes names a council they are not about."""
        self.embedder = embedder
        self.council_keys = tuple(dict.fromkeys([*known_council_keys, *other_council_keys]))
        self._named_with_a_capital = frozenset(other_council_keys) - frozenset(known_council_keys)
        self._short_names = dict(short_names or {})
        self.threshold = threshold
        self.nli = nli  # optional: anything with entailment(premise, hypothesis) -> probability
        self._sentence_cache: dict[str, tuple[list[Span], np.ndarray]] = {}

    def check(self, sentence: str, cited: Sequence[Hit], blocks: Mapping[int, Hit] | None = None,
              evidence: Sequence[Hit] = ()) -> Verdict:
        """The verdict on a sentence (its [n] markers may still be in it) against the blocks it cites. With `blocks`
        (each marker's block), a part of the sentence before its own markers is checked against those blocks. With
        `evidence` (every block the writer was given), a name that another block gives is a name even where a
        sentence starts with it ('Okafor reported ...' citing a block of another council's)."""
        claim, _ = strip_markers(sentence)
        if not cited:
            return Verdict(False, 0.0, NO_CITATION)
        if not claim:
            return Verdict(False, 0.0, "empty sentence")
        for hit in cited:
            span = find_verbatim(hit.text, claim)
            if span and covers_whole_sentences(hit.text, span):
                return Verdict(True, 1.0, "verbatim", hit, span)
        cited_text = " ".join(hit.text for hit in cited)
        context = cited_text + " " + " ".join(_about(h) for h in cited)
        problem = _characters_not_in(claim, context)
        if problem:
            return self._with_quote(claim, cited, False, 0.0, problem)
        figure = _figure_not_in(claim, context)
        if figure:
            return self._with_quote(claim, cited, False, 0.0, f"the figure {figure} is not in the cited minutes")
        context_years = set(mentioned_years(context))
        for year in mentioned_years(claim):
            if year not in context_years:
                return self._with_quote(claim, cited, False, 0.0, f"the year {year} is not in the cited minutes")
        problem = _figures_of_different_blocks(sentence, cited, blocks)
        if problem:
            return self._with_quote(claim, cited, False, 0.0, problem)
        problem = (_in_each_part(_figure_problem, sentence, cited, blocks) or _unit_changed(claim, cited_text)
                   or _figure_of_another_year(claim, cited_text) or _projected_figure(claim, cited_text)
                   or _projected_change(claim, cited_text)
                   or _figure_moved(claim, cited_text) or _things_exchanged(claim, cited_text)
                   or self._figure_of_another_council(claim, cited)
                   or self._figures_of_two_councils(claim, cited) or _figures_put_together(sentence, cited, blocks))
        if problem:
            return self._with_quote(claim, cited, False, 0.0, problem)
        problem = _foreign_link(claim, cited_text) or _quotation_not_in(claim, cited_text) \
            or _speaker_moved(claim, cited)
        if problem:
            return self._with_quote(claim, cited, False, 0.0, problem)
        cited_councils = {h.metadata.get("council_key", "") for h in cited}
        text_councils = set(self._councils_named(cited_text))  # places the minutes themselves name
        for key in self._councils_named(claim):
            if key not in cited_councils and key not in text_councils:
                return self._with_quote(claim, cited, False, 0.0, f"names {key}, which the cited item is not about")
        cited_ids = {h.chunk_id for h in cited}
        others = names_in(" ".join(h.text for h in evidence if h.chunk_id not in cited_ids))
        missing = missing_names(claim, context, [h.metadata.get("council", "") for h in cited], known_names=others)
        if missing:
            return self._with_quote(claim, cited, False, 0.0,
                                    f"names {', '.join(missing)}, which the cited minutes do not mention")
        similarity, hit, span = self._best_sentence(claim, cited)
        claim_tokens = set(lexical_tokens(claim))
        overlap = len(claim_tokens & set(lexical_tokens(context))) / len(claim_tokens) if claim_tokens else 0.0
        score = SIMILARITY_WEIGHT * similarity + (1 - SIMILARITY_WEIGHT) * overlap
        best_sentence = span.of(hit.text) if hit and span else ""
        problem = _reverses_the_minutes(claim, cited_text, best_sentence)
        if problem:  # a near copy with one word that turns it round scores as high as the copy
            return Verdict(False, 0.0, problem, hit, span)
        denials, source_denials = _negation_count(claim), _denials_beside(claim, best_sentence)
        if denials > source_denials or (source_denials and not denials):
            score -= 0.5  # "was not" against "was", or a denial the minutes do not make
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
        named = self._councils_named(claim)
        if len(named) != 1 or len(cited) < 2:
            return ""
        about = [h for h in cited if h.metadata.get("council_key") == named[0]
                 or named[0] in self._councils_named(h.text)]
        years = {str(year) for year in mentioned_years(claim)}  # a year dates the claim; the year check covers it
        figure = _figure_not_in(claim, " ".join(h.text for h in about), skipped=years)
        return f"the figure {figure} is not in the cited minutes about {named[0]}" if figure else ""

    def _councils_named(self, text: str) -> tuple[str, ...]:
        return named_councils(text, self.council_keys, self._named_with_a_capital, short_names=self._short_names)

    def _figures_of_two_councils(self, claim: str, cited: Sequence[Hit]) -> str:
        """Figures that no one council's cited minutes give together, in a claim that names no two councils ('The 57
        foster carers were recruited at a cost of £1.2 million [1][2]', the carers one council's and the cost
        another's): a claim neither council makes, or ''. A comparison that names its councils is let be."""
        by_council: dict[str, list[Hit]] = {}
        for hit in cited:
            by_council.setdefault(hit.metadata.get("council_key", ""), []).append(hit)
        if len(by_council) < 2 or len(self._councils_named(claim)) >= 2:
            return ""
        years = {str(year) for year in mentioned_years(claim)}
        wanted = [f for f in dict.fromkeys(figures(claim)) if any(ch.isdigit() for ch in f) and f not in years]
        if not wanted or any(not any(_figure_not_in(f, " ".join(f"{h.text} {_about(h)}" for h in hits)) for f in wanted)
                             for hits in by_council.values()):
            return ""
        return "joins figures from the minutes of different councils, which none of them gives together"

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
