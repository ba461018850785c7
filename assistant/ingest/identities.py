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
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Iterable, Iterator

from assistant.index.manifest import Manifest, ManifestRow
from assistant.records import InputProblem, MinuteItem, content_hash
from assistant.text import counted, first_few


# The manifest's record of the council and committee given to ingest, by source id: JSON {id: [council, committee]}.
GIVEN_FIELDS_META = "given_fields"


@dataclass(frozen=True)
class GivenFields:
    """The council and committee given to ingest for the items whose files name none."""

    council: str = ""
    committee: str = ""


def with_given(found: Iterable[MinuteItem | InputProblem], given: GivenFields,
               remembered: dict[str, list[str]]) -> Iterator[MinuteItem | InputProblem]:
    """The items, each without a council or committee of its own given the one given now or, failing that, the one
    given to an earlier ingest of it; `remembered` takes what is given now."""
    for item in found:
        if isinstance(item, MinuteItem):
            council, committee = remembered.get(item.source_id, ("", ""))
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
    source_id: str
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

    @classmethod
    def read(cls, manifest: Manifest, files_from: Path) -> Files:
        """What the manifest recorded of earlier runs' files, for a run whose relative origins start at `files_from`."""
        return cls(files_from, json.loads(manifest.get_meta(FILE_PATHS_META) or "{}"),
                   json.loads(manifest.get_meta(FILE_TEXTS_META) or "{}"))

    def of_origin(self, origin: str) -> Path | None:
        """The file an origin of this run names, if it is there ('minutes.jsonl:12' names minutes.jsonl)."""
        for candidate in (origin, origin.rpartition(":")[0] if origin.rpartition(":")[2].isdigit() else ""):
            if candidate and (found := self._file(candidate)) is not None:
                return found
        return None

    def _file(self, candidate: str) -> Path | None:
        if candidate not in self._found:
            path = Path(candidate)
            path = path if path.is_absolute() else self.files_from / path
            try:
                self._found[candidate] = path.resolve() if path.is_file() else None
            except OSError:
                self._found[candidate] = None
        return self._found[candidate]

    def of_row(self, sid: str, row: ManifestRow) -> Path | None:
        """The file an indexed item was read from, if it is there now: as recorded when it was, else (an item
        indexed before this was recorded) its origin read from this run's working directory."""
        if sid in self.recorded:
            path = Path(self.recorded[sid])
            return path if path.is_file() else None
        return self.of_origin(row.origin) if row.origin else None


def _identities_taken(items: dict[str, MinuteItem], rows: dict[str, ManifestRow],
                      files: Files) -> list[_TakenIdentity]:
    """Items whose `file:` identity an indexed item of another file, still there, already has: two folders each
    holding a minutes.pdf, ingested one after the other. Taken as an update, one council's minutes would replace
    the other's."""
    taken = []
    for sid, item in items.items():
        row = rows.get(sid)
        if not sid.startswith("file:") or row is None:
            continue
        old, new = files.of_row(sid, row), files.of_origin(item.origin)
        if old is not None and new is not None and not old.samefile(new):
            taken.append(_TakenIdentity(sid, InputProblem(
                item.origin, "failed",
                f"has the source identity {sid} of {row.origin}, which is indexed and still there: taking it as an "
                "update would replace that file's minutes",
                "ingest the folder that holds both, so that each is named by its own path under it (add --prune to "
                "drop the old entry), or give each file an `id` in front matter")))
    return taken


def _files_indexed_before(items: dict[str, MinuteItem], rows: dict[str, ManifestRow],
                          files: Files) -> dict[str, str]:
    """Indexed `file:` entries of files that are among the inputs under another identity now (named on their own
    once, through their folder once), each with the new identity that replaces it."""
    new_files = {sid: item for sid, item in items.items() if sid.startswith("file:") and sid not in rows}
    if not new_files:
        return {}
    by_file: dict[tuple[int, int], str] = {}
    for sid, item in new_files.items():
        if (path := files.of_origin(item.origin)) is not None:
            stat = path.stat()
            by_file.setdefault((stat.st_dev, stat.st_ino), sid)
    superseded = {}
    for sid, row in rows.items():
        if sid.startswith("file:") and sid not in items and (path := files.of_row(sid, row)):
            stat = path.stat()
            if (new_sid := by_file.get((stat.st_dev, stat.st_ino))) is not None:
                superseded[sid] = new_sid
    return superseded


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
        if sid.startswith("file:") and sid not in rows and sid not in superseded.values():
            new_by_text.setdefault(_text_hash(item), sid)
    moved = {}
    for sid, row in sorted(rows.items()):
        if sid.startswith("file:") and sid not in items and sid not in superseded and sid in files.texts \
                and files.of_row(sid, row) is None and (new_sid := new_by_text.pop(files.texts[sid], None)):
            moved[sid] = new_sid
    return moved


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
    notes: list[str] = field(default_factory=list)


def reconcile_files(items: dict[str, MinuteItem], rows: dict[str, ManifestRow], files: Files,
                    remembered: dict[str, list[str]], stored: dict[str, list[str]]) -> FileChanges:
    """Match this run's items to the indexed entries of the same files. Changes `items` (an input refused is
    dropped, a file known again gets the council and committee given to it before) and `remembered` (what was given,
    by source id, moved to a file's new identity; `stored` is what the manifest held before this run)."""
    changes = FileChanges()
    for taken in _identities_taken(items, rows, files):
        del items[taken.source_id]
        changes.refused.append(taken.problem)
        # Nor may the council given for it now pass to the other file's entry, whose identity it shares.
        if taken.source_id in stored:
            remembered[taken.source_id] = stored[taken.source_id]
        else:
            remembered.pop(taken.source_id, None)
    changes.superseded = _files_indexed_before(items, rows, files)
    for old_sid, new_sid in changes.superseded.items():
        # The same file, indexed before under another identity (named on its own, then through its folder):
        # the new entry replaces the old one, and keeps the council and committee given to it.
        _carry_given(items, remembered, old_sid, new_sid)
        remembered.pop(old_sid, None)
    for origin, old_sids in _by_origin(changes.superseded, items).items():
        changes.notes.append(f"{origin} was indexed before under another identity ({first_few(old_sids, 3)}), "
                             "named another way: its new entry replaces the old")
    carried = [f"{rows[old_sid].origin} -> {items[new_sid].origin}"
               for old_sid, new_sid in _files_moved(items, rows, files, changes.superseded).items()
               # A file moved or renamed since: its new identity is given what was given to its old one.
               if _carry_given(items, remembered, old_sid, new_sid)]
    if carried:
        changes.notes.append(
            f"{counted(len(carried), 'file')} moved or renamed since last indexed ({first_few(carried, 3)}): "
            f"{'it keeps' if len(carried) == 1 else 'they keep'} the council and committee given to ingest before")
    return changes


def _carry_given(items: dict[str, MinuteItem], remembered: dict[str, list[str]], old_sid: str, new_sid: str) -> bool:
    """Give the new identity of a file what was given for its old one, unless something was given for the new one;
    whether anything was carried."""
    if old_sid not in remembered or new_sid in remembered:
        return False
    remembered[new_sid] = remembered[old_sid]
    council, committee = remembered[new_sid]
    item = items[new_sid]
    items[new_sid] = replace(item, council=item.council or council, committee=item.committee or committee)
    return True


def files_gone(rows: dict[str, ManifestRow], files: Files, leaving: set[str], items: dict[str, MinuteItem]) -> str:
    """A note naming the indexed items, not among the inputs nor leaving the index, whose recorded file is gone; ''
    if there are none."""
    gone = sorted(rows[sid].origin or sid for sid in rows if sid not in items and sid not in leaving
                  and sid in files.recorded and files.of_row(sid, rows[sid]) is None)
    if not gone:
        return ""
    return (f"the files of {counted(len(gone), 'indexed item')} no longer exist ({first_few(gone, 3)}): "
            f"{'it stays' if len(gone) == 1 else 'they stay'} in the index, and may be cited, until an ingest with "
            "--prune (naming every path you keep) removes them")
