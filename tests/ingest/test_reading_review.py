"""PDF and Word minutes as the second code review of the ingest commits found them misread: a meeting date on the line
after its label, a report's or issue date ahead of the meeting's, a list numbered inside one agenda item, a two-page
PDF's repeated resolution, and numbered decisions under a bare 'RESOLVED'."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant.ingest.chunk import chunk_item
from assistant.ingest.readers import read_inputs
from assistant.ingest.readers.common import meeting_date_in
from assistant.ingest.structure import split_meeting
from assistant.ingest.tokens import TokenCounter
from assistant.records import MinuteItem
from assistant.text import normalise_space
from fixtures_make import make_paged_pdf, make_wrapped_pdf

COUNTER = TokenCounter()


def read_one(path: Path) -> MinuteItem:
    [item] = list(read_inputs([path], 1_000_000, cwd=path.parent))
    assert isinstance(item, MinuteItem), item
    return item


# --- Finding 4: the meeting's own date wins -------------------------------------------------------------------------

HEADING = "Minutes of the meeting of the Children and Young People's Scrutiny Committee held on"
WHEN = "Wednesday, 8th March 2023 at 2.00 pm in the Council Chamber, Town Hall, Barnsley"


@pytest.mark.parametrize("opening", [
    f"BARNSLEY METROPOLITAN BOROUGH COUNCIL\n{HEADING}\n{WHEN}\nPresent: Councillor Lodge (Chair)",
    # The previous meeting's approval wraps too, and its second line does not say 'the minutes of'.
    f"BARNSLEY METROPOLITAN BOROUGH COUNCIL\n{HEADING}\n{WHEN}\nPresent: Councillor Lodge (Chair)\n"
    "RESOLVED that the minutes of the Children and Young People's Scrutiny Committee\n"
    "meeting held on 11th January 2023 be approved as a correct record.",
    "Corporate Parenting Panel\nDate:\nWednesday 8 March 2023 at 10.00 am, Committee Room 1\nPresent: Cllr Lodge",
    "MINUTES\nHELD ON:\n8 MARCH 2023 AT 10.00 AM IN COMMITTEE ROOM 1\n",
    "Children's Scrutiny Committee\nIssue date: 28 February 2023\nMinutes of the meeting held on 8 March 2023",
    "Children's Scrutiny Committee\nReport of the Executive Director, 20 February 2023\n"
    "Minutes of the meeting held on 8 March 2023",
    "01/03/2023, 14:32\nMinutes - Children's Scrutiny Committee\n"
    "Minutes of the meeting held on Wednesday, 8th March 2023",
    "Children's Scrutiny Committee\nDATE OF NEXT MEETING\nWednesday 5 April 2023\n"
    "Minutes of the meeting held on 8 March 2023",
])
def test_the_meetings_own_date_wins(opening: str) -> None:
    assert meeting_date_in(opening) == "2023-03-08"


@pytest.mark.parametrize("opening", [
    "Corporate Parenting Panel\nIssue date: 28 February 2023\nPresent: Cllr Lodge",
    "Corporate Parenting Panel\nDate of publication:\n1 March 2023\nPresent: Cllr Lodge",
])
def test_a_date_that_is_not_the_meetings_is_never_read(opening: str) -> None:
    assert meeting_date_in(opening) == ""


def test_a_pdf_heading_wrapped_before_its_date_gives_the_date(tmp_path: Path) -> None:
    path = make_wrapped_pdf(tmp_path / "csc.pdf", [[
        "BARNSLEY METROPOLITAN BOROUGH COUNCIL",
        "Minutes of the meeting of the Children and Young People's Scrutiny Committee held on Wednesday, 8th March "
        "2023 at 2.00 pm in the Council Chamber, Town Hall, Barnsley",
        "Present: Councillor Lodge (Chair), Councillors Bowler, Cain and Green.",
        "RESOLVED that the minutes of the Children and Young People's Scrutiny Committee meeting held on 11th January "
        "2023 be approved as a correct record.",
    ]], width=85)
    assert read_one(path).meeting_date == "2023-03-08"


# --- Finding 5: a list numbered inside one item is not the minutes' numbering ---------------------------------------

MINUTES_45_TO_49 = """BARNSLEY METROPOLITAN BOROUGH COUNCIL
Minutes of the Children's Scrutiny Committee held on 8 March 2023
45. Apologies for Absence
Apologies were received from Councillor McCarthy.
46. Children's Social Care Performance
The Service Director presented the report. Members raised the following points.
1. Social worker caseloads
Average caseloads had increased to 22 children a worker.
2. Agency staff
The service relied on 31 agency social workers.
3. Placement sufficiency
There were too few local foster placements for teenagers.
RESOLVED that the report be noted.
47. Fostering Recruitment Update
The service had recruited 14 new fostering households.
48. Work Programme
The work programme was agreed.
49. Date of Next Meeting
5 April 2023.
"""


def test_a_list_numbered_inside_an_item_stays_in_that_item() -> None:
    items = split_meeting(MinuteItem(source_id="file:m.pdf", text=MINUTES_45_TO_49), lambda text: "Minutes")
    assert [item.source_id for item in items] == ["file:m.pdf"] + [f"file:m.pdf#item-{n}" for n in range(45, 50)]
    social_care = items[2]
    assert "3. Placement sufficiency" in social_care.text and "RESOLVED that the report be noted." in social_care.text
    assert "Apologies" not in items[0].text


def test_minutes_numbered_again_after_a_numbered_agenda_are_still_split_at_the_minutes() -> None:
    """An agenda numbered 1-3 with a line under each, then the minutes 1-4: the minutes reach the agenda's numbers,
    so they are not a list inside its item 3."""
    text = ("Corporate Parenting Panel\n1. Apologies\nTo receive apologies.\n2. Minutes\nTo approve them.\n"
            "3. Fostering\nTo note the report.\nMINUTES\n1. Apologies\nNone were received.\n2. Minutes\nApproved.\n"
            "3. Fostering\nThe report was noted.\n4. Date of Next Meeting\n5 April 2023.\n")
    items = split_meeting(MinuteItem(source_id="file:m.pdf", text=text), lambda text: "Minutes")
    assert [item.text.splitlines()[1] for item in items[1:]] == [
        "None were received.", "Approved.", "The report was noted.", "5 April 2023."]


# --- Finding 7: a two-page PDF keeps a resolution repeated at the edge of both pages -------------------------------

def test_a_resolution_ending_both_pages_of_a_two_page_pdf_is_kept_on_both(tmp_path: Path) -> None:
    path = make_paged_pdf(tmp_path / "csc.pdf", [
        ["CORPORATE PARENTING PANEL", "Minutes of the meeting held on 8 March 2023",
         "Present: Councillor Lodge (Chair)", "Care Leavers Local Offer",
         "The Panel considered the refreshed Local Offer for care leavers.", "RESOLVED that the report be noted."],
        ["Fostering Recruitment", "The service had recruited 14 new fostering households.",
         "RESOLVED that the report be noted."],
    ], header="Corporate Parenting Panel - 8 March 2023")
    text = read_one(path).text
    assert text.count("RESOLVED that the report be noted.") == 2
    assert text.count("Corporate Parenting Panel - 8 March 2023") == 1  # the running header is still left out


# --- Finding 8: numbered decisions under a resolution's lead-in belong to it ----------------------------------------

@pytest.mark.parametrize("lead_in", ["RESOLVED", "RESOLVED:", "RESOLVED that:", "RESOLVED that the Committee"])
def test_numbered_decisions_under_a_lead_in_are_its_resolution(lead_in: str) -> None:
    text = (f"The Service Director presented the report on caseloads.\n{lead_in}\n1. That the report be noted\n"
            "2. That a further report be brought in September\n")
    chunks = chunk_item(MinuteItem(source_id="s", text=text), COUNTER, 400)
    resolutions = [normalise_space(chunk.text) for chunk in chunks if chunk.kind == "resolution"]
    assert len(resolutions) == 1 and resolutions[0].endswith(
        f"{lead_in} 1. That the report be noted 2. That a further report be brought in September"), chunks


def test_an_item_heading_after_a_closed_resolution_still_heads_its_item() -> None:
    text = ("The Panel considered the report.\nRESOLVED that the report be noted\n5. Fostering Recruitment Update\n"
            "The service had recruited 14 new fostering households.\n")
    chunks = chunk_item(MinuteItem(source_id="s", text=text), COUNTER, 400)
    assert [chunk.kind for chunk in chunks][-1] == "discussion"
    assert "5. Fostering Recruitment Update" not in " ".join(c.text for c in chunks if c.kind == "resolution")


@pytest.mark.parametrize("opening", [
    # The time and place on the line below the date, in lower case, had been joined to it: no date at all.
    "Cabinet\nWednesday 8 March 2023\nat 2.00 pm in the Council Chamber\nPresent: Councillor Lodge",
    "Corporate Parenting Panel\nWednesday, 8 March 2023\nvia Microsoft Teams\nPresent: Councillor Lodge",
    # A sentence below the heading's date, on something else "held on" another day, had won over it.
    "Children's Scrutiny Panel\nWednesday 8 March 2023\nThe Chair welcomed members. Members noted the consultation "
    "held on 1 December 2022 and its findings.",
])
def test_a_date_line_in_the_heading_stays_the_meetings_date(opening: str) -> None:
    assert meeting_date_in(opening) == "2023-03-08"


@pytest.mark.parametrize("opening", [
    # A date after some other label, or a draft's stamp, above the heading had won over its "held on".
    "Children's Scrutiny Committee\nCall-in deadline: 15 March 2023\nMinutes of the meeting held on 8 March 2023\n",
    "DRAFT - Version 2, 20 March 2023\nMinutes of the Cabinet held on 8 March 2023\n",
    "Last updated: 20 March 2023\nMinutes of the Cabinet held on 8 March 2023\n",
    # The heading block ended early (a street number read as agenda item 10, an agenda pack's stamp, a long list
    # of those present), and below it every line about minutes had been passed over, the meeting's own heading too.
    "Barnsley MBC\n10 Church Street\nBarnsley S70 2TA\nMinutes of the meeting of the Cabinet held on 8 March 2023\n",
    "ITEM 4 MINUTES\nMinutes of the meeting of the Cabinet held on 8 March 2023\nPresent: Cllr A\n",
    "Cabinet\n" + "".join(f"Councillor Name{i}\n" for i in range(15)) + "Minutes of the meeting held on 8 March 2023\n",
    # Words naming another meeting after the date do not make it another day's.
    "Minutes of the meeting held on 8 March 2023 (reconvened from the previous meeting)\n",
    # Below the heading block an agenda item about the last minutes, or their approval, gives another day.
    "Barnsley MBC\n1 Church Street\n3. Minutes of the meeting held on 11 January 2023\nHeld on 8 March 2023\n",
    "Barnsley MBC\n1 Church Street\nMinutes of the meeting held on 11 January 2023 were agreed as a correct "
    "record.\nHeld on 8 March 2023\n",
])
def test_the_heading_s_held_on_beats_other_dated_lines_and_is_found_below_a_short_heading_block(opening: str) -> None:
    assert meeting_date_in(opening) == "2023-03-08"


def test_a_document_s_own_stamps_never_give_the_meeting_s_date() -> None:
    assert meeting_date_in("Call-in deadline: 15 March 2023\nCabinet – 8 March 2023\nPresent: Cllr A") == "2023-03-08"
    assert meeting_date_in("Cabinet\nCall-in deadline: 15 March 2023\nPresent: Cllr A") == ""  # another day, always
    assert meeting_date_in("Cabinet: Wednesday 8 March 2023\nCall-in expiry – 17 March 2023") == "2023-03-08"
    assert meeting_date_in("Date/Time: Wednesday 8 March 2023 at 2.00 pm\nVenue: Town Hall\n"
                           "Version 2 – 20 March 2023") == "2023-03-08"


@pytest.mark.parametrize("opening", [
    # The heading's own date comes first: a sentence below it that something was "held on" another day, or a stamp
    # on a line of its own, does not displace it (a code review of the change before this one found these).
    "Children's Scrutiny Committee – 8 March 2023\nPresent: Cllr A\nApologies: Cllr B\nThe Chair reported that the "
    "Panel had held a development session on 1 March 2023 with foster carers.\n",
    "Cabinet – 8 March 2023\nDRAFT – subject to approval\n20 March 2023\nPresent: Cllr A",
    "Children's Services Scrutiny Panel – 8 March 2023\nDate: 20/03/2023",
    # A line about the last minutes' approval is passed over in the heading block too.
    "Public Document Pack\nCorporate Parenting Panel\nMinutes of the meeting held on 11 January 2023 were agreed as a "
    "correct record.\nHeld on 8 March 2023\n",
])
def test_the_first_date_of_the_heading_block_in_line_order_is_the_meeting_s(opening: str) -> None:
    assert meeting_date_in(opening) == "2023-03-08"


@pytest.mark.parametrize("opening", [
    # Words of the stamps' vocabulary inside the meeting's own heading (a second code review found these lost).
    "West Yorkshire Fire and Rescue Authority\nMinutes of the meeting held on 8 March 2023",
    "Approved minutes of the meeting of Cabinet held on 8 March 2023",
    "Cabinet\nMeeting status: Public\n8 March 2023\nPresent: Cllr A",
    "Cabinet – revised start time – 8 March 2023 at 2pm\n\n1. Apologies\nNone.",
])
def test_the_stamps_words_do_not_discount_the_meeting_s_own_heading(opening: str) -> None:
    assert meeting_date_in(opening) == "2023-03-08"
