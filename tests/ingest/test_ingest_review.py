"""What an officer keeping a folder of minutes up to date meets (the third ingest review): new files in a folder
ingested with --council, meeting dates in a document's opening lines, a folder that can no longer be read, Office's
own files on a share, an exempt item of a meeting page, the same minutes twice, and the titles of text files."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from assistant.ingest.readers import read_inputs
from assistant.ingest.readers.common import meeting_date_in
from assistant.ingest.run import ingest
from assistant.records import InputProblem, MinuteItem

from cli_helpers import cli_env, manifest_rows
from fixtures_make import Row, make_docx, make_pdf, meeting_page

BARNSLEY = "Barnsley Metropolitan Borough Council"
SCRUTINY = "Children's Scrutiny Committee"


def _write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def _rows(settings) -> dict:
    return manifest_rows(settings)


def _by_file(settings) -> dict[str, tuple[str, str, str]]:
    """(council, committee, meeting date) of every indexed item, by its file's name."""
    return {Path(row.origin).name: (row.council, row.committee, row.meeting_date) for row in _rows(settings).values()}


def _read(*paths: Path) -> list[MinuteItem | InputProblem]:
    return list(read_inputs(list(paths), 1_000_000))


# --- Finding 1: a new file in a folder ingested with --council ---------------------------------------------------


def test_a_new_file_in_a_folder_ingested_with_council_takes_it_with_a_note(fake_settings, tmp_path):
    folder = tmp_path / "keep"
    _write(folder / "csc-2023-03-08.txt", "Children's Scrutiny Committee\nHeld on 8 March 2023\n\nThe committee noted "
                                          "the fostering report.\n")
    ingest([folder], fake_settings, council=BARNSLEY, committee=SCRUTINY)
    _write(folder / "csc-2023-06-14.txt", "Children's Scrutiny Committee\nHeld on 14 June 2023\n\nOfsted had found no "
                                          "areas for priority action at its focused visit.\n")

    added = ingest([folder], fake_settings)  # the officer's routine: no flags the second time
    assert added.new == 1
    notes = " ".join(added.notes)
    assert "1 new file took what was given to ingest before" in notes, notes
    assert f"csc-2023-06-14.txt: council {BARNSLEY}, committee {SCRUTINY}" in notes, notes
    assert "no council" not in notes and "no committee" not in notes, notes
    assert _by_file(fake_settings)["csc-2023-06-14.txt"] == (BARNSLEY, SCRUTINY, "2023-06-14")

    again = ingest([folder], fake_settings)  # remembered: nothing changes, nothing more is said
    assert (again.new, again.replaced, again.unchanged) == (0, 0, 2) and not again.notes, again.report()


def test_a_folder_given_different_councils_gives_none_and_the_summary_names_the_file(fake_settings, tmp_path):
    minutes = tmp_path / "minutes"
    _write(minutes / "a.txt", "Held on 8 March 2023\n\nThe panel noted the report.\n")
    ingest([minutes], fake_settings, council=BARNSLEY, committee=SCRUTINY)
    _write(minutes / "b.txt", "Held on 9 March 2023\n\nThe board noted the plan.\n")
    ingest([minutes / "b.txt"], fake_settings, council="Sefton Council", committee="Cabinet")
    _write(minutes / "c.txt", "The panel approved 12 foster carers.\n")

    summary = ingest([minutes], fake_settings)
    notes = " ".join(summary.notes)
    assert "took what was given" not in notes, notes
    assert "1 new or replaced file has no council or committee" in notes, notes
    assert "c.txt: no council or committee" in notes and "--council NAME --committee NAME" in notes, notes
    assert "1 new or replaced file has no meeting date" in notes and "c.txt" in notes, notes
    assert _by_file(fake_settings)["c.txt"] == ("", "", "")


def test_only_a_new_files_own_folder_counts(fake_settings, tmp_path):
    """minutes/ holds one council's folder only so far: a new folder beside it may be another council's."""
    minutes = tmp_path / "minutes"
    _write(minutes / "barnsley" / "a.txt", "Held on 8 March 2023\n\nThe panel noted the report.\n")
    ingest([minutes], fake_settings, council=BARNSLEY, committee=SCRUTINY)
    _write(minutes / "sefton" / "b.txt", "Held on 9 March 2023\n\nThe board noted the plan.\n")
    summary = ingest([minutes], fake_settings)
    assert _by_file(fake_settings)["b.txt"] == ("", "", "2023-03-09")
    assert "sefton/b.txt: no council or committee" in " ".join(summary.notes), summary.notes


# --- Finding 2: the meeting date ------------------------------------------------------------------------------


@pytest.mark.parametrize(("opening", "date"), [
    ("Corporate Parenting Panel\nWednesday, 8 March 2023\nPresent: Councillor Lodge (Chair)", "2023-03-08"),
    ("Corporate Parenting Panel\nDate: | Wednesday, 8 March 2023\nTime: | 2.00 pm", "2023-03-08"),
    ("Corporate Parenting Panel\nDate and time: Wednesday 8 March 2023, 2.00 pm", "2023-03-08"),
    ("Corporate Parenting Panel\nMEETING DATE: 8 March 2023", "2023-03-08"),
    ("Minutes of the Corporate Parenting Panel, 8 March 2023", "2023-03-08"),
    ("Corporate Parenting Panel\nMinutes of the meeting held on 8 Mar 2023", "2023-03-08"),
    ("Children's Scrutiny Committee \u2013 Wednesday, 8th March, 2023", "2023-03-08"),
    ("Corporate Parenting Panel\nWednesday 8 March 2023 at 10am", "2023-03-08"),
    # A day's name cut short, as headings often cut it.
    ("Children's Scrutiny Committee\nMinutes of the meeting held on Tues 12th March 2024", "2024-03-12"),
    ("Corporate Parenting Panel\nDate: Weds. 8 March 2023", "2023-03-08"),
    ("Corporate Parenting Panel\nThurs, 9 March 2023", "2023-03-09"),
    # An older ModernGov item page's heading line, copied as text, with the item's number after the time.
    ("Agenda item\nMeeting of Corporate Parenting Panel, Thursday, 7th December, 2023 10.00 am (Item 32.)\n"
     "32. MINUTES\nThe minutes of the meeting held on 5 October 2023 were confirmed.", "2023-12-07"),
    # Not this meeting's date: another meeting's minutes, a later meeting, a publication date.
    ("Corporate Parenting Panel\nThe minutes of the meeting held on 11th January 2023 were received.", ""),
    ("Corporate Parenting Panel\n1. Apologies\n3. Minutes of the meeting held on 11 January 2023\nApproved.", ""),
    ("Corporate Parenting Panel\nMinutes of the previous meeting held on 11 January 2023", ""),
    ("Corporate Parenting Panel\nPublished: 1 March 2023", ""),
    ("Corporate Parenting Panel\n1. Apologies\n9. Dates of future meetings\nMonday, 3 April 2023", ""),
    ("Fostering Annual Report\nNoted on 1 June 2021.", ""),
    # Welsh minutes: 'held on Thursday, 14 March 2024', 'Date: Tuesday, 12 March 2024', a date line of its own.
    ("CYNGOR GWYNEDD\nCofnodion cyfarfod y Pwyllgor Craffu Gofal a gynhaliwyd ar ddydd Iau, 14 Mawrth 2024",
     "2024-03-14"),
    ("Pwyllgor Craffu Gofal\nDyddiad: Dydd Mawrth, 12 Mawrth 2024", "2024-03-12"),
    ("Pwyllgor Craffu Gofal\nDydd Iau, 6 Chwefror 2025", "2025-02-06"),
    ("Pwyllgor Craffu Gofal\nCofnodion y cyfarfod blaenorol a gynhaliwyd ar 11 Ionawr 2024", ""),
    ("Pwyllgor Craffu Gofal\nCofnodion y cyfarfod a gynhaliwyd ar ddydd Iau, 14 Mawrth 2024", "2024-03-14"),
    ("Pwyllgor Craffu Gofal\n1. Ymddiheuriadau\n3. Cofnodion y cyfarfod a gynhaliwyd ar 11 Ionawr 2024\n"
     "Cadarnhawyd hwy yn gofnod cywir.", ""),
    ("Pwyllgor Craffu Gofal\nPENDERFYNWYD cymeradwyo cofnodion y cyfarfod a gynhaliwyd ar 11 Ionawr 2024", ""),
])
def test_the_meeting_date_is_read_from_the_opening_lines(opening: str, date: str) -> None:
    assert meeting_date_in(opening) == date


def test_the_opening_date_wins_over_the_previous_meetings_in_a_word_file(tmp_path):
    """Item 3 of nearly every set of minutes names the previous meeting's date, inside the first page."""
    path = make_docx(tmp_path / "wrong_date.docx", heading="Children and Young People Scrutiny Committee", paragraphs=[
        "Wednesday, 8 March 2023", "Present: Councillor Lodge (Chair), Councillors Bowler and Cain.",
        "1. Apologies for Absence", "Apologies were received from Councillor McCarthy.",
        "3. Minutes of the Previous Meeting", "The minutes of the meeting held on 11th January 2023 were received.",
        "5. Fostering Recruitment Update", "The service had recruited 14 new fostering households."])
    items = [found for found in _read(path) if isinstance(found, MinuteItem)]
    assert items and {item.meeting_date for item in items} == {"2023-03-08"}


def test_a_front_sheet_table_and_a_pdf_opening_give_the_date(tmp_path):
    table = make_docx(tmp_path / "front_sheet.docx", heading="Corporate Parenting Panel", paragraphs=[],
                      table=[["Date:", "Wednesday, 8 March 2023"], ["Time:", "2.00 pm"], ["Venue:", "Town Hall"]])
    pdf = make_pdf(tmp_path / "minutes.pdf", ["Corporate Parenting Panel", "MEETING DATE: 8 March 2023",
                                               "1. Apologies", "The minutes of the meeting held on 11 January 2023 "
                                               "were approved.", "The Panel noted the report."])
    items = [found for found in _read(table, pdf) if isinstance(found, MinuteItem)]
    assert {Path(item.origin).name: item.meeting_date for item in items} == {
        "front_sheet.docx": "2023-03-08", "minutes.pdf": "2023-03-08"}


def test_a_text_file_takes_no_date_from_the_previous_meetings_minutes(tmp_path):
    path = _write(tmp_path / "panel.txt", "Fostering Panel\n\n1. Apologies\n\nNone.\n\n2. Minutes of the meeting held "
                                          "on 11 January 2023\n\nApproved as a correct record.\n")
    [item] = _read(path)
    assert isinstance(item, MinuteItem) and item.meeting_date == ""


# --- Finding 5: a folder that can no longer be read ---------------------------------------------------------------


@pytest.mark.skipif(shutil.which("unshare") is None, reason="needs unshare to drop root's rights")
@pytest.mark.parametrize(("mode", "failed"), [
    (0, "sub: folder could not be read: Permission denied"),
    (0o444, "b.txt: could not be read: Permission denied"),  # listed, but its files' kinds are hidden
])
def test_an_indexed_folder_that_can_no_longer_be_read_fails_alone(fake_settings, tmp_path, mode, failed):
    """Its indexed file was looked for with Path.is_file(), which raises PermissionError on Python 3.11: nothing was
    ingested, with exit status 2 and a hint about a full disk (or, for a folder that may be listed only, the whole
    input folder failed)."""
    folder = tmp_path / "perm"
    _write(folder / "a.txt", "Held on 8 March 2023\n\nThe panel noted the report.\n")
    _write(folder / "sub" / "b.txt", "Held on 9 March 2023\n\nThe board noted the plan.\n")
    ingest([folder], fake_settings, council=BARNSLEY)
    _write(folder / "c.txt", "Held on 10 March 2023\n\nThe panel approved 12 foster carers.\n")
    command = [sys.executable, "-m", "assistant", "ingest", str(folder), "--no-progress"]
    if os.geteuid() == 0:  # root may read any folder; in a user namespace of its own it is nobody to this one
        command = ["unshare", "--user", *command]
    (folder / "sub").chmod(mode)
    try:
        run = subprocess.run(command, env=cli_env(fake_settings.data_dir), capture_output=True, text=True,
                             timeout=600)
    finally:
        (folder / "sub").chmod(0o755)
    if run.returncode != 0 and "unshare" in run.stderr:
        pytest.skip(f"user namespaces are not available here: {run.stderr.strip()}")
    assert run.returncode == 1, run.stdout + run.stderr
    assert "ingested 1 new" in run.stdout, run.stdout
    assert f"failed: {folder / 'sub'}" in run.stdout and failed in run.stdout, run.stdout
    assert f"failed: {folder}:" not in run.stdout, run.stdout
    assert "b.txt: Permission denied): it keeps its indexed version" in run.stdout, run.stdout
    assert "no longer exist" not in run.stdout and "disk may be full" not in run.stdout + run.stderr
    assert sorted(_by_file(fake_settings)) == ["a.txt", "b.txt", "c.txt"]


# --- Finding 6: Office's and Windows' own files on a share --------------------------------------------------------


def test_word_owner_files_and_windows_folder_files_are_passed_over_without_a_word(tmp_path):
    share = tmp_path / "share"
    share.mkdir()
    make_docx(share / "minutes.docx", heading="Fostering Panel", paragraphs=["The Panel noted the report."])
    (share / "~$nutes.docx").write_bytes(b"\x06Officer Name\x00\x00" + b"0" * 150)
    (share / "~$OLD MINUTES.DOCX").write_bytes(b"\x06Officer\x00")
    (share / "Thumbs.db").write_bytes(os.urandom(200))
    (share / "DESKTOP.INI").write_text("[.ShellClassInfo]\r\n")
    (share / "2023").mkdir()
    (share / "2023" / "thumbs.DB").write_bytes(b"\x00" * 10)
    results = _read(share)
    assert [type(found).__name__ for found in results] == ["MinuteItem"], results


# --- Finding 10: an exempt item of a meeting page -----------------------------------------------------------------


def test_an_exempt_item_of_a_meeting_page_is_named_by_its_number_and_title(fake_settings, tmp_path):
    rows = [Row("7.", "Care Leavers Local Offer", minutes=["The Local Offer was endorsed."]),
            Row("8.", "Residential Placement Contract Award", minutes=["Confidential discussion."],
                extra_title_html='<p><a href="mgReasonsRestricted.aspx?OID=4521&amp;OT=I">Restricted item</a></p>')]
    page = _write(tmp_path / "ieListDocuments.html", meeting_page(rows))
    summary = ingest([page], fake_settings)
    assert summary.new == 1
    [withheld] = [problem for problem in summary.problems if problem.kind == "restricted"]
    assert withheld.origin == str(page)
    assert withheld.reason.startswith("item 8 (Residential Placement Contract Award) is marked restricted: not "
                                      "indexed"), withheld.reason
    assert "other items" in withheld.reason


# --- Finding 11: the same minutes twice -----------------------------------------------------------------------------


def test_the_same_minutes_under_two_names_are_both_indexed_with_a_note(fake_settings, tmp_path):
    folder = tmp_path / "dup"
    text = "Children's Scrutiny Committee\nHeld on 8 March 2023\n\nThe committee noted the fostering report.\n"
    _write(folder / "barnsley_csc_2023-03-08.txt", text)
    _write(folder / "Printed minutes 08th-Mar-2023.txt", text)
    (folder / "windows copy.txt").write_bytes(text.replace("\n", "\r\n").encode("cp1252"))  # the same, once read
    _write(folder / "other.txt", "Held on 9 March 2023\n\nThe board noted the plan.\n")
    summary = ingest([folder], fake_settings, council=BARNSLEY)
    assert summary.new == 4
    [note] = [note for note in summary.notes if "the same minutes" in note]
    assert note.startswith(f"the same minutes 3 times: {folder / 'Printed minutes 08th-Mar-2023.txt'}, "
                           f"{folder / 'barnsley_csc_2023-03-08.txt'} and {folder / 'windows copy.txt'} hold the same "
                           "text; keep one"), note
    assert "other.txt" not in note


# --- Finding 13: a text file's title --------------------------------------------------------------------------------


def test_a_text_file_without_front_matter_is_titled_by_its_first_usable_line(tmp_path):
    titled = _write(tmp_path / "titled.txt", "\n\nCorporate Parenting Panel\nThe Panel noted the report.\n")
    stamped = _write(tmp_path / "stamped.txt", "Public Document Pack\nFostering Panel\nNoted.\n")
    generic = _write(tmp_path / "generic.txt", "MINUTES:\nThe Panel noted the report.\n")
    front = _write(tmp_path / "front.md", "---\ntitle: Fostering Update\n---\nCorporate Parenting Panel\nNoted.\n")
    titles = {Path(found.origin).name: found.item_title for found in _read(titled, stamped, generic, front)}
    assert titles == {"titled.txt": "Corporate Parenting Panel", "stamped.txt": "Fostering Panel", "generic.txt": "",
                      "front.md": "Fostering Update"}


def test_a_short_windows_1252_text_with_a_pound_sign_is_not_read_as_a_multibyte_encoding(fake_settings, tmp_path):
    """One '£' (0xA3) in a short line was guessed as Japanese and read as '｣2.3m': in a briefing's questions
    file, then asked and recorded so, and in a short minutes file."""
    from assistant.ingest.readers.text import decode_bytes

    line = "The overspend was \u00a32.3m in Rotherham.\n"
    assert decode_bytes(line.encode("cp1252")) == line
    japanese = "\u5150\u7ae5\u4fdd\u8b77\u306b\u3064\u3044\u3066\u8a71\u3057\u5408\u3044\u307e\u3057\u305f\u3002" * 2
    assert decode_bytes(japanese.encode("shift_jis")) == japanese  # text really written so is still read so
    minutes = _write(tmp_path / "short.txt", "")
    minutes.write_bytes(("Held on 8 March 2023\n\n" + line).encode("cp1252"))
    ingest([minutes], fake_settings)
    from assistant.index.lexical import load

    assert any("\u00a32.3m" in entry.text for entry in load(fake_settings.lexical_dir).entries)


def test_jsonl_lines_without_a_council_or_date_are_called_lines_and_told_their_keys(fake_settings, tmp_path):
    """The notes called each JSONL line a file, and told only how a text file's front matter gives the field."""
    import json

    minutes = tmp_path / "minutes"
    minutes.mkdir()
    lines = [{"url": f"https://example.org/item/{n}", "title": f"Item {n}", "text": f"The panel noted report {n}."}
             for n in (1, 2)]
    (minutes / "export.jsonl").write_text("".join(json.dumps(line) + "\n" for line in lines), encoding="utf-8")
    notes = " ".join(ingest([minutes], fake_settings).notes)
    assert "2 new or replaced JSONL lines have no council or committee" in notes, notes
    assert "or as `council` and `committee` on a JSONL line" in notes, notes
    assert "2 new or replaced JSONL lines have no meeting date" in notes and "a JSONL line, `date`" in notes, notes
    assert "new or replaced files" not in notes, notes
