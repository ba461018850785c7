"""Files the user gives or gets: read as UTF-8 with a message when they are not, written whole or not at all."""

from __future__ import annotations

import errno
import fcntl
import os
import secrets
import threading
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from assistant.errors import AssistantError
from assistant.text import one_printed_line, printed_path

# The file `assistant eval` leaves in its --out folder, by which `assistant ingest` knows that folder, wherever it is,
# for an evaluation's results and leaves it out: its report lists the questions' expected answers, which read as minutes
# could be cited back as if the council had said them.
EVAL_RESULTS_MARKER = ".assistant-eval-results"


def writable_by_this_user_alone() -> None:
    """Narrow the process's umask so that nothing it makes may be written by another account: files 0644 and folders
    0755 at most, as SQLite makes the manifest and Chroma's database whatever the umask, and narrower where the umask
    says so. Other accounts may read as the umask lets them (an app run under another account reads the index), but
    under `umask 000` the keyword index, Chroma's files (its index metadata is a pickle that Chroma loads) and the data
    folder itself had been anyone's to change, or to empty."""
    os.umask(os.umask(0o022) | 0o022)


def file_identity(path: Path) -> tuple[int, int] | None:
    """What tells one file from another however it is named (device and inode), None when there is none or it cannot
    be read: a file renamed is the same file, and one deleted and made again, or put back from a backup, is another."""
    try:
        found = path.stat()
    except OSError:
        return None
    return found.st_dev, found.st_ino


def is_sqlite_database(path: Path) -> bool:
    """Whether the file starts as an SQLite database does (False when it is missing, a folder or unreadable)."""
    try:
        with path.open("rb") as handle:
            return handle.read(16) == b"SQLite format 3\x00"
    except OSError:
        return False


def sqlite_file_damaged(path: Path) -> bool:
    """Whether a file that is there is no whole SQLite database, by its header alone: not one at all, or cut short
    (holding fewer pages than its header counts, where the header's count is valid). False when it cannot be read,
    or when a journal or write-ahead file beside it may still complete it (a writer killed mid-transaction)."""
    if any(path.with_name(path.name + ending).exists() for ending in ("-journal", "-wal")):
        return False
    try:
        with path.open("rb") as handle:
            header = handle.read(100)
        size = path.stat().st_size
    except OSError:
        return False
    if len(header) < 100 or header[:16] != b"SQLite format 3\x00":
        return True
    page_size = int.from_bytes(header[16:18], "big")
    page_size = 65536 if page_size == 1 else page_size
    pages, counter, valid_for = (int.from_bytes(header[at:at + 4], "big") for at in (28, 24, 92))
    return counter == valid_for and pages * page_size > size


def free_bytes(path: Path) -> int | None:
    """The free space on the disk holding `path` (or the nearest folder above it that exists); None if unknown."""
    import shutil

    folder = next((p for p in (path, *path.parents) if p.exists()), None)
    try:
        return shutil.disk_usage(folder).free if folder is not None else None
    except OSError:
        return None


def folder_bytes(folder: Path) -> int:
    """The size of every file under `folder` (0 when there is none)."""
    total = 0
    for inner, _, names in os.walk(folder):
        for name in names:
            try:
                total += os.lstat(os.path.join(inner, name)).st_size
            except OSError:
                continue
    return total


def read_utf8(path: Path, what: str) -> str:
    """A text file the user gave, with a message that says what to do when it is not UTF-8. A byte order mark at
    the start, which Notepad and Excel write, is dropped: it is not part of the text."""
    try:
        return path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise AssistantError(f"{path} is not UTF-8 text (byte {exc.start} cannot be read).",
                             f"Save {what} as UTF-8 (most editors offer it under 'Save as' or 'Encoding').") from None


def refuse_link(path: Path, flag: str) -> None:
    """Refuse an output file that is a symbolic link: a command writes a file of its own, and a link (left in a shared
    folder by another account, say) would have it write, or replace, whatever file the link names."""
    if path.is_symlink():
        # Named on one line, with no character that would drive the terminal: a link's name and target are anyone's.
        raise AssistantError(f"{printed_path(path)} is a symbolic link (to "
                             f"{one_printed_line(os.readlink(path))}): {flag} is written as a file of "
                             "its own, never through a link, which could name any file of yours.",
                             f"Give {flag} the path of the file itself, or remove the link first.")


def write_atomically(path: Path, data: str | bytes, *, mode: int = 0o666, replace: bool = True,
                     through_links: bool = True) -> Path:
    """Write `data` (text as UTF-8) to `path` through a staging file beside it, synced and renamed into place.

    A rename within one folder replaces the target in one step, so a process killed mid-write, or two
    writing at once, leave a whole file behind (a killed writer may leave its hidden staging file too). The
    staging name is unique to the writer. `mode` is narrowed by the umask, as for any new file; 0o600 keeps a
    secret readable by its owner only. A symlink is written through; a device or pipe (`/dev/stdout`) is
    written to directly, as there is no file to replace. With `replace=False` an existing file is never written
    over (FileExistsError), not even one that appeared while the data was being made. Without `through_links`, a
    path that is a symbolic link as the data is written is refused (`refuse_link`), as it is when a command starts:
    one may have been put there meanwhile.
    """
    if not through_links:
        refuse_link(path, "the output")
    payload = data.encode("utf-8") if isinstance(data, str) else data
    try:
        if path.is_dir():  # else the rename fails naming the staging file, which the user never asked for
            raise IsADirectoryError(errno.EISDIR, os.strerror(errno.EISDIR), str(path))
        if path.exists() and not path.is_file():
            with path.open("wb") as handle:
                handle.write(payload)
            return path
        path.parent.mkdir(parents=True, exist_ok=True)
        staging, descriptor = _open_staging(path, mode)
        try:
            with os.fdopen(descriptor, "wb") as handle:
                handle.write(payload)
                handle.flush()
                os.fsync(handle.fileno())  # the contents reach the disk before the name points at them
            target = Path(os.path.realpath(path))
            if replace:
                os.replace(staging, target)
            else:
                _move_to_new_name(staging, target, path)
        except BaseException:
            staging.unlink(missing_ok=True)
            raise
    except OSError as exc:
        raise _naming(exc, path) from None
    return path


def check_writable(path: Path, what: str, *, keep_folders: bool = True) -> None:
    """Fail now, with a message, if `write_atomically(path, ...)` would fail for want of a place to write: so that
    a command that works for minutes before writing (a briefing of 200 questions) finds out before it starts.

    It makes the file's folder and a staging file there, as the write will, and removes the staging file; a
    device such as /dev/stdout is opened for appending, which writes nothing. With `keep_folders=False` the
    folders it made are removed again (the write makes them), so that a command that fails before writing (an
    index that is missing) leaves no empty folder behind."""
    existing = _nearest_existing(path.parent)
    try:
        if path.is_dir():
            raise IsADirectoryError(errno.EISDIR, os.strerror(errno.EISDIR), str(path))
        if path.exists() and not path.is_file():
            with path.open("ab"):
                return
        path.parent.mkdir(parents=True, exist_ok=True)
        staging, descriptor = _open_staging(path, 0o600)
        os.close(descriptor)
        staging.unlink()
    except OSError as exc:
        named = _naming(exc, path)
        blocking = _file_in_the_way(path.parent)
        if isinstance(named, (FileExistsError, NotADirectoryError)) and blocking is not None:
            # mkdir names the folder it could not make, not the file
            reason = f"{printed_path(blocking)} is a file, not a folder"
        else:
            reason = str(named.strerror or named)
        raise AssistantError(f"Cannot write {what} to {printed_path(path)}: {reason}.",
                             "Give a file in a folder you may write to (a missing folder is made), or change the "
                             "folder's permissions.") from None
    finally:
        if not keep_folders:
            _remove_made_folders(path.parent, existing)


def _remove_made_folders(folder: Path, existing: Path) -> None:
    """Remove `folder` and its parents up to `existing`, the nearest that was there before: each only while empty,
    so that nothing another process put there meanwhile is lost."""
    while folder != existing and folder != folder.parent:
        try:
            folder.rmdir()
        except OSError:  # not empty, or never made: its parents are not ours to remove either
            return
        folder = folder.parent


def _move_to_new_name(staging: Path, target: Path, named: Path) -> None:
    """Give the staging file the target's name only if no file has it: a hard link fails, in one step, on a name
    that is taken, where a rename would replace the file. The staging name then goes."""
    try:
        os.link(staging, target, follow_symlinks=False)
    except FileExistsError:
        raise FileExistsError(errno.EEXIST, os.strerror(errno.EEXIST), str(named)) from None
    except OSError as exc:
        if exc.errno not in (errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EMLINK, errno.ENOSYS):
            raise
        # A file system without hard links (FAT, some network shares): looked at, then renamed, a moment apart.
        if os.path.lexists(target):
            raise FileExistsError(errno.EEXIST, os.strerror(errno.EEXIST), str(named)) from None
        os.replace(staging, target)
        return
    staging.unlink()


def _file_in_the_way(folder: Path) -> Path | None:
    """The nearest of `folder` and its parents that exists, when it is not a folder (so no folder can be made)."""
    found = _nearest_existing(folder)
    return None if found.is_dir() else found


def _nearest_existing(path: Path) -> Path:
    """`path`, or the nearest of its parents that exists (the root at the last)."""
    while not path.exists() and path != path.parent:
        path = path.parent
    return path


def _open_staging(path: Path, mode: int) -> tuple[Path, int]:
    """A new staging file beside `path`'s real target (a symlink is written through), unique to this writer."""
    target = Path(os.path.realpath(path))
    staging = target.with_name(f".{target.name}.{os.getpid()}-{secrets.token_hex(4)}.tmp")
    return staging, os.open(staging, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)


def _naming(exc: OSError, path: Path) -> OSError:
    """The error told about `path`, the file the user named, when it was about our staging file (whose name only
    puzzles) or about no file at all (a full disk while writing); an error about another path (a parent folder
    that is a file) keeps it."""
    filename = os.path.basename(str(exc.filename)) if exc.filename is not None else None
    ours = filename is None or (filename.startswith(".") and filename.endswith(".tmp"))
    if not ours or exc.errno is None:
        return exc
    return OSError(exc.errno, exc.strerror, str(path))  # OSError() picks the subclass (PermissionError...) itself


def may_write(path: Path) -> bool:
    """Whether this user may change `path`, or, while it is missing, create it in the nearest folder that exists.

    The kernel answers, so a read-only mount counts, and so do permissions, which root passes.
    """
    return os.access(_nearest_existing(path), os.W_OK)


def on_read_only_mount(path: Path) -> bool:
    """Whether the file system holding `path` (or the nearest folder of it that exists) is mounted read-only: then no
    user may write it, whatever the permissions, and messages must not send the user to change them."""
    try:
        return bool(os.statvfs(_nearest_existing(path)).f_flag & os.ST_RDONLY)
    except OSError:
        return False


_holders: dict[str, int] = {}  # lock file (real path): the thread of this process that holds it
_holds_guard = threading.Lock()


def held_here(path: Path) -> bool:
    """Whether a thread of this process holds the exclusive lock on `path` (`exclusive_lock`): a reader refreshing the
    keyword index holds the write lock too, and must not take itself for another writer."""
    with _holds_guard:
        return os.path.realpath(path) in _holders


@contextmanager
def exclusive_lock(path: Path, busy: AssistantError | None = None, *, mode: int = 0o666) -> Iterator[None]:
    """Hold an exclusive flock on `path` (created with `mode` if missing) for the block. If another process, or
    another thread of this one, holds it: raise `busy` at once, or wait for it when `busy` is None.

    A thread that holds it already may take it again (the block then only nests), so that a writer made of
    smaller writers, such as `fetch` ingesting meeting batches, holds it once for the whole. flock, unlike
    lockf, also keeps apart two threads of one process, and the kernel lets it go when its holder dies, however.
    """
    key = os.path.realpath(path)  # a symlink and its target share one lock
    with _holds_guard:
        nested = _holders.get(key) == threading.get_ident()
    if nested:  # the outer block lets it go
        yield
        return
    Path(key).parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(key, os.O_RDWR | os.O_CREAT, mode)
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX | (fcntl.LOCK_NB if busy is not None else 0))
    except BlockingIOError:
        os.close(descriptor)
        raise busy from None
    except BaseException:
        os.close(descriptor)
        raise
    with _holds_guard:
        _holders[key] = threading.get_ident()
    try:
        yield
    finally:
        with _holds_guard:
            del _holders[key]
        os.close(descriptor)  # which lets the lock go
