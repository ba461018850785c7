"""`assistant fetch` against odd sites, continued: control characters and encodings in replies, replies naming no
meeting, sites asking for a pause, duplicated item ids, meetings at the window's edge, dates in other forms,
committees gone from the site, PDF-only councils, and user input that must be refused."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

import pytest

from assistant.ingest.moderngov import FetchRequest, fetch_minutes
from assistant.ingest.moderngov.client import parse_reply
from moderngov_site import (OWN_PUBLIC_ITEMS, Canned, FakeCommittee, FakeItem, FakeMeeting, ModernGovSite,
                            paragraphs_html)
from test_moderngov import UNTIL, fetch, ids_of, indexed
from test_moderngov_more import chunk_texts, site  # noqa: F401 (a fixture)

SERVER_ERROR = (b"<html><head><title>Runtime Error</title></head><body><h1>Server Error in '/' Application.</h1>"
                b"</body></html>")


# ---------------------------------------------------------------- 1. characters XML 1.0 does not allow


@pytest.mark.parametrize("character", ["\x0b", "\x0c", "&#xB;", "&#x1F;", "&#11;", "\x01"])
def test_a_control_character_from_word_does_not_lose_the_meeting(character):
    body = ('<?xml version="1.0" encoding="utf-8"?><meeting><meetingid>7</meetingid><agendaitems><agendaitem>'
            f"<minutesnonemptyhtmlbody>&lt;p&gt;17 new{character}foster carers&lt;/p&gt;</minutesnonemptyhtmlbody>"
            "</agendaitem></agendaitems></meeting>").encode("utf-8")
    root = parse_reply(body, "text/xml; charset=utf-8", "GetMeeting", "http://x/GetMeeting", "http://x")
    minutes = root.findtext(".//minutesnonemptyhtmlbody")
    assert minutes.startswith("<p>17 new") and minutes.endswith("foster carers</p>")
    assert not any(ord(c) < 32 and c not in "\t\n\r" for c in minutes)


def test_a_meeting_whose_minutes_carry_a_vertical_tab_is_indexed_on_the_first_run(quick, site):
    body = site._body("getmeeting", {}, "1003").replace(b"foster carer", b"foster&#xB;carer")
    site.always[("getmeeting", "1003")] = Canned(200, body, {"Content-Type": "text/xml; charset=utf-8"})
    summary = fetch(quick, site)
    assert summary.ok, summary.failed
    assert set(indexed(quick)) == ids_of(site, *OWN_PUBLIC_ITEMS)


# ---------------------------------------------------------------- 2. a reply naming no meeting


@pytest.mark.parametrize("body", [b'<?xml version="1.0" encoding="utf-8"?>\n<meeting/>\n',
                                  b"<meeting><agendaitems></agendaitems></meeting>"])
def test_a_reply_naming_no_meeting_fails_it_and_withdraws_nothing(quick, site, body):
    fetch(quick, site)
    site.queue("GetMeeting", "1003", Canned(200, body, {"Content-Type": "text/xml; charset=utf-8"}))
    summary = fetch(quick, site)
    [failure] = summary.failed
    assert "GetMeeting 1003" in failure.what and "no meeting id" in failure.reason
    assert summary.items_withdrawn == 0
    assert set(indexed(quick)) == ids_of(site, *OWN_PUBLIC_ITEMS)


@pytest.mark.parametrize("body", [
    b'<?xml version="1.0" encoding="utf-8"?>\r\n<meeting>\r\n  <meetingid>1003</meetingid>\r\n</meeting>\r\n',
    b"<meeting><meetingid>1003</meetingid><meetingdate>03/06/2024</meetingdate><meetingstatus>Confirmed"
    b"</meetingstatus><minutepublished>True</minutepublished><attendees></attendees></meeting>",
])
def test_a_reply_naming_the_meeting_but_no_agenda_items_list_fails_it_and_withdraws_nothing(quick, site, body):
    """Every meeting record ModernGov sends has <agendaitems>, a cancelled one's too (empty): a reply without it
    was taken as the meeting holding no items, and a passing glitch withdrew them all until the next run."""
    fetch(quick, site)
    site.queue("GetMeeting", "1003", Canned(200, body, {"Content-Type": "text/xml; charset=utf-8"}))
    summary = fetch(quick, site)
    [failure] = summary.failed
    assert "GetMeeting 1003" in failure.what and "agenda" in failure.reason, failure
    assert summary.items_withdrawn == 0
    assert set(indexed(quick)) == ids_of(site, *OWN_PUBLIC_ITEMS)
    assert fetch(quick, site).ok


@pytest.mark.parametrize("body", [b"", b"  \r\n"])
def test_an_empty_meeting_reply_fails_it_and_withdraws_nothing(quick, site, body):
    fetch(quick, site)
    site.queue("GetMeeting", "1003", Canned(200, body, {"Content-Type": "text/xml; charset=utf-8"}))
    summary = fetch(quick, site)
    [failure] = summary.failed
    assert "GetMeeting 1003" in failure.what and "empty reply" in failure.reason, failure
    assert summary.items_withdrawn == 0 and set(indexed(quick)) == ids_of(site, *OWN_PUBLIC_ITEMS)


# ---------------------------------------------------------------- 4. encodings


MEETING_1252 = ('<meeting><meetingid>7</meetingid><agendaitems><agendaitem><minutesnonemptyhtmlbody>'
                "The Director\u2019s report \u2013 \u00a342</minutesnonemptyhtmlbody></agendaitem></agendaitems>"
                "</meeting>")


@pytest.mark.parametrize("declaration, content_type", [
    ("", "text/xml"),  # declared nowhere
    ('<?xml version="1.0" encoding="utf-8"?>', "text/xml; charset=utf-8"),  # declared utf-8, but is not
    ('<?xml version="1.0"?>', "text/xml; charset=iso-8859-1"),  # the header applies
    ('<?xml version="1.0"?>\r\n', "text/xml; charset=windows-1252"),
    ('<?xml version="1.0" encoding="windows-1252"?>', "text/xml; charset=utf-8"),  # the declaration wins
])
def test_a_reply_in_windows_1252_is_read_as_a_browser_reads_it(declaration, content_type):
    body = (declaration + MEETING_1252).encode("cp1252")
    root = parse_reply(body, content_type, "GetMeeting", "http://x/GetMeeting", "http://x")
    assert root.findtext(".//minutesnonemptyhtmlbody") == "The Director\u2019s report \u2013 \u00a342"


def test_a_reply_in_utf8_labelled_latin_1_stays_utf8_when_the_declaration_says_so():
    body = ('<?xml version="1.0" encoding="utf-8"?>' + MEETING_1252).encode("utf-8")
    root = parse_reply(body, "text/xml; charset=iso-8859-1", "GetMeeting", "http://x/GetMeeting", "http://x")
    assert root.findtext(".//minutesnonemptyhtmlbody") == "The Director\u2019s report \u2013 \u00a342"


@pytest.mark.parametrize("declaration, content_type", [
    ('<?xml version="1.0" encoding="ISO-8859-1"?>', "text/xml"),
    ('<?xml version="1.0" encoding="windows-1252"?>', "text/xml; charset=utf-8"),
    ('<?xml version="1.0"?>', "text/xml; charset=iso-8859-1"),
])
def test_a_reply_in_utf8_labelled_latin_1_or_windows_1252_is_read_as_utf8(declaration, content_type):
    # Sites declare a single-byte encoding over UTF-8: bytes valid as UTF-8 beyond ASCII are read as UTF-8, as ingest
    # reads a text file, not as 'Children\u00e2\u20ac\u2122s'.
    body = (declaration + MEETING_1252).encode("utf-8")
    root = parse_reply(body, content_type, "GetMeeting", "http://x/GetMeeting", "http://x")
    assert root.findtext(".//minutesnonemptyhtmlbody") == "The Director\u2019s report \u2013 \u00a342"


def test_a_reply_really_in_latin_1_is_still_read_as_latin_1():
    minutes = "Caf\u00e9 r\u00e9sum\u00e9s for care leavers cost \u00a342 \u00bd each"
    body = ('<?xml version="1.0" encoding="ISO-8859-1"?>' + MEETING_1252.replace(
        "The Director\u2019s report \u2013 \u00a342", minutes)).encode("latin-1")
    root = parse_reply(body, "text/xml", "GetMeeting", "http://x/GetMeeting", "http://x")
    assert root.findtext(".//minutesnonemptyhtmlbody") == minutes


def test_malformed_xml_is_not_called_a_passing_fault():
    from assistant.ingest.moderngov.client import ServiceError

    with pytest.raises(ServiceError) as caught:
        parse_reply(b"<meeting><meetingid>7</meeting>", "text/xml", "GetMeeting", "http://x/GetMeeting", "http://x")
    assert "malformed XML" in caught.value.message
    assert "again later" not in caught.value.hint and "web team" in caught.value.hint


# ---------------------------------------------------------------- 3. a site that asks for a pause, or is down


def more_meetings(site, count: int) -> None:
    """Meetings of the Corporate Parenting Panel beside the fixture's, so that more are due than a stop leaves."""
    import datetime as dt

    from moderngov_site import FakeItem, FakeMeeting

    for n in range(count):
        meeting_id, item_id = str(1100 + n), str(5100 + n)
        site.meetings[meeting_id] = FakeMeeting(meeting_id, "102", dt.date(2024, 10, 1 + n), items=[
            FakeItem(item_id, "Work Programme", paragraphs_html(f"The panel agreed its work programme {n}."))])


def getmeeting_requests(site) -> int:
    return len(site.seen("GetMeeting"))


def test_a_retry_after_longer_than_the_cap_stops_the_run_at_once_saying_when_to_run_again(quick, site):
    more_meetings(site, 3)
    site.queue("GetMeeting", "*", *[Canned(429, b"Too many requests", {"Retry-After": "3600"})] * 20)
    summary = fetch(quick.with_(fetch_max_wait=0.5), site)
    assert getmeeting_requests(site) == 1  # not retried after the cap, and no other meeting asked for
    assert any("Retry-After: 3600" in f.reason and "Run the fetch again after" in f.hint for f in summary.failed)
    assert any(f.what == "the fetch" and "5 meetings not asked" in f.reason
               and "after the time the site gave" in f.hint for f in summary.failed), summary.failed


def test_a_retry_after_within_the_cap_is_still_waited_out(quick, site):
    site.queue("GetMeeting", "1003", Canned(429, b"", {"Retry-After": "0"}))
    summary = fetch(quick.with_(fetch_max_wait=0.5), site)
    assert summary.ok, summary.failed


def test_a_site_down_for_every_meeting_is_left_after_a_few_meetings_not_tried_for_all(quick, site):
    from assistant.ingest.moderngov.fetch import SITE_FAILURES_BEFORE_STOPPING

    more_meetings(site, 4)
    site.queue("GetMeeting", "*", *[Canned(503, b"<html><body>Service Unavailable</body></html>",
                                           {"Content-Type": "text/html"})] * 100)
    summary = fetch(quick.with_(fetch_retries=1), site)
    # Its committees still listed at the end of the first streak, it goes on for one streak more (as past meetings
    # whose records the server fails on), then stops: twice the streak's meetings, each tried twice.
    assert getmeeting_requests(site) == SITE_FAILURES_BEFORE_STOPPING * 2 * 2
    [stopped] = [f for f in summary.failed if f.what == "the fetch"]
    assert f"{SITE_FAILURES_BEFORE_STOPPING * 2} requests in a row" in stopped.reason, summary.failed
    # No failure gave a time to wait for: the hint does not send the officer to look for one.
    assert "once the site answers in a browser" in stopped.hint and "for when" not in stopped.hint
    assert summary.items_withdrawn == 0


@pytest.mark.parametrize("refusal", [
    Canned(403, b"<html><body>Access denied</body></html>", {"Content-Type": "text/html"}),
    Canned(401, b"", {"WWW-Authenticate": "Negotiate"}),
    # A bot check or login page sent with status 200, as Cloudflare and single sign-on front ends send them.
    Canned(200, b"<!DOCTYPE html><html><head><title>Just a moment...</title></head><body>Checking your browser"
                b"</body></html>", {"Content-Type": "text/html"}),
], ids=["403", "401", "html-200"])
def test_a_site_that_starts_refusing_every_meeting_is_left_after_a_few_not_asked_for_all(quick, site, refusal):
    """A firewall that blocks the fetch part-way (the known trouble of councils behind Cloudflare) had every meeting
    of the run asked for and refused, each a failure line of its own: hundreds on a council's first fetch."""
    from assistant.ingest.moderngov.fetch import SITE_FAILURES_BEFORE_STOPPING

    more_meetings(site, 6)
    site.queue("GetMeeting", "*", *[refusal] * 100)
    summary = fetch(quick, site)
    # As for a site that is down: its committees still listed at the end of the first streak, one streak more.
    assert getmeeting_requests(site) == SITE_FAILURES_BEFORE_STOPPING * 2
    [stopped] = [f for f in summary.failed if f.what == "the fetch"]
    assert f"the site refused {SITE_FAILURES_BEFORE_STOPPING * 2} requests in a row" in stopped.reason
    assert "3 meetings not asked for" in stopped.reason and "ASSISTANT_FETCH_CONTACT" in stopped.hint
    assert summary.items_withdrawn == 0 and summary.items_new == 0


def test_a_meeting_refused_alone_does_not_stop_the_run(quick, site):
    more_meetings(site, 4)
    for meeting_id in ("1001", "1003", "1100"):  # not in a row: 1004 and the others answer between
        site.queue("GetMeeting", meeting_id, Canned(403, b"", {}))
    summary = fetch(quick, site)
    assert {f.what.split()[1] for f in summary.failed} == {"1001", "1003", "1100"}, summary.failed


def _fetched_with_requests_that_always_fail(settings, committees, meetings, failing: dict[str, list[str]]):
    """A fetch (no retries) of a site whose replies to these requests ({operation: [ids]}) are always an ASP.NET
    error page, as a server gives for a record it cannot read."""
    served = ModernGovSite(committees, meetings)
    for operation, ids in failing.items():
        for broken in ids:
            served.always[(operation, broken)] = Canned(500, SERVER_ERROR, {"Content-Type": "text/html"})
    served.start()
    try:
        return fetch(settings.with_(fetch_retries=0), served)
    finally:
        served.stop()


def test_meetings_the_server_always_fails_on_do_not_keep_every_run_from_the_newer_ones(quick):
    """Three meetings whose records the server fails on every time, asked for first on every run as the oldest,
    stopped every run as 'the site was busy or down': the newer minutes were never fetched."""
    meetings = [FakeMeeting(str(2000 + n), "101", dt.date(2024, 2, 1) + dt.timedelta(days=7 * n), items=[
        FakeItem(str(7000 + n), f"Item {n}", paragraphs_html(f"Members noted report number {n} on fostering."))])
        for n in range(6)]
    summary = _fetched_with_requests_that_always_fail(quick, [FakeCommittee("101", "Children's Scrutiny")], meetings,
                                                      {"getmeeting": ["2000", "2001", "2002"]})
    assert summary.meetings_fetched == 3 and summary.items_new == 3
    assert {f.what.split()[1] for f in summary.failed} == {"2000", "2001", "2002"}, summary.failed


def test_committee_listings_the_server_always_fails_on_do_not_keep_the_others_from_being_fetched(quick):
    committees = [FakeCommittee(str(100 + n), f"Committee {n}") for n in range(5)]
    meetings = [FakeMeeting(str(3000 + n), str(100 + n), dt.date(2024, 3, 1), items=[
        FakeItem(str(8000 + n), "Minutes", paragraphs_html(f"Members noted report {n}."))]) for n in range(5)]
    summary = _fetched_with_requests_that_always_fail(quick, committees, meetings,
                                                      {"getmeetings": ["100", "101", "102"]})
    assert summary.items_new == 2 and summary.meetings_fetched == 2
    assert len([f for f in summary.failed if f.what.startswith("GetMeetings")]) == 3


def test_a_meeting_failing_alone_does_not_stop_the_run(quick, site):
    more_meetings(site, 4)
    for meeting_id in ("1003", "1100"):
        site.queue("GetMeeting", meeting_id, *[Canned(503, b"")] * 2)
    summary = fetch(quick.with_(fetch_retries=1), site)
    assert {f.what.split()[1] for f in summary.failed} == {"1003", "1100"}
    assert summary.meetings_fetched == 5


PARENT = """
import pickle, sys
from assistant.ingest.moderngov.meetings import MeetingReader, MeetingRequest
settings = pickle.load(open(sys.argv[2], "rb"))
reader = MeetingReader(sys.argv[1], "Testshire", settings, {})
print(reader._process.pid, flush=True)
reader.read(MeetingRequest("1003", "Corporate Parenting Panel"))
"""


def test_the_meeting_reader_stops_asking_the_site_once_its_parent_is_killed(quick, site, tmp_path):
    import os
    import pickle
    import signal
    import subprocess
    import sys
    import time

    site.always[("getmeeting", "1003")] = Canned(503, b"")
    settings_file = tmp_path / "settings.pickle"
    settings_file.write_bytes(pickle.dumps(quick.with_(fetch_retries=1000, fetch_backoff=0.2, fetch_max_wait=0.2)))
    parent = subprocess.Popen([sys.executable, "-c", PARENT, site.base_url, str(settings_file)],
                              stdout=subprocess.PIPE, text=True)
    child = int(parent.stdout.readline())
    assert site.request_arrived.wait(30)
    os.kill(parent.pid, signal.SIGKILL)
    parent.wait()
    killed, asked = time.monotonic(), getmeeting_requests(site)

    def gone() -> bool:
        try:
            with open(f"/proc/{child}/status") as status:
                return any(line.startswith("State:") and "Z" in line.split()[1] for line in status)
        except FileNotFoundError:
            return True

    while not gone() and time.monotonic() - killed < 5:
        time.sleep(0.05)
    if not gone():
        os.kill(child, signal.SIGKILL)
        pytest.fail("the meeting reader went on after its parent was killed")
    assert getmeeting_requests(site) <= asked + 1  # a request already on its way may still arrive


# ---------------------------------------------------------------- 5. one agenda item id given to two items


def test_two_items_sharing_an_id_are_both_indexed_and_a_rerun_changes_nothing(quick, site):
    from moderngov_site import FakeItem

    items = site.meetings["1003"].items
    items.append(FakeItem("5011", "Performance Feedback, continued",
                          paragraphs_html("Members asked about special guardianship orders."), number="3"))
    items.append(FakeItem("5011", "Performance Feedback, continued",
                          paragraphs_html("Members asked about special guardianship orders."), number="3"))
    first = fetch(quick, site)
    assert first.ok, first.failed
    assert len(indexed(quick)) == len(OWN_PUBLIC_ITEMS) + 1  # the exact repeat is taken once
    assert any("special guardianship" in text for text in chunk_texts(quick, "5011"))
    assert any("Rotherham" in text or "feedback" in text.lower() for text in chunk_texts(quick, "5011"))
    again = fetch(quick, site)
    assert again.ok and (again.items_new, again.items_changed) == (0, 0)


# ---------------------------------------------------------------- 6. a meeting left out of a listing at its edge


def test_a_meeting_on_the_windows_edge_left_out_of_its_listing_is_asked_for_and_kept(quick, site):
    import datetime as dt

    fetch(quick, site)
    on_edge = dt.date(2024, 6, 3)  # meeting 1003's day, now the window's first
    listing = site._body("getmeetings", {"sfromdate": "04/06/2024", "stodate": "31/12/2024"}, "102")
    site.always[("getmeetings", "102")] = Canned(200, listing, {"Content-Type": "text/xml"})  # sFromDate exclusive
    summary = fetch(quick, site, since=on_edge)
    assert "1003" in {r.params["lmeetingid"] for r in site.seen("GetMeeting")[-3:]}  # the site was asked
    assert summary.items_withdrawn == 0 and summary.meetings_gone == 0
    assert ids_of(site, "5010", "5011") <= set(indexed(quick))
    assert any("1003" in note and "first or last day" in note for note in summary.notes), summary.notes


def test_a_meeting_left_out_whose_reply_fails_is_kept(quick, site):
    fetch(quick, site)
    listing = site._body("getmeetings", {"sfromdate": "04/06/2024", "stodate": "31/12/2024"}, "102")
    site.always[("getmeetings", "102")] = Canned(200, listing, {"Content-Type": "text/xml"})
    site.always[("getmeeting", "1003")] = Canned(500, b"<html><body>Server Error</body></html>")
    summary = fetch(quick, site)
    assert summary.items_withdrawn == 0 and ids_of(site, "5010", "5011") <= set(indexed(quick))


def test_meetings_no_longer_listed_are_not_each_asked_about_while_the_site_is_down(quick, site):
    """Each unlisted meeting is asked for before it is withdrawn; a site down for all of them had been asked about
    every one, with every retry."""
    from assistant.ingest.moderngov.fetch import SITE_FAILURES_BEFORE_STOPPING

    more_meetings(site, 5)
    fetch(quick, site)
    for n in range(5):
        del site.meetings[str(1100 + n)]  # the panel's listing, read in full, names them no more
    asked = getmeeting_requests(site)
    site.queue("GetMeeting", "*", *[Canned(503, b"<html><body>Service Unavailable</body></html>",
                                           {"Content-Type": "text/html"})] * 100)
    summary = fetch(quick.with_(fetch_retries=1, refetch_weeks=1), site, today=UNTIL)
    assert summary.items_withdrawn == 0
    assert any("no longer listed by their committee were not asked about" in n for n in summary.notes), (
        summary.notes, summary.failed)
    unlisted_asks = [r for r in site.seen("GetMeeting")[asked:] if r.params["lmeetingid"].startswith("11")]
    assert len(unlisted_asks) == SITE_FAILURES_BEFORE_STOPPING * 2  # a try and a retry each, then no more


# ---------------------------------------------------------------- 7. dates in other forms


@pytest.mark.parametrize("text", ["03 Jun 2024", "03-06-2024", "03.06.2024", "Monday, 3 June 2024", "3rd June 2024"])
def test_meeting_dates_in_other_day_first_forms_are_read(quick, site, text):
    listing = site._body("getmeetings", {"sfromdate": "01/01/2024", "stodate": "31/12/2024"}, "102")
    listing = listing.replace(b"<meetingdate>03/06/2024</meetingdate>", f"<meetingdate>{text}</meetingdate>".encode())
    site.always[("getmeetings", "102")] = Canned(200, listing, {"Content-Type": "text/xml"})
    summary = fetch(quick, site)
    assert summary.ok, summary.failed
    assert ids_of(site, "5010", "5011") <= set(indexed(quick))


def test_meetings_left_out_for_an_unreadable_date_fail_the_run(quick, site):
    listing = site._body("getmeetings", {"sfromdate": "01/01/2024", "stodate": "31/12/2024"}, "102")
    listing = listing.replace(b"<meetingdate>03/06/2024</meetingdate>", b"<meetingdate>next Thursday</meetingdate>")
    site.always[("getmeetings", "102")] = Canned(200, listing, {"Content-Type": "text/xml"})
    summary = fetch(quick, site)
    assert not summary.ok
    assert any("1003" in f.reason and "cannot be read" in f.reason for f in summary.failed), summary.failed


# ---------------------------------------------------------------- 11. user input


def test_a_base_url_with_credentials_is_refused_before_anything_is_stored(quick, site):
    from assistant.errors import ConfigError

    with_login = site.base_url.replace("http://", "http://clerk:hunter2@")
    with pytest.raises(ConfigError) as caught:
        fetch_minutes(FetchRequest(with_login, council="Testshire County Council"), quick, progress=False)
    assert "hunter2" not in str(caught.value) and "user name or password" in caught.value.message
    assert not site.requests


@pytest.mark.parametrize("rate", [float("inf"), 1e308])
def test_a_rate_without_bound_is_refused_not_taken_as_no_limit(quick, site, rate):
    from assistant.errors import ConfigError

    with pytest.raises(ConfigError, match="--rate"):
        fetch(quick.with_(fetch_rate=rate), site)
    assert not site.requests


@pytest.mark.parametrize("value", ["nan", "-1", "soon"])
def test_an_unreadable_retry_after_is_taken_as_absent(quick, site, value):
    from assistant.ingest.moderngov.client import ServiceClient

    site.queue("GetCommittees", "", Canned(503, b"", {"Retry-After": value}))
    waits = []
    with ServiceClient(site.base_url, quick.with_(fetch_backoff=1.5), sleep=waits.append) as client:
        client.call("GetCommittees")
    assert waits == [1.5]


# ---------------------------------------------------------------- 9. messages that say what happened


@pytest.mark.parametrize("status", [404, 410, 400])
def test_one_meeting_answering_a_client_error_is_not_blamed_on_the_base_url(quick, site, status):
    site.always[("getmeeting", "1003")] = Canned(status, b"", {"Content-Type": "text/html"})
    summary = fetch(quick, site)
    [failure] = summary.failed
    assert "lMeetingId=1003" in failure.reason  # the whole request, query included
    assert "Check the base URL" not in failure.hint and "this meeting" in failure.hint


def test_a_reply_cut_off_mid_way_says_the_site_answered(quick, site):
    body = site._body("getmeeting", {}, "1003")
    site.always[("getmeeting", "1003")] = Canned(200, body[: len(body) // 2],
                                                 {"Content-Type": "text/xml", "Content-Length": str(len(body))})
    summary = fetch(quick.with_(fetch_retries=0), site)
    [failure] = summary.failed
    assert "cut off" in failure.reason and "lMeetingId=1003" in failure.reason
    assert "network connection" not in failure.hint


# ---------------------------------------------------------------- a site without committees to fetch


def test_a_site_listing_no_committees_or_none_current_fails_the_run_and_says_what_to_do(quick, site):
    """Both had exited 0 with nothing fetched and no word of why."""
    every = list(site.committees)
    site.committees.clear()
    summary = fetch(quick, site)
    assert not summary.ok and summary.committees == 0
    assert [(f.what, f.reason) for f in summary.failed] == [
        ("GetCommittees", "the web service answers but lists no committees")]
    assert "base URL" in summary.failed[0].hint
    site.committees.extend(replace(c, expired=True) for c in every)
    summary = fetch(quick, site)
    assert not summary.ok and "is current" in summary.failed[0].reason and "--committee" in summary.failed[0].hint


def test_listing_a_site_without_committees_says_so(quick, site, capsys):
    from assistant.present.cli import main

    site.committees.clear()
    assert main(["fetch", site.base_url, "--council", "Own Council", "--list-committees",
                 "--index", str(quick.data_dir)]) == 0
    assert "lists no committees" in capsys.readouterr().err


@pytest.mark.parametrize("how", ["deleted", "expired", "no longer listed"])
def test_a_committee_fetched_before_and_now_gone_keeps_its_items_and_says_so(quick, site, how):
    """Its items are the minutes of meetings that were held, so they stay; but the site will not correct them any
    more, and the run had said nothing of it."""
    first = fetch(quick, site)
    assert first.ok, first.failed
    panel = next(c for c in site.committees if c.id == "102")
    before = {sid for sid in indexed(quick) if "ID=501" in sid}  # the panel's items, 5010 and 5011
    assert before
    if how == "no longer listed":
        site.committees.remove(panel)
    else:
        setattr(panel, how, True)
    summary = fetch(quick, site)
    [note] = [n for n in summary.notes if n.startswith("Corporate Parenting Panel (102), fetched before")]
    assert f"is {how} on the site" in note and f"its {len(before)} items stay in the index" in note
    assert ("--committee 102" in note) == (how != "no longer listed")
    assert before <= set(indexed(quick))
    chosen = fetch(quick, site, committees=("101",))  # the panel left out on purpose: nothing to say
    assert not [n for n in chosen.notes if "fetched before" in n and "(102)" in n]


def test_every_meeting_published_only_as_documents_is_in_the_json_with_absolute_links(quick):
    """The note names the first few; --json had been cut short the same way, and a relative link was printed as it
    came, so an officer could not get the list to download."""
    import datetime as dt
    import json

    from moderngov_site import FakeCommittee, FakeItem, FakeMeeting, ModernGovSite

    meetings = [FakeMeeting(f"7{n}", "7", dt.date(2024, 5, 1 + n), items=[
        FakeItem(f"70{n}", "Minutes", "", documents=[f"Minutes {n}"])]) for n in range(6)]
    served = ModernGovSite([FakeCommittee("7", "Cabinet")], meetings)
    served.relative_documents = True
    served.start()
    try:
        summary = fetch(quick, served)
    finally:
        served.stop()
    listed = json.loads(json.dumps(summary.as_dict()))["without_minutes_text"]
    assert [m["page"] for m in listed] == [f"{served.base_url}/ieListDocuments.aspx?MId=7{n}" for n in range(6)]
    assert [m["documents"] for m in listed] == [[served.document_url(meeting.items[0])] for meeting in meetings]
    [note] = [n for n in summary.notes if "assistant ingest" in n]
    assert served.document_url(meetings[0].items[0]) in note and "every one with --json" in note


def test_a_fetch_through_a_proxy_on_this_network_is_not_refused(quick, monkeypatch):
    """Behind a proxy (HTTP_PROXY, a local one such as cntlm on 127.0.0.1), the connection is to the proxy, and its
    address was taken for the site's: every fetch was refused at its first request, blaming the council's site."""
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
    from urllib.parse import urlsplit

    import httpx

    from assistant.ingest.moderngov import client as client_module
    from moderngov_site import own_site

    public_host = "democracy.example-council.gov.uk"
    served = own_site()
    served.start()
    origin = f"{urlsplit(served.base_url).scheme}://{urlsplit(served.base_url).netloc}"
    asked: list[str] = []

    class ForwardProxy(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 (the name http.server calls)
            asked.append(self.path)
            parts = urlsplit(self.path)
            with httpx.Client(trust_env=False) as direct:  # not through itself
                upstream = direct.get(f"{origin}{parts.path}" + (f"?{parts.query}" if parts.query else ""),
                                      headers={k: v for k, v in self.headers.items() if k.lower().startswith("if-")})
            self.send_response(upstream.status_code)
            for name in ("Content-Type", "ETag", "Last-Modified"):
                if name in upstream.headers:
                    self.send_header(name, upstream.headers[name])
            self.send_header("Content-Length", str(len(upstream.content)))
            self.end_headers()
            self.wfile.write(upstream.content)

        def log_message(self, *args):
            pass

    proxy = ThreadingHTTPServer(("127.0.0.1", 0), ForwardProxy)
    proxy.daemon_threads = True
    threading.Thread(target=proxy.serve_forever, daemon=True).start()
    try:
        # What DNS would say of the council's public site: nothing is looked up for real.
        monkeypatch.setattr(client_module, "_addresses_of",
                            lambda host: ["93.184.216.34"] if host == public_host else ["127.0.0.1"])
        monkeypatch.setenv("HTTP_PROXY", f"http://127.0.0.1:{proxy.server_address[1]}")
        for name in ("NO_PROXY", "no_proxy", "http_proxy"):
            monkeypatch.delenv(name, raising=False)
        request = FetchRequest(f"http://{public_host}{urlsplit(served.base_url).path}", council="Testshire County "
                               "Council", since=dt.date(2024, 1, 1), until=UNTIL)
        summary = fetch_minutes(request, quick, progress=False)
        assert summary.ok, summary.failed[0].describe()
        assert summary.items_new and any("GetMeeting?" in path for path in asked)
    finally:
        proxy.shutdown()
        proxy.server_close()
        served.stop()


def test_waiting_for_the_rate_s_turn_does_not_count_against_the_reply_s_time(quick):
    """The whole-reply deadline started before the wait for the rate's turn: with a rate slower than one request per
    timeout (0.01 a second is allowed, against a 60 s timeout), every reply after the first 'did not arrive in time'.
    Here one request per 2.5 s against a 1 s timeout."""
    import time

    from assistant.ingest.moderngov.client import ServiceClient
    from moderngov_site import own_site

    served = own_site()
    served.start()
    try:
        with ServiceClient(served.base_url, quick.with_(fetch_rate=0.4, fetch_timeout=1.0, fetch_retries=0)) as client:
            client.call("GetCommittees")
            started = time.monotonic()
            client.call("GetMeetings", {"lCommitteeId": "101", "sFromDate": "01/01/2024", "sToDate": "31/12/2024"})
            assert time.monotonic() - started >= 2.0  # it waited its turn, then was answered
    finally:
        served.stop()


def test_a_first_fetch_says_that_committees_the_site_marks_expired_were_left_out(quick, site):
    """An expired committee (restructured during the year) that met in the window had its minutes left out of a
    first fetch, which reported success and nothing else."""
    first = fetch(quick, site)
    [note] = [n for n in first.notes if "marks as expired" in n]
    assert note.startswith("1 committee the site marks as expired was not fetched") and "--committee" in note
    again = fetch(quick, site)
    assert not [n for n in again.notes if "marks as expired" in n]  # said once, on the first fetch


@pytest.mark.parametrize("no_proxy, url, proxied", [
    ("", "https://council.example/moderngov", True),
    ("council.example:8443", "https://council.example:8443/moderngov", False),
    ("https://council.example", "https://council.example/moderngov", False),
    ("council.example", "https://council.example/moderngov", False),
])
def test_the_reply_s_address_is_left_unchecked_only_where_httpx_itself_goes_through_a_proxy(quick, monkeypatch,
                                                                                          no_proxy, url, proxied):
    """Proxy rules re-derived beside httpx's had taken a NO_PROXY entry with a port or a scheme for 'through the
    proxy' where httpx connected directly, and left the check of the reply's address undone (from a code review)."""
    from assistant.ingest.moderngov.client import ServiceClient

    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY", "http_proxy", "https_proxy", "all_proxy",
                 "no_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HTTPS_PROXY", "http://10.0.0.8:3128")
    if no_proxy:
        monkeypatch.setenv("NO_PROXY", no_proxy)
    with ServiceClient(url, quick) as client:
        assert client._through_a_proxy(url + "/mgWebService.asmx/GetCommittees") is proxied


# ---------------------------------------------------------------- an item over the length cap


@pytest.mark.parametrize("validators", ["etags", "last_modified"])
def test_an_item_left_out_for_its_length_goes_in_once_the_cap_is_raised(quick, site, validators):
    """Its meeting had been recorded with the site's validators: once the officer raised the cap, as the note said
    to, the site answered 304 on every later run and the item stayed out, unsaid."""
    setattr(site, validators, True)
    site.meetings["1003"].items[1].minutes = paragraphs_html("Performance was discussed at length. " * 300)
    first = fetch(quick.with_(max_item_chars=5000), site)
    [problem] = first.skipped
    assert "over the cap" in problem.reason and "one file per agenda item" not in problem.hint, problem
    assert "ASSISTANT_MAX_ITEM_CHARS" in problem.hint and "fetch again" in problem.hint, problem
    assert set(indexed(quick)) == ids_of(site, *OWN_PUBLIC_ITEMS - {"5011"})
    raised = quick.with_(max_item_chars=50_000)
    assert fetch(raised, site).items_new == 1
    assert set(indexed(quick)) == ids_of(site, *OWN_PUBLIC_ITEMS)
    assert fetch(raised, site).items_new == 0


# ---------------------------------------------------------------- a meeting listed twice


def listing_twice(site, committee_id: str, meeting_id: str) -> None:
    """The committee's listing names the meeting twice, and counts both rows, as a server may write it."""
    import re

    listing = site._meetings

    def twice(committee: str, since: str, until: str) -> str:
        text = listing(committee, since, until)
        if committee != committee_id:
            return text
        row = re.search(rf"      <meeting>\n        <meetingid>{meeting_id}</meetingid>.*?</meeting>\n", text,
                        re.S).group(0)
        text = text.replace(row, row + row)
        return re.sub(r"(<committeemeetingcount>|<meetingscount>) (\d+)",
                      lambda count: f"{count.group(1)} {int(count.group(2)) + 1}", text)

    site._meetings = twice


def test_a_listing_that_names_a_meeting_twice_still_withdraws_a_meeting_deleted_from_the_site(quick, site):
    """Its rows were as many as its count, but its meetings one fewer: taken for a listing cut short, it withdrew
    nothing, and a meeting deleted from the site stayed in the index, unsaid."""
    fetch(quick, site)
    listing_twice(site, "102", "1004")
    del site.meetings["1003"]
    summary = fetch(quick, site)
    assert summary.ok and summary.meetings_gone == 1 and summary.items_withdrawn == 2
    assert set(indexed(quick)) == ids_of(site, "5001", "5002")
