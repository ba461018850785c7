"""Chroma's HNSW index writes its whole allocated capacity to `data_level0.bin`, and the memory past its last vector
held whatever the process had there before: a test of `withhold` found a withheld item's text in that file. Every
writer zeroes those slots before it lets go of the index."""

from __future__ import annotations

import struct

from assistant.index.purge import scrub_unused_vector_slots
from assistant.ingest.run import Index, ingest
from corpus_factory import write_markdown_corpus

MARKER = b"Quillerbrook placement panel minutes"


def _segments(settings):
    return sorted(settings.chroma_dir.glob("*/data_level0.bin"))


def _count_and_slot(data_file):
    _, _, _, count, slot = struct.unpack_from("<iQQQQ", data_file.with_name("header.bin").read_bytes())
    return count, slot


def test_a_writer_leaves_no_bytes_past_the_last_vector(fake_settings, tmp_path):
    folder = tmp_path / "minutes"
    write_markdown_corpus(folder, 3)
    ingest([folder], fake_settings, progress=False)
    [data] = _segments(fake_settings)
    count, slot = _count_and_slot(data)
    size = data.stat().st_size
    assert 0 < count * slot < size - len(MARKER)  # room past the vectors, as Chroma allocates it
    with open(data, "r+b") as vectors:  # what the process's memory held there, as the test of withhold found
        vectors.seek(size - len(MARKER) - 8)
        vectors.write(MARKER)
    vectors_before = data.read_bytes()[:count * slot]
    ingest([folder], fake_settings, progress=False)  # a writer with nothing to write
    assert MARKER not in data.read_bytes()
    assert data.read_bytes()[:count * slot] == vectors_before and data.stat().st_size == size
    index = Index(fake_settings)
    try:  # and the index reads and searches as before
        assert len(index.store.all_ids()) == index.manifest.chunk_count() > 0
        hits = index.store.query(index.embedder.embed_query("foster carers"), 3)
        assert len(hits) == 3
    finally:
        index.close()


def test_a_vector_file_without_its_header_or_with_a_short_one_is_left_alone(tmp_path):
    segment = tmp_path / "chroma" / "segment"
    segment.mkdir(parents=True)
    (segment / "data_level0.bin").write_bytes(MARKER)
    (segment / "header.bin").write_bytes(b"\x01\x00")
    scrub_unused_vector_slots(tmp_path / "chroma")
    assert (segment / "data_level0.bin").read_bytes() == MARKER
    (segment / "header.bin").write_bytes(struct.pack("<iQQQQ", 1, 0, 100, 0, 0))  # no slot size: nothing known
    scrub_unused_vector_slots(tmp_path / "chroma")
    assert (segment / "data_level0.bin").read_bytes() == MARKER
