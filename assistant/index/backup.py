"""A copy of the data folder that can be put back in its place: made while no ingest or fetch writes the index, each
SQLite database copied as one consistent snapshot (the app may go on recording answers meanwhile), checked, and put
in place whole, or not at all."""

from __future__ import annotations

import errno
import fcntl
import os
import shutil
import sqlite3
import stat
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from assistant.errors import AssistantError, no_index_yet
from assistant.files import is_sqlite_database
from assistant.index.manifest import Manifest
from assistant.index.purge import purge_owed
from assistant.index.write_lock import WRITE_LOCK_NAME, write_lock_path
from assistant.settings import Settings
from assistant.text import counted

# Files of the data folder that are no part of what it holds: the write lock, and SQLite's files beside a database
# (its write-ahead log and index, its rollback journal), whose contents each database's copy already takes in.
_NOT_COPIED_ENDINGS = ("-wal", "-shm", "-journal")
# The name an audit log kept outside the data folder (ASSISTANT_AUDIT_PATH) is given in the copy.
OUTSIDE_AUDIT_NAME = "audit-from-ASSISTANT_AUDIT_PATH.sqlite"


@dataclass(frozen=True)
class BackupSummary:
    destination: Path
    items: int
    chunks: int
    answers: int | None  # in the audit log copied; None when no audit log was copied
    notes: tuple[str, ...]
    seconds: float
    log_in_folder: bool = False  # the audit log is one of the data folder's files, so putting it back replaces it

    def report(self, settings: Settings) -> str:
        answers = "" if self.answers is None else f", {counted(self.answers, 'answer')} in the audit log"
        lines = [f"Backed up the index in {settings.data_dir} to {self.destination}: {counted(self.items, 'item')}, "
                 f"{counted(self.chunks, 'chunk')}{answers}; every database checked; {self.seconds:.1f} s.",
                 f"To put it back: stop the app and any scheduled ingest or fetch, move {settings.data_dir} aside and "
                 f"move {self.destination} in its place (or give --index, or ASSISTANT_DATA_DIR, that folder). That "
                 "undoes what was done since: an item withheld since is let in again (compare `assistant withhold "
                 "--list` before and after, and withhold it again)"
                 + (", and the audit log, which is kept in the folder (ASSISTANT_AUDIT_PATH keeps it apart), goes "
                    "back to the copy's: answers audited since leave it, and records erased since come back."
                    if self.log_in_folder else ".")]
        return "\n".join(lines + [f"  note: {note}" for note in self.notes])


def back_up(settings: Settings, destination: Path) -> BackupSummary:
    """Copy the data folder to `destination`, a folder that must not exist yet (or be empty). Refused for an index
    whose vectors are on a Chroma server (its data is not in the folder), and while an ingest or fetch writes it.
    Nothing is left at `destination`, nor beside it, unless the whole copy was made and checked."""
    started = time.perf_counter()
    data_dir = settings.data_dir.expanduser()
    if not settings.manifest_path.is_file():
        raise no_index_yet(settings.data_dir)
    if settings.uses_chroma_server:
        raise AssistantError(f"The vectors of the index in {settings.data_dir} are on the Chroma server at "
                             f"{settings.chroma_host}:{settings.chroma_port}, which a copy of the folder cannot hold.",
                             "Back up the server's own folder (the --path given to `chroma run`, with the server "
                             "stopped) together with this folder, copied while no ingest or fetch runs.")
    target = destination.expanduser().absolute()
    source = data_dir.resolve()
    if target.resolve().is_relative_to(source) or source.is_relative_to(target.resolve()):
        raise AssistantError(f"{destination} and the index folder {settings.data_dir} are one inside the other: a "
                             "copy cannot be made into itself.", "Give the backup a folder outside the index "
                             "folder, such as one on another disk.")
    abandoned = _remove_abandoned_copies(target)
    if target.exists() and not (target.is_dir() and not any(target.iterdir())):
        raise AssistantError(f"{destination} {'holds files' if target.is_dir() else 'is a file'}: a backup is written "
                             "to a new or empty folder, so that nothing is written over.",
                             "Give a new folder's name, such as one with today's date in it.")
    named_log = settings.audit_path.expanduser().absolute()
    outside_log = named_log.resolve()  # a link is copied as what it names
    in_folder = named_log.is_relative_to(data_dir.absolute()) or outside_log.is_relative_to(source)
    outside_log = outside_log if outside_log.is_file() and not in_folder else None
    with _no_writer(settings):
        # Made on the destination's own disk: inside it when it exists (an empty disk mounted there, say), else
        # beside it.
        given_empty = target.is_dir()
        staging = (target / f".partial-{os.getpid()}" if given_empty
                   else target.parent / f".{target.name}.partial-{os.getpid()}")
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            staging.mkdir()
            copied = _copy_folder(source, staging)
            if outside_log is not None:
                copied.append(staging / OUTSIDE_AUDIT_NAME)
                _copy_file(outside_log, staging / OUTSIDE_AUDIT_NAME)
            # Chroma writes to a store it opens: the copy's vectors are read first, then every database checked and
            # the whole synced as it will stay.
            items, chunks, text_to_purge, unfinished, keyword_index_usable = _what_the_copy_holds(
                settings.with_(data_dir=staging))
            for database in copied:
                _check(database)
            answers = _answers_in(staging / OUTSIDE_AUDIT_NAME if outside_log is not None
                                  else _inside(staging, data_dir.absolute(), named_log))
            _sync_tree(staging)
            if given_empty:
                for entry in staging.iterdir():
                    os.rename(entry, target / entry.name)
                staging.rmdir()
                _sync_folder(target)
            else:
                os.rename(staging, target)
                _sync_folder(target.parent)
        except BaseException as exc:
            shutil.rmtree(staging, ignore_errors=True)
            if "full" in str(exc).lower() and type(exc).__module__.startswith("chromadb"):
                exc = OSError(errno.ENOSPC, str(exc))  # Chroma's own words for a full disk, as it opened the copy
            if isinstance(exc, OSError) and exc.errno == errno.ENOSPC:
                raise AssistantError(f"The disk holding {destination} is full: no backup was made (the index was "
                                     "not changed).", "Free some space there, or back up to another disk.") from None
            if isinstance(exc, OSError) and exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
                raise AssistantError(f"Cannot write the backup to {destination} ({exc.strerror}): no backup was "
                                     "made.", "Give a folder this user may write, on a disk that is not read-only."
                                     ) from None
            raise
    notes = []
    if abandoned:
        copies = "1 unfinished copy" if abandoned == 1 else f"{abandoned} unfinished copies"
        notes.append(f"{copies} left by a backup to the same place that was stopped (killed, or the machine went "
                     f"down) {'was' if abandoned == 1 else 'were'} removed")
    if outside_log is not None:
        notes.append(f"the audit log {outside_log} (ASSISTANT_AUDIT_PATH) is kept outside the index folder: it was "
                     f"copied in as {OUTSIDE_AUDIT_NAME}, to be put back at that path")
    if text_to_purge:
        notes.append("the text of minutes removed from the index may still be readable in this copy, as the index's "
                     "purge is not yet done: run `assistant ingest` (or `assistant fetch`) into the index, which "
                     "finishes it, and back up again before the copy goes anywhere")
    if unfinished:
        # A copy taken after a killed or failed ingest cannot answer (its keyword index is out of step) until an
        # ingest finishes the items: a `backup; ingest` job had kept such copies, each saying every database checked.
        notes.append(f"{counted(unfinished, 'item')} an ingest or fetch left unfinished (killed, or stopped by a full "
                     "disk): if asking the index says its keyword index does not match, so will this copy; run "
                     "`assistant ingest` (or the fetch) on the index again and back up again")
    if not unfinished and not keyword_index_usable:
        # What `ask` refuses in the index, it refuses in the copy: kept as whole, it would be found out at a restore.
        notes.append("the index's keyword index (bm25/) does not hold what its manifest lists (a run stopped before "
                     "saving it, or the folder deleted or damaged), so this copy, like the index, refuses questions "
                     "until an ingest rebuilds it: run `assistant ingest` (or the fetch) on the index and back up "
                     "again")
    return BackupSummary(target, items, chunks, answers, tuple(notes), time.perf_counter() - started,
                         log_in_folder=in_folder and named_log.is_file())


def _remove_abandoned_copies(target: Path) -> int:
    """Remove the unfinished copies into `target` (its staging folders, inside it or beside it) of backups no longer
    running, killed before they could remove them: each holds the minutes' text, and one inside an empty folder kept
    every later backup into it refused as into a folder that holds files. Returns how many were removed."""
    found = [(target, ".partial-"), (target.parent, f".{target.name}.partial-")]
    removed = 0
    for folder, prefix in found:
        try:
            entries = list(folder.iterdir()) if folder.is_dir() else []
        except OSError:
            continue
        for entry in entries:
            pid = entry.name.removeprefix(prefix) if entry.name.startswith(prefix) else ""
            if (pid.isascii() and pid.isdigit() and entry.is_dir() and not entry.is_symlink()
                    and not _running(int(pid))):
                shutil.rmtree(entry, ignore_errors=True)
                removed += 1
    return removed


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except (ProcessLookupError, OverflowError):  # a number past any process id's range names none
        return False
    except OSError:
        return True  # another user's process: running
    return True


@contextmanager
def _no_writer(settings: Settings) -> Iterator[None]:
    """Hold the index's write lock shared for the block: an ingest or fetch (which takes it alone) can neither be
    at work nor start. In a folder this user may not write, with no lock file, nobody can be writing."""
    path = write_lock_path(settings)
    try:
        descriptor = os.open(path, os.O_RDONLY)
    except FileNotFoundError:
        try:
            descriptor = os.open(path, os.O_RDONLY | os.O_CREAT, 0o666)
            os.fchmod(descriptor, 0o666)  # whoever may write the index takes it (a backup run as root from cron)
        except OSError:
            yield
            return
    try:
        try:
            fcntl.flock(descriptor, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            raise AssistantError(f"An ingest or fetch is writing to {settings.data_dir} now, so no backup was made.",
                                 "Run the backup again when it has finished (a scheduled backup may simply be run "
                                 "again later).") from None
        yield
    finally:
        os.close(descriptor)


def _copy_folder(source: Path, staging: Path) -> list[Path]:
    """Copy every file of `source` into `staging`, each database as a snapshot; the copies that are databases."""
    databases = []
    for folder, subfolders, files in os.walk(source, followlinks=True):  # a part kept on another disk, by a link
        subfolders.sort()
        into = staging / Path(folder).relative_to(source)
        into.mkdir(exist_ok=True)
        shutil.copymode(folder, into)
        for name in sorted(files):
            if name == WRITE_LOCK_NAME or name.endswith(_NOT_COPIED_ENDINGS):
                continue
            copied = _copy_file(Path(folder) / name, into / name)
            if copied is not None:
                databases.append(copied)
    return databases


def _copy_file(path: Path, copy: Path) -> Path | None:
    """Copy one file, keeping its permissions; the copy's path when it is a database, else None. A database is
    copied by SQLite itself (VACUUM INTO) as one snapshot of its last committed state, the changes still in its WAL
    file included, whatever writes to it meanwhile, and without its free pages (which may hold removed text)."""
    path = path.resolve()  # a link is copied as the file it names: a link in a backup would be no copy
    if not is_sqlite_database(path):
        shutil.copy2(path, copy)
        _sync_file(copy)
        return None
    connection = _open_to_copy(path)
    try:
        connection.execute("VACUUM INTO ?", (str(copy),))
    except sqlite3.Error as exc:
        if "full" in str(exc).lower():
            raise OSError(errno.ENOSPC, str(exc)) from None
        raise _cannot_copy(path, exc) from None
    finally:
        connection.close()
    os.chmod(copy, stat.S_IMODE(path.stat().st_mode))
    _sync_file(copy)
    return copy


def _open_to_copy(path: Path) -> sqlite3.Connection:
    """A read-only connection. In a folder this user may not write, a database whose WAL index (-shm) is not there
    cannot be opened so, and is opened as a file nobody can change (as nobody can, there)."""
    from assistant.files import may_write

    uri = path.as_uri()
    try:
        connection = sqlite3.connect(f"{uri}?mode=ro", uri=True, timeout=30)
        connection.execute("SELECT 1 FROM sqlite_master LIMIT 1")
        return connection
    except sqlite3.Error as exc:
        if may_write(path.parent):
            raise _cannot_copy(path, exc) from None
    try:
        return sqlite3.connect(f"{uri}?immutable=1", uri=True)
    except sqlite3.Error as exc:
        raise _cannot_copy(path, exc) from None


def _cannot_copy(path: Path, exc: Exception) -> AssistantError:
    return AssistantError(f"The database {path} could not be copied ({exc}): no backup was made.",
                          "If it is damaged, `assistant stats` says so and what to do; if it was busy, run the "
                          "backup again.")


def _check(database: Path) -> None:
    connection = sqlite3.connect(f"{database.resolve().as_uri()}?mode=ro", uri=True)
    try:
        verdict = connection.execute("PRAGMA quick_check").fetchone()[0]
    finally:
        connection.close()
    if verdict != "ok":
        raise AssistantError(f"The copy of {database.name} did not pass SQLite's check ({verdict}): no backup was "
                             "made.", "Run `assistant stats` on the index to see whether it is damaged.")


def _what_the_copy_holds(copy: Settings) -> tuple[int, int, bool, int, bool]:
    """The copy's finished items and chunks, whether a purge is owed, how many items an ingest left unfinished and
    whether `ask` would read its keyword index, once its vectors are found to read: every chunk the manifest lists is
    in the copied store, and every vector is read (one cut short fails every exact search, so one read alone had
    passed a store half of whose file was gone)."""
    from assistant.index import lexical
    from assistant.index.vector_store import ChromaStore, forget_local_clients

    manifest = Manifest(copy.manifest_path, read_only=True)
    try:
        every_row = list(manifest.rows().values())
        rows = [row for row in every_row if row.status == "done"]
        chunks = {cid for row in rows for cid in row.chunk_ids}
        model, text_to_purge = manifest.get_meta("embedding_model") or "", purge_owed(manifest)
    finally:
        manifest.close()
    keyword_index_usable = not rows or lexical.usable(copy.lexical_dir, {cid: row.fingerprint for row in rows
                                                                         for cid in row.chunk_ids})
    if chunks:
        store = ChromaStore(copy, model)
        problem = store.unreadable(every_vector=True) or (
            None if store.all_ids() >= chunks else "chunks the manifest lists are missing")
        del store
        forget_local_clients()  # its files are let go before the copy is renamed
        if problem:
            raise AssistantError(f"The copy of the vector store cannot be read ({problem}): no backup was made.",
                                 "Run `assistant ingest` into the index first (it mends a damaged store), then back "
                                 "up again.")
    return len(rows), len(chunks), text_to_purge, len(every_row) - len(rows), keyword_index_usable


def _inside(copy: Path, source: Path, path: Path) -> Path | None:
    """Where a file of the source folder is in its copy (None for one outside it)."""
    return copy / path.relative_to(source) if path.is_relative_to(source) else None


def _answers_in(log: Path | None) -> int | None:
    if log is None or not log.is_file():
        return None
    connection = sqlite3.connect(f"{log.resolve().as_uri()}?mode=ro", uri=True)
    try:
        return connection.execute("SELECT COUNT(*) FROM answers").fetchone()[0]
    except sqlite3.Error:
        return None
    finally:
        connection.close()


def _sync_file(path: Path) -> None:
    with path.open("rb") as handle:
        os.fsync(handle.fileno())


def _sync_tree(folder: Path) -> None:
    """Make every folder's entries under `folder` durable (its files were synced as they were copied): a backup is
    only one once it is on the disk."""
    for inner, _, _ in os.walk(folder):
        _sync_folder(Path(inner))


def _sync_folder(folder: Path) -> None:
    descriptor = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
