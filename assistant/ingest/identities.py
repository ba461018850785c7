"""Which file each indexed item was read from, and what was given to ingest for it.

An item read from a file is known by a `file:` identity made from its path as given, so the same file can come back
under another identity (named on its own once, through its folder once; moved or renamed), and two files can come
back under one (two folders each holding a minutes.pdf). The manifest keeps, by source id, the file each item was read
from (resolved), a hash of its text, and the council and committee given to ingest for it; from those an ingest tells
an update from another file's item, replaces an entry indexed under an old identity, and carries what was given to a
file across a move.
"""

from __future__ import annotations

import json
import unicodedata
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Iterable, Iterator

from assistant.errors import ConfigError
from assistant.files import file_identity
from assistant.index.manifest import Manifest, ManifestRow
from assistant.records import InputProblem, MinuteItem, content_hash, fetched_from, page_of_item
from assistant.text import counted, first_few


# The manifest's record of the council and committee given to ingest, by source id: JSON {id: [council, committee]}.
GIVEN_FIELDS_META = "given_fields"


@dataclass(frozen=True)
class GivenFields:
    """The council and committee given to ingest for the items whose files name none."""

    council: str = ""
    committee: str = ""


def given_name(value: str | None, flag: str) -> str:
    """A council or committee name given on the command line, stripped; '' when not given (None). A blank one, or
    one holding a control or format character (a line break or tab pasted from a spreadsheet cell, a terminal
    escape), is refused rather than cleaned up: it would be stored on every item, printed in every citation and
    matched by every filter, and what was meant cannot be told (a tab between two words, or two cells?)."""
    if value is None:
        return ""
    example = f'{flag} "{_EXAMPLE_NAMES.get(flag, "Example Borough Council")}"'
    if not value.strip():
        raise ConfigError(f"{flag} is empty: it names no {flag.lstrip('-')}.",
                          f"Give the name in quotes ({example}), or leave {flag} out.")
    if odd := sorted({ch for ch in value if unicodedata.category(ch) in ("Cc", "Cf")}):
        shown = ", ".join(_CONTROL_NAMES.get(ch, f"U+{ord(ch):04X}") for ch in odd)
        raise ConfigError(f"{flag} {ascii(value)} holds {shown}, which no council or committee name has (pasted "
                          "from a spreadsheet cell or a document, perhaps).",
                          f"Type the name afresh on one line, with plain spaces: {example}"
                          + (" (the characters named are invisible, so a name pasted again would hold them again)."
                             if set(odd) & set(_INVISIBLE) else "."))
    return value.strip()


# What a hint shows as the name to type: a committee's example is a committee, not a council.
_EXAMPLE_NAMES = {"--council": "Example Borough Council", "--committee": "Children's Services Scrutiny Committee"}

# Format characters a word processor or web page leaves in pasted text, which no one sees in the name.
_INVISIBLE = {"\u00ad": "a soft hyphen", "\u200b": "a zero-width space", "\u200c": "a zero-width non-joiner",
              "\u200d": "a zero-width joiner", "\u200e": "a left-to-right mark", "\u200f": "a right-to-left mark",
              "\u2060": "a word joiner", "\ufeff": "a byte order mark"}
_CONTROL_NAMES = {"\n": "a line break", "\r": "a line break", "\t": "a tab", "\x1b": "a terminal escape", **_INVISIBLE}


def with_given(found: Iterable[MinuteItem | InputProblem], given: GivenFields,
               remembered: dict[str, list[str]]) -> Iterator[MinuteItem | InputProblem]:
    """The items, each without a council or committee of its own given the one given now or, failing that, the one
    given to an earlier ingest of it; `remembered` takes what is given now."""
    for item in found:
        if isinstance(item, MinuteItem):
            # An agenda item of a file first indexed whole (not yet split at its item headings) takes what was given
            # for the file.
            council, committee = remembered.get(item.source_id) or remembered.get(page_of_item(item.source_id),
                                                                                  ("", ""))
            council, committee = given.council or council, given.committee or committee
            if given.council or given.committee:
                remembered[item.source_id] = [council, committee]
            if (council and not item.council) or (committee and not item.committee):
                item = replace(item, council=item.council or council, committee=item.committee or committee)
        yield item


def remembered_fields(manifest: Manifest) -> dict[str, list[str]]:
    """The council and committee given to earlier ingests, by source id."""
    return json.loads(manifest.get_meta(GIVEN_FIELDS_META) or "{}")


@dataclass(frozen=True)
class _TakenIdentity:
    """An input file refused whole, with every one of its items."""

    source_ids: tuple[str, ...]
    problem: InputProblem


# The manifest's record of the file each item was read from, resolved, by source id (JSON): an origin is written as the
# path was given, relative to a working directory that is not recorded, so it cannot tell two files apart later.
FILE_PATHS_META = "file_paths"
# The manifest's record of a hash of the text of each item read from a file, by source id (JSON): a file moved or
# renamed since comes back under a new identity, and is known again by its text.
FILE_TEXTS_META = "file_texts"


@dataclass
class Files:
    """Where the inputs' items come from, on disk: `files_from` resolves this run's origins, `recorded` holds what
    earlier runs resolved theirs to."""

    files_from: Path
    recorded: dict[str, str]
    # What earlier runs' items held, by source id: a hash of each one's text, to find a file moved since.
    texts: dict[str, str] = field(default_factory=dict)
    # Each path looked up once a run: every item is looked up by the checks and again when recorded, and the lines of
    # a JSONL file share one file.
    _found: dict[str, Path | None] = field(default_factory=dict)
    # Indexed items whose file may or may not be there, by source id, with why ('Permission denied'): a folder on its
    # way may not be read (its permissions, a network share that dropped). Neither gone nor moved, they keep their
    # indexed version.
    unsure: dict[str, str] = field(default_factory=dict)
    _unsure_candidates: dict[str, str] = field(default_factory=dict)

    @classmethod
    def read(cls, manifest: Manifest, files_from: Path) -> Files:
        """What the manifest recorded of earlier runs' files, for a run whose relative origins start at `files_from`."""
        return cls(files_from, json.loads(manifest.get_meta(FILE_PATHS_META) or "{}"),
                   json.loads(manifest.get_meta(FILE_TEXTS_META) or "{}"))

    def of_origin(self, origin: str) -> Path | None:
        """The file an origin of this run names, if it is there ('minutes.jsonl:12' names minutes.jsonl)."""
        for candidate in _candidates(origin):
            if (found := self._file(candidate)) is not None:
                return found
        return None

    def _file(self, candidate: str) -> Path | None:
        if candidate not in self._found:
            path = Path(candidate)
            path = path if path.is_absolute() else self.files_from / path
            try:
                self._found[candidate] = path.resolve() if path.is_file() else None
            except OSError as exc:  # Python 3.11's is_file raises PermissionError for a folder it may not search
                self._found[candidate] = None
                self._unsure_candidates[candidate] = exc.strerror or str(exc)
        return self._found[candidate]

    def of_row(self, sid: str, row: ManifestRow) -> Path | None:
        """The file an indexed item was read from, if it is there now: as recorded when it was, else (an item
        indexed before this was recorded) its origin read from this run's working directory. None as well when that
        cannot be told (`gone` tells the two apart)."""
        if sid in self.recorded:
            path = Path(self.recorded[sid])
            try:
                return path if path.is_file() else None
            except OSError as exc:
                self.unsure[sid] = exc.strerror or str(exc)
                return None
        found = self.of_origin(row.origin) if row.origin else None
        for candidate in _candidates(row.origin) if found is None else ():
            if candidate in self._unsure_candidates:
                self.unsure[sid] = self._unsure_candidates[candidate]
        return found

    def gone(self, sid: str, row: ManifestRow) -> bool:
        """Is the file an indexed item was read from surely no longer there?"""
        return self.of_row(sid, row) is None and sid not in self.unsure


def _candidates(origin: str) -> list[str]:
    """The paths an origin may name: itself, and the file of a JSONL line ('minutes.jsonl:12')."""
    head, _, tail = origin.rpartition(":")
    return [candidate for candidate in (origin, head if tail.isdigit() else "") if candidate]


def _identities_taken(items: dict[str, MinuteItem], rows: dict[str, ManifestRow],
                      files: Files) -> list[_TakenIdentity]:
    """Input files that would take the `file:` identity of an indexed item of another file, still there or that
    cannot be checked now (a folder on its way may not be read): two folders each holding a minutes.pdf, ingested one
    after the other. Taken as an update, one council's minutes would replace the other's. A file is refused whole:
    its agenda items share its page identity ('file:minutes.pdf#item-4'), and none may slip in beside the other
    file's."""
    indexed_pages: dict[str, list[str]] = {}
    for sid in rows:
        if sid.startswith("file:"):
            indexed_pages.setdefault(page_of_item(sid), []).append(sid)
    by_input: dict[Path | str, list[str]] = {}
    for sid, item in items.items():
        by_input.setdefault(files.of_origin(item.origin) or item.origin, []).append(sid)
    taken = []
    for new, sids in by_input.items():
        if not isinstance(new, Path):
            continue
        pages = {page_of_item(sid) for sid in sids if sid.startswith("file:")}
        indexed = sorted(sid for page in pages for sid in indexed_pages.get(page, ()))
        if clash := next(filter(None, (_other_file(sid, rows[sid], new, files) for sid in indexed)), None):
            taken.append(_TakenIdentity(tuple(sids), InputProblem(_candidates(items[sids[0]].origin)[-1], "failed",
                                                                  *clash)))
    return taken


_BOTH_KEPT = ("ingest the folder that holds both, so that each is named by its own path under it (add --prune to drop "
              "the old entry), or give each file an `id` in front matter")


def _other_file(sid: str, row: ManifestRow, new: Path, files: Files) -> tuple[str, str] | None:
    """Why the input file `new` may not take the identity of the indexed item `sid`, and what to do: its file is
    another one, still there, or cannot be checked now. None when it is the same file, or gone."""
    old = files.of_row(sid, row)
    if sid in files.unsure and files.recorded.get(sid) != str(new):
        # Taken as an update, it would replace minutes that may well be there still.
        return (f"has the source identity {page_of_item(sid)} of {row.origin}, which is indexed but could not be "
                f"checked now ({files.unsure[sid]}): taking it as an update could replace that file's minutes",
                f"Check that you may read the folders on the way to {row.origin} (their permissions, or a network "
                f"share that dropped), then ingest again; or {_BOTH_KEPT}")
    # A file that cannot be compared is taken for another file: refusing it keeps both files' minutes.
    if old is not None and (file_identity(old) is None or file_identity(old) != file_identity(new)):
        return (f"has the source identity {page_of_item(sid)} of {row.origin}, which is indexed and still there: "
                "taking it as an update would replace that file's minutes", _BOTH_KEPT)
    return None


def _files_indexed_before(items: dict[str, MinuteItem], rows: dict[str, ManifestRow],
                          files: Files) -> dict[str, str]:
    """Indexed `file:` entries of files that are among the inputs under another identity now (named on their own
    once, through their folder once), each with the new identity that replaces it."""
    new_files = {sid: item for sid, item in items.items() if sid.startswith("file:") and _new_here(sid, rows, files)}
    if not new_files:
        return {}
    # Each file's new identities, by the part that names an agenda item in it ('#item-4'; '' for the file or its
    # opening): each old entry is replaced by the same item's, or else by the file's.
    by_file: dict[tuple[int, int], dict[str, str]] = {}
    for sid, item in sorted(new_files.items()):
        if (path := files.of_origin(item.origin)) is not None and (key := file_identity(path)) is not None:
            by_file.setdefault(key, {}).setdefault(_in_file(sid), sid)
    superseded = {}
    for sid, row in rows.items():
        if sid.startswith("file:") and sid not in items and (path := files.of_row(sid, row)):
            if (key := file_identity(path)) is not None and (new_sids := by_file.get(key)):
                superseded[sid] = new_sids.get(_in_file(sid)) or new_sids.get("") or min(new_sids.values())
    return superseded


def _new_here(sid: str, rows: dict[str, ManifestRow], files: Files) -> bool:
    """Whether a file's identity is new to the index: not indexed, or written only by a run stopped before its end
    (which records the files it read), so that the old entries it replaces are still there to be replaced."""
    return sid not in rows or sid not in files.recorded


def _in_file(source_id: str) -> str:
    """'file:minutes.pdf#item-4' -> '#item-4': what names an agenda item in its file; '' for the file itself."""
    return source_id[len(page_of_item(source_id)):]


def record_files(manifest: Manifest, files: Files, items: dict[str, MinuteItem], removed: set[str]) -> None:
    """Keep, for the items of this run, the files they were read from, resolved, and a hash of their text; forget
    the removed ones."""
    recorded = {sid: path for sid, path in files.recorded.items() if sid not in removed}
    texts = {sid: text for sid, text in files.texts.items() if sid not in removed}
    for sid, item in items.items():
        if (path := files.of_origin(item.origin)) is not None:
            recorded[sid] = str(path)
            texts[sid] = _text_hash(item)
    if recorded != files.recorded:
        manifest.set_meta(FILE_PATHS_META, json.dumps(recorded, sort_keys=True))
    if texts != files.texts:
        manifest.set_meta(FILE_TEXTS_META, json.dumps(texts, sort_keys=True))


def _text_hash(item: MinuteItem) -> str:
    return content_hash(item.text)[:32]


def _files_moved(items: dict[str, MinuteItem], rows: dict[str, ManifestRow], files: Files,
                 superseded: dict[str, str]) -> dict[str, str]:
    """Indexed `file:` entries whose file is gone, each with the new `file:` item of this run that holds the same
    text: the file was moved or renamed (an entry indexed before texts were recorded is not found)."""
    new_by_text: dict[str, str] = {}
    for sid, item in sorted(items.items()):
        if sid.startswith("file:") and _new_here(sid, rows, files) and sid not in superseded.values():
            new_by_text.setdefault(_text_hash(item), sid)
    moved = {}
    for sid, row in sorted(rows.items()):
        if sid.startswith("file:") and sid not in items and sid not in superseded and sid in files.texts \
                and files.gone(sid, row) and (new_sid := new_by_text.pop(files.texts[sid], None)):
            moved[sid] = new_sid
    return moved


def _entries_moved_away(items: dict[str, MinuteItem], rows: dict[str, ManifestRow], files: Files,
                        moved: dict[str, str], leaving: Iterable[str], problems: Iterable[InputProblem]
                        ) -> tuple[list[str], dict[str, str]]:
    """Every indexed entry of a file found moved or renamed (`moved`: an old entry whose file is gone -> the new item
    holding its text), not among this run's items nor already leaving, whose file is gone too: the old path's agenda
    items that changed on the way (a figure corrected as the draft was renamed) as well as those found again.

    A file counts as moved only when most of its entries are found again in one new file: an item or two of the same
    words ('There were no declarations of interest.') is only boilerplate that another meeting's minutes share, and
    a file gone whose meeting is not found again stays, as any file gone does, until --prune. And a new file with a
    problem this run (an item over the length cap, or that failed) was not read whole: an old entry neither found
    again nor under the same item's number in it may be the item passed over, and keeps its indexed version.
    Also the files found moved: each old page's new page."""
    entries: dict[str, int] = {}
    for sid in rows:
        if sid in files.recorded:
            entries[files.recorded[sid]] = entries.get(files.recorded[sid], 0) + 1
    pairs = {old_sid: (files.recorded.get(old_sid), files.of_origin(items[new_sid].origin))
             for old_sid, new_sid in moved.items()}
    found_again: dict[tuple, int] = {}
    for pair in pairs.values():
        found_again[pair] = found_again.get(pair, 0) + 1
    new_pages: dict[str, str] = {}  # the old page of a file that moved -> its new page
    for old_sid, new_sid in sorted(moved.items()):
        old_file, new_file = pairs[old_sid]
        if old_file is not None and new_file is not None and 2 * found_again[pairs[old_sid]] > entries[old_file]:
            new_pages.setdefault(page_of_item(old_sid), page_of_item(new_sid))
    with_problems = {path for problem in problems if (path := files.of_origin(problem.origin)) is not None}
    # Found once, not for each old entry among every item: a folder of 3,000 files moved took 4 s here, growing
    # with the square of the items.
    pages_not_read_whole = {page_of_item(new) for new, item in items.items()
                            if files.of_origin(item.origin) in with_problems} if with_problems else set()
    left = set(leaving)
    away = []
    for sid, row in sorted(rows.items()):
        new_page = new_pages.get(page_of_item(sid))
        if new_page is None or sid in items or sid in left or not files.gone(sid, row):
            continue
        read_whole = new_page not in pages_not_read_whole
        if read_whole or sid in moved or new_page + _in_file(sid) in items:
            away.append(sid)
    return away, new_pages


def _items_no_longer_in_their_file(items: dict[str, MinuteItem], rows: dict[str, ManifestRow], files: Files,
                                   superseded: dict[str, str], problems: Iterable[InputProblem]) -> list[str]:
    """Indexed agenda items ('URL#item-7', 'file:minutes.pdf#item-4': a meeting page's, or a PDF or Word file's split
    at its item headings) of a file read whole in this run, under the same page identity, that this run did not find
    in it. A file with a problem this run (an item over the length cap, restricted, or that failed) was not read
    whole: what it was not found to hold may be the item passed over, which keeps its indexed version. A JSONL file's
    lines are never among them, whatever their ids ('#line-3', or a url's '#item-7'): they are kept until --prune."""
    with_problems = {path for problem in problems if (path := files.of_origin(problem.origin)) is not None}
    pages_read: dict[str, set[Path]] = {}
    for sid, item in items.items():
        if (path := files.of_origin(item.origin)) is not None and path not in with_problems \
                and not _a_line_of(item.origin, path):
            pages_read.setdefault(page_of_item(sid), set()).add(path)
    return sorted(sid for sid, row in rows.items()
                  if sid not in items and sid not in superseded and page_of_item(sid) != sid
                  and (path := files.of_row(sid, row)) in pages_read.get(page_of_item(sid), ())
                  and not _a_line_of(row.origin, path))


def a_jsonl_line(origin: str) -> bool:
    """Is an origin a line of a JSONL file ('minutes.jsonl:12'), not a file?"""
    return len(_candidates(origin)) > 1


def _a_line_of(origin: str, path: Path) -> bool:
    """Is an origin a line of a JSONL file ('minutes.jsonl:12'), or its file one?"""
    return a_jsonl_line(origin) or path.suffix.lower() == ".jsonl"


def _by_origin(superseded: dict[str, str], items: dict[str, MinuteItem]) -> dict[str, list[str]]:
    grouped: dict[str, list[str]] = {}
    for old_sid, new_sid in sorted(superseded.items()):
        grouped.setdefault(items[new_sid].origin, []).append(old_sid)
    return grouped


def save_remembered(manifest: Manifest, remembered: dict[str, list[str]]) -> None:
    """Record the council and committee given, by source id, if they changed."""
    if remembered != remembered_fields(manifest):
        manifest.set_meta(GIVEN_FIELDS_META, json.dumps(remembered, sort_keys=True))


@dataclass
class FileChanges:
    """What reconciling this run's files with the index found: inputs refused for taking another file's identity,
    indexed entries replaced by a new identity of their file (old id -> new id), and notes for the user."""

    refused: list[InputProblem] = field(default_factory=list)
    superseded: dict[str, str] = field(default_factory=dict)
    # Agenda items indexed from a file read now that no longer holds them (its minutes changed, or are no longer
    # split at item headings): they leave the index, as a changed file's old chunks do.
    no_longer_held: list[str] = field(default_factory=list)
    # Entries of a file moved or renamed since, whose old path is gone: the file's new entries replace them, an item
    # changed on the way included (else a figure corrected in the renamed file was quoted beside the old one).
    moved_away: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def reconcile_files(items: dict[str, MinuteItem], rows: dict[str, ManifestRow], files: Files,
                    remembered: dict[str, list[str]], stored: dict[str, list[str]],
                    problems: Iterable[InputProblem] = ()) -> FileChanges:
    """Match this run's items to the indexed entries of the same files. Changes `items` (an input refused is
    dropped, a file known again gets the council and committee given to it before) and `remembered` (what was given,
    by source id, moved to a file's new identity; `stored` is what the manifest held before this run). `problems` are
    this run's so far (skipped, failed, restricted): a file with one was not read whole."""
    problems = list(problems)  # read twice
    changes = FileChanges()
    for taken in _identities_taken(items, rows, files):
        changes.refused.append(taken.problem)
        for sid in taken.source_ids:
            del items[sid]
            # Nor may the council given for it now pass to the other file's entry, whose identity it shares.
            if sid in stored:
                remembered[sid] = stored[sid]
            else:
                remembered.pop(sid, None)
    changes.superseded = _files_indexed_before(items, rows, files)
    # The same file, indexed before under another identity (named on its own, then through its folder): the new
    # entries replace the old ones, and every one of them keeps the council and committee given to the file.
    _carry_to_files(items, rows, remembered, changes.superseded)
    for old_sid in changes.superseded:
        remembered.pop(old_sid, None)
    for origin, old_sids in _by_origin(changes.superseded, items).items():
        # An entry of the file whole, replaced by its own agenda items, is the same file split now, not renamed.
        split = [sid for sid in old_sids if page_of_item(changes.superseded[sid]) == sid]
        if split:
            changes.notes.append(f"{origin} is now split at its agenda item headings: its items replace the "
                                 f"whole-file entry ({first_few(split, 3)})")
        if renamed := [sid for sid in old_sids if sid not in split]:
            changes.notes.append(f"{origin} was indexed before under another identity ({first_few(renamed, 3)}), "
                                 "named another way: its new entry replaces the old")
    changes.no_longer_held = _items_no_longer_in_their_file(items, rows, files, changes.superseded,
                                                            [*problems, *changes.refused])
    if changes.no_longer_held:
        origins = sorted({rows[sid].origin or sid for sid in changes.no_longer_held})
        changes.notes.append(
            f"{counted(len(changes.no_longer_held), 'agenda item')} indexed before from "
            f"{first_few(origins, 3)} {'is' if len(changes.no_longer_held) == 1 else 'are'} no longer in "
            f"{'that file' if len(origins) == 1 else 'those files'} (the minutes changed, or are no longer split at "
            "item headings): removed from the index")
    moved = _files_moved(items, rows, files, changes.superseded)
    # A file moved or renamed since: each item of its new identity is given what was given to its old one.
    carried_to = {page_of_item(sid) for sid in _carry_to_files(items, rows, remembered, moved)}
    carried = list(dict.fromkeys(f"{rows[old_sid].origin} -> {items[new_sid].origin}"
                                 for old_sid, new_sid in moved.items() if page_of_item(new_sid) in carried_to))
    changes.moved_away, new_pages = _entries_moved_away(items, rows, files, moved, [*changes.superseded,
                                                                                   *changes.no_longer_held],
                                                        [*problems, *changes.refused])
    # One note for each file moved: its old entries replaced, and the council and committee it keeps. A file only
    # carried over (few of its items found again: an item of boilerplate may be another meeting's) keeps its entries,
    # and so is no file's new path: an item of the moved file matched to another file's boilerplate names no move.
    away_pages = {page_of_item(sid) for sid in changes.moved_away}
    replaced = list(dict.fromkeys(f"{rows[old_sid].origin} -> {items[new_sid].origin}"
                                  for old_sid, new_sid in sorted(moved.items())
                                  if page_of_item(old_sid) in away_pages
                                  and new_pages[page_of_item(old_sid)] == page_of_item(new_sid)))
    if replaced:
        one = len(replaced) == 1
        said = (f"{counted(len(replaced), 'file')} moved or renamed since last indexed ({first_few(replaced, 3)}): "
                f"{'its' if one else 'their'} new entries replace the "
                f"{counted(len(changes.moved_away), 'indexed item')} of the old path, removed from the index")
        if kept := [pair for pair in carried if pair in replaced]:
            who = "it keeps" if one else "they keep" if len(kept) == len(replaced) else f"{len(kept)} of them keep"
            said += f"; {who} the council and committee given to ingest before"
        changes.notes.append(said)
    if only_carried := [pair for pair in carried if pair not in replaced]:
        changes.notes.append(
            f"{counted(len(only_carried), 'file')} moved or renamed since last indexed ({first_few(only_carried, 3)}): "
            f"{'it keeps' if len(only_carried) == 1 else 'they keep'} the council and committee given to ingest before")
    known_again = {page_of_item(sid) for sid in (*changes.superseded.values(), *moved.values())}
    took = _given_to_their_folders(items, rows, files, remembered,
                                   {sid for sid in items if page_of_item(sid) in known_again})
    if took:
        changes.notes.append(
            f"{counted(len(took), 'new file')} took what was given to ingest before (--council, --committee) for "
            f"every other indexed file of {'its folder' if len(took) == 1 else 'their folders'} "
            f"({first_few(took, 3, '; ')}): give --council or --committee with {'it' if len(took) == 1 else 'them'} "
            "to change that")
    return changes


def _carry_to_files(items: dict[str, MinuteItem], rows: dict[str, ManifestRow], remembered: dict[str, list[str]],
                    known_again: dict[str, str]) -> list[str]:
    """Give every new item of a file known again under a new identity (old id -> new id) what was given for the
    same item before: the one matched to it, else the old identity's item of the same number ('#item-4'), else the
    old file's (a file indexed whole, split now). The new ids that were given something."""
    old_pages: dict[str, str] = {}
    matched: dict[str, list[str]] = {}
    for old_sid, new_sid in sorted(known_again.items()):
        old_pages.setdefault(page_of_item(new_sid), page_of_item(old_sid))
        matched.setdefault(new_sid, []).append(old_sid)
    carried = []
    for sid in sorted(items):
        if sid in rows or (old_page := old_pages.get(page_of_item(sid))) is None:
            continue
        # An old entry matched to it through its file's fallback (an item the new file no longer numbers so) comes
        # after the same item's.
        olds = sorted(matched.get(sid, []), key=lambda old: _in_file(old) != _in_file(sid))
        given_before = next((old for old in (*olds, old_page + _in_file(sid), old_page) if old in remembered), None)
        if given_before is not None and _carry_given(items, remembered, given_before, sid):
            carried.append(sid)
    return carried


def _carry_given(items: dict[str, MinuteItem], remembered: dict[str, list[str]], old_sid: str, new_sid: str) -> bool:
    """Give the new identity of a file what was given for its old one, unless something was given for the new one;
    whether anything was carried."""
    if old_sid not in remembered:
        return False
    if new_sid in remembered:
        # Given now for the new identity: a value given replaces only that value (--committee alone keeps the
        # council given before), and one already there for both leaves nothing to carry.
        merged = [now or before for now, before in zip(remembered[new_sid], remembered[old_sid])]
        if merged == remembered[new_sid]:
            return False
        remembered[new_sid] = merged
    else:
        remembered[new_sid] = remembered[old_sid]
    council, committee = remembered[new_sid]
    item = items[new_sid]
    items[new_sid] = replace(item, council=item.council or council, committee=item.committee or committee)
    return True


def _given_to_their_folders(items: dict[str, MinuteItem], rows: dict[str, ManifestRow], files: Files,
                            remembered: dict[str, list[str]], known_again: set[str]) -> list[str]:
    """Give each new item read from a file, with no council (or committee) of its own nor given to ingest, the one given
    to ingest before to every indexed item of that file's folder, when it was the same for all of them: a new meeting's
    minutes added to a folder ingested with --council. Changes `items` and `remembered`; the files that took one, each
    with what it took. Only the file's own folder counts: a folder above it may hold other councils' minutes."""
    indexed_in: dict[Path, list[str]] = {}
    for sid in rows:
        if sid in files.recorded:
            indexed_in.setdefault(Path(files.recorded[sid]).parent, []).append(sid)
    took: dict[str, str] = {}
    for sid, item in items.items():
        if sid in rows or sid in known_again or (path := files.of_origin(item.origin)) is None:
            continue
        given = list(remembered.get(sid, ("", "")))
        neighbours = indexed_in.get(path.parent, [])
        taken = []
        for position, (name, own) in enumerate((("council", item.council), ("committee", item.committee))):
            if not own and not given[position] and (shared := _given_to_all(neighbours, remembered, position)):
                given[position] = shared
                taken.append(f"{name} {shared}")
        if taken:
            remembered[sid] = given
            items[sid] = replace(item, council=item.council or given[0], committee=item.committee or given[1])
            took.setdefault(item.origin, f"{item.origin}: {', '.join(taken)}")
    return list(took.values())


def _given_to_all(sids: list[str], remembered: dict[str, list[str]], position: int) -> str:
    """The council (position 0) or committee (1) given to ingest for every one of these items, when it was one and the
    same for all; else ''."""
    given = {tuple(remembered.get(sid, ("", "")))[position] for sid in sids}
    return given.pop() if len(given) == 1 else ""


def gone_with_their_meeting_withheld(items: dict[str, MinuteItem], rows: dict[str, ManifestRow], files: Files,
                                     withheld_now: Iterable[MinuteItem], leaving: Iterable[str]
                                     ) -> tuple[list[str], str]:
    """Indexed items whose file is gone, of a meeting (its full date, and its council where both say one) that an
    input file of this run holds marked restricted or withheld: a draft renamed as it was marked exempt. Its new
    name is not indexed, so nothing told the rename, and the old entries' text was quoted, under the old name, until
    --prune: they leave the index now. Also a note naming them ('' if none). Their file being gone, nothing is lost
    that ingesting it again would not bring back."""
    meetings: dict[str, list[MinuteItem]] = {}
    for item in withheld_now:
        # A full date only: a year or a month holds other meetings.
        if len(item.meeting_date) == len("2026-03-17") and files.of_origin(item.origin) is not None:
            meetings.setdefault(item.meeting_date, []).append(item)
    left = set(leaving)
    away: dict[str, str] = {}  # old entry -> the input that withheld its meeting
    for sid, row in sorted(rows.items()):
        # The date first: most runs withhold nothing, and no indexed file need then be looked for on disk.
        if row.meeting_date not in meetings or sid in items or sid in left or sid not in files.recorded \
                or not files.gone(sid, row):
            continue
        for item in meetings[row.meeting_date]:
            if not (row.council and item.council and row.council != item.council):
                away[sid] = item.origin
                break
    if not away:
        return [], ""
    old = sorted({rows[sid].origin or sid for sid in away})
    new = sorted(set(away.values()))
    note = (f"{counted(len(away), 'indexed item')} of {first_few(old, 3)}, whose "
            f"{'file no longer exists' if len(old) == 1 else 'files no longer exist'}, "
            f"{'is' if len(away) == 1 else 'are'} of the same meeting as {first_few(new, 3)}, marked restricted or "
            "withheld in this run: removed from the index, as that file's earlier name (if "
            f"{'it was' if len(old) == 1 else 'they were'} other minutes, put {'it' if len(old) == 1 else 'them'} "
            "back and ingest again)")
    return sorted(away), note


def files_gone(rows: dict[str, ManifestRow], files: Files, leaving: set[str], items: dict[str, MinuteItem]) -> str:
    """A note naming the indexed items, not among the inputs nor leaving the index, whose recorded file is gone; ''
    if there are none."""
    gone = sorted(rows[sid].origin or sid for sid in rows if sid not in items and sid not in leaving
                  and sid in files.recorded and files.gone(sid, rows[sid]))
    if not gone:
        return ""
    # Each file once: a whole meeting's minutes are several items, one path.
    gone_files = sorted(set(gone))
    # --prune leaves fetched minutes alone, but an officer who sees it advised should not have to find that out.
    fetched = " (it leaves minutes fetched with `assistant fetch` alone)" if any(
        fetched_from(row.origin) for row in rows.values()) else ""
    return (f"the files of {counted(len(gone), 'indexed item')} no longer exist ({first_few(gone_files, 3)}): "
            f"{'it stays' if len(gone) == 1 else 'they stay'} in the index, and may be cited, until an ingest with "
            f"--prune (naming every path of files you keep) removes them{fetched}")


def files_unsure(rows: dict[str, ManifestRow], files: Files, leaving: set[str], items: dict[str, MinuteItem]) -> str:
    """A note naming the indexed items, not among the inputs nor leaving the index, of which it cannot be told
    whether their file is still there (a folder on its way may not be read); '' if there are none."""
    unsure = [f"{rows[sid].origin or sid}: {files.unsure[sid]}" for sid in sorted(rows)
              if sid not in items and sid not in leaving and not files.of_row(sid, rows[sid]) and sid in files.unsure]
    if not unsure:
        return ""
    return (f"could not tell whether the files of {counted(len(unsure), 'indexed item')} are still there "
            f"({first_few(unsure, 3, '; ')}): {'it keeps its' if len(unsure) == 1 else 'they keep their'} indexed "
            "version. Check that you may read the folders on the way (their permissions, or a network share that "
            "dropped), then ingest again")


def same_minutes_twice(items: dict[str, MinuteItem], files: Files) -> list[str]:
    """Notes naming the input files that hold the same minutes as another (a copy under another name, byte for byte
    or once read): both are indexed, so each would be cited beside the other, crowding out other minutes."""
    texts: dict[Path, list[str]] = {}
    shown: dict[Path, str] = {}
    for item in items.values():
        if (path := files.of_origin(item.origin)) is not None:
            texts.setdefault(path, []).append(item.text)
            shown.setdefault(path, _candidates(item.origin)[-1])
    alike: dict[str, list[str]] = {}
    for path, file_texts in texts.items():
        alike.setdefault(content_hash(*file_texts), []).append(shown[path])
    return [f"the same minutes {'twice' if len(origins) == 2 else f'{len(origins)} times'}: "
            f"{_and(sorted(origins))} hold the same text; keep one (remove the "
            f"{'other' if len(origins) == 2 else 'others'}, then ingest with --prune), as each is indexed and would "
            "be cited beside the other" for origins in alike.values() if len(origins) > 1]


def _and(names: list[str]) -> str:
    """'a and b', 'a, b and c'."""
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"
