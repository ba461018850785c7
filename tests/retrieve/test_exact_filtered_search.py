"""A filter that leaves few chunks is searched exactly among them, outside Chroma: the same hits, in the same
order, as Chroma's own filtered search (which costs about 100 ms at 100,000 chunks whatever the filter)."""

from __future__ import annotations

import pytest

from assistant.answer.service import Assistant
from assistant.ingest.run import ingest
from assistant.retrieve import hybrid
from assistant.retrieve.filters import Filters
from assistant.retrieve.question import analyse
from conftest import CORPUS

QUESTIONS = ["How many children were discharged from care?", "What was said about foster carers?",
             "agency social workers and caseloads", "dental checks for children in care"]


def test_exact_search_among_ids_matches_chromas_filtered_query(hashing_assistant):
    retriever = hashing_assistant.retriever
    # Chroma's own filtered search, through its graph (auto would search this small index exactly).
    store = ChromaStore_for(hashing_assistant.settings.with_(exact_search=False))
    assert not store.searches_exactly
    council = sorted(retriever.council_keys)[0]
    ids = [e.chunk_id for e in hashing_assistant.lexical.entries if e.metadata.get("council_key") == council]
    assert 0 < len(ids) < len(hashing_assistant.lexical.entries)
    for text in QUESTIONS:
        vector = hashing_assistant.index.embedder.embed_query(text)
        chroma = store.query(vector, 10, where={"council_key": {"$in": [council]}})
        exact = store.query_among(vector, 10, ids)
        assert [c.chunk_id for c in exact] == [c.chunk_id for c in chroma]
        assert [round(c.score, 4) for c in exact] == [round(c.score, 4) for c in chroma]
        assert all(c.metadata["council_key"] == council for c in exact)
    assert store.query_among(vector, 10, []) == [] and store.query_among(vector, 0, ids) == []


@pytest.mark.parametrize("filters", [Filters(council="Sefton"), Filters(since="2019-01-01"),
                                     Filters(council="Rotherham", until="2019-12-31")])
def test_filtered_retrieval_is_the_same_either_way(hashing_assistant, monkeypatch, filters):
    from assistant.index import vector_store

    retriever = hashing_assistant.retriever
    # Above the limit of EXACT_SEARCH_LIMIT, Chroma's own filtered search through its graph (as on a large index).
    monkeypatch.setattr(vector_store, "EXACT_SEARCH_MAX_CHUNKS", 0)
    retriever.store._forget_vectors()
    assert not retriever.store.searches_exactly
    found = 0
    for text in QUESTIONS:
        question = analyse(text, retriever.council_keys)
        monkeypatch.setattr(hybrid, "EXACT_SEARCH_LIMIT", 10**9)
        exact = retriever.search(question, filters)
        monkeypatch.setattr(hybrid, "EXACT_SEARCH_LIMIT", 0)
        chroma = retriever.search(question, filters)
        assert [h.chunk_id for h in exact.hits] == [h.chunk_id for h in chroma.hits]
        found += len(exact.hits)
    assert found  # the filters leave something to compare


def test_chromas_filtered_search_keeps_only_what_the_filters_select(hashing_assistant, monkeypatch):
    """Chroma's `where` reads the keys stored with each chunk; an index keyed by an older version may give a council
    otherwise than the filters, keyed as now, so its hits are held to the filters' own selection."""
    retriever = hashing_assistant.retriever
    monkeypatch.setattr(hybrid, "EXACT_SEARCH_LIMIT", 0)
    query = type(retriever.store).query
    monkeypatch.setattr(type(retriever.store), "query",
                        lambda store, vector, k, where=None: query(store, vector, k, where=None))  # a where that fails
    question = analyse(QUESTIONS[0], retriever.council_keys)
    everywhere = retriever.search(question, Filters())
    assert {h.metadata["council"] for h in everywhere.hits} - {"Sefton Council"}
    hits = retriever.search(question, Filters(council="Sefton")).hits
    assert hits and {h.metadata["council"] for h in hits} == {"Sefton Council"}


def exact_among(settings, vector, k, ids):
    """The k nearest of `ids` as the plain store finds them (read by id, outside Chroma's graph): (id, score)s."""
    from assistant.index.embedder import HASHING_MODEL
    from assistant.index.vector_store import ChromaStore

    plain = ChromaStore(settings.with_(exact_search=False), HASHING_MODEL)
    return [(c.chunk_id, round(c.score, 5)) for c in plain.query_among(vector, k, ids)]


def test_exact_search_setting_reads_every_vector_and_sees_deletions(fake_settings, monkeypatch):
    """ASSISTANT_EXACT_SEARCH answers every dense query exactly (training relies on it: Chroma's approximate graph
    differs from one build to the next), filtered or not, and a deletion after a query is seen by the next one."""
    settings = fake_settings.with_(exact_search=True)
    ingest([CORPUS], settings, progress=False)
    opened = Assistant(settings)
    try:
        store = opened.index.store

        def approximate(*args, **kwargs):
            raise AssertionError("Chroma's approximate search was asked despite exact_search")

        monkeypatch.setattr(type(store._collection), "query", approximate)
        council = sorted(opened.retriever.council_keys)[0]
        every = [e.chunk_id for e in opened.lexical.entries]
        of_council = [e.chunk_id for e in opened.lexical.entries if e.metadata.get("council_key") == council]
        assert 0 < len(of_council) < len(every)
        for text in QUESTIONS:
            vector = opened.index.embedder.embed_query(text)
            found = store.query(vector, 10)
            assert [(c.chunk_id, round(c.score, 5)) for c in found] == exact_among(settings, vector, 10, every)
            filtered = store.query(vector, 5, where={"council_key": {"$in": [council]}})
            assert [(c.chunk_id, round(c.score, 5)) for c in filtered] == exact_among(settings, vector, 5, of_council)
            assert all(c.metadata["council_key"] == council for c in filtered)
        vector = opened.index.embedder.embed_query(QUESTIONS[0])
        nearest = store.query(vector, 1)[0]
        store.delete([nearest.chunk_id])
        assert nearest.chunk_id not in [c.chunk_id for c in store.query(vector, 10)]
    finally:
        opened.close()


def test_left_to_itself_a_small_local_index_is_searched_exactly_and_a_large_one_by_chromas_graph(fake_settings,
                                                                                                monkeypatch):
    """Unset (auto), ASSISTANT_EXACT_SEARCH searches an index of at most EXACT_SEARCH_MAX_CHUNKS chunks exactly, so
    that two builds of the same minutes give the same answers (Chroma's graph differs from build to build)."""
    from assistant.index import vector_store

    assert fake_settings.exact_search is None
    ingest([CORPUS], fake_settings, progress=False)
    opened = Assistant(fake_settings)
    try:
        store = opened.index.store
        real_query = type(store._collection).query
        asked = []

        def approximate(collection, *args, **kwargs):
            asked.append(args or kwargs)
            return real_query(collection, *args, **kwargs)

        monkeypatch.setattr(type(store._collection), "query", approximate)
        vector = opened.index.embedder.embed_query(QUESTIONS[0])
        every = [e.chunk_id for e in opened.lexical.entries]
        assert store.searches_exactly and not asked
        assert [(c.chunk_id, round(c.score, 5)) for c in store.query(vector, 10)] == exact_among(fake_settings, vector,
                                                                                                10, every)
        assert not asked
        monkeypatch.setattr(vector_store, "EXACT_SEARCH_MAX_CHUNKS", len(every) - 1)
        store.delete([])  # a write: the size is looked at again
        assert not store.searches_exactly
        store.query(vector, 10)
        assert asked  # Chroma's graph
        # Set, the setting decides whatever the size.
        assert ChromaStore_for(fake_settings.with_(exact_search=True)).searches_exactly is True
        monkeypatch.setattr(vector_store, "EXACT_SEARCH_MAX_CHUNKS", 10**9)
        assert ChromaStore_for(fake_settings.with_(exact_search=False)).searches_exactly is False
    finally:
        opened.close()


def ChromaStore_for(settings):
    from assistant.index.embedder import HASHING_MODEL
    from assistant.index.vector_store import ChromaStore

    return ChromaStore(settings, HASHING_MODEL)


def test_nearest_rows_keep_every_tie_at_the_edge_and_rank_ties_by_row():
    import numpy as np

    from assistant.index.vector_store import _nearest_rows, _unit_rows

    rows = _unit_rows(np.array([[1, 0], [0, 1], [1, 1], [0, 1], [2, 2], [0, 3]], dtype=np.float32))
    # Rows 1, 3 and 5 are equally near [0, 1]; then rows 2 and 4: the earlier row first, whatever k cuts.
    assert [row for row, _ in _nearest_rows([0, 1], 2, rows)] == [1, 3]
    assert [row for row, _ in _nearest_rows([0, 1], 4, rows)] == [1, 3, 5, 2]
    assert [row for row, _ in _nearest_rows([0, 1], 9, rows)] == [1, 3, 5, 2, 4, 0]
    assert _nearest_rows([0, 1], 0, rows) == [] and _nearest_rows([0, 1], 3, rows[:0]) == []
    assert abs(_nearest_rows([0, 5], 1, rows)[0][1] - 1.0) < 1e-6


def test_exact_search_passes_over_chunks_another_process_removed_while_it_read(fake_settings):
    """Between reading the ids and reading their vectors, another process's ingest removed every chunk of one batch
    (the last, then a middle one): the search answers from the rest, as Chroma's graph would."""
    ingest([CORPUS], fake_settings, progress=False)
    opened = Assistant(fake_settings)
    try:
        store = opened.index.store
        ids = sorted(store.all_ids())
        vector = opened.index.embedder.embed_query(QUESTIONS[0])
        store._max_batch = 5
        for gone in (ids[-5:], ids[5:10]):
            store._forget_vectors()
            real_all_ids = store.all_ids

            def all_ids_then_removed_meanwhile():
                found = real_all_ids()
                store._collection.delete(ids=gone)  # stands for another process's ingest
                return found

            store.all_ids = all_ids_then_removed_meanwhile
            hits = store.query(vector, 10)
            del store.all_ids
            assert hits and not {h.chunk_id for h in hits} & set(gone)
    finally:
        opened.close()


@pytest.mark.parametrize("exact", [None, False])
@pytest.mark.parametrize("where", [None, {"council_key": {"$in": ["rotherham"]}}])
@pytest.mark.parametrize("warm", [False, True])
def test_a_reset_by_another_process_meanwhile_is_said_in_words_either_way(fake_settings, exact, where, warm):
    """`ingest --reset` in another process removes the collection while this one answers: a message, not Chroma's
    NotFoundError, whether the search is exact (auto, on a small index) or walks the graph."""
    import subprocess
    import sys

    from assistant.errors import AssistantError, IndexStaleError
    from cli_helpers import write_lock_held_elsewhere

    settings = fake_settings.with_(exact_search=exact)
    ingest([CORPUS], settings, progress=False)
    opened = Assistant(settings)
    try:
        store = opened.index.store
        vector = opened.index.embedder.embed_query(QUESTIONS[0])
        if warm:
            store.query(vector, 5)  # an earlier question read the vectors
        remove = ("import chromadb, sys; from chromadb.config import Settings; chromadb.PersistentClient(path="
                  "sys.argv[1], settings=Settings(anonymized_telemetry=False)).delete_collection(sys.argv[2])")
        subprocess.run([sys.executable, "-c", remove, str(settings.chroma_dir), settings.collection], check=True)
        with write_lock_held_elsewhere(settings.data_dir):  # the reset still at work, as it holds the lock
            with pytest.raises(IndexStaleError, match="being rebuilt"):
                store.query(vector, 5, where=where)
        # With no writer at work (a reset stopped part way), not a rebuild under way: what to run.
        with pytest.raises(AssistantError, match="no ingest or fetch is at work on it") as caught:
            store.query(vector, 5, where=where)
        assert not isinstance(caught.value, IndexStaleError)
    finally:
        opened.close()


def test_questions_that_come_together_read_the_vectors_once(fake_settings):
    import threading

    ingest([CORPUS], fake_settings, progress=False)
    opened = Assistant(fake_settings)
    try:
        store = opened.index.store
        reads = []
        real_all_ids = store.all_ids

        def counted_all_ids():
            reads.append(1)
            return real_all_ids()

        store.all_ids = counted_all_ids
        vector = opened.index.embedder.embed_query(QUESTIONS[1])
        found = []
        threads = [threading.Thread(target=lambda: found.append(store.query(vector, 5))) for _ in range(6)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert len(found) == 6 and all(f == found[0] for f in found) and len(reads) == 1
    finally:
        opened.close()
