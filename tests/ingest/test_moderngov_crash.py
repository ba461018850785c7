"""Killing `assistant fetch` with SIGKILL at any point, then running it again, ends with the same index as an
uninterrupted run: the same chunks in Chroma, the same manifest, and a further run that embeds nothing."""

from __future__ import annotations

import datetime as dt
import json
import os
import signal
import subprocess
import sys
import time

import pytest

from assistant.index.manifest import Manifest
from cli_helpers import cli_env, index_snapshot as snapshot, run_cli
from corpus_factory import minute_text
from moderngov_site import FakeCommittee, FakeItem, FakeMeeting, ModernGovSite, paragraphs_html

pytestmark = pytest.mark.integration

MEETINGS = 20  # two items each: 40 items, three manifest batches of up to 16


@pytest.fixture(scope="module")
def site():
    meetings = [
        FakeMeeting(str(3000 + n), "301", dt.date(2024, 1, 1) + dt.timedelta(days=9 * n), items=[
            FakeItem(str(30000 + 2 * n), f"Item {2 * n}", paragraphs_html(minute_text(2 * n)), number="1"),
            FakeItem(str(30001 + 2 * n), f"Item {2 * n + 1}", paragraphs_html(minute_text(2 * n + 1)), number="2"),
        ], attendees=[("Councillor Dee Marsh", "Chair", "Present")])
        for n in range(MEETINGS)
    ]
    served = ModernGovSite([FakeCommittee("301", "Children and Young People Scrutiny Panel")], meetings, etags=True)
    served.start()
    yield served
    served.stop()


def fetch_args(site):
    return ("fetch", site.base_url, "--council", "Testshire County Council", "--since", "2024-01-01",
            "--until", "2024-12-31", "--no-progress", "--json")


def env_for(data_dir, **extra):
    return cli_env(data_dir, ASSISTANT_EMBED_BATCH="8", ASSISTANT_FETCH_RATE="0", ASSISTANT_FETCH_BACKOFF="0",
                   **extra)


@pytest.fixture(scope="module")
def reference(site, tmp_path_factory):
    folder = tmp_path_factory.mktemp("reference") / "index"
    result = run_cli(*fetch_args(site), env=env_for(folder))
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["items"]["new"] == 2 * MEETINGS
    return snapshot(folder)


def assert_same_as_reference(data_dir, site, reference):
    chroma, manifest = snapshot(data_dir)
    assert [c[0] for c in chroma] == sorted({c[0] for c in chroma})  # no duplicates
    assert (chroma, manifest) == reference
    assert {r[2] for r in manifest} == {"done"}
    quiet = run_cli(*fetch_args(site), env=env_for(data_dir))
    assert quiet.returncode == 0, quiet.stderr
    summary = json.loads(quiet.stdout)
    assert summary["tokens_embedded"] == 0 and summary["items"]["new"] == summary["items"]["changed"] == 0


@pytest.mark.parametrize("point", [
    "during_fetch:7",
    "during_embedding:2",
    "after_chroma_write:1",
    "after_manifest_commit:2",
    "before_state_commit",
])
def test_kill_at_a_named_point_then_rerun_gives_the_uninterrupted_index(tmp_path, site, reference, point):
    env = env_for(tmp_path / "index")
    killed = run_cli(*fetch_args(site), env={**env, "ASSISTANT_CRASH_AT": point})
    assert killed.returncode == -signal.SIGKILL, (killed.returncode, killed.stderr)
    again = run_cli(*fetch_args(site), env=env)
    assert again.returncode == 0, again.stderr
    assert_same_as_reference(tmp_path / "index", site, reference)


def test_kill_9_from_outside_while_a_meeting_is_being_fetched(tmp_path, site, reference):
    """The real thing: SIGKILL from another process while the fetch waits on the site."""
    env = env_for(tmp_path / "index")
    # A first, complete run over part of the year, so the kill lands on an index that already holds items.
    partial = run_cli(*fetch_args(site)[:6], "--until", "2024-03-31", "--no-progress", env=env)
    assert partial.returncode == 0, partial.stderr
    slow_meeting = str(3000 + MEETINGS - 5)
    site.delays[("getmeeting", slow_meeting)] = 30
    try:
        process = subprocess.Popen([sys.executable, "-m", "assistant", *fetch_args(site)], env=env,
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 120
        while not any(r.params.get("lmeetingid") == slow_meeting for r in site.seen("GetMeeting")[-3:]):
            assert time.monotonic() < deadline and process.poll() is None, "the fetch never reached the slow meeting"
            time.sleep(0.05)
        os.kill(process.pid, signal.SIGKILL)
        assert process.wait(timeout=30) == -signal.SIGKILL
    finally:
        site.delays.clear()
    again = run_cli(*fetch_args(site), env=env)
    assert again.returncode == 0, again.stderr
    assert_same_as_reference(tmp_path / "index", site, reference)
    manifest = Manifest(tmp_path / "index" / "manifest.sqlite")
    try:
        assert len(manifest.rows()) == 2 * MEETINGS
    finally:
        manifest.close()


def test_ctrl_c_stops_without_a_traceback_and_keeps_the_batches_already_fetched(tmp_path, site, reference):
    env = env_for(tmp_path / "index")
    slow_meeting = str(3000 + 12)  # the third of a batch of five, after two batches of five were done
    site.delays[("getmeeting", slow_meeting)] = 30
    batches_of_five = ("import sys; import assistant.ingest.moderngov.fetch as fetch; fetch.MEETINGS_PER_BATCH = 5; "
                       "from assistant.present.cli import main; sys.exit(main(sys.argv[1:]))")
    try:
        # As from a terminal: Ctrl-C's default action, whatever this test process inherited (a process started with
        # SIGINT ignored, as a background job is, passes that on, and Python then installs no KeyboardInterrupt).
        process = subprocess.Popen([sys.executable, "-c", batches_of_five, *fetch_args(site)], env=env,
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True,
                                   preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
        deadline = time.monotonic() + 120
        while not any(r.params.get("lmeetingid") == slow_meeting for r in site.seen("GetMeeting")[-3:]):
            assert time.monotonic() < deadline and process.poll() is None, "the fetch never reached the slow meeting"
            time.sleep(0.05)
        os.killpg(process.pid, signal.SIGINT)  # what Ctrl-C at a terminal does: the whole foreground group
        _, stderr = process.communicate(timeout=60)
    finally:
        site.delays.clear()
    assert process.returncode == 130 and "interrupted" in stderr, stderr
    assert "are kept; run the same command again" in stderr, stderr  # what Ctrl-C left, not only that it came
    assert "Traceback" not in stderr and "KeyboardInterrupt" not in stderr, stderr
    manifest = Manifest(tmp_path / "index" / "manifest.sqlite")
    try:
        assert {row.status for row in manifest.rows().values()} == {"done"} and len(manifest.rows()) == 2 * 10
    finally:
        manifest.close()
    again = run_cli(*fetch_args(site), env=env)
    assert again.returncode == 0, again.stderr
    assert json.loads(again.stdout)["items"]["new"] == 2 * (MEETINGS - 10)  # the kept batches are not fetched anew
    assert_same_as_reference(tmp_path / "index", site, reference)
