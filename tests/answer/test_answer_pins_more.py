"""More pins for the extractive answer (answer/candidates.py, combine.py, extractive.py): behaviours a user sees that
no other test held, each found by a mutant that survived the suite (a second mutation run)."""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from assistant.answer.candidates import FEATURE_NAMES
from assistant.answer.combine import ANSWERABILITY_INPUTS, Combination
from assistant.answer.extractive import draft_answer, restates_question
from assistant.answer.passages import Passages
from assistant.answer.reader import OverlapReader
from assistant.index.lexical import LexicalEntry, build
from assistant.records import Hit, Retrieval
from assistant.retrieve.question import analyse

from test_amendments import ShortAnswerReader
from test_extractive import calibration

DALE = {"position": 0, "council": "Dale Council", "council_key": "dale"}


def _found(tmp_path, *items: tuple[str, dict]) -> tuple[Passages, Retrieval]:
    """Dale's items, one chunk each, all retrieved alike (`items` as text and metadata)."""
    found = Passages(build([LexicalEntry(f"c{n}", text, {**DALE, "source_id": f"s{n}", **meta})
                            for n, (text, meta) in enumerate(items, 1)], tmp_path / "bm25"))
    return found, Retrieval([Hit(e.chunk_id, e.text, e.metadata, 1 / 61) for e in found.lexical.entries])


def _weighing(name: str, weight: float, bias: float = 0.0, threshold: float = 0.5, **changes):
    """The test calibration with an answerability model that weighs one of ANSWERABILITY_INPUTS alone."""
    weights = np.zeros(len(ANSWERABILITY_INPUTS))
    weights[ANSWERABILITY_INPUTS.index(name)] = weight
    return replace(calibration(threshold), answerability=Combination(ANSWERABILITY_INPUTS, weights, bias), **changes)


def _cheap_scorer(**weights: float) -> Combination:
    """A cheap scorer (which candidates are read, and in what order) weighing the named features alone."""
    return Combination(FEATURE_NAMES, np.array([weights.get(name, 0.0) for name in FEATURE_NAMES]), 0.0)


CARE = {"item_title": "Children in Care"}


def test_a_latest_figure_question_leads_with_the_likeliest_sentence_of_the_newest_meeting(tmp_path):
    """The newest meeting's item says first that 40 children left care in the quarter, then that 412 were in care:
    'What is the latest number ...?' leads with 412 in bold, the likelier of that meeting's sentences, not with
    the 40 that comes first in the item."""
    found, hits = _found(
        tmp_path,
        ("Children in Care. There were 388 children in care in Dale at the end of the year.",
         {**CARE, "meeting_date": "2022-07-01"}),
        ("The Panel heard that 40 children had left care in the quarter. There were 412 children in care in Dale at "
         "the end of June.", {**CARE, "meeting_date": "2024-07-01"}))
    read_in_order = replace(calibration(0.0), second_quote_ratio=0.1, cheap_scorer=_cheap_scorer())
    draft = draft_answer(analyse("What is the latest number of children in care in Dale?"), hits, found,
                         OverlapReader(), read_in_order)
    assert draft.quotes[0].text == "There were 412 children in care in Dale at the end of June."
    assert draft.short_answer == "412"


def test_a_short_answer_made_of_every_word_the_question_asks_with_is_not_given(tmp_path):
    """'three key objectives' for a search typed as its keywords, 'Three key objectives?', says only what the
    question says: the objectives are quoted, with nothing in bold."""
    assert restates_question("three key objectives", "Three key objectives?")
    found, hits = _found(tmp_path, ("Corporate Plan. The Cabinet agreed three key objectives for the plan: safer "
                                    "streets, cleaner air and more homes.", {"item_title": "Corporate Plan"}))
    draft = draft_answer(analyse("Three key objectives?"), hits, found,
                         ShortAnswerReader("three key objectives"), calibration(0.0))
    assert "safer streets" in draft.quotes[0].text and draft.short_answer is None


def test_the_month_of_an_item_s_meeting_counts_as_mentioned(tmp_path):
    """'... at the March 2024 meeting?' names the month the item's meeting was held: March is no name the items
    never mention, though their text does not say it, and the question is answered."""
    found, hits = _found(tmp_path, ("Children in Care. The Panel heard that 412 children were in care.",
                                    {**CARE, "meeting_date": "2024-03-12"}))
    draft = draft_answer(analyse("How many children were in care in Dale at the March 2024 meeting?", {"dale"}),
                         hits, found, OverlapReader(), _weighing("names_missing", -20.0, bias=5.0))
    assert draft.refusal is None and draft.short_answer == "412"


COUNTED = ("Children in Care. At the end of March there were 412 children in care. Members thanked the officers for "
           "their work.", CARE)
HIGHWAYS = ("Highways. The resurfacing programme for the A61 between the ring road and the northern boundary was "
            "agreed, with works to start in the spring and to finish before the autumn half term.",
            {"item_title": "Highways"})
COUNT_ASKED = "How many children were in care at the end of March?"


def test_a_reader_surer_of_its_best_sentence_than_of_the_next_is_more_confident(tmp_path):
    """The reader finds 'there were 412 children in care' far likelier than any other sentence: that margin makes the
    answer more confident (a model that counts it answers), not less (it had been refused)."""
    found, hits = _found(tmp_path, COUNTED)
    draft = draft_answer(analyse(COUNT_ASKED), hits, found, OverlapReader(), _weighing("reader_margin", 1.0))
    assert draft.refusal is None and draft.short_answer == "412"


def test_the_confidence_weighs_the_coverage_of_the_sentence_quoted_not_of_the_first_read(tmp_path):
    """The cheap scorer reads the long Highways sentence first; the sentence quoted is the count of children in care,
    which has the question's words: its coverage is what the confidence weighs, and the question is answered."""
    found, hits = _found(tmp_path, HIGHWAYS, COUNTED)
    longest_first = _weighing("coverage_of_best", 10.0, bias=-5.0, cheap_scorer=_cheap_scorer(length=1.0))
    draft = draft_answer(analyse(COUNT_ASKED), hits, found, OverlapReader(), longest_first)
    assert draft.refusal is None and draft.short_answer == "412"


def test_the_confidence_weighs_the_short_answer_of_the_sentence_quoted_not_of_another(tmp_path):
    """'Who chairs the Corporate Parenting Board?': the likeliest sentence names the chair, and the reader reads no
    short answer in it; a figure in another sentence read ('met 4 times') does not make the answer more confident."""
    found, hits = _found(tmp_path, ("Corporate Parenting Board. Councillor Patel chairs the Corporate Parenting Board. "
                                    "The Board met 4 times in the year.", {"item_title": "Corporate Parenting Board"}))
    draft = draft_answer(analyse("Who chairs the Corporate Parenting Board?"), hits, found, OverlapReader(),
                         _weighing("short_answer_margin", 5.0))
    assert draft.refusal == "not_stated" and "Councillor Patel" in draft.best.text


def test_a_sentence_an_item_repeats_does_not_take_the_place_of_a_second_quote(tmp_path):
    """The item gives its count of children in care twice, word for word; the reader hesitates between that count and
    the children placed out of the area: both are quoted, and the repeated count once (it had taken the second
    quote's place and then been dropped as said already, leaving one quote)."""
    count = "There were 412 children in care at the end of March."
    found, hits = _found(tmp_path, (f"Children in Care. {count} Of the children in care, 40 were placed out of the "
                                    f"area. {count}", CARE))
    draft = draft_answer(analyse(COUNT_ASKED), hits, found, OverlapReader(),
                         replace(calibration(0.3), second_quote_ratio=0.5))
    assert [q.text for q in draft.quotes] == [count, "Of the children in care, 40 were placed out of the area."]


def test_a_two_word_heading_is_no_sentence_to_quote(tmp_path):
    """'Budget Monitoring.' heads the item and reads as likely as the sentence under it: 'What did budget monitoring
    show?' is answered with the forecast overspend, £2.1 in bold, not with the heading and nothing in bold."""
    found, hits = _found(tmp_path, ("Budget Monitoring. The forecast overspend for the year was £2.1 million.",
                                    {"item_title": "Budget Monitoring"}))
    draft = draft_answer(analyse("What did budget monitoring show?"), hits, found, OverlapReader(), calibration(0.0))
    assert draft.quotes[0].text == "The forecast overspend for the year was £2.1 million."
    assert draft.short_answer == "£2.1"


# Fitting (answer/combine.py): what a retrained reader's calibration holds, and so what its users see.

def test_weights_fitted_on_inputs_that_separate_the_labels_stay_finite():
    """The answerable questions all have the higher input: unpenalised, the weight runs off towards infinity and the
    fitted probabilities to 0 and 1, so every answer would be certain or refused. The penalty keeps it moderate."""
    from assistant.answer.combine import fit_logistic

    weights, bias = fit_logistic(np.array([[0.0], [1.0], [2.0], [3.0]]), np.array([0, 0, 1, 1]))
    assert 0.5 < weights[0] < 5.0 and np.isfinite(bias)


def test_a_question_with_two_answering_sentences_counts_as_one_question():
    """Two sentences of a question both answer it: the choice is fitted towards each with half the question's
    weight, as two half-weight questions with one answer each, not as two whole questions."""
    from assistant.answer.combine import fit_conditional_logit

    rng = np.random.default_rng(0)
    both, halves = [], []
    for _ in range(20):
        inputs = rng.normal(0, 1, (5, 2))
        inputs[:2, 0] += 1.0  # the answering sentences score higher on the first input
        both.append((inputs, np.array([1.0, 1.0, 0, 0, 0]), 1.0))
        halves += [(inputs, np.array([1.0, 0, 0, 0, 0]), 0.5), (inputs, np.array([0, 1.0, 0, 0, 0]), 0.5)]
    assert np.allclose(fit_conditional_logit(both), fit_conditional_logit(halves), atol=1e-6)


def test_a_combination_written_and_read_back_gives_the_probabilities_it_was_fitted_to():
    """calibration.json keeps the fitted weights to six places: read back, the combination gives the probabilities
    it was validated with (to two places, a weight of 0.898267 had been 0.9, and a confidence near the refusal
    threshold could fall either side)."""
    combination = Combination(("best_reader_logit", "reader_margin"), np.array([0.898267, -0.408848]), 1.981687)
    read_back = Combination.from_dict(combination.as_dict())
    inputs = np.array([[2.5, 1.2], [-3.0, 0.4]])
    assert np.allclose(read_back.probabilities(inputs), combination.probabilities(inputs), atol=1e-6)


def test_a_heading_of_some_of_its_item_s_title_words_leads_with_no_short_answer(tmp_path):
    """The minutes head the item 'Ofsted Visit 2023', the words of its longer title 'Ofsted Focused Visit 2023:
    Outcome' less two: a heading still, so '2023' does not lead in bold as the answer to what happened at the visit."""
    heading = "Ofsted Visit 2023"
    found, hits = _found(tmp_path, (f"{heading}\nNoted.", {"item_title": "Ofsted Focused Visit 2023: Outcome"}))
    draft = draft_answer(analyse("What happened at the Ofsted visit in Dale?"), hits, found, OverlapReader(),
                         calibration(0.0))
    assert draft.quotes[0].text == heading and draft.short_answer is None


def test_a_list_exactly_as_long_as_the_words_shown_is_shown_whole():
    """A quote introduces a list of priorities whose five items come to LIST_WORDS words, 60, exactly: all five are
    shown, with no '\u2026' in place of the last as if the list went on."""
    from assistant.answer.candidates import LIST_WORDS, list_after
    from assistant.records import ScoredSentence

    items = ["1. Strengthen the front door so that families get help much sooner.",
             "2. Grow the early help offer in every locality across the borough.",
             "3. Recruit more foster carers so that fewer children live far away.",
             "4. Reduce social worker caseloads and the use of agency staff further.",
             "5. Improve the offer to care leavers for housing, education and work."]
    assert sum(len(item.split()) for item in items) == LIST_WORDS
    lead = "The Plan identified the following priorities for the year:"
    text = "\n".join([lead, *items, "Members thanked the officers."])
    quote = ScoredSentence(Hit("c1", text, {"source_id": "s1"}, 1.0), 0, 0, len(lead), 0.9, 0.9)
    assert list_after(quote) == items


def test_a_sentence_without_its_full_stop_that_more_of_the_item_follows_is_not_cut_off(tmp_path):
    """Minutes often leave a line without its full stop: 'The Panel heard that 12 new foster carers had been approved
    in the year', with the resolution on the next line. More of the item follows, so it is no sentence cut off, and
    12 leads in bold."""
    found, hits = _found(tmp_path, ("Fostering. The Panel heard that 12 new foster carers had been approved in the "
                                    "year\nRESOLVED: That the report be noted.", {"item_title": "Fostering"}))
    draft = draft_answer(analyse("How many new foster carers were approved in Dale?"), hits, found, OverlapReader(),
                         calibration(0.0))
    assert draft.quotes[0].text.endswith("approved in the year") and draft.short_answer == "12"


def test_a_sentence_run_on_into_the_item_s_last_chunk_that_the_text_cuts_off_is_cut_off(tmp_path):
    """A sentence too long for one chunk runs into the item's last chunk, where the minutes' text stops mid-sentence:
    quoted whole, it is the item's last words and cut off (the answer marks it so), though the piece the reader read
    stood in the chunk before."""
    from assistant.answer.candidates import cut_off_at_item_end, whole_sentence
    from assistant.records import ScoredSentence

    first = "Missing Children. Members asked about missing children. She said there were 2 missing children "
    last = "aged 16 and 17 and two other"
    meta = {**DALE, "source_id": "s1", "item_title": "Missing Children"}
    found = Passages(build([
        LexicalEntry("c1", first, {**meta, "position": 0, "char_start": 0, "char_end": len(first)}),
        LexicalEntry("c2", last, {**meta, "position": 1, "char_start": len(first), "char_end": len(first + last)})],
        tmp_path / "bm25"))
    chunk = found.lexical.entries[0]
    at = first.index("She said")
    piece = ScoredSentence(Hit(chunk.chunk_id, chunk.text, chunk.metadata, 1.0), 0, at, len(first.rstrip()), 0.9, 0.9)
    quote = whole_sentence(piece, found)
    assert quote.text == "She said there were 2 missing children aged 16 and 17 and two other"
    assert cut_off_at_item_end(quote, found)


def test_an_item_s_last_words_without_a_full_stop_ending_on_a_name_are_not_cut_off(tmp_path):
    """The item ends 'She said 14 foster carers had been approved by the Fostering Panel', with no full stop: a
    sentence that ends on a name is whole (a cut one ends on a lower-case word), so it is not marked cut off and 14
    leads in bold."""
    found, hits = _found(tmp_path, ("Fostering. Members asked about recruitment.\nShe said 14 foster carers had been "
                                    "approved by the Fostering Panel", {"item_title": "Fostering"}))
    draft = draft_answer(analyse("How many foster carers had been approved in Dale?"), hits, found, OverlapReader(),
                         calibration(0.0))
    assert draft.quotes[0].text.endswith("the Fostering Panel") and draft.short_answer == "14"


def test_an_item_s_last_line_of_eight_words_stopping_mid_sentence_is_cut_off(tmp_path):
    """The minutes' text stops at 'She said there were 2 missing children and', eight words on a line of their own:
    too long for an entry of its own (ENTRY_WORDS), so a sentence cut off, and 2 does not lead in bold."""
    last = "She said there were 2 missing children and"
    assert len(last.split()) == 8
    found, hits = _found(tmp_path, (f"Missing Children. Members asked about missing children.\n{last}",
                                    {"item_title": "Missing Children"}))
    draft = draft_answer(analyse("How many missing children were there in Dale?"), hits, found, OverlapReader(),
                         calibration(0.0))
    assert draft.quotes[0].text == last and draft.short_answer is None


def _choosing(**weights: float):
    """The test calibration whose choice of sentence weighs the reader's logit and the named features."""
    chosen = np.array([weights.get(name, 0.0) for name in FEATURE_NAMES] + [1.0])
    return replace(calibration(0.0), combination=Combination(FEATURE_NAMES + ("reader",), chosen, 0.0))


APPROVED_ASKED = "How many foster carers were approved?"


def test_a_count_written_as_a_word_is_a_figure(tmp_path):
    """'Twelve foster carers were approved.' gives a figure, as '12' would: for 'How many ...?' it is chosen over a
    sentence as likely to the reader that gives none."""
    found, hits = _found(tmp_path, ("Fostering. Foster carers were approved by the Panel. Twelve foster carers were "
                                    "approved.", {"item_title": "Fostering"}))
    draft = draft_answer(analyse(APPROVED_ASKED), hits, found, OverlapReader(), _choosing(number=1.0))
    assert draft.quotes[0].text == "Twelve foster carers were approved."


def test_a_year_alone_is_no_figure(tmp_path):
    """'In 2023 foster carers were approved by the Panel.' gives a year, not how many: for 'How many ...?' the
    sentence that gives the count is chosen over it."""
    found, hits = _found(tmp_path, ("Fostering. In 2023 foster carers were approved by the Panel. Twelve foster "
                                    "carers were approved.", {"item_title": "Fostering"}))
    draft = draft_answer(analyse(APPROVED_ASKED), hits, found, OverlapReader(), _choosing(number=1.0))
    assert draft.quotes[0].text == "Twelve foster carers were approved."


def test_a_councillor_written_cllr_is_a_person(tmp_path):
    """'Who chaired ...?': 'Cllr Patel chaired the Corporate Parenting Board.' names a person, as 'Councillor Patel'
    would, and is chosen over a sentence as likely to the reader that names none."""
    found, hits = _found(tmp_path, ("Corporate Parenting Board. The Corporate Parenting Board was chaired well. Cllr "
                                    "Patel chaired the Corporate Parenting Board.",
                                    {"item_title": "Corporate Parenting Board"}))
    draft = draft_answer(analyse("Who chaired the Corporate Parenting Board?"), hits, found, OverlapReader(),
                         _choosing(person=1.0))
    assert draft.quotes[0].text == "Cllr Patel chaired the Corporate Parenting Board."


def test_a_sentence_of_another_council_than_the_one_asked_about_counts_against_it(tmp_path):
    """'... in Dale ...?': Rotherham's count has more of the question's words, but it is another council's, which
    counts against it (not merely for nothing): Dale's 412 leads."""
    rotherham = {"council": "Rotherham Council", "council_key": "rotherham"}
    found, hits = _found(tmp_path, ("Children in Care. There were 412 children in care.", CARE),
                         ("Children in Care. At the end of March there were 388 children in care.",
                          {**CARE, **rotherham}))
    draft = draft_answer(analyse("How many children were in care in Dale at the end of March?", {"dale", "rotherham"}),
                         hits, found, OverlapReader(), _choosing(council=1.2))
    assert draft.quotes[0].text == "There were 412 children in care." and draft.short_answer == "412"


def test_a_sentence_without_the_kind_of_answer_asked_for_counts_against_it(tmp_path):
    """'How many ...?': 'Foster carers were approved by the Panel in the year.' has more of the question's words but
    gives no figure, which counts against it (not merely for nothing): the sentence with the count leads."""
    found, hits = _found(tmp_path, ("Fostering. There were 12 approvals. Foster carers were approved by the Panel in "
                                    "the year.", {"item_title": "Fostering"}))
    draft = draft_answer(analyse("How many foster carers were approved in the year?"), hits, found, OverlapReader(),
                         _choosing(number=2.0))
    assert draft.quotes[0].text == "There were 12 approvals." and draft.short_answer == "12"


def test_a_sentence_with_its_full_stop_is_no_heading_though_its_words_are_the_title_s(tmp_path):
    """The item's title sums up its decision, 'Fostering: 12 New Foster Carers were Approved', and the minutes say
    '12 new foster carers were approved.': a sentence, ended, not a heading repeating the title, so 12 leads in bold."""
    found, hits = _found(tmp_path, ("Members welcomed the report.\n12 new foster carers were approved.",
                                    {"item_title": "Fostering: 12 New Foster Carers were Approved"}))
    draft = draft_answer(analyse("How many new foster carers were approved in Dale?"), hits, found, OverlapReader(),
                         calibration(0.0))
    assert draft.quotes[0].text == "12 new foster carers were approved." and draft.short_answer == "12"


def test_a_sentence_run_over_three_chunks_is_quoted_whole_from_its_last_piece(tmp_path):
    """A sentence too long for two chunks runs over three; the reader read its last piece, 'two other children who
    had returned home.': it is quoted from 'She said' on, not from the middle of the sentence where the second chunk
    starts."""
    from assistant.answer.candidates import whole_sentence
    from assistant.records import ScoredSentence

    pieces = ["Missing Children. Members asked about missing children. She said that across the borough there were ",
              "2 missing children aged 16 and 17, both known to the service and placed out of the area, and ",
              "two other children who had returned home. The Panel noted the report."]
    meta = {**DALE, "source_id": "s1", "item_title": "Missing Children"}
    starts = [sum(len(p) for p in pieces[:n]) for n in range(4)]
    found = Passages(build([LexicalEntry(f"c{n}", piece, {**meta, "position": n, "char_start": starts[n],
                                                         "char_end": starts[n + 1]})
                            for n, piece in enumerate(pieces)], tmp_path / "bm25"))
    chunk = found.lexical.entries[2]
    end = chunk.text.index(" The Panel")
    piece = ScoredSentence(Hit(chunk.chunk_id, chunk.text, chunk.metadata, 1.0), 0, 0, end, 0.9, 0.9)
    assert whole_sentence(piece, found).text == (
        "She said that across the borough there were 2 missing children aged 16 and 17, both known to the service "
        "and placed out of the area, and two other children who had returned home.")


def test_a_sentence_of_an_item_retrieval_ranked_first_counts_that_rank_though_its_own_chunk_was_not_found(
        tmp_path):
    """Retrieval found the first chunk of Dale's children in care item, first, and a Highways item's chunk second; the
    count stands in the item's second chunk, which it did not return. The count is scored by its item's rank, as
    retrieval rated the item, not as a sentence retrieval never found: it leads over the Highways item's sentence,
    which the reader finds as likely."""
    meta = {**DALE, "source_id": "s1", "item_title": "Children in Care"}
    found = Passages(build([
        LexicalEntry("c1", "Children in Care. The Panel received the quarterly report.", {**meta, "position": 0}),
        LexicalEntry("c2", "There were 412 children in care.", {**meta, "position": 1}),
        LexicalEntry("c3", "Highways. There were 38 children in care of the crossing patrols.",
                     {**DALE, "source_id": "s2", "item_title": "Highways"})], tmp_path / "bm25"))
    first, _, highways = found.lexical.entries
    hits = Retrieval([Hit(first.chunk_id, first.text, first.metadata, 1 / 61),
                      Hit(highways.chunk_id, highways.text, highways.metadata, 1 / 62)])
    draft = draft_answer(analyse("How many children were in care?"), hits, found, OverlapReader(),
                         _choosing(retrieval=5.0))
    assert draft.quotes[0].text == "There were 412 children in care." and draft.short_answer == "412"


def test_a_sentence_counts_as_long_at_sixty_words_however_much_longer_it_runs(tmp_path):
    """Two sentences about the fostering service read alike to the reader; the second runs on for ninety words. Length
    counts up to sixty words and no further, so the rambling one does not lead for being longer."""
    words = ("officers described recruitment campaigns training support payments placements carers households "
             "retention panels assessments reviews stability matching allowances respite mentoring events").split()
    first = "The fostering service covered " + ", ".join((words * 3)[:56]) + "."
    second = "The fostering service covered " + ", ".join((words * 5)[:86]) + "."
    assert (len(first.split()), len(second.split())) == (60, 90)
    found, hits = _found(tmp_path, (f"Fostering. {first} {second}", {"item_title": "Fostering"}))
    draft = draft_answer(analyse("What about the fostering service?"), hits, found, OverlapReader(),
                         _choosing(length=1.0))
    assert draft.quotes[0].text == first


def test_an_amount_written_as_the_year_asked_about_is_checked_as_any_figure(tmp_path):
    """'2,023 families ... in 2022' is a count of 2022 that only reads as the year asked about: for a question about
    2023 it does not lead in bold (the year 2023 itself, given as the short answer, would not be checked)."""
    from assistant.answer.extractive import of_another_year

    sentence = "There were 2,023 families using short breaks in 2022, against 1,870 in 2021."
    assert of_another_year("2,023", sentence, "How many households used short breaks in Dale in 2023?")
    assert not of_another_year("2023", "The budget for 2023 was agreed by Cabinet.", "What was agreed in 2023?")
    found, hits = _found(tmp_path, (f"Short Breaks. {sentence}", {"item_title": "Short Breaks"}),
                         ("Budget. The budget for 2023 was agreed by Cabinet.", {"item_title": "Budget"}))
    draft = draft_answer(analyse("How many households used short breaks in Dale in 2023?"), hits, found,
                         ShortAnswerReader("2,023 families"), calibration(0.0))
    assert draft.quotes[0].text == sentence and draft.short_answer is None
