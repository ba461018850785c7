"""A quote that only repeats its item's title, where the chunker cut the heading from the minutes under it: from a
review of briefings on the dev corpus, where a fifth of the items' title headings end their chunk ('Agendas,
Meetings and Minutes - Agenda item / Agenda item / Placements and Sufficiency', then 'Tina Russell gave a
presentation ...' in the next), and three of fifty answers were the title alone."""

from assistant.answer.passages import Passages
from assistant.records import Hit, ScoredSentence
from quoted_items import item_passages

TITLE = "Placements and Sufficiency"
HEADING = f"Agendas, Meetings and Minutes - Agenda item\n\nAgenda item\n\n{TITLE}"
UNDER = ("Tina Russell gave a presentation at the meeting as seen in the agenda report. A strategy had been drafted "
         "to detail how the sufficiency duty would be met.")
LATER = "Worcestershire had an above average number of children in foster placements."


def _item(tmp_path, *texts: str) -> Passages:
    return item_passages(tmp_path, *texts, title=TITLE, council="Worcestershire County Council",
                         council_key="worcestershire")


def _heading(found: Passages, chunk: str = "c1", words: str = TITLE) -> ScoredSentence:
    entry = next(e for e in found.lexical.entries if e.chunk_id == chunk)
    at = entry.text.rindex(words)
    return ScoredSentence(Hit(entry.chunk_id, entry.text, entry.metadata, 1.0), 0, at, at + len(words), 0.9, 0.9)


def test_a_heading_that_ends_its_chunk_is_followed_into_the_item_s_next_chunk(tmp_path):
    from assistant.answer.candidates import said_under_title

    found = _item(tmp_path, HEADING, UNDER, LATER)
    under = said_under_title(_heading(found), passages=found)
    assert [" ".join(s.text.split()) for s in under] == [
        "Tina Russell gave a presentation at the meeting as seen in the agenda report.",
        "A strategy had been drafted to detail how the sufficiency duty would be met."]
    assert {s.hit.chunk_id for s in under} == {"c2"}  # each sentence in the chunk it stands in
    assert said_under_title(_heading(found)) == []  # without the item's chunks, as before
    # The title written again after the heading is passed over, and the next chunk read all the same.
    again = _item(tmp_path / "again", f"{HEADING}\nPlacements & Sufficiency", UNDER)
    assert [s.hit.chunk_id for s in said_under_title(_heading(again), passages=again)] == ["c2", "c2"]
    # A heading followed by minutes in its own chunk is not followed further; nor is one that ends the item.
    whole = _item(tmp_path / "whole", f"{HEADING}\n{UNDER}", LATER)
    assert {s.hit.chunk_id for s in said_under_title(_heading(whole), passages=whole)} == {"c1"}
    last = _item(tmp_path / "last", UNDER, HEADING)
    assert said_under_title(_heading(last, "c2"), passages=last) == []
    # A heading with its item's number is a heading still.
    numbered = _item(tmp_path / "numbered", f"Agenda item\n\n7. {TITLE}", UNDER)
    heading = _heading(numbered, words=f"7. {TITLE}")  # as the candidates read the line
    assert [s.hit.chunk_id for s in said_under_title(heading, passages=numbered)] == ["c2", "c2"]


def test_a_bulleted_line_that_repeats_the_title_is_no_heading_for_the_next_chunk(tmp_path):
    # Sefton's seed minutes list the report among the appendices ('The following appendices were attached to the
    # report:- / · Children's Social Care Annual Report / · Annual performance score card / Members of the Committee
    # asked ...'): followed into the next chunk, the members' questions were shown as what the report said.
    from assistant.answer.candidates import said_under_title

    listed = _item(tmp_path, f"The following appendices were attached to the report:-\n\u00b7 {TITLE}",
                   f"\u00b7 Annual performance score card\n{UNDER}")
    assert said_under_title(_heading(listed), passages=listed) == []


def test_the_answer_quotes_what_the_next_chunk_says_under_a_heading_and_cites_that_chunk(hashing_assistant,
                                                                                          tmp_path):
    """'What did Worcestershire report about placements and sufficiency?' was answered 'Placements and Sufficiency
    [1]', counted in a briefing among the questions answered."""
    from assistant.records import Draft

    found = _item(tmp_path, HEADING, UNDER, LATER)
    hashing_assistant.passages = found  # the item's chunks, as the index would hold them
    answer = hashing_assistant.compose(Draft([_heading(found)]), {"question": "q", "mode": "extractive"}, {})
    assert answer.answer == (f"{TITLE}: Tina Russell gave a presentation at the meeting as seen in the agenda report. "
                             "A strategy had been drafted to detail how the sufficiency duty would be met. [1]")
    [citation] = answer.citations
    assert citation.chunk_id == "c2" and citation.item_title == TITLE
    assert citation.quote == " ".join(UNDER.split())  # verbatim in the chunk cited
