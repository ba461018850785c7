"""Briefings as a council policy officer prepares them for members, from a review of briefings exported from the
dev corpus: how an item's line ends before its address, and how the header gives the span of the meetings searched."""

from docx import Document

from assistant.records import Answer, Citation, NearestItem, SentenceVerdict


def _answer(title: str) -> Answer:
    citation = Citation(1, "item-1", "Leicestershire County Council", "Children and Families Overview and Scrutiny "
                        "Committee", "2019-06-04", title, "The Committee considered a report.", "chunk-1",
                        "https://example.org/1")
    sentences = [SentenceVerdict("The Committee considered a report. [1]", (1,), True, True, 1.0, "verbatim")]
    return Answer("What did Leicestershire say about child criminal exploitation?",
                  "The Committee considered a report. [1]", False, None, "extractive", citations=[citation],
                  sentences=sentences)


def _refusal(title: str) -> Answer:
    nearest = NearestItem("https://example.org/2", "Leicestershire County Council", "", "2019", title)
    return Answer("How many children were exploited in Leicestershire?", "The minutes in the index do not say this.",
                  True, "not_stated", "extractive", nearest=[nearest])


def test_an_item_whose_title_ends_a_sentence_is_not_given_a_second_full_stop(tmp_path):
    # "Leicestershire's Response to Tackling Child Criminal Exploitation." (the dev corpus's title, with its full
    # stop) was listed as "...Exploitation.. <https://...>", in both formats, for a source and a nearest item alike.
    from assistant.present.briefing import entry_from_answer, write_briefing

    ended = "Leicestershire's Response to Tackling Child Criminal Exploitation."
    entries = [entry_from_answer(_answer(ended)), entry_from_answer(_answer("Youth Justice Plan")),
               entry_from_answer(_refusal(ended)), entry_from_answer(_refusal("What next for care leavers?"))]
    text = write_briefing(entries, tmp_path / "b.md").read_text(encoding="utf-8")
    assert ".." not in text and "?." not in text
    assert "Exploitation. <https://example.org/1>" in text and "Exploitation. <https://example.org/2>" in text
    assert "Youth Justice Plan. <https://example.org/1>" in text  # a title with no stop of its own is given one
    assert "care leavers? <https://example.org/2>" in text
    paragraphs = [p.text for p in Document(str(write_briefing(entries, tmp_path / "b.docx"))).paragraphs]
    assert not any(".." in p or "?." in p for p in paragraphs)
    assert ("[1] Leicestershire County Council \u2014 Children and Families Overview and Scrutiny Committee \u2014 "
            f"4 June 2019 \u2014 {ended} https://example.org/1") in paragraphs


def test_the_header_gives_the_span_of_the_meetings_searched_as_people_write_dates():
    # "of meetings from 2004-12-17 to 2025-10-13" headed a briefing whose every source gives its meeting's date in
    # words ("12 March 2024") and whose header says when the items last changed in words: the span is in words too,
    # a partial date as far as it goes.
    from assistant.index.manifest import ManifestRow
    from assistant.present.briefing import searched_line

    class Manifest:
        def __init__(self, dates):
            self.dates = dates

        def rows(self):
            return {f"item-{n}": ManifestRow(f"item-{n}", "f", "done", (), council=f"Council {n}", meeting_date=date)
                    for n, date in enumerate(self.dates)}

        def last_changed(self):
            return None

    assert searched_line(Manifest(["2025-10-13", "2004-12-17", "2018-03", ""])) == (
        "4 items of minutes from 4 councils, of meetings from 17 December 2004 to 13 October 2025 (1 undated)")
    assert searched_line(Manifest(["2018-03", "2019"])) == (
        "2 items of minutes from 2 councils, of meetings from March 2018 to 2019")


def test_a_word_briefing_keeps_each_source_s_line_on_the_page_of_its_quote(tmp_path):
    # A briefing printed for a committee chair could leave a source's line ('[1] Wiltshire Council — ... — 7 October
    # 2014 — ...') at the foot of one page and its quote at the top of the next, a quote with no council, meeting or
    # item above it.
    from assistant.present.briefing import entry_from_answer, write_briefing

    document = Document(str(write_briefing([entry_from_answer(_answer("Youth Justice Plan"))], tmp_path / "b.docx")))
    paragraphs = document.paragraphs
    [quote] = [n for n, p in enumerate(paragraphs) if p.style.name == "Quote"]
    assert paragraphs[quote - 1].text.startswith("[1] Leicestershire County Council")
    assert paragraphs[quote - 1].paragraph_format.keep_with_next


def _answer_with_a_short_answer() -> Answer:
    """North Lincolnshire's answer as `ask` leads it: '24th January 2020 (North Lincolnshire Council, 24 January 2020
    [1])', its source cited second by the answer, so that the briefing renumbers it."""
    other = Citation(1, "item-1", "North Lincolnshire Council", "", "2019-06-04", "Care leavers", "Care leavers were "
                     "discussed.", "chunk-1", "https://example.org/1")
    dated = Citation(2, "item-2", "North Lincolnshire Council", "", "2020-01-24", "CARE LEAVERS COUNCIL TAX SUPPORT",
                     "Friday 24th January 2020", "chunk-2", "https://example.org/2")
    sentences = [SentenceVerdict("Left out. [1]", (1,), False, False, 0.1, "unsupported"),
                 SentenceVerdict("Friday 24th January 2020 [2]", (2,), True, True, 1.0, "verbatim")]
    return Answer("When did North Lincolnshire agree care leavers council tax support?", "Friday 24th January 2020 [2]",
                  False, None, "extractive", citations=[other, dated], sentences=sentences,
                  short_answer="24th January 2020")


def test_a_briefing_leads_each_answer_with_its_short_answer_and_its_source_as_ask_does(tmp_path):
    # The figure, name or date that `ask` prints first and the app shows in bold was in neither format of a briefing:
    # an officer had the quote alone, and had to find the answer in it.
    from assistant.present.briefing import entry_from_answer, write_briefing

    entries = [entry_from_answer(_answer_with_a_short_answer()), entry_from_answer(_answer("Youth Justice Plan"))]
    text = write_briefing(entries, tmp_path / "b.md").read_text(encoding="utf-8")
    assert "**24th January 2020** (North Lincolnshire Council, 24 January 2020 [1])\n\nFriday 24th January" in text
    assert text.count("**") == 2  # an answer with no short answer leads with none
    document = Document(str(write_briefing(entries, tmp_path / "b.docx")))
    paragraphs = document.paragraphs
    [short] = [n for n, p in enumerate(paragraphs) if p.text.startswith("24th January 2020")]
    assert paragraphs[short].text == "24th January 2020 (North Lincolnshire Council, 24 January 2020 [1])"
    assert [run.bold for run in paragraphs[short].runs] == [True, None]
    assert paragraphs[short + 1].text == "Friday 24th January 2020 [1]"
    assert entry_from_answer(_refusal("Youth Justice Plan")).short_answer == ""
