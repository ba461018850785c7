"""From a privacy review: ways text marked not for publication still reached the index."""

from __future__ import annotations

import json

import pytest

from assistant.ingest.run import ingest
from cli_helpers import manifest_rows

SECRET = "Child K.M. (aged 9), of 12 Acacia Road, is placed with foster carers at 9,000 pounds a week."


def _stored(settings) -> bytes:
    return b"".join(path.read_bytes() for path in settings.data_dir.rglob("*") if path.is_file())


def _indexed(settings) -> set[str]:
    return set(manifest_rows(settings))


def test_an_item_restricted_in_one_of_two_copies_of_its_identity_is_withheld_whichever_is_read_first(
        fake_settings, tmp_path):
    folder = tmp_path / "minutes"
    folder.mkdir()
    line = {"id": "item-77", "council": "Northshire", "title": "Placement", "date": "2024-03-08", "text": SECRET}
    (folder / "export.jsonl").write_text(json.dumps(line) + "\n" + json.dumps({**line, "restricted": True}) + "\n",
                                         encoding="utf-8")
    summary = ingest([folder], fake_settings, progress=False)
    assert "item-77" not in _indexed(fake_settings), summary.report()
    assert b"Acacia" not in _stored(fake_settings)
    assert [p.kind for p in summary.problems] == ["failed", "restricted"]  # the clash is still named


@pytest.mark.parametrize("name, text", [
    # Markdown item headings, which are not read as numbered ones: the file was indexed whole, exempt item and all.
    ("minutes.md", "# Corporate Parenting Panel, 8 March 2024\n\n## 1. Apologies for Absence\nNone.\n\n"
                   "## 2. Sufficiency Strategy\nNoted.\n\n## 3. Residential Placement Contract Award (Exempt)\n"
                   f"{SECRET}\n\n## 4. Date of Next Meeting\n5 June 2024.\n"),
    # Two numbered items: too few to split at, so the file was indexed whole.
    ("minutes.txt", "Corporate Parenting Panel\nHeld on 8 March 2024\n\n1. Sufficiency Strategy\nNoted.\n\n"
                    f"2. Residential Placement Contract Award (Exempt)\n{SECRET}\n"),
    # Headings without numbers.
    ("minutes.txt", "Corporate Parenting Panel\nHeld on 8 March 2024\n\nApologies for Absence\nNone.\n\n"
                    f"Residential Placement Contract Award (Exempt)\n{SECRET}\n\nDate of Next Meeting\n5 June 2024.\n"),
    # One item's file, its title in front matter or its Markdown heading marked.
    ("item.md", f"---\ncouncil: Northshire\ntitle: Residential Placement Contract Award (Exempt)\n---\n{SECRET}\n"),
    ("item.md", f"# Residential Placement Contract Award (Exempt)\n\n{SECRET}\n"),
])
def test_text_under_a_heading_marked_exempt_is_withheld_where_the_minutes_cannot_be_split_at_it(
        fake_settings, tmp_path, name, text):
    folder = tmp_path / "minutes"
    folder.mkdir()
    (folder / name).write_text(text, encoding="utf-8")
    summary = ingest([folder], fake_settings, progress=False)
    assert b"Acacia" not in _stored(fake_settings), summary.report()
    [withheld] = [p for p in summary.problems if p.kind == "restricted"]
    assert "Residential Placement Contract Award (Exempt)' is marked not for publication" in withheld.reason


def test_a_marked_heading_in_a_file_whose_front_matter_says_restricted_false_withholds_nothing(fake_settings, tmp_path):
    folder = tmp_path / "minutes"
    folder.mkdir()
    (folder / "item.md").write_text(
        f"---\ntitle: Contract Award (Exempt)\nrestricted: false\n---\n{SECRET}\n", encoding="utf-8")
    assert ingest([folder], fake_settings, progress=False).new == 1


@pytest.mark.parametrize("heading", [
    "3. Residential Placement Contract Award (Exempt Information)", "3. Residential Placement Contract Award (Part II)",
    "3. Residential Placement Contract Award (Exempt - Paragraph 3)",
    "3. Residential Placement Contract Award (Private and Confidential)",
    "3. Residential Placement Contract Award (Confidential Information)",
    "3. Residential Placement Contract Award - Exempt", "3. Residential Placement Contract Award \u2013 Not for Publication",
])
def test_an_item_heading_marked_in_the_usual_words_of_council_templates_is_withheld(tmp_path, heading):
    """Only '(Exempt)', '(Confidential Report)' and the like were read as marks: these items were indexed."""
    from assistant.ingest.readers import read_inputs
    from assistant.records import MinuteItem

    path = tmp_path / "minutes.txt"
    path.write_text("Corporate Parenting Panel\nHeld on 8 March 2024\n\n1. Apologies for Absence\nNone.\n\n"
                    f"2. Sufficiency Strategy\nNoted.\n\n{heading}\n{SECRET}\n\n4. Date of Next Meeting\n5 June.\n",
                    encoding="utf-8")
    items = [item for item in read_inputs([path], 1_000_000, cwd=tmp_path) if isinstance(item, MinuteItem)]
    assert all("Acacia" not in item.text for item in items)
    assert [item.item_title for item in items if item.restricted] == [heading]


@pytest.mark.parametrize("line", [
    "Residential care (private)", "Foster care \u2013 Private", "Council tax for care leavers - exempt",
    "Private fostering - private arrangements", "Item 5 - Confidential",
])
def test_a_table_or_list_line_inside_public_minutes_that_ends_with_a_marking_word_withholds_nothing(
        fake_settings, tmp_path, line):
    """Found reviewing the fix above: every short line inside an item that read as a marked heading withheld the item
    or file, so a table of placements by provider ('Residential care (private)') took public minutes out of the index.
    Inside an item's text only a marking word that says nothing else counts, in brackets or opening the line."""
    folder = tmp_path / "minutes"
    folder.mkdir()
    (folder / "item.md").write_text(f"---\ncouncil: Northshire\ntitle: Sufficiency Strategy\n---\nPlacements by "
                                    f"provider:\n{line}\n\nThe panel noted 14 new placements in the quarter.\n",
                                    encoding="utf-8")
    summary = ingest([folder], fake_settings, progress=False)
    assert not summary.problems and "file:item.md" in _indexed(fake_settings), summary.report()


@pytest.mark.parametrize("line", [
    "The Committee considered the Local Plan Review (Part 2) and the consultation responses.",
    "Exempt: 1,204",
])
def test_a_sentence_or_a_figure_inside_public_minutes_that_names_a_marking_withholds_nothing(
        fake_settings, tmp_path, line):
    """Found reviewing the fix above: any line of sixteen words or fewer was taken for a heading, a whole sentence
    too, and a table's row giving a figure opened with a marking word: a meeting's public item was withheld."""
    folder = tmp_path / "minutes"
    folder.mkdir()
    (folder / "meeting.md").write_text(
        "---\ncouncil: Northshire\ncommittee: Cabinet\ndate: 2024-03-17\n---\n"
        "1. Apologies for absence\nApologies were received from Councillor Smith.\n\n"
        "2. Declarations of interest\nNone were declared.\n\n"
        f"3. Council Tax Base and Local Plan\nThe report set out the tax base for 2024/25.\n{line}\n"
        "RESOLVED: That the report be noted.\n", encoding="utf-8")
    summary = ingest([folder], fake_settings, progress=False)
    assert not summary.problems and "file:meeting.md#item-3" in _indexed(fake_settings), summary.report()


@pytest.mark.parametrize("title", [
    "Contract Award (Exempt - Paragraph 3 of Schedule 12A)", "Contract Award (Exempt under Paragraph 3)",
    "Contract Award (Part II - Exempt)", "Contract Award (Part 2 Exempt)", "Contract Award (Exempt - Part II)",
    "Contract Award (Exempt Appendices)", "Contract Award - Exempt (Paragraph 3)", "EXEMPT ITEM: Contract Award",
    "Exempt Item - Contract Award",
])
def test_more_template_wordings_of_a_marked_heading_are_marks(title):
    """Found by the code review of the fixes above: these councils' wordings were read as public titles."""
    from assistant.ingest.readers.common import title_marked_not_public

    assert title_marked_not_public(title)


@pytest.mark.parametrize("title", [
    "Housing Support (Exempt Accommodation)", "Whistleblowing (Confidential Reporting Policy)",
    "Private Fostering (Annual Report)", "Exempt Information - Possible Exclusion of the Press and Public",
    "Exempt Accommodation - Update", "Council Tax Exemption (Care Leavers)", "Fostering (Private Fostering)",
])
def test_a_topic_in_brackets_after_a_marking_word_is_no_mark(title):
    """Inside brackets only words that say more of the marking count after it: a topic's words make a public title."""
    from assistant.ingest.readers.common import line_marked_not_public, title_marked_not_public

    assert not title_marked_not_public(title) and not line_marked_not_public(title)
