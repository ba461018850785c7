"""`assistant fetch` against ModernGov-shaped sites on loopback: the project's own fixture site (every awkward
case the issue lists) and, when ../shared is present, a replay of real recorded Manchester replies."""

from __future__ import annotations

import datetime as dt
import json
import socket
import time

import pytest

from assistant.index.manifest import Manifest
from assistant.ingest.moderngov import FetchRequest, fetch_minutes
from assistant.ingest.moderngov.client import user_agent
from cli_helpers import cli_env, run_cli
from conftest import SHARED
from moderngov_site import (
    OWN_PUBLIC_ITEMS,
    RESTRICTED_SECRET,
    RESTRICTED_TITLE,
    SECRET_REFERENCE,
    WINDOW,
    Canned,
    FakeCommittee,
    FakeItem,
    FakeMeeting,
    ModernGovSite,
    SiteProcess,
    own_site,
    paragraphs_html,
)

COUNCIL = "Testshire County Council"
SINCE, UNTIL = (dt.date.fromisoformat(d) for d in WINDOW)
RECORDED = SHARED / "moderngov"


@pytest.fixture
def site():
    served = own_site(crlf=True)
    served.start()
    yield served
    served.stop()


def fetch(settings, site: ModernGovSite | SiteProcess, **request):
    today = request.pop("today", None)
    request = {"council": COUNCIL, "since": SINCE, "until": UNTIL, **request}
    return fetch_minutes(FetchRequest(site.base_url, **request), settings, progress=False, today=today)


def indexed(settings) -> dict:
    manifest = Manifest(settings.manifest_path)
    try:
        return {sid: row for sid, row in manifest.rows().items() if row.status == "done"}
    finally:
        manifest.close()


def ids_of(site: ModernGovSite, *agenda_item_ids: str) -> set[str]:
    return {f"{site.base_url}/mgAi.aspx?ID={i}" for i in agenda_item_ids}


def quick_env(data_dir, **extra):
    return cli_env(data_dir, ASSISTANT_FETCH_RATE="0", ASSISTANT_FETCH_BACKOFF="0", **extra)


# ---------------------------------------------------------------- what gets indexed


def test_exactly_the_public_items_with_published_minutes_in_the_window(quick, site):
    summary = fetch(quick, site)
    assert summary.ok, summary.failed
    rows = indexed(quick)
    assert set(rows) == ids_of(site, *OWN_PUBLIC_ITEMS)  # procedural items too; restricted, empty, old, expired not
    assert (summary.committees, summary.meetings, summary.meetings_cancelled) == (2, 4, 1)
    assert (summary.items_new, summary.items_restricted, summary.items_without_minutes) == (4, 1, 3)
    assert "1002" not in {r.params["lmeetingid"] for r in site.seen("GetMeeting")}  # cancelled: not asked
    assert {r.params["lcommitteeid"] for r in site.seen("GetMeetings")} == {"101", "102"}  # never an "all" id
    assert {r.params["sfromdate"] for r in site.seen("GetMeetings")} == {"01/01/2024"}
    assert {r.params["stodate"] for r in site.seen("GetMeetings")} == {"31/12/2024"}

    item = rows[f"{site.base_url}/mgAi.aspx?ID=5002"]
    assert item.item_title == "Children's Social Care Performance"  # arrived escaped twice
    assert item.committee == "Children's Services Scrutiny Committee"
    assert (item.council, item.meeting_date) == (COUNCIL, "2024-03-05")


def test_each_chunk_carries_the_meeting_and_item_facts_and_the_attendees(quick, site):
    from assistant.ingest.run import Index

    fetch(quick, site)
    index = Index(quick)
    try:
        chunks = index.store.get()
    finally:
        index.close()
    by_item = {c.metadata["source_id"]: c.metadata for c in chunks}
    meta = by_item[f"{site.base_url}/mgAi.aspx?ID=5002"]
    assert meta["source_url"] == f"{site.base_url}/mgAi.aspx?ID=5002"
    assert (meta["meeting_id"], meta["agenda_item_id"], meta["item_number"]) == ("1001", "5002", "2")
    assert meta["agenda_text"] == "To receive the performance report."
    attendees = json.loads(meta["attendees"])
    assert {"name": "Councillor Ben Okoro", "role": "Committee Member", "attendance": "Present"} in attendees
    text = next(c.text for c in chunks if c.metadata["source_id"].endswith("ID=5010"))
    assert "declared a personal interest as a foster carer" in text and "\r" not in text and "<p" not in text


def test_a_restricted_item_is_stored_nowhere_in_the_data_folder(quick):
    """The site runs in its own process, as a council's does, so any of its text found here was fetched here."""
    served = SiteProcess()
    try:
        fetch(quick, served)
        fetch(quick, served)
    finally:
        served.stop()
    files = [p for p in quick.data_dir.rglob("*") if p.is_file()]
    assert any(p.suffix == ".sqlite" for p in files) and any("chroma" in p.parts for p in files)
    for path in files:
        data = path.read_bytes()
        for secret in (RESTRICTED_SECRET, "Quillfeather", RESTRICTED_TITLE, "Zanzibar"):
            for encoding in ("utf-8", "utf-16-le"):
                assert secret.encode(encoding) not in data, f"{secret!r} found in {path}"
    # The index's native code once wrote freed memory into its HNSW file, restricted text and all, so the process
    # that writes the index must never have held that text, not even briefly: not in its memory, freed or not.
    assert not memory_holds(SECRET_REFERENCE.encode(), 32, served.reference_sha256)


def memory_holds(prefix: bytes, length: int, sha256: str) -> bool:
    """Whether this process's heap or anonymous memory, freed parts included, holds `prefix` followed by `length`
    bytes whose sha256 is `sha256`."""
    import hashlib

    chunk = 64 << 20
    with open("/proc/self/maps") as maps:
        regions = [line.split() for line in maps]
    with open("/proc/self/mem", "rb", buffering=0) as memory:
        for fields in regions:
            if not fields[1].startswith("rw") or (len(fields) > 5 and fields[5] not in ("[heap]", "[stack]")):
                continue  # files mapped in are not where a fetched reply lands
            start, end = (int(bound, 16) for bound in fields[0].split("-"))
            for offset in range(start, end, chunk):
                try:
                    memory.seek(offset)
                    data = memory.read(min(chunk + len(prefix) + length, end - offset))
                except OSError:
                    continue
                at = data.find(prefix)
                while at >= 0:
                    candidate = data[at + len(prefix):at + len(prefix) + length]
                    if hashlib.sha256(candidate).hexdigest() == sha256:
                        return True
                    at = data.find(prefix, at + 1)
    return False


def test_the_meeting_reader_hands_back_restricted_items_as_bare_identities_and_stops_with_its_input(quick, site):
    from assistant.ingest.moderngov.meetings import MeetingReader, MeetingRequest

    reader = MeetingReader(site.base_url, COUNCIL, quick, {})
    try:
        read = reader.read(MeetingRequest("1001", "Children's Services Scrutiny Committee"))
    finally:
        reader.close()
    assert reader._process.returncode == 0  # closing its input ended it
    assert read.failure is None and read.date == dt.date(2024, 3, 5)
    assert {i.source_id for i in read.items.public} == ids_of(site, "5001", "5002")
    [restricted] = read.items.restricted
    assert restricted.source_id in ids_of(site, "5003") and restricted.restricted
    assert (restricted.text, restricted.item_title, restricted.council) == ("", "", "")


def test_a_meeting_reader_that_died_fails_each_meeting_with_what_to_do(quick, site):
    from assistant.ingest.moderngov import ServiceError
    from assistant.ingest.moderngov.meetings import MeetingReader, MeetingRequest

    reader = MeetingReader(site.base_url, COUNCIL, quick, {})
    reader._process.kill()
    reader._process.wait()
    try:
        for _ in range(2):
            with pytest.raises(ServiceError) as failed:
                reader.read(MeetingRequest("1001", "Children's Services Scrutiny Committee"))
            assert "The process that reads meetings stopped" in failed.value.message
            assert "Run the fetch again" in failed.value.hint
    finally:
        reader.close()


def test_an_item_that_becomes_restricted_is_withdrawn(quick, site):
    fetch(quick, site)
    site.meetings["1003"].items[0].restricted = True
    summary = fetch(quick, site)
    assert f"{site.base_url}/mgAi.aspx?ID=5010" not in indexed(quick)
    assert summary.ingest.removed == 1 and summary.items_restricted == 2


def test_items_deleted_or_emptied_on_the_site_are_withdrawn(quick, site):
    fetch(quick, site)
    meeting = site.meetings["1003"]
    meeting.items = [i for i in meeting.items if i.id != "5010"]  # deleted
    site.meetings["1001"].items[0].minutes = ""  # emptied
    summary = fetch(quick, site)
    assert set(indexed(quick)) == ids_of(site, "5002", "5011")
    assert summary.items_withdrawn == 2 and summary.ingest.removed == 2
    assert summary.items_restricted == 1  # 5003 alone: withdrawn items are not counted as restricted
    assert any("withdrew 2 items" in note for note in summary.notes), summary.notes
    assert fetch(quick, site).items_withdrawn == 0  # the state no longer names them


def test_a_meeting_cancelled_after_its_minutes_were_indexed_takes_its_items_out(quick, site):
    fetch(quick, site)
    site.meetings["1003"].status = "Cancelled"
    summary = fetch(quick, site)
    assert set(indexed(quick)) == ids_of(site, "5001", "5002")
    assert summary.items_withdrawn == 2 and summary.meetings_cancelled == 2


def test_dates_are_filtered_again_when_the_server_ignores_them(quick):
    served = own_site(ignore_dates=True)
    served.start()
    try:
        summary = fetch(quick, served)
    finally:
        served.stop()
    assert f"{served.base_url}/mgAi.aspx?ID=5030" not in indexed(quick)  # its meeting is in 2023
    assert summary.meetings == 4 and set(indexed(quick)) == ids_of(served, *OWN_PUBLIC_ITEMS)


def test_committees_by_id_or_by_part_of_the_title(quick, site):
    from assistant.ingest.moderngov import select_committees
    from assistant.ingest.moderngov.parse import Committee
    from assistant.errors import ConfigError

    fetch(quick, site, committees=("children's",))
    assert set(indexed(quick)) == ids_of(site, "5001", "5002")
    committees = [Committee("1", "Audit", False, True), Committee("2", "Children's Panel", False, False),
                  Committee("3", "Old Children's Board", True, False)]
    assert [c.id for c in select_committees(committees, [], "x")] == ["2"]
    assert [c.id for c in select_committees(committees, ["CHILDREN"], "x")] == ["2"]
    assert [c.id for c in select_committees(committees, ["1", "3"], "x")] == ["1", "3"]
    with pytest.raises(ConfigError, match="containing 'planning'") as info:
        select_committees(committees, ["planning"], "x")
    assert "--list-committees" in info.value.hint


# ---------------------------------------------------------------- incremental


def test_a_rerun_adds_nothing_embeds_nothing_and_asks_with_the_etag(quick):
    served = own_site(etags=True)
    served.start()
    try:
        first = fetch(quick, served)
        count = len(served.seen("GetMeeting"))
        again = fetch(quick, served)
        repeat = served.seen("GetMeeting")[count:]
    finally:
        served.stop()
    assert first.items_new == 4
    assert (again.items_new, again.items_changed, again.items_unchanged) == (0, 0, 4)
    assert again.ingest.tokens_embedded == 0 and again.ingest.chunks_added == 0
    assert (again.items_restricted, again.items_without_minutes) == (1, 3)  # counted as when last fetched
    assert repeat and all(r.headers.get("if-none-match", "").startswith('"') for r in repeat)
    assert again.meetings_not_modified == len(repeat) == 3


def test_last_modified_is_sent_back_when_there_is_no_etag(quick):
    served = own_site(last_modified=True)
    served.start()
    try:
        fetch(quick, served)
        count = len(served.seen("GetMeeting"))
        again = fetch(quick, served)
        repeat = served.seen("GetMeeting")[count:]
    finally:
        served.stop()
    assert repeat and all(r.headers.get("if-modified-since") for r in repeat)
    assert again.meetings_not_modified == 3 and again.ingest.tokens_embedded == 0


def test_without_validators_unchanged_content_is_recognised_by_its_hash(quick, site):
    fetch(quick, site)
    again = fetch(quick, site)
    assert all("if-none-match" not in r.headers for r in site.seen("GetMeeting"))
    assert again.meetings_not_modified == 3 and again.ingest.tokens_embedded == 0 and again.items_unchanged == 4


def test_changed_minutes_replace_the_old_item(quick, site):
    fetch(quick, site)
    site.meetings["1003"].items[0].minutes = paragraphs_html("Councillor Ben Okoro declared no interest.")
    again = fetch(quick, site)
    assert (again.items_new, again.items_changed, again.items_unchanged) == (0, 1, 3)


def asked_for(site: ModernGovSite, since: int) -> set[str]:
    return {r.params["lmeetingid"] for r in site.seen("GetMeeting")[since:]}


def test_old_meetings_with_minutes_are_checked_again_in_turn_and_unpublished_ones_every_run(quick, site):
    settings = quick.with_(refetch_weeks=12)  # every fixture meeting is older than 12 weeks
    fetch(settings, site)
    count = len(site.seen("GetMeeting"))
    again = fetch(settings, site)
    # 1004's minutes are not out yet: asked every run. Of the two old ones with minutes, a tenth (one) is checked
    # again each run, the one asked for longest ago first (a tie goes to the earlier meeting).
    assert asked_for(site, count) == {"1004", "1001"}
    assert (again.meetings_not_due, again.meetings_rechecked) == (1, 1)
    # The other one's items were not looked at: not known to be unchanged.
    assert (again.items_unchanged, again.items_not_checked) == (2, 2)
    assert any("checks a tenth of the older meetings in its window again, in turn (1 this time)" in n
               for n in again.notes)
    count = len(site.seen("GetMeeting"))
    fetch(settings, site)
    assert asked_for(site, count) == {"1004", "1003"}  # the other old one's turn
    count = len(site.seen("GetMeeting"))
    fetch(settings, site)
    assert asked_for(site, count) == {"1004", "1001"}


def test_an_old_meeting_checked_again_with_an_etag_is_asked_conditionally_and_its_turn_moves_on(quick):
    served = own_site(etags=True)
    served.start()
    try:
        settings = quick.with_(refetch_weeks=12)
        fetch(settings, served)
        count = len(served.seen("GetMeeting"))
        again = fetch(settings, served)
        rechecked = [r for r in served.seen("GetMeeting")[count:] if r.params["lmeetingid"] == "1001"]
        assert rechecked and "if-none-match" in rechecked[0].headers
        assert again.meetings_not_modified >= 1 and again.ingest.tokens_embedded == 0
        count = len(served.seen("GetMeeting"))
        fetch(settings, served)
        # A 304 counts as asked for: 1001 is recorded as checked now, and 1003 is next.
        assert asked_for(served, count) == {"1004", "1003"}
    finally:
        served.stop()


def test_an_item_restricted_long_after_its_meeting_is_removed_when_its_meeting_is_checked_and_named(quick, site):
    settings = quick.with_(refetch_weeks=12)
    fetch(settings, site)
    site.meetings["1003"].items[1].restricted = True  # 5011, a year and more after its meeting
    first = fetch(settings, site)  # 1001's turn
    assert ids_of(site, "5011") <= set(indexed(settings))
    second = fetch(settings, site)  # 1003's turn
    assert not ids_of(site, "5011") & set(indexed(settings))
    assert (first.items_restricted_since, second.items_restricted_since) == (0, 1)
    assert second.as_dict()["items"]["restricted_since"] == 1
    note = next(n for n in second.notes if n.startswith("removed 1 item the site now marks restricted"))
    assert f"{site.base_url}/mgAi.aspx?ID=5011" in note


def test_check_all_asks_for_the_new_meetings_first_and_a_stopped_run_goes_on_from_where_it_stopped(quick, site):
    settings = quick.with_(refetch_weeks=12)
    fetch(settings, site)
    site.meetings["1004"].minutes_published = True  # due every run: its minutes were not out
    count = len(site.seen("GetMeeting"))
    fetch(settings, site, check_all=True)
    order = [r.params["lmeetingid"] for r in site.seen("GetMeeting")[count:]]
    assert order == ["1004", "1001", "1003"]
    fetch(settings, site)  # checks one old meeting in turn, 1001 (a tie goes to the earlier), which is then fresher
    count = len(site.seen("GetMeeting"))
    again = fetch(settings, site, check_all=True)
    # The one asked for longest ago first, as a run the site stopped part-way would have left it.
    assert [r.params["lmeetingid"] for r in site.seen("GetMeeting")[count:]] == ["1004", "1003", "1001"]
    assert again.meetings_rechecked == 2


def test_check_all_asks_for_every_old_meeting_at_once(quick, site):
    settings = quick.with_(refetch_weeks=12)
    fetch(settings, site)
    site.meetings["1003"].items[1].restricted = True
    count = len(site.seen("GetMeeting"))
    again = fetch(settings, site, check_all=True)
    assert asked_for(site, count) == {"1001", "1003", "1004"}
    assert (again.meetings_not_due, again.meetings_rechecked, again.items_restricted_since) == (0, 2, 1)
    assert not ids_of(site, "5011") & set(indexed(settings))


def test_minutes_published_later_are_picked_up(quick, site):
    settings = quick.with_(refetch_weeks=12)
    fetch(settings, site)
    late = site.meetings["1004"]
    late.minutes_published = True
    late.items[0].published = True
    late.items[0].minutes = paragraphs_html("The annual report of the fostering service was noted.")
    again = fetch(settings, site)
    assert again.items_new == 1 and f"{site.base_url}/mgAi.aspx?ID=5020" in indexed(settings)


def test_the_same_site_under_another_spelling_keeps_the_identities_of_the_first_fetch(quick, site):
    fetch(quick, site)
    respelt = site.base_url.replace("/moderngov", "/ModernGov/")  # the site's paths match in any case
    again = fetch_minutes(FetchRequest(respelt, council=COUNCIL, since=SINCE, until=UNTIL), quick, progress=False)
    assert again.ok and (again.items_new, again.items_unchanged) == (0, 4)
    assert set(indexed(quick)) == ids_of(site, *OWN_PUBLIC_ITEMS)  # each item once, under the first spelling
    assert any(site.base_url in note and "first fetched" in note for note in again.notes), again.notes


def test_a_state_from_before_the_base_was_recorded_keeps_its_items_identities(quick, site):
    import sqlite3

    from assistant.ingest.moderngov.state import state_path

    fetch(quick, site)
    older = sqlite3.connect(state_path(quick, site.base_url))
    older.execute("DROP TABLE IF EXISTS site")  # as an index fetched before this change has it
    older.commit()
    older.close()
    respelt = site.base_url.replace("/moderngov", "/MODERNGOV")
    again = fetch_minutes(FetchRequest(respelt, council=COUNCIL, since=SINCE, until=UNTIL), quick, progress=False)
    assert again.items_new == 0 and set(indexed(quick)) == ids_of(site, *OWN_PUBLIC_ITEMS)


def test_minutes_published_only_as_documents_are_explained_and_asked_for_again(quick):
    minutes = FakeItem("700", "Minutes", "", documents=["Minutes 1 May 2024"])
    served = ModernGovSite([FakeCommittee("7", "Cabinet")], [FakeMeeting("70", "7", dt.date(2024, 5, 1), items=[
        minutes, FakeItem("701", "Budget", "", number="2")])])
    settings = quick.with_(refetch_weeks=12)  # the meeting is old enough not to be asked again once its minutes are in
    served.start()
    try:
        first = fetch(settings, served)
        minutes.minutes = paragraphs_html("The minutes of the last meeting were agreed as a correct record.")
        asked = len(served.seen("GetMeeting"))
        again = fetch(settings, served)
        asked_again = len(served.seen("GetMeeting")) - asked
    finally:
        served.stop()
    assert asked_again == 1 and again.items_new == 1  # not recorded as done while it gave no text
    assert first.ok and first.items_new == 0 and first.meetings_without_minutes_text == 1
    [note] = [n for n in first.notes if "assistant ingest" in n]
    assert served.document_url(minutes) in note and f"{served.base_url}/ieListDocuments.aspx?MId=70" in note


def test_minutes_published_only_as_documents_and_added_from_files_are_not_said_to_be_missing(quick, tmp_path):
    """The note asks the officer to download such a meeting's minutes and ingest them; once they had, every later
    fetch still said that nothing of the meeting was indexed, and to download and add its minutes."""
    from assistant.ingest.run import ingest

    served = ModernGovSite([FakeCommittee("7", "Children's Scrutiny Committee")], [
        FakeMeeting("70", "7", dt.date(2024, 5, 1), items=[FakeItem("700", "Minutes", "", documents=["Minutes"])]),
        FakeMeeting("71", "7", dt.date(2024, 6, 5), items=[FakeItem("710", "Minutes", "", documents=["Minutes"])])])
    folder = tmp_path / "minutes"
    folder.mkdir()
    (folder / "csc-2024-05-01.txt").write_text(
        "Minutes of the Children's Scrutiny Committee held on 1 May 2024\n\nMembers noted the fostering report.\n",
        encoding="utf-8")
    served.start()
    try:
        fetch(quick, served)
        ingest([folder], quick, council=COUNCIL, committee="Children's Scrutiny", progress=False)
        again = fetch(quick, served)
    finally:
        served.stop()
    assert again.meetings_without_minutes_text == 2
    [told] = [note for note in again.notes if "assistant ingest" in note]
    assert "MId=71" in told and "MId=70" not in told and "for 1 meeting whose" in told, told
    [added] = [note for note in again.notes if "indexed from your files" in note]
    assert "MId=70" in added and "nothing to do" in added, added


def test_the_state_is_not_trusted_once_the_index_lost_the_items(quick, site):
    from assistant.ingest.run import ingest

    fetch(quick.with_(refetch_weeks=12), site)
    ingest([], quick, reset=True)
    again = fetch(quick.with_(refetch_weeks=12), site)
    assert again.items_new == 4 and set(indexed(quick)) == ids_of(site, *OWN_PUBLIC_ITEMS)


def test_a_corrected_council_name_reaches_meetings_not_due_or_not_modified(quick):
    settings = quick.with_(refetch_weeks=12)  # every fixture meeting is old: none would be asked for again
    served = own_site(etags=True)  # and a meeting that is asked for would answer 304
    served.start()
    try:
        fetch(settings, served, council="Testshire CC")
        count = len(served.seen("GetMeeting"))
        corrected = fetch(settings, served)
        asked_again = served.seen("GetMeeting")[count:]
        count = len(served.seen("GetMeeting"))
        settled = fetch(settings, served)
        asked_after = {r.params["lmeetingid"]: "if-none-match" in r.headers
                       for r in served.seen("GetMeeting")[count:]}
    finally:
        served.stop()
    assert corrected.ok and (corrected.items_new, corrected.items_changed) == (0, 4)
    assert {row.council for row in indexed(settings).values()} == {COUNCIL}
    # The meetings holding items are asked in full; 1004 holds none, so nothing of it carries the old name.
    assert {r.params["lmeetingid"]: "if-none-match" in r.headers for r in asked_again} == {
        "1001": False, "1003": False, "1004": True}
    # Read once under the new name, then trusted: 1001, checked again in turn, is asked conditionally.
    assert asked_after == {"1001": True, "1004": True} and settled.items_changed == 0


def test_a_renamed_committee_reaches_its_meetings_items(quick, site):
    settings = quick.with_(refetch_weeks=12)
    fetch(settings, site)
    site.committees[1].title = "Corporate Parenting Board"
    again = fetch(settings, site)
    assert again.ok and again.items_changed == 2
    committees = {sid.rsplit("=", 1)[1]: row.committee for sid, row in indexed(settings).items()}
    assert committees["5010"] == committees["5011"] == "Corporate Parenting Board"


def test_an_old_meeting_moved_to_another_day_is_read_again_at_once(quick, site):
    settings = quick.with_(refetch_weeks=12)  # every fixture meeting is old: only one is checked again a run
    fetch(settings, site)
    site.meetings["1003"].date = dt.date(2024, 6, 10)  # was 3 June; 1001 is the one due its turn next
    count = len(site.seen("GetMeeting"))
    again = fetch(settings, site)
    # The committee's listing gives the new day: the items must not keep the old one for ten runs or so.
    assert "1003" in asked_for(site, count)
    assert again.ok and again.items_changed == 2
    dates = {sid.rsplit("=", 1)[1]: row.meeting_date for sid, row in indexed(settings).items()}
    assert dates["5010"] == dates["5011"] == "2024-06-10"


def test_a_meeting_whose_record_gives_another_day_than_its_listing_is_not_read_again_every_run(quick, site):
    settings = quick.with_(refetch_weeks=12)  # every fixture meeting is old: only one is checked again a run
    site.etags = True
    # The committee's listing says 3 June, the meeting's own record (and so its items) 4 June, on every run.
    body = site._body("getmeeting", {}, "1003").replace(b"03/06/2024", b"04/06/2024")
    site.always[("getmeeting", "1003")] = Canned(200, body, {"Content-Type": "text/xml; charset=utf-8"})
    fetch(settings, site)
    asked = []
    for _ in range(3):
        count = len(site.seen("GetMeeting"))
        assert fetch(settings, site).ok
        asked += asked_for(site, count)
    # Checked in turn as the other old meeting is, not read again in full on every run as if moved.
    assert asked.count("1003") <= 2 and asked.count("1001") >= 1, asked
    dates = {sid.rsplit("=", 1)[1]: row.meeting_date for sid, row in indexed(settings).items()}
    assert dates["5010"] == dates["5011"] == "2024-06-04"


def test_a_state_from_before_names_were_recorded_is_read_again_once(quick, site):
    import sqlite3

    from assistant.ingest.moderngov.state import state_path

    settings = quick.with_(refetch_weeks=12)
    fetch(settings, site, council="Testshire CC")
    older = sqlite3.connect(state_path(settings, site.base_url))
    for column in ("council", "committee"):  # as a state written before this change has it
        older.execute(f"ALTER TABLE meetings DROP COLUMN {column}")
    older.commit()
    older.close()
    corrected = fetch(settings, site)
    count = len(site.seen("GetMeeting"))
    settled = fetch(settings, site)
    asked_after = {r.params["lmeetingid"] for r in site.seen("GetMeeting")[count:]}
    assert corrected.ok and corrected.items_changed == 4
    assert {row.council for row in indexed(settings).values()} == {COUNCIL}
    # Trusted from then on: only 1004 (minutes not out) and the old meeting whose turn it is are asked.
    assert asked_after == {"1001", "1004"} and settled.items_changed == 0


# ---------------------------------------------------------------- polite and robust


def test_a_503_with_retry_after_is_waited_out(quick, site):
    site.queue("GetMeeting", "1001", Canned(503, b"busy", {"Retry-After": "1"}))
    summary = fetch(quick, site)
    asked = [r for r in site.seen("GetMeeting") if r.params["lmeetingid"] == "1001"]
    assert summary.ok and len(asked) == 2
    assert asked[1].at - asked[0].at >= 0.95  # Retry-After honoured even with no backoff of our own
    assert set(indexed(quick)) == ids_of(site, *OWN_PUBLIC_ITEMS)


def test_a_retry_after_beyond_the_cap_stops_the_fetch_saying_when_to_run_again(quick, site):
    site.queue("GetCommittees", "", Canned(429, b"", {"Retry-After": "3600"}))
    started = time.monotonic()
    summary = fetch(quick.with_(fetch_max_wait=0.2), site)
    assert time.monotonic() - started < 10 and len(site.requests) == 1  # not asked again within the hour
    [failure] = summary.failed
    assert "Retry-After: 3600" in failure.reason and "Run the fetch again after" in failure.hint


TRICKLED = b'<?xml version="1.0" encoding="utf-8"?><committees>' + b" " * 40 + b"</committees>"


def test_the_timeout_bounds_the_whole_reply_not_each_read(quick, site):
    from assistant.ingest.moderngov.client import ServiceClient, ServiceError

    site.queue("GetCommittees", "", Canned(200, TRICKLED, {"Content-Type": "text/xml"}, trickle=0.15))
    started = time.monotonic()
    with ServiceClient(site.base_url, quick.with_(fetch_timeout=1.0, fetch_retries=0)) as client:
        with pytest.raises(ServiceError) as info:
            client.call("GetCommittees")
    assert time.monotonic() - started < 3  # the whole body would take 14 s
    assert "whole reply within 1 s" in info.value.message and "ASSISTANT_FETCH_TIMEOUT" in info.value.hint


def test_the_timeout_bounds_a_reply_whose_headers_trickle_in(quick):
    """A site (or a tarpit before it) sending its status line, then a header line every 0.2 s, held one request for
    good: the deadline was checked only as the body came, and httpx's timeout bounds each read (from a ModernGov
    review). A site sending them every 5 ms ran a minute, then failed as unreachable."""
    import threading

    from assistant.ingest.moderngov.client import ServiceClient, ServiceError

    server = socket.create_server(("127.0.0.1", 0))
    stop = threading.Event()

    def drip() -> None:
        connection, _ = server.accept()
        with connection:
            connection.recv(65536)
            try:
                connection.sendall(b"HTTP/1.1 200 OK\r\n")
                while not stop.wait(0.2):
                    connection.sendall(b"X-Slow: a\r\n")
            except OSError:  # the fetch gave up and closed the connection
                pass

    threading.Thread(target=drip, daemon=True).start()
    started = time.monotonic()
    try:
        with ServiceClient(f"http://127.0.0.1:{server.getsockname()[1]}/moderngov",
                           quick.with_(fetch_timeout=1.0, fetch_retries=0)) as client:
            with pytest.raises(ServiceError) as info:
                client.call("GetCommittees")
    finally:
        stop.set()
        server.close()
    assert time.monotonic() - started < 5
    assert "whole reply within 1 s" in info.value.message and "ASSISTANT_FETCH_TIMEOUT" in info.value.hint


def test_a_client_given_up_sends_no_more_requests(quick, site):
    """A request given up (its headers too slow) whose thread then read the end of its headers, a redirect, went on
    to follow it: one request more, beside the next client's, that set when the next was sent (a code review)."""
    import httpx

    from assistant.ingest.moderngov.client import ServiceClient

    with ServiceClient(site.base_url, quick) as client:
        stuck = client._http
        client._give_up()
        # What httpx runs before each hop of a request, a redirect's included (a closed client's pool opens a new
        # connection for one): the hop is refused.
        with pytest.raises(httpx.TimeoutException):
            for hook in stuck.event_hooks["request"]:
                hook(httpx.Request("GET", client.url("GetCommittees")))
        assert client.last_request == {}  # no turn taken: the next request is not held back by it
        assert client.call("GetCommittees").root.tag == "committees"  # the new client asks as ever
    assert len(site.requests) == 1


def test_a_request_given_up_while_it_waits_its_turn_takes_no_turn(quick, site):
    """A redirect's hop of a request given up could pass the check before its wait for its turn, then take a turn
    and set when 'the' request went, under the next request (a code review)."""
    import threading

    import httpx

    from assistant.ingest.moderngov.client import ServiceClient

    with ServiceClient(site.base_url, quick.with_(fetch_rate=2.0)) as client:
        stuck, url = client._http, client.url("GetCommittees")
        host = httpx.URL(url).netloc.decode()
        client.last_request[host] = before = time.monotonic()  # the hop waits half a second for its turn
        refused = []

        def hop() -> None:
            try:
                for hook in stuck.event_hooks["request"]:
                    hook(httpx.Request("GET", url))
            except httpx.TimeoutException:
                refused.append(True)

        waiting = threading.Thread(target=hop)
        waiting.start()
        time.sleep(0.1)
        client._give_up()
        waiting.join(5)
        assert refused == [True] and client.last_request[host] == before and client._sent_at == 0.0


def test_the_meeting_reader_keeps_to_the_same_deadline(quick, site):
    site.always[("getmeeting", "1003")] = Canned(200, TRICKLED, {"Content-Type": "text/xml"}, trickle=0.15)
    started = time.monotonic()
    summary = fetch(quick.with_(fetch_timeout=1.0, fetch_retries=0), site)
    assert time.monotonic() - started < 10
    [failure] = summary.failed
    assert "GetMeeting 1003" in failure.what and "whole reply within 1 s" in failure.reason


def test_a_reply_larger_than_the_cap_is_refused_with_what_to_do(quick, site):
    from assistant.ingest.moderngov.client import MAX_REPLY_BYTES, ServiceClient, ServiceError

    assert MAX_REPLY_BYTES >= 32 * 2 ** 20  # far above any real reply (the recorded ones are a few KB)
    with ServiceClient(site.base_url, quick, max_reply_bytes=2000) as client:  # GetMeeting 1001 sends 7 KB
        assert client.call("GetCommittees").root.tag == "committees"  # a reply under the cap is read as ever
        with pytest.raises(ServiceError) as info:
            client.call("GetMeeting", {"lMeetingId": "1001"})
    assert "more than 2000 bytes" in info.value.message and "--since" in info.value.hint


def test_a_meeting_answering_500_fails_alone_and_loses_nothing(quick, site):
    fetch(quick, site)
    site.always[("getmeeting", "1003")] = Canned(500, b"<html><body>Runtime Error</body></html>",
                                                 {"Content-Type": "text/html"})
    site.meetings["1001"].items[0].minutes = paragraphs_html("Apologies were received from Councillor Hartley.")
    summary = fetch(quick, site)
    assert not summary.ok and len(summary.failed) == 1
    failure = summary.failed[0]
    assert "GetMeeting 1003" in failure.what and "500" in failure.reason and failure.hint
    assert summary.items_changed == 1  # the other meetings went on
    assert set(indexed(quick)) == ids_of(site, *OWN_PUBLIC_ITEMS)  # 1003's items are still there
    assert len([r for r in site.seen("GetMeeting") if r.params["lmeetingid"] == "1003"]) == 1 + 1 + quick.fetch_retries


@pytest.mark.parametrize("canned, words", [
    (Canned(200, b"<?xml version='1.0'?><meeting><meetingid>1003</meeting>", {"Content-Type": "text/xml"}),
     "malformed XML"),
    (Canned(404, b"Not here", {"Content-Type": "text/plain"}), "404"),
    (Canned(403, b"Forbidden", {"Content-Type": "text/plain"}), "403"),
])
def test_one_bad_meeting_reply_is_reported_and_the_rest_go_on(quick, site, canned, words):
    site.always[("getmeeting", "1003")] = canned
    summary = fetch(quick, site)
    assert [f.what.split(" (")[0] for f in summary.failed] == ["GetMeeting 1003"]
    assert words in summary.failed[0].reason and summary.failed[0].hint
    assert set(indexed(quick)) == ids_of(site, "5001", "5002")


def test_a_401_says_the_service_wants_a_login_not_that_robots_are_blocked(quick, site):
    site.always[("getcommittees", "")] = Canned(401, b"", {"WWW-Authenticate": 'Basic realm="ModernGov"'})
    [failure] = fetch(quick, site).failed
    assert "401" in failure.reason and "login" in failure.hint and "public" in failure.hint
    assert "automated" not in failure.hint


def test_a_failing_committee_listing_leaves_the_other_committees_going(quick, site):
    site.always[("getmeetings", "101")] = Canned(404, b"", {})
    summary = fetch(quick, site)
    assert len(summary.failed) == 1 and "Children's Services Scrutiny Committee" in summary.failed[0].what
    assert set(indexed(quick)) == ids_of(site, "5010", "5011")


def test_user_agent_names_the_project_its_version_and_the_contact(quick, site):
    from assistant import __version__

    fetch(quick.with_(fetch_contact="https://example.org/minutes-bot"), site)
    agents = {r.headers["user-agent"] for r in site.requests}
    assert agents == {user_agent("https://example.org/minutes-bot")}
    (agent,) = agents
    assert f"minutes-assistant/{__version__}" in agent and "https://example.org/minutes-bot" in agent


def test_requests_to_one_host_keep_to_the_rate(quick, site):
    fetch(quick.with_(fetch_rate=4.0), site, committees=("102",))
    times = [r.at for r in site.requests]
    assert len(times) >= 4
    gaps = [b - a for a, b in zip(times, times[1:])]
    assert min(gaps) >= 0.2  # 4 a second, less a margin for the clock of the server thread


# ---------------------------------------------------------------- the command


def test_fetch_command_end_to_end_then_rerun_then_stats(tmp_path, site):
    env = quick_env(tmp_path / "index", ASSISTANT_REFETCH_WEEKS="5000")
    args = ("fetch", site.base_url, "--council", COUNCIL, "--since", WINDOW[0], "--until", WINDOW[1],
            "--no-progress", "--json")
    first = run_cli(*args, env=env)
    assert first.returncode == 0, first.stderr
    summary = json.loads(first.stdout)
    assert summary["items"] == {"new": 4, "changed": 0, "unchanged": 0, "not_checked": 0, "restricted": 1,
                                "without_minutes": 3, "withdrawn": 0, "restricted_since": 0}
    assert summary["meetings"]["cancelled"] == 1 and summary["committees"] == 2
    again = run_cli(*args, env=env)
    assert again.returncode == 0, again.stderr
    assert json.loads(again.stdout)["tokens_embedded"] == 0
    text = run_cli(*args[:-1], env=env)
    assert text.returncode == 0 and "unchanged 4" in text.stdout and "restricted 1" in text.stdout

    stats = run_cli("stats", "--json", env=env)
    counts = json.loads(stats.stdout)
    assert {"items", "chunks", "by_council", "by_committee", "by_year"} <= set(counts)
    assert counts["items"] == 4 and counts["by_council"][COUNCIL]["items"] == 4
    assert counts["by_year"]["2024"]["items"] == 4


def test_citations_point_at_the_items_public_page(quick, site):
    """What a citation is built from (a retrieved chunk) names the item's public page as its source and link."""
    from assistant.index import lexical
    from assistant.records import Citation, Hit

    fetch(quick, site)
    keyword_index = lexical.load(quick.lexical_dir)
    found = keyword_index.search("declared a personal interest as a foster carer", 3, None)
    entries = [keyword_index.entries[position] for position, _ in found]
    citations = [Citation.from_hit(n, Hit(e.chunk_id, e.text, e.metadata, score), e.text[:40])
                 for n, (e, (_, score)) in enumerate(zip(entries, found), start=1)]
    assert citations[0].source_url == citations[0].link == f"{site.base_url}/mgAi.aspx?ID=5010"
    assert (citations[0].council, citations[0].committee, citations[0].meeting_date) == (
        COUNCIL, "Corporate Parenting Panel", "2024-06-03")
    assert all(c.source_url.startswith(f"{site.base_url}/mgAi.aspx?ID=") for c in citations)


def test_a_web_service_answering_html_exits_1_with_a_clear_message(tmp_path, site):
    site.html_everywhere = True
    result = run_cli("fetch", site.base_url, "--council", COUNCIL, "--no-progress", env=quick_env(tmp_path / "i"))
    assert result.returncode == 1, (result.stdout, result.stderr)
    output = result.stdout + result.stderr
    assert "Traceback" not in output
    assert "mgWebService.asmx" in result.stderr and "HTML rather than XML" in result.stderr
    assert "browser" in result.stderr and "check the base URL" in result.stderr


@pytest.mark.parametrize("status", [403, 404])
def test_a_refused_or_missing_service_exits_1_with_what_to_do(tmp_path, site, status):
    site.always[("getcommittees", "")] = Canned(status, b"<html><body>No</body></html>", {"Content-Type": "text/html"})
    result = run_cli("fetch", site.base_url, "--council", COUNCIL, "--no-progress", env=quick_env(tmp_path / "i"))
    assert result.returncode == 1 and "Traceback" not in result.stdout + result.stderr
    assert str(status) in result.stderr and "how to fix:" in result.stderr


def test_malformed_committee_xml_exits_1_without_a_traceback(tmp_path, site):
    site.always[("getcommittees", "")] = Canned(200, b"<committees><committee><committeeid>1</committees>",
                                                {"Content-Type": "text/xml"})
    result = run_cli("fetch", site.base_url, "--council", COUNCIL, "--no-progress", env=quick_env(tmp_path / "i"))
    assert result.returncode == 1 and "malformed XML" in result.stderr and "Traceback" not in result.stderr


def test_a_tls_failure_exits_1_with_what_to_do(tmp_path, site):
    secure = site.base_url.replace("http://", "https://")  # a plain-HTTP server cannot complete a TLS handshake
    result = run_cli("fetch", secure, "--council", COUNCIL, "--no-progress", env=quick_env(tmp_path / "i"))
    assert result.returncode == 1 and "Traceback" not in result.stdout + result.stderr
    assert "TLS" in result.stderr and "certificate" in result.stderr
    # A network that inspects secure connections, where the browser does not warn, is named with what to set.
    assert "SSL_CERT_FILE" in result.stderr


def test_list_committees_prints_ids_titles_and_expiry_and_stops(tmp_path, site):
    result = run_cli("fetch", site.base_url, "--list-committees", env=quick_env(tmp_path / "i"))
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert any("101" in line and "current" in line and "Children's Services Scrutiny Committee" in line
               for line in lines)
    assert any("103" in line and "expired" in line for line in lines)
    assert not site.seen("GetMeetings") and not (tmp_path / "i" / "manifest.sqlite").exists()


def test_a_root_outside_the_directory_needs_a_council_name(tmp_path, site):
    result = run_cli("fetch", site.base_url, "--no-progress", env=quick_env(tmp_path / "i"))
    assert result.returncode == 2 and "--council" in result.stderr and "Traceback" not in result.stderr
    assert not site.requests


def test_a_council_name_that_is_not_the_directory_s_for_the_site_is_kept_and_noted(quick, site, monkeypatch):
    from assistant.ingest.moderngov import directory

    # The fixture site in the directory, as a council's real site is (the directory itself is left alone: what is
    # read from it is kept for the session).
    monkeypatch.setattr(directory, "names_in_directory",
                        lambda base_url: [COUNCIL] if base_url == site.base_url else [])
    slipped = fetch(quick, site, council="Testshrie County Council")
    assert slipped.ok and {row.council for row in indexed(quick).values()} == {"Testshrie County Council"}
    assert any("'Testshrie County Council' is not the name the directory gives" in note
               and f"--council '{COUNCIL}'" in note for note in slipped.notes), slipped.notes
    right = fetch(quick, site, council="Testshire Council")  # the same council, written another way: no note
    assert not any("is not the name the directory gives" in note for note in right.notes), right.notes
    assert {row.council for row in indexed(quick).values()} == {"Testshire Council"}


def test_a_since_in_the_future_says_so_rather_than_naming_an_until_never_given(quick):
    from assistant.errors import ConfigError

    with pytest.raises(ConfigError) as info:
        fetch_minutes(FetchRequest("barnsley", since=dt.date(2099, 1, 1)), quick, today=dt.date(2024, 6, 1))
    assert "2099-01-01 is in the future" in info.value.message and "--until" not in info.value.message
    assert "2024-06-01" in info.value.message and info.value.hint
    with pytest.raises(ConfigError, match="is after --until 2024-01-31"):
        fetch_minutes(FetchRequest("barnsley", since=dt.date(2024, 2, 1), until=dt.date(2024, 1, 31)), quick)


def test_an_until_whose_window_lies_wholly_ahead_and_a_since_before_any_minutes_are_refused(quick):
    from assistant.errors import ConfigError

    with pytest.raises(ConfigError) as info:  # its 12 months hold no meeting yet: not "nothing new"
        fetch_minutes(FetchRequest("barnsley", until=dt.date(9999, 12, 31)), quick, today=dt.date(2026, 12, 1))
    assert "wholly in the future" in info.value.message and "--since" in info.value.hint
    with pytest.raises(ConfigError, match="before any minutes"):  # 01/01/1 is no date a site reads
        fetch_minutes(FetchRequest("barnsley", since=dt.date(1, 1, 1)), quick, today=dt.date(2026, 12, 1))
    for until in (dt.date(201, 5, 1), dt.date(1, 3, 1)):  # a slip for 2015, and a year with none before it
        with pytest.raises(ConfigError, match=f"--until {until} is before any minutes"):
            fetch_minutes(FetchRequest("barnsley", until=until), quick, today=dt.date(2026, 12, 1))
    with pytest.raises(ConfigError) as info:  # both ahead: it is --since that no meeting can meet
        fetch_minutes(FetchRequest("barnsley", since=dt.date(2099, 1, 1), until=dt.date(2099, 6, 1)), quick,
                      today=dt.date(2026, 12, 1))
    assert "--since 2099-01-01 is in the future" in info.value.message


def test_an_until_ahead_with_a_window_reaching_today_is_taken(quick, site):
    summary = fetch(quick, site, since=dt.date(2024, 1, 1), until=dt.date(2030, 1, 1), today=dt.date(2024, 12, 31))
    assert summary.ok and summary.items_new == 4
    assert {r.params["sfromdate"] for r in site.seen("GetMeetings")} == {"01/01/2024"}


def test_bad_dates_and_unknown_committees_are_the_users_to_fix(tmp_path, site):
    env = quick_env(tmp_path / "i")
    bad = run_cli("fetch", site.base_url, "--council", COUNCIL, "--since", "spring 2024", env=env)
    assert bad.returncode == 2 and "--since must be a date, not 'spring 2024'" in bad.stderr
    unknown = run_cli("fetch", site.base_url, "--council", COUNCIL, "--committee", "Planning", env=env)
    assert unknown.returncode == 2 and "--list-committees" in unknown.stderr


# ---------------------------------------------------------------- the network


def test_a_fetch_connects_to_loopback_and_nowhere_else(quick, site, monkeypatch):
    """Beyond pytest-socket's guard: every connection the fetch's own process opens is watched, and all are
    loopback; the meetings are fetched by a child process this cannot watch, so the site's log must hold exactly
    the requests the fetch needed, those of the child among them."""
    connected = []
    real_connect = socket.socket.connect

    def watching(sock, address):
        connected.append(address)
        return real_connect(sock, address)

    monkeypatch.setattr(socket.socket, "connect", watching)
    summary = fetch(quick, site)
    assert summary.ok and connected
    assert all(isinstance(a, tuple) and a[0] in ("127.0.0.1", "::1") for a in connected), connected
    asked = sorted((r.operation, r.params.get("lcommitteeid") or r.params.get("lmeetingid", "")) for r in site.requests)
    assert asked == [("getcommittees", ""), ("getmeeting", "1001"), ("getmeeting", "1003"), ("getmeeting", "1004"),
                     ("getmeetings", "101"), ("getmeetings", "102")]
    assert summary.meetings_fetched == 3  # each of them answered by the site above, and by nothing else


# ---------------------------------------------------------------- real recorded replies


def recorded_site() -> ModernGovSite:
    if not (RECORDED / "meeting_with_minutes.xml").is_file():
        pytest.skip(f"needs ../shared beside the checkout ({RECORDED} with the recorded ModernGov replies not found)")
    files = {
        ("getcommittees", ""): RECORDED / "committees.xml",
        ("getmeetings", "144"): RECORDED / "meetings.xml",
        ("getmeeting", "4967"): RECORDED / "meeting_with_minutes.xml",
        ("getmeeting", "4966"): RECORDED / "meeting_no_minutes.xml",
    }
    return ModernGovSite([FakeCommittee("163", "Art Galleries Committee")], [], base_path="/", recorded=files)


@pytest.mark.shared
def test_real_manchester_replies(quick):
    served = recorded_site()
    served.start()
    try:
        summary = fetch_minutes(FetchRequest(served.base_url, council="Manchester City Council",
                                             since=dt.date(2026, 1, 1), until=dt.date(2026, 3, 31)),
                                quick, progress=False)
        asked = {r.params.get("lcommitteeid") for r in served.seen("GetMeetings")}
    finally:
        served.stop()
    assert summary.ok, summary.failed
    assert asked == {"163", "144"}  # 312 is expired
    assert (summary.meetings, summary.meetings_cancelled, summary.items_new) == (2, 1, 2)
    rows = indexed(quick)
    assert set(rows) == {f"{served.base_url}/mgAi.aspx?ID=18831", f"{served.base_url}/mgAi.aspx?ID=18833"}
    minutes = rows[f"{served.base_url}/mgAi.aspx?ID=18831"]
    assert (minutes.item_title, minutes.committee, minutes.meeting_date) == ("Minutes", "Audit Committee",
                                                                            "2026-02-10")
    assert minutes.council == "Manchester City Council"


@pytest.mark.shared
def test_real_manchester_meeting_parses_into_typed_records():
    from assistant.ingest.moderngov.client import parse_reply
    from assistant.ingest.moderngov.items import meeting_items
    from assistant.ingest.moderngov.parse import parse_meeting

    if not (RECORDED / "meeting_with_minutes.xml").is_file():
        pytest.skip(f"needs ../shared beside the checkout ({RECORDED} not found)")
    root = parse_reply((RECORDED / "meeting_with_minutes.xml").read_bytes(), "text/xml", "GetMeeting", "u", "b")
    meeting = parse_meeting(root)
    assert meeting.date == dt.date(2026, 2, 10) and meeting.minutes_published
    assert [i.id for i in meeting.items] == ["18831", "18833"]
    assert meeting.attendees[0].name == "Councillor Basil Curley"
    made = meeting_items(meeting, base_url="https://democracy.manchester.gov.uk", council="Manchester City Council",
                         committee="Audit Committee", max_item_chars=10_000)
    work = made.public[1]
    assert work.text.startswith("The Committee considered a report of the Governance and Scrutiny Support Unit")
    assert work.source_id == "https://democracy.manchester.gov.uk/mgAi.aspx?ID=18833"
    assert json.loads(work.details["attendees"])[0]["attendance"] == "Expected"
    cancelled = parse_meeting(parse_reply((RECORDED / "meeting_no_minutes.xml").read_bytes(), "", "GetMeeting",
                                          "u", "b"))
    assert cancelled.cancelled and not cancelled.items


def test_a_root_with_a_path_keeps_it_in_every_request_and_identity(quick):
    committees = [FakeCommittee("7", "Cabinet")]
    meetings = [FakeMeeting("70", "7", dt.date(2024, 2, 1), items=[
        FakeItem("700", "Budget", paragraphs_html("The budget was agreed."))])]
    served = ModernGovSite(committees, meetings, base_path="/democracy")
    served.start()
    try:
        summary = fetch(quick, served)
    finally:
        served.stop()
    assert summary.ok and set(indexed(quick)) == {f"{served.base_url}/mgAi.aspx?ID=700"}
    assert served.base_url.endswith("/democracy")


def test_a_fetch_that_reaches_no_meeting_still_finishes_a_purge_left_owed(quick, site):
    from assistant.index.purge import PURGE_OWED
    from assistant.ingest.run import Index, ingest_items
    from assistant.records import MinuteItem

    fetch(quick, site)
    [withdrawn] = ids_of(site, "5011")
    index = Index(quick)
    try:  # a run stopped after a batch took the item out, before its last batch's purge
        ingest_items([MinuteItem(source_id=withdrawn, text="", origin=withdrawn, restricted=True)], quick,
                     index=index, purge=False)
    finally:
        index.close()
    chroma_file = quick.chroma_dir / "chroma.sqlite3"
    assert b"Performance Feedback" in chroma_file.read_bytes()  # still readable: its purge is owed
    site.stop()  # the next fetch cannot list a committee
    down = fetch(quick.with_(fetch_retries=0), site)
    assert not down.ok and down.committees == 0
    manifest = Manifest(quick.manifest_path)
    try:
        assert manifest.get_meta(PURGE_OWED) is None
    finally:
        manifest.close()
    assert b"Performance Feedback" not in chroma_file.read_bytes()


def test_an_owed_purge_that_cannot_open_the_index_is_a_note_beside_the_sites_failure(quick, site, monkeypatch):
    from assistant.errors import IndexMismatchError
    from assistant.index.purge import owe_purge
    from assistant.ingest.moderngov import fetch as fetching

    fetch(quick, site)
    manifest = Manifest(quick.manifest_path)
    try:
        owe_purge(manifest)
    finally:
        manifest.close()

    def refused(settings, **kwargs):
        raise IndexMismatchError("The index was built with another embedding model.", "Run ingest --reset.")

    monkeypatch.setattr(fetching, "Index", refused)
    site.stop()
    down = fetch(quick.with_(fetch_retries=0), site)
    assert down.failed and down.failed[0].what == "GetCommittees"  # the site's failure is still what is reported
    assert any("purge could not run" in note and "another embedding model" in note for note in down.notes)
