"""`assistant fetch`, from a re-check against odd sites, settings and flags."""

from __future__ import annotations

import pytest

from moderngov_site import OWN_PUBLIC_ITEMS
from test_moderngov import SINCE, UNTIL, fetch, ids_of, indexed
from test_moderngov_more import site  # noqa: F401 (a fixture)


def test_minutes_with_thousands_of_tags_left_open_are_read(quick, site):
    # Tags opened and never closed, as pasted HTML leaves them, nest as deep as there are tags: reading them had
    # stopped the process that reads meetings, and with it every later meeting of the run, on every run; then (the
    # walk a call for each element) failed their meeting. The HTML reader now walks them with a stack.
    site.meetings["1001"].items[0].minutes = "<span>Apologies were received. " * 1500
    summary = fetch(quick, site)
    assert summary.ok, summary.failed
    assert set(indexed(quick)) == ids_of(site, *OWN_PUBLIC_ITEMS)


def test_a_deleted_state_file_keeps_the_identities_the_index_holds_under_another_spelling(quick, site):
    from assistant.ingest.moderngov import FetchRequest, fetch_minutes
    from assistant.ingest.moderngov.state import state_path

    fetch(quick, site)
    first = set(indexed(quick))
    # The fix the message for a damaged state file gives, then the site given as the nightly job spells it.
    for path in state_path(quick, site.base_url).parent.iterdir():
        path.unlink()
    other_spelling = site.base_url.replace("/moderngov", "/ModernGov")
    summary = fetch_minutes(FetchRequest(other_spelling, council="Testshire County Council",
                                         since=SINCE, until=UNTIL), quick, progress=False)
    assert summary.ok, summary.failed
    assert set(indexed(quick)) == first == ids_of(site, *OWN_PUBLIC_ITEMS)
    assert summary.items_new == 0 and summary.ingest.tokens_embedded == 0


def test_listing_committees_refuses_a_base_url_with_credentials_too(quick, site):
    from assistant.errors import ConfigError
    from assistant.ingest.moderngov import list_committees

    with_login = site.base_url.replace("http://", "http://clerk:hunter2@")
    with pytest.raises(ConfigError) as caught:
        list_committees(with_login, quick)
    assert "hunter2" not in str(caught.value) and "user name or password" in caught.value.message
    assert not site.requests


def test_a_contact_with_a_windows_line_end_is_sent_without_it_and_one_with_a_line_break_is_refused(quick, site):
    from assistant.errors import ConfigError
    from assistant.ingest.moderngov.client import user_agent

    # A file of settings saved on Windows leaves '\r' at the end of each value: every request had failed as if the
    # site could not be reached, and the message sent the user to check the URL and the network.
    summary = fetch(quick.with_(fetch_contact="minutes@example.org\r"), site)
    assert summary.ok, summary.failed
    assert {r.headers["user-agent"] for r in site.requests} == {user_agent("minutes@example.org")}
    site.requests.clear()
    with pytest.raises(ConfigError) as caught:
        fetch(quick.with_(fetch_contact="minutes@example.org\r\nX-Injected: 1"), site)
    assert "ASSISTANT_FETCH_CONTACT" in caught.value.message and "one line" in caught.value.hint
    assert not site.requests


@pytest.mark.parametrize("title, minutes", [
    ("Residential Placement Contract (Exempt)", "The tender from Quillfeather scored 87 points and was accepted."),
    ("Placement Costs", "NOT FOR PUBLICATION\n\nBy virtue of paragraph 3 of Part 1 of Schedule 12A of the Local "
                        "Government Act 1972.\n\nThe Quillfeather bid of 1.2m was accepted."),
])
def test_an_item_its_title_or_opening_marks_exempt_is_withheld_though_the_site_left_it_unflagged(quick, site, title,
                                                                                                 minutes):
    from moderngov_site import FakeItem, paragraphs_html
    from test_moderngov_more import chunk_texts

    # A saved meeting page or a PDF with this item is withheld; fetched, it had been indexed with its exempt text.
    site.meetings["1003"].items.append(FakeItem("5012", title, paragraphs_html(minutes), number="3"))
    summary = fetch(quick, site)
    assert set(indexed(quick)) == ids_of(site, *OWN_PUBLIC_ITEMS)
    assert not chunk_texts(quick, "5012")
    assert summary.items_restricted == 2
    [skipped] = summary.skipped
    assert "mgAi.aspx?ID=5012" in skipped.origin and "not for publication" in skipped.reason
    # An item indexed before the site's title or text marked it is taken out when its meeting is read again.
    site.meetings["1003"].items[-1] = FakeItem("5012", "Placement Costs", paragraphs_html("Costs were noted."))
    fetch(quick, site)
    assert f"{site.base_url}/mgAi.aspx?ID=5012" in indexed(quick)
    site.meetings["1003"].items[-1] = FakeItem("5012", title, paragraphs_html(minutes), number="3")
    again = fetch(quick, site)
    assert set(indexed(quick)) == ids_of(site, *OWN_PUBLIC_ITEMS) and again.items_restricted_since == 1


def test_a_meeting_gone_from_a_listing_that_names_none_stays_with_a_note(quick, site):
    fetch(quick, site)
    del site.meetings["1001"], site.meetings["1002"]  # the committee's only meetings in the window
    summary = fetch(quick, site)
    # A listing that names nothing is not trusted to withdraw (a glitch would empty the committee), but is said.
    assert set(indexed(quick)) == ids_of(site, *OWN_PUBLIC_ITEMS) and summary.items_withdrawn == 0
    [note] = [n for n in summary.notes if "named no meeting" in n]
    assert "Children's Services Scrutiny Committee (101)" in note and "1001" in note and "withhold" in note


@pytest.mark.parametrize("proxy, words", [("ftp://proxy.example.org:21", "http://"),
                                          ("socks5://127.0.0.1:1080", "httpx[socks]")])
def test_a_proxy_setting_httpx_cannot_use_is_named_with_the_fix_not_a_traceback(quick, site, monkeypatch, proxy,
                                                                               words):
    import importlib.util

    from assistant.errors import ConfigError
    from assistant.ingest.moderngov import list_committees

    if proxy.startswith("socks") and importlib.util.find_spec("socksio") is not None:
        pytest.skip("httpx can use a SOCKS proxy here (socksio is installed)")
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY", "http_proxy", "https_proxy", "no_proxy", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("ALL_PROXY", proxy)
    for run in (lambda: fetch(quick, site), lambda: list_committees(site.base_url, quick)):
        with pytest.raises(ConfigError) as caught:
            run()
        assert "ALL_PROXY" in caught.value.message and proxy in caught.value.message
        assert words in caught.value.hint
    assert not site.requests


def test_committees_given_in_one_flag_with_commas_are_told_to_repeat_the_flag(quick, site):
    from assistant.errors import ConfigError

    with pytest.raises(ConfigError) as caught:
        fetch(quick, site, committees=("101, 102",))
    assert "--committee 101 --committee 102" in caught.value.hint
