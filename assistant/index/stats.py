"""What is in the index: items and chunks by council, committee and year."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from assistant.index.manifest import RESET_UNFINISHED, Manifest, check_index_format, check_where_vectors_live
from assistant.index.purge import purge_owed, vector_files_cut_short
from assistant.index.write_lock import writer_at_work
from assistant.settings import Settings
from assistant.errors import AssistantError, IndexMismatchError, manifest_damaged, no_index_yet
from assistant.files import file_identity, sqlite_file_damaged
from assistant.records import fetched_from, page_of_item
from assistant.text import counted, first_few, one_printed_line


@dataclass(frozen=True)
class IndexStats:
    items: int
    chunks: int
    pending: int
    by_council: dict[str, tuple[int, int]]
    by_committee: dict[str, tuple[int, int]]
    by_year: dict[str, tuple[int, int]]
    embedding_model: str
    # What the user should know of the index's state before trusting the counts, and what to do: a writer at work,
    # a run or a reset cut short, a vector store gone.
    notes: tuple[str, ...] = ()
    # Whether an ingest or fetch holds the write lock now: its notes are then the only one, and the counts partial.
    writing: bool = False
    # Whether the index wants something done before it answers as it should (a note other than a writer's at work):
    # what `stats` exits 1 on, so that a scheduled check can tell a healthy index from one to see to.
    needs_action: bool = False

    @property
    def notes_text(self) -> str:
        """The notes, a line each, for the console ('' when there are none)."""
        return "".join(f"{note}\n" for note in self.notes)

    def as_dict(self) -> dict:
        return {
            "items": self.items, "chunks": self.chunks, "pending": self.pending,
            "embedding_model": self.embedding_model, "notes": list(self.notes), "writing": self.writing,
            "needs_action": self.needs_action,
            "by_council": {k: {"items": i, "chunks": c} for k, (i, c) in self.by_council.items()},
            "by_committee": {k: {"items": i, "chunks": c} for k, (i, c) in self.by_committee.items()},
            "by_year": {k: {"items": i, "chunks": c} for k, (i, c) in self.by_year.items()},
        }


def index_exists(settings: Settings) -> bool:
    return settings.manifest_path.is_file()


def manifest_identity(settings: Settings) -> tuple[int, int] | None:
    """Which file the manifest is (files.file_identity), None when there is none: a folder deleted and built again,
    or a backup put back, holds another index under the same path."""
    return file_identity(settings.manifest_path)


def index_stats(settings: Settings) -> IndexStats:
    """Read from the manifest and the folder, so it is cheap and needs no model; for an index whose vectors are on a
    Chroma server, the server is asked whether it answers, with the index's collection."""
    if settings.data_dir.exists() and not settings.data_dir.is_dir():
        raise AssistantError(f"{settings.data_dir} is a file, not an index folder.",
                             "Give --index (or ASSISTANT_DATA_DIR) the folder `assistant ingest` wrote the index to, "
                             "such as .assistant (the default).")
    if not index_exists(settings):
        raise no_index_yet(settings.data_dir)
    import sqlite3

    # Read only: stats must never write, least of all a schema into a manifest that was emptied or cut short.
    manifest = Manifest(settings.manifest_path, read_only=True)
    try:
        rows = [r for r in manifest.rows().values()]
        model = manifest.get_meta("embedding_model") or ""
        reset_unfinished = manifest.get_meta(RESET_UNFINISHED) is not None
        text_to_purge = purge_owed(manifest)
        withheld = set(manifest.withheld())
        newer = _newer_format_notes(manifest, settings.data_dir)
        elsewhere = _vectors_elsewhere_notes(manifest, settings)
    except sqlite3.OperationalError as exc:
        if "no such table" not in str(exc):
            raise
        raise manifest_damaged(settings.manifest_path, settings.data_dir) from None
    finally:
        manifest.close()
    done = [r for r in rows if r.status == "done"]
    writing = writer_at_work(settings)
    state = _state_notes(settings, len(done), [r for r in rows if r.status != "done"], reset_unfinished,
                         text_to_purge, writing, look_in_store=not elsewhere)
    still_in = [r.source_id for r in done if r.source_id in withheld or page_of_item(r.source_id) in withheld]
    if still_in and not writing:
        # A withhold records the identity before it takes the items out: one stopped between the two lists them as
        # withheld while their text is still in the index's files (no answer quotes them: the answering side leaves
        # out what the list names).
        one = len(still_in) == 1
        state += (f"{counted(len(still_in), 'item')} withheld with `assistant withhold` {'is' if one else 'are'} "
                  f"still in the index, {'its' if one else 'their'} text in its files, though no answer quotes "
                  f"{'it' if one else 'them'} "
                  f"({one_printed_line(first_few(still_in, 3))}): a withhold was stopped before taking "
                  f"{'it' if one else 'them'} out. Run the same `assistant withhold` again (or any "
                  "`assistant ingest` or `assistant fetch` into the index), which takes them out and purges their "
                  "text",)
    state = elsewhere + state if not writing else state
    if not state and done and settings.uses_chroma_server:
        # Asked only here, when all else is well: a scheduled `stats || alert` is the check of a dead server too, which
        # `ask` and the app refuse every question for.
        from assistant.index.vector_store import server_problem

        state = tuple(filter(None, [server_problem(settings, len({cid for r in done for cid in r.chunk_ids}))]))
    from assistant.index import lexical

    if not state and done and not lexical.usable(settings.lexical_dir, {cid: r.fingerprint for r in done
                                                                         for cid in r.chunk_ids}):
        state = (f"the keyword index ({settings.lexical_dir}) does not hold what the manifest lists (a run was "
                 "stopped before saving it, or it was deleted or damaged), so questions are refused: "
                 + finish_stopped_run(rows),)

    def group(key) -> dict[str, tuple[int, int]]:
        items: Counter = Counter()
        chunks: Counter = Counter()
        for r in done:
            items[key(r)] += 1
            chunks[key(r)] += len(r.chunk_ids)
        return {k: (items[k], chunks[k]) for k in sorted(items)}

    return IndexStats(
        items=len(done), chunks=sum(len(r.chunk_ids) for r in done), pending=len(rows) - len(done),
        by_council=group(lambda r: r.council or "(unknown)"),
        by_committee=group(lambda r: r.committee or "(unknown)"),
        by_year=group(lambda r: r.meeting_date[:4] or "(undated)"),
        embedding_model=model,
        writing=writing,
        notes=newer + state,
        needs_action=bool(newer) or bool(state) and not writing,
    )


def _vectors_elsewhere_notes(manifest: Manifest, settings: Settings) -> tuple[str, ...]:
    """The settings point away from where the index's vectors were written (CHROMA_HOST unset for an index kept on a
    server, say), as `ask` and `ingest` refuse them, in their words: stats had said the local store was missing, and
    to embed every item again."""
    try:
        check_where_vectors_live(manifest, settings)
    except IndexMismatchError as exc:
        return (str(exc),)
    return ()


def _newer_format_notes(manifest: Manifest, data_dir) -> tuple[str, ...]:
    """Counts read by this version from an index a newer one wrote, in a layout it does not know: `ask`, `ingest` and
    the app refuse such an index, and stats says so, in their words, whether or not a writer is at work."""
    try:
        check_index_format(manifest, data_dir)
    except IndexMismatchError as exc:
        return (str(exc),)
    return ()


def _state_notes(settings: Settings, done: int, pending: list, reset_unfinished: bool,
                 text_to_purge: bool, writing: bool, look_in_store: bool = True) -> tuple[str, ...]:
    """What is wrong with the index now, if anything, and what to do: read from the manifest and the folder alone
    (a Chroma server is asked by index_stats, once nothing else is wrong), as the rest of `stats` is. A writer at
    work comes first, whenever there is one: until it finishes, the counts are of what it has done so far."""
    notes = []
    if reset_unfinished:
        notes.append("a reset of this index (`assistant ingest --reset`) was cut short, so it holds only part of the "
                     "minutes: run the same `assistant ingest` again")
    elif pending:
        notes += unfinished_notes(pending)
    store_database = settings.chroma_dir / "chroma.sqlite3"
    # A local store, where the index's vectors are: settings that name another (a note says so) are not looked in.
    local = look_in_store and not settings.uses_chroma_server
    if local and done and not store_database.is_file():
        notes.append(f"the vector store ({settings.chroma_dir}) is missing, so these items cannot be searched: run "
                     "`assistant ingest` again with the minutes the index was built from, which embeds them again "
                     "(fetched minutes must be fetched again)")
    elif local and sqlite_file_damaged(store_database):
        # As `ask` and `ingest` say when they fail on it: the store alone is moved, the manifest kept
        notes.append(f"the vector store's database ({store_database}) is damaged (not a whole SQLite file), so "
                     f"questions and ingests fail: move {settings.chroma_dir} aside and run `assistant ingest` with "
                     "your minutes, or the same `assistant fetch`, which make the store anew from the copy of their "
                     "text the index keeps")
    elif local and done and vector_files_cut_short(settings.chroma_dir):
        notes.append(f"the vector files in {settings.chroma_dir} are cut short, as a run killed while it wrote them "
                     "leaves them, so questions are refused: run `assistant ingest` (or the same `assistant fetch`), "
                     "which builds them again from the copy of their text the index keeps")
    if text_to_purge:
        # Before a copy of the folder is shared: what was removed (a restricted item, a redaction) is still there.
        notes.append(f"the text of minutes removed from the index may still be readable in {settings.data_dir}, its "
                     "purge not yet done (a run was stopped, or its purge could not run): the next `assistant "
                     "ingest` or `assistant fetch` into it finishes the purge (run the last one again) before the "
                     "folder is copied anywhere")
    if writing:  # what looks wrong is a writer's work in progress, and the counts are not final
        return ("an ingest (or fetch) is writing to this index now: wait for it to finish (these counts are of "
                "what it has finished so far)",)
    return tuple(notes)


def unfinished_notes(pending: list) -> list[str]:
    """What to run to finish the items a stopped writer left pending (manifest rows): fetched ones are finished by
    the same `assistant fetch` of their site, never by `assistant ingest`, which reads files (with no PATH, the
    corpus/ folder of the working directory, which may be another council's demo minutes)."""
    by_site: dict[str, int] = {}
    for row in pending:
        site = fetched_from(row.origin)
        by_site[site] = by_site.get(site, 0) + 1
    notes = []
    for site, count in sorted(by_site.items()):
        were = "was" if count == 1 else "were"
        if site:
            notes.append(f"{counted(count, 'item')} fetched from {site} {were} interrupted mid-fetch: run the same "
                         f"`assistant fetch` of {site} again")
        else:
            notes.append(f"{counted(count, 'item')} {were} interrupted mid-ingest: run `assistant ingest` again")
    return notes


def finish_stopped_run(rows) -> str:
    """What to run to bring the index up to date after a writer was stopped (for `ask` and the app, given the
    manifest's rows): the same `assistant fetch` when the index holds fetched minutes, which `assistant ingest` (with
    no PATH, the working directory's corpus/) would not finish and could fill with other minutes."""
    rows = list(rows)
    sites = sorted({site for row in rows if (site := fetched_from(row.origin))})
    pending = sorted({fetched_from(row.origin) for row in rows if row.status != "done"})
    if pending and "" not in pending:
        return (f"Run the same `assistant fetch` of {', '.join(pending)} again: it finishes the items the stopped "
                "fetch left and brings the keyword index up to date.")
    if not sites:
        return ("Run `assistant ingest` with your minutes (it rebuilds the keyword index from the vector store, and "
                "embeds again only the items a stopped run left unfinished).")
    return (f"Run again whichever was stopped: the same `assistant fetch` (of {', '.join(sites)}), or "
            "`assistant ingest PATH` naming your minutes' files. Either brings the keyword index up to date, "
            "embedding again only what the stopped run left unfinished.")
