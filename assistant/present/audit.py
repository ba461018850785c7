"""The audit log: every answer given, and every piece of feedback on one, appended to SQLite.

Rows are only ever inserted, so an answer shown to a member can be shown again later exactly
as it was.
"""

from __future__ import annotations

import csv
import io
import json
import os
import sqlite3
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from typing import TYPE_CHECKING

from assistant.errors import AssistantError, ConfigError, NotWritableError
from assistant.files import file_identity, is_sqlite_database
from assistant.index.manifest import open_database
from assistant.records import Answer
from assistant.text import as_words, printed_path

if TYPE_CHECKING:
    from assistant.answer.service import Assistant, ModelFailure

_SCHEMA = """
CREATE TABLE IF NOT EXISTS answers (
    answer_id TEXT PRIMARY KEY,
    asked_at REAL NOT NULL,
    channel TEXT NOT NULL,
    user TEXT NOT NULL DEFAULT '',
    question TEXT NOT NULL,
    filters TEXT NOT NULL,
    mode TEXT NOT NULL,
    prompt_version TEXT NOT NULL,
    retrieved TEXT NOT NULL,
    answer TEXT NOT NULL,
    citations TEXT NOT NULL,
    verdicts TEXT NOT NULL,
    refused INTEGER NOT NULL,
    refusal_reason TEXT,
    record TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS feedback (
    feedback_id INTEGER PRIMARY KEY AUTOINCREMENT,
    answer_id TEXT NOT NULL REFERENCES answers(answer_id),
    given_at REAL NOT NULL,
    user TEXT NOT NULL DEFAULT '',
    rating TEXT NOT NULL CHECK (rating IN ('helpful', 'not_helpful', 'source_wrong')),
    comment TEXT NOT NULL DEFAULT ''
);
"""
# Made by the first erasure, not before: a log never erased stays one that versions before erasing can open (they
# refuse a database with tables they do not know).
_ERASURES = """CREATE TABLE IF NOT EXISTS erasures (erased_at REAL NOT NULL, what TEXT NOT NULL,
    answers INTEGER NOT NULL, feedback INTEGER NOT NULL)"""


def _append_only(*tables: str) -> tuple[str, ...]:
    """Triggers that refuse every change and deletion of the tables' rows. `AuditLog.erase` alone lifts the
    deletion ones, for its own transaction, and says in `erasures` what it erased (never whose, or which words)."""
    return tuple(f"CREATE TRIGGER IF NOT EXISTS {table}_append_only_{letter} BEFORE {change} ON {table} "
                 "BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END"
                 for table in tables for letter, change in (("u", "UPDATE"), ("d", "DELETE")))


_APPEND_ONLY = _append_only("answers", "feedback")
_DELETE_GUARDS = ("answers_append_only_d", "feedback_append_only_d")

RATINGS = ("helpful", "not_helpful", "source_wrong")


@dataclass(frozen=True)
class AuditEntry:
    answer_id: str
    asked_at: float
    channel: str
    user: str
    question: str
    mode: str
    refused: bool
    record: dict  # the complete answer as `assistant ask --json` prints it, plus audit fields


_ENTRY_COLUMNS = "answer_id, asked_at, channel, user, question, mode, refused, record"


def _entry(row: tuple) -> AuditEntry:
    return AuditEntry(row[0], row[1], row[2], row[3], row[4], row[5], bool(row[6]), json.loads(row[7]))


class AuditLog:
    def __init__(self, path: Path, read_only: bool = False) -> None:
        """Open the log to append to it, or with `read_only` only to list, export and show it: that writes nothing,
        not even the schema, so it works on a full disk or a read-only mount."""
        import sqlite3

        self.path = path
        self.read_only = read_only
        refuse_a_folder(path)
        if read_only:
            self._db = _connect_to_read(path)
            return
        _refuse_another_database(path)
        try:
            _made_for_this_user_alone(path)
            self._db = open_database(path, _SCHEMA + "".join(f"{trigger};\n" for trigger in _APPEND_ONLY))
            # A log on a read-only disk (a read-only copy of the data folder) opens, and only its first record would
            # fail, after the member had the answer: a write, undone, finds it out now.
            self._try_a_write()
            # Once it is known to be a log: a file that is none (a text file named by mistake) had been warned of as a
            # log every account may read, with a chmod to run, before being refused as damaged.
            _warn_if_every_user_may_read(path)
            self._opened = file_identity(path)
        except NotWritableError as exc:
            raise NotWritableError(exc.message, f"{exc.hint} Or set ASSISTANT_AUDIT_PATH to a file this user may "
                                   "write, to keep the audit log there (for a read-only copy of the data folder "
                                   "whose vectors are on a Chroma server).") from None
        except sqlite3.OperationalError as exc:
            raise _write_problem(path, exc) from None
        except sqlite3.DatabaseError as exc:
            # The log alone is damaged: the index is sound, and `assistant ingest` would not mend the log.
            raise AssistantError(f"The audit log {path} is damaged and cannot be read ({exc}).",
                                 f"Move {path.name} out of {path.parent} (keep it, if its records matter): a new "
                                 "log is started at the next answer. The index itself is not affected.") from None

    def _try_a_write(self) -> None:
        self._db.execute("BEGIN IMMEDIATE")
        try:
            self._db.execute("CREATE TABLE write_check (x)")
        finally:
            self._db.execute("ROLLBACK")

    def check_writable(self) -> None:
        """Raise unless a record could be written now: another program holding the log locked (a SQLite tool with
        it open for writing) is found out before an answer is shown, not after. On a connection of its own, for an
        instant: a transaction on the log's connection, which the app's threads share, had taken in (and undone)
        other members' records. A full disk shows only when a record is committed."""
        try:
            probe = sqlite3.connect(self.path, isolation_level=None)  # waiting as the log's own connection does
        except sqlite3.Error as exc:
            raise _write_problem(self.path, exc) from None
        try:
            probe.execute("BEGIN IMMEDIATE")
            probe.execute("ROLLBACK")
        except sqlite3.Error as exc:
            raise _write_problem(self.path, exc) from None
        finally:
            probe.close()

    def moved(self) -> bool:
        """Whether its path now names another file, or none: a backup put back, or the log moved aside, while it
        was open, whose records would go on into the file moved away."""
        return file_identity(self.path) != self._opened

    def close(self) -> None:
        self._db.close()

    def record_answer(self, answer: Answer, retrieved_hashes: dict[str, str], prompt_version: str,
                      channel: str, user: str = "", details: dict | None = None, answer_id: str | None = None) -> str:
        """Append one answer. `retrieved_hashes` gives the content hash of every chunk it names (retrieved, cited or
        given to the model); `details` are further audit fields (the reader, the model and its endpoint, the
        evidence blocks, the raw reply, an error), kept in the record, whose shape older rows share. `answer_id` is
        one from `new_answer_id`, for an answer shown with its id before it is recorded."""
        answer_id = answer_id or new_answer_id()
        data = answer.to_json()
        retrieved = [{**r, "content_hash": retrieved_hashes.get(r["chunk_id"], "")} for r in data["retrieved"]]
        # The citations stay as they were given; the hash of each cited chunk (retrieved or not) goes beside them.
        cited = {c["chunk_id"]: retrieved_hashes.get(c["chunk_id"], "") for c in data["citations"]}
        record = {**data, "retrieved": retrieved, "cited_content_hashes": cited, **(details or {}),
                  "answer_id": answer_id, "prompt_version": prompt_version}
        try:
            self._db.execute(
                "INSERT INTO answers VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (answer_id, time.time(), channel, user, answer.question, json.dumps(data["filters"]), answer.mode,
                 prompt_version, json.dumps(retrieved), answer.answer, json.dumps(data["citations"]),
                 json.dumps(data["sentences"]), int(answer.refused), answer.refusal_reason,
                 json.dumps(record, ensure_ascii=False)),
            )
        except sqlite3.OperationalError as exc:
            raise _write_problem(self.path, exc) from None
        return answer_id

    def record_feedback(self, answer_id: str, rating: str, comment: str = "", user: str = "") -> None:
        if rating not in RATINGS:
            raise ValueError(f"rating must be one of {', '.join(RATINGS)}")
        if not self._db.execute("SELECT 1 FROM answers WHERE answer_id = ?", (answer_id,)).fetchone():
            raise KeyError(f"no answer {answer_id} in the audit log")
        self._db.execute("INSERT INTO feedback (answer_id, given_at, user, rating, comment) VALUES (?, ?, ?, ?, ?)",
                         (answer_id, time.time(), user, rating, comment.strip()))

    def as_shown(self, entry: AuditEntry) -> dict:
        """One answer's complete record, as `--show` prints it and the JSONL export holds it: the answer as given,
        when, through which channel, to whom, and the feedback on it."""
        feedback = [f for f in self.feedback() if f["answer_id"] == entry.answer_id]
        return {**entry.record, "asked_at": entry.asked_at, "asked_at_utc": _utc(entry.asked_at),
                "channel": entry.channel, "user": entry.user, "feedback": feedback}

    def entries(self, limit: int | None = None, user: str | None = None,
                mentioning: str | None = None) -> Iterator[AuditEntry]:
        """The answers in the order they were asked: the `limit` most recent, those `user` asked (exactly that name;
        "" for answers given to no signed-in member, as `ask` and `brief` give them), those that mention the words
        `mentioning`, or whose feedback does (`mentioning`)."""
        where, params = ("WHERE user = ?", (user,)) if user is not None else ("", ())
        sql = f"SELECT {_ENTRY_COLUMNS} FROM answers {where} ORDER BY asked_at"
        if mentioning is not None:
            answers, feedback = self.mentioning(mentioning)
            wanted = set(answers) | {answer_id for _, answer_id in feedback}
            rows = [row for row in self._db.execute(sql, params) if row[0] in wanted]
            yield from map(_entry, rows[-limit:] if limit else rows)
            return
        if limit:
            sql = f"SELECT * FROM ({sql} DESC LIMIT {int(limit)}) ORDER BY asked_at"
        for row in self._db.execute(sql, params):
            yield _entry(row)

    def mentioning(self, words: str) -> tuple[list[str], list[tuple[int, str]]]:
        """The ids of the answers whose record mentions `words` (`text.mentions`: in the question, the answer, its
        quotes, a model's reply, an error), and the ids of the feedback whose comment does, each with its answer's."""
        wanted = f" {as_words(words)} "
        if not wanted.strip():
            raise ValueError("give words of letters or figures")
        answers = [answer_id for answer_id, record in self._db.execute("SELECT answer_id, record FROM answers")
                   if any(wanted in f" {as_words(text)} " for text in _texts(json.loads(record)))]
        feedback = [(feedback_id, answer_id) for feedback_id, answer_id, comment in self._db.execute(
            "SELECT feedback_id, answer_id, comment FROM feedback") if wanted in f" {as_words(comment)} "]
        return answers, feedback

    def erasable(self, user: str | None = None, before: float | None = None,
                 mentioning: str | None = None) -> tuple[list[str], list[int]]:
        """The ids of the answers, and of the feedback, that `erase` would take: every answer `user` asked, with the
        feedback on them and every piece of feedback `user` gave; every answer asked before `before` (a time), with
        its feedback, and feedback given before it; or every answer that mentions the words `mentioning`, with its
        feedback, and each piece of feedback that mentions them (`mentioning`)."""
        if [user, before, mentioning].count(None) != 2:
            raise ValueError("give a user, a time or words")
        if mentioning is not None:
            return self._with_their_feedback(*self.mentioning(mentioning))
        column, value = ("user", user) if user is not None else ("asked_at", before)
        test = "= ?" if user is not None else "< ?"
        answers = [row[0] for row in self._db.execute(f"SELECT answer_id FROM answers WHERE {column} {test}",
                                                      (value,))]
        given = "user" if user is not None else "given_at"
        feedback = [row[0] for row in self._db.execute(
            f"SELECT feedback_id FROM feedback WHERE {given} {test} OR answer_id IN "
            f"(SELECT answer_id FROM answers WHERE {column} {test})", (value, value))]
        return answers, feedback

    def _with_their_feedback(self, answers: list[str], feedback: list[tuple[int, str]]) -> tuple[list[str], list[int]]:
        """The answers, and the feedback given (the pieces, and every piece on those answers)."""
        erased = set(answers)
        return answers, sorted({feedback_id for feedback_id, _ in feedback} | {
            feedback_id for feedback_id, answer_id in self._db.execute("SELECT feedback_id, answer_id FROM feedback")
            if answer_id in erased})

    def erase(self, what: str, user: str | None = None, before: float | None = None,
              mentioning: str | None = None) -> tuple[int, int, bool]:
        """Delete what `erasable` lists, in one transaction, and append to `erasures` when and how many, with
        `what` (which must name neither the member nor the words: 'one member's records, on request'). Deleted text
        is overwritten in the file (secure_delete); the write-ahead file is then emptied, which a reader holding it
        open (a running app) can delay. Returns the answers and feedback erased, and whether the write-ahead file
        was emptied."""
        if self.read_only:
            raise AssistantError("The audit log was opened to read only.", "Open it to write to erase records.")
        db = self._db
        # Words are looked for before the log is locked: reading every record takes seconds in a large log, and the
        # app, which waits 5 s for the lock, would refuse to answer meanwhile. What is asked meanwhile is not erased.
        mentioned = self.mentioning(mentioning) if mentioning is not None else None
        try:
            db.execute("BEGIN IMMEDIATE")
            try:
                answers, feedback = (self._with_their_feedback(*mentioned) if mentioned is not None
                                     else self.erasable(user, before))
                for trigger in _DELETE_GUARDS:
                    db.execute(f"DROP TRIGGER IF EXISTS {trigger}")
                db.executemany("DELETE FROM feedback WHERE feedback_id = ?", [(i,) for i in feedback])
                db.executemany("DELETE FROM answers WHERE answer_id = ?", [(i,) for i in answers])
                for trigger in _APPEND_ONLY:  # one by one: executescript would commit the transaction
                    db.execute(trigger)
                if answers or feedback:  # a retention run that found nothing old enough leaves no line
                    db.execute(_ERASURES)
                    for trigger in _append_only("erasures"):
                        db.execute(trigger)
                    db.execute("INSERT INTO erasures VALUES (?, ?, ?, ?)", (time.time(), what, len(answers),
                                                                           len(feedback)))
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                raise
        except sqlite3.OperationalError as exc:
            raise _write_problem(self.path, exc) from None
        busy = db.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()[0]
        return len(answers), len(feedback), not busy

    def names_written_otherwise(self, user: str) -> list[str]:
        """The members' names in the log that are this name in another case ('alice' for 'ALICE'): a member signs in
        whatever the case, but is recorded under their own name, and `--user` and `--erase-user` match it exactly."""
        wanted = user.casefold()
        names = {row[0] for table in ("answers", "feedback")
                 for row in self._db.execute(f"SELECT DISTINCT user FROM {table} WHERE user != ?", (user,))}
        return sorted(name for name in names if name.casefold() == wanted)

    def erasures(self) -> list[dict]:
        """What was erased, and when ([] for a log never erased)."""
        try:
            rows = self._db.execute("SELECT erased_at, what, answers, feedback FROM erasures ORDER BY erased_at")
        except sqlite3.OperationalError:
            return []
        return [dict(zip(("erased_at", "what", "answers", "feedback"), row)) for row in rows]

    def get(self, answer_id: str) -> AuditEntry | None:
        row = self._db.execute(f"SELECT {_ENTRY_COLUMNS} FROM answers WHERE answer_id = ?", (answer_id,)).fetchone()
        return _entry(row) if row else None

    def find(self, id_or_prefix: str) -> AuditEntry:
        """The answer with this id, or the one answer whose id starts with it; a prefix that several ids share is
        refused, naming a few, since showing any one of them would show an answer that was not asked for."""
        wanted = id_or_prefix.strip().lower()  # ids are lower-case hex of one length: a whole id is no other's prefix
        shown = 5
        rows = self._db.execute("SELECT answer_id FROM answers WHERE substr(answer_id, 1, ?) = ? "
                                "ORDER BY asked_at DESC LIMIT ?", (len(wanted), wanted, shown + 1)).fetchall()
        ids = [row[0] for row in rows]
        if not ids:
            raise AssistantError(f"No answer {id_or_prefix} in the audit log.", "List ids with `assistant audit`.")
        if len(ids) > 1:
            count = f"More than {shown}" if len(ids) > shown else str(len(ids))
            others = " and others" if len(ids) > shown else ""
            raise AssistantError(f"{count} answers have an id that starts with {wanted}: "
                                 f"{', '.join(ids[:shown])}{others}.",
                                 "Give more characters of the id (or all of it) to --show.")
        return self.get(ids[0])

    def feedback(self) -> list[dict]:
        rows = self._db.execute("SELECT feedback_id, answer_id, given_at, user, rating, comment FROM feedback "
                                "ORDER BY feedback_id")
        return [dict(zip(("feedback_id", "answer_id", "given_at", "user", "rating", "comment"), r)) for r in rows]

    def export(self, fmt: str, limit: int | None = None, user: str | None = None, mentioning: str | None = None) -> str:
        """Every answer (or those `entries` selects) with its feedback, as JSONL (complete
        records) or CSV (one row an answer, with any text a spreadsheet would run as a formula led by an
        apostrophe)."""
        feedback: dict[str, list[dict]] = {}
        for f in self.feedback():
            feedback.setdefault(f["answer_id"], []).append(f)
        if fmt == "jsonl":
            return "".join(json.dumps({**e.record, "asked_at": e.asked_at, "asked_at_utc": _utc(e.asked_at),
                                       "channel": e.channel, "user": e.user, "feedback": feedback.get(e.answer_id, [])},
                                      ensure_ascii=False) + "\n"
                           for e in self.entries(limit, user, mentioning))
        if fmt != "csv":
            raise ValueError("format must be csv or jsonl")
        out = io.StringIO()
        writer = csv.writer(out)
        # The times are UTC, and the column says so (the table lists them in local time, with its offset).
        writer.writerow(["answer_id", "asked_at_utc", "channel", "user", "question", "filters", "mode",
                         "prompt_version", "refused", "refusal_reason", "answer", "citations", "retrieved", "verdicts",
                         "feedback", "error", "model", "reader", "evidence", "raw_reply"])
        for e in self.entries(limit, user, mentioning):
            r = e.record
            writer.writerow(_spreadsheet_safe_row([
                e.answer_id, time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(e.asked_at)), e.channel, e.user,
                e.question, json.dumps(r["filters"]), e.mode, r["prompt_version"], e.refused,
                r["refusal_reason"] or "", r["answer"], json.dumps(r["citations"], ensure_ascii=False),
                json.dumps(r["retrieved"]), json.dumps(r["sentences"], ensure_ascii=False),
                json.dumps(feedback.get(e.answer_id, []), ensure_ascii=False), r.get("error", ""),
                json.dumps(r.get("model", {}), ensure_ascii=False), json.dumps(r.get("reader", {})),
                json.dumps(r.get("evidence", [])), r.get("raw_reply") or ""]))
        return out.getvalue()


def _texts(value: object) -> Iterator[str]:
    """Every string a record holds, however deep in its lists and objects."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for inner in value.values():
            yield from _texts(inner)
    elif isinstance(value, list):
        for inner in value:
            yield from _texts(inner)


def new_answer_id() -> str:
    return uuid.uuid4().hex


def _utc(timestamp: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(timestamp))


def _connect_to_read(path: Path) -> "sqlite3.Connection":
    """A connection that only reads the log. SQLite's WAL index (`-shm`) is made beside the file by the first
    reader; where it cannot be (a full disk, a read-only mount) and no writer has it open, the file alone holds the
    whole log, and is read as immutable."""
    import sqlite3

    if path.is_file() and not os.access(path, os.R_OK):
        raise _not_readable(path)
    uri = path.resolve().as_uri()
    for options in ("mode=ro", "mode=ro&immutable=1"):
        db = sqlite3.connect(f"{uri}?{options}", uri=True, isolation_level=None, check_same_thread=False)
        try:
            db.execute("SELECT count(*) FROM answers").fetchone()
            return db
        except sqlite3.OperationalError as exc:
            db.close()
            if "no such table" in str(exc):
                raise AssistantError(f"{path} holds no audit log.",
                                     "Check ASSISTANT_AUDIT_PATH (or --index): it names another database.") from None
            if options.endswith("immutable=1"):
                raise
        except sqlite3.DatabaseError as exc:
            db.close()
            raise AssistantError(f"The audit log {path} is damaged and cannot be read ({exc}).",
                                 f"Move {path.name} out of {path.parent} (keep it, if its records matter): a new "
                                 "log is started at the next answer. The index itself is not affected.") from None
    raise AssertionError("unreachable")


def _not_readable(path: Path) -> AssistantError:
    """A log this user may not read: another user's, made readable by its owner alone (SQLite says only that it is
    "unable to open database file", which had been taken for a busy one, to be waited for)."""
    import pwd

    uid = path.stat().st_uid
    try:
        owner = pwd.getpwuid(uid).pw_name
    except KeyError:  # an owner this machine has no name for (a container's user)
        owner = f"user {uid}"
    return AssistantError(f"The audit log {printed_path(path)} may not be read by this user: its owner is {owner} "
                          "(a log is made readable by its owner alone, since it holds members' questions under their "
                          "names).", f"Run this command as {owner} (`sudo -u {owner} ...`), or give those who may "
                          "read the log a group of their own to read it by (`chgrp` and `chmod 640`).")


def refuse_a_folder(path: Path) -> None:
    """A folder named as the log (ASSISTANT_AUDIT_PATH=/srv/audit, meant as a file in it) is said to be one: it had
    been warned of as a log every account may read, with `chmod 600` of the folder to run, then refused as a database
    that SQLite could not open, and `assistant audit` had said that no log was there yet."""
    if path.is_dir():
        raise ConfigError(f"The audit log {printed_path(path)} is a folder, not a file.",
                          f"Set ASSISTANT_AUDIT_PATH to a file, such as {printed_path(path / 'audit.sqlite')}, or unset "
                          "it to keep the audit log in the index folder.")


def _refuse_another_database(path: Path) -> None:
    """Refuse to make the log inside another SQLite database (ASSISTANT_AUDIT_PATH pointed at the manifest or at
    Chroma's file): its tables would be added there, beside the index's own."""
    if not is_sqlite_database(path):
        return  # not there yet, not readable, or not a database: opening it says what is wrong
    db = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro&immutable=1", uri=True)  # no -wal or -shm made
    try:
        tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'table' "
                                               "AND name NOT LIKE 'sqlite_%'")}  # SQLite's own, as AUTOINCREMENT's
    except sqlite3.DatabaseError:
        return
    finally:
        db.close()
    if others := sorted(tables - {"answers", "feedback", "erasures"}):
        raise AssistantError(f"{path} is another database, not an audit log (it holds the tables "
                             f"{', '.join(others[:5])}): the audit's tables would be added to it.",
                             "Point ASSISTANT_AUDIT_PATH at a file of its own, such as audit.sqlite in a folder "
                             "outside the index.")


def _made_for_this_user_alone(path: Path) -> None:
    """A new log is made readable by this user alone (SQLite gives its -wal and -shm files the same mode): it holds
    every member's questions under their names. An existing log keeps the mode its operator gave it."""
    import os

    if path.exists():
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    except FileExistsError:
        pass  # made meanwhile by another process
    except OSError:
        pass  # a folder this user may not write: open_database says so, with what to do


_WARNED_OPEN_TO_ALL: set[Path] = set()  # logs already warned of in this process: once is enough for a running app


def _warn_if_every_user_may_read(path: Path) -> None:
    """Warn, once a process, of a log (or its -wal and -shm files, which hold its latest records) that every account
    on the machine may read: versions of the assistant before a new log was made private made it so, and it holds
    members' questions under their names. The mode is left as it is, as the operator's to change: a group given read
    access on purpose (an auditors' group) is not warned of."""
    import logging
    import os
    import shlex
    import stat

    open_to_all = []
    for file in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        try:
            mode = stat.S_IMODE(os.stat(file).st_mode)
        except OSError:
            continue
        if mode & stat.S_IROTH:
            open_to_all.append((file, mode))
    if not open_to_all or path in _WARNED_OPEN_TO_ALL:
        return
    _WARNED_OPEN_TO_ALL.add(path)
    logging.getLogger(__name__).warning(
        "The audit log %s may be read by every account on this machine (%s), and it holds members' questions under "
        "their names: run `chmod 600 %s` (or `chmod 640` to let a group read it). A log this version makes is "
        "readable by its user alone; earlier versions made logs that every account could read.",
        path, ", ".join(f"{file.name} mode {format(mode, 'o')}" for file, mode in open_to_all),
        " ".join(shlex.quote(str(file)) for file, _ in open_to_all))


def _write_problem(path: Path, exc: Exception) -> AssistantError:
    """What to do when the audit log itself could not be written: named, with the advice that fits the cause."""
    text = str(exc).lower()
    if "readonly" in text or "read-only" in text:
        return NotWritableError(f"The audit log {path} could not be written ({exc}).",
                                "It, or the disk it is on, is read-only for this user. Set ASSISTANT_AUDIT_PATH to a "
                                "file this user may write, or make that file writable.")
    if "full" in text:
        return NotWritableError(f"The audit log {path} could not be written ({exc}).",
                                "The disk it is on is full: free some space, or set ASSISTANT_AUDIT_PATH to a file "
                                "on another disk. `assistant audit` can still list what it holds.")
    if "locked" in text or "busy" in text:
        return AssistantError(f"The audit log {path} is locked by another process ({exc}).",
                              "Another answer is being recorded, or a tool has the file open: try again.")
    return AssistantError(f"The audit log {path} could not be used ({exc}).",
                          "Check that the file and its folder are this user's to write and the disk is not full, or "
                          "set ASSISTANT_AUDIT_PATH to another file.")


# A cell that begins with one of these is read by Excel, LibreOffice and Sheets as a formula, and a question
# or a name may come from any user of the app: such a cell gets a leading apostrophe, so that the spreadsheet
# reads it as text (OWASP's advice against CSV injection).
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _spreadsheet_safe_row(cells: list) -> list:
    return [f"'{cell}" if isinstance(cell, str) and cell.startswith(_FORMULA_STARTS) else cell for cell in cells]


class AnswerRecorder:
    """Records the answers one Assistant gives in the audit log of its data folder, opened on first use."""

    def __init__(self, assistant: "Assistant") -> None:
        self.assistant = assistant
        self._log: AuditLog | None = None

    @property
    def log(self) -> "AuditLog":
        if self._log is None or self._log.moved():
            path = self.assistant.settings.audit_path
            if self._log is not None and not path.parent.is_dir():
                # Its folder deleted (the data folder, to empty the index) or moved aside, a backup not yet moved in:
                # made again for a new log, it held that alone, and a backup then moved into its place went inside it.
                raise AssistantError(f"The audit log {path} is no longer there: its folder was deleted or moved.",
                                     f"Put {path.parent} back, or make it again (`assistant ingest` makes the data "
                                     "folder): the log there is opened, or a new one started, at the next answer.")
            # Not closed: another member's answer may be being recorded in it. It is closed when no longer held.
            self._log = AuditLog(path)
        return self._log

    def new_id(self) -> str:
        """An id for an answer about to be shown and recorded once the page has it, from a log that is open (one
        that cannot be opened says so before the answer is shown)."""
        self.log  # noqa: B018 - opens it
        return new_answer_id()

    def check_writable(self) -> None:
        """Raise unless the log (opened now if need be) could take a record now (AuditLog.check_writable)."""
        self.log.check_writable()

    def record(self, answer: Answer, channel: str, user: str = "", answer_id: str | None = None,
               indexes: tuple = ()) -> str:
        """Append the answer, with the content hash of every chunk it retrieved, cited or gave a language model, and
        what it was made with (the reader; the model, its endpoint, its evidence blocks and raw reply); returns its
        id. `indexes` are the keyword indexes the answer may have been made from, as they were then."""
        from assistant.answer.prompts import prompt_version
        provenance = answer.provenance
        details = provenance.as_json() if provenance is not None else {}
        chunk_ids = ([item["chunk_id"] for item in answer.retrieved] + [c.chunk_id for c in answer.citations]
                     + [block["chunk_id"] for block in details.get("evidence", [])])
        hashes = self._hashes(list(dict.fromkeys(chunk_ids)), details.get("evidence", []), indexes)
        return self.log.record_answer(answer, hashes, prompt_version(), channel, user, details, answer_id)

    def _hashes(self, chunk_ids: list[str], evidence: list[dict], indexes: tuple) -> dict[str, str]:
        """Each chunk's content hash as the answer had it: an ingest while it was made replaces the chunks it changed,
        and the index read when the answer ends no longer holds them. A chunk's id is a hash of its item, place and
        text, so any index holding that id holds the same text: the evidence a model was given says it first, then
        the indexes the answer was made from, then the index as it now stands."""
        hashes = {block["chunk_id"]: block["content_hash"] for block in evidence if block.get("content_hash")}
        for lexical in indexes:
            hashes.update(lexical.content_hashes([chunk_id for chunk_id in chunk_ids if chunk_id not in hashes]))
        missing = [chunk_id for chunk_id in chunk_ids if not hashes.get(chunk_id)]
        if missing:
            hashes.update(self.assistant.chunk_hashes(missing))
        return hashes

    def record_failure(self, failure: "ModelFailure", channel: str, user: str = "") -> str:
        """Append a question whose language model failed before any sentence could be shown, with the error and
        whatever the model wrote first; returns its id."""
        return self.record(failure.answer, channel, user)

    def close(self) -> None:
        if self._log is not None:
            self._log.close()
