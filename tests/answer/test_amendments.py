"""A figure quoted from minutes that a later meeting corrected, when it approved them 'subject to an amendment', is
quoted with the correction and a note, and never leads as the short answer (answer/amendments.py)."""

from __future__ import annotations

from dataclasses import replace

from assistant.answer.amendments import corrections_in, figures_of, later_amendments, mentions_figure
from assistant.answer.extractive import draft_answer
from assistant.answer.passages import Passages
from assistant.answer.reader import OverlapReader
from assistant.index.lexical import LexicalEntry, build
from assistant.records import Amendment, Hit, Retrieval
from assistant.retrieve.question import analyse

from test_extractive import calibration

COUNT = "Children in Care. There were 412 looked-after children at 31 December 2022, the highest yet recorded."
APPROVED = ("Minutes of the Previous Meeting. RESOLVED: That the minutes of the meeting held on 14 March 2023 be "
            "approved as a correct record subject to an amendment to minute 35: the figure of 412 looked-after "
            "children reported in March should read 421.")


def _corrected(sentence: str) -> list[tuple[str, str]]:
    return [(was.text, now.text) for was, now in corrections_in(sentence)]


def test_a_correction_is_read_with_the_figure_it_replaces_on_either_side_of_its_phrase():
    assert _corrected(APPROVED) == [("412", "421")]
    for sentence, pair in [
            ("subject to an amendment to minute 23 so that the payment reads £2,500 rather than £3,000.",
             ("£3,000", "£2,500")),
            ("The minutes were approved, but the rate of 71% in minute 12 should have read 17%.", ("71%", "17%")),
            ("Minute 8 (Caseloads): average caseloads should read 19 rather than 22.", ("22", "19")),  # not minute 8
            ("the number looked after at 31 March 2023 was 213 and not 231 as stated.", ("231", "213")),
            ("the 17 households recorded in minute 9 was in fact 14, and the minutes be corrected.", ("17", "14")),
            ("the rate of 65 per 10,000 should read 56 per 10,000.", ("65 per 10,000", "56 per 10,000")),
            ("the wait of 12 weeks should read 14 weeks.", ("12 weeks", "14 weeks")),
            ("the projected overspend of £1.2m be amended to read £2.1m.", ("£1.2m", "£2.1m")),
            ("minute 44 being corrected to read '62 per cent' rather than '72 per cent'.",
             ("72 per cent", "62 per cent")),
            ("the legal costs of £1.2 million should read £2.1 million.", ("£1.2 million", "£2.1 million")),
            ("the rate of 72 percent should read 62%.", ("72 percent", "62%"))]:
        assert _corrected(sentence) == [pair], sentence
    # No correction: figures of different kinds, a figure too far from the phrase, years, a date's day, one figure,
    # a target ('should be'), a financial year, a change of plan or policy, a question, a replacement (a change as
    # often as a correction: not read).
    for sentence in ("The payment of £3,000 should read 30% of salary.",
                     "There were 412 children and many carers were recruited over the long year so the count "
                     "should read 421.",
                     "The minutes of 2022 should read 2023.",
                     "The meeting on 14 March should read 21 March.",
                     "The figure should read 421.",
                     "Further to minute 30, the re-referral rate of 22% should be reduced to 18%.",
                     "The minutes on the 2023/24 budget should read 36.",
                     # a change since, under matters arising, not a correction of the record
                     "Further to minute 29, the service would now commission 30 beds rather than 24.",
                     "Referring to minute 41, the policy had been amended so that it is now £500 rather than £350.",
                     # a question
                     "Councillor Jones asked whether the 17 complaints recorded should have been 27.",
                     "Should the 17 complaints recorded in the minutes have read 27 rather than 17?",
                     # the approval's own 'correct record' is no word of the record beside a figure
                     "The minutes were approved as a correct record; the service would commission 30 beds rather "
                     "than 24.",
                     # a change since, in words that need no 'read'; a date, written with ordinals
                     "Further to minute 12, 3 agency social workers had been replaced by 5 permanent staff.",
                     "The minutes be amended: the meeting on 14th March should read 21st March.",
                     "Minute 23, paragraph 2, third line: '£3,000' to be replaced with '£2,500'.",
                     # updates since, as matters arising gives them
                     "Further to minute 37, of the 12 complaints reported, the number upheld was in fact 3.",
                     "Minute 35: the overspend was now £1.4 million rather than £1.2 million as reported.",
                     "Further to minute 40, the 40 children in the challenge should read 6 books each.",
                     # dates and times in figures, codes
                     "The minutes be amended: 14.03.2023 should read 21.03.2023.",
                     "The minutes be amended: the start at 10 am should read 2 pm.",
                     "The minutes be amended: Q2 should read Q3.",
                     # a unit's word with no number after it ends the text
                     "The minutes be amended: the rate should read 5 per", "The minutes read 5 percentage",
                     # a word of the record, but not beside a figure
                     "As the minutes recorded at some length, the Director said the service would now commission "
                     "30 beds rather than 24."):
        assert _corrected(sentence) == [], sentence
    assert mentions_figure("There were 412 children.", "412") and not mentions_figure("It cost £412.", "412")
    assert not mentions_figure("There were 412 children.", "£412") and not mentions_figure("2,412 children", "412")
    assert [f.text for _, f in figures_of("On 14 March 2023 there were 412 children, 3% up, costing £1,200 in "
                                          "2023/24, in Quarter 2 and minute 8, £1.2m, 72 per cent.")] == [
        "412", "3%", "£1,200", "£1.2m", "72 per cent"]


MINUTES = {"item_title": "Minutes of the Previous Meeting", "meeting_date": "2023-09-19"}


def _indexed(tmp_path, *later: tuple[str, dict]) -> Passages:
    """COUNT, minuted at Dale's scrutiny committee on 14 March 2023 as item 35, and these later chunks."""
    meta = {"position": 0, "council": "Dale Council", "council_key": "dale",
            "committee": "Children's Scrutiny Committee"}
    entries = [LexicalEntry("c1", COUNT, {**meta, "source_id": "c1", "item_title": "35. Children in Care",
                                          "meeting_date": "2023-03-14"})]
    entries += [LexicalEntry(f"c{n}", text, {**meta, "source_id": f"c{n}", **extra})
                for n, (text, extra) in enumerate(later, start=2)]
    return Passages(build(entries, tmp_path / "bm25"))


def _draft(tmp_path, *later: tuple[str, dict]):
    """The draft answer when retrieval finds COUNT alone."""
    found = _indexed(tmp_path, *later)
    first = found.lexical.entries[0]
    return draft_answer(analyse("How many looked-after children were there in Dale at 31 December 2022?", {"dale"}),
                        Retrieval([Hit(first.chunk_id, first.text, first.metadata, 1 / 61)]), found,
                        OverlapReader(), calibration(0.0))


def test_the_next_meeting_s_correction_of_a_quoted_figure_follows_it_and_no_short_answer_leads(tmp_path):
    """'How many looked-after children ... at 31 December 2022?' had led with 412 in bold, though the next meeting
    approved those minutes with 412 corrected to 421, which was never shown."""
    draft = _draft(tmp_path, (APPROVED, MINUTES))
    assert [q.hit.chunk_id for q in draft.quotes] == ["c1", "c2"]  # retrieval found only c1
    assert draft.quotes[1].text == APPROVED[len("Minutes of the Previous Meeting. "):]
    assert draft.amendments == (Amendment(1, "412", "421"),) and draft.short_answer is None
    # A correction naming the quote's minute (its item's number), its figure standing alone.
    named = _draft(tmp_path / "named", ("Minute 35: the total should read 421 rather than 412.", MINUTES))
    assert named.amendments == (Amendment(1, "412", "421"),)
    # A correction naming no minute, about the same thing: two words in common near its figures.
    unnamed = _draft(tmp_path / "unnamed", ("Minutes. The minutes of the meeting held on 14 March 2023 were approved "
                                            "subject to an amendment: the figure of 412 looked-after children should "
                                            "read 421.", MINUTES))
    assert unnamed.amendments == (Amendment(1, "412", "421"),)
    # A chunk dated to the month alone is no meeting before the next one's day.
    month = _draft(tmp_path / "month", ("Children in Care. Noted.", {"item_title": "Noted", "meeting_date": "2023-06"}),
                   (APPROVED, {**MINUTES, "meeting_date": "2023-06-20"}))
    assert month.amendments == (Amendment(1, "412", "421"),)


def test_a_correction_naming_a_minute_applies_only_to_a_quote_whose_item_gives_that_number(tmp_path):
    """'Minute 41 (Youth Justice): the 5 looked-after children remanded should read 6' had been noted against an
    unnumbered item's '5 looked-after children placed': which minute the quote is, nothing said. ModernGov's item
    number counts as the title's does; with neither, the correction must say it is of the quote's meeting."""
    correction = "Minute 41 (Youth Justice): the 412 looked-after children remanded should read 421."
    draft = _draft(tmp_path, (correction, MINUTES))
    assert not draft.amendments  # item 35
    quote = draft.quotes[0]
    found = _indexed(tmp_path / "again", (correction, MINUTES))
    for number, noted in (("", False), ("41", True), ("41.", True), ("38", False)):
        metadata = {**quote.hit.metadata, "item_title": "Children in Care", "item_number": number}
        numbered = replace(quote, hit=replace(quote.hit, metadata=metadata))
        assert bool(later_amendments([numbered], found)[1]) is noted, number
    # With no number, a correction that says it is of the quote's meeting ('held on 14 March 2023') still applies.
    dated = _indexed(tmp_path / "dated", (APPROVED, MINUTES))
    unnumbered = replace(quote, hit=replace(quote.hit, metadata={**quote.hit.metadata, "item_title": "Children"}))
    assert later_amendments([unnumbered], dated)[1] == [Amendment(1, "412", "421")]


def test_a_quote_whose_meeting_day_or_committee_is_unknown_is_never_taken_as_corrected(tmp_path):
    """Which meeting is next needs the day, and whose meeting, the committee: a quote dated '2023' had been
    'corrected' by January 2024's approval of December's minutes, and committee-less items (every item of a JSONL
    corpus) had formed one committee."""
    draft = _draft(tmp_path, (APPROVED, MINUTES))
    quote, _ = draft.quotes
    for changed in ({"meeting_date": "2023"}, {"meeting_date": "2023-03"}, {"committee": ""}):
        unknown = replace(quote, hit=replace(quote.hit, metadata={**quote.hit.metadata, **changed}))
        found = _indexed(tmp_path / next(iter(changed)) / str(next(iter(changed.values())) or "none"),
                         (APPROVED, {**MINUTES, **({"committee": ""} if "committee" in changed else {})}))
        assert later_amendments([unknown], found) == ([unknown], []), changed


class ShortAnswerReader(OverlapReader):
    """The overlap fake, whose short answer is a given figure wherever the candidate holds it (the shipped reader
    had read 412 from the correcting sentence)."""

    def __init__(self, figure: str) -> None:
        self.figure = figure

    def read(self, question: str, candidates):
        readings = super().read(question, candidates)
        return [replace(reading, short_answer=(text.rindex(self.figure), text.rindex(self.figure) + len(self.figure))
                        if self.figure in text else None) for reading, text in zip(readings, candidates)]


def test_a_correcting_sentence_quoted_alone_never_leads_with_the_figure_it_replaces(tmp_path):
    """Retrieval found September's correction but not March's minutes: the reader had led with 412, the figure the
    minutes replaced."""
    found = _indexed(tmp_path, (APPROVED, MINUTES))
    correction = found.lexical.entries[1]
    draft = draft_answer(analyse("How many looked-after children were reported in March in Dale?", {"dale"}),
                         Retrieval([Hit(correction.chunk_id, correction.text, correction.metadata, 1 / 61)]), found,
                         ShortAnswerReader("412"), calibration(0.0))
    assert draft.quotes[0].hit.chunk_id == "c2" and draft.short_answer is None
    assert draft_answer(analyse("How many looked-after children were reported in March in Dale?", {"dale"}),
                        Retrieval([Hit(correction.chunk_id, correction.text, correction.metadata, 1 / 61)]), found,
                        ShortAnswerReader("421"), calibration(0.0)).short_answer == "421"  # the correction leads


def test_a_bare_short_answer_of_a_corrected_percentage_is_withdrawn(tmp_path):
    """The reader may read '72' from '72 per cent': that is the corrected figure, and does not lead."""
    meta = {"position": 0, "council": "Dale Council", "council_key": "dale", "committee": "Children's Scrutiny"}
    rate = "Care Leavers. The rate of care leavers in education was 72 per cent, above the national rate."
    fix = ("Minutes. The minutes of the meeting held on 14 March 2023 were approved subject to an amendment: the "
           "rate of care leavers in education of 72 per cent should read 62 per cent.")
    found = Passages(build([
        LexicalEntry("c1", rate, {**meta, "source_id": "c1", "item_title": "Care Leavers", "meeting_date": "2023-03-14"}),
        LexicalEntry("c2", fix, {**meta, "source_id": "c2", **MINUTES})], tmp_path / "bm25"))
    first = found.lexical.entries[0]
    draft = draft_answer(analyse("What was the rate of care leavers in education in Dale?", {"dale"}),
                         Retrieval([Hit(first.chunk_id, first.text, first.metadata, 1 / 61)]), found,
                         ShortAnswerReader("72"), calibration(0.0))
    assert draft.amendments == (Amendment(1, "72 per cent", "62 per cent"),) and draft.short_answer is None


def test_a_correction_the_reader_quoted_itself_is_noted_all_the_same(tmp_path):
    """The reader had quoted the correcting sentence before or after the quote it corrects, with no note, and the
    superseded figure leading: it is noted where it stands, and quoted once."""
    draft = _draft(tmp_path, (APPROVED, MINUTES))
    original, correction = draft.quotes
    found = _indexed(tmp_path / "again", (APPROVED, MINUTES))
    for quotes, at in (([correction, original], 0), ([original, correction], 1)):
        placed, amendments = later_amendments(quotes, found)
        assert [q.text for q in placed] == [q.text for q in quotes]
        assert amendments == [Amendment(at, "412", "421")]


def test_a_correction_is_only_taken_from_the_committee_s_next_meeting_and_about_the_same_thing(tmp_path):
    """The same figure corrected by another committee or council, at the same, an earlier or a later than next
    meeting, outside the item approving the minutes, about something else, or in a sentence that is no correction
    (a target, a wish): no correction of these minutes. The quote stands, with its short answer."""
    cases = {
        "another committee": [(APPROVED, {**MINUTES, "committee": "Cabinet"})],
        "another council": [(APPROVED, {**MINUTES, "council": "Rotherham Council", "council_key": "rotherham"})],
        "the same meeting": [(APPROVED, {**MINUTES, "meeting_date": "2023-03-14"})],
        "an earlier meeting": [(APPROVED, {**MINUTES, "meeting_date": "2022-11-01"})],
        "a year alone": [(APPROVED, {**MINUTES, "meeting_date": "2023"})],
        "after the next meeting": [("Children in Care. Noted.", {"item_title": "Children in Care",
                                                                  "meeting_date": "2023-06-20"}),
                                   (APPROVED, MINUTES)],
        "not the minutes item": [(APPROVED, {**MINUTES, "item_title": "Performance Report"})],
        "something else": [("Minutes. Minute 12: the figure of 412 contacts received should read 400.", MINUTES)],
        "a wish": [("Minutes. Members said the count of 412 children waiting should be cut to 300.", MINUTES)],
        "another minute": [("Minute 41: the figure of 412 looked-after children should read 421.", MINUTES)],
        "another meeting's minutes": [(APPROVED.replace("14 March 2023", "20 June 2023"), MINUTES)],
        "another meeting's, in figures": [(APPROVED.replace("held on 14 March 2023", "of 20/06/2023"), MINUTES)],
        "another meeting's, in brackets": [(APPROVED.replace("meeting held on 14 March 2023",
                                                             "previous meeting (20 June 2023)"), MINUTES)],
        "one word in common": [("Minutes. The minutes of the meeting held on 14 March 2023 were approved subject "
                                "to an amendment: the 412 children assessed should read 421.", MINUTES)],
        "the approval's own words in common": [("Minutes. The minutes of the meeting of the looked-after children "
                                                "panel held on 14 March 2023 were approved subject to an amendment: "
                                                "the 412 contacts should read 421.", MINUTES)],
        "a sentence that speaks of no minutes": [("Minutes. The figure of 412 looked-after children should read 421.",
                                                  MINUTES)],
        "another meeting's, in the title": [("Minute 35: the figure of 412 looked-after children should read 421.",
                                             {**MINUTES, "item_title": "Minutes of the meeting held on 20 June 2023"})],
        "no committee known": [(APPROVED, {**MINUTES, "committee": ""})],
        "a sentence with no record word": [("Minutes. Members noted that the figure of 412 looked-after children "
                                            "had risen to 421 rather than 412 in the quarter since.", MINUTES)],
    }
    for case, later in cases.items():
        draft = _draft(tmp_path / "".join(c if c.isalnum() else "-" for c in case), *later)
        assert [q.hit.chunk_id for q in draft.quotes] == ["c1"] and not draft.amendments, case
        assert draft.short_answer == "412", case


def _ingested(settings, tmp_path):
    """March's count and September's correction of it, ingested from files as an officer would."""
    from assistant.ingest.run import ingest

    folder = tmp_path / "minutes"
    folder.mkdir()
    front = '---\ncouncil: "Dale Council"\ncommittee: "Children\'s Scrutiny Committee"\n'
    (folder / "march.md").write_text(f'{front}meeting_date: "2023-03-14"\nitem_title: "35. Children in Care"\n---\n'
                                     f"{COUNT}\n", encoding="utf-8")
    (folder / "september.md").write_text(f'{front}meeting_date: "2023-09-19"\nitem_title: "Minutes of the '
                                         f'Previous Meeting"\n---\n{APPROVED}\n', encoding="utf-8")
    ingest([folder], settings, progress=False)


QUESTION = "How many looked-after children were there in Dale at 31 December 2022?"


def test_a_language_model_s_answer_that_gives_the_corrected_figure_is_noted(fake_settings, tmp_path):
    """The model is given the correction among its evidence; when its answer still gives the figure as first
    minuted, the note says the next meeting amended it (with the correction's marker when the model cited it)."""
    from langchain_core.language_models import GenericFakeChatModel

    from assistant.answer.service import Assistant

    _ingested(fake_settings, tmp_path)
    replies = {"superseded": "There were 412 looked-after children at 31 December 2022 [1].",
               "both": "There were 412 looked-after children at 31 December 2022 [1]. The figure of 412 "
                       "looked-after children reported in March should read 421 [2].",
               "corrected only": "The figure of looked-after children reported in March should read 421 [2]."}
    notes = {}
    for case, reply in replies.items():
        assistant = Assistant(fake_settings.with_(llm="openai:fake"),
                              chat_model=GenericFakeChatModel(messages=iter([reply])))
        try:
            answer = assistant.ask(QUESTION)
        finally:
            assistant.close()
        assert not answer.fallback, (case, answer.notes)
        notes[case] = [note for note in answer.notes if "amend" in note]
    assert notes["superseded"] == ["The minutes of a later meeting (19 September 2023) amend 412 to 421."]
    assert notes["both"] == ["The minutes of a later meeting (19 September 2023) amend 412 to 421: see [2]."]
    assert notes["corrected only"] == []  # the answer never gives 412


def test_the_answer_quotes_the_correction_and_says_which_meeting_made_it(fake_settings, tmp_path):
    """Through the whole ask, over minutes ingested from files: the note names the meeting and both figures, and
    cites the quoted correction."""
    from assistant.answer.service import Assistant

    _ingested(fake_settings, tmp_path)
    assistant = Assistant(fake_settings)
    try:
        answer = assistant.ask(QUESTION)
    finally:
        assistant.close()
    assert not answer.refused and answer.short_answer is None
    corrected = next(c for c in answer.citations if "should read 421" in c.quote)
    assert corrected.meeting_date == "2023-09-19"
    assert f"The minutes of a later meeting (19 September 2023) amend 412 to 421: see [{corrected.marker}]." in (
        answer.notes)
    assert f"should read 421. [{corrected.marker}]" in answer.answer
