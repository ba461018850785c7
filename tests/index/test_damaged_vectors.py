"""A local vector store whose files a killed run left damaged (Chroma rewrites its vector files at every write, so a
kill -9 can leave one empty or cut short): a question is refused with what to do, not a traceback, and the next ingest
builds the vectors again from the keyword index's copy of each chunk, to the same vectors, reading nothing again."""

from __future__ import annotations

import shutil

import pytest

from assistant.errors import IndexMissingError
from assistant.ingest.run import ingest
from cli_helpers import cli_env, run_cli
from conftest import CORPUS

QUESTION = "How many children were discharged from care in Rotherham in 2018?"


def everything_stored(settings) -> dict:
    """Every chunk of the local store with its text, metadata and vector, read with Chroma's own client."""
    import chromadb

    client = chromadb.PersistentClient(path=str(settings.chroma_dir))
    got = client.get_collection(settings.collection).get(include=["documents", "metadatas", "embeddings"])
    return {cid: (text, meta, [round(float(x), 6) for x in vector])
            for cid, text, meta, vector in zip(got["ids"], got["documents"], got["metadatas"], got["embeddings"])}


def damage(settings, how: str) -> None:
    """Damage the files as a killed writer can, and have this process read them afresh, as another would."""
    from assistant.index.vector_store import forget_local_clients

    forget_local_clients()
    [segment] = [f for f in settings.chroma_dir.iterdir() if f.is_dir()]
    if how == "empty pickle":  # seen after a kill inside a write
        (segment / "index_metadata.pickle").write_bytes(b"")
    else:  # the vectors' file cut short
        data = segment / "data_level0.bin"
        data.write_bytes(data.read_bytes()[:100])
    forget_local_clients()


@pytest.mark.parametrize("how", ["empty pickle", "vectors cut short"])
def test_damaged_vector_files_are_said_to_a_reader_and_built_again_by_the_next_ingest(fake_settings, how):
    from assistant.answer.service import Assistant

    ingest([CORPUS], fake_settings, progress=False)
    before = everything_stored(fake_settings)
    damage(fake_settings, how)
    with pytest.raises(IndexMissingError, match="cannot be read") as refused:
        Assistant(fake_settings.with_(reader="fake:overlap"))
    assert str(fake_settings.chroma_dir) in refused.value.message and "assistant ingest" in refused.value.hint

    env = cli_env(fake_settings.data_dir, ASSISTANT_READER="fake:overlap")
    asked = run_cli("ask", QUESTION, env=env)
    assert asked.returncode == 2 and "Traceback" not in asked.stderr and "cannot be read" in asked.stderr

    # An ingest of other minutes (or none of these): the vectors come from the keyword index, not from the inputs.
    mended = ingest([], fake_settings, progress=False)
    assert any("could not be read" in note and "5 items embedded again from the keyword index" in note
               for note in mended.notes), mended.notes
    assert mended.removed == 0 and mended.new == 0
    assert everything_stored(fake_settings) == before
    assert [f.name for f in fake_settings.chroma_dir.iterdir() if f.is_dir()] != []
    opened = Assistant(fake_settings.with_(reader="fake:overlap"))
    try:
        assert "148" in opened.ask(QUESTION).answer
    finally:
        opened.close()
    assert ingest([CORPUS], fake_settings, progress=False).unchanged == 5


def test_items_the_keyword_index_lacks_are_embedded_again_from_the_inputs_or_named(fake_settings, tmp_path):
    from assistant.index import lexical

    minutes = tmp_path / "minutes"
    shutil.copytree(CORPUS, minutes)
    ingest([minutes], fake_settings, progress=False)
    damage(fake_settings, "empty pickle")
    shutil.rmtree(fake_settings.lexical_dir)  # lost with the vectors: nothing to build them from but the minutes
    assert lexical.saved_entries(fake_settings.lexical_dir) == {}
    mended = ingest([minutes / "rotherham-2018-ilsc-performance-feedback.md"], fake_settings, progress=False)
    notes = " ".join(mended.notes)
    assert "0 items embedded again from the keyword index" in notes and "5 items whose text that copy lacked" in notes
    assert "1 of them, among these inputs, are embedded again" in notes
    assert "4 items that lost their vectors are not among these inputs and left the index" in notes


def test_the_text_embedded_is_made_again_from_a_stored_chunk_exactly(fake_settings):
    from assistant.ingest.chunk import chunk_item, embed_text_of
    from assistant.ingest.readers import read_inputs
    from assistant.ingest.tokens import default_counter

    items = [item for item in read_inputs([CORPUS], 1_000_000) if hasattr(item, "text")]
    chunks = [c for item in items for c in chunk_item(item, default_counter(), fake_settings.chunk_tokens)]
    assert len(chunks) > 20
    assert all(embed_text_of(c.text, c.metadata) == c.embed_text for c in chunks)


def test_an_emptied_manifest_is_said_by_every_command_and_left_as_it_is(fake_settings):
    """`ask` gave the empty file a new schema, so that `stats` then reported an empty index instead of damage, and
    blamed the collection name (the store, claimed by the index the manifest no longer named, looked another's)."""
    ingest([CORPUS], fake_settings, progress=False)
    fake_settings.manifest_path.write_bytes(b"")
    env = cli_env(fake_settings.data_dir, ASSISTANT_READER="fake:overlap")
    for command in (["ask", QUESTION], ["stats"], ["ingest", str(CORPUS)], ["stats"]):
        result = run_cli(*command, env=env)
        assert result.returncode == 2 and "Traceback" not in result.stderr, (command, result.stderr)
        assert f"The manifest {fake_settings.manifest_path} is empty or damaged" in result.stderr, result.stderr
        assert f"Move {fake_settings.data_dir} aside" in result.stderr
        assert fake_settings.manifest_path.stat().st_size == 0
