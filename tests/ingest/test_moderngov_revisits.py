"""`assistant fetch` coming back to a site: items stored by older reading rules, and meetings listed under two
committees."""

from __future__ import annotations

import hashlib
import sqlite3

from assistant.ingest.moderngov.state import state_path
from moderngov_site import Canned, own_site, paragraphs_html
from test_moderngov import fetch, indexed
from test_moderngov_more import chunk_texts, site  # noqa: F401 (a fixture)


def state_as_written_before_reading_rules_were_recorded(settings, base_url: str) -> None:
    db = sqlite3.connect(state_path(settings, base_url))
    try:
        if "read_by" in {row[1] for row in db.execute("PRAGMA table_info(meetings)")}:
            db.execute("ALTER TABLE meetings DROP COLUMN read_by")
            db.commit()
    finally:
        db.close()


def test_items_garbled_by_older_reading_rules_are_read_again_once_though_the_site_answers_304(quick):
    # Before e48c649, a reply in UTF-8 labelled ISO-8859-1 was read as Latin-1: 'Director’s' went in as
    # 'Directorâ€™s'. The site's bytes, and so its ETag, never changed: asked with it, the site answers 304.
    served = own_site(etags=True)
    served.meetings["1003"].items[0].minutes = paragraphs_html("The Director\u2019s report was noted.")
    served.start()
    try:
        correct = served._body("getmeeting", {}, "1003")
        garbled = correct.replace("\u2019".encode(), "\u00e2\u20ac\u2122".encode())
        tag = '"' + hashlib.sha256(correct).hexdigest()[:16] + '"'
        served.queue("GetMeeting", "1003", Canned(200, garbled, {"Content-Type": "text/xml", "ETag": tag}))
        fetch(quick, served)
        assert "Director\u00e2\u20ac\u2122s" in " ".join(chunk_texts(quick, "5010"))
        state_as_written_before_reading_rules_were_recorded(quick, served.base_url)
        count = len(served.seen("GetMeeting"))
        upgraded = fetch(quick, served)
        asked = {r.params["lmeetingid"]: "if-none-match" in r.headers for r in served.seen("GetMeeting")[count:]}
        count = len(served.seen("GetMeeting"))
        settled = fetch(quick, served)
        asked_after = {r.params["lmeetingid"]: "if-none-match" in r.headers
                       for r in served.seen("GetMeeting")[count:]}
    finally:
        served.stop()
    assert upgraded.ok and asked["1003"] is False  # read again in full, once
    assert "Director\u2019s report" in " ".join(chunk_texts(quick, "5010"))
    assert upgraded.items_changed == 1 and upgraded.ingest.chunks_added >= 1
    # Read by the rules of this version, then trusted again: asked with its ETag, nothing embedded.
    assert asked_after["1003"] is True and settled.ingest.tokens_embedded == 0


def committees_of(settings, *agenda_item_ids: str) -> dict[str, str]:
    return {sid.rsplit("=", 1)[1]: row.committee for sid, row in indexed(settings).items()
            if sid.rsplit("=", 1)[1] in agenda_item_ids}


def test_a_meeting_listed_under_two_committees_keeps_its_committee_whichever_is_fetched(quick, site):
    site.meetings["1003"].also_listed_by = ("101",)  # a joint meeting: both committees' listings name it
    assert fetch(quick, site, committees=("102",)).ok
    first = committees_of(quick, "5010", "5011")
    assert set(first.values()) == {"Corporate Parenting Panel"}
    for committees in (("101",), ("102",), (), ("101",)):  # every committee, 101 first, by default
        again = fetch(quick, site, committees=committees)
        assert again.ok and again.items_changed == 0, committees
        assert committees_of(quick, "5010", "5011") == first, committees


def test_a_meeting_its_committee_no_longer_lists_is_stored_under_the_one_that_does(quick, site):
    site.meetings["1003"].also_listed_by = ("101",)
    fetch(quick, site, committees=("102",))
    site.meetings["1003"].committee_id, site.meetings["1003"].also_listed_by = "101", ()  # moved to 101 alone
    moved = fetch(quick, site)
    assert moved.ok and moved.items_changed == 2
    assert set(committees_of(quick, "5010", "5011").values()) == {"Children's Services Scrutiny Committee"}
