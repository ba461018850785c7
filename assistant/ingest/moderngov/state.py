"""Per-site state of `assistant fetch`, in the data folder: for each meeting fetched, its validators (ETag,
Last-Modified), a digest of its public content, whether its minutes were out, the items it put in the index and
the council and committee names they were stored with; and the base URL the site's item identities are built from.

A meeting is recorded only after its items are done in the manifest, so a run killed at any point leaves
nothing here that claims more than the index holds. No minute text is kept here, public or restricted.
"""

from __future__ import annotations

import json
import re
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

from assistant.index.manifest import open_database
from assistant.ingest.moderngov.directory import site_key
from assistant.ingest.moderngov.items import ITEM_PAGE
from assistant.settings import Settings

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meetings (
    meeting_id TEXT PRIMARY KEY,
    meeting_date TEXT NOT NULL,
    etag TEXT NOT NULL DEFAULT '',
    last_modified TEXT NOT NULL DEFAULT '',
    digest TEXT NOT NULL,
    minutes_published INTEGER NOT NULL,
    item_ids TEXT NOT NULL,
    restricted INTEGER NOT NULL DEFAULT 0,
    without_minutes INTEGER NOT NULL DEFAULT 0,
    fetched_at REAL NOT NULL,
    council TEXT,
    committee TEXT
);
CREATE TABLE IF NOT EXISTS site (
    name TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
"""
_IDENTITY_BASE = "identity_base_url"
# Added after the first release: a state file written before has the table without them (NULL once added).
_NAME_COLUMNS = ("council", "committee")
_COLUMNS = ("meeting_id", "meeting_date", "etag", "last_modified", "digest", "minutes_published", "item_ids",
            "restricted", "without_minutes", "fetched_at", *_NAME_COLUMNS)


@dataclass(frozen=True)
class MeetingState:
    meeting_id: str
    meeting_date: str  # ISO
    etag: str
    last_modified: str
    digest: str  # of the public content the meeting gave, for sites that send no validators
    minutes_published: bool
    item_ids: tuple[str, ...]  # source ids of the items it put in the index
    restricted: int = 0  # how many items it held back (counts only, for the summary of later runs)
    without_minutes: int = 0
    # The names its items were stored with; None in a state written before they were recorded.
    council: str | None = None
    committee: str | None = None

    def stored_under(self, council: str, committee: str) -> bool:
        """Whether its items in the index carry these names, so that a run under other names (a corrected
        `--council`, a renamed committee) reads the meeting again instead of skipping it or accepting a 304."""
        # A state from before the names were recorded cannot say: its meeting is read again once, without
        # conditional headers, and recorded with names from then on. Trusting it instead would leave a council
        # name corrected on the first run after the upgrade on every old meeting's items for good; reading once
        # costs a request per meeting and no embedding, since items whose names did not change are unchanged.
        return not self.item_ids or (self.council, self.committee) == (council, committee)


def state_path(settings: Settings, base_url: str) -> Path:
    """One SQLite file per site: '.assistant/moderngov/democracy.example.gov.uk.sqlite'."""
    name = re.sub(r"[^a-z0-9.-]+", "_", site_key(base_url).lower()).strip("_.") or "site"
    return settings.fetch_state_dir / f"{name}.sqlite"


class SiteState:
    def __init__(self, settings: Settings, base_url: str) -> None:
        self.path = state_path(settings, base_url)
        self._db = open_database(self.path, _SCHEMA)
        present = {row[1] for row in self._db.execute("PRAGMA table_info(meetings)")}
        for column in _NAME_COLUMNS:
            if column not in present:
                try:
                    self._db.execute(f"ALTER TABLE meetings ADD COLUMN {column} TEXT")
                except sqlite3.OperationalError as exc:  # another fetch of this site added it a moment ago
                    if "duplicate column" not in str(exc):
                        raise

    def close(self) -> None:
        self._db.close()

    def identity_base(self, base_url: str) -> str:
        """The base URL this site's item identities are built from: the one it was first fetched under, so that
        another spelling of the same site (http or https, www. or not, a path in another case) finds the same
        items instead of storing each one twice."""
        row = self._db.execute("SELECT value FROM site WHERE name = ?", (_IDENTITY_BASE,)).fetchone()
        if row:
            return row[0]
        # A state written before the base was recorded: its items already carry the base they were fetched under.
        recorded = (sid.rsplit(ITEM_PAGE, 1)[0] for state in self.meetings().values() for sid in state.item_ids
                    if ITEM_PAGE in sid)
        chosen = next(recorded, base_url)
        self._db.execute("INSERT OR IGNORE INTO site (name, value) VALUES (?, ?)", (_IDENTITY_BASE, chosen))
        return chosen

    def meetings(self) -> dict[str, MeetingState]:
        rows = self._db.execute("SELECT meeting_id, meeting_date, etag, last_modified, digest, minutes_published, "
                                "item_ids, restricted, without_minutes, council, committee FROM meetings")
        return {r[0]: MeetingState(r[0], r[1], r[2], r[3], r[4], bool(r[5]), tuple(json.loads(r[6])), r[7], r[8],
                                   r[9], r[10]) for r in rows}

    def record(self, states: Iterable[MeetingState]) -> None:
        """Write every state in one transaction."""
        now = time.time()
        rows = [(s.meeting_id, s.meeting_date, s.etag, s.last_modified, s.digest, int(s.minutes_published),
                 json.dumps(list(s.item_ids)), s.restricted, s.without_minutes, now, s.council, s.committee)
                for s in states]
        if not rows:
            return
        self._db.execute("BEGIN IMMEDIATE")
        try:
            self._db.executemany(f"INSERT OR REPLACE INTO meetings ({', '.join(_COLUMNS)}) "
                                 f"VALUES ({', '.join('?' for _ in _COLUMNS)})", rows)
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")
