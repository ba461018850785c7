"""PDF and Word minutes as a council publishes them, from the third ingest review: lines the layout wrapped, hyphens at
a line end, running headers of short documents, whole meetings split into their agenda items, unreadable Word files,
generic headings, and tables kept whole in a chunk."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from assistant.ingest.chunk import chunk_item
from assistant.ingest.readers import read_inputs
from assistant.ingest.tokens import TokenCounter
from assistant.records import InputProblem, MinuteItem
from assistant.text import normalise_space
from cli_helpers import manifest_rows
from fixtures_make import make_docx, make_docx_paragraphs, make_paged_pdf, make_pdf, make_wrapped_pdf

COUNTER = TokenCounter()


def read(*paths: Path) -> list[MinuteItem | InputProblem]:
    return list(read_inputs(list(paths), 1_000_000, cwd=paths[0].parent))


def items_of(results) -> list[MinuteItem]:
    assert all(isinstance(result, MinuteItem) for result in results), results
    return results


def lines_of(text: str) -> list[str]:
    return [normalise_space(line) for line in text.splitlines() if line.strip()]


# --- Finding 3: a line the layout wrapped is joined, whatever the next one starts with ----------------------------

PARAGRAPHS = [
    "Mel John-Ross, Service Director for Children's Social Care and Safeguarding, introduced the report and gave an "
    "overview of performance indicators for January 2023, which showed that performance remained good across "
    "children's social care, including Early Help.",
    "Average caseloads had increased and in mitigation Community Resource Workers had been introduced, and there had "
    "been increased levels of supervision from Practice Supervisors, with 44 Community Resource Workers and 40 "
    "Practice Supervisors being appointed across the Borough.",
    "It was confirmed that the weekly allowance paid to foster carers had been increased by 12.4 per cent from April "
    "2022 in line with the national minimum allowance set by the Department for Education.",
    "The Head of Service said that the number of referrals to children's social care had fallen by 9 per cent "
    "compared with the same period last year, which she attributed to the strengthened Integrated Front Door and "
    "to the work of the Multi Agency Safeguarding Hub.",
    "RESOLVED that a further report on the fostering marketing campaign be brought to the Children's Scrutiny "
    "Committee in September 2023, with figures for the households recruited since April 2022.",
]
WIDTH = 90


def test_the_review_paragraphs_do_break_before_capitals_and_figures() -> None:
    """What the tests below rely on: set at this width, the paragraphs break before capitals and figures."""
    breaks = [following[:1] for paragraph in PARAGRAPHS
              for following in textwrap.wrap(paragraph, WIDTH, break_on_hyphens=False)[1:]]
    assert sum(not start.islower() for start in breaks) >= 4, breaks


def test_a_wrapped_pdf_line_is_joined_before_a_capital_or_a_figure(tmp_path: Path) -> None:
    path = make_wrapped_pdf(tmp_path / "m.pdf", [["Children's Scrutiny Committee", *PARAGRAPHS]], width=WIDTH)
    [item] = items_of(read(path))
    assert lines_of(item.text) == ["Children's Scrutiny Committee", *PARAGRAPHS]


def test_a_wrapped_line_is_joined_over_a_page_break_before_a_capital(tmp_path: Path) -> None:
    lines = [line for paragraph in PARAGRAPHS for line in textwrap.wrap(paragraph, WIDTH, break_on_hyphens=False)]
    # The page ends inside a sentence, and the next page goes on with a capital or a figure ('from April' / '2022').
    cut = next(position for position, (line, following) in enumerate(zip(lines, lines[1:]), start=1)
               if not line.endswith(".") and not following[:1].islower())
    pages = [["Children's Scrutiny Committee", *lines[:cut], "Page 1 of 2"],
             ["Children's Scrutiny Committee", *lines[cut:], "Page 2 of 2"]]
    text = read(make_paged_pdf(tmp_path / "m.pdf", pages))[0].text
    assert lines_of(text) == ["Children's Scrutiny Committee", *PARAGRAPHS]


def test_a_pdf_as_a_word_processor_wraps_it_keeps_its_sentences_whole(tmp_path: Path) -> None:
    """fpdf2 wraps (and justifies) each paragraph at the right margin itself, as Word does when saving a PDF."""
    path = make_pdf(tmp_path / "m.pdf", ["Children's Scrutiny Committee", *PARAGRAPHS])
    from pypdf import PdfReader

    printed = PdfReader(path).pages[0].extract_text().splitlines()
    assert any(line[:1].isupper() or line[:1].isdigit() for line in printed[2:]), "no break before a capital"
    [item] = items_of(read(path))
    assert lines_of(item.text) == ["Children's Scrutiny Committee", *PARAGRAPHS]


def test_short_lines_headings_list_items_and_labels_keep_their_lines(tmp_path: Path) -> None:
    """A heading is never glued onto the paragraph before it, even when that paragraph's last line is long and ends
    without a full stop; nor is a list item, a resolution or a label ('Present:')."""
    held = "Held on Wednesday, 8th March 2023 at 2.00 pm in the Council Chamber, Barnsley Town Hall"
    unfinished = ("The Committee considered the report of the Director of Children's Services on the sufficiency of "
                  "placements for children looked after by the council, as set out in the appendix")
    page = [held, "Present: Councillor Lodge (Chair), Councillors Bowler, Cain, Green, Hunt and Wright.",
            "4. Children's Social Care Performance", *PARAGRAPHS[:2], unfinished,
            "5. Fostering Recruitment Update", PARAGRAPHS[2], unfinished, "RESOLVED that the report be noted.",
            unfinished, "(i) Members be thanked.", unfinished, "Indicator January 2022 January 2023"]
    text = read(make_wrapped_pdf(tmp_path / "m.pdf", [page], width=WIDTH))[0].text
    lines = lines_of(text)
    for own_line in (held, "4. Children's Social Care Performance", "5. Fostering Recruitment Update",
                     "RESOLVED that the report be noted.", "(i) Members be thanked.", unfinished,
                     "Indicator January 2022 January 2023"):
        assert own_line in lines, own_line
    assert "Present: Councillor Lodge (Chair), Councillors Bowler, Cain, Green, Hunt and Wright." in lines


def test_a_document_of_short_lines_joins_only_what_goes_on_in_lower_case(tmp_path: Path) -> None:
    """Without wrapped paragraphs to measure a full line by, a line ending without a stop ends where it ends."""
    page = ["Corporate Parenting Panel", "Agenda and minutes of the meeting of the panel", "Fostering Annual Report",
            "Members noted the report", "Care Leavers Local Offer"]
    text = read(make_paged_pdf(tmp_path / "m.pdf", [page]))[0].text
    assert lines_of(text) == page


# --- Finding 7: a hyphen at a PDF line end is kept when it is the word's own ----------------------------------------

def test_a_real_hyphen_at_a_line_end_is_kept_and_a_soft_break_is_joined(tmp_path: Path) -> None:
    page = ["The Head of Service reported on the recruitment of in-", "house foster carers and on the Local Offer, "
            "which had been co-", "produced with the Care Leavers Forum. Councillor Green declared a non-",
            "pecuniary interest. The step-", "down arrangements and the well-", "being of looked-",
            "after children were discussed. Recruit-", "ment of social workers was a priority, and recruitment of "
            "carers went on."]
    text = normalise_space(read(make_paged_pdf(tmp_path / "m.pdf", [page]))[0].text)
    for compound in ("in-house", "co-produced", "non-pecuniary", "step-down", "well-being", "looked-after"):
        assert compound in text, compound
    assert "Recruitment of social workers" in text  # 'recruitment' is written whole further on


# --- Finding 12: a two-page PDF's running header is left out, and is never the title --------------------------------

def test_a_two_page_pdf_keeps_its_running_header_once_and_not_as_its_title(tmp_path: Path) -> None:
    header = "Children's Scrutiny Committee - Wednesday, 8 March 2023"
    pages = [["Corporate Parenting Panel", "Minutes of the meeting held on 8 March 2023",
              "The Panel noted the report on placements."],
             ["Members asked about rents.", "The meeting closed at 4pm."]]
    [item] = items_of(read(make_paged_pdf(tmp_path / "m.pdf", pages, header=header, footer="Page {page} of 2")))
    assert item.text.count(header) == 1 and item.text.startswith(header)
    assert item.item_title == "Corporate Parenting Panel"


def test_a_line_repeated_near_the_edges_of_two_pages_but_not_in_one_place_is_kept(tmp_path: Path) -> None:
    pages = [["Corporate Parenting Panel", "1. Placements", "Members asked about placements.",
              "RESOLVED that the report be noted."],
             ["2. Rents", "RESOLVED that the report be noted.", "The meeting closed at 4pm."]]
    text = read(make_paged_pdf(tmp_path / "m.pdf", pages))[0].text
    assert text.count("RESOLVED that the report be noted.") == 2


# --- Finding 4: a whole meeting's PDF or Word minutes are split into their agenda items ------------------------------

OPENING = ["BARNSLEY METROPOLITAN BOROUGH COUNCIL", "MINUTES OF THE CHILDREN'S SCRUTINY COMMITTEE",
           "Held on Wednesday, 8th March 2023 at 2.00 pm in the Council Chamber",
           "Present: Councillor Lodge (Chair), Councillors Bowler, Cain and Green."]
ITEMS = [
    ("Apologies for Absence", ["Apologies were received from Councillor McCarthy."]),
    ("Minutes of the Previous Meeting", ["The minutes of the meeting held on 11th January 2023 were received.",
                                         "RESOLVED that the minutes be approved as a correct record."]),
    ("Children's Social Care Performance", ["The Service Director gave an overview of performance indicators.",
                                            "RESOLVED that:", "(i) The report be noted; and",
                                            "(ii) Witnesses be thanked for their attendance."]),
    ("Fostering Recruitment Update", ["The service had recruited 14 new fostering households.",
                                      "RESOLVED that a further report be brought in September 2023."]),
]


@pytest.mark.parametrize("number", ["{n}.", "{n}", "Item {n}:", "CSC/23/{n:02d}"])
def test_a_meeting_pdf_is_split_at_its_numbered_item_headings(tmp_path: Path, number: str) -> None:
    lines = list(OPENING)
    for n, (title, body) in enumerate(ITEMS, start=3):
        lines += [f"{number.format(n=n)} {title}", *body]
    found = items_of(read(make_paged_pdf(tmp_path / "minutes.pdf", [lines])))
    slugs = [number.format(n=n).rstrip(".:").removeprefix("Item ").replace("/", "-") for n in range(3, 7)]
    assert [item.source_id for item in found] == ["file:minutes.pdf"] + [f"file:minutes.pdf#item-{s}" for s in slugs]
    assert [item.item_title for item in found[1:]] == [f"{number.format(n=n)} {title}"
                                                       for n, (title, _) in enumerate(ITEMS, start=3)]
    assert found[0].item_title == "BARNSLEY METROPOLITAN BOROUGH COUNCIL"
    assert {item.meeting_date for item in found} == {"2023-03-08"}  # the meeting's, never the previous meeting's
    assert found[0].text.endswith("Cain and Green.")
    assert found[3].text.startswith(f"{number.format(n=5)} Children's Social Care Performance")
    assert found[3].text.endswith("(ii) Witnesses be thanked for their attendance.")


def test_a_meeting_word_file_is_split_at_its_item_headings_typed_or_numbered_by_word(tmp_path: Path) -> None:
    typed = [("Title", OPENING[1]), *[("", line) for line in OPENING[2:]]]
    numbered = list(typed)
    for n, (title, body) in enumerate(ITEMS, start=1):
        typed += [("Heading 2", f"{n}. {title}"), *[("", line) for line in body]]
        numbered += [("List Number", title), *[("", line) for line in body]]
    for path in (make_docx_paragraphs(tmp_path / "typed.docx", typed),
                 make_docx_paragraphs(tmp_path / "numbered.docx", numbered)):
        found = items_of(read(path))
        assert [item.source_id for item in found] == [f"file:{path.name}"] + [
            f"file:{path.name}#item-{n}" for n in range(1, 5)]
        assert [item.item_title for item in found] == [OPENING[1]] + [f"{n}. {title}"
                                                                     for n, (title, _) in enumerate(ITEMS, start=1)]
        assert found[4].text.endswith("RESOLVED that a further report be brought in September 2023.")


@pytest.mark.parametrize("lines", [
    # two numbered headings only: as likely a short list
    ["Corporate Parenting Panel", "1. Placements", "Members asked about placements.", "2. Rents", "Noted."],
    # numbered lines one after another: a list, not items
    ["Corporate Parenting Panel", "The Panel noted:", "1. Placements", "2. Rents", "3. Respite", "4. Allowances"],
    # numbers that do not increase
    ["Corporate Parenting Panel", "3. Placements", "Noted.", "1. Rents", "Noted.", "2. Respite", "Noted."],
    # numbered paragraphs, which are sentences
    ["Corporate Parenting Panel", "1. The Panel noted the report.", "Noted.", "2. The Panel thanked officers.",
     "Noted.", "3. The Panel agreed to meet again.", "Noted."],
])
def test_minutes_without_a_run_of_item_headings_stay_one_item(tmp_path: Path, lines: list[str]) -> None:
    assert len(items_of(read(make_paged_pdf(tmp_path / "m.pdf", [lines])))) == 1


def test_an_agenda_printed_as_a_list_before_the_minutes_is_not_taken_for_their_headings() -> None:
    from assistant.ingest.structure import item_headings

    agenda = ["1. Apologies", "2. Minutes", "3. Fostering"]
    minutes = ["1. Apologies", "None.", "2. Minutes", "Approved.", "3. Fostering", "Noted."]
    text = "\n".join(["Agenda", *agenda, "Minutes", *minutes])
    assert [heading.line.start for heading in item_headings(text)] == [
        text.index("1. Apologies\nNone."), text.index("2. Minutes\nApproved."), text.index("3. Fostering\nNoted.")]


def test_a_heading_is_never_packed_onto_the_end_of_the_block_before_it() -> None:
    """Minutes that are not split (two headings, a text file of a whole meeting) still start a chunk at a heading:
    after a resolution it had been read as the resolution's next numbered line."""
    text = ("4. Children's Social Care Performance\nThe report was presented.\nRESOLVED that:\n"
            "(i) The report be noted; and\n(ii) Witnesses be thanked.\n5. Fostering Recruitment Update\n"
            "The service had recruited 14 new fostering households.\n")
    chunks = chunk_item(MinuteItem(source_id="s", text=text), COUNTER, 400)
    [resolution] = [chunk for chunk in chunks if "Witnesses be thanked." in chunk.text]
    assert "Fostering" not in resolution.text and resolution.kind == "resolution"
    [fostering] = [chunk for chunk in chunks if "Fostering Recruitment Update" in chunk.text]
    assert fostering.text.startswith("5. Fostering Recruitment Update") and "14 new fostering" in fostering.text


def test_a_numbered_resolution_list_stays_in_its_resolution() -> None:
    text = ("The report was presented.\nRESOLVED that:\n1. The report be noted\n2. Witnesses be thanked\n"
            "3. A further report be brought in September")
    chunks = chunk_item(MinuteItem(source_id="s", text=text), COUNTER, 400)
    assert [chunk.kind for chunk in chunks] == ["discussion", "resolution"]
    assert chunks[1].text.endswith("3. A further report be brought in September")


def test_a_heading_over_a_resolution_is_chunked_with_it() -> None:
    text = ("6. Care Leavers\nThe Offer was endorsed.\n7. Exclusion of the Public and Press\n"
            "RESOLVED that the public and press be excluded.")
    chunks = chunk_item(MinuteItem(source_id="s", text=text), COUNTER, 400)
    assert chunks[-1].kind == "resolution" and chunks[-1].text.startswith("7. Exclusion of the Public and Press")


def _meeting_pdf(path: Path, headings: bool) -> Path:
    lines = list(OPENING)
    for n, (title, body) in enumerate(ITEMS, start=1):
        lines += [f"{n}. {title}" if headings else f"Item about {title.lower()}", *body]
    return make_paged_pdf(path, [lines])


def _rows(settings) -> dict:
    return manifest_rows(settings)


def test_a_file_indexed_whole_before_is_replaced_by_its_items(fake_settings, tmp_path: Path) -> None:
    """The file's own identity is kept by its opening (what comes before item 1), so an ingest of minutes indexed as
    one item before replaces that item rather than leaving the whole text beside its parts."""
    from assistant.ingest.run import ingest

    folder = tmp_path / "minutes"
    folder.mkdir()
    path = _meeting_pdf(folder / "csc.pdf", headings=False)
    council = "Barnsley Metropolitan Borough Council"
    first = ingest([folder], fake_settings, cwd=tmp_path, council=council)
    assert first.new == 1 and list(_rows(fake_settings)) == ["file:csc.pdf"]
    _meeting_pdf(path, headings=True)  # as this version reads the same minutes: split at their headings
    second = ingest([folder], fake_settings, cwd=tmp_path, council=council)
    assert (second.new, second.replaced, second.removed) == (4, 1, 0) and not second.problems, second.report()
    rows = _rows(fake_settings)
    assert sorted(rows) == ["file:csc.pdf"] + [f"file:csc.pdf#item-{n}" for n in range(1, 5)]
    assert rows["file:csc.pdf"].item_title == "BARNSLEY METROPOLITAN BOROUGH COUNCIL"
    assert {row.council for row in rows.values()} == {council}
    from assistant.ingest.run import Index

    index = Index(fake_settings)
    try:
        chunks = index.store.get(ids=sorted(index.store.all_ids()))
    finally:
        index.close()
    assert sum("14 new fostering households" in chunk.text for chunk in chunks) == 1  # no whole-file copy is left
    assert len(chunks) == sum(len(row.chunk_ids) for row in rows.values())


def test_a_file_indexed_whole_before_whose_items_start_at_once_is_replaced_too(fake_settings, tmp_path: Path) -> None:
    """Minutes with no opening before item 1 have no item under the file's own identity: the entry indexed whole
    before is replaced as a file known under another identity is, and leaves the index."""
    from assistant.ingest.run import ingest

    folder = tmp_path / "minutes"
    folder.mkdir()
    lines = [line for n, (title, body) in enumerate(ITEMS, start=1) for line in (f"{title}", *body)]
    make_paged_pdf(folder / "csc.pdf", [lines])
    ingest([folder], fake_settings, cwd=tmp_path)
    numbered = [line for n, (title, body) in enumerate(ITEMS, start=1) for line in (f"{n}. {title}", *body)]
    make_paged_pdf(folder / "csc.pdf", [numbered])
    second = ingest([folder], fake_settings, cwd=tmp_path)
    assert second.new == 4 and second.removed == 1, second.report()
    assert sorted(_rows(fake_settings)) == [f"file:csc.pdf#item-{n}" for n in range(1, 5)]


def test_items_a_file_no_longer_holds_leave_the_index_with_a_note(fake_settings, tmp_path: Path) -> None:
    """Minutes indexed as agenda items, read again without their item headings (or with items taken out), had left
    their old items in the index, answerable, until --prune."""
    from assistant.ingest.run import ingest

    folder = tmp_path / "minutes"
    folder.mkdir()
    path = _meeting_pdf(folder / "csc.pdf", headings=True)
    first = ingest([folder], fake_settings, cwd=tmp_path)
    assert first.new == 5, first.report()
    _meeting_pdf(path, headings=False)  # the same minutes, no longer split
    second = ingest([folder], fake_settings, cwd=tmp_path)
    assert second.removed == 4 and sorted(_rows(fake_settings)) == ["file:csc.pdf"], second.report()
    assert any("4 agenda items indexed before from" in note and "no longer in that file" in note
               for note in second.notes), second.notes


def test_an_agenda_item_taken_out_of_a_meeting_page_saved_again_leaves_the_index(fake_settings, tmp_path: Path) -> None:
    from assistant.ingest.run import ingest
    from fixtures_make import Row, meeting_page

    rows = [Row("5.", "Apologies for Absence", minutes=["Apologies were received from Councillor Ahmed."]),
            Row("6.", "Fostering Update", minutes=["The committee noted that 14 households had been approved."]),
            Row("7.", "Work Programme", minutes=["The work programme was agreed."])]
    page = tmp_path / "meeting.html"
    page.write_text(meeting_page(rows), encoding="utf-8")
    assert ingest([page], fake_settings).new == 3
    page.write_text(meeting_page([rows[0], rows[2]]), encoding="utf-8")  # item 6 taken out of the page
    second = ingest([page], fake_settings)
    assert second.removed == 1 and not any(sid.endswith("#item-6") for sid in _rows(fake_settings)), second.report()
    assert any("1 agenda item indexed before from" in note for note in second.notes), second.notes


def test_the_items_of_a_file_indexed_whole_before_keep_the_council_given_for_it(fake_settings, tmp_path: Path) -> None:
    from assistant.ingest.run import ingest

    folder = tmp_path / "minutes"
    folder.mkdir()
    path = _meeting_pdf(folder / "csc.pdf", headings=False)
    council = "Barnsley Metropolitan Borough Council"
    ingest([folder], fake_settings, cwd=tmp_path, council=council)
    # Another council's minutes, naming their own, join the folder: its files no longer were all given one council.
    (folder / "other.md").write_text('---\ncouncil: "Sefton Council"\n---\nMinutes of the Sefton panel.\n',
                                     encoding="utf-8")
    ingest([folder], fake_settings, cwd=tmp_path)
    _meeting_pdf(path, headings=True)
    ingest([folder], fake_settings, cwd=tmp_path)  # not told again
    rows = _rows(fake_settings)
    assert {rows[f"file:csc.pdf#item-{n}"].council for n in range(1, 5)} == {council}


# --- Finding 9: a Word file the user may not read says so ------------------------------------------------------------

@pytest.mark.skipif(shutil.which("unshare") is None, reason="needs unshare to drop root's rights")
def test_a_word_file_that_may_not_be_read_says_permission_denied(tmp_path: Path) -> None:
    path = make_docx(tmp_path / "minutes.docx", heading="Corporate Parenting Panel", paragraphs=["Noted."])
    reading = ("import json, sys; from pathlib import Path; from assistant.ingest.readers import read_inputs; "
               "print(json.dumps([[getattr(r, 'reason', ''), getattr(r, 'hint', '')] "
               "for r in read_inputs([Path(sys.argv[1])], 100000)]))")
    path.chmod(0)
    try:
        # Root may read any file; in a user namespace of its own it is nobody to this one.
        command = [sys.executable, "-c", reading, str(path)]
        if os.geteuid() == 0:
            command = ["unshare", "--user", *command]
        run = subprocess.run(command, capture_output=True, text=True, env={**os.environ, "PYTHONPATH": os.getcwd()})
    finally:
        path.chmod(0o644)
    if run.returncode != 0 and "unshare" in run.stderr:
        pytest.skip(f"user namespaces are not available here: {run.stderr.strip()}")
    [(reason, hint)] = json.loads(run.stdout)
    assert "Permission denied" in reason and "damaged" not in reason and ".doc" not in hint


# --- Finding 13: a generic first heading ('MINUTES') is not a Word file's title --------------------------------------

@pytest.mark.parametrize("generic", ["MINUTES", "Minutes", "Agenda"])
def test_a_generic_first_heading_is_not_a_word_files_title(tmp_path: Path, generic: str) -> None:
    path = make_docx_paragraphs(tmp_path / "m.docx", [
        ("Heading 1", generic), ("Heading 2", "Corporate Parenting Panel"), ("", "The Panel noted the report.")])
    [item] = items_of(read(path))
    assert item.item_title == "Corporate Parenting Panel"


def test_a_generic_core_title_and_no_heading_give_the_first_specific_line(tmp_path: Path) -> None:
    path = make_docx_paragraphs(tmp_path / "m.docx", [("", "MINUTES"), ("", "Adoption Panel"), ("", "Noted.")],
                                core_title="Minutes")
    [item] = items_of(read(path))
    assert item.item_title == "Adoption Panel"


# --- Finding 8: a table that fits in a chunk is kept whole -----------------------------------------------------------

TABLE = ["Indicator | January 2022 | January 2023", "Children looked after | 312 | 298",
         "Children subject to a child protection plan | 187 | 164", "Re-referrals within 12 months (%) | 17.2 | 14.8"]


def test_a_table_that_fits_in_a_chunk_is_not_cut_from_its_header_row() -> None:
    prose = ("The Service Director gave an overview of performance indicators for January 2023. It was reported "
             "that the number of referrals had fallen by 9 per cent compared with the same period last year. "
             "A Member asked about the timeliness of assessments, and 91 per cent had been completed in time.")
    text = prose + "\n" + "\n".join(TABLE) + "\nThe Committee noted the figures."
    table_tokens = COUNTER.count(" ".join(TABLE))
    budget = COUNTER.count(prose) + table_tokens // 2 + 20  # the prose and half the table fit one chunk
    chunks = chunk_item(MinuteItem(source_id="s", text=text), COUNTER, budget)
    [holding] = [chunk for chunk in chunks if "Re-referrals" in chunk.text]
    assert all(row in holding.text for row in TABLE), [chunk.text for chunk in chunks]
    assert all(chunk.tokens <= budget for chunk in chunks)


def test_a_table_longer_than_a_chunk_is_still_cut_between_rows() -> None:
    rows = [f"Indicator {n} for the quarter | {n * 3} | {n * 5}" for n in range(60)]
    chunks = chunk_item(MinuteItem(source_id="s", text="\n".join(["Indicator | 2022 | 2023", *rows])), COUNTER, 120)
    assert len(chunks) > 1 and all(chunk.tokens <= 120 for chunk in chunks)
    assert all(chunk.text.endswith(tuple(str(n * 5) for n in range(60)) + ("2023",)) for chunk in chunks)


def test_the_opening_is_never_titled_by_item_1s_heading(tmp_path: Path) -> None:
    """When only a running header comes before item 1, the header titles the opening, for want of a better line."""
    header = "Corporate Parenting Panel - 8 March 2023"
    lines = [line for n, (title, body) in enumerate(ITEMS, start=1) for line in (f"{n}. {title}", *body)]
    pdf = make_paged_pdf(tmp_path / "m.pdf", [lines[:6], lines[6:]], header=header)
    word = make_docx_paragraphs(tmp_path / "m.docx", [("", "Corporate Parenting Panel")] + [
        ("Heading 2", line) if line[:1].isdigit() else ("", line) for line in lines])
    found = items_of(read(pdf, word))
    assert [item.item_title for item in found if "#" not in item.source_id] == [header, "Corporate Parenting Panel"]


def test_a_file_name_holding_a_hash_keeps_it_in_its_items_identities(tmp_path: Path) -> None:
    lines = [line for n, (title, body) in enumerate(ITEMS, start=1) for line in (f"{n}. {title}", *body)]
    found = items_of(read(make_paged_pdf(tmp_path / "minutes #2.pdf", [lines])))
    assert [item.source_id for item in found] == [f"file:minutes #2.pdf#item-{n}" for n in range(1, 5)]
