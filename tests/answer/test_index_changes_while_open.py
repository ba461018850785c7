"""An ingest by another process while an Assistant is open (the app serving, a long evaluation): the next question
is answered from the index as it now stands, with no crash on chunks the other process removed."""

from __future__ import annotations

import shutil

from assistant.answer.service import Assistant
from assistant.retrieve.filters import Filters
from cli_helpers import cli_env, run_cli
from conftest import CORPUS

DISCHARGES = "How many children were discharged from care in 2018?"


def _opened_over_a_copy_of_the_seeds(tmp_path, fake_settings):
    """A copy of corpus/ that a test may change, ingested by another process, and an Assistant open on its index."""
    corpus = tmp_path / "corpus"
    shutil.copytree(CORPUS, corpus)
    env = cli_env(fake_settings.data_dir, ASSISTANT_READER="fake:overlap")
    assert run_cli("ingest", str(corpus), env=env).returncode == 0
    return corpus, env, Assistant(fake_settings.with_(reader="fake:overlap"))


def test_an_open_assistant_answers_from_minutes_corrected_pruned_or_added_by_another_process(tmp_path,
                                                                                             fake_settings):
    corpus, env, opened = _opened_over_a_copy_of_the_seeds(tmp_path, fake_settings)
    try:
        before = opened.ask(DISCHARGES)
        assert "148" in before.answer
        assert opened.ask("What did Barnsley report?", Filters(council="Barnsley")).retrieved

        # Another process corrects Rotherham's figure and drops Barnsley's minutes.
        rotherham = corpus / "rotherham-2018-ilsc-performance-feedback.md"
        rotherham.write_text(rotherham.read_text(encoding="utf-8").replace("148 children", "151 children"),
                             encoding="utf-8")
        (corpus / "barnsley-2018-csc-performance.md").unlink()
        changed = run_cli("ingest", str(corpus), "--prune", env=env)
        assert changed.returncode == 0, changed.stderr

        after = opened.ask(DISCHARGES)
        assert "151" in after.answer and "148" not in after.answer, after.answer
        assert all("148 children" not in c.quote for c in after.citations)
        gone = opened.ask("What did Barnsley report?", Filters(council="Barnsley"))
        assert gone.refusal_reason == "no_match_filters" and not gone.retrieved
        assert "Barnsley" not in " ".join(opened.council_names.values())
        # Every chunk an answer rests on is one the index now holds.
        held = {e.chunk_id for e in opened.lexical.entries}
        assert {r["chunk_id"] for r in opened.ask("foster carers and social workers").retrieved} <= held
    finally:
        opened.close()


def test_an_assistant_keeps_answering_while_the_index_is_mid_write(fake_settings, monkeypatch):
    from assistant.ingest.run import ingest
    from assistant.index import lexical

    ingest([CORPUS], fake_settings, progress=False)
    opened = Assistant(fake_settings.with_(reader="fake:overlap"))
    try:
        # As if a writer had changed the keyword index's state but not yet finished: the index does not agree
        # with itself, so the one already read keeps answering.
        monkeypatch.setattr(lexical, "saved_state", lambda folder: "a state being written")
        assert not opened.follow_index()
        assert "148" in opened.ask(DISCHARGES).answer
    finally:
        opened.close()


def test_an_open_assistant_follows_a_corrected_date_and_a_reset_that_rebuilt_the_same_chunks(tmp_path, fake_settings):
    """It read the index again only when the set of chunk ids changed: a corrected meeting date (same chunks, new
    metadata) never reached it, so a date filter missed the item, and after `ingest --reset` with the same minutes
    (the same chunks, in a new vector collection) every question was told the index was being rebuilt."""
    corpus, env, opened = _opened_over_a_copy_of_the_seeds(tmp_path, fake_settings)
    try:
        later = Filters(since="2025-01-01")
        assert opened.ask(DISCHARGES, later).refusal_reason == "no_match_filters"
        rotherham = corpus / "rotherham-2018-ilsc-performance-feedback.md"
        text = rotherham.read_text(encoding="utf-8")
        dated = next(line for line in text.splitlines() if line.startswith("meeting_date:"))
        rotherham.write_text(text.replace(dated, "meeting_date: 2025-04-01"), encoding="utf-8")
        assert run_cli("ingest", str(corpus), env=env).returncode == 0
        corrected = opened.ask(DISCHARGES, later)
        assert "148" in corrected.answer and corrected.citations[0].meeting_date == "2025-04-01", corrected.answer

        assert run_cli("ingest", str(corpus), "--reset", env=env).returncode == 0
        rebuilt = opened.ask(DISCHARGES)
        assert "148" in rebuilt.answer and not rebuilt.refused, rebuilt.answer
    finally:
        opened.close()


# -- `ingest --reset` while the app answers (from a load review: three resets in three ended the app in a segmentation
# fault in Chroma, and left a store with an unreadable vector that failed every question) ------------------------


def test_while_a_store_is_being_made_anew_an_open_assistant_does_not_open_it_again(fake_settings):
    """Opened again while `ingest --reset` made the store anew, the app's Chroma read (and wrote) it with the writer;
    while a writer only adds to it, the app still follows each batch it saves."""
    from assistant.index import lexical
    from assistant.index.manifest import STORE_BEING_MADE, Manifest
    from assistant.index.write_lock import writing_index
    from assistant.ingest.run import ingest

    ingest([CORPUS], fake_settings, progress=False)
    opened = Assistant(fake_settings.with_(reader="fake:overlap"))
    try:
        first = opened.index
        with writing_index(fake_settings):
            manifest = Manifest(fake_settings.manifest_path)
            manifest.set_meta(STORE_BEING_MADE, "1")
            lexical.announce_change(fake_settings.lexical_dir)  # as a writer does once it has saved
            assert not opened.follow_index() and opened.index is first
            manifest.delete_meta(STORE_BEING_MADE)
            manifest.close()
            assert opened.follow_index() and opened.index is not first  # a writer adding to it is followed
        assert "148" in opened.ask(DISCHARGES).answer
    finally:
        opened.close()


def test_a_store_being_made_anew_is_neither_opened_nor_made_by_a_reader(fake_settings, monkeypatch, tmp_path):
    """A reader that opened a store whose collection a reset had removed made a new one, so that two processes wrote
    one store at once; so did `serve --no-corpus`, which opened the index to write before taking the lock."""
    import chromadb
    import pytest

    from assistant.errors import IndexStaleError
    from assistant.index import vector_store
    from assistant.index.manifest import RESET_UNFINISHED, STORE_BEING_MADE, Manifest
    from assistant.index.write_lock import writing_index
    from assistant.ingest.run import ingest
    from assistant.present.app import launch_app
    from servers import free_port

    ingest([CORPUS], fake_settings, progress=False)
    manifest = Manifest(fake_settings.manifest_path)
    for mark in (RESET_UNFINISHED, STORE_BEING_MADE):  # as a reset marks the index before it removes the store
        manifest.set_meta(mark, "1")
    manifest.close()
    with writing_index(fake_settings):
        opened_stores = []
        monkeypatch.setattr(vector_store, "_client", lambda settings: opened_stores.append(settings))
        with pytest.raises(IndexStaleError, match="being made anew by another process"):
            Assistant(fake_settings)
        assert not opened_stores  # its store was not opened at all
        monkeypatch.undo()
        client = chromadb.PersistentClient(path=str(fake_settings.chroma_dir))
        client.delete_collection(fake_settings.collection)  # as the reset does, before it makes the new one
    vector_store.forget_local_clients()
    # The reset was cut short (no writer, the record kept): its own command is the way back.
    with pytest.raises(IndexStaleError, match="was cut short before it had made the vector store again") as refused:
        Assistant(fake_settings)
    assert "ingest --reset" in refused.value.hint
    manifest = Manifest(fake_settings.manifest_path)
    for mark in (RESET_UNFINISHED, STORE_BEING_MADE):
        manifest.delete_meta(mark)
    manifest.close()
    for opening in (lambda: Assistant(fake_settings),
                    lambda: launch_app(fake_settings, None, port=free_port(), prevent_thread_lock=True)):
        vector_store.forget_local_clients()
        with pytest.raises(IndexStaleError, match="holds no collection 'minutes' for this index") as refused:
            opening()
        assert "run `assistant ingest`" in refused.value.hint
    vector_store.forget_local_clients()
    names = [c.name for c in chromadb.PersistentClient(path=str(fake_settings.chroma_dir)).list_collections()]
    assert fake_settings.collection not in names  # no reader made one


def test_an_ingest_that_makes_a_damaged_store_anew_keeps_readers_off_until_it_is_filled(fake_settings, monkeypatch):
    from assistant.index.manifest import STORE_BEING_MADE, Manifest
    from assistant.index.vector_store import ChromaStore
    from assistant.ingest import run

    run.ingest([CORPUS], fake_settings, progress=False)
    damaged = iter(["Error getting embedding"])
    monkeypatch.setattr(ChromaStore, "unreadable", lambda self, every_vector=False: next(damaged, None))
    seen = []
    real_reset = run.reset_store

    def reset_store(settings, ours):
        manifest = Manifest(settings.manifest_path, read_only=True)
        seen.append(manifest.get_meta(STORE_BEING_MADE))
        manifest.close()
        real_reset(settings, ours)

    monkeypatch.setattr(run, "reset_store", reset_store)
    summary = run.ingest([CORPUS], fake_settings, progress=False)
    assert seen == ["1"] and any("was made anew" in note for note in summary.notes)
    manifest = Manifest(fake_settings.manifest_path, read_only=True)
    assert manifest.get_meta(STORE_BEING_MADE) is None  # filled again: readers may open it
    manifest.close()


def test_a_vector_that_cannot_be_read_is_said_and_an_ingest_checks_every_vector(fake_settings, monkeypatch):
    """One unreadable vector failed every exact search in a traceback, while the check an ingest made (one vector)
    found the store sound: an ingest now reads them all, and a question says what to do. (The damage is stood in
    for: a real one can end the process.)"""
    import pytest
    from chromadb.errors import InternalError

    from assistant.errors import IndexMissingError
    from assistant.ingest.run import Index, ingest

    ingest([CORPUS], fake_settings, progress=False)
    index = Index(fake_settings)
    collection = index.store._collection
    bad = sorted(index.store.all_ids())[-1]
    real_get = collection.get

    def get(*args, **kwargs):
        if "embeddings" in (kwargs.get("include") or []) and bad in (kwargs.get("ids") or []):
            raise InternalError("Error executing plan: Internal error: Error getting embedding")
        return real_get(*args, **kwargs)

    monkeypatch.setattr(collection, "get", get)
    try:
        assert index.store.unreadable() is None  # one vector read: the damage not seen
        assert "Error getting embedding" in index.store.unreadable(every_vector=True)
        with pytest.raises(IndexMissingError, match="cannot be read .*Error getting embedding") as refused:
            index.store.query([0.1] * 384, 5)
        assert "Run `assistant ingest` or `assistant fetch`" in refused.value.hint
    finally:
        index.close()


def test_a_writer_reads_every_vector_once_however_many_batches_it_ingests(fake_settings, monkeypatch):
    """A fetch ingests batch after batch through one Index: every vector is read at its first batch only."""
    from assistant.index.vector_store import ChromaStore
    from assistant.ingest.run import Index, ingest

    ingest([CORPUS], fake_settings, progress=False)
    checks, id_reads = [], []
    real, every_id = ChromaStore.unreadable, ChromaStore.all_ids
    monkeypatch.setattr(ChromaStore, "unreadable",
                        lambda self, every_vector=False: checks.append(every_vector) or real(self, every_vector))
    # Nor does it compare every chunk id with the manifest's more than once (each batch had, from a code review).
    monkeypatch.setattr(ChromaStore, "all_ids", lambda store: id_reads.append(1) or every_id(store))
    index = Index(fake_settings)
    try:
        for _ in range(3):
            ingest([CORPUS], fake_settings, index=index, progress=False)
    finally:
        index.close()
    assert checks == [True, False, False] and len(id_reads) == 1


def test_an_index_that_a_writer_changes_while_it_is_being_opened_is_not_called_damaged(tmp_path, fake_settings,
                                                                                      monkeypatch):
    """A writer that swapped in a keyword index of another size between the reader's check and its reading of it
    made `ask`, or the app starting, say that the keyword index was damaged and should be deleted: it was not, and
    the same command answered a moment later."""
    import pytest

    from assistant.errors import IndexStaleError
    from assistant.index import lexical
    from assistant.index.vector_store import forget_local_clients
    from corpus_factory import write_markdown_corpus

    corpus, env, opened = _opened_over_a_copy_of_the_seeds(tmp_path, fake_settings)
    opened.close()
    forget_local_clients()
    read = lexical.load

    def load_after_another_ingest(folder):
        monkeypatch.setattr(lexical, "load", read)
        write_markdown_corpus(tmp_path / "more", 2)
        assert run_cli("ingest", str(tmp_path / "more"), env=env).returncode == 0
        forget_local_clients()  # as a new process finds the store: Chroma keeps one client per folder
        return read(folder)
    monkeypatch.setattr(lexical, "load", load_after_another_ingest)
    with pytest.raises(IndexStaleError, match="changed while it was being opened") as raised:
        Assistant(fake_settings.with_(reader="fake:overlap"))
    assert "Ask again" in raised.value.hint and "Delete" not in raised.value.hint
    again = Assistant(fake_settings.with_(reader="fake:overlap"))  # a moment later it opens, as it now stands
    try:
        assert again.ask(DISCHARGES).citations
    finally:
        again.close()


def test_a_date_a_writer_corrects_while_the_index_opens_is_said_to_have_changed_not_a_run_stopped(tmp_path,
                                                                                                 fake_settings,
                                                                                                 monkeypatch):
    """Same chunks, new versions: the versions check read after the keyword index had called a writer that finished
    meanwhile 'stopped part way', sending the user to run an ingest (from a code review)."""
    import pytest

    from assistant.errors import IndexStaleError
    from assistant.index import lexical
    from assistant.index.vector_store import forget_local_clients

    corpus, env, opened = _opened_over_a_copy_of_the_seeds(tmp_path, fake_settings)
    opened.close()
    forget_local_clients()
    read = lexical.load

    def load_then_a_writer_corrects_a_date(folder):
        loaded = read(folder)
        monkeypatch.setattr(lexical, "load", read)
        item = corpus / "rotherham-2018-ilsc-performance-feedback.md"
        item.write_text(item.read_text(encoding="utf-8").replace('meeting_date: "2018"', 'meeting_date: "2018-11-05"'),
                        encoding="utf-8")
        assert run_cli("ingest", str(corpus), env=env).returncode == 0
        forget_local_clients()
        return loaded
    monkeypatch.setattr(lexical, "load", load_then_a_writer_corrects_a_date)
    with pytest.raises(IndexStaleError, match="changed while it was being opened"):
        Assistant(fake_settings.with_(reader="fake:overlap"))
    Assistant(fake_settings.with_(reader="fake:overlap")).close()  # and it opens at once


def test_a_vector_read_while_another_process_writes_is_not_called_damaged(fake_settings, monkeypatch):
    """A question asked while a fetch wrote met Chroma's 'Error finding id' now and then, and was told that the store
    may be damaged and to run an ingest or fetch, which the writer at work would refuse."""
    import fcntl
    import os

    import pytest
    from chromadb.errors import InternalError

    from assistant.errors import IndexMissingError, IndexStaleError
    from assistant.ingest.run import Index, ingest

    ingest([CORPUS], fake_settings, progress=False)
    index = Index(fake_settings, reading=True)

    def read(*args, **kwargs):
        raise InternalError("Error executing plan: Internal error: Error finding id")

    for method in ("query", "get"):
        monkeypatch.setattr(index.store._collection, method, read)
    vector = index.embedder.embed_query("foster carers")
    lock = os.open(fake_settings.data_dir / "ingest.lock", os.O_RDWR | os.O_CREAT)
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)  # held as another process's ingest holds it
        with pytest.raises(IndexStaleError, match="is writing to the index") as refused:
            index.store.query(vector, 5)
        assert "Wait for it to finish" in refused.value.hint
        os.close(lock)
        lock = None
        with pytest.raises(IndexMissingError, match="cannot be read .*Error finding id"):  # no writer: damaged
            index.store.query(vector, 5)
    finally:
        if lock is not None:
            os.close(lock)
        index.close()


def test_a_damaged_store_met_while_a_reader_rebuilds_the_keyword_index_is_not_called_a_writer_at_work(
        fake_settings, monkeypatch):
    """A reader (`serve`, or `ask` after an upgrade) rebuilding the keyword index holds the write lock itself: the
    vector store's InternalError was put down to an ingest at work, and the officer told to wait for one that was not
    running, the damage never named."""
    import shutil

    import pytest
    from chromadb.api.models.Collection import Collection
    from chromadb.errors import InternalError

    from assistant.errors import AssistantError
    from assistant.ingest.run import Index, ingest, refresh_lexical
    from conftest import CORPUS

    ingest([CORPUS], fake_settings, progress=False)
    shutil.rmtree(fake_settings.lexical_dir)  # made again from the store's copy of the text

    def damaged(self, *args, **kwargs):
        raise InternalError("Error executing plan: Internal error: Error finding id")

    monkeypatch.setattr(Collection, "get", damaged)
    index = Index(fake_settings, reading=True)  # as `serve` opens it, no other process at work
    try:
        with pytest.raises(AssistantError) as raised:
            refresh_lexical(index)
    finally:
        index.close()
    assert "is writing to the index" not in str(raised.value) and "Error finding id" in str(raised.value), \
        str(raised.value)


def test_an_index_whose_folder_was_deleted_is_not_answered_from_nor_made_again(fake_settings):
    """Its folder deleted, to empty the index as the README says, a running app went on quoting the minutes it had
    read, for as long as it ran, and made an empty manifest and vector store folder where the index had been."""
    import pytest

    from assistant.errors import IndexMissingError
    from assistant.ingest.run import ingest

    ingest([CORPUS], fake_settings, progress=False)
    opened = Assistant(fake_settings.with_(reader="fake:overlap"))
    try:
        assert "148" in opened.ask(DISCHARGES).answer
        shutil.rmtree(fake_settings.data_dir)
        with pytest.raises(IndexMissingError, match="There is no index in"):
            opened.ask(DISCHARGES)
        assert not fake_settings.data_dir.exists()
    finally:
        opened.close()


def test_an_index_deleted_is_not_answered_from_while_it_is_built_again(tmp_path, fake_settings):
    """Its folder deleted to empty the index and an ingest begun there again (which makes the manifest first), a
    running app answered from the deleted index again for as long as the ingest ran: quoting the minutes the folder
    was deleted to be rid of."""
    import pytest

    from assistant.errors import AssistantError
    from assistant.index.manifest import Manifest

    corpus, env, opened = _opened_over_a_copy_of_the_seeds(tmp_path, fake_settings)
    try:
        assert "148" in opened.ask(DISCHARGES).answer
        shutil.rmtree(fake_settings.data_dir)
        Manifest(fake_settings.manifest_path).close()  # the ingest building it again, at its first step
        with pytest.raises(AssistantError, match="being built again"):
            opened.ask(DISCHARGES)
        rebuilt = run_cli("ingest", str(corpus), env=env)
        assert rebuilt.returncode == 0, rebuilt.stderr
        assert "148" in opened.ask(DISCHARGES).answer  # built: answered from at the next question
    finally:
        opened.close()
