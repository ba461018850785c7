"""Input readers: files and folders in, one MinuteItem per agenda item (or a problem) out.

    for result in read_inputs([Path("corpus")], max_item_chars=1_000_000):
        ...  # MinuteItem, or InputProblem saying what went wrong and what to do

A bad file never stops the others: every failure becomes an InputProblem.
"""

from __future__ import annotations

import os
from collections import Counter
from pathlib import Path
from typing import Callable, Iterator

from assistant.ingest.readers.common import FileSource, Problem, ReadResult
from assistant.records import InputProblem, MinuteItem

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

# Formats that may well hold minutes but that we cannot read: worth a word when found
# in a folder. Anything else there (.png, .json, .css ...) is passed over in silence.
_CONVERTIBLE = {".doc": ".docx", ".rtf": ".docx", ".odt": ".docx", ".mht": ".html", ".mhtml": ".html"}


def read_inputs(
    paths: list[Path], max_item_chars: int, cwd: Path | None = None
) -> Iterator[MinuteItem | InputProblem]:
    """Every agenda item in the given files and folders, folders walked in sorted order."""
    cwd = (cwd or Path.cwd()).resolve()
    seen: set[Path] = set()
    for given in map(Path, paths):
        try:
            yield from _read_path(given, cwd, seen, max_item_chars)
        except (OSError, RuntimeError) as exc:  # unreadable folder, symlink loop
            yield InputProblem(
                origin=str(given),
                kind="failed",
                reason=f"could not be read: {getattr(exc, 'strerror', None) or exc}",
                hint="Check that the path exists and that you may read it.",
            )


def _read_path(given: Path, cwd: Path, seen: set[Path], max_item_chars: int) -> Iterator[MinuteItem | InputProblem]:
    path = given if given.is_absolute() else cwd / given
    if not path.exists():
        yield InputProblem(
            origin=str(given),
            kind="failed",
            reason="no such file or folder",
            hint=f"Check the path; relative paths are read from {cwd}.",
        )
    elif path.is_dir():
        files, unreadable = _walk(path)
        for folder, error in unreadable:
            # Failed, not passed over: the items indexed from it must not be pruned for want of reading them.
            yield InputProblem(
                origin=str(given / folder.relative_to(path)),
                kind="failed",
                reason=f"folder could not be read: {error.strerror or error}",
                hint="Check that you may read it (its permissions, or a network share that dropped), then ingest "
                     "again.",
            )
        for file in files:
            # Only files that get read count as seen: naming one explicitly still reports it.
            if file.suffix.lower() not in _READERS or _first_time(file, seen):
                yield from _read_found(file, path, given, max_item_chars)
        if not unreadable and not any(file.suffix.lower() in _READERS for file in files):
            yield _nothing_to_read(given, files)
    elif _first_time(path, seen):
        yield from _read_named(given, path, cwd, max_item_chars)


def _walk(folder: Path) -> tuple[list[Path], list[tuple[Path, OSError]]]:
    """Files under a folder sorted by path, leaving out hidden files and folders (.git, .assistant), and the
    sub-folders that could not be listed, with why (os.walk would pass over them in silence)."""
    found: list[Path] = []
    unreadable: list[tuple[Path, OSError]] = []

    def note(error: OSError) -> None:
        unreadable.append((Path(error.filename), error))

    for root, dirs, files in os.walk(folder, onerror=note):
        dirs[:] = [d for d in dirs if not d.startswith(".")]
        found.extend(Path(root) / name for name in files if not name.startswith("."))
    return sorted(found), sorted(unreadable, key=lambda pair: pair[0])


def _nothing_to_read(given: Path, files: list[Path]) -> InputProblem:
    """A folder none of whose files ingest reads: said, since an agenda pack left zipped looks like an empty folder."""
    kinds = Counter(file.suffix.lower() or "(no extension)" for file in files)
    passed_over = f" (it holds {', '.join(f'{n} {suffix}' for suffix, n in sorted(kinds.items()))})" if kinds else ""
    return InputProblem(
        origin=str(given),
        kind="skipped",
        reason=f"folder holds no files ingest reads{passed_over}",
        hint=f"Ingest reads {', '.join(SUPPORTED_SUFFIXES)}: unzip agenda packs, and save other formats as one of "
             "these.",
    )


def _first_time(path: Path, seen: set[Path]) -> bool:
    key = path.resolve()
    if key in seen:
        return False
    seen.add(key)
    return True


def _not_a_regular_file(path: Path, origin: str) -> InputProblem | None:
    """A pipe, socket or device: reading one may wait forever for a writer."""
    if path.is_file() or not path.exists():  # a missing file is reported when it is read
        return None
    return InputProblem(origin=origin, kind="skipped", reason="is not a regular file (a pipe, socket or device)",
                        hint="Copy the minutes into an ordinary file.")


def _read_found(file: Path, folder: Path, given: Path, max_item_chars: int) -> Iterator[MinuteItem | InputProblem]:
    relative = file.relative_to(folder)
    origin = str(given / relative)
    suffix = file.suffix.lower()
    if suffix not in _READERS:
        if suffix in _CONVERTIBLE:
            yield InputProblem(
                origin=origin,
                kind="skipped",
                reason=f"{suffix} files cannot be read",
                hint=f"Save it as {_CONVERTIBLE[suffix]} (or export its text to .txt) in the same folder.",
            )
        return
    if odd := _not_a_regular_file(file, origin):
        yield odd
        return
    source = FileSource(file, origin, "file:" + relative.as_posix(), max_item_chars)
    yield from _read(source, _READERS[suffix])


def _read_named(given: Path, path: Path, cwd: Path, max_item_chars: int) -> Iterator[MinuteItem | InputProblem]:
    suffix = path.suffix.lower()
    if odd := _not_a_regular_file(path, str(given)):
        yield odd
        return
    if suffix not in _READERS:
        yield InputProblem(
            origin=str(given),
            kind="skipped",
            reason=f"unsupported file type {suffix or '(no extension)'}",
            hint=f"Supported: {', '.join(SUPPORTED_SUFFIXES)}. Convert the file or rename it if it is one of these.",
        )
        return
    resolved = path.resolve()
    try:
        relative = resolved.relative_to(cwd).as_posix()
    except ValueError:
        relative = resolved.as_posix()
    source = FileSource(path, str(given), "file:" + relative, max_item_chars)
    yield from _read(source, _READERS[suffix])


def _read(source: FileSource, reader: Callable[[FileSource], ReadResult]) -> Iterator[MinuteItem | InputProblem]:
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
