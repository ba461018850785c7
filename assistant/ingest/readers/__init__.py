"""Input readers: files and folders in, one MinuteItem per agenda item (or a problem) out.

    for result in read_inputs([Path("corpus")], max_item_chars=1_000_000):
        ...  # MinuteItem, or InputProblem saying what went wrong and what to do

A bad file never stops the others: every failure becomes an InputProblem. What the user should know of a file
read well (JSONL lines known by their numbers) goes to the caller's `notes`.

To read another format: write a module here whose function takes a FileSource and returns a ReadResult (see
docx.py; common.py has the shared parts: the size caps, the meeting date a first page states; the folder above's
structure.py splits a meeting into its items), add a lazy wrapper and its suffix to _READERS below
(SUPPORTED_SUFFIXES, the help and the hints follow), and take the suffix out of _CONVERTIBLE if it is there.
`tests/ingest/test_readers.py` pins the suffixes.
"""

from __future__ import annotations

import errno
import os
from collections import Counter
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Callable, Iterable, Iterator

from assistant.files import EVAL_RESULTS_MARKER
from assistant.ingest.readers.common import FileSource, Note, Problem, ReadResult
from assistant.records import InputProblem, MinuteItem
from assistant.text import readable

__all__ = ["SUPPORTED_SUFFIXES", "read_inputs"]


def _text(source: FileSource) -> ReadResult:
    from assistant.ingest.readers.text import read_text_file

    return read_text_file(source)


def _html(source: FileSource) -> ReadResult:
    from assistant.ingest.readers.html import read_html_file

    return read_html_file(source)


def _pdf(source: FileSource) -> ReadResult:
    from assistant.ingest.readers.pdf import read_pdf_file

    return read_pdf_file(source)


def _docx(source: FileSource) -> ReadResult:
    from assistant.ingest.readers.docx import read_docx_file

    return read_docx_file(source)


def _jsonl(source: FileSource) -> ReadResult:
    from assistant.ingest.readers.jsonl import read_jsonl_file

    return read_jsonl_file(source)


_READERS: dict[str, Callable[[FileSource], ReadResult]] = {
    ".md": _text,
    ".markdown": _text,
    ".txt": _text,
    ".html": _html,
    ".htm": _html,
    ".aspx": _html,
    ".pdf": _pdf,
    ".docx": _docx,
    ".jsonl": _jsonl,
}
SUPPORTED_SUFFIXES: tuple[str, ...] = tuple(_READERS)

# Formats that may well hold minutes but that we cannot read, with what to save them as.
_CONVERTIBLE = {".doc": ".docx", ".rtf": ".docx", ".odt": ".docx", ".mht": ".html", ".mhtml": ".html"}


# What a saved web page keeps beside it (page_files/): never minutes, and too many to name one by one.
_WEB_PAGE_PARTS = {".css", ".js", ".png", ".jpg", ".jpeg", ".gif", ".svg", ".ico", ".webp", ".woff", ".woff2", ".ttf"}
# Files that Windows and Office keep beside documents, passed over in a folder as hidden files are: Word's owner file
# ('~$nutes.docx', there while anyone has the document open on a share), Explorer's Thumbs.db and desktop.ini. Read
# as minutes, an owner file failed as a damaged document, and held back --prune while a colleague had a file open.
_OFFICE_OWNER_FILE_PREFIX = "~$"
_WINDOWS_FOLDER_FILES = frozenset({"thumbs.db", "desktop.ini"})


def read_inputs(
    paths: list[Path], max_item_chars: int, cwd: Path | None = None, *,
    index_folders: Iterable[Path] = (), notes: list[str] | None = None,
) -> Iterator[MinuteItem | InputProblem]:
    """Every agenda item in the given files and folders, folders walked in sorted order.

    `index_folders` are never read, nor anything in them: an index's data folder kept inside the minutes folder
    holds a JSONL file of its own, which would come back as minutes. Nor is a folder `assistant eval` wrote its
    results to (it holds EVAL_RESULTS_MARKER), whose report lists the expected answers. `notes` gathers what the user
    should be told besides the problems (such a folder left out, JSONL lines known only by their line numbers).
    """
    reading = _Reading((cwd or Path.cwd()).resolve(), max_item_chars, {_real(folder) for folder in index_folders})
    for given in map(Path, paths):
        try:
            for found in reading.path(given):
                if isinstance(found, Note):
                    if notes is not None:
                        notes.append(readable(found.text))
                else:
                    yield _readable_problem(found) if isinstance(found, InputProblem) else found
        except (OSError, RuntimeError) as exc:  # unreadable folder, symlink loop
            yield _readable_problem(InputProblem(
                origin=str(given),
                kind="failed",
                reason=f"could not be read: {getattr(exc, 'strerror', None) or exc}",
                hint="Check that the path exists and that you may read it.",
            ))


def _passed_over(name: str) -> bool:
    """Is a file of this name, found in a folder, passed over without a word (hidden, or Windows' or Office's own)?"""
    return name.startswith((".", _OFFICE_OWNER_FILE_PREFIX)) or name.lower() in _WINDOWS_FOLDER_FILES


def _real(path: Path) -> Path:
    """The path with every link followed, as far as it exists."""
    return Path(os.path.realpath(path))


def _shown(path: Path) -> str:
    """A path as messages and identities show it: a name that is not UTF-8 (a Latin-1 name from an old share or
    a Windows ZIP, which reaches Python as surrogate escapes) with U+FFFD for its odd bytes, which the index's
    files, SQLite and every hash can store."""
    return readable(str(path))


def _readable_problem(problem: InputProblem) -> InputProblem:
    shown = replace(problem, origin=readable(problem.origin), reason=readable(problem.reason),
                    hint=readable(problem.hint))
    return problem if shown == problem else shown


@dataclass
class _Walked:
    """What a folder holds: the files to read, sorted, and what to report of what could not be walked."""

    files: list[Path] = field(default_factory=list)
    problems: list[InputProblem] = field(default_factory=list)
    left_out: list[Path] = field(default_factory=list)  # index folders inside it
    eval_results: list[Path] = field(default_factory=list)  # folders `assistant eval` wrote its results to


@dataclass
class _Reading:
    """One read_inputs call: what it has read so far, so that nothing is read twice and no two files share a name."""

    cwd: Path
    max_item_chars: int
    index_folders: set[Path]
    seen: set[Path] = field(default_factory=set)  # files read, resolved
    # file identities given so far, as shown (readable), to (the identity as the name has it, the file's origin)
    identities: dict[str, tuple[str, str]] = field(default_factory=dict)

    def path(self, given: Path) -> Iterator[MinuteItem | InputProblem | Note]:
        path = given if given.is_absolute() else self.cwd / given
        if not path.exists():
            yield (_broken_link(path, _shown(given)) if path.is_symlink() else None) or InputProblem(
                origin=_shown(given),
                kind="failed",
                reason="no such file or folder",
                hint=f"Check the path; relative paths are read from {self.cwd}.",
            )
        elif index := next((folder for folder in self.index_folders if _real(path).is_relative_to(folder)), None):
            # Named on purpose, so a failure, not a note: minutes kept in the index folder would otherwise look
            # ingested to an officer who keeps everything of one council in one folder.
            yield InputProblem(
                _shown(given), "failed",
                f"is {'the' if _real(path) == index else 'inside the'} index folder {self._shown_index(index)}, "
                "whose files are the index's own: nothing in it is read as minutes",
                f"Move the minutes out of {self._shown_index(index)} into a folder of their own, and ingest them from "
                "there.")
        elif (results := _eval_results_holding(path)) is not None:
            yield _eval_results_left_out(given, inside=None if results == _real(path) else results)
        elif path.is_dir():
            yield from self._folder(given, path)
        elif self._first_time(path):
            yield from self._named(given, path)

    def _folder(self, given: Path, path: Path) -> Iterator[MinuteItem | InputProblem | Note]:
        walked = self._walk(path, given)
        yield from walked.problems
        for folder in walked.left_out:
            index = next((index for index in self.index_folders if _real(folder).is_relative_to(index)), _real(folder))
            # A link to the index folder is named with where it leads.
            yield _left_out(given / folder.relative_to(path), self._shown_index(index) if folder.is_symlink() else "")
        for folder in walked.eval_results:
            yield _eval_results_left_out(given / folder.relative_to(path))
        readable_here = [file for file in walked.files if file.suffix.lower() in _READERS]
        reported = bool(walked.problems)
        for file in walked.files:
            origin = _shown(given / file.relative_to(path))
            try:
                if (broken := _broken_link(file, origin)) is not None:
                    reported = True
                    yield broken
                # Only files that get read count as seen: naming one explicitly still reports it.
                elif file.suffix.lower() not in _READERS or self._first_time(file):
                    yield from self._found(file, path, given, name_unread=bool(readable_here))
            except OSError as exc:  # in a folder that may be listed but not searched, even a file's kind is hidden
                reported = True
                yield InputProblem(origin, "failed", f"could not be read: {exc.strerror or exc}",
                                   "Check that you may read it and its folder (their permissions, or a network share "
                                   "that dropped), then ingest again.")
        if not reported and not readable_here:
            yield _nothing_to_read(given, walked.files)

    def _walk(self, folder: Path, given: Path) -> _Walked:
        """The files under a folder, leaving out hidden files and folders (.git, .assistant), the files Windows and
        Office keep beside documents (Thumbs.db, Word's ~$ owner files), and index folders.

        Symlinked sub-folders are followed, as a symlinked folder named on its own is (an archive moved to another
        disk, a link left in its place), once the real folders are walked, so that a file keeps the name its real
        folder gives it; a link back into a folder already walked (a loop, or a second way in) is reported and not
        followed. Sub-folders that could not be listed are reported too: os.walk would pass over them in silence.
        """
        walked = _Walked()

        def origin(path: Path) -> str:
            return _shown(given / path.relative_to(folder))

        def unlisted(error: OSError) -> None:
            walked.problems.append(InputProblem(
                origin=origin(Path(error.filename)),
                kind="failed",  # not passed over: the items indexed from it must not be pruned for want of reading it
                reason=f"folder could not be read: {error.strerror or error}",
                hint="Check that you may read it (its permissions, or a network share that dropped), then ingest "
                     "again.",
            ))

        walked_roots = {_real(folder)}
        to_walk = [folder]
        while to_walk:
            links: list[Path] = []
            for root, dirs, names in os.walk(to_walk.pop(0), onerror=unlisted):
                kept = []
                for name in sorted(dirs):
                    sub = Path(root) / name
                    if name.startswith("."):
                        continue
                    if _real(sub) in self.index_folders:
                        walked.left_out.append(sub)
                    elif _holds_eval_results(sub):
                        walked.eval_results.append(sub)
                    elif sub.is_symlink():  # os.walk would pass over it without a word
                        links.append(sub)
                    else:
                        kept.append(name)
                dirs[:] = kept
                # A link that leads nowhere is among the files (os.walk cannot tell it is a folder's).
                walked.files.extend(Path(root) / name for name in names if not _passed_over(name))
            for link in sorted(links):
                target = _real(link)
                if _real(link.parent).is_relative_to(target):
                    walked.problems.append(InputProblem(
                        origin(link), "skipped",
                        f"is a link to {_shown(target)}, a folder that holds it: following it would go round in a "
                        "loop",
                        "Nothing is lost: its files are read where they are. Remove the link if nothing needs it."))
                elif walked_into := next((root for root in walked_roots if target.is_relative_to(root)), None):
                    walked.problems.append(InputProblem(
                        origin(link), "skipped",
                        f"is a link to {_shown(target)}, inside {_shown(walked_into)}, which is read already",
                        "Nothing is lost: its files are read once, through the real folder."))
                elif any(target.is_relative_to(index) for index in self.index_folders):
                    walked.left_out.append(link)
                elif _holds_eval_results(target):
                    walked.eval_results.append(link)
                else:
                    walked_roots.add(target)
                    to_walk.append(link)
        walked.files = _without_links_to(walked.files)
        walked.files.sort()
        walked.problems.sort(key=lambda problem: problem.origin)
        return walked

    def _shown_index(self, folder: Path) -> str:
        """An index folder as messages show it: from the working directory when it is under it."""
        return _shown(folder.relative_to(self.cwd) if folder.is_relative_to(self.cwd) and folder != self.cwd else folder)

    def _first_time(self, path: Path) -> bool:
        key = path.resolve()
        if key in self.seen:
            return False
        self.seen.add(key)
        return True

    def _found(self, file: Path, folder: Path, given: Path, *,
               name_unread: bool) -> Iterator[MinuteItem | InputProblem | Note]:
        """Read a file found in a folder. One of a format ingest does not read is named, when the folder holds some
        it reads (a folder of none is named as a whole), since it may be minutes: a zipped agenda pack, a .json
        export; a part of a saved web page is not."""
        relative = file.relative_to(folder)
        origin = _shown(given / relative)
        suffix = file.suffix.lower()
        if suffix not in _READERS:
            if suffix in _CONVERTIBLE or (name_unread and suffix not in _WEB_PAGE_PARTS):
                yield _unread_format(origin, suffix)
            return
        if odd := _not_a_regular_file(file, origin):
            yield odd
            return
        yield from self._read_as(file, origin, "file:" + relative.as_posix(), _READERS[suffix])

    def _named(self, given: Path, path: Path) -> Iterator[MinuteItem | InputProblem | Note]:
        suffix = path.suffix.lower()
        if odd := _not_a_regular_file(path, _shown(given)):
            yield odd
            return
        if suffix not in _READERS:
            yield _unread_format(_shown(given), suffix)
            return
        resolved = path.resolve()
        try:
            relative = resolved.relative_to(self.cwd).as_posix()
        except ValueError:
            relative = resolved.as_posix()
        yield from self._read_as(path, _shown(given), "file:" + relative, _READERS[suffix])

    def _read_as(self, path: Path, origin: str, file_id: str,
                 reader: Callable[[FileSource], ReadResult]) -> Iterator[MinuteItem | InputProblem | Note]:
        """Read a file under its `file:` identity, shown readable; refused when another file's reads the same once
        shown so (two names that differ only in bytes that are not UTF-8), as the two would be taken for one."""
        shown_id = readable(file_id)
        first_id, first_origin = self.identities.setdefault(shown_id, (file_id, origin))
        if first_id != file_id:
            yield InputProblem(
                origin=origin,
                kind="failed",
                reason=f"its name reads the same as {first_origin} once the bytes of a name that are not UTF-8 are "
                       "shown as \ufffd, so the two would be taken for one file",
                hint="Rename one of the two (its name is not UTF-8: an old share or a Windows ZIP made it), then "
                     "ingest again.",
            )
            return
        yield from _read(FileSource(path, origin, shown_id, self.max_item_chars), reader)


def _unread_format(origin: str, suffix: str) -> InputProblem:
    """A file of a format ingest does not read, named or found in a folder, with what to save it as."""
    if suffix in _CONVERTIBLE:
        return InputProblem(origin=origin, kind="skipped", reason=f"{suffix} files cannot be read",
                            hint=f"Save it as {_CONVERTIBLE[suffix]} (or export its text to .txt) in the same folder.")
    return InputProblem(origin=origin, kind="skipped", reason=f"not a format ingest reads ({suffix or 'no extension'})",
                        hint=_unread_format_hint(suffix))


def _unread_format_hint(suffix: str) -> str:
    if suffix == ".zip":
        return "If it holds minutes (an agenda pack), unzip it into the folder and ingest again."
    if not suffix:
        return f"If it holds minutes, give it the extension of its format ({', '.join(SUPPORTED_SUFFIXES)})."
    return f"If it holds minutes, save it as one of {', '.join(SUPPORTED_SUFFIXES)} and ingest again."


def _left_out(folder: Path, leads_to: str = "") -> Note:
    """A note on an index folder found in a folder being read (or a link leading into one, and where)."""
    what = f"a link into the index folder {leads_to}" if leads_to else "the index folder"
    return Note(f"left out {_shown(folder)}: it is {what}, whose files are the index's own, so minutes kept in it are "
                "not read (move them out of it into a folder of their own)")


def _without_links_to(files: list[Path]) -> list[Path]:
    """The files less the links to another of them (a 'latest.pdf' shortcut), wherever the link sorts: the file is read
    under the name its folder gives it, as a linked folder's files are, so adding or removing the link changes no
    item's identity."""
    if not any(os.path.islink(file) for file in files):
        return files
    real_files = {_real(file) for file in files if not os.path.islink(file)}
    return [file for file in files if not (os.path.islink(file) and _real(file) in real_files)]


def _holds_eval_results(folder: Path) -> bool:
    try:
        return (folder / EVAL_RESULTS_MARKER).is_file()
    except OSError:  # a folder that may not be searched: reading it reports that, naming the folder
        return False


def _eval_results_holding(path: Path) -> Path | None:
    """The folder of `assistant eval` results that a path given to ingest is, or is inside, if any."""
    real = _real(path)
    return next((folder for folder in (real, *real.parents) if _holds_eval_results(folder)), None)


def _eval_results_left_out(given: Path, inside: Path | None = None) -> Note:
    """The note for a folder of `assistant eval` results left out, or a path given `inside` one: its report.md lists
    the questions' expected answers, and its answers.jsonl the answers, neither of which is minutes."""
    where = f"it is inside {_shown(inside)}," if inside else "it is"
    return Note(f"left out {_shown(given)}: {where} a folder of `assistant eval` results (it holds "
                f"{EVAL_RESULTS_MARKER}), not minutes. If minutes were put there, move them to a folder of their own "
                "and ingest that.")


def _broken_link(path: Path, origin: str) -> InputProblem | None:
    """A link that points at nothing (its file or folder moved, a disk not connected), or round in a loop of links:
    said as such, where a read would only say that there is no such file."""
    if not path.is_symlink() or path.exists():
        return None
    try:
        os.stat(path)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            return InputProblem(origin, "skipped", "is a link that leads round in a loop of links",
                                "Point the link at a file or folder, or remove it.")
    return InputProblem(
        origin,
        "failed",  # the items indexed from what it pointed to must not be pruned while it is away
        f"is a broken link: it points to {_shown(Path(os.readlink(path)))}, which does not exist",
        "Restore what it points to (moved? a disk or share not connected?), or remove the link.",
    )


def _nothing_to_read(given: Path, files: list[Path]) -> InputProblem:
    """A folder none of whose files ingest reads: said, since an agenda pack left zipped looks like an empty folder."""
    kinds = Counter(file.suffix.lower() or "(no extension)" for file in files)
    passed_over = f" (it holds {', '.join(f'{n} {suffix}' for suffix, n in sorted(kinds.items()))})" if kinds else ""
    return InputProblem(
        origin=_shown(given),
        kind="skipped",
        reason=f"folder holds no files ingest reads{passed_over}",
        hint=f"Ingest reads {', '.join(SUPPORTED_SUFFIXES)}: unzip agenda packs, and save other formats as one of "
             "these.",
    )


def _not_a_regular_file(path: Path, origin: str) -> InputProblem | None:
    """A pipe, socket or device: reading one may wait forever for a writer."""
    if path.is_file() or not path.exists():  # a missing file is reported when it is read
        return None
    return InputProblem(origin=origin, kind="skipped", reason="is not a regular file (a pipe, socket or device)",
                        hint="Copy the minutes into an ordinary file.")


def _read(source: FileSource, reader: Callable[[FileSource], ReadResult]) -> ReadResult:
    """Run one reader to the end; whatever goes wrong becomes a problem, not an exception."""
    try:
        yield from reader(source)
    except Problem as problem:
        yield problem.at(source.origin)
    except (OSError, UnicodeError) as exc:
        yield InputProblem(
            origin=source.origin,
            kind="failed",
            reason=f"could not be read: {exc.strerror if isinstance(exc, OSError) and exc.strerror else exc}",
            hint="Check that the file exists, is readable by you, and is not open and locked by another program.",
        )
    except Exception as exc:  # a damaged file can trip any parser in any way
        yield InputProblem(
            origin=source.origin,
            kind="failed",
            reason=f"could not be read ({type(exc).__name__}: {exc})",
            hint="Check that it opens in its usual program; if it does, save a fresh copy and try again.",
        )
