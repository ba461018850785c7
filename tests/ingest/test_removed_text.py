"""Text that an ingest removes (an item marked restricted since, a redacted or corrected item's old chunks, an item
pruned) is left in no file of the data folder: not in a live row of Chroma's write-ahead log, not in the free pages
of its SQLite files or of the manifest, not in the old segment pages of Chroma's full-text index. Read as raw bytes,
with a real local Chroma store."""

from __future__ import annotations

import signal
import sqlite3
from pathlib import Path

import pytest

from assistant.index import purge
from assistant.index.manifest import Manifest
from assistant.index.purge import PURGE_OWED
from assistant.ingest.run import Index, ingest, ingest_items
from assistant.records import MinuteItem

from cli_helpers import cli_env, run_cli
from corpus_factory import write_markdown_corpus

MARKER = "Quillerbrook"  # a placement area no other text names


def folders_holding(data_dir: Path, text: str) -> list[str]:
    """Every file under the data folder that holds the text: its bytes in UTF-8, or, in an SQLite file, every one of
    its lower-cased trigrams among the terms of an FTS5 index's pages (which hold them prefix-compressed, and keep a
    deleted row's until they are merged)."""
    needle = text.encode("utf-8")
    trigrams = {text.lower()[at:at + 3] for at in range(len(text) - 2)}
    return sorted(str(path.relative_to(data_dir)) for path in data_dir.rglob("*")
                  if path.is_file() and (needle in path.read_bytes()
                                         or path.suffix == ".sqlite3" and trigrams <= fts5_terms(path)))


def fts5_terms(database: Path) -> set[str]:
    """The terms of every leaf page of Chroma's FTS5 index, live or left over from deleted rows."""
    connection = sqlite3.connect(f"{database.resolve().as_uri()}?mode=ro", uri=True)
    try:
        pages = [page for (page,) in connection.execute("SELECT block FROM embedding_fulltext_search_data")]
    except sqlite3.OperationalError:  # no full-text index
        return set()
    finally:
        connection.close()
    terms = set()
    for page in pages:
        if len(page) < 4:
            continue
        # A leaf page ends with its page index: the offsets of the terms it starts, as delta varints.
        term_offsets, at, offset = [], int.from_bytes(page[2:4], "big"), 0
        while 0 < at < len(page):
            delta, at = _varint(page, at)
            offset += delta
            term_offsets.append(offset)
        term = b""
        for number, at in enumerate(term_offsets):
            kept = 0
            if number:
                kept, at = _varint(page, at)
            size, at = _varint(page, at)
            term = term[:kept] + page[at:at + size]
            terms.add(term[1:].decode("utf-8", "replace"))  # FTS5 starts each term of its main index with "0"
    return terms


def _varint(data: bytes, at: int) -> tuple[int, int]:
    value = 0
    for _ in range(9):
        byte = data[at]
        at += 1
        value = (value << 7) | (byte & 0x7F)
        if not byte & 0x80:
            break
    return value, at


def write_case_review(folder: Path, restricted: bool = False, area: str = MARKER) -> Path:
    path = folder / "item-case.md"
    path.write_text(
        "---\nid: case-review-9\ncouncil: Wyvern Borough Council\ncommittee: Corporate Parenting Panel\n"
        f"meeting_date: 2024-04-10\nitem_title: Child A placed in {area}\n"
        + ("restricted: true\n" if restricted else "") +
        f"---\nThe panel discussed Child A, aged 9, placed with foster carers in {area} after a police protection "
        "order.\n\nRESOLVED that the review be noted.\n", encoding="utf-8")
    return path


def test_an_item_marked_restricted_since_leaves_no_trace_in_the_data_folder(fake_settings, tmp_path):
    folder = tmp_path / "minutes"
    write_markdown_corpus(folder, 3)
    write_case_review(folder)
    ingest([folder], fake_settings)
    assert folders_holding(fake_settings.data_dir, MARKER)  # the check can see it while it is indexed
    write_case_review(folder, restricted=True)
    summary = ingest([folder], fake_settings)
    assert summary.removed == 1, summary.report()
    assert folders_holding(fake_settings.data_dir, MARKER) == [], summary.report()
    assert folders_holding(folder, MARKER)  # the minutes themselves are the officer's
    # The index still answers, and takes more writes.
    write_markdown_corpus(folder, 2, start=10)
    assert ingest([folder], fake_settings).new == 2
    index = Index(fake_settings)
    try:
        assert len(index.store.all_ids()) == index.manifest.chunk_count()
    finally:
        index.close()


def test_a_redaction_and_a_prune_leave_no_trace_in_the_data_folder(fake_settings, tmp_path):
    folder = tmp_path / "minutes"
    write_markdown_corpus(folder, 2)
    case = write_case_review(folder)
    ingest([folder], fake_settings)
    write_case_review(folder, area="a neighbouring authority")
    summary = ingest([folder], fake_settings)
    assert summary.replaced == 1 and folders_holding(fake_settings.data_dir, MARKER) == [], summary.report()

    write_case_review(folder, area="Marrowgate")
    ingest([folder], fake_settings)
    case.unlink()
    summary = ingest([folder], fake_settings, prune=True)
    assert summary.removed == 1 and folders_holding(fake_settings.data_dir, "Marrowgate") == [], summary.report()


def test_a_reset_and_a_withdrawal_by_a_writer_of_many_batches_leave_no_trace(fake_settings, tmp_path):
    folder = tmp_path / "minutes"
    write_markdown_corpus(folder, 2)
    write_case_review(folder)
    ingest([folder], fake_settings)
    write_case_review(folder, area="Tarnhollow")
    ingest([folder], fake_settings, reset=True)
    assert folders_holding(fake_settings.data_dir, MARKER) == []

    # As `fetch` does: one Index, each batch of meetings ingested through it, a withdrawn item given by identity only.
    index = Index(fake_settings)
    try:
        ingest_items([MinuteItem(source_id="case-review-9", text="", origin="case-review-9", restricted=True)],
                     fake_settings, index=index)
        assert folders_holding(fake_settings.data_dir, "Tarnhollow") == []
        more = ingest_items([MinuteItem(source_id="later-item", text="The panel noted the annual report.",
                                        council="Wyvern Borough Council", origin="later-item")],
                            fake_settings, index=index)
        assert more.new == 1 and "later-item" in {c.metadata["source_id"] for c in index.store.get()}
    finally:
        index.close()


def test_a_reset_leaves_no_vector_folder_of_the_collection_it_removed(fake_settings, tmp_path):
    """Chroma keeps a deleted collection's vector folder: each reset left one more, every vector of the old build in
    it, a restricted item's among them."""
    import uuid

    def vector_folders() -> set[str]:
        return {f.name for f in fake_settings.chroma_dir.iterdir() if f.is_dir() and _is_uuid(f.name)}

    def named_segments() -> set[str]:
        connection = sqlite3.connect(fake_settings.chroma_dir / "chroma.sqlite3")
        try:
            return {row[0] for row in connection.execute("SELECT id FROM segments")}
        finally:
            connection.close()

    def _is_uuid(name: str) -> bool:
        try:
            return str(uuid.UUID(name)) == name
        except ValueError:
            return False

    folder = tmp_path / "minutes"
    write_markdown_corpus(folder, 2)
    write_case_review(folder)
    ingest([folder], fake_settings)
    first = vector_folders()
    assert first and first <= named_segments()
    write_case_review(folder, restricted=True)
    for _ in range(2):
        ingest([folder], fake_settings, reset=True)
        assert vector_folders() and vector_folders() <= named_segments()
    assert not first & vector_folders()
    assert folders_holding(fake_settings.data_dir, MARKER) == []
    index = Index(fake_settings)
    try:  # and the index it rebuilt answers
        assert len(index.store.all_ids()) == index.manifest.chunk_count() > 0
    finally:
        index.close()


def test_a_purge_that_cannot_run_says_so_and_is_owed_until_one_runs(fake_settings, tmp_path, monkeypatch):
    monkeypatch.setattr(purge, "BUSY_SECONDS", 0.2)
    folder = tmp_path / "minutes"
    owe_a_purge(fake_settings, folder)
    index = Index(fake_settings)
    try:
        write_case_review(folder, restricted=True)
        # Another process holds chroma.sqlite3 (a long write; a disk too full for VACUUM's copy fails alike).
        holder = sqlite3.connect(fake_settings.chroma_dir / "chroma.sqlite3", isolation_level=None)
        holder.execute("BEGIN IMMEDIATE")
        try:
            summary = ingest([folder], fake_settings, index=index)
        finally:
            holder.execute("ROLLBACK")
            holder.close()
        [note] = [note for note in summary.notes if "may still be readable" in note]
        assert "chroma.sqlite3" in note and "the next `assistant ingest`" in note, note
        assert index.manifest.get_meta(PURGE_OWED) is not None
        assert folders_holding(fake_settings.data_dir, MARKER) == ["chroma/chroma.sqlite3"]

        summary = ingest([folder], fake_settings, index=index)  # nothing to change: it purges what is owed
        assert not any("may still be readable" in note for note in summary.notes), summary.report()
        assert index.manifest.get_meta(PURGE_OWED) is None
    finally:
        index.close()
    assert folders_holding(fake_settings.data_dir, MARKER) == []


def test_a_manifest_read_during_the_purge_leaves_it_owed(fake_settings, tmp_path):
    folder = tmp_path / "minutes"
    write_markdown_corpus(folder, 2)
    case = write_case_review(folder)
    ingest([folder], fake_settings)
    reader = sqlite3.connect(fake_settings.manifest_path, isolation_level=None, timeout=0.1)
    reader.execute("BEGIN")
    reader.execute("SELECT count(*) FROM items").fetchone()  # the app, mid-read
    try:
        case.unlink()
        summary = ingest([folder], fake_settings, prune=True)
    finally:
        reader.execute("COMMIT")
        reader.close()
    assert any("manifest.sqlite" in note and "may still be readable" in note for note in summary.notes), \
        summary.report()
    manifest = Manifest(fake_settings.manifest_path)
    try:
        assert manifest.get_meta(PURGE_OWED) is not None
    finally:
        manifest.close()
    ingest([folder], fake_settings)
    assert folders_holding(fake_settings.data_dir, MARKER) == []


@pytest.mark.integration
def test_a_run_killed_after_removing_text_leaves_the_purge_to_the_next_run(tmp_path):
    folder = tmp_path / "minutes"
    write_markdown_corpus(folder, 2)
    write_case_review(folder)
    env = cli_env(tmp_path / "index")
    assert run_cli("ingest", str(folder), "--no-progress", env=env).returncode == 0
    write_case_review(folder, area="a neighbouring authority")  # a redaction
    killed = run_cli("ingest", str(folder), "--no-progress",
                     env={**env, "ASSISTANT_CRASH_AT": "after_chroma_write"})  # its old chunks deleted, no purge
    assert killed.returncode == -signal.SIGKILL
    again = run_cli("ingest", str(folder), "--no-progress", env=env)
    assert again.returncode == 0, again.stderr
    assert folders_holding(tmp_path / "index", MARKER) == [], again.stdout


def owe_a_purge(settings, folder: Path) -> None:
    """Index the case review, then take it out as a fetch's batch does, leaving its purge to the run's end (owed)."""
    write_markdown_corpus(folder, 2)
    write_case_review(folder)
    ingest([folder], settings)
    index = Index(settings)
    try:
        ingest_items([MinuteItem(source_id="case-review-9", text="", origin="case-review-9", restricted=True)],
                     settings, index=index, purge=False)
        assert index.manifest.get_meta(PURGE_OWED) is not None
    finally:
        index.close()


def test_stats_and_an_interrupted_writer_say_that_removed_text_is_still_readable(fake_settings, tmp_path):
    from assistant.index.stats import index_stats
    from assistant.present.cli import _purge_left

    owe_a_purge(fake_settings, tmp_path / "minutes")
    [note] = [n for n in index_stats(fake_settings).notes if "may still be readable" in n]
    assert str(fake_settings.data_dir) in note and "the next `assistant ingest` or `assistant fetch`" in note
    assert "do not copy the folder" in _purge_left("fetch", fake_settings)
    assert _purge_left("ask", fake_settings) == ""
    ingest([tmp_path / "minutes"], fake_settings)  # finishes the purge
    assert not any("may still be readable" in n for n in index_stats(fake_settings).notes)
    assert _purge_left("fetch", fake_settings) == ""


def test_both_failures_are_named_when_neither_file_could_be_purged(fake_settings, tmp_path, monkeypatch):
    monkeypatch.setattr(purge, "BUSY_SECONDS", 0.2)
    folder = tmp_path / "minutes"
    owe_a_purge(fake_settings, folder)
    holder = sqlite3.connect(fake_settings.chroma_dir / "chroma.sqlite3", isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    reader = sqlite3.connect(fake_settings.manifest_path, isolation_level=None, timeout=0.1)
    reader.execute("BEGIN")
    reader.execute("SELECT count(*) FROM items").fetchone()
    try:
        summary = ingest([folder], fake_settings)
    finally:
        for connection, end in ((holder, "ROLLBACK"), (reader, "COMMIT")):
            connection.execute(end)
            connection.close()
    [note] = [note for note in summary.notes if "may still be readable" in note]
    assert "chroma.sqlite3" in note and "free space" in note and "manifest.sqlite" in note, note


def test_a_run_that_removes_text_says_the_audit_log_in_the_folder_keeps_what_was_shown(fake_settings, tmp_path):
    folder = tmp_path / "minutes"
    write_markdown_corpus(folder, 2)
    write_case_review(folder)
    ingest([folder], fake_settings)
    fake_settings.audit_path.write_bytes(b"an answer quoting Child A placed in " + MARKER.encode())
    unchanged = ingest([folder], fake_settings)
    assert not any("audit log" in note for note in unchanged.notes)  # nothing removed: nothing to say
    write_case_review(folder, restricted=True)
    summary = ingest([folder], fake_settings)
    [note] = [note for note in summary.notes if "audit log" in note]
    assert str(fake_settings.audit_path) in note and "ASSISTANT_AUDIT_PATH" in note
    # Kept outside the data folder, it is no part of a copy of the folder: no note.
    elsewhere = fake_settings.with_(audit_file=str(tmp_path / "audit.sqlite"))
    (tmp_path / "audit.sqlite").write_bytes(b"records")
    write_case_review(folder, area="Marrowgate")
    ingest([folder], elsewhere)
    write_case_review(folder, area="Marrowgate", restricted=True)
    assert not any("audit log" in note for note in ingest([folder], elsewhere).notes)
