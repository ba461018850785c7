"""Markings of exempt (Schedule 12A) minutes that a data-protection review found indexed, a child's name, age, address
and case reference with them, in text, Word and PDF files alike: a cover asking "Exempt / Confidential Report: Yes" (as
Sefton's do), an item headed "Part II - ..." or ending "- Private and Confidential", a line under an item's heading
citing Schedule 12A's paragraph ("(Exempt by virtue of paragraphs 1 and 2 of Part 1 of Schedule 12A ...)"), a "PART II"
heading before the items taken in private (which had withheld the public item before it and indexed those after it),
and a JSONL line whose title or opening was so marked."""

from __future__ import annotations

import json
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


def _meeting(fourth: list[str], before_fourth: tuple[str, ...] = ()) -> list[str]:
    return ["Northbrook Borough Council", "Children's Services Scrutiny Committee",
            "Minutes of the meeting held on Tuesday, 14 March 2023 at 6.00 pm",
            "1. Apologies for Absence", "Apologies were received from Councillor Smith.",
            "2. Minutes of the Previous Meeting", "The minutes of the meeting held on 10 January 2023 were approved.",
            "3. Fostering Service", PUBLIC, *before_fourth,
            *fourth, SECRET,
            "5. Date of Next Meeting", "The next meeting will be held on 13 June 2023."]


def _each_format(tmp_path: Path, lines: list[str]) -> dict[str, list[MinuteItem]]:
    (tmp_path / "minutes.txt").write_text("\n\n".join(lines) + "\n", encoding="utf-8")
    make_docx_paragraphs(tmp_path / "minutes.docx", [("", line) for line in lines])
    make_paged_pdf(tmp_path / "minutes.pdf", [lines])
    return {name: _read(tmp_path / name) for name in ("minutes.txt", "minutes.docx", "minutes.pdf")}


@pytest.mark.parametrize("fourth", [
    ["4. Part II - Placement Review"], ["4. PART 2 ITEM: Placement Review"],
    ["4. Placement Review - Private and Confidential"],
    ["4. Placement Review - Exempt Information Under Paragraph 1 of Schedule 12A"],
    ["4. Placement Review", "(Exempt by virtue of paragraphs 1 and 2 of Part 1 of Schedule 12A of the Local Government "
                            "Act 1972)"],
    ["4. Placement Review", "EXEMPT INFORMATION - PARAGRAPH 2"],
    ["4. Placement Review", "Exempt Information - Paragraphs 1 and 2 of Part 1 of Schedule 12A"],
    # the government's security marking, and the minutes' own words for an item heard in private
    ["4. Placement Review (Official-Sensitive)"], ["4. Placement Review - OFFICIAL SENSITIVE"],
    ["4. Placement Review (Press and Public Excluded)"], ["4. Placement Review - Press and public excluded"],
    ["4. OFFICIAL-SENSITIVE: Placement Review"],
])
def test_an_item_marked_exempt_in_its_heading_or_the_line_under_it_is_withheld_alone(tmp_path, fourth):
    for name, items in _each_format(tmp_path, _meeting(fourth)).items():
        assert not any("Acacia" in item.text for item in items), name
        [withheld] = [item for item in items if item.restricted]
        assert withheld.source_id.endswith("#item-4"), name
        assert any(PUBLIC in item.text for item in items), name


@pytest.mark.parametrize("part", ["PART II - ITEMS CONSIDERED IN THE ABSENCE OF THE PRESS AND PUBLIC",
                                  "PART 2 (EXEMPT ITEMS)", "PART II", "EXEMPT ITEMS", "PRESS AND PUBLIC EXCLUDED",
                                  "Part II - Press and Public Excluded"])
def test_the_items_after_the_heading_of_the_private_part_are_withheld_and_the_item_before_it_is_not(tmp_path, part):
    for name, items in _each_format(tmp_path, _meeting(["4. Placement Review"], (part,))).items():
        assert not any("Acacia" in item.text for item in items), name
        by_number = {item.source_id.rpartition("#item-")[2]: item for item in items if "#item-" in item.source_id}
        assert by_number["4"].restricted and by_number["5"].restricted, name
        assert not by_number["3"].restricted and PUBLIC in by_number["3"].text, name
        assert part not in by_number["3"].text, name


def test_a_private_part_heading_right_under_the_item_excluding_the_press_withholds_the_items_after_it(tmp_path):
    lines = ["Northbrook Borough Council", "Minutes of the meeting held on 14 March 2023",
             "1. Apologies for Absence", "None.", "2. Fostering Service", PUBLIC,
             "3. Exclusion of the Press and Public", "PART II", "4. Placement Review", SECRET,
             "5. Any Other Business", "None."]
    for name, items in _each_format(tmp_path, lines).items():
        assert not any("Acacia" in item.text for item in items), name
        restricted = sorted(item.source_id.rpartition("#item-")[2] for item in items if item.restricted)
        assert restricted == ["4", "5"], (name, restricted)


def test_the_summary_names_the_heading_an_item_was_withheld_after(fake_settings, tmp_path):
    folder = tmp_path / "minutes"
    folder.mkdir()
    lines = _meeting(["4. Placement Review"], ("PART 2 (EXEMPT ITEMS)",))
    (folder / "minutes.txt").write_text("\n\n".join(lines) + "\n", encoding="utf-8")
    summary = ingest([folder], fake_settings, progress=False)
    reasons = [p.reason for p in summary.problems if p.kind == "restricted"]
    assert any(reason.startswith("item 4 (4. Placement Review) comes after the heading 'PART 2 (EXEMPT ITEMS)'")
               for reason in reasons), reasons
    stored = b"".join(path.read_bytes() for path in fake_settings.data_dir.rglob("*") if path.is_file())
    assert b"Acacia" not in stored and b"fostering service annual report" in stored


@pytest.mark.parametrize("lines", [
    # A public item's own words that look like markings withhold nothing.
    ["4. Part 2 of the Local Plan", "Members noted the consultation."],
    ["4. Budget Report", "Part 2 - Recommendations", "Members agreed the recommendations."],
    ["4. Sufficiency Strategy", "Part 2 - Private Fostering", "Members noted the private fostering figures."],
    ["4. Housing Report", "Members noted the report.", "Part B - Private Sector Housing"],
    ["4. Exclusion of the Press and Public", "RESOLVED - That the public be excluded for the following item.",
     "Exempt information as defined in paragraph 3 of Part 1 of Schedule 12A"],
])
def test_public_items_whose_words_only_look_like_markings_are_indexed(tmp_path, lines):
    meeting = ["Northbrook Borough Council", "Minutes of the meeting held on 14 March 2023",
               "1. Apologies for Absence", "None.", "2. Fostering Service", PUBLIC, *lines,
               "5. Date of Next Meeting", "13 June 2023."]
    (tmp_path / "minutes.txt").write_text("\n\n".join(meeting) + "\n", encoding="utf-8")
    items = _read(tmp_path / "minutes.txt")
    assert not any(item.restricted for item in items), [i.source_id for i in items if i.restricted]


@pytest.mark.parametrize("field", [
    "Exempt / Confidential Report: Yes", "Exempt/Confidential: Yes", "Is this report confidential or exempt? Yes",
    "Confidential / Exempt: Yes (Paragraph 3)",
])
def test_a_cover_asking_whether_the_report_is_exempt_or_confidential_withholds_it(tmp_path, field):
    cover = ["Report to: Cabinet", "Date of Meeting: 14 March 2023", "Subject: Placement Review",
             "Report of: Executive Director of Children's Services", "Wards Affected: All",
             "Portfolio: Children's Social Care", "Is this a Key Decision: No", "Included in Forward Plan: No",
             "Reason for urgency: None", "Background papers: None", field, "Summary", SECRET]
    for name, items in _each_format(tmp_path, cover).items():
        [item] = items
        assert item.restricted and item.text == "", name
    (tmp_path / "public.txt").write_text("\n".join(cover[:-3] + [field.replace("Yes", "No"), "Summary", PUBLIC]),
                                         encoding="utf-8")
    [public] = _read(tmp_path / "public.txt")
    assert not public.restricted


def test_a_jsonl_line_marked_exempt_is_withheld_unless_it_says_it_is_published(tmp_path):
    common = {"council": "Northbrook Borough Council", "date": "2023-03-14"}
    lines = [{"id": "a", "title": "Placement Review (Exempt)", "text": SECRET},
             {"id": "b", "title": "Placement Review", "text": f"NOT FOR PUBLICATION\n{SECRET}"},
             {"id": "c", "title": "Placement Review", "text": f"EXEMPT INFORMATION - PARAGRAPH 2\n{SECRET}"},
             {"id": "d", "title": "Placement Review (Exempt)", "text": PUBLIC, "restricted": False},
             {"id": "e", "title": "Fostering", "text": PUBLIC}]
    path = tmp_path / "minutes.jsonl"
    path.write_text("".join(json.dumps({**common, **line}) + "\n" for line in lines), encoding="utf-8")
    items = {item.source_id: item for item in _read(path)}
    assert [items[key].restricted for key in "abcde"] == [True, True, True, False, False]
    assert not any("Acacia" in item.text for item in items.values())


def test_the_summary_says_how_to_publish_a_marked_jsonl_line(fake_settings, tmp_path):
    path = tmp_path / "minutes.jsonl"
    path.write_text(json.dumps({"id": "a", "council": "Northbrook Borough Council", "title": "Placement Review (Exempt)",
                                "text": SECRET}) + "\n", encoding="utf-8")
    summary = ingest([path], fake_settings, progress=False)
    [withheld] = [p for p in summary.problems if p.kind == "restricted"]
    assert "marked not for publication ('Placement Review (Exempt)')" in withheld.reason
    assert 'add "restricted": false to its line' in withheld.reason


@pytest.mark.parametrize("lines", [
    # A sentence written to a fixed width that carries its citation of Schedule 12A onto a line of its own cites it
    # for something else: the item excluding the press, an appendix not published.
    ["4. Exclusion of the Press and Public",
     "RESOLVED - That the press and public be excluded from the meeting for the following item",
     "of business on the grounds that it involves the likely disclosure of exempt information as defined in",
     "paragraph 3 of Part 1 of Schedule 12A of the Local Government Act 1972."],
    ["4. Placement Sufficiency Strategy",
     "Members considered the strategy. Appendix 2 to the report was not for publication by virtue of",
     "paragraph 3 of Part 1 of Schedule 12A to the Local Government Act 1972.",
     "148 children were placed with in-house foster carers in 2022."],
    ["4. Exclusion of the Press and Public",
     "RESOLVED - That the press and public be excluded for the next item, which contains",
     "exempt information under paragraph 3 of Part 1 of Schedule 12A."],
])
def test_a_wrapped_sentence_citing_schedule_12a_on_its_next_line_withholds_nothing(tmp_path, lines):
    meeting = ["Northbrook Borough Council", "Minutes of the meeting held on 14 March 2023",
               "1. Apologies for Absence", "None.", "2. Minutes of the Previous Meeting", "Approved.",
               "3. Fostering Service", PUBLIC, *lines, "5. Date of Next Meeting", "13 June 2023."]
    (tmp_path / "minutes.txt").write_text("\n".join(meeting) + "\n", encoding="utf-8")
    items = _read(tmp_path / "minutes.txt")
    assert not any(item.restricted for item in items), [i.source_id for i in items if i.restricted]


# From a data-protection review's follow-up: the government security marking OFFICIAL-SENSITIVE (with its descriptors),
# and "Press and public excluded", mark what minutes do not publish as the markings above do.
@pytest.mark.parametrize("marking", ["OFFICIAL-SENSITIVE", "OFFICIAL SENSITIVE", "Official - Sensitive",
                                     "OFFICIAL-SENSITIVE: PERSONAL", "OFFICIAL-SENSITIVE (COMMERCIAL)",
                                     "PRESS AND PUBLIC EXCLUDED"])
def test_a_document_headed_official_sensitive_or_press_and_public_excluded_is_withheld_whole(tmp_path, marking):
    lines = [marking, "Northbrook Borough Council", "Placement Review Panel", "14 March 2023", SECRET]
    for name, items in _each_format(tmp_path, lines).items():
        [item] = items
        assert item.restricted and item.text == "", name


@pytest.mark.parametrize("lines", [
    # A public item that mentions the words in a sentence, on one line or written to a fixed width.
    ["4. Information Governance",
     "The Panel noted that the audit report had been marked OFFICIAL-SENSITIVE and shared with members only.",
     "The remaining items were taken with the press and public excluded."],
    ["4. Information Governance", "Members were reminded that papers marked",
     "official-sensitive must not be forwarded. The last item was heard with the",
     "press and public excluded."],
    ["4. Handling Official-Sensitive Information Policy", "Members approved the policy."],
    ["4. Exclusion of the Press and Public", "RESOLVED - That the press and public be excluded for the next item."],
])
def test_public_items_that_mention_official_sensitive_or_the_press_and_public_excluded_are_indexed(tmp_path, lines):
    meeting = ["OFFICIAL", "Northbrook Borough Council", "Minutes of the meeting held on 14 March 2023",
               "1. Apologies for Absence", "None.", "2. Minutes of the Previous Meeting", "Approved.",
               "3. Fostering Service", PUBLIC, *lines, "5. Date of Next Meeting", "13 June 2023."]
    for joined in ("\n", "\n\n"):
        (tmp_path / "minutes.txt").write_text(joined.join(meeting) + "\n", encoding="utf-8")
        items = _read(tmp_path / "minutes.txt")
        assert len(items) > 3 and not any(item.restricted for item in items), \
            [(i.source_id, i.details) for i in items if i.restricted]
    opening = ["Minutes of the Placement Panel, whose last item was heard with the", "press and public excluded.",
               "Northbrook Borough Council", "14 March 2023", PUBLIC]
    (tmp_path / "panel.txt").write_text("\n".join(opening) + "\n", encoding="utf-8")
    assert not any(item.restricted for item in _read(tmp_path / "panel.txt"))


@pytest.mark.parametrize("footer", ["OFFICIAL-SENSITIVE", "OFFICIAL - SENSITIVE", "OFFICIAL SENSITIVE PERSONAL"])
def test_minutes_marked_official_sensitive_only_in_a_page_s_footer_are_withheld(tmp_path, footer):
    """The security marking stands at the top and the foot of each page: a template marking only the foot, read past
    the first lines that mark a whole document, had the minutes indexed, a child's name and address with them."""
    lines = ["Northbrook Borough Council", "Placement Review Panel", "Minutes of the meeting held on 14 March 2023",
             "Present: Councillors Smith and Jones.", "The Panel reviewed the placement of the child named below.",
             "Her social worker reported that contact with her father had been suspended.",
             "The Panel agreed that the placement should continue.", "Actions were agreed with the team.",
             SECRET, footer]
    for name, items in _each_format(tmp_path, lines).items():
        assert not any("Acacia" in item.text for item in items), name
        assert all(item.restricted for item in items), name
