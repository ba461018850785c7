"""The manifest: which items are in the index, with which fingerprint and which chunk ids.

An item is written as `pending` (with the chunk ids it is about to get) before Chroma is touched,
and flipped to `done` after. A run killed in between leaves `pending` rows, which the next
ingest redoes, so Chroma and the manifest always end up in agreement.
"""

from __future__ import annotations

import json
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Iterator

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
    """An SQLite file in the data folder: autocommit, WAL, fully synced writes, schema applied."""
    path.parent.mkdir(parents=True, exist_ok=True)
    db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=FULL")
    db.executescript(schema)
    return db


class Manifest:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._db = open_database(path, _SCHEMA)

    def close(self) -> None:
        self._db.close()

    def get_meta(self, key: str) -> str | None:
        row = self._db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return row[0] if row else None

    def set_meta(self, key: str, value: str) -> None:
        self._db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (key, value))

    def rows(self) -> dict[str, ManifestRow]:
        return {row.source_id: row for row in self._iter("SELECT * FROM items")}

    def indexed_chunk_ids(self) -> set[str]:
        """The chunk ids of every item whose ingest finished: what the keyword index must hold."""
        return {cid for row in self.rows().values() if row.status == "done" for cid in row.chunk_ids}

    def get(self, source_id: str) -> ManifestRow | None:
        found = list(self._iter("SELECT * FROM items WHERE source_id = ?", (source_id,)))
        return found[0] if found else None

    def write(self, rows: Iterable[ManifestRow]) -> None:
        """Insert or replace rows, all in one transaction."""
        now = time.time()
        with self._transaction():
            self._db.executemany(
                "INSERT OR REPLACE INTO items VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [(r.source_id, r.fingerprint, r.status, json.dumps(list(r.chunk_ids)), r.council, r.committee,
                  r.meeting_date, r.item_title, r.origin, r.tokens, now) for r in rows],
            )

    def remove(self, source_ids: Iterable[str]) -> None:
        with self._transaction():
            self._db.executemany("DELETE FROM items WHERE source_id = ?", [(s,) for s in source_ids])

    def clear(self) -> None:
        with self._transaction():
            self._db.execute("DELETE FROM items")
            self._db.execute("DELETE FROM meta")

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

    def _iter(self, sql: str, args: tuple = ()) -> Iterator[ManifestRow]:
        for r in self._db.execute(sql, args):
            yield ManifestRow(r[0], r[1], r[2], tuple(json.loads(r[3])), r[4], r[5], r[6], r[7], r[8], r[9])
