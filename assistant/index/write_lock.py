"""The index folder's write lock: every writer of the index (an ingest, a fetch) holds it while it writes
(`writing_index`), and readers ask whether one is at work (`writer_at_work`)."""

from __future__ import annotations

import errno
import fcntl
import os
import time
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Iterator

from assistant.errors import AssistantError, NotWritableError
from assistant.files import exclusive_lock, may_write, on_read_only_mount
from assistant.settings import Settings


WRITE_LOCK_NAME = "ingest.lock"


def write_lock_path(settings: Settings) -> Path:
    """The file every writer of the index holds an exclusive flock on while it writes (`writing_index`)."""
    return settings.data_dir / WRITE_LOCK_NAME


def writer_at_work(settings: Settings) -> bool:
    """Whether an ingest or a fetch holds the index's write lock now. Asked only when the index looks out of step,
    to tell a writer at work from one that was stopped. A shared lock is tried and let go at once, so a writer
    starting in that instant waits a moment for it (see `writing_index`); a lock file this user may not open counts
    as not held."""
    try:
        descriptor = os.open(write_lock_path(settings), os.O_RDONLY)
    except OSError:
        return False
    try:
        fcntl.flock(descriptor, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    except OSError:
        return False
    finally:
        os.close(descriptor)  # which lets a lock taken here go
    return False


@contextmanager
def writing_index(settings: Settings) -> Iterator[None]:
    """Hold the data folder's write lock for the block, or fail at once, naming the folder, if another process
    holds it or this user may not write the index (a read-only mount, another user's folder). Every writer of an
    index holds it; readers (`ask`, the app answering) never take it.

    Two writers at once damage Chroma's local store beyond what a later ingest repairs, and each takes the
    other's unfinished items for an interrupted run's. A second writer fails rather than waits: a fetch can
    write for hours (a year of meetings at a request a second), a command waiting that long in silence looks
    hung, and scheduled fetches would pile up behind one another.
    """
    # The lock file is empty: whoever may write the folder may lock it.
    with ExitStack() as held:
        try:
            _take_write_lock(held, settings)
        except OSError as exc:
            if exc.errno not in (errno.EACCES, errno.EPERM, errno.EROFS):
                raise
            raise _not_writable(settings, f"{exc.filename}: {exc.strerror}") from None
        # The folder may be writable while a part of the index is not (another user's files in a shared folder).
        parts = [settings.manifest_path, settings.lexical_dir, settings.fetch_state_dir]
        if not settings.uses_chroma_server:
            parts += [settings.chroma_dir, settings.chroma_dir / "chroma.sqlite3"]
        blocked = [str(part) for part in parts if not may_write(part)]
        if blocked:
            raise _not_writable(settings, f"{', '.join(blocked)}: not writable")
        try:
            yield
        finally:  # whatever the writer did, or however it stopped
            if not settings.uses_chroma_server:
                from assistant.index.purge import scrub_unused_vector_slots

                scrub_unused_vector_slots(settings.chroma_dir)


# A reader asking whether a writer is at work (`writer_at_work`) holds the lock, shared, for an instant: a writer
# starting in that instant tries again a few times, rather than take the reader for another writer.
_LOCK_TRIES, _LOCK_RETRY_SECONDS = 5, 0.05


def _take_write_lock(held: ExitStack, settings: Settings) -> None:
    busy = AssistantError(f"Another ingest or fetch is writing to {settings.data_dir}, or a backup is copying it, so "
                          "this run changed nothing.", "Wait for it to finish and run this again.")
    for attempt in range(_LOCK_TRIES):
        try:
            held.enter_context(exclusive_lock(write_lock_path(settings), busy, mode=0o666))
            return
        except AssistantError as exc:
            if exc is not busy or attempt == _LOCK_TRIES - 1:
                raise
            time.sleep(_LOCK_RETRY_SECONDS)


def _not_writable(settings: Settings, why: str) -> NotWritableError:
    if on_read_only_mount(settings.data_dir):  # no user may write it: changing whose it is would not help
        return NotWritableError(
            f"The index in {settings.data_dir} is on a file system mounted read-only ({why}), so this run changed "
            "nothing.",
            "Remount it read-write, or copy the folder to a disk that may be written and ingest or fetch into the "
            "copy (`--index DIR`, or ASSISTANT_DATA_DIR).")
    return NotWritableError(
        f"This user may not write to the index in {settings.data_dir} ({why}), so this run changed nothing.",
        "Run `assistant ingest` and `assistant fetch` as a user who may write that folder (its owner, say), or make "
        "the folder writable for this one.")
