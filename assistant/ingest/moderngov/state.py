"""Per-site state of `assistant fetch`, in the data folder: for each meeting fetched, its validators (ETag,
Last-Modified), a digest of its public content, whether its minutes were out, the items it put in the index, the
council and committee names they were stored with, its committee's id and the version of the reading rules its
items were made by; and the base URL the site's item
identities are built from.

A meeting is recorded only after its items are done in the manifest, so a run killed at any point leaves
nothing here that claims more than the index holds. No minute text is kept here, public or restricted.
"""

from __future__ import annotations

import json
import re
import sqlite3
import time
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Iterable, Iterator

from assistant.errors import AssistantError
from assistant.index.manifest import open_database
from assistant.ingest.moderngov.directory import site_key
from assistant.ingest.moderngov.items import ITEM_PAGE, READING_RULES
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
    committee TEXT,
    committee_id TEXT,
    read_by INTEGER
);
CREATE TABLE IF NOT EXISTS site (
    name TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
"""
_IDENTITY_BASE = "identity_base_url"
# Added after the first release, with their types: a state file written before has the table without them (NULL
# once added).
_ADDED_COLUMNS = {"council": "TEXT", "committee": "TEXT", "committee_id": "TEXT", "read_by": "INTEGER"}
_COLUMNS = ("meeting_id", "meeting_date", "etag", "last_modified", "digest", "minutes_published", "item_ids",
            "restricted", "without_minutes", "fetched_at", *_ADDED_COLUMNS)


class FetchStateError(AssistantError):
    """The per-site fetch state file cannot be read; deleting it is the whole fix."""

    def __init__(self, path: Path, detail: str) -> None:
        super().__init__(
            f"The fetch state file {path} is damaged ({detail}), so the fetch did not start.",
            f"Delete {path} (and any -wal and -shm file beside it) and run the same fetch again: it reads the "
            "site's meetings in the window again and embeds nothing that did not change. The index itself is "
            "unharmed: nothing needs rebuilding.")
        self.path = path


@dataclass(frozen=True)
class MeetingState:
    meeting_id: str
    meeting_date: str  # ISO, as its committee's listing gave it (its record, and so its items, may say otherwise)
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
    committee_id: str | None = None  # the committee that listed it; None in a state written before it was recorded
    # When it was last asked for (seconds since the epoch), as recorded; a state to record gets the time of recording.
    fetched_at: float = 0.0
    # The version of the reading rules its items were made by (items.READING_RULES); 0 in a state written before it
    # was recorded.
    read_by: int = 0

    def stored_under(self, council: str, committee: str) -> bool:
        """Whether its items in the index carry these names, so that a run under other names (a corrected
        `--council`, a renamed committee) reads the meeting again instead of skipping it or accepting a 304."""
        # A state from before the names were recorded cannot say: its meeting is read again once, without
        # conditional headers, and recorded with names from then on. Trusting it instead would leave a council
        # name corrected on the first run after the upgrade on every old meeting's items for good; reading once
        # costs a request per meeting and no embedding, since items whose names did not change are unchanged.
        return not self.item_ids or (self.council, self.committee) == (council, committee)

    def read_by_current_rules(self) -> bool:
        """Whether its items were made by this version's reading rules: if not, the meeting is read again once, in
        full (a 304 would leave them as older rules made them: garbled characters, say)."""
        return self.read_by >= READING_RULES


def _state_of(row: tuple) -> MeetingState:
    """One row as a MeetingState; TypeError or ValueError for a row no fetch wrote."""
    meeting_id, meeting_date, etag, last_modified, digest, published, item_ids, restricted, without, council, \
        committee, committee_id, fetched_at, read_by = row
    ids = json.loads(item_ids)
    if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
        raise ValueError(f"item_ids is not a list of ids: {item_ids[:80]!r}")
    for name, value in (("meeting_id", meeting_id), ("meeting_date", meeting_date), ("etag", etag),
                        ("last_modified", last_modified), ("digest", digest)):
        if not isinstance(value, str):
            raise TypeError(f"{name} is {value!r}, not text")
    date.fromisoformat(meeting_date)
    if not all(name is None or isinstance(name, str) for name in (council, committee, committee_id)):
        raise TypeError(f"council, committee or committee_id is {council!r}, {committee!r}, {committee_id!r}, "
                        "not text")
    for name, value in (("minutes_published", published), ("restricted", restricted),
                        ("without_minutes", without)):
        if not isinstance(value, int):
            raise TypeError(f"{name} is {value!r}, not a whole number")
    if not isinstance(fetched_at, (int, float)):
        raise TypeError(f"fetched_at is {fetched_at!r}, not a time")
    if not (read_by is None or isinstance(read_by, int)):
        raise TypeError(f"read_by is {read_by!r}, not a whole number")
    return MeetingState(meeting_id, meeting_date, etag, last_modified, digest, bool(published), tuple(ids),
                        restricted, without, council, committee, committee_id, float(fetched_at), read_by or 0)


def state_path(settings: Settings, base_url: str) -> Path:
    """One SQLite file per site: '.assistant/moderngov/democracy.example.gov.uk.sqlite'."""
    name = re.sub(r"[^a-z0-9.-]+", "_", site_key(base_url).lower()).strip("_.") or "site"
    return settings.fetch_state_dir / f"{name}.sqlite"


class SiteState:
    """Opened, and every row read, before the fetch asks the site anything: a damaged file stops the run with a
    FetchStateError naming it."""

    def __init__(self, settings: Settings, base_url: str) -> None:
        self.path = state_path(settings, base_url)
        with self._damage_named():
            self._db = open_database(self.path, _SCHEMA)
        try:
            with self._damage_named():
                present = {row[1] for row in self._db.execute("PRAGMA table_info(meetings)")}
                for column, kind in _ADDED_COLUMNS.items():
                    if column not in present:
                        try:
                            self._db.execute(f"ALTER TABLE meetings ADD COLUMN {column} {kind}")
                        except sqlite3.OperationalError as exc:  # another fetch of this site added it a moment ago
                            if "duplicate column" not in str(exc):
                                raise
                self._db.execute("SELECT name, value FROM site LIMIT 1").fetchall()
            self.meetings()
        except BaseException:
            self._db.close()
            raise

    @contextmanager
    def _damage_named(self) -> Iterator[None]:
        """A file that is not a database, or has tables of another shape, is damaged; a locked or read-only one
        is not, and its error goes on as it is."""
        try:
            yield
        except sqlite3.OperationalError as exc:
            if not re.search(r"no such (?:table|column)|malformed|not a database", str(exc)):
                raise
            raise FetchStateError(self.path, str(exc)) from None
        except sqlite3.DatabaseError as exc:
            raise FetchStateError(self.path, str(exc)) from None

    def close(self) -> None:
        self._db.close()

    def identity_base(self, base_url: str, indexed: Iterable[str] = ()) -> str:
        """The base URL this site's item identities are built from: the one it was first fetched under, so that
        another spelling of the same site (http or https, www. or not, a path in another case) finds the same
        items instead of storing each one twice. `indexed` are the index's item identities."""
        row = self._db.execute("SELECT value FROM site WHERE name = ?", (_IDENTITY_BASE,)).fetchone()
        if row:
            return row[0]
        # A state written before the base was recorded: its items already carry the base they were fetched under.
        recorded = (sid.rsplit(ITEM_PAGE, 1)[0] for state in self.meetings().values() for sid in state.item_ids
                    if ITEM_PAGE in sid)
        # A state file deleted (the fix for a damaged one): the index's items of this site carry theirs.
        key = site_key(base_url)
        held = sorted({base for sid in indexed if ITEM_PAGE in sid
                       and site_key(base := sid.rsplit(ITEM_PAGE, 1)[0]) == key})
        chosen = next(recorded, None) or next(iter(held), base_url)
        self._db.execute("INSERT OR IGNORE INTO site (name, value) VALUES (?, ?)", (_IDENTITY_BASE, chosen))
        return chosen

    def meetings(self) -> dict[str, MeetingState]:
        with self._damage_named():
            rows = self._db.execute("SELECT meeting_id, meeting_date, etag, last_modified, digest, minutes_published, "
                                    "item_ids, restricted, without_minutes, council, committee, committee_id, "
                                    "fetched_at, read_by FROM meetings").fetchall()
        states = {}
        for r in rows:
            try:
                states[r[0]] = _state_of(r)
            except (TypeError, ValueError) as exc:
                raise FetchStateError(self.path, f"the row of meeting {r[0]!r}: {exc}") from None
        return states

    def record(self, states: Iterable[MeetingState]) -> None:
        """Write every state in one transaction."""
        now = time.time()
        rows = [(s.meeting_id, s.meeting_date, s.etag, s.last_modified, s.digest, int(s.minutes_published),
                 json.dumps(list(s.item_ids)), s.restricted, s.without_minutes, now, s.council, s.committee,
                 s.committee_id, s.read_by)
                for s in states]
        self._write(f"INSERT OR REPLACE INTO meetings ({', '.join(_COLUMNS)}) "
                    f"VALUES ({', '.join('?' for _ in _COLUMNS)})", rows)

    def forget(self, meeting_ids: Iterable[str]) -> None:
        """Drop meetings the site no longer lists, once their items are out of the index, in one transaction."""
        self._write("DELETE FROM meetings WHERE meeting_id = ?", [(meeting_id,) for meeting_id in meeting_ids])

    def _write(self, statement: str, rows: list[tuple]) -> None:
        if not rows:
            return
        self._db.execute("BEGIN IMMEDIATE")
        try:
            self._db.executemany(statement, rows)
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")


@dataclass(frozen=True)
class FetchedSite:
    """What the state of one site fetched into an index says of it: enough to fetch its minutes again."""

    base_url: str  # the base its items' identities are built from
    council: str  # the name its latest meetings were stored with ('' when not recorded)
    committee_ids: tuple[str, ...]  # the committees whose meetings put items in the index
    first_meeting: str  # ISO date of its earliest meeting with items in the index ('' for none)

    def fetch_command(self, data_dir: Path) -> str:
        """The `assistant fetch` that brings back every item this state names: every committee and meeting date."""
        import shlex

        parts = ["assistant", "fetch", self.base_url]
        if self.council:
            parts += ["--council", self.council]
        for committee_id in self.committee_ids:
            parts += ["--committee", committee_id]
        if self.first_meeting:
            parts += ["--since", self.first_meeting]
        return " ".join(shlex.quote(part) for part in [*parts, "--index", str(data_dir)])


def fetched_sites(settings: Settings) -> list[FetchedSite]:
    """The sites fetched into this index, from their state files, read only (a file that cannot be read, or of a
    fetch that never reached a meeting, names none)."""
    sites = []
    for path in sorted(settings.fetch_state_dir.glob("*.sqlite")) if settings.fetch_state_dir.is_dir() else ():
        try:
            db = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
            try:
                base = db.execute("SELECT value FROM site WHERE name = ?", (_IDENTITY_BASE,)).fetchone()
                rows = db.execute("SELECT meeting_date, item_ids, council, committee_id FROM meetings "
                                  "ORDER BY meeting_date").fetchall()
            finally:
                db.close()
        except sqlite3.Error:
            continue
        if not base:
            continue
        with_items = [row for row in rows if row[1] not in ("", "[]")]
        councils = [row[2] for row in with_items if row[2]]
        committees = dict.fromkeys(row[3] for row in with_items if row[3])
        sites.append(FetchedSite(base[0], councils[-1] if councils else "", tuple(committees),
                                 with_items[0][0] if with_items else ""))
    return sites
