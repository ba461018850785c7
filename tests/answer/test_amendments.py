"""A figure quoted from minutes that a later meeting corrected, when it approved them 'subject to an amendment', is
quoted with the correction and a note, and never leads as the short answer (answer/amendments.py)."""

from __future__ import annotations

from assistant.answer.amendments import corrections_in, figures_of
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
    assert _corrected("subject to an amendment to minute 23 so that the recruitment and retention payment reads "
                      "£2,500 rather than £3,000.") == [("£3,000", "£2,500")]
    assert _corrected("The minutes were approved, but the rate of 71% in minute 12 should have read 17%.") == [
        ("71%", "17%")]
    # No correction: figures of different kinds, a figure too far from the phrase, a year, a date's day, one figure.
    for sentence in ("The payment of £3,000 should read 30% of salary.",
                     "There were 412 children and many carers were recruited over the long year so the count "
                     "should read 421.",
                     "The minutes of 2022 should read 2023.",
                     "The meeting on 14 March should be moved to 21 March.",
                     "The figure should read 421."):
        assert _corrected(sentence) == [], sentence
    assert [f.text for _, f in figures_of("On 14 March 2023 there were 412 children, 3% up, costing £1,200.")] == [
        "412", "3%", "£1,200"]


def _passages(tmp_path, *entries: tuple[str, str, dict]) -> Passages:
    meta = {"position": 0, "council": "Dale Council", "council_key": "dale",
            "committee": "Children's Scrutiny Committee", "item_title": "Children in Care"}
    return Passages(build([LexicalEntry(chunk_id, text, {**meta, "source_id": chunk_id, **extra})
                           for chunk_id, text, extra in entries], tmp_path / "bm25"))


def _draft(found: Passages, question: str):
    return draft_answer(analyse(question, {"dale"}), Retrieval([Hit("c1", COUNT, found.lexical.entries[0].metadata,
                                                                     1 / 61)]),
                        found, OverlapReader(), calibration(0.0))


def test_a_later_meeting_s_correction_of_a_quoted_figure_follows_it_and_no_short_answer_leads(tmp_path):
    """'How many looked-after children ... at 31 December 2022?' had led with 412 in bold, though the next meeting
    approved those minutes with 412 corrected to 421, which was never shown."""
    minutes = {"item_title": "Minutes of the Previous Meeting", "meeting_date": "2023-09-19"}
    found = _passages(tmp_path, ("c1", COUNT, {"meeting_date": "2023-03-14"}), ("c2", APPROVED, minutes))
    draft = _draft(found, "How many looked-after children were there in Dale at 31 December 2022?")
    assert [q.hit.chunk_id for q in draft.quotes] == ["c1", "c2"]  # retrieval found only c1
    assert draft.quotes[1].text == APPROVED[len("Minutes of the Previous Meeting. "):]
    assert draft.amendments == (Amendment(1, "412", "421"),) and draft.short_answer is None


def test_a_correction_is_only_taken_from_the_same_committee_s_later_minutes(tmp_path):
    """The same figure corrected by another committee, another council, or at the same or an earlier meeting is
    no correction of these minutes, nor is a later sentence that does not speak of minutes, amending or correcting:
    the quote stands, with its short answer."""
    later = "2023-09-19"
    found = _passages(
        tmp_path, ("c1", COUNT, {"meeting_date": "2023-03-14"}),
        ("c2", APPROVED, {"meeting_date": later, "committee": "Cabinet"}),
        ("c3", APPROVED, {"meeting_date": later, "council": "Rotherham Council", "council_key": "rotherham"}),
        ("c4", APPROVED, {"meeting_date": "2023-03-14"}),
        ("c5", APPROVED, {"meeting_date": "2022-11-01"}),
        ("c6", APPROVED, {"meeting_date": "2023"}),  # a year alone may be the same meeting's
        # a sentence that speaks of no minutes, amending or correcting: a wish, not a correction
        ("c7", "Minutes of the Previous Meeting. Members said the count of 412 children waiting should be cut to "
               "300 soon.", {"meeting_date": later}))
    draft = _draft(found, "How many looked-after children were there in Dale at 31 December 2022?")
    assert [q.hit.chunk_id for q in draft.quotes] == ["c1"] and not draft.amendments
    assert draft.short_answer == "412"


def test_the_answer_quotes_the_correction_and_says_which_meeting_made_it(fake_settings, tmp_path):
    """Through the whole ask, over minutes ingested from files: the note names the meeting and both figures, and
    cites the quoted correction."""
    from assistant.answer.service import Assistant
    from assistant.ingest.run import ingest

    folder = tmp_path / "minutes"
    folder.mkdir()
    front = '---\ncouncil: "Dale Council"\ncommittee: "Children\'s Scrutiny Committee"\n'
    (folder / "march.md").write_text(f'{front}meeting_date: "2023-03-14"\nitem_title: "Children in Care"\n---\n'
                                     f"{COUNT}\n", encoding="utf-8")
    (folder / "september.md").write_text(f'{front}meeting_date: "2023-09-19"\nitem_title: "Minutes of the '
                                         f'Previous Meeting"\n---\n{APPROVED}\n', encoding="utf-8")
    ingest([folder], fake_settings, progress=False)
    assistant = Assistant(fake_settings)
    try:
        answer = assistant.ask("How many looked-after children were there in Dale at 31 December 2022?")
    finally:
        assistant.close()
    assert not answer.refused and answer.short_answer is None
    corrected = next(c for c in answer.citations if "should read 421" in c.quote)
    assert corrected.meeting_date == "2023-09-19"
    assert f"The minutes of a later meeting (19 September 2023) amend 412 to 421: see [{corrected.marker}]." in (
        answer.notes)
    assert f"should read 421. [{corrected.marker}]" in answer.answer
