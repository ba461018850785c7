"""`assistant fetch` against the loopback ModernGov site, continued: tables in minutes, meetings deleted from the
site, the refetch window, replies about another meeting, a damaged state file, meetings held in private, committee
selection, help texts, SOAP faults and ASP.NET error pages, the counts of the text summary, replies in UTF-16."""

from __future__ import annotations

import codecs
import datetime as dt
import json
import sqlite3

import pytest

from assistant.ingest.moderngov import FetchStateError, select_committees
from assistant.ingest.moderngov.parse import Committee
from assistant.settings import Settings
from cli_helpers import cli_env, run_cli
from servers import free_port
from moderngov_site import OWN_PUBLIC_ITEMS, WINDOW, Canned, own_site, paragraphs_html
from test_moderngov import COUNCIL, fetch, ids_of, indexed, quick_env


@pytest.fixture
def site():
    served = own_site()
    served.start()
    yield served
    served.stop()


def chunk_texts(settings, agenda_item_id: str) -> list[str]:
    from assistant.ingest.run import Index

    index = Index(settings)
    try:
        return [c.text for c in index.store.get()
                if c.metadata["source_id"].split("#")[0].endswith(f"ID={agenda_item_id}")]  # '#hash': a shared id
    finally:
        index.close()


def recorded_meetings(settings, site) -> set[str]:
    from assistant.ingest.moderngov.state import state_path

    db = sqlite3.connect(state_path(settings, site.base_url))
    try:
        return {row[0] for row in db.execute("SELECT meeting_id FROM meetings")}
    finally:
        db.close()


# ---------------------------------------------------------------- 1. a table in the minutes


WORD_TABLE = """<div class="WordSection1"><p class="MsoNormal">The Committee noted the following figures:</p>
<table class="MsoTableGrid" border="1" cellspacing="0" cellpadding="0">
 <tr><td><p class="MsoNormal"><b><span>Measure</span></b></p></td><td><p class="MsoNormal"><b>March 2023</b></p></td>
     <td><p class="MsoNormal"><b>March 2024</b></p></td></tr>
 <tr><td><p class="MsoNormal"><span>Children looked after</span></p></td><td><p class="MsoNormal">410</p></td>
     <td><p class="MsoNormal">432</p></td></tr>
</table>
<p class="MsoNormal">RESOLVED: That the report be noted.</p></div>"""


def test_a_table_in_the_minutes_keeps_each_row_on_one_line(quick, site):
    site.meetings["1003"].items[1].minutes = WORD_TABLE
    fetch(quick, site)
    text = "\n".join(chunk_texts(quick, "5011"))
    assert "Measure | March 2023 | March 2024\nChildren looked after | 410 | 432" in text


# ---------------------------------------------------------------- 2. a meeting deleted from the site


def test_a_meeting_deleted_from_the_site_takes_its_items_out_and_leaves_the_state(quick, site):
    fetch(quick, site)
    del site.meetings["1003"]
    summary = fetch(quick, site)
    assert summary.ok and set(indexed(quick)) == ids_of(site, "5001", "5002")
    assert summary.items_withdrawn == 2 and summary.meetings_gone == 1
    assert any("no longer listed" in note and "1003" in note for note in summary.notes), summary.notes
    assert any("withdrew 2 items" in note and "ID=5010" in note for note in summary.notes), summary.notes
    assert "1003" not in recorded_meetings(quick, site)
    again = fetch(quick, site)
    assert (again.items_withdrawn, again.meetings_gone) == (0, 0)


def test_a_meeting_moved_to_a_committee_not_fetched_is_withdrawn(quick, site):
    fetch(quick, site)
    site.meetings["1003"].committee_id = "103"  # the expired Audit Committee, not fetched by default
    summary = fetch(quick, site)
    assert set(indexed(quick)) == ids_of(site, "5001", "5002") and summary.meetings_gone == 1
    # Said as what happened, not as "deleted from the site, or moved": the site was asked, and still has it.
    assert any("meeting 1003 (Corporate Parenting Panel, 2024-06-03) is still on the site, on 2024-06-03" in note
               and "committee not fetched" in note for note in summary.notes), summary.notes


def test_a_meeting_moved_to_a_day_outside_the_window_is_withdrawn_saying_where_it_went(quick, site):
    fetch(quick, site)
    site.meetings["1003"].date = dt.date(2023, 6, 3)  # a year's slip put right, before the window
    summary = fetch(quick, site)
    assert set(indexed(quick)) == ids_of(site, "5001", "5002") and summary.meetings_gone == 1
    assert any("meeting 1003 (Corporate Parenting Panel, 2024-06-03) is still on the site, but dated 2023-06-03 now"
               in note and "fetch with --since 2023-06-03" in note for note in summary.notes), summary.notes
    back = fetch(quick, site, since=dt.date(2023, 6, 3))
    assert back.ok and ids_of(site, "5010", "5011") <= set(indexed(quick))
    assert {row.meeting_date for sid, row in indexed(quick).items() if sid.endswith(("5010", "5011"))} == {
        "2023-06-03"}


def test_a_state_from_before_committee_ids_were_recorded_finds_the_committee_by_its_title(quick, site):
    from assistant.ingest.moderngov.state import state_path

    fetch(quick, site)
    older = sqlite3.connect(state_path(quick, site.base_url))
    older.execute("UPDATE meetings SET committee_id = NULL")  # as a state written before this change has it
    older.commit()
    older.close()
    del site.meetings["1003"]
    assert fetch(quick, site).items_withdrawn == 2 and set(indexed(quick)) == ids_of(site, "5001", "5002")


@pytest.mark.parametrize("listing", ["failed", "short of its count", "about another committee", "not fetched",
                                     "outside the window"])
def test_a_listing_not_read_in_full_withdraws_nothing(quick, site, listing):
    fetch(quick, site)
    listed = site._body("getmeetings", {"sfromdate": "01/01/2024", "stodate": "31/12/2024"}, "102")
    del site.meetings["1003"]
    request = {}
    if listing == "failed":
        site.always[("getmeetings", "102")] = Canned(500, b"<html><body>Server Error</body></html>",
                                                     {"Content-Type": "text/html"})
    elif listing == "short of its count":  # says it holds one meeting more than it lists
        short = site._body("getmeetings", {"sfromdate": "01/01/2024", "stodate": "31/12/2024"}, "102")
        assert b"<committeemeetingcount> 1<" in short
        short = short.replace(b"<committeemeetingcount> 1<", b"<committeemeetingcount> 2<")
        site.always[("getmeetings", "102")] = Canned(200, short, {"Content-Type": "text/xml"})
    elif listing == "about another committee":  # a cache answering the list of committee 101
        other = site._body("getmeetings", {"sfromdate": "01/01/2024", "stodate": "31/12/2024"}, "101")
        site.always[("getmeetings", "102")] = Canned(200, other, {"Content-Type": "text/xml"})
    elif listing == "not fetched":
        request["committees"] = ("101",)
    else:  # a window that leaves out 3 June, when meeting 1003 was held
        request["until"] = dt.date(2024, 5, 31)
    assert b"<meetingid>1003</meetingid>" in listed  # it was listed before
    summary = fetch(quick, site, **request)
    assert summary.items_withdrawn == 0
    assert ids_of(site, "5010", "5011") <= set(indexed(quick)) and "1003" in recorded_meetings(quick, site)


# ---------------------------------------------------------------- 3. the refetch window


def test_minutes_corrected_at_the_next_quarterly_meeting_are_picked_up_by_default(quick, site):
    settings = quick.with_(refetch_weeks=Settings.from_env({}).refetch_weeks)
    fetch(settings, site, since=None, until=None, today=dt.date(2024, 6, 17))
    site.meetings["1003"].items[1].minutes = paragraphs_html("AMENDED: the number of children in care was 432.")
    again = fetch(settings, site, since=None, until=None, today=dt.date(2024, 9, 10))  # 14 weeks after 3 June
    assert again.items_changed == 1 and any("AMENDED" in text for text in chunk_texts(settings, "5011"))
    # 1001 (5 March) is older than 26 weeks, so asked for only in its turn; the only old meeting, it is the tenth
    # (rounded up) that each run checks again.
    assert (again.meetings_not_due, again.meetings_rechecked, again.items_unchanged) == (0, 1, 3)


# ---------------------------------------------------------------- 4. a reply about another meeting


@pytest.mark.parametrize("reply", ["another meeting's", "an empty meeting 0"])
def test_a_reply_about_another_meeting_fails_that_meeting_and_changes_nothing(quick, site, reply):
    fetch(quick, site)
    body = site._body("getmeeting", {}, "1001") if reply == "another meeting's" else (
        b'<?xml version="1.0" encoding="utf-8"?><meeting><meetingid>0</meetingid><meetingdate></meetingdate>'
        b"<meetingstatus></meetingstatus><agendaitems></agendaitems><attendees></attendees></meeting>")
    site.always[("getmeeting", "1003")] = Canned(200, body, {"Content-Type": "text/xml"})
    site.meetings["1001"].items[0].minutes = paragraphs_html("Apologies were received from Councillor Hartley.")
    summary = fetch(quick, site)
    [failure] = summary.failed
    assert "GetMeeting 1003" in failure.what and "1003" in failure.reason
    assert ("meeting 1001's" if reply == "another meeting's" else "id 0") in failure.reason and failure.hint
    assert summary.items_withdrawn == 0 and summary.items_changed == 1  # the other meetings went on
    rows = indexed(quick)
    assert set(rows) == ids_of(site, *OWN_PUBLIC_ITEMS)
    assert {rows[i].committee for i in ids_of(site, "5001", "5002")} == {"Children's Services Scrutiny Committee"}


# ---------------------------------------------------------------- 5. a damaged state file


def damage_garbage(path):
    path.write_bytes(b"this is not a database" * 100)


def damage_item_ids(path):
    db = sqlite3.connect(path)
    db.execute("""UPDATE meetings SET item_ids = '["http://x/mgAi.aspx?ID=1"' WHERE meeting_id = '1001'""")
    db.commit()
    db.close()


def damage_table(path):
    db = sqlite3.connect(path)
    db.executescript("DROP TABLE meetings; CREATE TABLE meetings (meeting_id TEXT PRIMARY KEY, meeting_date TEXT)")
    db.close()


def damage_count(path):
    db = sqlite3.connect(path)
    db.execute("UPDATE meetings SET restricted = 'many' WHERE meeting_id = '1001'")
    db.commit()
    db.close()


@pytest.mark.parametrize("damage", [damage_garbage, damage_item_ids, damage_table, damage_count])
def test_a_damaged_state_file_is_named_before_any_request_with_the_fix(quick, site, damage):
    from assistant.ingest.moderngov.state import state_path

    fetch(quick, site)
    path = state_path(quick, site.base_url)
    damage(path)
    asked = len(site.requests)
    with pytest.raises(FetchStateError) as info:
        fetch(quick, site)
    assert len(site.requests) == asked  # stopped before asking the site anything
    assert str(path) in info.value.message and "damaged" in info.value.message
    assert f"Delete {path}" in info.value.hint and "assistant ingest" not in info.value.hint  # not the index
    path.unlink()
    again = fetch(quick, site)  # deleting it is the whole fix
    assert again.ok and again.ingest.tokens_embedded == 0 and set(indexed(quick)) == ids_of(site, *OWN_PUBLIC_ITEMS)


def test_the_command_names_a_damaged_state_file_without_a_traceback(tmp_path, site):
    env = cli_env(tmp_path / "i", ASSISTANT_FETCH_RATE="0", ASSISTANT_REFETCH_WEEKS="5000")
    args = ("fetch", site.base_url, "--council", COUNCIL, "--since", WINDOW[0], "--until", WINDOW[1], "--no-progress")
    assert run_cli(*args, env=env).returncode == 0
    [path] = (tmp_path / "i" / "moderngov").glob("*.sqlite")
    damage_item_ids(path)
    result = run_cli(*args, env=env)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert str(path) in result.stderr and "Delete" in result.stderr and "another ingest" not in result.stderr.lower()


# ---------------------------------------------------------------- 6. a meeting held in private


def test_a_meeting_held_wholly_in_private_is_done_with_no_note_about_pdfs(quick, site):
    for item in site.meetings["1003"].items:
        item.restricted = True
    settings = quick.with_(refetch_weeks=12)  # old enough not to be asked for again once done
    first = fetch(settings, site)
    assert first.ok and not any("PDF" in note for note in first.notes), first.notes
    asked = len(site.seen("GetMeeting"))
    fetch(settings, site)
    # 1004: minutes not out yet; 1001: the old meeting whose turn it is to be checked again (1003's is next).
    assert {r.params["lmeetingid"] for r in site.seen("GetMeeting")[asked:]} == {"1001", "1004"}
    assert first.meetings_private == 1 and first.meetings_without_minutes_text == 0


# ---------------------------------------------------------------- 8. choosing committees


SITE_COMMITTEES = [Committee("1", "Childrens Services Scrutiny Committee", False, False),
                   Committee("2", "Children\u2019s Safeguarding Board", False, False),
                   Committee("3", "Health & Wellbeing Board", False, False),
                   Committee("4", "Corporate Parenting Panel", False, False),
                   Committee("5", "Old Children's Panel", True, False)]


@pytest.mark.parametrize("selector, chosen", [
    ("children's", ["1", "2"]), ("Children\u2019s", ["1", "2"]), ("childrens", ["1", "2"]),
    ("children's services", ["1"]), ("health and wellbeing", ["3"]), ("HEALTH & WELLBEING", ["3"]),
    ("corporate parent", ["4"]), ("5", ["5"]),
])
def test_committees_are_matched_as_the_apps_filter_matches_them(selector, chosen):
    assert [c.id for c in select_committees(SITE_COMMITTEES, [selector], "x")] == chosen


def test_a_selector_matching_several_committees_is_followed_by_a_note_naming_them(quick, site):
    summary = fetch(quick, site, committees=("panel", "children's"))
    notes = [n for n in summary.notes if n.startswith("--committee")]
    assert notes == []  # each matched one committee only (the deleted Children in Care Council is never matched)
    summary = fetch(quick, site, committees=("c",))
    [note] = [n for n in summary.notes if n.startswith("--committee")]
    assert "'c' matched 3 committees" in note and "Corporate Parenting Panel (102)" in note
    assert "Audit Committee (103, expired)" in note


# ---------------------------------------------------------------- 9. help texts


def test_fetch_help_says_what_the_flags_do(tmp_path):
    result = run_cli("fetch", "--help", env=cli_env(tmp_path / "i"))
    text = " ".join(result.stdout.split())
    assert result.returncode == 0
    assert "(id, title)" not in text and "current, expired or deleted" in text
    assert "a year ago" not in text and "12 months up to --until" in text
    assert "ASSISTANT_REFETCH_WEEKS" in text and "26" in text


# ---------------------------------------------------------------- 10. faults sent with status 200


SOAP_FAULT = (b'<?xml version="1.0" encoding="utf-8"?><soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/'
              b'envelope/"><soap:Body><soap:Fault><faultcode>soap:Server</faultcode><faultstring>Server was unable '
              b"to process request. ---&gt; Object reference not set to an instance of an object.</faultstring>"
              b"</soap:Fault></soap:Body></soap:Envelope>")
ASPNET_ERROR = (b"<!DOCTYPE html><html><head><title>Runtime Error</title></head><body><h1>Server Error in '/' "
                b"Application.</h1><h2><i>Runtime Error</i></h2></body></html>")


@pytest.mark.parametrize("canned, words", [
    (Canned(200, SOAP_FAULT, {"Content-Type": "text/xml"}), "SOAP fault: Server was unable to process request"),
    (Canned(200, ASPNET_ERROR, {"Content-Type": "text/html; charset=utf-8"}), "ASP.NET error page"),
])
def test_a_fault_sent_with_status_200_fails_that_meeting_as_a_server_error(quick, site, canned, words):
    site.always[("getmeeting", "1001")] = canned
    summary = fetch(quick, site)
    [failure] = summary.failed
    assert "GetMeeting 1001" in failure.what and words in failure.reason
    assert "switched off" not in failure.reason and "base URL" not in failure.reason
    assert "again later" in failure.hint
    assert set(indexed(quick)) == ids_of(site, "5010", "5011")  # the other meetings went on


def test_the_summary_counts_are_in_the_json(quick, site):
    summary = fetch(quick, site).as_dict()
    assert {"private", "no_longer_listed"} <= set(summary["meetings"]) and "not_checked" in summary["items"]
    json.dumps(summary)


# ---------------------------------------------------------------- 11. counts in the plain-text summary


def test_the_text_summary_shows_every_count_that_is_not_zero(tmp_path, site):
    for item in site.meetings["1003"].items:
        item.restricted = True  # held in private
    site.meetings["1004"].minutes_published = True  # minutes out, but none of its items has text
    env = quick_env(tmp_path / "i", ASSISTANT_REFETCH_WEEKS="1")  # every meeting of 2024 is old by now
    args = ("fetch", site.base_url, "--council", COUNCIL, "--since", WINDOW[0], "--until", WINDOW[1], "--no-progress")
    first = run_cli(*args, env=env)
    assert first.returncode == 0, first.stderr
    assert "held in private 1" in first.stdout and "minutes published but not as text 1" in first.stdout
    assert "not checked" not in first.stdout and "no longer listed" not in first.stdout  # no zeros shown
    del site.meetings["1003"]
    again = run_cli(*args, env=env)
    assert again.returncode == 0, again.stderr
    assert "old ones checked again 1" in again.stdout and "no longer listed 1" in again.stdout
    assert "held in private" not in again.stdout


# ---------------------------------------------------------------- 12. replies in UTF-16


def in_utf16_string(body: bytes, encoding: str, lead: str = "", bom: bytes = b"") -> bytes:
    """A reply as some ASP.NET services send it: the document, declared UTF-16 as .NET writes it, escaped as the
    text of a <string>, and the whole in UTF-16."""
    inner = body.decode("utf-8").replace('encoding="utf-8"', 'encoding="utf-16"')
    escaped = inner.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    outer = f'{lead}<?xml version="1.0" encoding="utf-16"?>\r\n<string xmlns="http://tempuri.org/">{escaped}</string>'
    return bom + outer.encode(encoding)


@pytest.mark.parametrize("encoding, lead, bom", [
    ("utf-16", "", b""),  # Python's utf-16 writes a byte order mark
    ("utf-16-le", "", b""),  # the declaration alone says so
    ("utf-16-be", "\r\n", codecs.BOM_UTF16_BE),  # a line break before the declaration
])
def test_a_string_wrapped_reply_in_utf16_is_read(quick, site, encoding, lead, bom):
    for operation, key in (("getcommittees", ""), ("getmeeting", "1001")):
        body = in_utf16_string(site._body(operation, {}, key), encoding, lead, bom)
        site.always[(operation, key)] = Canned(200, body, {"Content-Type": "text/xml; charset=utf-16"})
    summary = fetch(quick, site)
    assert summary.ok, summary.failed
    rows = indexed(quick)
    assert set(rows) == ids_of(site, *OWN_PUBLIC_ITEMS)
    assert rows[f"{site.base_url}/mgAi.aspx?ID=5002"].committee == "Children's Services Scrutiny Committee"


def test_a_reply_that_is_not_valid_utf16_fails_that_meeting_naming_the_site(quick, site):
    broken = codecs.BOM_UTF16_LE + "<meeting><meetingid>1001".encode("utf-16-le") + b"\x00\xd8A\x00"  # a lone surrogate
    site.always[("getmeeting", "1001")] = Canned(200, broken, {"Content-Type": "text/xml; charset=utf-16"})
    summary = fetch(quick, site)
    [failure] = summary.failed
    assert "GetMeeting 1001" in failure.what and site.base_url in failure.reason and "UTF-16" in failure.reason
    assert "again later" not in failure.hint and "web team" in failure.hint  # sent the same way every run
    assert set(indexed(quick)) == ids_of(site, "5010", "5011")  # the other meetings went on


def test_a_redirect_and_the_request_it_leads_to_keep_to_the_rate(quick):
    """A site that redirects (http to https, an old path to a new one) is sent each request at the set rate: the
    request a redirect leads to waits its turn like any other."""
    from assistant.ingest.moderngov.client import ServiceClient
    from moderngov_site import Canned

    served = own_site()
    served.start()
    try:
        served.queue("GetCommittees", "*", Canned(302, b"", {"Location": f"{served.base_url}/mgWebService.asmx/"
                                                                          "GetCommittees"}))
        with ServiceClient(served.base_url, quick.with_(fetch_rate=4.0)) as client:
            assert client.call("GetCommittees").root is not None
        first, second = served.seen("GetCommittees")
        assert second.at - first.at >= 0.2  # 4 a second, less a margin for the server thread's clock
    finally:
        served.stop()


def test_a_redirect_further_into_this_network_or_out_of_https_is_refused(quick):
    """A site could redirect the fetch to this network's own services (cloud metadata at 169.254.169.254, the
    intranet), and what came back was read as the council's minutes (from a security review). The request is
    refused before it is sent; the site's own host, and public hosts, stay allowed."""
    from assistant.errors import AssistantError
    from assistant.ingest.moderngov.client import ServiceClient, redirect_problem
    from moderngov_site import Canned

    served = own_site()
    served.start()
    try:
        served.queue("GetCommittees", "*", Canned(302, b"", {"Location": "http://169.254.169.254/latest/meta-data/"}))
        with ServiceClient(served.base_url, quick) as client, pytest.raises(AssistantError) as refused:
            client.call("GetCommittees")
        assert ("redirected the fetch to http://169.254.169.254/latest/meta-data/, a link-local address of this "
                "network (169.254.169.254): refused") in refused.value.message
        assert "new address as the base URL" in refused.value.hint
        assert len(served.seen("GetCommittees")) == 1
    finally:
        served.stop()

    addresses = {"democracy.example.gov.uk": ["81.2.69.142"], "example.moderngov.co.uk": ["51.140.0.9"],
                 "intranet.example": ["10.1.2.3"], "localhost": ["127.0.0.1", "::1"]}
    from_public = "https://democracy.example.gov.uk"
    assert redirect_problem(from_public, "https://democracy.example.gov.uk/x", addresses.get) == ""
    assert redirect_problem(from_public, "https://example.moderngov.co.uk/x", addresses.get) == \
        "another host (example.moderngov.co.uk)"
    assert redirect_problem(from_public, "https://www.democracy.example.gov.uk/x", addresses.get) == ""
    assert redirect_problem(from_public, "https://intranet.example/x", addresses.get).startswith("a private address")
    assert redirect_problem(from_public, "https://localhost:8080/x", addresses.get).startswith("a loopback address")
    assert redirect_problem(from_public, "http://democracy.example.gov.uk/x", addresses.get) == \
        "from https to plain http"
    assert redirect_problem("http://localhost:9000", "http://localhost:9001/x", addresses.get) == ""
    # Addresses that reach further in than they look (from a code review).
    more = {"mapped": ["::ffff:127.0.0.1"], "any": ["0.0.0.0"], "alibaba": ["100.100.100.200"],
            "intranet": ["10.1.2.3"], **addresses}
    assert redirect_problem("http://intranet", "http://mapped/x", more.get).startswith("a loopback address")
    assert redirect_problem("http://intranet", "http://any/x", more.get).startswith("a loopback address")
    assert redirect_problem(from_public, "https://alibaba/x", more.get).startswith("a private address")


def test_a_redirect_to_another_host_is_refused_and_nothing_is_stored_as_the_council_asked_for(quick):
    """An abolished council's old address often leads to its successor's site: followed, the successor's minutes were
    stored as the abolished council's, with no word of the redirect (from a code review of the fetcher)."""
    from urllib.parse import urlsplit

    from moderngov_site import Canned

    served = own_site()
    served.start()
    try:
        elsewhere = served.base_url.replace("127.0.0.1", "localhost")  # the same server, under another host name
        served.queue("GetCommittees", "*", Canned(301, b"", {"Location": f"{elsewhere}/mgWebService.asmx/"
                                                                          "GetCommittees"}))
        summary = fetch(quick, served, council="Abolished Borough Council")
    finally:
        served.stop()
    assert not summary.ok and summary.items_new == 0
    [failure] = summary.failed
    assert f"another host ({urlsplit(elsewhere).hostname}): refused" in failure.reason
    assert "fetch that council under its own name" in failure.hint
    assert len(served.seen("GetCommittees")) == 1  # the other host was never asked


def test_a_reply_from_an_address_further_inside_than_the_site_s_own_is_refused(quick, monkeypatch):
    """The redirect check looks a name up once; the request looks it up again, and may be answered otherwise (DNS
    rebinding): the address the reply came from is checked too. Here the site's own name is taken to be public,
    and the reply comes from loopback."""
    from assistant.errors import AssistantError
    from assistant.ingest.moderngov import client as client_module
    from assistant.ingest.moderngov.client import ServiceClient

    served = own_site()
    served.start()
    try:
        monkeypatch.setattr(client_module, "_addresses_of", lambda host: ["81.2.69.142"])
        with ServiceClient(served.base_url, quick) as client, pytest.raises(AssistantError) as refused:
            client.call("GetCommittees")
        assert "was answered from 127.0.0.1, an address further inside this network" in refused.value.message
        monkeypatch.undo()
        with ServiceClient(served.base_url, quick) as client:  # its own loopback address, as it is
            assert client.call("GetCommittees").root is not None
    finally:
        served.stop()


# ---------------------------------------------------------------- one council from two addresses


def test_a_second_address_for_a_council_already_fetched_is_noted(quick, site):
    """One ModernGov site under two addresses (democracy.x.gov.uk and x.moderngov.co.uk) gives each meeting twice,
    under two identities: the second fetch says so, naming the first address; the same address again does not."""
    other = own_site()
    other.start()
    try:
        first = fetch(quick, site)
        assert not [n for n in first.notes if "also holds" in n]
        second = fetch(quick, other)
        [note] = [n for n in second.notes if "also holds" in n]
        assert f"this index also holds {COUNCIL}'s minutes fetched from {site.base_url}" in note
        assert "indexed twice" in note and "fetch from one address only" in note
        [note] = [n for n in fetch(quick, site).notes if "also holds" in n]  # and back: the other one is named
        assert f"fetched from {other.base_url}: if that is the same ModernGov site as {site.base_url}" in note
        elsewhere = fetch(quick, other, council="Another Borough Council")  # another council's name: no note
        assert not [n for n in elsewhere.notes if "also holds" in n]
    finally:
        other.stop()


def test_the_two_addresses_note_goes_once_one_copy_is_left_and_needs_a_copy_from_each(quick, site, tmp_path):
    """The note is read from the index, not the fetch state (which outlives `ingest --reset`): it goes once the
    advice is followed, and an address that answered nothing adds no copy to warn of."""
    from assistant.ingest.run import ingest

    other = own_site()
    other.start()
    try:
        fetch(quick, site)
        assert [n for n in fetch(quick, other).notes if "also holds" in n]
        minutes = tmp_path / "files"
        minutes.mkdir()
        (minutes / "cabinet.md").write_text("---\ncouncil: Other Council\ncommittee: Cabinet\nmeeting_date: "
                                            "2024-03-01\n---\nThe budget was agreed.\n")
        ingest([minutes], quick, reset=True)  # the advice: rebuild, then fetch from one address
        assert not [n for n in fetch(quick, site).notes if "also holds" in n]
    finally:
        other.stop()
    down = f"http://127.0.0.1:{free_port()}/moderngov"  # a second address that does not answer
    assert not [n for n in fetch(quick, type("Down", (), {"base_url": down})()).notes if "also holds" in n]


def test_a_fetched_item_is_named_by_its_agenda_number_wherever_it_is_cited(quick, site, tmp_path):
    """A meeting page's agenda titles do not carry their numbers (an item cut from a file is titled by its heading,
    '2. Performance Feedback'); the number is what an officer quotes ('minute 2'), so every shell shows it."""
    from assistant.answer.service import Assistant
    from assistant.present.briefing import entry_from_answer, write_briefing
    from assistant.present.render import answer_as_text

    fetch(quick, site)
    assistant = Assistant(quick)
    try:
        answer = assistant.ask("How many children were discharged from care in 2018?")
    finally:
        assistant.close()
    named = answer.citations or answer.nearest
    feedback = next(item for item in named if item.item_title == "Performance Feedback")
    assert feedback.item_number == "2"
    line = "Corporate Parenting Panel \u2014 3 June 2024 \u2014 2. Performance Feedback"
    assert line in answer_as_text(answer)
    assert any(c.get("item_number") == "2" for c in answer.to_json()["citations"] + answer.to_json()["nearest"])
    write_briefing([entry_from_answer(answer)], tmp_path / "briefing.md")
    assert line in (tmp_path / "briefing.md").read_text(encoding="utf-8")


def test_a_redirect_waiting_its_turn_is_not_timed_out(quick):
    """The request a redirect leads to waits its turn at the set rate before it is sent, and its deadline runs from
    then: a rate slower than one request per timeout had the request given up, from outside, while it waited."""
    from assistant.ingest.moderngov.client import ServiceClient
    from moderngov_site import Canned

    served = own_site()
    served.start()
    try:
        served.queue("GetCommittees", "*", Canned(302, b"", {"Location": f"{served.base_url}/mgWebService.asmx/"
                                                                          "GetCommittees"}))
        with ServiceClient(served.base_url, quick.with_(fetch_rate=0.5, fetch_timeout=0.5, fetch_retries=0)) as client:
            assert client.call("GetCommittees").root is not None
        assert len(served.seen("GetCommittees")) == 2
    finally:
        served.stop()
