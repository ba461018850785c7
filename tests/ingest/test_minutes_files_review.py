"""Minutes files as a democratic-services officer loads them, exported from several systems over the years: text
copied out of PDFs, dates and item numbers written each system's way."""

from __future__ import annotations

from pathlib import Path

from assistant.ingest.readers import read_inputs
from assistant.records import MinuteItem
from fixtures_make import make_docx, make_docx_paragraphs

FINDINGS = "The Director reported the \ufb01ndings of the visit: the \ufb02ow of work had improved, and e\ufb03ciency too."
SPELLED_OUT = "The Director reported the findings of the visit: the flow of work had improved, and efficiency too."


def read_items(*paths: Path) -> list[MinuteItem]:
    results = list(read_inputs(list(paths), 1_000_000, cwd=paths[0].parent))
    assert all(isinstance(result, MinuteItem) for result in results), results
    return results


def test_ligatures_in_text_copied_out_of_a_pdf_are_spelled_out_in_every_format(tmp_path: Path):
    # A PDF's text exported to .txt (as ingest's own hint for a scan or a damaged file says), pasted into Word or
    # saved as a web page keeps the PDF's ligature glyphs; the reader's tokenizer knows no word spelled with one, and
    # refused a question about the 'findings' that the item answers.
    text = tmp_path / "exported.txt"
    text.write_text(f"---\ntitle: Ofsted Focused Visit\n---\n{FINDINGS}\n", encoding="utf-8")
    page = tmp_path / "page.html"
    page.write_text(f"<html><body><main><h1>Ofsted Focused Visit</h1><p>{FINDINGS}</p></main></body></html>",
                    encoding="utf-8")
    word = make_docx(tmp_path / "pasted.docx", heading="Ofsted Focused Visit", paragraphs=[FINDINGS])
    for path in (text, page, word):
        (item,) = read_items(path)
        assert SPELLED_OUT in item.text, path.name
        assert not any("\ufb00" <= character <= "\ufb06" for character in item.text), path.name


def test_a_meeting_date_with_a_two_figure_year_is_read(tmp_path: Path):
    # Front sheets from older systems, and Word's short date, print the year in two figures: the meeting went
    # undated, and date filters left all of its items out.
    front_sheet = tmp_path / "ilsc.txt"
    front_sheet.write_text("Improving Lives Select Commission\nDate: 05/03/24\n\nItem 1 Apologies for absence\n"
                           "None.\n\nItem 2 Declarations of Interest\nNone.\n\nItem 3 Care Leavers Local Offer\n"
                           "Members welcomed the offer.\n", encoding="utf-8")
    held = make_docx(tmp_path / "board.docx", heading="Corporate Parenting Board",
                     paragraphs=["Minutes of the Corporate Parenting Board held on 5.3.24", "Noted."])
    older = tmp_path / "older.txt"
    older.write_text("Social Services Committee\nDate: 17/11/98\n\nThe report was noted.\n", encoding="utf-8")
    dates = {item.origin.rpartition("/")[2]: item.meeting_date for item in read_items(front_sheet, held, older)}
    assert dates == {"ilsc.txt": "2024-03-05", "board.docx": "2024-03-05", "older.txt": "1998-11-17"}


def minutes_numbered(numbers: list[str]) -> str:
    titles = ["Apologies", "Declarations of Interest", "Children's Social Care Performance", "Date of Next Meeting"]
    texts = ["Apologies were received from Councillor Green.", "None were declared.",
             "There were 1,204 referrals in the quarter.", "To be confirmed."]
    items = "\n\n".join(f"{number} {title}\n{text}" for number, title, text in zip(numbers, titles, texts))
    return f"Children's Services Scrutiny Committee\nHeld on 5 March 2024\n\n{items}\n"


def test_minutes_numbered_by_the_committee_s_own_references_are_split_at_them(tmp_path: Path):
    # 'CS12.' and 'Minute 23/47' were not read as item headings: the whole meeting was one item, cited by the
    # file's first line ('Barnsley Metropolitan Borough Council') rather than by its agenda item.
    for name, numbers, ids in [
        ("coded.txt", ["CS10.", "CS11.", "CS12.", "CS13."], ["CS10", "CS11", "CS12", "CS13"]),
        ("minute.txt", ["Minute 23/45", "Minute 23/46", "Minute 23/47", "Minute 23/48"],
         ["23-45", "23-46", "23-47", "23-48"]),
        ("minute-no.txt", ["Minute No. 45.", "Minute No. 46.", "Minute No. 47.", "Minute No. 48."],
         ["45", "46", "47", "48"]),
    ]:
        path = tmp_path / name
        path.write_text(minutes_numbered(numbers), encoding="utf-8")
        opening, *items = read_items(path)
        assert opening.source_id == f"file:{name}", name
        assert [item.source_id for item in items] == [f"file:{name}#item-{i}" for i in ids], name
        assert items[2].item_title == f"{numbers[2]} Children's Social Care Performance"
        assert items[2].text.endswith("There were 1,204 referrals in the quarter.")


def test_capitals_spaced_from_their_number_are_a_report_s_headings_not_minute_references(tmp_path: Path):
    path = tmp_path / "strategy.txt"
    path.write_text(minutes_numbered(["PRIORITY 1:", "PRIORITY 2:", "PRIORITY 3:", "PRIORITY 4:"]), encoding="utf-8")
    assert len(read_items(path)) == 1


def test_key_stages_heading_a_report_s_paragraphs_are_not_minute_references(tmp_path: Path):
    # A Virtual School report inside item 3 heads its paragraphs 'KS1: ...', 'KS2: ...', 'KS4: ...': read as minute
    # references, they outweighed the minutes' own three headings, and the Word file was split at the key stages
    # (items 1 to 3 lost into its opening) while the text file was not split at all.
    paragraphs = ["Corporate Parenting Panel", "Held on 5 March 2024",
                  "1. Apologies", "None were received.",
                  "2. Minutes of the Last Meeting", "The minutes were agreed.",
                  "3. Virtual School Annual Report", "The Head of the Virtual School presented the report.",
                  "KS1: Reading, Writing and Maths", "Of the 20 children, 9 reached the expected standard.",
                  "KS2: Reading, Writing and Maths", "Of the 31 children, 12 reached the expected standard.",
                  "KS4: Attainment 8", "The average score was 19.2, up from 17.8."]
    for items in _items_of_three_as_text_and_word(tmp_path, paragraphs):
        assert "KS4: Attainment 8" in items[2].text


def test_minutes_followed_up_under_matters_arising_are_not_the_meeting_s_items(tmp_path: Path):
    # From the code review: in a meeting of three items, the earlier minutes that Matters Arising follows up ('Minute
    # 14 Fostering Recruitment', ...) made a run of three as long as the meeting's own, and, coming later, won.
    paragraphs = ["Corporate Parenting Panel", "Held on 5 March 2024",
                  "1. Minutes of the Last Meeting", "The minutes were agreed.",
                  "2. Matters Arising", "Members followed up three earlier minutes.",
                  "Minute 14 Fostering Recruitment", "The Chair reported that 12 new carers were approved.",
                  "Minute 17 Care Leavers Offer", "The offer was published in January.",
                  "Minute 19 Dental Checks", "Dental checks were at 81 per cent.",
                  "3. Virtual School Annual Report", "The Head of the Virtual School presented the report."]
    for items in _items_of_three_as_text_and_word(tmp_path, paragraphs):
        assert "Minute 19 Dental Checks" in items[1].text


def _items_of_three_as_text_and_word(tmp_path: Path, paragraphs: list[str]):
    """The items of a meeting of three written as a text file and as a Word file, each checked to be split at its
    three numbered items and nowhere else."""
    text = tmp_path / "cpp.txt"
    text.write_text("\n\n".join(paragraphs) + "\n", encoding="utf-8")
    word = make_docx_paragraphs(tmp_path / "cpp.docx", [("", paragraph) for paragraph in paragraphs])
    for path in (text, word):
        opening, *items = read_items(path)
        assert [item.source_id for item in items] == [f"file:{path.name}#item-{n}" for n in (1, 2, 3)], path.name
        yield items
