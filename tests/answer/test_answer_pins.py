"""Pins for the extractive answer's named checks and plumbing (answer/amendments.py, candidates.py, combine.py,
extractive.py): behaviours a user sees that no other test held, each found by a mutant that survived the suite."""

from __future__ import annotations

from dataclasses import replace

import pytest

from assistant.answer.amendments import corrections_in, figures_of
from assistant.answer.extractive import draft_answer
from assistant.answer.passages import Passages
from assistant.answer.reader import OverlapReader
from assistant.index.lexical import LexicalEntry, build
from assistant.records import Amendment, Hit, Retrieval
from assistant.retrieve.question import analyse

from test_extractive import calibration

SCRUTINY = {"position": 0, "council": "Dale Council", "council_key": "dale",
            "committee": "Children's Scrutiny Committee"}
MINUTES = {"item_title": "Minutes of the Previous Meeting", "meeting_date": "2023-09-19"}


def _answer(tmp_path, quote: str, correction: str, question: str, title: str = "35. Children in Care",
            correction_meta: dict = MINUTES, reader=None, calibrated=None):
    """The draft answer when retrieval finds `quote` alone: minuted at Dale's scrutiny committee on 14 March 2023
    under `title`, with `correction` in the minutes item of its next meeting (19 September 2023)."""
    found = Passages(build([
        LexicalEntry("c1", quote, {**SCRUTINY, "source_id": "c1", "item_title": title, "meeting_date": "2023-03-14"}),
        LexicalEntry("c2", correction, {**SCRUTINY, "source_id": "c2", **correction_meta})], tmp_path / "bm25"))
    first = found.lexical.entries[0]
    return draft_answer(analyse(question, {"dale"}), Retrieval([Hit(first.chunk_id, first.text, first.metadata, 1 / 61)]),
                        found, reader or OverlapReader(), calibrated or calibration(0.0))


COUNT = "Children in Care. There were 412 looked-after children at 31 December 2022, the highest yet recorded."
ASKED = "How many looked-after children were there in Dale at 31 December 2022?"


def test_a_number_word_between_the_figure_and_its_correction_is_no_figure(tmp_path):
    """'one' in 'the 412 looked-after children, one in secure care, should read 421' is no figure: the
    correction is of 412, and 412 does not lead in bold."""
    fix = "Minutes. Minute 35 be amended: the 412 looked-after children, one in secure care, should read 421."
    assert [(was.text, now.text) for was, now in corrections_in(fix)] == [("412", "421")]
    draft = _answer(tmp_path, COUNT, fix, ASKED)
    assert draft.amendments == (Amendment(1, "412", "421"),) and draft.short_answer is None


def test_a_reference_number_is_no_figure_and_its_correction_no_correction_of_a_count(tmp_path):
    """A planning application's reference ('412/FUL') is a code: its correction is no correction of the 412
    looked-after children minute 35 counted."""
    fix = "Minutes. Minute 35 be amended: planning application 412/FUL should read 421/FUL."
    assert figures_of(fix) == [] and corrections_in(fix) == []
    draft = _answer(tmp_path, COUNT, fix, ASKED)
    assert not draft.amendments and draft.short_answer == "412"


def test_a_label_before_a_comma_does_not_make_the_figure_after_it_a_label(tmp_path):
    """'In the third quarter, 38 adoptions' counts adoptions: 'quarter' labels only a number it touches."""
    quote = "Adoption. In the third quarter, 38 adoptions were made, the most in any quarter."
    fix = "Minutes. Minute 35 be amended: in the third quarter, 38 adoptions should read 36."
    assert [(was.text, now.text) for was, now in corrections_in(fix)] == [("38", "36")]
    draft = _answer(tmp_path, quote, fix, "How many adoptions were made in Dale in the third quarter?",
                    title="35. Adoption")
    assert draft.amendments == (Amendment(1, "38", "36"),) and draft.short_answer is None


def test_a_rate_s_base_is_no_count_a_correction_could_be_of(tmp_path):
    """'10,000' in '65 per 10,000' is the rate's base: a correction of the rate to a bare 56 is no correction of
    a count of 10,000, and no note says the minutes amended 10,000."""
    quote = "Children in Care. The rate of looked-after children was 65 per 10,000 children, above the national rate."
    fix = "Minutes. Minute 35 be amended: the rate of 65 per 10,000 looked-after children should read 56."
    assert [f.text for _, f in figures_of(quote)] == ["65 per 10,000"] and corrections_in(fix) == []
    draft = _answer(tmp_path, quote, fix, "What was the rate of looked-after children in Dale?")
    assert not draft.amendments and [q.hit.chunk_id for q in draft.quotes] == ["c1"]


def test_a_time_is_no_figure_and_its_correction_corrects_no_count(tmp_path):
    """'10 am ... should read 11 am' corrects when a meeting began, not the 10 children minute 35 counted."""
    quote = "Children in Care. The Panel heard that 10 children had been placed out of the area."
    fix = "Minutes. Minute 35 be amended: the start time of 10 am should read 11 am."
    assert corrections_in(fix) == []
    draft = _answer(tmp_path, quote, fix, "How many children had been placed out of the area in Dale?")
    assert not draft.amendments and draft.short_answer == "10"


def test_a_figure_in_the_range_of_years_with_a_unit_is_a_figure_not_a_year(tmp_path):
    """'2000 hours' is a count of hours, not the year 2000: its correction is read, and 2000 does not lead."""
    quote = "Short Breaks. The service provided 2000 hours of short breaks to disabled children in the year."
    fix = "Minutes. Minute 35 be amended: the 2000 hours of short breaks should read 2200 hours."
    assert [(was.text, now.text) for was, now in corrections_in(fix)] == [("2000 hours", "2200 hours")]
    draft = _answer(tmp_path, quote, fix, "How many hours of short breaks did Dale provide?", title="35. Short Breaks")
    assert draft.amendments == (Amendment(1, "2000 hours", "2200 hours"),)
    assert [q.hit.chunk_id for q in draft.quotes] == ["c1", "c2"]


def test_a_bare_corrected_figure_in_the_range_of_years_does_not_lead(tmp_path):
    """'2000' read bare from '2000 hours' is the figure the next meeting corrected, not a year."""
    quote = "Short Breaks. The service provided 2000 hours of short breaks to disabled children in the year."
    fix = "Minutes. Minute 35 be amended: the 2000 hours of short breaks should read 2200 hours."
    draft = _answer(tmp_path, quote, fix, "How many hours of short breaks did Dale provide?", title="35. Short Breaks")
    assert draft.amendments and draft.short_answer is None  # it is '2000', the figure the next meeting corrected


def test_a_word_of_amending_after_a_figure_is_not_what_it_counts(tmp_path):
    """In 'should read 19 rather than 22 cases', 19 counts nothing named ('rather' is no noun), so the correction is
    of the 22 cases minute 35 gave."""
    quote = "Caseloads. Average caseloads were 22 cases for each social worker at the end of the year."
    fix = "Minutes. Minute 35: average caseloads should read 19 rather than 22 cases."
    assert [(was.text, now.text) for was, now in corrections_in(fix)] == [("22", "19")]
    draft = _answer(tmp_path, quote, fix, "What were average caseloads in Dale?", title="35. Caseloads")
    assert draft.amendments == (Amendment(1, "22", "19"),) and draft.short_answer is None


def test_a_correction_of_the_words_around_a_figure_is_no_correction_of_the_figure(tmp_path):
    """'412 reported in February should read 412 reported in March' corrects the month, not the figure: no note
    that 412 was amended to 412, and 412 still leads."""
    fix = "Minutes. Minute 35 be amended: the 412 reported in February should read 412 reported in March."
    assert corrections_in(fix) == []
    draft = _answer(tmp_path, COUNT, fix, ASKED)
    assert not draft.amendments and draft.short_answer == "412"


def test_the_figure_corrected_is_the_nearest_before_should_read(tmp_path):
    """In 'in 8 of the teams, average caseloads of 22 should read 19' it is 22 that should read 19, not 8."""
    quote = "Caseloads. Average caseloads were 22 cases for each social worker at the end of the year."
    fix = "Minutes. Minute 35 be amended: in 8 of the teams, average caseloads of 22 should read 19."
    assert [(was.text, now.text) for was, now in corrections_in(fix)] == [("22", "19")]
    draft = _answer(tmp_path, quote, fix, "What were average caseloads in Dale?", title="35. Caseloads")
    assert draft.amendments == (Amendment(1, "22", "19"),) and draft.short_answer is None


def test_a_correction_naming_another_minute_by_minute_no_is_not_applied(tmp_path):
    """'Minute No. 41' names minute 41, as 'Minute 41' does: its correction is not noted against minute 35's
    quote, though it shares the quote's words."""
    fix = "Minutes. Minute No. 41: the figure of 412 looked-after children should read 421."
    draft = _answer(tmp_path, COUNT, fix, ASKED)
    assert not draft.amendments and draft.short_answer == "412"
    named = _answer(tmp_path / "named", COUNT, fix.replace("41", "35", 1), ASKED)
    assert named.amendments == (Amendment(1, "412", "421"),) and named.short_answer is None


APPROVED = ("Minutes of the Previous Meeting. RESOLVED: That the minutes of the meeting held on 14 March 2023 be "
            "approved as a correct record subject to an amendment to minute 35: the figure of 412 looked-after "
            "children reported in March should read 421.")


def test_a_correction_of_a_figure_two_quotes_give_is_quoted_and_noted_once(tmp_path):
    """Both quotes give the 412 the next meeting corrected: the correction is quoted once and noted once (a note
    per amendment: the same note twice had read as two corrections)."""
    quote = COUNT + " Of the 412 looked-after children, 40 were placed out of the area."
    draft = _answer(tmp_path, quote, APPROVED, ASKED, calibrated=replace(calibration(0.0), second_quote_ratio=0.0))
    assert [q.hit.chunk_id for q in draft.quotes] == ["c1", "c2", "c1"]
    assert draft.amendments == (Amendment(1, "412", "421"),) and draft.short_answer is None


def test_a_correction_of_a_count_is_no_correction_of_a_sum_of_the_same_number(tmp_path):
    """Minute 35's '250 foster carers ... should read 205' corrects a count: the £250 allowance the quote gives is
    no count of carers, and is not noted as amended."""
    quote = "Fostering. The weekly fostering allowance rose to £250 for each child placed with a carer."
    fix = "Minutes. Minute 35 be amended: the 250 foster carers recorded should read 205."
    assert [(was.text, now.text) for was, now in corrections_in(fix)] == [("250", "205")]
    draft = _answer(tmp_path, quote, fix, "What was the weekly fostering allowance in Dale?", title="35. Fostering")
    assert not draft.amendments and [q.hit.chunk_id for q in draft.quotes] == ["c1"]


def test_words_of_the_record_are_not_what_a_correction_and_a_quote_share(tmp_path):
    """'the 412 children assessed, as recorded, should read 421' shares 'children' with the count of looked-after
    children, and 'recorded' only as the record's word: one word in common, so no correction of that count."""
    fix = ("Minutes. The minutes of the meeting held on 14 March 2023 were approved subject to an amendment: the 412 "
           "children assessed, as recorded, should read 421.")
    assert [(was.text, now.text) for was, now in corrections_in(fix)] == [("412", "421")]
    draft = _answer(tmp_path, COUNT, fix, ASKED)
    assert not draft.amendments and draft.short_answer == "412"


def test_what_a_correction_counts_may_be_named_before_both_its_figures(tmp_path):
    """'the number of looked-after children was 421 and not 412 as stated' names what it counts before its
    figures: that is the count the quote gives, so the correction is noted."""
    fix = ("Minutes. The minutes of the meeting held on 14 March 2023 were approved subject to an amendment: the "
           "number of looked-after children was 421 and not 412 as stated.")
    draft = _answer(tmp_path, COUNT, fix, ASKED)
    assert draft.amendments == (Amendment(1, "412", "421"),) and draft.short_answer is None


def test_a_confidence_at_the_refusal_threshold_is_answered(tmp_path):
    """Below the refusal threshold the answer is a refusal; at it, the question is answered."""
    from test_extractive import passages, retrieval

    found = passages(tmp_path)
    question = analyse("How many children were in care at the end of March?")
    confidence = draft_answer(question, retrieval(found), found, OverlapReader(), calibration(0.0)).confidence
    at = draft_answer(question, retrieval(found), found, OverlapReader(), calibration(confidence))
    assert at.refusal is None and at.short_answer == "412"
    assert draft_answer(question, retrieval(found), found, OverlapReader(),
                        calibration(confidence + 1e-9)).refusal == "not_stated"


def test_a_refusal_says_nothing_is_relevant_only_when_no_candidate_at_all_has_a_word_of_the_question(tmp_path):
    """The cheap scorer may leave the one item that speaks of foster carers unread (here it reads one sentence):
    the minutes found are still relevant, and the refusal says they do not state it, not that nothing is."""
    meta = {"position": 0, "council": "Dale Council", "council_key": "dale"}
    highways = ("Highways. The resurfacing programme for the A61 was agreed at a cost of £2 million. Works will start "
                "in the spring and finish by the autumn.")
    fostering = "Fostering. Members asked about foster carers. The recruitment campaign was noted."
    found = Passages(build([LexicalEntry("c1", highways, {**meta, "source_id": "s1", "item_title": "Highways"}),
                            LexicalEntry("c2", fostering, {**meta, "source_id": "s2", "item_title": "Fostering"})],
                           tmp_path / "bm25"))
    hits = Retrieval([Hit(e.chunk_id, e.text, e.metadata, 1 / (61 + n)) for n, e in enumerate(found.lexical.entries)])
    draft = draft_answer(analyse("How many foster carers were recruited in the year?"), hits, found, OverlapReader(),
                         replace(calibration(0.999), candidates_read=1))
    assert "A61" in draft.best.text  # the one sentence read
    assert draft.refusal == "not_stated" and draft.explanation == "The minutes found do not state what was asked."


def test_an_acronym_no_indexed_minutes_spell_out_is_no_veto(tmp_path):
    """An acronym the minutes never write ('IRO', for the Independent Reviewing Officer) is left to the learned
    input, as a council's initials are: the question is answered, not refused as about something the index lacks."""
    from test_extractive import passages, retrieval

    found = passages(tmp_path)
    draft = draft_answer(analyse("How many children were in care in Dale at the end of March, as the IRO reported?"),
                         retrieval(found), found, OverlapReader(), calibration(0.0))
    assert draft.refusal is None and draft.short_answer == "412"


def test_the_years_a_question_asks_about_are_looked_for_in_the_minutes_of_the_council_it_names(tmp_path):
    """'... in Rotherham in 2026?': Rotherham's minutes mention 2026, so the question is not refused because the
    items found first (Dale's) never do."""
    meta = {"position": 0, "council": "Dale Council", "council_key": "dale", "item_title": "Adoption"}
    found = Passages(build([
        LexicalEntry("c1", "Adoption. There were 38 adoptions in the year to 31 March 2019.",
                     {**meta, "source_id": "s1", "meeting_date": "2019-07-01"}),
        LexicalEntry("c2", "Adoption. Twelve adoptions were made in 2026.",
                     {**meta, "council": "Rotherham Council", "council_key": "rotherham", "source_id": "s2"})],
        tmp_path / "bm25"))
    dale = found.lexical.entries[0]
    draft = draft_answer(analyse("How many adoptions were made in Rotherham in 2026?", {"dale", "rotherham"}),
                         Retrieval([Hit(dale.chunk_id, dale.text, dale.metadata, 1 / 61)]), found, OverlapReader(),
                         calibration(0.0))
    assert draft.refusal is None, draft.explanation


def test_a_short_answer_that_counts_something_is_not_the_bare_corrected_percentage(tmp_path):
    """The next meeting corrected '72 per cent'; '72 care leavers' read from the same quote counts people, is not
    that figure, and still leads (a bare '72' would not: test_amendments)."""
    from test_amendments import ShortAnswerReader

    quote = ("Care Leavers. The rate of care leavers in education was 72 per cent, and 72 care leavers were in "
             "work.")
    fix = ("Minutes. The minutes of the meeting held on 14 March 2023 were approved subject to an amendment: the "
           "rate of care leavers in education of 72 per cent should read 62 per cent.")
    draft = _answer(tmp_path, quote, fix, "How many care leavers were in work in Dale?", title="Care Leavers",
                    reader=ShortAnswerReader("72 care leavers"))
    assert draft.amendments == (Amendment(1, "72 per cent", "62 per cent"),)
    assert draft.short_answer == "72 care leavers"


def test_a_short_answer_that_opens_its_sentence_leads(tmp_path):
    """'412 children were in care ...': the reader's short answer is the sentence's first word, not the item header
    before it, and leads."""
    sentence = "412 children were in care in Dale at the end of March."
    entries = [LexicalEntry("c1", f"Children in Care. {sentence}", {"source_id": "s1", "position": 0,
                                                                   "council": "Dale Council", "council_key": "dale",
                                                                   "item_title": "Children in Care"})]
    found = Passages(build(entries, tmp_path / "bm25"))
    draft = draft_answer(analyse("How many children were in care in Dale at the end of March?"),
                         Retrieval([Hit(e.chunk_id, e.text, e.metadata, 1 / 61) for e in found.lexical.entries]),
                         found, OverlapReader(), calibration(0.0))
    assert draft.quotes[0].text == sentence and draft.short_answer == "412"


def test_a_calibration_whose_answerability_was_fitted_on_other_inputs_is_refused(tmp_path):
    """An answerability model fitted on other inputs than ANSWERABILITY_INPUTS would weigh the wrong numbers and
    refuse or answer at random: it is refused with what to do, as a changed cheap scorer is."""
    import json

    from assistant.answer.extractive import Calibration
    from assistant.errors import ModelError
    from assistant.answer.reader import READER_DIR

    data = json.loads((READER_DIR / "calibration.json").read_text(encoding="utf-8"))
    data["answerability"]["names"] = list(reversed(data["answerability"]["names"]))
    (tmp_path / "calibration.json").write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(ModelError, match="was fitted on other features"):
        Calibration.load(tmp_path)
