"""The purge: text an ingest or fetch removed (an item restricted since, a redaction, a prune, a withdrawal, a reset)
is left in no file of the data folder, or a note says where it is and what to run."""

from __future__ import annotations

import sqlite3
import struct
from pathlib import Path
from typing import TYPE_CHECKING

from assistant.index.manifest import Manifest
from assistant.settings import Settings

if TYPE_CHECKING:
    from assistant.index.vector_store import VectorStore

# The manifest's record that text was removed and not yet purged. Set before the first removal and cleared only after
# a purge that succeeded, so a run killed in between, or a purge that could not run, leaves it to the next run.
PURGE_OWED = "purge_owed"

# How long the purge waits for a reader of chroma.sqlite3 (the app answering) to finish before giving up with a note.
BUSY_SECONDS = 10

# Chroma's full-text index of every chunk: an FTS5 table with the trigram tokenizer.
_FULLTEXT_TABLE = "embedding_fulltext_search"


def owe_purge(manifest: Manifest) -> None:
    """Record that the data folder must be purged, before a change that removes text from the index."""
    if manifest.get_meta(PURGE_OWED) is None:
        manifest.set_meta(PURGE_OWED, "1")


def purge_if_owed(manifest: Manifest, store: VectorStore) -> str | None:
    """Purge the store's and the manifest's files when a purge is owed; None when none is owed or it succeeded,
    else a note saying what is left and what to do (the purge stays owed, so the next ingest or fetch retries)."""
    if manifest.get_meta(PURGE_OWED) is None:
        return None
    store_note = store.purge_removed_text()
    manifest_note = None if manifest.fold_in_changes() else (
        f"the text of removed minutes may still be readable in {manifest.path}, as another process was reading the "
        "index: the next `assistant ingest` or `assistant fetch` removes it (stop the app first if it comes back)")
    if store_note or manifest_note:
        # Both, when both failed: each names its own file and what it needs (free space, the app stopped).
        return "; ".join(note for note in (store_note, manifest_note) if note)
    manifest.delete_meta(PURGE_OWED)
    return None


def purge_chroma_file(database: Path) -> str | None:
    """Leave no removed chunk's text in Chroma's local database file: merge its full-text index, then rebuild the
    file without its free pages. None when done, else a note naming what to do."""
    try:
        connection = sqlite3.connect(database, timeout=BUSY_SECONDS, isolation_level=None)
    except sqlite3.Error as exc:
        return _not_purged(database, exc)
    try:
        found = connection.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?",
                                   (_FULLTEXT_TABLE,)).fetchone()
        if found:
            # Chroma's own table, touched only for FTS5 maintenance that changes no content: a deleted row's
            # postings (every trigram of its text, with positions, enough to rebuild it) stay in old segment pages
            # until FTS5 merges them, and VACUUM copies live pages as they are. 'optimize' merges every segment into
            # one, without them. FTS5's 'secure-delete' option would drop them at each delete, but it needs SQLite
            # 3.42 and makes the table unwritable by older FTS5 (Python's own sqlite3 may be older).
            connection.execute(f"INSERT INTO {_FULLTEXT_TABLE}({_FULLTEXT_TABLE}) VALUES('optimize')")
        connection.execute("VACUUM")
        _remove_unused_vector_folders(database.parent, connection)
    except (sqlite3.Error, OSError) as exc:
        return _not_purged(database, exc)
    finally:
        connection.close()
    return None


def scrub_unused_vector_slots(chroma_dir: Path) -> None:
    """Zero the slots of each local vector file (a segment's `data_level0.bin`) past the vectors it holds. Chroma's
    HNSW index writes its whole allocated capacity, and the memory past its last vector is whatever the process
    held there before: minutes text it had read, a withheld item's among them, was found there (a test of
    `withhold` saw '148 children' in that file after the item had gone). The header gives the count and the size of
    each slot. Only the writer, holding the index's write lock, calls this, as its last act."""
    for header in chroma_dir.glob("*/header.bin"):
        data = header.with_name("data_level0.bin")
        try:
            raw = header.read_bytes()
            if len(raw) < _HNSW_HEADER.size or not data.is_file():
                continue
            _, _, _, count, slot = _HNSW_HEADER.unpack_from(raw)
            used, size = count * slot, data.stat().st_size
            if slot <= 0 or used >= size:
                continue
            with open(data, "r+b") as vectors:
                vectors.seek(used)
                vectors.write(bytes(size - used))
        except OSError:
            continue  # a file another user's, or gone: nothing of it to zero here


def vector_files_cut_short(chroma_dir: Path) -> bool:
    """Whether a local vector file holds fewer vectors than its header counts, or its id map is empty: as a run killed
    while Chroma rewrote them leaves them (every read of the collection then fails, until an ingest mends it). Read
    from the headers and the files' sizes alone."""
    for header in chroma_dir.glob("*/header.bin"):
        try:
            raw = header.read_bytes()
            if len(raw) < _HNSW_HEADER.size:
                return True
            _, _, _, count, slot = _HNSW_HEADER.unpack_from(raw)
            if count and (header.with_name("data_level0.bin").stat().st_size < count * slot
                          or header.with_name("index_metadata.pickle").stat().st_size == 0):
                return True
        except OSError:
            continue  # a file gone or another user's: the readers say what they find
    return False


# hnswlib's header as Chroma writes it: its version (int32), offset of level 0, capacity, count, and slot size.
_HNSW_HEADER = struct.Struct("<iQQQQ")


def _remove_unused_vector_folders(chroma_dir: Path, connection: sqlite3.Connection) -> None:
    """Remove the vector folders of segments Chroma's database no longer names. Deleting a collection (a reset)
    leaves its folder, every vector of the old build in it, removed items' too, and one more folder for each reset.
    A folder is a segment's when its name is a UUID; only the writer, holding the index's write lock, calls this."""
    import shutil
    import uuid

    if not connection.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'segments'").fetchone():
        return  # not the schema this was written for: leave the folder alone
    named = {str(row[0]) for row in connection.execute("SELECT id FROM segments")}
    for folder in chroma_dir.iterdir():
        try:
            segment = str(uuid.UUID(folder.name))
        except ValueError:
            continue
        if segment == folder.name and segment not in named and folder.is_dir() and not folder.is_symlink():
            shutil.rmtree(folder)


def _not_purged(database: Path, exc: BaseException) -> str:
    return (f"the text of removed minutes may still be readable in {database} ({exc}): the next `assistant ingest` "
            "or `assistant fetch` tries again; if this comes back, stop the app (or whatever reads the index), and "
            "check there is free space the size of that file")


def purge_owed(manifest: Manifest) -> bool:
    """Whether text removed from the index may still be readable in the data folder, its purge not yet done."""
    return manifest.get_meta(PURGE_OWED) is not None


def audit_log_note(data_dir: Path, audit_path: Path) -> str | None:
    """After a run that removed text: the audit log, when it is kept in the data folder, still holds the answers it
    recorded, quotes of the removed minutes among them. It is the record of what members were shown, so no purge
    touches it; the officer who shares the folder must know to leave it out."""
    try:
        inside = audit_path.resolve().is_relative_to(data_dir.resolve()) and audit_path.stat().st_size > 0
    except OSError:
        return None
    if not inside:
        return None
    return (f"the audit log {audit_path} keeps every answer as it was shown, quotes of minutes removed since included "
            "(it is the record of what members were told, and no purge changes it): leave it out of any copy of "
            "the data folder you share, or keep it elsewhere with ASSISTANT_AUDIT_PATH")


def finish_owed_purge(manifest: Manifest, store: VectorStore, settings: Settings) -> list[str]:
    """At the end of a writer's run (an ingest, a fetch's last batch, a fetch that reached no meeting): the purge,
    when one is owed, and the notes it leaves, what could not be purged and the audit log that keeps what was
    shown; none when no purge was owed."""
    if not purge_owed(manifest):
        return []
    notes = [note] if (note := purge_if_owed(manifest, store)) else []
    if note := audit_log_note(settings.data_dir, settings.audit_path):
        notes.append(note)
    return notes
