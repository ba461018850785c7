"""Minutes and reports marked not for publication (exempt, Part II) that reach the minutes folder are withheld, as
restricted items are: a data-protection review indexed a text file headed "PART II – NOT FOR PUBLICATION" and a Word
file marked "EXEMPT INFORMATION", and the assistant then quoted a child's name, age and address back."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant.ingest.readers import read_inputs
from assistant.ingest.run import ingest
from assistant.records import MinuteItem
from fixtures_make import make_docx_paragraphs, make_paged_pdf

SECRET = "Child K.M. (aged 9), of 12 Acacia Road, is subject to a child protection plan."
PUBLIC = "Members noted the fostering service annual report and thanked the team."


def _read(path: Path) -> list[MinuteItem]:
    return [item for item in read_inputs([path], 1_000_000, cwd=path.parent) if isinstance(item, MinuteItem)]


def test_a_text_file_headed_not_for_publication_is_withheld_unless_its_front_matter_says_otherwise(tmp_path):
    marked = tmp_path / "part2.txt"
    marked.write_text(f"Children's Scrutiny Committee\nPART II \u2013 NOT FOR PUBLICATION\nby virtue of paragraph 2 "
                      f"of Part 1 of Schedule 12A\n\n{SECRET}\n", encoding="utf-8")
    [item] = _read(marked)
    assert item.restricted and item.text == ""
    published = tmp_path / "published.txt"
    published.write_text(f"---\nrestricted: false\n---\nNOT FOR PUBLICATION\n\n{PUBLIC}\n", encoding="utf-8")
    [item] = _read(published)
    assert not item.restricted and PUBLIC in item.text


@pytest.mark.parametrize("line", [
    "Confidential reporting lines for foster carers were discussed.",
    "Exempt Information - Possible Exclusion of the Press and Public",  # a standing public item at Leeds
    "Exempt information: No", "Confidential: No", "Restricted: No",  # a report cover's fields saying no
    "Exempt Accommodation Update", "Confidential Reporting Policy", "Restricted Byway Order - Footpath 12",
    "\u2022 Restricted enclosure 4",
    "Appendix 2 is exempt by virtue of paragraph 3 of Part 1 of Schedule 12A",  # the report itself is public
    "Exempt information\nNo",  # a cover's field, its answer on the next line
    "Exempt information\nNo - this report is public", "Exempt appendix: Yes", "Confidential appendix | Yes",
])
def test_a_public_heading_or_field_that_begins_with_a_marking_word_withholds_nothing(tmp_path, line):
    """Found by a code review: the first rule took any short line starting with Exempt, Confidential or Restricted
    for a marking, and withheld whole public minutes."""
    plain = tmp_path / "plain.txt"
    plain.write_text(f"Corporate Parenting Panel\n{line}\n\n{PUBLIC}\n", encoding="utf-8")
    [item] = _read(plain)
    assert not item.restricted and PUBLIC in item.text


@pytest.mark.parametrize("line", [
    "Document is Restricted", "Exempt information: Yes", "Exempt information | Yes", "CONFIDENTIAL MINUTES",
    "EXEMPT - NOT FOR PUBLICATION", "NOT FOR PUBLICATION: Paragraph 1 of Part 1 of Schedule 12A",
    "By virtue of paragraph(s) 3 of Part 1 of Schedule 12A of the Local Government Act 1972.",
    "NOT FOR PUBLICATION - Paragraph 3", "PART II MINUTES", "Confidential? | Yes", "Exempt information: | Yes",
    "By virtue of paragraphs 1-3 of Part 1 of Schedule 12A",
    "By virtue of paragraph 3 of Schedule 12A of the Local Government Act 1972 (as amended by the Local Government "
    "(Access to Information) (Variation) Order 2006)",
])
def test_the_usual_markings_of_an_exempt_report_withhold_it(tmp_path, line):
    marked = tmp_path / "marked.txt"
    marked.write_text(f"Corporate Parenting Panel\n{line}\n\n{SECRET}\n", encoding="utf-8")
    [item] = _read(marked)
    assert item.restricted and item.text == ""


def test_word_and_pdf_minutes_marked_exempt_are_withheld_whole_and_an_exempt_item_alone(tmp_path):
    exempt = make_docx_paragraphs(tmp_path / "exempt.docx", [("Title", "Children's Services Scrutiny Committee"),
                                                             ("", "EXEMPT INFORMATION"), ("", SECRET)])
    [item] = _read(exempt)
    assert item.restricted and item.text == ""
    lines = ["BARNSLEY METROPOLITAN BOROUGH COUNCIL", "Corporate Parenting Panel", "Held on 8 March 2023",
             "1. Fostering Service Annual Report", PUBLIC,
             "2. Residential Placement Contract (Exempt)", SECRET,
             "3. Sufficiency Strategy", "Members noted the sufficiency strategy."]
    found = _read(make_paged_pdf(tmp_path / "minutes.pdf", [lines]))
    by_title = {item.item_title: item for item in found}
    assert by_title["2. Residential Placement Contract (Exempt)"].restricted
    assert not any("Acacia" in item.text for item in found)
    assert PUBLIC in by_title["1. Fostering Service Annual Report"].text
    assert not by_title["3. Sufficiency Strategy"].restricted


def test_minutes_marked_after_they_were_indexed_are_taken_out_and_the_summary_says_why(fake_settings, tmp_path):
    folder = tmp_path / "minutes"
    folder.mkdir()
    report = folder / "report.txt"
    report.write_text(f"Children's Scrutiny Committee\n\n{SECRET}\n", encoding="utf-8")
    assert ingest([folder], fake_settings, progress=False).new == 1
    report.write_text(f"Children's Scrutiny Committee\nNOT FOR PUBLICATION\n\n{SECRET}\n", encoding="utf-8")
    again = ingest([folder], fake_settings, progress=False)
    assert again.removed == 1, again.report()
    [withheld] = [p for p in again.problems if p.kind == "restricted"]
    assert "its opening marks it not for publication ('NOT FOR PUBLICATION')" in withheld.reason
    assert "add `restricted: false` to its front matter" in withheld.reason
    stored = b"".join(path.read_bytes() for path in fake_settings.data_dir.rglob("*") if path.is_file())
    assert b"Acacia" not in stored


def test_a_web_page_withheld_whole_names_the_heading_whose_part_cannot_be_told(fake_settings, tmp_path):
    folder = tmp_path / "minutes"
    folder.mkdir()
    # The exempt item's text sits outside its heading's block, so where its part ends cannot be told.
    (folder / "cabinet.html").write_text(
        "<html><body><main><h1>Cabinet - 14 March 2023</h1><p>Apologies from Cllr Brown.</p>"
        "<div><h3>8. Contract Award (Exempt)</h3></div><p>Provider X scored highest at 6,850.</p>"
        "</main></body></html>", encoding="utf-8")
    summary = ingest([folder], fake_settings, progress=False)
    [withheld] = [p for p in summary.problems if p.kind == "restricted"]
    assert "its heading '8. Contract Award (Exempt)' is marked not for publication" in withheld.reason
    assert "save the page's text as a .txt file" in withheld.reason
    stored = b"".join(path.read_bytes() for path in fake_settings.data_dir.rglob("*") if path.is_file())
    assert b"6,850" not in stored
