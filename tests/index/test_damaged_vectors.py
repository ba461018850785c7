"""A local vector store whose files a killed run left damaged (Chroma rewrites its vector files at every write, so a
kill -9 can leave one empty or cut short): a question is refused with what to do, not a traceback, and the next ingest
builds the vectors again from the keyword index's copy of each chunk, to the same vectors, reading nothing again."""

from __future__ import annotations

import os
import shutil

import pytest

from assistant.errors import AssistantError, IndexMissingError
from assistant.ingest.run import ingest
from cli_helpers import cli_env, run_cli, write_lock_held_elsewhere
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
        damaged, text = segment / "index_metadata.pickle", b""
    else:  # the vectors' file cut short
        damaged = segment / "data_level0.bin"
        text = damaged.read_bytes()[:100]
    # A new file in its place, not the file cut where it lies: this process may still map the old one (a store opened
    # before), and Chroma's native code reading a mapped file cut short under it ends the process.
    (segment / "damaged.new").write_bytes(text)
    os.replace(segment / "damaged.new", damaged)
    forget_local_clients()


# An empty pickle makes Chroma fail on every count and read. A vector file cut short is not used here: Chroma's native
# search on one can end the process now and then (a segmentation fault), which no test should risk.
@pytest.mark.parametrize("how", ["empty pickle"])
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
    assert any("could not be read" in note and "it was made anew" in note for note in mended.notes), mended.notes
    assert "5 items that had lost their vectors embedded again from the copy of their text" in " ".join(mended.notes)
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
    assert "embedded again from the copy of their text" not in notes
    assert "5 items had lost their vectors from the store; 1 of them, among these inputs, are embedded again" in notes
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
        assert f"Move {fake_settings.data_dir} aside and run `assistant ingest --index {fake_settings.data_dir} PATH`" \
        in result.stderr
        assert "put it back instead: the manifest lists the items withheld" in result.stderr  # lost in a rebuild
        assert fake_settings.manifest_path.stat().st_size == 0


def test_a_mend_stopped_part_way_is_finished_by_the_next_run_whatever_its_inputs(fake_settings, monkeypatch):
    """The mend removed the store first and embedded again after, keeping no record: killed between, the next run
    found a readable store lacking most chunks and dropped every item not among its inputs."""
    import assistant.ingest.run as run

    ingest([CORPUS], fake_settings, progress=False)
    before = everything_stored(fake_settings)
    damage(fake_settings, "empty pickle")
    real = run.restore_lost_vectors

    def stopped(*args, **kwargs):
        raise KeyboardInterrupt  # as if killed once the new store was made, before anything went back into it

    monkeypatch.setattr(run, "restore_lost_vectors", stopped)
    with pytest.raises(KeyboardInterrupt):
        ingest([], fake_settings, progress=False)
    monkeypatch.setattr(run, "restore_lost_vectors", real)
    again = ingest([CORPUS / "rotherham-2018-ilsc-performance-feedback.md"], fake_settings, progress=False)
    assert again.removed == 0 and "5 items that had lost their vectors embedded again" in " ".join(again.notes)
    assert everything_stored(fake_settings) == before


def test_a_store_that_will_not_read_on_a_full_disk_is_not_removed(fake_settings, monkeypatch):
    """On a full disk Chroma fails to read a sound store; the mend then removed it (or hung removing it)."""
    import assistant.ingest.run as run

    ingest([CORPUS], fake_settings, progress=False)
    damage(fake_settings, "empty pickle")
    segments = sorted(f.name for f in fake_settings.chroma_dir.iterdir() if f.is_dir())
    monkeypatch.setattr(run, "free_bytes", lambda path: 3 << 20)
    with pytest.raises(AssistantError, match="has 3 MiB free: it may only be full, so this run changed nothing"):
        ingest([], fake_settings, progress=False)
    assert sorted(f.name for f in fake_settings.chroma_dir.iterdir() if f.is_dir()) == segments


def test_an_open_assistant_answers_again_once_a_mend_has_run(fake_settings):
    """A mend does not save the keyword index again, so a running app went on with the removed collection and told
    every question the index was being rebuilt."""
    from assistant.answer.service import Assistant

    env = cli_env(fake_settings.data_dir, ASSISTANT_READER="fake:overlap")
    assert run_cli("ingest", str(CORPUS), "--no-progress", env=env).returncode == 0
    opened = Assistant(fake_settings.with_(reader="fake:overlap"))
    try:
        assert "148" in opened.ask(QUESTION).answer
        damage(fake_settings, "empty pickle")
        mended = run_cli("ingest", str(CORPUS), "--no-progress", env=env)  # another process, as the app's would be
        assert mended.returncode == 0 and "could not be read" in mended.stdout, mended.stdout + mended.stderr
        assert "148" in opened.ask(QUESTION).answer
    finally:
        opened.close()


def test_items_the_keyword_index_lacks_are_embedded_again_from_the_text_the_damaged_store_still_gives(fake_settings,
                                                                                                  monkeypatch):
    """When Chroma still gives every chunk's text and metadata (its vector file alone damaged), the mend had dropped
    the items the keyword index lacked all the same. The damaged store is stood in for: it says it cannot be read,
    and gives its chunks' text, as Chroma's does with a vector file cut short."""
    from assistant.index.vector_store import ChromaStore

    ingest([CORPUS], fake_settings, progress=False)
    before = everything_stored(fake_settings)
    readable = ChromaStore(fake_settings, "fake:hashing").readable_chunks()
    assert len(readable) == len(before)
    monkeypatch.setattr(ChromaStore, "unreadable", lambda self, every_vector=False: "Error getting embedding")
    monkeypatch.setattr(ChromaStore, "readable_chunks", lambda self: readable)
    shutil.rmtree(fake_settings.lexical_dir)
    mended = ingest([], fake_settings, progress=False)
    monkeypatch.undo()
    assert mended.removed == 0 and "5 items that had lost their vectors embedded again" in " ".join(mended.notes)
    assert everything_stored(fake_settings) == before


def test_an_empty_manifest_beside_nothing_of_an_index_is_a_first_ingest_stopped_and_is_made_anew(fake_settings):
    """A first ingest stopped by a full disk leaves an empty manifest; with an audit log beside it, every later run
    had been refused as a damaged index."""
    fake_settings.data_dir.mkdir(parents=True)
    fake_settings.manifest_path.write_bytes(b"")
    (fake_settings.data_dir / "audit.sqlite").write_bytes(b"")
    assert ingest([CORPUS], fake_settings, progress=False).new == 5


def test_a_collection_gone_with_no_writer_at_work_is_not_called_a_rebuild_under_way(fake_settings):
    """From an operator's review: a running app told members 'the minutes are being updated just now' for as long as
    it ran, its log naming an `ingest --reset` that nobody was running. A store whose collection has gone while a
    writer holds the lock is a rebuild under way; with none at work, it is said to need an ingest."""
    import chromadb

    from assistant.answer.service import Assistant
    from assistant.errors import IndexStaleError
    from assistant.index.vector_store import forget_local_clients

    ingest([CORPUS], fake_settings, progress=False)
    assistant = Assistant(fake_settings)
    try:
        assert "148" in assistant.ask(QUESTION).answer
        forget_local_clients()
        chromadb.PersistentClient(path=str(fake_settings.chroma_dir)).delete_collection(fake_settings.collection)
        forget_local_clients()
        with pytest.raises(AssistantError, match="no ingest or fetch is at work on it") as caught:
            assistant.ask(QUESTION)
        assert not isinstance(caught.value, IndexStaleError) and "Run `assistant ingest`" in caught.value.hint
        with write_lock_held_elsewhere(fake_settings.data_dir):
            with pytest.raises(IndexStaleError, match="is being rebuilt"):
                assistant.ask(QUESTION)
    finally:
        assistant.close()


def test_a_damaged_store_database_is_mended_as_told_keeping_what_is_withheld(fake_settings, tmp_path):
    """The hint had been to move the whole index folder aside: the rebuilt index then held a withheld item again."""
    ingest([CORPUS], fake_settings, progress=False)
    env = cli_env(fake_settings.data_dir)
    assert run_cli("withhold", "rotherham-2018-ilsc-performance-feedback", env=env).returncode == 0
    database = fake_settings.chroma_dir / "chroma.sqlite3"
    database.write_bytes(database.read_bytes()[:database.stat().st_size // 2])  # cut short, as by a failing disk
    refused = run_cli("ask", QUESTION, env=env)
    assert refused.returncode == 2 and "Traceback" not in refused.stderr, refused.stderr
    assert f"Move {fake_settings.chroma_dir} aside" in refused.stderr

    shutil.move(fake_settings.chroma_dir, tmp_path / "chroma-aside")  # as the hint says
    assert run_cli("ingest", str(CORPUS), "--no-progress", env=env).returncode == 0
    listed = run_cli("withhold", "--list", env=env).stdout
    assert "rotherham-2018-ilsc-performance-feedback" in listed
    assert run_cli("ask", QUESTION, env=env).returncode == 0
