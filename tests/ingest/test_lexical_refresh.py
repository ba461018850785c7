"""An ingest brings the keyword index up to date by reading back from the vector store only the chunks of new
and changed items, and ends with exactly the keyword index a full rebuild from the store gives."""

from __future__ import annotations

import shutil

from assistant.index import lexical
from assistant.index.embedder import HASHING_MODEL
from assistant.index.vector_store import ChromaStore
from assistant.ingest.run import Index, ingest, refresh_lexical

from corpus_factory import write_markdown_corpus

QUERIES = ["foster carers recruitment", "child protection plans north locality", "Members questioned visits",
           "37 children supported", "Riverton early help", "social worker vacancies quarter 2"]


class RecordingStore:
    """The real Chroma store, recording the ids of every chunk read back through `get`."""

    def __init__(self, store: ChromaStore) -> None:
        self.store = store
        self.asked: list[str] = []

    def get(self, ids=None, where=None):
        self.asked.extend(ids if ids is not None else ["<everything>"])
        return self.store.get(ids, where)

    def writer(self):
        return self.store.writer()

    def unreadable(self, every_vector=False):
        return self.store.unreadable(every_vector)

    def readable_chunks(self):
        return self.store.readable_chunks()

    def vectors_of(self, ids):
        return self.store.vectors_of(ids)

    def record_writer(self, record):
        self.store.record_writer(record)

    def upsert(self, chunks, vectors):
        self.store.upsert(chunks, vectors)

    def ids_for_source(self, source_id):
        return self.store.ids_for_source(source_id)

    def all_ids(self):
        return self.store.all_ids()

    def delete(self, ids):
        self.store.delete(ids)

    def count(self):
        return self.store.count()

    def purge_removed_text(self):
        return self.store.purge_removed_text()

    def query(self, vector, k, where=None):
        return self.store.query(vector, k, where)

    def query_among(self, vector, k, ids):
        return self.store.query_among(vector, k, ids)


def recording_index(settings) -> Index:
    return Index(settings, store=RecordingStore(ChromaStore(settings, HASHING_MODEL)))


def ingest_recording(folder, settings, prune: bool = False) -> list[str]:
    """Ingest the folder; the ids of the chunks read back from the store."""
    index = recording_index(settings)
    try:
        ingest([folder], settings, prune=prune, index=index, progress=False)
    finally:
        index.close()
    return index.store.asked


def chunk_ids(settings, source_ids=None) -> set[str]:
    index = Index(settings)
    try:
        rows = index.manifest.rows()
    finally:
        index.close()
    return {cid for sid, row in rows.items() if source_ids is None or sid in source_ids for cid in row.chunk_ids}


def assert_a_full_rebuild_gives_the_same_index(settings, tmp_path) -> None:
    """Rebuild the keyword index from the store alone and compare: entries, searches, frequencies, files."""
    updated = tmp_path / "updated"
    shutil.copytree(settings.lexical_dir, updated)
    shutil.rmtree(settings.lexical_dir)
    index = recording_index(settings)
    try:
        assert refresh_lexical(index)
    finally:
        index.close()
    assert sorted(index.store.asked) == sorted(chunk_ids(settings))  # the rebuild did read everything
    rebuilt, incremental = lexical.load(settings.lexical_dir), lexical.load(updated)
    assert [(e.chunk_id, e.text, e.metadata) for e in incremental.entries] == \
        [(e.chunk_id, e.text, e.metadata) for e in rebuilt.entries]
    for query in QUERIES:
        assert incremental.search(query, 8) == rebuilt.search(query, 8)
    words = {"foster", "carer", "child", "question", "note", "riverton", "vacanc", "37", "north", "2015"}
    assert {w: incremental.document_frequency(w) for w in words} == {w: rebuilt.document_frequency(w) for w in words}
    files = sorted(p.name for p in updated.iterdir())
    assert files == sorted(p.name for p in settings.lexical_dir.iterdir())
    assert all((updated / f).read_bytes() == (settings.lexical_dir / f).read_bytes() for f in files)


def test_new_items_are_the_only_chunks_read_back(fake_settings, tmp_path):
    folder = tmp_path / "minutes"
    write_markdown_corpus(folder, 5)
    assert sorted(ingest_recording(folder, fake_settings)) == sorted(chunk_ids(fake_settings))  # the first build
    write_markdown_corpus(folder, 2, start=5)
    asked = ingest_recording(folder, fake_settings)
    assert sorted(asked) == sorted(chunk_ids(fake_settings, {"synthetic-005", "synthetic-006"}))
    assert_a_full_rebuild_gives_the_same_index(fake_settings, tmp_path)


def test_a_changed_item_and_a_pruned_one_read_back_only_the_changed_item(fake_settings, tmp_path):
    folder = tmp_path / "minutes"
    paths = write_markdown_corpus(folder, 6)
    ingest_recording(folder, fake_settings)
    before = chunk_ids(fake_settings)
    paths[2].write_text(paths[2].read_text().replace("Members noted", "Members questioned"), encoding="utf-8")
    paths[4].unlink()
    asked = ingest_recording(folder, fake_settings, prune=True)
    # All of the changed item's chunks: those whose text is unchanged keep their ids, but not their offsets.
    assert sorted(asked) == sorted(chunk_ids(fake_settings, {"synthetic-002"}))
    assert chunk_ids(fake_settings) - before and chunk_ids(fake_settings) & before
    index = lexical.load(fake_settings.lexical_dir)
    assert not any(e.metadata["source_id"] == "synthetic-004" for e in index.entries)
    assert index.search("Members questioned", 3) and index.document_frequency("question") > 0
    assert_a_full_rebuild_gives_the_same_index(fake_settings, tmp_path)


def test_an_item_whose_metadata_alone_changed_is_read_back(fake_settings, tmp_path):
    folder = tmp_path / "minutes"
    paths = write_markdown_corpus(folder, 4)
    ingest_recording(folder, fake_settings)
    before = chunk_ids(fake_settings)
    paths[1].write_text(paths[1].read_text().replace("Children's Scrutiny Committee", "Corporate Parenting Panel"),
                        encoding="utf-8")
    asked = ingest_recording(folder, fake_settings)
    assert chunk_ids(fake_settings) == before  # the same chunk ids, in new metadata
    assert sorted(asked) == sorted(chunk_ids(fake_settings, {"synthetic-001"}))
    index = lexical.load(fake_settings.lexical_dir)
    assert {e.metadata["committee"] for e in index.entries if e.metadata["source_id"] == "synthetic-001"} == \
        {"Corporate Parenting Panel"}
    assert_a_full_rebuild_gives_the_same_index(fake_settings, tmp_path)


def test_pruning_alone_reads_nothing_back(fake_settings, tmp_path):
    folder = tmp_path / "minutes"
    paths = write_markdown_corpus(folder, 4)
    ingest_recording(folder, fake_settings)
    paths[1].unlink()
    assert ingest_recording(folder, fake_settings, prune=True) == []
    assert lexical.is_current(fake_settings.lexical_dir, chunk_ids(fake_settings))
    assert_a_full_rebuild_gives_the_same_index(fake_settings, tmp_path)


def test_an_ingest_that_changes_nothing_reads_nothing_back(fake_settings, tmp_path):
    folder = tmp_path / "minutes"
    write_markdown_corpus(folder, 3)
    ingest_recording(folder, fake_settings)
    assert ingest_recording(folder, fake_settings) == []


def test_an_unreadable_keyword_index_is_rebuilt_from_the_store(fake_settings, tmp_path):
    folder = tmp_path / "minutes"
    write_markdown_corpus(folder, 3)
    ingest_recording(folder, fake_settings)
    (fake_settings.lexical_dir / "tokens.npy").write_bytes(b"not an array")
    write_markdown_corpus(folder, 1, start=3)
    assert sorted(ingest_recording(folder, fake_settings)) == sorted(chunk_ids(fake_settings))
    assert_a_full_rebuild_gives_the_same_index(fake_settings, tmp_path)


def test_a_keyword_index_array_cut_short_is_rebuilt_by_a_plain_ingest(fake_settings, tmp_path):
    """A cut-short array of bm25s's had been taken for a whole index: ingest changed nothing, and every question was
    refused as one asked of a damaged keyword index."""
    folder = tmp_path / "minutes"
    write_markdown_corpus(folder, 3)
    ingest_recording(folder, fake_settings)
    cut = fake_settings.lexical_dir / "data.csc.index.npy"
    cut.write_bytes(cut.read_bytes()[:-8])
    assert lexical.load(fake_settings.lexical_dir) is None  # what `ask` reads: it refuses every question
    assert sorted(ingest_recording(folder, fake_settings)) == sorted(chunk_ids(fake_settings))
    assert_a_full_rebuild_gives_the_same_index(fake_settings, tmp_path)


def test_a_new_format_version_rebuilds_the_keyword_index_from_the_store(fake_settings, tmp_path, monkeypatch):
    folder = tmp_path / "minutes"
    write_markdown_corpus(folder, 3)
    ingest_recording(folder, fake_settings)
    monkeypatch.setattr(lexical, "FORMAT_VERSION", str(int(lexical.FORMAT_VERSION) + 1))  # as after an upgrade
    assert sorted(ingest_recording(folder, fake_settings)) == sorted(chunk_ids(fake_settings))
    assert lexical.is_current(fake_settings.lexical_dir, chunk_ids(fake_settings))
    assert ingest_recording(folder, fake_settings) == []

