"""The index folder's write lock, as readers see it: whether an ingest or a fetch is writing to the index now."""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

from assistant.settings import Settings


def write_lock_path(settings: Settings) -> Path:
    """The file every writer of the index holds an exclusive flock on while it writes (`ingest.run.writing_index`)."""
    return settings.data_dir / "ingest.lock"


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
