"""Ingest: read inputs, chunk what changed, embed it, write Chroma, then commit the manifest."""

from __future__ import annotations

import errno
import json
import os
import shutil
import signal
import sys
import time
from collections import Counter
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Iterable, Iterator, Sequence

from assistant.ingest.chunk import CHUNKER_VERSION, chunk_item
from assistant.index.embedder import Embedder, make_embedder
from assistant.errors import AssistantError, IndexMismatchError, NotWritableError
from assistant.files import exclusive_lock, may_write
from assistant.index.manifest import RESET_UNFINISHED, Manifest, ManifestRow
from assistant.index.purge import PURGE_OWED, owe_purge, purge_if_owed
from assistant.records import Chunk, InputProblem, MinuteItem, content_hash
from assistant.settings import Settings
from assistant.index.vector_store import (ChromaStore, ManifestSide, VectorStore, WriterRecord, check_writer,
                                          reset_store)
from assistant.index.write_lock import write_lock_path
from assistant.text import counted, first_few
from assistant.ingest.tokens import TokenCounter, default_counter

# Items per manifest transaction: small enough that a kill loses little work.
_ITEMS_PER_BATCH = 16


@dataclass
class IngestSummary:
    new: int = 0
    replaced: int = 0
    unchanged: int = 0
    removed: int = 0  # pruned, or withdrawn because they became restricted
    chunks_added: int = 0
    chunks_removed: int = 0
    tokens_embedded: int = 0
    seconds: float = 0.0
    embed_seconds: float = 0.0
    problems: list[InputProblem] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def failed(self) -> list[InputProblem]:
        return [p for p in self.problems if p.kind == "failed"]

    @property
    def skipped(self) -> list[InputProblem]:
        return [p for p in self.problems if p.kind != "failed"]

    def report(self) -> str:
        """What the run did, with every problem and note: for the console."""
        lines = [
            f"ingested {self.new} new, replaced {self.replaced}, unchanged {self.unchanged}, "
            f"removed {self.removed}; skipped {len(self.skipped)}, failed {len(self.failed)}",
            f"chunks added {self.chunks_added}, removed {self.chunks_removed}; "
            f"{self.tokens_embedded} tokens embedded in {self.embed_seconds:.1f} s; total {self.seconds:.1f} s",
        ]
        for label, problems in (("skipped", self.skipped), ("failed", self.failed)):
            lines.extend(f"  {label}: {problem.describe()}" for problem in problems)
        lines.extend(f"  note: {note}" for note in self.notes)
        return "\n".join(lines)

    def as_dict(self) -> dict:
        return {
            "new": self.new, "replaced": self.replaced, "unchanged": self.unchanged, "removed": self.removed,
            "chunks_added": self.chunks_added, "chunks_removed": self.chunks_removed,
            "tokens_embedded": self.tokens_embedded, "seconds": round(self.seconds, 3),
            "embed_seconds": round(self.embed_seconds, 3),
            "skipped": [p.__dict__ for p in self.skipped], "failed": [p.__dict__ for p in self.failed],
            "notes": self.notes,
        }


class CrashPoints:
    """Test-only: ASSISTANT_CRASH_AT=name[:n] kills the process with SIGKILL at the n-th pass."""

    def __init__(self, spec: str) -> None:
        name, _, nth = spec.partition(":")
        self.name, self.nth, self.seen = name, int(nth or 1), Counter()

    def reached(self, name: str) -> None:
        if name != self.name:
            return
        self.seen[name] += 1
        if self.seen[name] == self.nth:
            sys.stdout.flush()
            sys.stderr.flush()
            os.kill(os.getpid(), signal.SIGKILL)


class Index:
    """The manifest, the vector store and the embedder of one data folder, opened together.

    In a folder this user may only read, the manifest opens to be read only, and Chroma's local store is refused
    with a message (Chroma writes to its folder to open it); vectors on a Chroma server are read as ever."""

    def __init__(self, settings: Settings, embedder: Embedder | None = None, store: VectorStore | None = None,
                 counter: TokenCounter | None = None) -> None:
        self.settings = settings
        self.embedder = embedder or make_embedder(settings)
        self.manifest = Manifest(settings.manifest_path)
        try:
            # Before the store is opened, which makes its collection: a mistyped collection name, or a forgotten
            # CHROMA_HOST, would otherwise look like a store that lost every chunk, and the ingest that message
            # suggests would drop from the index the fetched minutes it cannot embed again.
            check_where_vectors_live(self.manifest, settings)
            self.store = store or ChromaStore(settings, self.embedder.name,
                                              ManifestSide(self.manifest.get_meta(_INDEX_ID),
                                                           self.manifest.has_finished_items()))
        except BaseException:
            self.manifest.close()
            raise
        self.counter = counter or default_counter()
        stored_model = self.manifest.get_meta("embedding_model")
        if stored_model and stored_model != self.embedder.name:
            raise IndexMismatchError(
                f"The index in {settings.data_dir} was built with {stored_model!r}, not {self.embedder.name!r}.",
                "Run `assistant ingest --reset` to rebuild it, or set ASSISTANT_EMBEDDING_MODEL back.",
            )

    def close(self) -> None:
        self.manifest.close()

    def fingerprint(self, item: MinuteItem) -> str:
        return content_hash(item.item_hash, CHUNKER_VERSION, str(self.settings.chunk_tokens), self.embedder.name)

    def chunk(self, item: MinuteItem) -> list[Chunk]:
        return chunk_item(item, self.counter, self.settings.chunk_tokens, fits=self.embedder.fits)


_COLLECTION, _VECTORS_ON = "collection", "vectors_on"  # the manifest's record of where the index's vectors live
# The manifest's side of the store's WriterRecord: the index's own id, made at its first ingest and kept by copies of
# its folder, and how many ingests have written to its store.
_INDEX_ID, _GENERATION = "index_id", "generation"


def record_where_vectors_live(manifest: Manifest, settings: Settings) -> None:
    manifest.set_meta(_COLLECTION, settings.collection)
    manifest.set_meta(_VECTORS_ON, f"server {settings.chroma_host}:{settings.chroma_port}"
                      if settings.uses_chroma_server else "local")


def manifest_writer(manifest: Manifest) -> WriterRecord:
    """What the manifest says of its index as a store's writer: its id (None before its first ingest) and count."""
    return WriterRecord(manifest.get_meta(_INDEX_ID), int(manifest.get_meta(_GENERATION) or 0))


def claim_store(manifest: Manifest, store: VectorStore, settings: Settings) -> WriterRecord:
    """Before a writer changes anything: the store is this index's from now on (an unclaimed one is claimed), and
    this folder is not an older copy of the index than the one that last wrote to it."""
    import uuid

    ours = manifest_writer(manifest)
    if ours.index_id is None:
        ours = WriterRecord(uuid.uuid4().hex, ours.generation)
        manifest.set_meta(_INDEX_ID, ours.index_id)
    theirs = store.writer()
    # A store handed in, or claimed by another index since it was opened, is refused here too.
    check_writer(theirs, ours, settings, writing=True)
    record = WriterRecord(ours.index_id, max(ours.generation, theirs.generation))
    if theirs != record:
        store.record_writer(record)
    return record


class WriteCount:
    """Counts a writing ingest in the manifest and the store, once, before its first change to the store (the manifest
    first): a copy of the folder that runs while this one writes, or after it was killed mid-way, is then older than
    the store, and refused, rather than taking this run's new chunks for orphans."""

    def __init__(self, manifest: Manifest, store: VectorStore, claimed: WriterRecord) -> None:
        self._manifest, self._store, self._claimed = manifest, store, claimed
        self._counted = False

    def before_change(self) -> None:
        if self._counted:
            return
        written = WriterRecord(self._claimed.index_id, self._claimed.generation + 1)
        self._manifest.set_meta(_GENERATION, str(written.generation))
        self._store.record_writer(written)
        self._counted = True


def check_where_vectors_live(manifest: Manifest, settings: Settings) -> None:
    """Refuse settings that point away from where this index's vectors were written (an index written before
    this was recorded is not checked until its next ingest records it)."""
    collection, vectors_on = manifest.get_meta(_COLLECTION), manifest.get_meta(_VECTORS_ON)
    folder = settings.data_dir
    reset = "or run `assistant ingest --reset` with the minutes to build the index anew"
    if vectors_on == "local" and settings.uses_chroma_server:
        raise IndexMismatchError(
            f"The index in {folder} keeps its vectors in {settings.chroma_dir}, but CHROMA_HOST is set "
            f"({settings.chroma_host}:{settings.chroma_port}).",
            f"Unset CHROMA_HOST to use them, {reset} on that server.")
    if vectors_on and vectors_on.startswith("server") and not settings.uses_chroma_server:
        raise IndexMismatchError(
            f"The index in {folder} keeps its vectors on the Chroma server at {vectors_on.split()[-1]}, but "
            "CHROMA_HOST is not set.",
            f"Set CHROMA_HOST and CHROMA_PORT to that server, {reset} in {settings.chroma_dir}.")
    if collection and collection != settings.collection:
        raise IndexMismatchError(
            f"The index in {folder} keeps its vectors in the collection {collection!r}, not "
            f"{settings.collection!r} (ASSISTANT_COLLECTION).",
            f"Set ASSISTANT_COLLECTION={collection} (or unset it, if that is the default), {reset} in "
            f"{settings.collection!r}.")


def ingest(paths: Sequence[Path], settings: Settings, *, prune: bool = False, reset: bool = False,
           index: Index | None = None, progress: bool | None = None, cwd: Path | None = None,
           council: str = "", committee: str = "", no_path_given: bool = False) -> IngestSummary:
    """Bring the index in line with the inputs. Safe to repeat, and safe to kill and repeat.

    `council` and `committee` are given to every item whose file names none: a PDF, a Word or plain text file, or
    front matter without the field. What a file says itself is kept. The index remembers them for those items, so
    that a later ingest of the same files (or `serve` reading corpus/) keeps them without being told again.
    `no_path_given` says that `paths` is the CLI's default, DEFAULT_CORPUS, and not what the user typed."""
    from assistant.ingest.readers import read_inputs

    # The index's own folder is never read as minutes, when it is kept inside a folder of them; the readers' notes
    # (that, and JSONL lines known only by their line number) are complete once the inputs have all been read.
    reader_notes: list[str] = []
    found = read_inputs(list(paths), settings.max_item_chars, cwd=cwd,
                        index_folders=[settings.data_dir.expanduser().resolve()], notes=reader_notes)
    if no_path_given:
        found = _explaining_the_default(found, (cwd or Path.cwd()).resolve())
    summary = ingest_items(found, settings, prune=prune,
                           reset=reset, index=index, progress=progress,
                           given=GivenFields(council.strip(), committee.strip()), paths_named=bool(paths),
                           files_from=(cwd or Path.cwd()).resolve())
    summary.notes.extend(reader_notes)
    return summary


# What the CLI reads when it is given no PATH (`assistant ingest`, `serve`), relative to the working directory.
DEFAULT_CORPUS = Path("corpus")


def _explaining_the_default(found: Iterable[MinuteItem | InputProblem],
                            cwd: Path) -> Iterator[MinuteItem | InputProblem]:
    """The inputs, with a missing corpus/ said to be the folder read when no PATH is given: run from another folder,
    'corpus: no such file or folder' names a folder the user never named."""
    for problem in found:
        if isinstance(problem, InputProblem) and problem.origin == str(DEFAULT_CORPUS) \
                and not (cwd / DEFAULT_CORPUS).exists():
            problem = replace(problem, reason="no such folder here: corpus/ is the folder read when no PATH is given",
                              hint=f"Name the files or folders of your minutes (`assistant ingest PATH ...`), or run "
                                   f"this in the folder that holds corpus/ (this one is {cwd}).")
        yield problem


# The manifest's record of the council and committee given to ingest, by source id: JSON {id: [council, committee]}.
GIVEN_FIELDS_META = "given_fields"


@dataclass(frozen=True)
class GivenFields:
    """The council and committee given to ingest for the items whose files name none."""

    council: str = ""
    committee: str = ""


def _with_given(found: Iterable[MinuteItem | InputProblem], given: GivenFields,
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


def _remembered_fields(manifest: Manifest) -> dict[str, list[str]]:
    return json.loads(manifest.get_meta(GIVEN_FIELDS_META) or "{}")


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
        yield


# A reader asking whether a writer is at work (`writer_at_work`) holds the lock, shared, for an instant: a writer
# starting in that instant tries again a few times, rather than take the reader for another writer.
_LOCK_TRIES, _LOCK_RETRY_SECONDS = 5, 0.05


def _take_write_lock(held: ExitStack, settings: Settings) -> None:
    busy = AssistantError(f"Another ingest or fetch is writing to {settings.data_dir}, so this run changed nothing.",
                          "Wait for it to finish and run this again.")
    for attempt in range(_LOCK_TRIES):
        try:
            held.enter_context(exclusive_lock(write_lock_path(settings), busy, mode=0o666))
            return
        except AssistantError as exc:
            if exc is not busy or attempt == _LOCK_TRIES - 1:
                raise
            time.sleep(_LOCK_RETRY_SECONDS)


def _not_writable(settings: Settings, why: str) -> NotWritableError:
    return NotWritableError(
        f"This user may not write to the index in {settings.data_dir} ({why}), so this run changed nothing.",
        "Run `assistant ingest` and `assistant fetch` as a user who may write that folder (its owner, say), or make "
        "the folder writable for this one.")


def ingest_items(found_items: Iterable[MinuteItem | InputProblem], settings: Settings, *, prune: bool = False,
                 reset: bool = False, index: Index | None = None, progress: bool | None = None,
                 given: GivenFields | None = None, paths_named: bool = False,
                 files_from: Path | None = None, purge: bool = True) -> IngestSummary:
    """`ingest` for items from any source (files, a web service): the same chunking, manifest and safety.
    `given` fills the council and committee of files that name none (`ingest`). With `paths_named`, inputs that
    hold no minutes are taken for a mistake (an empty or mistyped folder): --reset and --prune then change
    nothing, where with no inputs at all they empty the index. `files_from` is the folder the items' file origins
    are relative to, for telling one file from another when their `file:` identities meet (None: not files). With
    `purge`, the run ends with the purge owed, if any (a fetch asks for it once, with its last batch)."""
    with writing_index(settings):  # before anything is read, so that a second writer learns it at once
        return _ingest_items(found_items, settings, prune=prune, reset=reset, index=index, progress=progress,
                             given=given, paths_named=paths_named, files_from=files_from, purge=purge)


def _ingest_items(found_items: Iterable[MinuteItem | InputProblem], settings: Settings, *, prune: bool,
                  reset: bool, index: Index | None, progress: bool | None,
                  given: GivenFields | None = None, paths_named: bool = False,
                  files_from: Path | None = None, purge: bool = True) -> IngestSummary:
    started = time.perf_counter()
    crash = CrashPoints(settings.crash_at)
    remembered: dict[str, list[str]] = {}
    if given is not None:  # read before a reset clears the manifest: a reset keeps what was given
        if index is not None:
            remembered = _remembered_fields(index.manifest)
        else:
            opened = Manifest(settings.manifest_path)
            remembered = _remembered_fields(opened)
            opened.close()
        found_items = _with_given(found_items, given, remembered)
    if reset:
        # Everything is read, and the model loaded, before anything is removed: a mistyped path, a damaged
        # file or a model that will not load must not leave the user with an empty index.
        found_items = list(found_items)
        unread = [p for p in found_items if isinstance(p, InputProblem) and p.kind == "failed"]
        if unread:
            raise AssistantError(
                f"Not resetting the index: {len(unread)} of the inputs could not be read "
                f"({'; '.join(p.describe() for p in unread)}).",
                "Nothing was changed. Fix or leave out those inputs, then run `assistant ingest --reset` again.")
        if paths_named and not any(isinstance(found, MinuteItem) for found in found_items):
            raise AssistantError(
                f"Not resetting the index: the inputs hold no minutes{_skipped_in(found_items)}, so the index "
                "would be left empty.",
                f"Nothing was changed. Check the paths (an empty or mistyped folder?); to empty the index on "
                f"purpose, delete {settings.data_dir}.")
        embedder = index.embedder if index else make_embedder(settings)
        embedder.embed_query("looked-after children")
        opened = index.manifest if index is not None else Manifest(settings.manifest_path)
        try:
            # Kept until the rebuild is done, so that `stats` can say that a reset killed part way left part of the
            # index; a reset_store that fails in any way (a store refused as another index's, an error of Chroma's,
            # an interrupt) leaves the index as it was, and no such record.
            opened.set_meta(RESET_UNFINISHED, "1")
            owe_purge(opened)
            try:
                reset_store(settings, manifest_writer(opened))
            except BaseException:
                opened.delete_meta(RESET_UNFINISHED)
                raise
        finally:
            if index is None:
                opened.close()
        shutil.rmtree(settings.lexical_dir, ignore_errors=True)
        cleared = Manifest(settings.manifest_path)
        cleared.clear(keeping=(RESET_UNFINISHED, PURGE_OWED))
        cleared.close()
        index = index or Index(settings, embedder=embedder)
    index = index or Index(settings)
    summary = IngestSummary()
    manifest, store = index.manifest, index.store
    writes = WriteCount(manifest, store, claim_store(manifest, store, settings))
    manifest.set_meta("embedding_model", index.embedder.name)
    record_where_vectors_live(manifest, settings)
    rows = manifest.rows()

    items: dict[str, MinuteItem] = {}
    restricted: set[str] = set()
    unread: list[InputProblem] = []  # inputs that failed to read, which may hold items the index has
    for found in found_items:
        if isinstance(found, InputProblem):
            summary.problems.append(found)
            if found.kind == "failed":
                unread.append(found)
        elif found.source_id in items or found.source_id in restricted:
            first = items.get(found.source_id)
            summary.problems.append(InputProblem(
                found.origin, "failed", f"has the same source identity as {first.origin if first else 'another item'}",
                "If both are the same agenda item (an export and its corrected copy, say), keep only the newer "
                "one and ingest again; if they are different items, give one of them its own `id` or `source_url`."))
        elif found.restricted:
            restricted.add(found.source_id)
            summary.problems.append(InputProblem(found.origin, "restricted", "marked restricted: not indexed"))
        else:
            items[found.source_id] = found
    superseded: dict[str, str] = {}
    files = _Files(files_from, json.loads(manifest.get_meta(FILE_PATHS_META) or "{}"),
                   json.loads(manifest.get_meta(FILE_TEXTS_META) or "{}")) if files_from else None
    if files is not None:
        stored = _remembered_fields(manifest)
        for problem in _identities_taken(items, rows, files):
            del items[problem.source_id]
            summary.problems.append(problem.problem)
            unread.append(problem.problem)  # it failed: --prune must drop nothing for want of it
            # Nor may the council given for it now pass to the other file's entry, whose identity it shares.
            if problem.source_id in stored:
                remembered[problem.source_id] = stored[problem.source_id]
            else:
                remembered.pop(problem.source_id, None)
        superseded = _files_indexed_before(items, rows, files)
        for old_sid, new_sid in superseded.items():
            # The same file, indexed before under another identity (named on its own, then through its folder):
            # the new entry replaces the old one, and keeps the council and committee given to it.
            if old_sid in remembered and new_sid not in remembered:
                remembered[new_sid] = remembered[old_sid]
                council, committee = remembered[new_sid]
                item = items[new_sid]
                items[new_sid] = replace(item, council=item.council or council, committee=item.committee or committee)
            remembered.pop(old_sid, None)
        for origin, old_sids in _by_origin(superseded, items).items():
            summary.notes.append(f"{origin} was indexed before under another identity ({first_few(old_sids, 3)}), "
                                 "named another way: its new entry replaces the old")
        carried = []
        for old_sid, new_sid in _files_moved(items, rows, files, superseded).items():
            # A file moved or renamed since: its new identity is given what was given to its old one.
            if old_sid in remembered and new_sid not in remembered:
                remembered[new_sid] = remembered[old_sid]
                council, committee = remembered[new_sid]
                item = items[new_sid]
                items[new_sid] = replace(item, council=item.council or council, committee=item.committee or committee)
                carried.append(f"{rows[old_sid].origin} -> {item.origin}")
        if carried:
            summary.notes.append(
                f"{counted(len(carried), 'file')} moved or renamed since last indexed ({first_few(carried, 3)}): "
                f"{'it keeps' if len(carried) == 1 else 'they keep'} the council and committee given to ingest before")
    if given is not None and remembered != _remembered_fields(manifest):
        manifest.set_meta(GIVEN_FIELDS_META, json.dumps(remembered, sort_keys=True))
    crash.reached("after_read")

    withdrawn = [sid for sid in restricted if sid in rows]
    lost, orphans = _check_store(store, manifest, rows)
    if orphans:  # left by a run killed before its manifest commit, for items gone since
        writes.before_change()
        owe_purge(manifest)
        store.delete(orphans)
        summary.notes.append(f"removed {len(orphans)} chunks that no manifest entry owned")
    # Lost items among the inputs are embedded again below; the rest leave the index, so that it answers
    # again, and are named, to be ingested or fetched again.
    lost_elsewhere = sorted(lost - items.keys())
    if lost:
        summary.notes.append(f"{len(lost)} items had lost their vectors from the store; "
                             f"{len(lost) - len(lost_elsewhere)} of them, among these inputs, are embedded again")
    if lost_elsewhere:
        summary.notes.append(
            f"{len(lost_elsewhere)} items that lost their vectors are not among these inputs and left the index: "
            f"ingest or fetch them again ({first_few([rows[sid].origin or sid for sid in lost_elsewhere], 5)})")
    todo: list[tuple[MinuteItem, str]] = []
    for sid, item in items.items():
        fingerprint = index.fingerprint(item)
        row = rows.get(sid)
        if row and row.status == "done" and row.fingerprint == fingerprint and sid not in lost:
            summary.unchanged += 1
        else:
            todo.append((item, fingerprint))

    to_embed = []
    for item, fingerprint in todo:
        chunks = index.chunk(item)
        if not chunks:
            summary.problems.append(InputProblem(item.origin, "skipped", "holds no minute text after its headings",
                                                 "check that the file is the minutes and not an empty page"))
            continue
        to_embed.append((item, fingerprint, chunks))

    if to_embed:
        writes.before_change()
    bar = progress_bar(sum(len(c) for _, _, c in to_embed), progress)
    for start in range(0, len(to_embed), _ITEMS_PER_BATCH):
        _write_batch(index, to_embed[start:start + _ITEMS_PER_BATCH], rows, summary, crash, bar)
    if bar is not None:
        bar.close()

    stale = set(withdrawn) | set(lost_elsewhere) | set(superseded)
    if prune and unread:
        summary.notes.append(
            f"--prune removed nothing this time: {len(unread)} of the inputs could not be read "
            f"({first_few([p.origin for p in unread], 3)}), and the items they "
            "hold must not be dropped for it. Fix them, then run with --prune again.")
    elif prune and paths_named and not items and not restricted and rows:
        summary.notes.append(
            f"--prune removed nothing: the inputs hold no minutes{_skipped_in(summary.problems)}, and pruning would "
            f"have emptied the index. Check the paths (an empty or mistyped folder?); to empty the index on "
            f"purpose, delete {settings.data_dir}.")
    elif prune:
        # A file that is there but was passed over this time (emptied, cut to a scan, over the length cap) is among
        # the inputs: its indexed items stay until it is removed or read again.
        passed_over = {p.origin for p in summary.problems if p.kind == "skipped"}
        # Matched by the file too, however its path was written (and every line of a JSONL file).
        passed_over_files = {path for origin in passed_over if (path := files.of_origin(origin))} if files else set()
        kept = {sid for sid in rows if sid not in items and (rows[sid].origin in passed_over or (
            files is not None and files.of_row(sid, rows[sid]) in passed_over_files))}
        if kept:
            summary.notes.append(f"--prune kept {counted(len(kept), 'item')} whose files were passed over this time "
                                 f"({first_few(sorted({rows[sid].origin for sid in kept}), 3)}): fix or remove "
                                 "those files, then run with --prune again")
        stale |= {sid for sid in rows if sid not in items and sid not in restricted and sid not in kept}
    if not prune and files is not None:
        gone = sorted(rows[sid].origin or sid for sid in rows if sid not in items and sid not in stale
                      and sid in files.recorded and files.of_row(sid, rows[sid]) is None)
        if gone:
            summary.notes.append(
                f"the files of {counted(len(gone), 'indexed item')} no longer exist ({first_few(gone, 3)}): "
                f"{'it stays' if len(gone) == 1 else 'they stay'} in the index, and may be cited, until an ingest with "
                "--prune (naming every path you keep) removes them")
    if stale:
        writes.before_change()
        owe_purge(manifest)
        for sid in sorted(stale):
            ids = store.ids_for_source(sid) | set(rows[sid].chunk_ids)
            store.delete(ids)
            summary.chunks_removed += len(rows[sid].chunk_ids)
        manifest.remove(stale)
        summary.removed += len(stale)

    if files is not None:
        _record_files(manifest, files, items, stale)
    refresh_lexical(index)
    if manifest.get_meta(RESET_UNFINISHED) is not None:
        manifest.delete_meta(RESET_UNFINISHED)
    if purge and (note := purge_if_owed(manifest, store)):
        # Owed by this run or by an earlier one killed after removing text, or whose purge could not run.
        summary.notes.append(note)
    # Pending rows are a killed run's: no other writer can be midway through its items while this one holds the lock.
    interrupted = [sid for sid, row in manifest.rows().items() if row.status == "pending"]
    if interrupted:
        summary.notes.append(
            f"{len(interrupted)} items from an interrupted earlier ingest are not in this one: "
            "ingest their files again, or run with --prune to drop them")
    summary.seconds = time.perf_counter() - started
    return summary


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
class _Files:
    """Where the inputs' items come from, on disk: `files_from` resolves this run's origins, `recorded` holds what
    earlier runs resolved theirs to."""

    files_from: Path
    recorded: dict[str, str]
    # What earlier runs' items held, by source id: a hash of each one's text, to find a file moved since.
    texts: dict[str, str] = field(default_factory=dict)
    # Each path looked up once a run: every item is looked up by the checks and again when recorded, and the lines of
    # a JSONL file share one file.
    _found: dict[str, Path | None] = field(default_factory=dict)

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
                      files: _Files) -> list[_TakenIdentity]:
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
                          files: _Files) -> dict[str, str]:
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


def _record_files(manifest: Manifest, files: _Files, items: dict[str, MinuteItem], removed: set[str]) -> None:
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


def _files_moved(items: dict[str, MinuteItem], rows: dict[str, ManifestRow], files: _Files,
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


def _skipped_in(found: Iterable[MinuteItem | InputProblem]) -> str:
    """' (3 files skipped: ...)' when inputs were passed over, to say why no minutes were found; else ''."""
    skipped = [p.describe() for p in found if isinstance(p, InputProblem)]
    return f" ({len(skipped)} skipped: {first_few(skipped, 3, '; ')})" if skipped else ""


def ensure_index(settings: Settings, corpus: Path, progress: bool = True) -> IngestSummary | None:
    """Bring the index in line with ``corpus`` (a no-op when nothing changed); None if no corpus."""
    if not corpus.exists():
        if settings.manifest_path.is_file():
            return None
        from assistant.errors import IndexMissingError

        raise IndexMissingError(f"There is no index in {settings.data_dir} and no {corpus} folder to build it from.",
                                "Run `assistant ingest PATH` with your minutes first.")
    return ingest([corpus], settings, progress=progress)


def _check_store(store: VectorStore, manifest: Manifest, rows: dict[str, ManifestRow]) -> tuple[set[str], set[str]]:
    """Finished items some of whose chunks the store no longer holds (its folder deleted, or put back from an
    older copy), and the store's chunks that no manifest row owns (left by killed runs). A count first, so that
    the usual case reads no ids."""
    if store.count() == len({cid for row in rows.values() for cid in row.chunk_ids}):
        return set(), set()
    held = store.all_ids()
    lost = {sid for sid, row in rows.items() if row.status == "done" and not held.issuperset(row.chunk_ids)}
    # The manifest is read again after the store, in case a writer from before the lock (an older version) runs
    # alongside: it writes a row before its chunks, so every chunk read above that it wrote is owned by a row read here.
    owned = {cid for row in manifest.rows().values() for cid in row.chunk_ids}
    return lost, held - owned


def refresh_lexical(index: Index) -> bool:
    """Update the BM25 index when it does not hold exactly the chunks of the manifest's finished items, each as
    of its item's fingerprint. Only the chunks it lacks are read from the store (all of them for a rebuild).
    Raises AssistantError when another process is writing the index, or when it needs updating and this user may
    not write it."""
    from assistant.index import lexical

    try:
        with writing_index(index.settings):
            return _refresh_lexical(index)
    except NotWritableError:
        if lexical.holds(index.settings.lexical_dir, _lexical_versions(index)):
            return False  # nothing to write: a read-only index that is up to date is served as it is
        raise


def _lexical_versions(index: Index) -> dict[str, str]:
    """The chunks of `Manifest.indexed_chunk_ids`, versioned: an item's fingerprint changes with its metadata,
    which its chunk ids do not cover."""
    return {cid: row.fingerprint for row in index.manifest.rows().values() if row.status == "done"
            for cid in row.chunk_ids}


def _refresh_lexical(index: Index) -> bool:
    from assistant.index import lexical

    # Every writer holds the lock, so a staging folder seen now is a killed writer's.
    lexical.remove_abandoned_staging(index.settings.lexical_dir)
    wanted = _lexical_versions(index)
    if lexical.holds(index.settings.lexical_dir, wanted):
        return False

    def fetch(ids: list[str]) -> list[lexical.LexicalEntry]:
        return [lexical.LexicalEntry(c.chunk_id, c.text, c.metadata) for c in index.store.get(ids=ids)]

    lexical.update(index.settings.lexical_dir, wanted, fetch)
    return True


def _write_batch(index: Index, batch, rows, summary: IngestSummary, crash: CrashPoints, bar) -> None:
    manifest, store, embedder = index.manifest, index.store, index.embedder
    if any(item.source_id in rows for item, _, _ in batch):
        owe_purge(manifest)  # the item's row and chunks are replaced: their old text is removed
    manifest.write(
        ManifestRow(item.source_id, fp, "pending", tuple(c.chunk_id for c in chunks), item.council,
                    item.committee, item.meeting_date, item.item_title, item.origin, sum(c.tokens for c in chunks))
        for item, fp, chunks in batch
    )
    chunks = [c for _, _, item_chunks in batch for c in item_chunks]
    began = time.perf_counter()
    vectors: list[list[float]] = []
    step = max(1, index.settings.embed_batch)
    for start in range(0, len(chunks), step):
        part = chunks[start:start + step]
        vectors.extend(embedder.embed_documents([c.embed_text for c in part]))
        crash.reached("during_embedding")
        if bar is not None:
            bar.update(len(part))
    summary.embed_seconds += time.perf_counter() - began
    summary.tokens_embedded += sum(c.tokens for c in chunks)
    store.upsert(chunks, vectors)
    had_chunks = set()  # items with earlier chunks in the store: replaced, even if a killed run left them pending
    for item, _, item_chunks in batch:
        keep = {c.chunk_id for c in item_chunks}
        old = store.ids_for_source(item.source_id) - keep
        if old:
            owe_purge(manifest)
            store.delete(old)
            summary.chunks_removed += len(old)
            had_chunks.add(item.source_id)
    crash.reached("after_chroma_write")
    manifest.write(
        ManifestRow(item.source_id, fp, "done", tuple(c.chunk_id for c in item_chunks), item.council,
                    item.committee, item.meeting_date, item.item_title, item.origin,
                    sum(c.tokens for c in item_chunks))
        for item, fp, item_chunks in batch
    )
    crash.reached("after_manifest_commit")
    for item, _, item_chunks in batch:
        previous = rows.get(item.source_id)
        # A pending row is a killed run's: its item was in the index only if its earlier chunks were.
        if previous is None or (previous.status == "pending" and item.source_id not in had_chunks):
            summary.new += 1
        else:
            summary.replaced += 1
        summary.chunks_added += len(item_chunks)


def progress_bar(total: int, progress: bool | None, unit: str = "chunk", desc: str = "Embedding"):
    """A progress bar on standard error, or None: with nothing to do, when asked for none, or (by default)
    when standard error is not a terminal."""
    if total == 0:
        return None
    if progress is None:
        progress = sys.stderr.isatty()
    if not progress:
        return None
    from tqdm import tqdm

    return tqdm(total=total, unit=unit, desc=desc, file=sys.stderr)
