"""One writer at a time per index folder: a second `ingest` or `fetch`, or the keyword-index refresh of `serve`,
while another process writes fails at once with a message naming the folder, and changes nothing."""

from __future__ import annotations

import datetime as dt
import fcntl
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from contextlib import contextmanager
from pathlib import Path

import pytest

from assistant.answer.service import Assistant
from assistant.errors import AssistantError, IndexStaleError
from assistant.index.manifest import Manifest, ManifestRow
from assistant.index.stats import index_stats
from assistant.ingest.run import ingest
from cli_helpers import cli_env, index_snapshot, run_cli
from corpus_factory import minute_text, write_markdown_corpus
from moderngov_site import FakeCommittee, FakeItem, FakeMeeting, ModernGovSite, paragraphs_html

pytestmark = pytest.mark.integration

BUSY = "Another ingest or fetch is writing to"


@contextmanager
def held_by_another_process(data_dir: Path):
    """The data folder's write lock, held as another process holds it: flock on a descriptor of its own."""
    data_dir.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(data_dir / "ingest.lock", os.O_RDWR | os.O_CREAT)
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        yield
    finally:
        os.close(descriptor)


def assert_refused(result: subprocess.CompletedProcess, data_dir: Path) -> None:
    assert result.returncode == 2, (result.returncode, result.stdout, result.stderr)
    assert f"{BUSY} {data_dir}" in result.stderr and "Wait for it to finish and run this again" in result.stderr, \
        result.stderr
    assert "Traceback" not in result.stderr, result.stderr


def source_ids(data_dir: Path) -> set[str]:
    manifest = Manifest(data_dir / "manifest.sqlite")
    try:
        return set(manifest.rows())
    finally:
        manifest.close()


@pytest.fixture
def indexed(tmp_path):
    """An index of ten items, and ten other items that are not in it."""
    first, other = tmp_path / "first", tmp_path / "other"
    write_markdown_corpus(first, 10)
    write_markdown_corpus(other, 10, start=100)
    data_dir = tmp_path / "index"
    built = run_cli("ingest", str(first), "--no-progress", env=cli_env(data_dir))
    assert built.returncode == 0, built.stderr
    return data_dir, first, other


@pytest.mark.parametrize("flags", [(), ("--prune",), ("--reset",)])
def test_an_ingest_while_another_process_writes_fails_at_once_and_changes_nothing(indexed, flags):
    data_dir, first, other = indexed
    before = index_snapshot(data_dir)
    bm25_before = (data_dir / "bm25" / "state.txt").read_text()
    with held_by_another_process(data_dir):
        started = time.monotonic()
        refused = run_cli("ingest", str(other), "--no-progress", *flags, env=cli_env(data_dir), timeout=120)
        assert_refused(refused, data_dir)
        assert time.monotonic() - started < 100  # it did not sit waiting for the lock
    assert index_snapshot(data_dir) == before
    assert (data_dir / "bm25" / "state.txt").read_text() == bm25_before
    again = run_cli("ingest", str(other), "--no-progress", *flags, env=cli_env(data_dir))
    assert again.returncode == 0, again.stderr


def test_the_keyword_index_is_not_refreshed_while_another_process_writes(tmp_path):
    from assistant.index.embedder import HASHING_MODEL
    from assistant.ingest.run import Index, ensure_index, refresh_lexical
    from assistant.settings import Settings

    corpus = tmp_path / "corpus"
    write_markdown_corpus(corpus, 5)
    settings = Settings.from_env({"ASSISTANT_EMBEDDING_MODEL": HASHING_MODEL}, data_dir=tmp_path / "index")
    ensure_index(settings, corpus, progress=False)
    shutil.rmtree(settings.lexical_dir)  # what `serve --no-corpus` then rebuilds
    index = Index(settings)
    try:
        with held_by_another_process(settings.data_dir):
            with pytest.raises(AssistantError, match=BUSY) as refused:
                refresh_lexical(index)
            assert str(settings.data_dir) in str(refused.value)
            with pytest.raises(AssistantError, match=BUSY):  # what `serve` with a corpus does first
                ensure_index(settings, corpus, progress=False)
        assert not settings.lexical_dir.exists()
        assert refresh_lexical(index)
    finally:
        index.close()


# ---------------------------------------------------------------- a real first writer: a fetch in progress

MEETINGS = 6


@pytest.fixture
def site():
    meetings = [
        FakeMeeting(str(4000 + n), "401", dt.date(2024, 1, 1) + dt.timedelta(days=20 * n), items=[
            FakeItem(str(40000 + n), f"Item {n}", paragraphs_html(minute_text(n)), number="1"),
        ])
        for n in range(MEETINGS)
    ]
    served = ModernGovSite([FakeCommittee("401", "Children and Young People Scrutiny Panel")], meetings)
    served.start()
    yield served
    served.delays.clear()
    served.stop()


def fetch_args(site):
    return ("fetch", site.base_url, "--council", "Testshire County Council", "--since", "2024-01-01",
            "--until", "2024-12-31", "--no-progress", "--json")


def test_a_second_writer_while_a_fetch_runs_is_refused_and_the_first_fetch_is_untouched(tmp_path, site):
    """The fetch ingests its meetings two at a time and is held up on its last meeting, after two batches went
    into the index: it holds the lock across its batches, and a second ingest or fetch is refused meanwhile."""
    data_dir = tmp_path / "index"
    env = cli_env(data_dir, ASSISTANT_FETCH_RATE="0", ASSISTANT_FETCH_BACKOFF="0", ASSISTANT_FETCH_TIMEOUT="300")
    other = tmp_path / "other"
    write_markdown_corpus(other, 5, start=200)
    slow_meeting = str(4000 + MEETINGS - 1)
    site.delays[("getmeeting", slow_meeting)] = 120
    batches_of_two = ("import sys; import assistant.ingest.moderngov.fetch as fetch; fetch.MEETINGS_PER_BATCH = 2; "
                      "from assistant.present.cli import main; sys.exit(main(sys.argv[1:]))")
    first = subprocess.Popen([sys.executable, "-c", batches_of_two, *fetch_args(site)], env=env,
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 120
        while not any(r.params.get("lmeetingid") == slow_meeting for r in site.seen("GetMeeting")):
            assert time.monotonic() < deadline and first.poll() is None, "the fetch never reached the slow meeting"
            time.sleep(0.05)
        written = source_ids(data_dir)
        assert len(written) == MEETINGS - 2  # two batches of two went in before the slow meeting

        refused = run_cli("ingest", str(other), "--no-progress", env=env, timeout=100)
        requests_before = len(site.requests)
        fetch_refused = run_cli(*fetch_args(site), env=env, timeout=100)
        assert first.poll() is None, "the first fetch ended before the second writers were tried"
        assert_refused(refused, data_dir)
        assert_refused(fetch_refused, data_dir)
        assert len(site.requests) == requests_before  # refused before asking the site anything
        assert source_ids(data_dir) == written
        assert "interrupted earlier ingest" not in refused.stdout + refused.stderr
    finally:
        first.kill()  # SIGKILL: the kernel lets the lock go with the process
        first.wait(timeout=30)
    assert first.returncode == -signal.SIGKILL
    after = run_cli("ingest", str(other), "--no-progress", env=env)
    assert after.returncode == 0, after.stderr
    assert "interrupted earlier ingest" not in after.stdout  # the killed fetch's batches were all finished
    assert len(source_ids(data_dir)) == MEETINGS - 2 + 5


# ---------------------------------------------------------------- the keyword index's staging folders


def test_the_keyword_index_leaves_another_writers_staging_folder_alone_and_cleans_up_its_own(tmp_path, monkeypatch):
    from assistant.index import lexical

    entries = [lexical.LexicalEntry(f"c{n}", minute_text(n), {"source_id": f"s{n}", "position": 0})
               for n in range(3)]
    folder = tmp_path / "bm25"
    others = [folder.with_name("bm25.tmp"), folder.with_name("bm25.tmp-1-00000000")]  # as another writer left them
    for staging in others:
        staging.mkdir()
        (staging / "entries.jsonl").write_text("half written\n")
    lexical.build(entries, folder)
    assert all((staging / "entries.jsonl").read_text() == "half written\n" for staging in others)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bm25", "bm25.tmp", "bm25.tmp-1-00000000"]

    def disk_full(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(lexical.np, "save", disk_full)
    with pytest.raises(OSError):
        lexical.build(entries[:2], folder)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bm25", "bm25.tmp", "bm25.tmp-1-00000000"]
    assert len(lexical.load(folder)) == 3


def test_an_ingest_removes_staging_folders_that_killed_writers_left(tmp_path):
    data_dir = tmp_path / "index"
    corpus = tmp_path / "corpus"
    write_markdown_corpus(corpus, 3)
    assert run_cli("ingest", str(corpus), "--no-progress", env=cli_env(data_dir)).returncode == 0
    left = [data_dir / "bm25.tmp", data_dir / "bm25.tmp-12345-0a1b2c3d"]
    for staging in left:
        staging.mkdir()
        (staging / "entries.jsonl").write_text("half written\n")
    again = run_cli("ingest", str(corpus), "--no-progress", env=cli_env(data_dir))
    assert again.returncode == 0, again.stderr
    assert not any(staging.exists() for staging in left)
    assert (data_dir / "bm25" / "entries.jsonl").is_file()


def _interrupted(settings) -> None:
    """An index as a writer leaves it midway: an item pending in the manifest, and no keyword index yet."""
    manifest = Manifest(settings.manifest_path)
    try:
        done = next(iter(manifest.rows().values()))
        manifest.write([ManifestRow("midway-item", "f", "pending", ("c1",), origin="midway.md")])
        manifest.write([ManifestRow(done.source_id, done.fingerprint, "done", ("another-chunk",), origin=done.origin)])
    finally:
        manifest.close()


def test_ask_and_stats_during_a_write_say_to_wait_and_after_a_stopped_one_to_ingest(fake_settings, tmp_path):
    folder = tmp_path / "minutes"
    write_markdown_corpus(folder, 3)
    ingest([folder], fake_settings)
    _interrupted(fake_settings)
    with held_by_another_process(fake_settings.data_dir):
        with pytest.raises(IndexStaleError) as stale:
            Assistant(fake_settings)
        assert "is writing to the index" in stale.value.message and "now" in stale.value.message
        assert stale.value.hint == "Wait for it to finish, then ask again."
        assert index_stats(fake_settings).notes == (
            "an ingest (or fetch) is writing to this index now: wait for it to finish (these counts are of what it "
            "has finished so far)",)
    # Stopped, not running: the advice is to run ingest again.
    with pytest.raises(IndexStaleError) as stale:
        Assistant(fake_settings)
    assert "Run `assistant ingest`" in stale.value.hint
    assert index_stats(fake_settings).notes == ("1 item was interrupted mid-ingest: run `assistant ingest` again",)


def test_a_writer_starting_while_a_reader_looks_at_the_lock_waits_for_it(fake_settings, tmp_path):
    folder = tmp_path / "minutes"
    write_markdown_corpus(folder, 2)
    fake_settings.data_dir.mkdir(parents=True)
    looking = os.open(fake_settings.data_dir / "ingest.lock", os.O_RDWR | os.O_CREAT)
    fcntl.flock(looking, fcntl.LOCK_SH)  # as `writer_at_work` holds it, for an instant
    threading.Timer(0.05, os.close, (looking,)).start()
    assert ingest([folder], fake_settings).new == 2
