"""`assistant fetch`, from a re-check against odd sites, settings and flags."""

from __future__ import annotations

import pytest

from moderngov_site import OWN_PUBLIC_ITEMS
from test_moderngov import fetch, ids_of, indexed
from test_moderngov_more import site  # noqa: F401 (a fixture)


def test_minutes_whose_markup_cannot_be_read_fail_their_meeting_alone(quick, site):
    # Tags opened and never closed, as pasted HTML leaves them, nest as deep as there are tags: reading them had
    # stopped the process that reads meetings, and with it every later meeting of the run, on every run.
    site.meetings["1001"].items[0].minutes = "<span>Apologies were received. " * 1500
    summary = fetch(quick, site)
    [failure] = summary.failed
    assert "GetMeeting 1001" in failure.what and "could not be read" in failure.reason
    assert "other meetings were fetched" in failure.hint
    assert set(indexed(quick)) == ids_of(site, "5010", "5011")
