"""Ingest: read inputs, chunk what changed, embed it, write Chroma, then commit the manifest."""

from __future__ import annotations

import itertools
import json
import os
import shutil
import signal
import sys
import time
from collections import Counter
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Iterable, Iterator, Sequence

from assistant.errors import (AssistantError, ConfigError, IndexMismatchError, IndexStaleError, NotWritableError,
                              no_index_yet)
from assistant.files import folder_bytes, free_bytes
from assistant.index.embedder import Embedder, make_embedder
from assistant.index.manifest import (INDEX_FORMAT, INDEX_FORMAT_KEY, RESET_UNFINISHED, STORE_BEING_MADE, WITHHELD,
                                      Manifest, ManifestRow, check_index_format, check_where_vectors_live,
                                      record_where_vectors_live)
from assistant.index.purge import PURGE_OWED, finish_owed_purge, owe_purge, purge_owed
from assistant.index.vector_store import (VECTOR_KEY, ChromaStore, ManifestSide, VectorStore, WriterRecord,
                                          check_writer, forget_local_clients, reset_command, reset_store, vector_key)
from assistant.index.write_lock import writer_at_work, writing_index
from assistant.ingest.chunk import CHUNKER_VERSION, chunk_item, embed_text_of
from assistant.ingest.identities import (Files, GivenFields, a_jsonl_line, files_gone, files_unsure, given_name,
                                         gone_with_their_meeting_withheld, reconcile_files,
                                         record_files, remembered_fields, same_minutes_twice, save_remembered,
                                         with_given)
from assistant.ingest.readers.common import (AFTER_NOT_PUBLIC_HEADING, NOT_PUBLIC_LINE, UNTOLD_NOT_PUBLIC_HEADING,
                                             item_number_in)
from assistant.ingest.tokens import TokenCounter, default_counter
from assistant.records import (Chunk, InputProblem, MinuteItem, content_hash, fetched_from, other_versions,
                               page_of_item)
from assistant.settings import DEFAULT_CORPUS, Settings
from assistant.text import counted, first_few, one_printed_line

# Items per manifest transaction: small enough that a kill loses little work.
_ITEMS_PER_BATCH = 16
# A meta record a reset keeps of the fetched minutes it removed (a note for each site, with the fetch that brings them
# back, by the site's base URL) until a run has built the index again: a reset stopped part way and run again finds
# none of them left to name.
_RESET_FETCHED_GONE = "reset_fetched_gone"


@dataclass
class IngestSummary:
    new: int = 0
    replaced: int = 0
    unchanged: int = 0
    removed: int = 0  # pruned, or withdrawn because they became restricted
    chunks_added: int = 0
    chunks_removed: int = 0
    tokens_embedded: int = 0
    # Of the replaced items, those whose minutes had not changed: only cut into chunks again, by a version of the
    # assistant that cuts them otherwise than the one that last wrote them (after an upgrade).
    recut: int = 0
    # Chunks written again with the vector they had (their text for the embedder, and the model, unchanged).
    vectors_kept: int = 0
    seconds: float = 0.0
    embed_seconds: float = 0.0
    problems: list[InputProblem] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    # Those of the notes that name items a stopped run left unfinished: a fetch's batch before its last leaves them
    # out, as its own later batches may yet finish them.
    unfinished: list[str] = field(default_factory=list)

    @property
    def failed(self) -> list[InputProblem]:
        return [p for p in self.problems if p.kind == "failed"]

    @property
    def skipped(self) -> list[InputProblem]:
        return [p for p in self.problems if p.kind != "failed"]

    def report(self) -> str:
        """What the run did, with every problem and note: for the console."""
        recut = (f" ({self.recut} of them with unchanged minutes, cut into chunks again by this version of the "
                 "assistant)" if self.recut else "")
        kept = f" ({self.vectors_kept} kept their vectors)" if self.vectors_kept else ""
        lines = [
            f"ingested {self.new} new, replaced {self.replaced}{recut}, unchanged {self.unchanged}, "
            f"removed {self.removed}; skipped {len(self.skipped)}, failed {len(self.failed)}",
            f"chunks added {self.chunks_added}{kept}, removed {self.chunks_removed}; "
            f"{self.tokens_embedded} tokens embedded in {self.embed_seconds:.1f} s; total {self.seconds:.1f} s",
        ]
        for label, problems in (("skipped", self.skipped), ("failed", self.failed)):
            lines.extend(f"  {label}: {problem.describe()}" for problem in problems)
        lines.extend(f"  note: {note}" for note in self.notes)
        # Notes name files, titles and councils as the minutes give them: an escape sequence in one must not drive
        # the terminal, nor a line break in one forge a line of the summary.
        return "\n".join(one_printed_line(line) for line in lines)

    def as_dict(self) -> dict:
        return {
            "new": self.new, "replaced": self.replaced, "unchanged": self.unchanged, "removed": self.removed,
            "chunks_added": self.chunks_added, "chunks_removed": self.chunks_removed,
            "tokens_embedded": self.tokens_embedded, "recut": self.recut, "vectors_kept": self.vectors_kept,
            "seconds": round(self.seconds, 3),
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
                 counter: TokenCounter | None = None, reading: bool = False, rebuild_collection: bool = False) -> None:
        """`reading`: opened to answer questions, which never makes a vector store that is not there.
        `rebuild_collection`: a Chroma server without the index's collection is given it again, empty."""
        self.settings = settings
        self.embedder = embedder or make_embedder(settings)
        self.manifest = Manifest(settings.manifest_path)
        try:
            # Before the store is opened, which makes its collection: a mistyped collection name, or a forgotten
            # CHROMA_HOST, would otherwise look like a store that lost every chunk, and the ingest that message
            # suggests would drop from the index the fetched minutes it cannot embed again.
            check_index_format(self.manifest, settings.data_dir)
            check_where_vectors_live(self.manifest, settings)
            # (RESET_UNFINISHED alone is no bar: a fetch after a reset cut short fills the store, and the mark stays
            # until minutes files are ingested again, while fetches keep writing to a store readers may search.)
            if reading and store is None and writer_at_work(settings) and \
                    self.manifest.get_meta(STORE_BEING_MADE) is not None:
                # Its store is being removed and made anew: not opened meanwhile (see ChromaStore's `create`).
                raise IndexStaleError("The index's vector store is being made anew by another process (`ingest "
                                      "--reset`, or an ingest or fetch mending a damaged store).",
                                      "Ask again once it has finished.")
            self.store = store or ChromaStore(settings, self.embedder.name,
                                              ManifestSide(self.manifest.get_meta(_INDEX_ID),
                                                           self.manifest.has_finished_items(), rebuild_collection),
                                              create=not reading)
        except IndexStaleError:
            reset_cut_short = all(self.manifest.get_meta(key) is not None
                                  for key in (RESET_UNFINISHED, STORE_BEING_MADE))
            self.manifest.close()
            if reading and reset_cut_short and not writer_at_work(settings):
                # A reset cut short removed the keyword index's copy of the text too: only the minutes themselves
                # can fill the store again.
                raise IndexStaleError(f"A reset of the index in {settings.data_dir} (`assistant ingest --reset`) was "
                                      "cut short before it had made the vector store again, so it cannot be searched.",
                                      "Run the same `assistant ingest --reset` with your minutes again (fetched "
                                      "minutes must be fetched again).") from None
            raise
        except BaseException:
            self.manifest.close()
            raise
        self.counter = counter or default_counter()
        # Whether every vector of the store has been read once by this writer (`mend_unreadable_store`): a fetch
        # ingests batch after batch through one Index, and its own writes since are sound.
        self.every_vector_read = False
        # Whether this writer has compared the store's chunk ids with the manifest's once (`_check_store`): after it,
        # its own writes keep them in step, and a count tells the rest.
        self.every_id_compared = False
        _check_embedding_model(settings, self.manifest.get_meta("embedding_model"), self.embedder.name)

    def close(self) -> None:
        self.manifest.close()

    def fingerprint(self, item: MinuteItem, chunker_version: str | None = None) -> str:
        return content_hash(item.item_hash, chunker_version or CHUNKER_VERSION, str(self.settings.chunk_tokens),
                            self.embedder.name)

    def cut_otherwise_only(self, item: MinuteItem, fingerprint: str) -> bool:
        """Was this fingerprint the item's as another version of the chunker cut it (the minutes, the chunk size and
        the model as now)?"""
        return any(fingerprint == self.fingerprint(item, version) for version in other_versions(CHUNKER_VERSION))

    def chunk(self, item: MinuteItem) -> list[Chunk]:
        return chunk_item(item, self.counter, self.settings.chunk_tokens, fits=self.embedder.fits)


# The manifest's side of the store's WriterRecord: the index's own id, made at its first ingest and kept by copies of
# its folder, and how many ingests have written to its store.
_INDEX_ID, _GENERATION = "index_id", "generation"


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


def _check_embedding_model(settings: Settings, stored_model: str | None, model: str) -> None:
    if stored_model and stored_model != model:
        raise IndexMismatchError(
            f"The index in {settings.data_dir} was built with {stored_model!r}, not {model!r}.",
            f"Run {reset_command(settings)} to rebuild it, or set ASSISTANT_EMBEDDING_MODEL back.",
        )


def check_index_fits(settings: Settings) -> None:
    """What opening the index to write it would refuse (its vectors kept elsewhere, another embedding model), told
    from its manifest alone, without loading a model: `fetch` asks it before the site is asked anything, which at a
    polite request a second had spent many requests first."""
    if not settings.manifest_path.is_file():
        return
    manifest = Manifest(settings.manifest_path, read_only=True)
    try:
        check_index_format(manifest, settings.data_dir)
        check_where_vectors_live(manifest, settings)
        stored_model = manifest.get_meta("embedding_model")
    finally:
        manifest.close()
    _check_embedding_model(settings, stored_model, make_embedder(settings).name)  # names it; loads nothing


def ingest(paths: Sequence[Path], settings: Settings, *, prune: bool = False, reset: bool = False,
           index: Index | None = None, progress: bool | None = None, cwd: Path | None = None,
           council: str | None = None, committee: str | None = None, no_path_given: bool = False,
           rebuild_collection: bool = False) -> IngestSummary:
    """Bring the index in line with the inputs. Safe to repeat, and safe to kill and repeat.

    `council` and `committee` are given to every item whose file names none: a PDF, a Word or plain text file, or
    front matter without the field. What a file says itself is kept. The index remembers them for those items, so
    that a later ingest of the same files (or `serve` reading corpus/) keeps them without being told again.
    `no_path_given` says that `paths` is the CLI's default, DEFAULT_CORPUS, and not what the user typed. A blank
    `council` or `committee`, or one holding a control character, is refused (ConfigError). `rebuild_collection`
    (`ingest_items`) with no `paths` reads nothing."""
    from assistant.ingest.readers import read_inputs

    given = GivenFields(given_name(council, "--council"), given_name(committee, "--committee"))
    if rebuild_collection and not paths:
        return ingest_items([], settings, prune=prune, reset=reset, index=index, progress=progress,
                            rebuild_collection=True)

    # The index's own folder is never read as minutes, when it is kept inside a folder of them; the readers' notes
    # (that, and JSONL lines known only by their line number) are complete once the inputs have all been read.
    reader_notes: list[str] = []
    found = read_inputs(list(paths), settings.max_item_chars, cwd=cwd,
                        index_folders=[settings.data_dir.expanduser().resolve()], notes=reader_notes)
    if no_path_given:
        _refuse_the_demo_into_other_minutes(settings)
        found = _explaining_the_default(found, (cwd or Path.cwd()).resolve())
    summary = ingest_items(found, settings, prune=prune,
                           reset=reset, index=index, progress=progress,
                           given=given, paths_named=bool(paths),
                           files_from=(cwd or Path.cwd()).resolve())
    summary.notes.extend(reader_notes)
    return summary


def _refuse_the_demo_into_other_minutes(settings: Settings) -> None:
    """With no PATH, ingest reads corpus/, the project's demo minutes. Into an index that holds only minutes fetched
    from a council's site, that is a mistake: after a stopped fetch, `assistant ingest` run from the project folder
    had put five other councils' minutes among a council's own. (An index holding files is left alone: where its
    files were read from cannot be told reliably from another working directory.)"""
    if not settings.manifest_path.is_file():
        return
    manifest = Manifest(settings.manifest_path, read_only=True)
    try:
        origins = [row.origin for row in manifest.rows().values()]
    finally:
        manifest.close()
    sites = sorted({fetched_from(origin) for origin in origins})
    if not origins or "" in sites:  # empty, or holding an item read from a file
        return
    raise AssistantError(
        f"No PATH was given, so ingest would read {DEFAULT_CORPUS}/ (the project's demo minutes) into the index "
        f"{settings.data_dir}, which holds only minutes fetched from {first_few(sites, 2)} "
        f"({counted(len(origins), 'item')}).",
        "To bring fetched minutes up to date, run the same `assistant fetch` again; to add minutes from files, name "
        f"them (`assistant ingest PATH ...`); to add the demo minutes after all, name {DEFAULT_CORPUS} itself.")


def _read_to_the_first_minutes(found: Iterable[MinuteItem | InputProblem]
                               ) -> tuple[Iterable[MinuteItem | InputProblem], bool]:
    """The inputs, read as far as their first item of minutes (the rest still to come), and whether they hold one."""
    read: list[MinuteItem | InputProblem] = []
    rest = iter(found)
    for one in rest:
        read.append(one)
        if isinstance(one, MinuteItem):
            return itertools.chain(read, rest), True
    return read, False


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


def ingest_items(found_items: Iterable[MinuteItem | InputProblem], settings: Settings, *, prune: bool = False,
                 reset: bool = False, index: Index | None = None, progress: bool | None = None,
                 given: GivenFields | None = None, paths_named: bool = False,
                 files_from: Path | None = None, purge: bool = True, withhold: Sequence[str] = (),
                 rebuild_collection: bool = False) -> IngestSummary:
    """`ingest` for items from any source (files, a web service): the same chunking, manifest and safety.
    `given` fills the council and committee of files that name none (`ingest`). With `paths_named`, inputs that
    hold no minutes are taken for a mistake (an empty or mistyped folder): --reset and --prune then change
    nothing, where with no inputs at all they empty the index. `files_from` is the folder the items' file origins
    are relative to, for telling one file from another when their `file:` identities meet (None: not files). With
    `purge`, the run ends with the purge owed, if any (a fetch asks for it once, with its last batch). `withhold`
    adds identities to the index's withheld ones (`assistant withhold`): items they name are taken out now, and never
    indexed again until released. `rebuild_collection` (`ingest --rebuild-collection`) gives a Chroma server that
    lost the index's collection the collection again, and so the index's every item, embedded from the copy of its
    text the index keeps; a collection of its name holding chunks of no index, or another index's, is refused."""
    if rebuild_collection:
        _check_rebuild_collection(settings, reset=reset, prune=prune)
    with writing_index(settings):  # before anything is read, so that a second writer learns it at once
        return _ingest_items(found_items, settings, prune=prune, reset=reset, index=index, progress=progress,
                             given=given, paths_named=paths_named, files_from=files_from, purge=purge,
                             withhold=withhold, rebuild_collection=rebuild_collection)


def _check_rebuild_collection(settings: Settings, *, reset: bool, prune: bool) -> None:
    if reset or prune:
        raise ConfigError(f"--rebuild-collection cannot go with {'--reset' if reset else '--prune'}.",
                          "Run `assistant ingest --rebuild-collection` first, then any other ingest.")
    if not settings.uses_chroma_server:
        raise ConfigError("--rebuild-collection is for an index whose vectors are on a Chroma server, and CHROMA_HOST "
                          "is not set.",
                          "For an index whose vector store is in its data folder, run `assistant ingest` (or "
                          "`assistant fetch`): it makes a lost or damaged store again by itself. For one on a server, "
                          "set CHROMA_HOST and CHROMA_PORT to that server.")
    if not settings.manifest_path.is_file():
        # Else an empty index would be made here, and claim the collection that the real index's rebuild needs.
        raise no_index_yet(settings.data_dir)


def _ingest_items(found_items: Iterable[MinuteItem | InputProblem], settings: Settings, *, prune: bool,
                  reset: bool, index: Index | None, progress: bool | None,
                  given: GivenFields | None = None, paths_named: bool = False,
                  files_from: Path | None = None, purge: bool = True, withhold: Sequence[str] = (),
                  rebuild_collection: bool = False) -> IngestSummary:
    started = time.perf_counter()
    if index is None and paths_named and not reset and not settings.manifest_path.is_file():
        # A first ingest of nothing (run from another folder than the one holding corpus/, a mistyped path) makes no
        # index: an empty one had `ask` and the app answer every question that the minutes do not cover it, where
        # they otherwise say that there is no index yet, and how to build one.
        found_items, holds_minutes = _read_to_the_first_minutes(found_items)
        if not holds_minutes:
            return IngestSummary(problems=list(found_items), seconds=time.perf_counter() - started, notes=[
                f"No index was made in {one_printed_line(str(settings.data_dir))}: the inputs hold no minutes."])
    crash = CrashPoints(settings.crash_at)
    remembered: dict[str, list[str]] = {}
    if given is not None:  # read before a reset clears the manifest: a reset keeps what was given
        if index is not None:
            remembered = remembered_fields(index.manifest)
        else:
            opened = Manifest(settings.manifest_path)
            remembered = remembered_fields(opened)
            opened.close()
        found_items = with_given(found_items, given, remembered)
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
            reset_fetched = {sid: row for sid, row in opened.rows().items() if fetched_from(row.origin)}
            said_before = opened.get_meta(_RESET_FETCHED_GONE)
            gone = json.loads(said_before or "{}")
            for site, note in _fetched_gone_in_reset(reset_fetched, settings).items():
                gone.setdefault(site, note)  # an earlier, stopped reset's note counts what it removed
            if gone:
                opened.set_meta(_RESET_FETCHED_GONE, json.dumps(gone))
            # Kept until the rebuild is done, so that `stats` can say that a reset killed part way left part of the
            # index; a reset_store that fails in any way (a store refused as another index's, an error of Chroma's,
            # an interrupt) leaves the index as it was, and no such record.
            opened.set_meta(RESET_UNFINISHED, "1")
            opened.set_meta(STORE_BEING_MADE, "1")
            owed_before = purge_owed(opened)
            owe_purge(opened)
            try:
                reset_store(settings, manifest_writer(opened))
            except BaseException:
                # As the reset record: a store that could not be reset holds what it held, so nothing was removed
                # that this run must purge (a purge owed by an earlier run stays owed).
                opened.delete_meta(RESET_UNFINISHED)
                opened.delete_meta(STORE_BEING_MADE)
                if said_before is None:
                    opened.delete_meta(_RESET_FETCHED_GONE)
                if not owed_before:
                    opened.delete_meta(PURGE_OWED)
                raise
        finally:
            if index is None:
                opened.close()
        shutil.rmtree(settings.lexical_dir, ignore_errors=True)
        cleared = Manifest(settings.manifest_path)
        cleared.clear(keeping=(RESET_UNFINISHED, STORE_BEING_MADE, PURGE_OWED, WITHHELD, _RESET_FETCHED_GONE))
        cleared.close()
        index = index or Index(settings, embedder=embedder)
    index = index or Index(settings, rebuild_collection=rebuild_collection)
    summary = IngestSummary()
    mended, kept = mend_unreadable_store(index)
    summary.notes += mended
    manifest, store = index.manifest, index.store
    if (gone := manifest.get_meta(_RESET_FETCHED_GONE)) and (reset or files_from is not None):
        summary.notes += json.loads(gone).values()  # a fetch, which brings its site's minutes back, does not say it
    writes = WriteCount(manifest, store, claim_store(manifest, store, settings))
    manifest.set_meta("embedding_model", index.embedder.name)
    manifest.set_meta(INDEX_FORMAT_KEY, str(INDEX_FORMAT))
    record_where_vectors_live(manifest, settings)
    rows = manifest.rows()
    if withhold:
        before = manifest.withheld()
        manifest.set_withheld({**before, **{identity: what_is_withheld(store, rows, identity, before.get(identity))
                                            for identity in withhold}})
    withheld_record = manifest.withheld()
    withheld = set(withheld_record)
    copies = {signature for known in withheld_record.values() for signature in known.get("signatures", [])}
    cut: dict[MinuteItem, list[Chunk]] = {}  # chunks made for the copy check, used again when the item is written
    if copies:  # each item read, and each file or page of them, is known by its words (copy_signatures)
        found_items = list(found_items)
        cut = {found: index.chunk(found) for found in found_items if isinstance(found, MinuteItem)}
        copied = withheld_only(copy_signatures(cut, lambda item: [chunk.text for chunk in cut[item]]), copies)

    items: dict[str, MinuteItem] = {}
    restricted: set[str] = set()
    withheld_now: dict[str, MinuteItem] = {}  # the items read in this run and not indexed: restricted, or withheld
    said_withheld: set[InputProblem] = set()
    unread: list[InputProblem] = []  # inputs that failed to read, which may hold items the index has
    clashing: set[tuple[str, str]] = set()  # (origin, page identity) of the files refused for another file's identity
    for found in found_items:
        if isinstance(found, InputProblem):
            summary.problems.append(found)
            if found.kind == "failed":
                unread.append(found)
        elif found.source_id in items or found.source_id in restricted:
            first = items[found.source_id].origin if found.source_id in items else withheld_now[found.source_id].origin
            page = (found.origin, page_of_item(found.source_id))
            if page in clashing:
                continue  # the file is refused whole, and said so once
            if first == found.origin or not found.source_id.startswith("file:"):
                summary.problems.append(InputProblem(
                    found.origin, "failed", f"has the same source identity as {first}",
                    "If both are the same agenda item (an export and its corrected copy, say), keep only the newer "
                    "one and ingest again; if they are different items, give one of them its own `id` or "
                    "`source_url`."))
                if found.restricted and found.source_id in items:
                    # One agenda item, marked restricted in one of its copies: the mark wins, whichever copy was
                    # read first (a public export before its restricted correction had kept the item indexed).
                    del items[found.source_id]
                    restricted.add(found.source_id)
                    withheld_now[found.source_id] = found
                    summary.problems.append(InputProblem(found.origin, "restricted", _withheld(found)))
            else:
                # Once for the file, not for each of its agenda items; a PDF or a Word file carries no `id`.
                clashing.add(page)
                summary.problems.append(InputProblem(
                    found.origin, "failed", f"has the same source identity as {first} "
                    f"({page_of_item(found.source_id)}): two files of one name, in folders named apart",
                    "Ingest the folder that holds both, so that each is known by its path under it, or rename one "
                    "of them; if both are the same minutes, keep only the newer one."))
        elif found.restricted:
            restricted.add(found.source_id)
            withheld_now[found.source_id] = found
            summary.problems.append(InputProblem(found.origin, "restricted", _withheld(found)))
        elif withheld_by_operator(found.source_id, withheld) or (copies and signed_alike(found.source_id, copied)):
            restricted.add(found.source_id)
            withheld_now[found.source_id] = found
            if (withheld_problem := InputProblem(found.origin, "restricted", WITHHELD_NOTE)) not in said_withheld:
                said_withheld.add(withheld_problem)  # a file's agenda items withheld with it: said once, for the file
                summary.problems.append(withheld_problem)
        elif (site := _fetched_under(found, rows)) and not fetched_from(found.origin):
            # A saved item page, or an export's line, under a fetched item's address would take the item over: the
            # file's text in place of the site's (corrected) minutes, which fetch, finding the meeting not modified,
            # never puts back; and --prune, once the file is gone, would drop the item. (One marked restricted, or
            # withheld, still takes the item out, above.)
            summary.problems.append(InputProblem(
                found.origin, "failed", f"has the same source identity as an item fetched from {site} "
                f"({found.source_id}): the fetched item is kept",
                f"It is already indexed from the site, and `assistant fetch {site}` keeps it current: remove this "
                "copy from your minutes folder, or, if it is other minutes, give it its own `id`."))
        else:
            items[found.source_id] = found
    # A file whose identity another file of this run has is refused whole: its agenda items ('file:minutes.pdf#item-4')
    # share that identity, and none may slip in beside the other file's.
    for sid in [sid for sid, item in items.items() if (item.origin, page_of_item(sid)) in clashing]:
        del items[sid]
    superseded: dict[str, str] = {}
    no_longer_held: list[str] = []
    moved_away: list[str] = []
    files = Files.read(manifest, files_from) if files_from else None
    if files is not None:
        changes = reconcile_files(items, rows, files, remembered, remembered_fields(manifest), summary.problems)
        summary.problems += changes.refused
        unread += changes.refused  # they failed: --prune must drop nothing for want of them
        superseded = changes.superseded
        no_longer_held = changes.no_longer_held
        moved_away = changes.moved_away
        summary.notes += changes.notes
        summary.notes += same_minutes_twice(items, files)
        # Withdrawn as a restricted item is (below), whether or not --prune was given.
        of_withheld, note = gone_with_their_meeting_withheld(
            items, rows, files, withheld_now.values(), [*superseded, *no_longer_held, *moved_away])
        restricted.update(of_withheld)
        if note:
            summary.notes.append(note)
    if given is not None:
        save_remembered(manifest, remembered)
    crash.reached("after_read")

    # Items withheld by the operator go whether or not this run read them (a fetch does not read a file's items); and
    # when they are withheld, so do copies of them the index holds under other identities.
    restricted |= {sid for sid in rows if withheld_by_operator(sid, withheld)}
    if withhold and copies:
        indexed_rows = [row for sid, row in rows.items() if sid not in restricted]
        texts = {row.source_id: [chunk.text for chunk in store.get(list(row.chunk_ids))] for row in indexed_rows}
        alike = withheld_only(copy_signatures(indexed_rows, lambda row: texts[row.source_id]), copies)
        restricted |= {row.source_id for row in indexed_rows if signed_alike(row.source_id, alike)}
    withdrawn = [sid for sid in restricted if sid in rows]
    lost, orphans = _check_store(store, manifest, rows, every_id=not index.every_id_compared)
    index.every_id_compared = True
    if orphans:  # left by a run killed before its manifest commit, for items gone since
        writes.before_change()
        owe_purge(manifest)
        store.delete(orphans)
        summary.notes.append(f"removed {counted(len(orphans), 'chunk')} that no manifest entry owned")
    if lost:
        writes.before_change()
        if restored := restore_lost_vectors(index, {sid: rows[sid] for sid in lost}, kept, crash):
            lost -= restored
            summary.notes.append(f"{counted(len(restored), 'item')} that had lost their vectors embedded again from "
                                 "the copy of their text the index keeps (nothing read or fetched again)")
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
        chunks = cut[item] if item in cut else index.chunk(item)
        if not chunks:
            summary.problems.append(InputProblem(item.origin, "skipped", "holds no minute text after its headings",
                                                 "check that the file is the minutes and not an empty page"))
            continue
        to_embed.append((item, fingerprint, chunks))
        row = rows.get(item.source_id)
        if row and row.status == "done" and index.cut_otherwise_only(item, row.fingerprint):
            summary.recut += 1

    if files is not None:  # read from files, where ingest's flags or the file itself can say what is missing
        summary.notes += _missing_fields([item for item, _, _ in to_embed])
    if to_embed:
        writes.before_change()
    bar = progress_bar(sum(len(c) for _, _, c in to_embed), progress)
    # The entries this run replaces with a new identity of their file (named through another folder, moved or renamed):
    # their chunks' vectors serve the new identity's chunks embedded from the same text.
    earlier = _EarlierVectors(index, [cid for sid in (*superseded, *moved_away) if sid in rows
                                      for cid in rows[sid].chunk_ids])
    try:
        for start in range(0, len(to_embed), _ITEMS_PER_BATCH):
            _write_batch(index, to_embed[start:start + _ITEMS_PER_BATCH], rows, summary, crash, bar, earlier)
    except KeyboardInterrupt:
        # The keyword index is saved at the end: after Ctrl-C, `ask` and the app refused every question until the
        # ingest was run again. Saved now, the finished items are answered from (a batch cut short stays pending).
        refresh_lexical(index)
        raise
    if bar is not None:
        bar.close()

    stale = set(withdrawn) | set(lost_elsewhere) | set(superseded) | set(no_longer_held) | set(moved_away)
    if prune and unread:
        summary.notes.append(
            f"--prune removed nothing this time: {len(unread)} of the inputs could not be read "
            f"({first_few([p.origin for p in unread], 3)}), and the items they "
            "hold must not be dropped for it. Fix them, then run with --prune again.")
    elif prune and paths_named and not items and not restricted and any(
            not fetched_from(row.origin) for row in rows.values()):
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
        # Fetched items have no file to name among the paths: `assistant fetch` keeps them current, withdrawing what
        # the site no longer lists, so pruning them would only throw away minutes a plain fetch may not bring back.
        fetched = _fetched_by_site({sid: row for sid, row in rows.items() if sid not in items})
        for site, sids in fetched.items():
            summary.notes.append(f"{counted(len(sids), 'item')} fetched from {site} "
                                 f"{'is' if len(sids) == 1 else 'are'} kept: --prune removes only items of files "
                                 "(`assistant fetch` keeps fetched minutes current, and withdraws what the site no "
                                 "longer lists)")
            kept.update(sids)
        stale |= {sid for sid in rows if sid not in items and sid not in restricted and sid not in kept}
    if not prune and files is not None and (note := files_gone(rows, files, stale, items)):
        summary.notes.append(note)
    if files is not None and (note := files_unsure(rows, files, stale, items)):
        summary.notes.append(note)
    if stale:
        writes.before_change()
        owe_purge(manifest)
        # Deleted together: Chroma rewrites its vector files at every write, so one delete an item took 28 ms each at
        # 30,000 chunks (a --prune of 3,600 items, 100 s), growing with the index.
        doomed: set[str] = set()
        for sid in sorted(stale):
            doomed |= store.ids_for_source(sid) | set(rows[sid].chunk_ids)
            summary.chunks_removed += len(rows[sid].chunk_ids)
        store.delete(sorted(doomed))
        manifest.remove(stale)
        summary.removed += len(stale)

    if files is not None:
        record_files(manifest, files, items, stale)
    refresh_lexical(index)
    # The store made anew is whole again. The reset is done only when minutes files were read: a fetch after a
    # reset cut short brings back its own site's minutes, not the files the reset removed, and `stats` should go on
    # saying that the index holds only part of the minutes.
    for filled in (RESET_UNFINISHED, STORE_BEING_MADE) if reset or files_from is not None else (STORE_BEING_MADE,):
        if manifest.get_meta(filled) is not None:
            manifest.delete_meta(filled)
    if (gone := manifest.get_meta(_RESET_FETCHED_GONE)) is not None:
        # Said by an ingest, they are dropped; a fetch drops only its own site's, which it brings back: another
        # site's minutes, fetched before the reset, are still to be fetched again.
        sites = {site for item in items.values() if (site := fetched_from(item.origin))}
        left = {} if reset or files_from is not None else {
            site: note for site, note in json.loads(gone).items() if site not in sites}
        if left:
            manifest.set_meta(_RESET_FETCHED_GONE, json.dumps(left))
        else:
            manifest.delete_meta(_RESET_FETCHED_GONE)
    if purge:  # owed by this run or by an earlier one killed after removing text, or whose purge could not run
        summary.notes += finish_owed_purge(manifest, store, settings)
    # Pending rows are a killed run's: no other writer can be midway through its items while this one holds the lock.
    interrupted = {sid: row for sid, row in manifest.rows().items() if row.status == "pending"}
    unfinished_fetches = _fetched_by_site(interrupted)
    for site, sids in unfinished_fetches.items():
        summary.unfinished.append(
            f"{counted(len(sids), 'item')} of an interrupted fetch from {site} {'is' if len(sids) == 1 else 'are'} "
            f"not finished: run the same `assistant fetch` of {site} again, which finishes {_them(len(sids))}")
    if files_left := len(interrupted) - sum(map(len, unfinished_fetches.values())):
        summary.unfinished.append(
            f"{files_left} items from an interrupted earlier ingest are not in this one: "
            "ingest their files again, or run with --prune to drop them")
    summary.notes += summary.unfinished
    summary.seconds = time.perf_counter() - started
    return summary


def _fetched_under(item: MinuteItem, rows: dict[str, ManifestRow]) -> str:
    """The site an indexed item of this item's identity was fetched from ('' when none was)."""
    row = rows.get(item.source_id)
    return fetched_from(row.origin) if row is not None else ""


def _fetched_by_site(rows: dict[str, ManifestRow]) -> dict[str, list[str]]:
    """The fetched items among these rows, by the base URL of the site they were fetched from."""
    by_site: dict[str, list[str]] = {}
    for sid, row in sorted(rows.items()):
        if site := fetched_from(row.origin):
            by_site.setdefault(site, []).append(sid)
    return by_site


def _fetched_gone_in_reset(removed: dict[str, ManifestRow], settings: Settings) -> dict[str, str]:
    """Notes saying that a reset removed fetched minutes, which no input of an ingest brings back, with the fetch that
    does: the site's state (kept in the index folder through a reset) names its committees and earliest meeting, so
    that an older meeting a plain fetch's 12 months would leave out comes back too."""
    from assistant.ingest.moderngov.state import FetchedSite, fetched_sites

    known = {site.base_url: site for site in fetched_sites(settings)}
    notes = {}
    for base, sids in _fetched_by_site(removed).items():
        # A state from before council names were recorded: the name its items were stored with.
        council = Counter(removed[sid].council for sid in sids if removed[sid].council).most_common(1)
        site = known.get(base) or FetchedSite(base, "", (), min(filter(None, (removed[sid].meeting_date[:10]
                                                                              for sid in sids)), default=""))
        site = replace(site, council=site.council or (council[0][0] if council else ""))
        notes[base] = (f"--reset removed {counted(len(sids), 'item')} fetched from {base}, as it empties the whole "
                       f"index: to get {_them(len(sids))} back, run `{site.fetch_command(settings.data_dir)}`")
    return notes


WITHHELD_NOTE = ("withheld by `assistant withhold` (it, or a copy of its text): not indexed (`assistant withhold "
                 "--list` shows what is withheld, `--release ID` lets it in again)")


def withheld_by_operator(source_id: str, withheld: set[str]) -> bool:
    """Whether `assistant withhold` named this item, or the file it is an agenda item of."""
    return source_id in withheld or page_of_item(source_id) in withheld


# How much text minutes must hold for a copy of them to be known by their words (words_signature); shorter ones are
# withheld by their identity only.
SIGNED_ITEM_MIN_CHARS = 400


def what_is_withheld(store: VectorStore, rows: dict[str, ManifestRow], identity: str,
                     before: dict[str, list] | None = None) -> dict[str, list]:
    """What the index holds of the items `identity` names, for the manifest's WITHHELD record, added to what was
    recorded `before` (withheld again, its items may be gone): the signature of their words (words_signature, of all
    of them together, as copy_signatures signs a file or page), and the ModernGov meetings they came from (their
    chunks' meeting_id), each as [the item's address, the meeting's id]."""
    known = {"signatures": set((before or {}).get("signatures", [])),
             "fetched": {tuple(pair) for pair in (before or {}).get("fetched", [])}}
    covered = [sid for sid in sorted(rows) if withheld_by_operator(sid, {identity})]
    chunks = {sid: store.get(list(rows[sid].chunk_ids)) for sid in covered}
    if signature := words_signature([chunk.text for sid in covered for chunk in chunks[sid]]):
        known["signatures"].add(signature)
    known["fetched"] |= {(sid, str(chunk.metadata["meeting_id"])) for sid in covered for chunk in chunks[sid]
                         if chunk.metadata.get("meeting_id")}
    return {"signatures": sorted(known["signatures"]), "fetched": sorted(list(pair) for pair in known["fetched"])}


def words_signature(chunk_texts: list[str]) -> str:
    """What minutes are, whatever they are called: their chunks' words, in any order, spacing and case, so that the
    same minutes read from a renamed file, from another folder or from a site's other address are known. "" under
    SIGNED_ITEM_MIN_CHARS: so few words are other meetings' too ("Apologies for absence were received."). Only as
    long as the chunker cuts them alike."""
    words = sorted(" ".join(text.split()).casefold() for text in chunk_texts)
    return content_hash(*words) if sum(map(len, words)) >= SIGNED_ITEM_MIN_CHARS else ""


def copy_signatures(items, texts_of) -> dict[str, set[str]]:
    """Each item's words_signature, and each file's or page's (its items' words together), by the identities they
    sign: an item withheld alone is known by its own words, a whole file by all of its (so that a file's standing
    items, "There were no declarations of interest.", are not known as the file and taken out of other meetings)."""
    signed: dict[str, set[str]] = {}
    pages: dict[str, list[str]] = {}
    for item in items:
        texts = texts_of(item)
        if signature := words_signature(texts):
            signed.setdefault(signature, set()).add(item.source_id)
        pages.setdefault(page_of_item(item.source_id), []).extend(texts)
    for page, texts in pages.items():
        if signature := words_signature(texts):
            signed.setdefault(signature, set()).add(page)
    return signed


def withheld_only(signed: dict[str, set[str]], withheld: set[str]) -> dict[str, set[str]]:
    return {signature: ids for signature, ids in signed.items() if signature in withheld}


def signed_alike(source_id: str, alike: dict[str, set[str]]) -> bool:
    """Whether this item, or the file or page it is of, has the words of something withheld (`alike`: the
    signatures of copy_signatures that are withheld ones)."""
    return any(withheld_by_operator(source_id, ids) for ids in alike.values())


def _withheld(item: MinuteItem) -> str:
    """Why a restricted item is not indexed: one item of a meeting page is named by its number and title, since the
    page's other items are indexed, and naming only the page would say that the whole meeting was withheld."""
    if (marking := item.details.get(NOT_PUBLIC_LINE)) and ".jsonl:" in item.origin.lower():
        return (f"it is marked not for publication ({one_printed_line(marking)!r}): not indexed. If the council has "
                'published it, add "restricted": false to its line')
    if marking:
        how = ("add `restricted: false` to its front matter" if item.origin.lower().endswith((".txt", ".md"))
               else "export its text to a .txt file with `restricted: false` in its front matter, and ingest that")
        return (f"its opening marks it not for publication ({one_printed_line(marking)!r}): not indexed. If the "
                f"council has published it, {how}")
    if heading := item.details.get(UNTOLD_NOT_PUBLIC_HEADING):
        if item.origin.lower().endswith((".htm", ".html")):
            return (f"its heading {one_printed_line(heading)!r} is marked not for publication, and where that part of "
                    "the page ends cannot be told (its text is outside the heading's block, or a block after it holds "
                    "the next item), so the whole page is not indexed. To index its public items, save the page's "
                    "text as a .txt file, each item under its numbered heading, and ingest that: the marked item is "
                    "withheld there")
        return (f"its heading {one_printed_line(heading)!r} is marked not for publication, and where that part ends "
                "cannot be told, so all of it is not indexed. To index its public items, put the marked item in a "
                "file of its own, or each item under a numbered heading on a line of its own ('7. Contract Award "
                "(Exempt)'); if the council has published it, add `restricted: false` to a text file's front matter")
    if part := item.details.get(AFTER_NOT_PUBLIC_HEADING):
        title = f" ({one_printed_line(item.item_title)})" if item.item_title else ""
        return (f"item {item_number_in(item.source_id)}{title} comes after the heading {one_printed_line(part)!r}, "
                "which marks the rest of the minutes not for publication: not indexed (the items before it are not "
                "affected). If the council has published it, export the text to a .txt file with `restricted: false` "
                "in its front matter")
    if not (number := item_number_in(item.source_id)):
        return "marked restricted: not indexed"
    title = f" ({item.item_title})" if item.item_title else ""
    return f"item {number}{title} is marked restricted: not indexed (the page's other items are not affected)"


def _missing_fields(written: list[MinuteItem]) -> list[str]:
    """Notes naming the files (or JSONL lines) of the items written now that lack a council or committee, or a meeting
    date, and how to give them: filters and questions that name a council, a committee or a date leave such an item
    out unsaid."""
    notes = []
    unnamed = {item.origin: [name for name, value in (("council", item.council), ("committee", item.committee))
                             if not value]
               for item in written if not item.council or not item.committee}
    if unnamed:
        lacking = [name for name in ("council", "committee") if any(name in missing for missing in unnamed.values())]
        named = [f"{origin}: no {' or '.join(missing)}" for origin, missing in sorted(unnamed.items())]
        where = [f"`{name}:`" for name in lacking]
        notes.append(
            f"{_inputs_have(list(unnamed))} no {' or '.join(lacking)} ({first_few(named, 3, '; ')}): "
            f"{' and '.join(lacking)} filters, and questions naming one, leave {_them(len(unnamed))} out. Give "
            f"{'it' if len(lacking) == 1 else 'them'} with `assistant ingest PATH "
            f"{' '.join(f'--{name} NAME' for name in lacking)}` (the index remembers "
            f"{'it' if len(lacking) == 1 else 'them'}), or as {' and '.join(where)} in a text file's front matter"
            + (f" or as {' and '.join(f'`{name}`' for name in lacking)} on a JSONL line"
               if any(map(a_jsonl_line, unnamed)) else ""))
    undated = sorted({item.origin for item in written if not item.meeting_date})
    if undated:
        notes.append(
            f"{_inputs_have(undated)} no meeting date ({first_few(undated, 3)}): date filters (--since, --until) "
            f"leave {_them(len(undated))} out. A PDF, Word or HTML file is dated by its opening lines ('Date: 8 March "
            "2023', 'held on 8 March 2023'); a text file can give `meeting_date: 2023-03-08` in its front matter"
            + ("; a JSONL line, `date`" if any(map(a_jsonl_line, undated)) else ""))
    return notes


def _inputs_have(origins: list[str]) -> str:
    """'1 new or replaced file has', '3 new or replaced JSONL lines have': each JSONL line is an input of its own."""
    lines = sum(map(a_jsonl_line, origins))
    if 0 < lines < len(origins):
        return f"{len(origins)} new or replaced files and JSONL lines have"
    noun = "JSONL line" if lines else "file"
    return f"{counted(len(origins), f'new or replaced {noun}')} {'has' if len(origins) == 1 else 'have'}"


def _them(files: int) -> str:
    return "it" if files == 1 else "them"


def _skipped_in(found: Iterable[MinuteItem | InputProblem]) -> str:
    """' (3 files skipped: ...)' when inputs were passed over, to say why no minutes were found; else ''."""
    skipped = [p.describe() for p in found if isinstance(p, InputProblem)]
    return f" ({len(skipped)} skipped: {first_few(skipped, 3, '; ')})" if skipped else ""


def ensure_index(settings: Settings, corpus: Path, progress: bool | None = None) -> IngestSummary | None:
    """Bring the index in line with ``corpus`` (a no-op when nothing changed); None if no corpus. `progress` as for
    `ingest`: by default, a bar when standard error is a terminal."""
    if not corpus.exists():
        if settings.manifest_path.is_file():
            return None
        raise no_index_yet(settings.data_dir, also=f", and no {corpus} folder to build it from")
    return ingest([corpus], settings, progress=progress)


def mend_unreadable_store(index: Index) -> tuple[list[str], dict[str, tuple[str, dict]]]:
    """When a local vector store cannot be read (a run killed while Chroma rewrote its vector files, say), remove its
    collection and make a new, empty one; its items are then lost ones, which the ingest embeds again from the
    keyword index's copy of their text (`restore_lost_vectors`), else from its inputs, and names otherwise. Returns
    the summary's notes, and the text and metadata of each chunk Chroma could still give (its vector file alone
    damaged), a further copy to embed again from. A Chroma server's store is its operator's: its damage is said, and
    nothing is changed; so is a disk without room for a new store (Chroma fails to read a sound store on a full
    disk, and its removal can hang there)."""
    from assistant.index import lexical

    settings, manifest = index.settings, index.manifest
    problem = index.store.unreadable(every_vector=not index.every_vector_read)
    if problem is None:
        index.every_vector_read = True
        return [], {}
    if settings.uses_chroma_server:
        raise AssistantError(f"The vector store on the Chroma server at {settings.chroma_host}:{settings.chroma_port} "
                             f"cannot be read ({problem}), so this run changed nothing.",
                             "Ask the server's operator to mend it, or run `assistant ingest --reset` with your "
                             "minutes to build the index anew there (fetched minutes must be fetched again).")
    needed = MEND_ROOM_BYTES + 2 * folder_bytes(settings.chroma_dir)
    free = free_bytes(settings.chroma_dir)  # its own disk, when the folder is a link to another
    if free is not None and free < needed:
        raise AssistantError(f"The vector store in {settings.chroma_dir} cannot be read ({problem}), and the disk "
                             f"holding it has {free >> 20} MiB free: it may only be full, so this run changed nothing.",
                             f"Free some space (at least {needed >> 20} MiB) and run this again: the store is read "
                             "again, and built anew only if it is still unreadable.")
    # The store must be this index's to remove (not another index's, nor written since by a newer copy of this one).
    claimed = claim_store(manifest, index.store, settings)
    kept = index.store.readable_chunks()
    WriteCount(manifest, index.store, claimed).before_change()
    owe_purge(manifest)  # the old collection's files hold its text; the purge at the end removes them
    manifest.set_meta(STORE_BEING_MADE, "1")  # readers keep off until this run has filled it again
    reset_store(settings, manifest_writer(manifest))
    forget_local_clients()
    index.store = ChromaStore(settings, index.embedder.name, ManifestSide(manifest.get_meta(_INDEX_ID), True))
    claim_store(manifest, index.store, settings)
    # Readers holding the removed collection read the index again at their next question.
    lexical.announce_change(settings.lexical_dir)
    return [f"the vector store in {settings.chroma_dir} could not be read ({problem}), as when a run is killed while "
            "it writes: it was made anew, and its items are embedded again below"], kept


# Room a store is built anew in, besides twice the old one's size (the new copy, and the old one until the purge).
MEND_ROOM_BYTES = 64 << 20


def restore_lost_vectors(index: Index, lost: dict[str, ManifestRow],
                         kept: dict[str, tuple[str, dict]], crash: CrashPoints | None = None) -> set[str]:
    """Embed again the lost items (finished, their vectors gone from the store) whose every chunk the keyword index
    holds in the item's version, or that the old store could still give as text (`kept`): to the same vectors, and
    nothing is read or fetched again. Returns the items put back. Safe to stop and run again: what is not yet back is
    still lost, and still in the keyword index, which is left as it is."""
    from assistant.index import lexical

    saved = lexical.saved_entries(index.settings.lexical_dir) if lost else {}
    chunks: list[Chunk] = []
    restored = set()
    for sid, row in lost.items():
        if all(cid in saved and saved[cid][1] == row.fingerprint for cid in row.chunk_ids):
            copies = [(saved[cid][0].text, saved[cid][0].metadata) for cid in row.chunk_ids]
        elif all(cid in kept for cid in row.chunk_ids):  # chunk ids name their text: the same chunks
            copies = [kept[cid] for cid in row.chunk_ids]
        else:
            continue
        restored.add(sid)
        chunks += [Chunk(cid, metadata.get("source_id", sid), int(metadata.get("position", 0)),
                         metadata.get("kind", "minutes"), text, embed_text_of(text, metadata),
                         int(metadata.get("tokens", 0)), dict(metadata))
                   for cid, (text, metadata) in zip(row.chunk_ids, copies)]
    _mark_vector_keys(index, chunks)
    for part, vectors in _embedded_in_parts(index, chunks):
        index.store.upsert(part, vectors)  # part by part: a run stopped midway keeps what it put back
        if crash is not None:
            crash.reached("during_restore")
    return restored


def _vectors_made_by(index: Index) -> str:
    """The embedder as far as its vectors go: its name, and for the bundled model which export of its weights."""
    return getattr(index.embedder, "vectors_made_by", index.embedder.name)


def _mark_vector_keys(index: Index, chunks: list[Chunk]) -> None:
    """Keep with each chunk what its vector is made from (`vector_key`), which `_vectors_to_keep` compares."""
    for chunk in chunks:
        chunk.metadata[VECTOR_KEY] = vector_key(_vectors_made_by(index), chunk.embed_text)


def _vectors_to_keep(index: Index, chunks: list[Chunk]) -> dict[str, list[float]]:
    """The vectors the store holds for these chunks (of items being written again) that were embedded from the same
    text, by the same model, as the chunks would be now: an item written again for its metadata alone (its reporting
    period, say), or cut into the same chunks by a newer chunker, is not embedded again. Each chunk written is
    marked with what it was embedded from (`vector_key`); a chunk written before that was kept is embedded again."""
    if not chunks:
        return {}
    held = index.store.vectors_of([c.chunk_id for c in chunks])
    return {c.chunk_id: held[c.chunk_id][1] for c in chunks
            if c.chunk_id in held and held[c.chunk_id][0] == c.metadata[VECTOR_KEY]}


def _embedded_in_parts(index: Index, chunks: list[Chunk]) -> Iterator[tuple[list[Chunk], list[list[float]]]]:
    """The chunks with their vectors, a part of the settings' embed batch at a time."""
    step = max(1, index.settings.embed_batch)
    for start in range(0, len(chunks), step):
        part = chunks[start:start + step]
        yield part, index.embedder.embed_documents([c.embed_text for c in part])


def _check_store(store: VectorStore, manifest: Manifest, rows: dict[str, ManifestRow],
                 every_id: bool = True) -> tuple[set[str], set[str]]:
    """Finished items some of whose chunks the store no longer holds (its folder deleted, or put back from an
    older copy), and the store's chunks that no manifest row owns (left by killed runs). The ids are compared
    (`every_id`), not only their counts: a store put back from an older copy can hold as many chunks replaced since
    as it lacks, and a count took it for whole (reading the ids of 50,000 chunks takes about 0.2 s here). A writer
    compares them once; for its later batches, a count."""
    if not every_id and store.count() == len({cid for row in rows.values() for cid in row.chunk_ids}):
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
        if lexical.holds(index.settings.lexical_dir, index.manifest.indexed_versions()):
            return False  # nothing to write: a read-only index that is up to date is served as it is
        raise


def _refresh_lexical(index: Index) -> bool:
    from assistant.index import lexical

    # Every writer holds the lock, so a staging folder seen now is a killed writer's.
    lexical.remove_abandoned_staging(index.settings.lexical_dir)
    wanted = index.manifest.indexed_versions()
    if lexical.holds(index.settings.lexical_dir, wanted):
        return False

    def fetch(ids: list[str]) -> list[lexical.LexicalEntry]:
        return [lexical.LexicalEntry(c.chunk_id, c.text, c.metadata) for c in index.store.get(ids=ids)]

    lexical.update(index.settings.lexical_dir, wanted, fetch)
    return True


class _EarlierVectors:
    """The vectors of chunks leaving the index in this run, found by what they were embedded from (`VECTOR_KEY`): the
    keys are read once, when first asked for, and each batch reads only the vectors it takes (a folder of 50,000
    chunks named anew would otherwise hold every vector at once, about 700 MB as lists)."""

    def __init__(self, index: Index, chunk_ids: list[str]) -> None:
        self.index, self.chunk_ids = index, chunk_ids
        self._by_key: dict[str, str] | None = None  # what a chunk was embedded from -> a chunk embedded so

    def for_chunks(self, chunks: list[Chunk]) -> dict[str, list[float]]:
        if not self.chunk_ids or not chunks:
            return {}
        if self._by_key is None:
            self._by_key = {}
            for stored in self.index.store.get(self.chunk_ids):
                if key := str(stored.metadata.get(VECTOR_KEY, "")):
                    self._by_key.setdefault(key, stored.chunk_id)
        wanted = {c.chunk_id: self._by_key[c.metadata[VECTOR_KEY]] for c in chunks
                  if c.metadata[VECTOR_KEY] in self._by_key}
        held = self.index.store.vectors_of(sorted(set(wanted.values())))
        return {new: held[old][1] for new, old in wanted.items() if old in held}


def _write_batch(index: Index, batch, rows, summary: IngestSummary, crash: CrashPoints, bar,
                 earlier: _EarlierVectors | None = None) -> None:
    manifest, store = index.manifest, index.store
    if any(item.source_id in rows for item, _, _ in batch):
        owe_purge(manifest)  # the item's row and chunks are replaced: their old text is removed
    manifest.write(
        ManifestRow(item.source_id, fp, "pending", tuple(c.chunk_id for c in chunks), item.council,
                    item.committee, item.meeting_date, item.item_title, item.origin, sum(c.tokens for c in chunks))
        for item, fp, chunks in batch
    )
    chunks = [c for _, _, item_chunks in batch for c in item_chunks]
    _mark_vector_keys(index, chunks)
    kept = _vectors_to_keep(index, [c for item, _, item_chunks in batch if item.source_id in rows
                                    for c in item_chunks])
    if earlier is not None:  # a new identity of a file indexed before: its earlier entries' vectors (pending rows
        # of a stopped run that wrote none of its own too)
        kept.update(earlier.for_chunks([c for _, _, item_chunks in batch for c in item_chunks
                                        if c.chunk_id not in kept]))
    if bar is not None and kept:
        bar.update(len(kept))
    began = time.perf_counter()
    made: dict[str, list[float]] = {}
    for part, part_vectors in _embedded_in_parts(index, [c for c in chunks if c.chunk_id not in kept]):
        made.update((c.chunk_id, vector) for c, vector in zip(part, part_vectors))
        crash.reached("during_embedding")
        if bar is not None:
            bar.update(len(part))
    summary.embed_seconds += time.perf_counter() - began
    summary.tokens_embedded += sum(c.tokens for c in chunks if c.chunk_id not in kept)
    summary.vectors_kept += len(kept)
    store.upsert(chunks, [kept[c.chunk_id] if c.chunk_id in kept else made[c.chunk_id] for c in chunks])
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
