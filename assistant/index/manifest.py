"""The manifest: which items are in the index, with which fingerprint and which chunk ids.

An item is written as `pending` (with the chunk ids it is about to get) before Chroma is touched,
and flipped to `done` after. A run killed in between leaves `pending` rows, which the next
ingest redoes, so Chroma and the manifest always end up in agreement.

A reader that may not write the data folder (a read-only mount, an index built by another user) opens the
manifest for reading only, and changes nothing in that folder.
"""

from __future__ import annotations

import json
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Iterable, Iterator

from assistant.errors import IndexMismatchError, NotWritableError, manifest_damaged, no_index_yet
from assistant.files import may_write

if TYPE_CHECKING:
    from assistant.settings import Settings

# A meta record that `ingest --reset` keeps from before it empties the index until it has built it again.
RESET_UNFINISHED = "reset_unfinished"
# A meta record a writer keeps while the vector store's collection is removed and made anew (`ingest --reset`, or an
# ingest mending a damaged store) until the run has filled it again: readers do not open the store meanwhile.
STORE_BEING_MADE = "store_being_made"
# A meta record of the items an operator withheld (`assistant withhold`): a JSON object from each identity given (an
# item's, or a file's, which covers the agenda items cut from it) to what was known of its items then (see
# ingest.run.what_is_withheld): their signatures and meetings, so that a copy of the same minutes under another name
# or address is known too, and the ModernGov meetings they came from, read again once they are released. Never
# indexed again, whatever ingest or fetch reads, until released. A reset keeps it.
WITHHELD = "withheld"
# The layout of an index folder (manifest, vector store metadata, keyword index) as this version writes it: a version
# that changes it so that an older one would misread it raises the number, and an older version, finding a number
# above its own, refuses the index rather than read or write it wrongly. Kept in the manifest by every writer.
INDEX_FORMAT, INDEX_FORMAT_KEY = 1, "index_format"


def check_index_format(manifest: "Manifest", data_dir: Path) -> None:
    """Refuse an index written by a newer version of the assistant, in a layout this one does not know."""
    stored = manifest.get_meta(INDEX_FORMAT_KEY)
    if stored is not None and stored.isdigit() and int(stored) > INDEX_FORMAT:
        raise IndexMismatchError(
            f"The index in {data_dir} was written by a newer version of the assistant (index format {stored}; this "
            f"version reads format {INDEX_FORMAT} and earlier).",
            "Use that version of the assistant, or a newer one; or restore a backup made before it wrote the index.")

# The manifest's record of where the index's vectors live: its collection, and "local" or "server HOST:PORT".
COLLECTION_KEY, VECTORS_ON_KEY = "collection", "vectors_on"


def record_where_vectors_live(manifest: Manifest, settings: Settings) -> None:
    manifest.set_meta(COLLECTION_KEY, settings.collection)
    manifest.set_meta(VECTORS_ON_KEY, f"server {settings.chroma_host}:{settings.chroma_port}"
                      if settings.uses_chroma_server else "local")


def check_where_vectors_live(manifest: Manifest, settings: Settings) -> None:
    """Refuse settings that point away from where this index's vectors were written (an index written before
    this was recorded is not checked until its next ingest records it)."""
    collection, vectors_on = manifest.get_meta(COLLECTION_KEY), manifest.get_meta(VECTORS_ON_KEY)
    folder = settings.data_dir
    reset = "or run `assistant ingest --reset` with the minutes to build the index anew"
    if vectors_on == "local" and settings.uses_chroma_server:
        raise IndexMismatchError(
            f"The index in {folder} keeps its vectors in {settings.chroma_dir}, but CHROMA_HOST is set "
            f"({settings.chroma_host}:{settings.chroma_port}).",
            f"Unset CHROMA_HOST to use them, {reset} on that server.")
    if vectors_on and vectors_on.startswith("server") and not settings.uses_chroma_server:
        raise IndexMismatchError(
            f"The index in {folder} keeps its vectors on the Chroma server at {vectors_on.split()[-1]}, but "
            "CHROMA_HOST is not set.",
            f"Set CHROMA_HOST and CHROMA_PORT to that server, {reset} in {settings.chroma_dir}.")
    if collection and collection != settings.collection:
        raise IndexMismatchError(
            f"The index in {folder} keeps its vectors in the collection {collection!r}, not "
            f"{settings.collection!r} (ASSISTANT_COLLECTION).",
            f"Set ASSISTANT_COLLECTION={collection} (or unset it, if that is the default), {reset} in "
            f"{settings.collection!r}.")


_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS items (
    source_id TEXT PRIMARY KEY,
    fingerprint TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('pending', 'done')),
    chunk_ids TEXT NOT NULL,
    council TEXT NOT NULL DEFAULT '',
    committee TEXT NOT NULL DEFAULT '',
    meeting_date TEXT NOT NULL DEFAULT '',
    item_title TEXT NOT NULL DEFAULT '',
    origin TEXT NOT NULL DEFAULT '',
    tokens INTEGER NOT NULL DEFAULT 0,
    updated_at REAL NOT NULL
);
"""


@dataclass(frozen=True)
class ManifestRow:
    source_id: str
    fingerprint: str
    status: str
    chunk_ids: tuple[str, ...]
    council: str = ""
    committee: str = ""
    meeting_date: str = ""
    item_title: str = ""
    origin: str = ""
    tokens: int = 0


def open_database(path: Path, schema: str) -> sqlite3.Connection:
    """An SQLite file in the data folder: autocommit, WAL, fully synced writes, schema applied. A NotWritableError
    names the folder when this user may not write to it (SQLite writes its WAL files beside the database)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    db = None
    try:
        db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=FULL")
        # SQLite leaves what it deletes in the file until the space is reused: an item removed because it became
        # restricted would stay readable in a copy of the data folder. Zeroing it costs little.
        db.execute("PRAGMA secure_delete=ON")
        db.executescript(schema)
    except sqlite3.OperationalError as exc:
        if db is not None:
            db.close()
        if may_write(path.parent) and may_write(path):
            raise
        if may_write(path.parent):  # the file alone is in the way (another user's, made for its owner alone)
            raise NotWritableError(f"Cannot write {path} ({exc}): this user may not write {path}.",
                                   "Run this as a user who may write that file (its owner, say), or make it "
                                   "writable for this one.") from None
        raise NotWritableError(
            f"Cannot write {path} ({exc}): this user may not write to {path.parent}.",
            "Run this as a user who may write that folder (its owner, say), or make the folder writable for this "
            "one: SQLite writes beside the file as well as to it.") from None
    return db


class Manifest:
    def __init__(self, path: Path, *, read_only: bool | None = None) -> None:
        """Open the manifest to read and write it, or only to read it: when `read_only` says so or, by default,
        when this user may not write the file or its folder. Writes to one opened to read only are refused."""
        self.path = path
        if read_only is None:
            read_only = path.is_file() and not (may_write(path.parent) and may_write(path))
        self.read_only = read_only
        self._immutable = False  # read without SQLite's WAL index, which this user could not make: see _reader
        self._file_when_opened: tuple = ()
        if read_only:
            self._file_when_opened = _file_state(path)
            self._db, self._immutable = _connect_to_read(path)
        else:
            if _emptied_in_an_index(path):
                # Opened, it would be given a new schema: stats would then report an empty index rather than damage,
                # and the vector store, claimed by the index it no longer names, would be taken for another index's.
                raise manifest_damaged(path, path.parent)
            self._db = open_database(path, _SCHEMA)

    def close(self) -> None:
        self._db.close()

    def get_meta(self, key: str) -> str | None:
        row = self._reader().execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return row[0] if row else None

    def set_meta(self, key: str, value: str) -> None:
        self._check_writable()
        self._db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (key, value))

    def withheld(self) -> dict[str, dict[str, list]]:
        """The identities `assistant withhold` gave, in the order given, each with its items' text signatures and
        meetings."""
        import json

        withheld = json.loads(self.get_meta(WITHHELD) or "{}")
        # Versions of this stop's first commits kept a list of identities, then a list of signatures for each.
        if isinstance(withheld, list):
            return {identity: {} for identity in withheld}
        return {identity: known if isinstance(known, dict) else {} for identity, known in withheld.items()}

    def set_withheld(self, withheld: dict[str, dict[str, list]]) -> None:
        import json

        self.set_meta(WITHHELD, json.dumps(withheld))

    def rows(self) -> dict[str, ManifestRow]:
        return {row.source_id: row for row in self._iter("SELECT * FROM items")}

    def has_finished_items(self) -> bool:
        """Whether any item's ingest finished: a query of one row, not a read of them all."""
        return self._reader().execute("SELECT 1 FROM items WHERE status = 'done' LIMIT 1").fetchone() is not None

    def finished_ids(self) -> set[str]:
        """The source ids of every item whose ingest finished: what the index holds (a pending row is not held)."""
        return {row[0] for row in self._reader().execute("SELECT source_id FROM items WHERE status = 'done'")}

    def last_changed(self) -> float | None:
        """When an item's ingest last finished (a Unix time), None for an index with none."""
        return self._reader().execute("SELECT MAX(updated_at) FROM items WHERE status = 'done'").fetchone()[0]

    def indexed_chunk_ids(self) -> set[str]:
        """The chunk ids of every item whose ingest finished: what the keyword index must hold."""
        return {cid for row in self.rows().values() if row.status == "done" for cid in row.chunk_ids}

    def indexed_versions(self) -> dict[str, str]:
        """indexed_chunk_ids, each with its item's fingerprint as its version: an item's fingerprint changes with its
        metadata (a corrected meeting date or council), which its chunk ids do not cover."""
        return {cid: row.fingerprint for row in self.rows().values() if row.status == "done" for cid in row.chunk_ids}

    def get(self, source_id: str) -> ManifestRow | None:
        found = list(self._iter("SELECT * FROM items WHERE source_id = ?", (source_id,)))
        return found[0] if found else None

    def write(self, rows: Iterable[ManifestRow]) -> None:
        """Insert or replace rows, all in one transaction."""
        self._check_writable()
        now = time.time()
        with self._transaction():
            self._db.executemany(
                "INSERT OR REPLACE INTO items VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [(r.source_id, r.fingerprint, r.status, json.dumps(list(r.chunk_ids)), r.council, r.committee,
                  r.meeting_date, r.item_title, r.origin, r.tokens, now) for r in rows],
            )

    def remove(self, source_ids: Iterable[str]) -> None:
        self._check_writable()
        with self._transaction():
            self._db.executemany("DELETE FROM items WHERE source_id = ?", [(s,) for s in source_ids])

    def delete_meta(self, key: str) -> None:
        self._check_writable()
        self._db.execute("DELETE FROM meta WHERE key = ?", (key,))

    def clear(self, *, keeping: Iterable[str] = ()) -> None:
        """Remove every item and every record, but the records `keeping` names."""
        self._check_writable()
        keeping = list(keeping)
        with self._transaction():
            self._db.execute("DELETE FROM items")
            self._db.execute(f"DELETE FROM meta WHERE key NOT IN ({', '.join('?' * len(keeping))})", keeping)

    def fold_in_changes(self) -> bool:
        """Copy the changes kept in the WAL file into the manifest and empty that file, which holds the earlier
        versions of the pages changed since it was last emptied (a removed item's row among them). False when a
        reader still in the middle of a read kept it from being emptied (after the connection's busy timeout)."""
        self._check_writable()
        busy, _, _ = self._db.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
        return busy == 0

    def chunk_count(self) -> int:
        return sum(len(r.chunk_ids) for r in self.rows().values() if r.status == "done")

    def _transaction(self):
        db = self._db

        class _Tx:
            def __enter__(self):
                db.execute("BEGIN IMMEDIATE")

            def __exit__(self, exc_type, *_):
                db.execute("ROLLBACK" if exc_type else "COMMIT")

        return _Tx()

    def _check_writable(self) -> None:
        if self.read_only:
            raise NotWritableError(
                f"The manifest {self.path} is open for reading only: this user may not write to {self.path.parent}.",
                "Run `assistant ingest` or `assistant fetch` as a user who may write the index folder (its owner, "
                "say), or make the folder writable for this one.")

    def _reader(self) -> sqlite3.Connection:
        """The connection to read through. One opened without the WAL index takes the file never to change, so
        once a writer has opened the manifest (its WAL file is there) or written to the file, it is opened again."""
        if self._immutable and (_wal_file(self.path).exists() or _file_state(self.path) != self._file_when_opened):
            self._db.close()
            self._file_when_opened = _file_state(self.path)
            self._db, self._immutable = _connect_to_read(self.path)
        return self._db

    def _iter(self, sql: str, args: tuple = ()) -> Iterator[ManifestRow]:
        for r in self._reader().execute(sql, args):
            yield ManifestRow(r[0], r[1], r[2], tuple(json.loads(r[3])), r[4], r[5], r[6], r[7], r[8], r[9])


def _emptied_in_an_index(path: Path) -> bool:
    """An empty manifest file beside the other parts of an index: its vector store or its keyword index. (Without
    them, it is a first ingest stopped just as SQLite made the file, by a kill or a full disk, and is made anew.)"""
    from assistant.settings import CHROMA_FOLDER, LEXICAL_FOLDER

    try:
        return path.stat().st_size == 0 and any((path.parent / part).exists() for part in (CHROMA_FOLDER,
                                                                                            LEXICAL_FOLDER))
    except OSError:
        return False


def _wal_file(path: Path) -> Path:
    return path.with_name(path.name + "-wal")


def _file_state(path: Path) -> tuple:
    try:
        found = path.stat()
    except OSError:
        return ()
    return found.st_ino, found.st_size, found.st_mtime_ns


def _connect_to_read(path: Path) -> tuple[sqlite3.Connection, bool]:
    """A connection that only reads the manifest, and whether it reads the file alone (SQLite's immutable mode).

    A reader of a WAL database needs its WAL index (`-shm`), which the first connection makes beside it and the last
    one removes. Where this user may not make it, and no other process has made it, no process has the manifest
    open, so the file alone holds all of it: it is read as immutable. (`_reader` looks for a writer since.)
    """
    if not path.is_file():
        raise no_index_yet(path.parent)
    uri = path.resolve().as_uri()
    db = sqlite3.connect(f"{uri}?mode=ro", uri=True, isolation_level=None, check_same_thread=False)
    try:
        db.execute("SELECT count(*) FROM sqlite_master").fetchone()
        return db, False
    except sqlite3.OperationalError:
        db.close()
    wal = _wal_file(path)
    if wal.exists() and wal.stat().st_size > 0:
        raise NotWritableError(
            f"The manifest {path} has changes in {wal.name} that this user cannot read, since it may not write to "
            f"{path.parent}: an ingest or fetch is writing the index, or was stopped.",
            "Wait for it to finish, or run `assistant stats` once as the index's owner (which folds those changes "
            "into the manifest), then try again.")
    return sqlite3.connect(f"{uri}?immutable=1", uri=True, isolation_level=None, check_same_thread=False), True
