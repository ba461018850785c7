"""Ingestion into a real (local, persistent) Chroma, with the fast deterministic embedder."""


from pathlib import Path

import pytest

from assistant.ingest.run import DEFAULT_CORPUS, Index, ingest
from assistant.index.manifest import Manifest
from assistant.index.stats import index_stats

from corpus_factory import write_markdown_corpus


def chroma_ids(settings):
    index = Index(settings)
    try:
        return index.store.all_ids()
    finally:
        index.close()


def manifest_ids(settings):
    manifest = Manifest(settings.manifest_path)
    try:
        rows = manifest.rows()
    finally:
        manifest.close()
    assert all(r.status == "done" for r in rows.values())
    return {cid for r in rows.values() for cid in r.chunk_ids}


def test_seed_corpus_ingests_and_a_second_run_embeds_nothing(fake_settings, corpus_copy):
    first = ingest([corpus_copy], fake_settings)
    assert first.new == 5 and not first.problems and first.chunks_added > 5
    ids = chroma_ids(fake_settings)
    assert ids == manifest_ids(fake_settings) and len(ids) == first.chunks_added
    second = ingest([corpus_copy], fake_settings)
    assert (second.new, second.replaced, second.unchanged, second.tokens_embedded) == (0, 0, 5, 0)
    assert chroma_ids(fake_settings) == ids


def test_source_identity_and_metadata_are_stored(fake_settings, corpus_copy):
    ingest([corpus_copy], fake_settings)
    index = Index(fake_settings)
    stored = index.store.get(where={"source_id": "https://democracy.blackpool.gov.uk/mgAi.aspx?ID=38109"})
    index.close()
    assert stored
    meta = stored[0].metadata
    assert meta["council"] == "Blackpool Council" and meta["council_key"] == "blackpool"
    assert meta["committee"] == "Children and Young People's Scrutiny Committee"
    assert meta["meeting_year"] == 2023 and meta["item_title"] == "Children's Social Care Update"
    assert {"kind", "position", "content_hash", "source_url"} <= set(meta)
    rotherham = Index(fake_settings)
    assert rotherham.store.get(where={"source_id": "rotherham-2018-ilsc-performance-feedback"})
    rotherham.close()


def test_a_changed_file_replaces_its_old_chunks(fake_settings, tmp_path):
    folder = tmp_path / "c"
    paths = write_markdown_corpus(folder, 3)
    ingest([folder], fake_settings)
    before = chroma_ids(fake_settings)
    paths[1].write_text(paths[1].read_text().replace("Members noted", "Members welcomed"), encoding="utf-8")
    summary = ingest([folder], fake_settings)
    assert (summary.replaced, summary.unchanged) == (1, 2)
    after = chroma_ids(fake_settings)
    assert after != before and after == manifest_ids(fake_settings)
    index = Index(fake_settings)
    texts = " ".join(c.text for c in index.store.get(where={"source_id": "synthetic-001"}))
    index.close()
    assert "Members welcomed" in texts and "Members noted" not in texts


def test_prune_removes_items_whose_files_are_gone_and_reset_starts_over(fake_settings, tmp_path):
    folder = tmp_path / "c"
    paths = write_markdown_corpus(folder, 4)
    ingest([folder], fake_settings)
    paths[0].unlink()
    assert ingest([folder], fake_settings).removed == 0  # without --prune nothing is dropped
    summary = ingest([folder], fake_settings, prune=True)
    assert summary.removed == 1
    assert index_stats(fake_settings).items == 3
    assert chroma_ids(fake_settings) == manifest_ids(fake_settings)
    summary = ingest([folder], fake_settings, reset=True)
    assert summary.new == 3 and index_stats(fake_settings).items == 3


def test_prune_deletes_the_chunks_of_many_items_in_one_write(fake_settings, tmp_path, monkeypatch):
    """Chroma rewrites its vector files at every write: a delete an item made --prune of 3,600 items take 100 s at
    30,000 chunks, the time of each growing with the index."""
    from assistant.index.vector_store import ChromaStore

    folder = tmp_path / "c"
    paths = write_markdown_corpus(folder, 6)
    ingest([folder], fake_settings)
    kept = manifest_ids(fake_settings)
    for path in paths[:4]:
        path.unlink()
    deletes = []
    delete = ChromaStore.delete
    monkeypatch.setattr(ChromaStore, "delete", lambda store, ids: deletes.append(list(ids)) or delete(store, ids))
    assert ingest([folder], fake_settings, prune=True).removed == 4
    assert len(deletes) == 1
    assert chroma_ids(fake_settings) == manifest_ids(fake_settings) < kept


def test_an_item_that_becomes_restricted_is_removed(fake_settings, tmp_path):
    folder = tmp_path / "c"
    paths = write_markdown_corpus(folder, 3)
    ingest([folder], fake_settings)
    before = chroma_ids(fake_settings)
    paths[2].write_text(paths[2].read_text().replace("---\n", "---\nrestricted: true\n", 1), encoding="utf-8")
    summary = ingest([folder], fake_settings)
    assert summary.removed == 1
    assert any(p.kind == "restricted" for p in summary.problems)
    assert index_stats(fake_settings).items == 2
    after = chroma_ids(fake_settings)
    assert after < before  # the restricted item's chunks left the store, and nothing else did or came
    assert after == manifest_ids(fake_settings)


def test_two_items_with_one_identity_are_reported_not_merged(fake_settings, tmp_path):
    folder = tmp_path / "c"
    write_markdown_corpus(folder, 2)
    (folder / "copy.md").write_text((folder / "item-000.md").read_text(), encoding="utf-8")
    summary = ingest([folder], fake_settings)
    assert summary.new == 2
    assert [p.kind for p in summary.problems] == ["failed"]
    assert "same source identity" in summary.problems[0].reason
    assert "keep only the newer one" in summary.problems[0].hint  # two exports of one item are no two items
    (folder / "item-001.md").unlink()
    pruned = ingest([folder], fake_settings, prune=True)  # every input was read: the duplicate does not block it
    assert pruned.removed == 1 and [p.kind for p in pruned.problems] == ["failed"]


def test_stats_count_by_council_committee_and_year(fake_settings, corpus_copy):
    ingest([corpus_copy], fake_settings)
    stats = index_stats(fake_settings)
    assert stats.items == 5
    assert stats.by_council["Sefton Council"][0] == 1
    assert stats.by_year["2018"][0] == 2 and stats.by_year["(undated)"][0] == 1
    assert sum(c for _, c in stats.by_council.values()) == stats.chunks


def test_the_real_embedder_builds_a_searchable_index(settings, corpus_copy, minilm):
    index = Index(settings, embedder=minilm)
    ingest([corpus_copy], settings, index=index)
    hits = index.store.query(minilm.embed_query("dental health of looked after children"), k=3)
    index.close()
    assert hits[0].metadata["council"] == "Barnsley Metropolitan Borough Council"
    assert all(0.0 <= h.score <= 1.0 for h in hits)


def test_a_different_embedding_model_needs_a_reset(fake_settings, corpus_copy, minilm):
    from assistant.errors import IndexMismatchError

    ingest([corpus_copy], fake_settings)
    with pytest.raises(IndexMismatchError, match="--reset"):
        Index(fake_settings.with_(embedding_model="all-MiniLM-L6-v2"), embedder=minilm)


def test_an_index_of_the_bundled_model_opened_with_another_model_says_to_unset_that_model(settings, corpus_copy,
                                                                                          minilm):
    """A mistyped ASSISTANT_EMBEDDING_MODEL was told to set ASSISTANT_EMBED_PRECISION=int8, the precision already in
    force, which left the mismatch as it was."""
    from assistant.errors import IndexMismatchError

    index = Index(settings, embedder=minilm)
    ingest([corpus_copy], settings, index=index)
    index.close()
    with pytest.raises(IndexMismatchError) as refused:
        Index(settings.with_(embedding_model="fake:hashing"))
    assert "unset ASSISTANT_EMBEDDING_MODEL" in refused.value.hint
    assert "ASSISTANT_EMBED_PRECISION" not in refused.value.hint
    with pytest.raises(IndexMismatchError) as refused:
        Index(settings.with_(embed_precision="fp32"), embedder=None)
    assert "set ASSISTANT_EMBED_PRECISION=int8" in refused.value.hint
    assert "ASSISTANT_EMBEDDING_MODEL" not in refused.value.hint


def test_prune_with_an_input_that_cannot_be_read_removes_nothing(fake_settings, tmp_path):
    """A mistyped folder, or a file damaged since it was indexed, may hold items the index has."""
    folder = tmp_path / "d"
    paths = write_markdown_corpus(folder, 3)
    ingest([folder], fake_settings)
    before = chroma_ids(fake_settings)

    mistyped = ingest([tmp_path / "dd"], fake_settings, prune=True)
    assert mistyped.removed == 0 and mistyped.failed and "--prune removed nothing" in " ".join(mistyped.notes)
    assert index_stats(fake_settings).items == 3 and chroma_ids(fake_settings) == before

    damaged = folder / "item-001.pdf"
    damaged.write_bytes(b"\x00\x01 not a pdf")
    paths[1].unlink()  # item-001 now arrives only as a file that fails to read
    summary = ingest([folder], fake_settings, prune=True)
    assert summary.removed == 0 and [p.origin for p in summary.failed] == [str(damaged)]
    assert index_stats(fake_settings).items == 3

    damaged.unlink()
    assert ingest([folder], fake_settings, prune=True).removed == 1  # once every input reads, prune works


def test_reset_reads_every_input_and_loads_the_model_before_removing_anything(fake_settings, tmp_path):
    from assistant.errors import AssistantError, ModelError

    folder = tmp_path / "e"
    write_markdown_corpus(folder, 3)
    ingest([folder], fake_settings)
    before = chroma_ids(fake_settings)

    with pytest.raises(AssistantError, match="Not resetting the index") as caught:
        ingest([tmp_path / "ee"], fake_settings, reset=True)
    assert "Nothing was changed" in caught.value.hint
    assert index_stats(fake_settings).items == 3 and chroma_ids(fake_settings) == before

    with pytest.raises(ModelError, match="not a local folder"):
        ingest([folder], fake_settings.with_(embedding_model=str(tmp_path / "no-model")), reset=True)
    assert index_stats(fake_settings).items == 3 and chroma_ids(fake_settings) == before

    assert ingest([folder], fake_settings, reset=True).new == 3


def _ask_fails_with(settings, error, fragment):
    from assistant.answer.service import Assistant

    with pytest.raises(error, match=fragment):
        Assistant(settings)


def _indexed_keyword_entries(settings, folder):
    """Three items ingested; the keyword index's entries file and what it holds."""
    write_markdown_corpus(folder, 3)
    ingest([folder], settings)
    entries = settings.lexical_dir / "entries.jsonl"
    return entries, entries.read_bytes()


def test_a_keyword_index_cut_short_is_reported_and_rebuilt_by_the_next_ingest(fake_settings, tmp_path):
    from assistant.errors import IndexMissingError

    folder = tmp_path / "f"
    entries, whole = _indexed_keyword_entries(fake_settings, folder)
    for cut in (whole[:len(whole) // 2], whole[:whole.index(b"\n") + 1]):  # mid-line, and at a line's end
        entries.write_bytes(cut)
        _ask_fails_with(fake_settings, IndexMissingError, "keyword index .* is damaged")
        summary = ingest([folder], fake_settings)
        assert summary.new == 0 and summary.tokens_embedded == 0  # rebuilt from the store, nothing embedded
        assert entries.read_bytes() == whole


def test_a_lost_vector_store_is_reported_and_embedded_again_by_the_next_ingest(fake_settings, tmp_path):
    import shutil

    from chromadb.api.client import SharedSystemClient

    from assistant.answer.service import Assistant
    from assistant.errors import IndexStaleError

    folder, elsewhere = tmp_path / "g", tmp_path / "elsewhere"
    write_markdown_corpus(folder, 3)
    ingest([folder], fake_settings)
    before = chroma_ids(fake_settings)
    write_markdown_corpus(elsewhere, 1, start=7)
    ingest([elsewhere], fake_settings)  # an item whose input the repairing run below is not given
    shutil.rmtree(fake_settings.chroma_dir)
    SharedSystemClient.clear_system_cache()  # as a new process would find it: Chroma keeps one client per path
    notes = index_stats(fake_settings).notes  # read before `ask`, which opens Chroma and so makes its folder again
    assert len(notes) == 1 and "vector store" in notes[0] and "is missing" in notes[0], notes
    assert "run `assistant ingest` again" in notes[0]
    _ask_fails_with(fake_settings, IndexStaleError, "vector store .* holds no collection .minutes. for this index")

    # Every lost item, the one whose input this run is not given too, is embedded again from the keyword index's
    # copy of its text.
    summary = ingest([folder], fake_settings)
    notes = " ".join(summary.notes)
    assert "4 items that had lost their vectors embedded again from the copy of their text" in notes, notes
    assert "not among these inputs" not in notes and summary.removed == 0 and summary.unchanged == 3
    assert chroma_ids(fake_settings) == manifest_ids(fake_settings) and before < chroma_ids(fake_settings)
    Assistant(fake_settings).close()  # answers again

    # Without that copy, the lost items among the inputs are embedded again from them, and the others named.
    shutil.rmtree(fake_settings.chroma_dir)
    shutil.rmtree(fake_settings.lexical_dir)
    SharedSystemClient.clear_system_cache()
    summary = ingest([folder], fake_settings)
    notes = " ".join(summary.notes)
    assert summary.tokens_embedded > 0 and "4 items had lost their vectors" in notes and "3 of them" in notes
    assert "1 items that lost their vectors are not among these inputs" in notes and "item-007.md" in notes
    assert summary.removed == 1 and chroma_ids(fake_settings) == before == manifest_ids(fake_settings)
    Assistant(fake_settings).close()


def test_a_store_put_back_from_an_older_copy_is_mended_though_it_holds_as_many_chunks(fake_settings, tmp_path):
    """The store was checked by its count first: put back from a copy older than an item's edit, it held the item's
    replaced chunks in place of its current ones, as many of them, so it was taken for whole. The item was lost from
    the dense search, and every later ingest called it unchanged."""
    import shutil

    from chromadb.api.client import SharedSystemClient

    folder = tmp_path / "g"
    edited = write_markdown_corpus(folder, 3)[1]
    ingest([folder], fake_settings)
    shutil.copytree(fake_settings.chroma_dir, tmp_path / "older-copy")
    text = edited.read_text(encoding="utf-8")
    edited.write_text(text.replace("Members", "Councillors", 1), encoding="utf-8")
    assert ingest([folder], fake_settings).replaced == 1
    before = chroma_ids(fake_settings)
    shutil.rmtree(fake_settings.chroma_dir)
    shutil.copytree(tmp_path / "older-copy", fake_settings.chroma_dir)
    SharedSystemClient.clear_system_cache()  # as a new process would find it: Chroma keeps one client per path
    assert len(chroma_ids(fake_settings)) == len(before) and chroma_ids(fake_settings) != before

    summary = ingest([folder], fake_settings)
    assert "1 item that had lost their vectors" in " ".join(summary.notes), summary.notes
    assert "removed 1 chunk that no manifest entry owned" in summary.notes  # the replaced chunk the copy held
    assert chroma_ids(fake_settings) == before == manifest_ids(fake_settings)


def test_reset_rebuilds_a_damaged_keyword_index_too(fake_settings, tmp_path):
    folder = tmp_path / "h"
    entries, whole = _indexed_keyword_entries(fake_settings, folder)
    entries.write_bytes(b"{damaged" + whole[8:])  # whole lines, unreadable JSON: only a reset can tell
    ingest([folder], fake_settings, reset=True)
    assert entries.read_bytes() == whole


def test_chunks_no_manifest_row_owns_are_removed_by_a_plain_ingest(fake_settings, tmp_path):
    """As a run killed between writing an item's new chunks and its manifest commit can leave them, for an item
    gone since; they used to stay until a --prune, and kept the store's count from matching the manifest."""
    from assistant.records import Chunk

    folder = tmp_path / "o"
    write_markdown_corpus(folder, 2)
    ingest([folder], fake_settings)
    before = chroma_ids(fake_settings)
    index = Index(fake_settings)
    try:
        stray = Chunk("stray-chunk", "gone-item", 0, "discussion", "Minutes: an item since removed.",
                      "Minutes: an item since removed.", 6, {"source_id": "gone-item", "position": 0})
        index.store.upsert([stray], [index.embedder.embed_documents([stray.embed_text])[0]])
    finally:
        index.close()
    assert chroma_ids(fake_settings) == before | {"stray-chunk"}
    summary = ingest([folder], fake_settings)
    assert "removed 1 chunk that no manifest entry owned" in summary.notes and summary.unchanged == 2
    assert chroma_ids(fake_settings) == before == manifest_ids(fake_settings)


def _collections(settings) -> set[str]:
    import chromadb

    return {c.name for c in chromadb.PersistentClient(path=str(settings.chroma_dir)).list_collections()}


def test_a_mistyped_collection_name_is_named_and_loses_nothing(fake_settings, tmp_path):
    from assistant.errors import IndexMismatchError

    folder, fetched = tmp_path / "minutes", tmp_path / "fetched"
    write_markdown_corpus(folder, 3)
    write_markdown_corpus(fetched, 1, start=7)  # as minutes fetched once, whose files the user does not have
    ingest([folder], fake_settings)
    ingest([fetched], fake_settings)
    held = manifest_ids(fake_settings)
    typo = fake_settings.with_(collection="minutess")
    _ask_fails_with(typo, IndexMismatchError, "collection 'minutes', not 'minutess' \\(ASSISTANT_COLLECTION\\)")
    with pytest.raises(IndexMismatchError, match="ASSISTANT_COLLECTION=minutes"):
        ingest([folder], typo)  # the ingest a "lost chunks" message would have suggested
    assert "minutess" not in _collections(fake_settings)  # asking made no empty collection either
    assert manifest_ids(fake_settings) == held == chroma_ids(fake_settings)
    summary = ingest([folder], typo, reset=True)  # a new index in the new collection, when that is what is wanted
    assert summary.new == 3 and "minutess" in _collections(fake_settings)


def test_a_chroma_server_set_or_forgotten_is_named(fake_settings, tmp_path):
    from assistant.errors import IndexMismatchError

    folder = tmp_path / "minutes"
    write_markdown_corpus(folder, 2)
    ingest([folder], fake_settings)
    # Port 1: the check must refuse before anything tries to reach the server.
    _ask_fails_with(fake_settings.with_(chroma_host="127.0.0.1", chroma_port=1), IndexMismatchError,
                    "keeps its vectors in .*, but CHROMA_HOST is set \\(127.0.0.1:1\\)")

    on_server = fake_settings.with_(data_dir=tmp_path / "server-index")
    manifest = Manifest(on_server.manifest_path)
    manifest.set_meta("collection", "minutes")
    manifest.set_meta("vectors_on", "server chroma.example:8000")  # as an ingest through a server records it
    manifest.close()
    _ask_fails_with(on_server, IndexMismatchError, "on the Chroma server at chroma.example:8000, but CHROMA_HOST "
                                                   "is not set")
    assert not on_server.chroma_dir.exists()  # no local store was started in its place


def test_a_council_and_committee_given_to_ingest_fill_only_files_that_name_none(fake_settings, tmp_path):
    """PDF and Word minutes carry no council or committee; what the officer gives ingest fills them in, and an
    item that names its own keeps it."""
    from fixtures_make import make_pdf

    folder = tmp_path / "minutes"
    folder.mkdir()
    make_pdf(folder / "panel.pdf", ["Corporate Parenting Panel", "The Panel noted 412 children in care."])
    (folder / "own.md").write_text("---\ncouncil: Sefton Council\ntitle: Fostering\n---\nThe Panel noted 40 carers.\n")
    ingest([folder], fake_settings, council="  Barnsley Metropolitan Borough Council ", committee="Corporate Parenting")
    index = Index(fake_settings)
    found = {meta["source_id"].rsplit("/", 1)[-1]: meta for meta in (c.metadata for c in index.store.get())}
    index.close()
    pdf = next(meta for key, meta in found.items() if key.endswith("panel.pdf"))
    own = next(meta for key, meta in found.items() if key.endswith("own.md"))
    assert pdf["council"] == "Barnsley Metropolitan Borough Council" and pdf["council_key"] == "barnsley"
    assert pdf["committee"] == "Corporate Parenting"
    assert own["council"] == "Sefton Council" and own["committee"] == "Corporate Parenting"
    # The index remembers them: a later ingest of the same files without them (as `serve` does for corpus/), or a
    # reset, keeps them and embeds nothing again; another council given replaces the one remembered.
    again = ingest([folder], fake_settings)
    assert again.unchanged == 2 and again.tokens_embedded == 0
    assert set(index_stats(fake_settings).by_council) == {"Sefton Council", "Barnsley Metropolitan Borough Council"}
    ingest([folder], fake_settings, reset=True)
    assert set(index_stats(fake_settings).by_council) == {"Sefton Council", "Barnsley Metropolitan Borough Council"}
    ingest([folder], fake_settings, council="Rotherham Metropolitan Borough Council")
    assert set(index_stats(fake_settings).by_committee) == {"Corporate Parenting"}
    assert set(index_stats(fake_settings).by_council) == {"Sefton Council", "Rotherham Metropolitan Borough Council"}


def test_reset_or_prune_with_inputs_that_hold_no_minutes_leaves_the_index_as_it_was(fake_settings, corpus_copy,
                                                                                    tmp_path):
    """An empty or mistyped folder (a share not mounted, say) would leave an empty index: nothing is removed."""
    from assistant.errors import AssistantError

    ingest([corpus_copy], fake_settings)
    before = chroma_ids(fake_settings)
    empty = tmp_path / "not-mounted"
    empty.mkdir()
    (empty / "notes.xyz").write_bytes(b"not minutes")  # a suffix no reader will ever take
    with pytest.raises(AssistantError) as refused:
        ingest([empty], fake_settings, reset=True)
    assert "Not resetting the index: the inputs hold no minutes" in refused.value.message
    assert "Nothing was changed" in refused.value.hint and str(fake_settings.data_dir) in refused.value.hint
    pruned = ingest([empty], fake_settings, prune=True)
    assert pruned.removed == 0 and any("--prune removed nothing: the inputs hold no minutes" in n for n in pruned.notes)
    assert chroma_ids(fake_settings) == before and index_stats(fake_settings).items == 5


def _councils(settings) -> dict[str, int]:
    return {council: items for council, (items, _) in index_stats(settings).by_council.items()}


def test_two_folders_each_holding_a_file_of_one_name_never_replace_each_other(fake_settings, tmp_path):
    """Both are `file:minutes.txt` under their folders: taken as an update, Sefton's minutes replaced Barnsley's."""
    shared = tmp_path / "shared"
    for council, text in (("barnsley", "Barnsley had 321 children on plans."), ("sefton", "Sefton had 654 leavers.")):
        (shared / council).mkdir(parents=True)
        (shared / council / "minutes.txt").write_text(f"The Director reported that {text}\n")
    ingest([shared / "barnsley"], fake_settings, council="Barnsley Council")
    second = ingest([shared / "sefton"], fake_settings, council="Sefton Council")
    assert second.replaced == 0 and second.new == 0
    [failed] = second.failed
    assert failed.origin == str(shared / "sefton" / "minutes.txt")
    assert f"the source identity file:minutes.txt of {shared / 'barnsley' / 'minutes.txt'}" in failed.reason
    assert "ingest the folder that holds both" in failed.hint
    assert _councils(fake_settings) == {"Barnsley Council": 1}
    both = ingest([shared], fake_settings, prune=True)  # as the hint says: each named by its own path
    assert both.new == 2 and both.removed == 1  # the old entry of barnsley/minutes.txt is replaced
    # Barnsley's council stays with its file; the one given with the refused file was not kept for anything.
    assert _councils(fake_settings) == {"Barnsley Council": 1, "(unknown)": 1}


def test_a_file_named_on_its_own_after_its_folder_replaces_its_old_entry(fake_settings, tmp_path):
    """Named through its folder it is `file:cyp.txt`, named on its own `file:<path>`: the corrected file was added
    beside the old one, and the old figure went on being answered."""
    folder = tmp_path / "minutes"
    folder.mkdir()
    minutes = folder / "cyp.txt"
    minutes.write_text("The Director reported 410 children looked after.\n")
    ingest([folder], fake_settings, council="Editshire Council", cwd=tmp_path)
    minutes.write_text("The Director reported 415 children looked after.\n")
    again = ingest([minutes], fake_settings, cwd=tmp_path)
    assert (again.new, again.removed) == (1, 1)
    assert "minutes/cyp.txt was indexed before under another identity (file:cyp.txt)" in " ".join(again.notes)
    manifest = Manifest(fake_settings.manifest_path)
    rows = manifest.rows()
    manifest.close()
    assert list(rows) == ["file:minutes/cyp.txt"]
    assert _councils(fake_settings) == {"Editshire Council": 1}  # the council given before is kept
    index = Index(fake_settings)
    texts = [chunk.text for chunk in index.store.get()]
    index.close()
    assert any("415" in text for text in texts) and not any("410" in text for text in texts)


def test_prune_keeps_the_items_of_a_file_that_is_there_but_passed_over(fake_settings, tmp_path):
    """A file emptied by a failed copy, or over a lowered length cap, is still among the inputs."""
    folder = tmp_path / "d"
    paths = write_markdown_corpus(folder, 3)
    ingest([folder], fake_settings)
    paths[0].write_text("")
    summary = ingest([folder], fake_settings, prune=True)
    assert summary.removed == 0 and index_stats(fake_settings).items == 3
    assert f"--prune kept 1 item whose files were passed over this time ({paths[0]})" in " ".join(summary.notes)
    paths[0].unlink()
    assert ingest([folder], fake_settings, prune=True).removed == 1


def test_a_folder_with_nothing_to_read_says_what_it_holds(fake_settings, tmp_path):
    folder = tmp_path / "pack"
    (folder / "sub").mkdir(parents=True)
    for name in ("agenda.zip", "data.xlsx", "more.zip"):
        (folder / name).write_bytes(b"PK")
    summary = ingest([folder], fake_settings)
    [problem] = summary.problems
    assert problem.kind == "skipped" and problem.origin == str(folder)
    assert problem.reason == "folder holds no files ingest reads (it holds 1 .xlsx, 2 .zip)"
    assert "unzip agenda packs" in problem.hint


@pytest.mark.skipif(__import__("shutil").which("unshare") is None, reason="needs unshare to drop root's rights")
def test_a_sub_folder_that_cannot_be_listed_fails_and_prune_removes_nothing(fake_settings, tmp_path):
    """os.walk passes over a folder it may not list; its items were then pruned as if deleted."""
    import json
    import os
    import subprocess
    import sys

    folder = tmp_path / "minutes"
    write_markdown_corpus(folder / "2019", 2)
    write_markdown_corpus(folder / "2020", 1)
    listing = ("import json, sys; from pathlib import Path; from assistant.ingest.readers import read_inputs; "
               "print(json.dumps([[type(r).__name__, getattr(r, 'origin', ''), getattr(r, 'kind', '')] "
               "for r in read_inputs([Path(sys.argv[1])], 100000)]))")
    (folder / "2019").chmod(0)
    try:
        # Root may list any folder; in a user namespace of its own it is nobody to this one.
        command = [sys.executable, "-c", listing, str(folder)]
        if os.geteuid() == 0:
            command = ["unshare", "--user", *command]
        run = subprocess.run(command, capture_output=True, text=True, env={**os.environ, "PYTHONPATH": os.getcwd()})
    finally:
        (folder / "2019").chmod(0o755)
    if run.returncode != 0 and "unshare" in run.stderr:
        pytest.skip(f"user namespaces are not available here: {run.stderr.strip()}")
    found = json.loads(run.stdout)
    assert ["InputProblem", str(folder / "2019"), "failed"] in found
    assert sum(kind == "MinuteItem" for kind, _, _ in found) == 1


def test_prune_keeps_an_emptied_jsonl_file_and_a_file_named_another_way(fake_settings, tmp_path):
    """Each line of a JSONL file is an item of its own ('minutes.jsonl:2'), and a folder may be named relative or
    absolute: matched by spelling, both lost their items to --prune."""
    import json

    folder = tmp_path / "minutes"
    folder.mkdir()
    lines = [{"url": f"https://example.gov.uk/mgAi.aspx?ID={n}", "council": "Example Council", "title": f"Item {n}",
              "date": "2021-03-03", "text": f"The Panel noted {n} new foster carers."} for n in (1, 2)]
    (folder / "a.jsonl").write_text("".join(json.dumps(line) + "\n" for line in lines))
    (folder / "b.txt").write_text("The Panel noted the report.\n")
    (folder / "c.txt").write_text("The Board noted the annual report.\n")  # stays good: pruning goes ahead
    ingest([Path("minutes")], fake_settings, cwd=tmp_path)
    (folder / "a.jsonl").write_text("")
    (folder / "b.txt").write_text("")
    summary = ingest([folder], fake_settings, prune=True, cwd=tmp_path / "elsewhere")
    assert summary.removed == 0 and index_stats(fake_settings).items == 4, summary.notes


def test_file_identities_are_told_apart_by_the_file_whatever_the_working_directory(fake_settings, tmp_path):
    """A file named on its own is relative to the working directory, which is not recorded: 'minutes.txt' from two
    folders replaced one council's minutes with the other's, and an update given by another path was refused."""
    for council in ("barnsley", "sefton"):
        (tmp_path / council).mkdir()
        (tmp_path / council / "minutes.txt").write_text(f"The Director reported on {council}'s children in care.\n")
    ingest([Path("minutes.txt")], fake_settings, cwd=tmp_path / "barnsley", council="Barnsley Council")
    second = ingest([Path("minutes.txt")], fake_settings, cwd=tmp_path / "sefton", council="Sefton Council")
    assert second.replaced == 0 and len(second.failed) == 1
    assert "still there" in second.failed[0].reason
    # The same file, given by its absolute path from a folder holding another 'minutes.txt': an update, not a clash.
    (tmp_path / "barnsley" / "minutes.txt").write_text("The Director reported 412 children in care.\n")
    update = ingest([tmp_path / "barnsley" / "minutes.txt"], fake_settings, cwd=tmp_path / "sefton")
    assert not update.failed and update.new + update.replaced == 1
    assert set(index_stats(fake_settings).by_council) == {"Barnsley Council"}


def test_reset_with_unreadable_inputs_names_every_one(fake_settings, tmp_path):
    from assistant.errors import AssistantError

    folder = tmp_path / "m"
    write_markdown_corpus(folder, 2)
    ingest([folder], fake_settings)
    missing = [tmp_path / f"missing-{n}" for n in range(6)]
    with pytest.raises(AssistantError, match="6 of the inputs could not be read") as caught:
        ingest([folder, *missing], fake_settings, reset=True)
    assert all(str(path) in caught.value.message for path in missing) and "more" not in caught.value.message


def test_no_path_and_no_corpus_folder_says_corpus_is_the_default(fake_settings, tmp_path):
    summary = ingest([DEFAULT_CORPUS], fake_settings, cwd=tmp_path, no_path_given=True)
    [problem] = summary.failed
    assert "corpus/ is the folder read when no PATH is given" in problem.reason
    assert str(tmp_path) in problem.hint and "assistant ingest PATH" in problem.hint


def test_a_first_ingest_whose_inputs_hold_no_minutes_makes_no_index(fake_settings, tmp_path):
    """Run from another folder, or with a mistyped path, it had left an empty index: `ask` and the app then answered
    every question "The minutes in the index do not cover this question", where they say there is no index yet."""
    from assistant.answer.service import Assistant
    from assistant.errors import IndexMissingError
    from assistant.index.stats import index_exists

    (tmp_path / "empty").mkdir()
    for inputs in ([DEFAULT_CORPUS], [tmp_path / "mistyped"], [tmp_path / "empty"]):
        summary = ingest(inputs, fake_settings, cwd=tmp_path, no_path_given=inputs == [DEFAULT_CORPUS])
        assert summary.problems and summary.new == 0
        assert any("No index was made" in note for note in summary.notes), summary.notes
        assert not index_exists(fake_settings)
    with pytest.raises(IndexMissingError, match="There is no index"):
        Assistant(fake_settings)
    folder = tmp_path / "m"
    write_markdown_corpus(folder, 2)
    assert ingest([folder, tmp_path / "mistyped"], fake_settings).new == 2 and index_exists(fake_settings)


def test_a_corpus_folder_typed_by_the_user_is_not_called_the_default(fake_settings, tmp_path):
    summary = ingest([Path("corpus")], fake_settings, cwd=tmp_path)
    [problem] = summary.failed
    assert "no PATH" not in problem.reason and "no PATH" not in (problem.hint or ""), problem.describe()


def test_a_reset_whose_store_fails_leaves_no_record_of_a_reset_cut_short(fake_settings, tmp_path, monkeypatch):
    import assistant.ingest.run as run

    folder = tmp_path / "m"
    write_markdown_corpus(folder, 2)
    ingest([folder], fake_settings)

    def failing_reset(settings, ours):
        raise RuntimeError("a Chroma error")

    monkeypatch.setattr(run, "reset_store", failing_reset)
    with pytest.raises(RuntimeError):
        ingest([folder], fake_settings, reset=True)
    assert index_stats(fake_settings).notes == () and index_stats(fake_settings).items == 2


def test_files_gone_are_each_named_once_whatever_their_items(fake_settings, tmp_path):
    """A whole meeting's minutes, split into four items, had its one path named three times ('a.txt, a.txt, a.txt and
    5 more'), and the other file gone was never named."""
    folder = tmp_path / "minutes"
    folder.mkdir()
    (folder / "csc-2024-06-12.txt").write_text(
        "Minutes of the meeting held on 12 June 2024\n\n1. Apologies\n\nNone.\n\n2. Declarations of Interest\n\n"
        "None.\n\n3. Child Protection Plans\n\nThere were 256 children subject to a child protection plan.\n",
        encoding="utf-8")
    (folder / "csc-2024-07-10.txt").write_text("4. Fostering\n\nThe panel approved 12 foster carers.\n",
                                               encoding="utf-8")
    (folder / "budget.txt").write_text("The budget was noted.\n", encoding="utf-8")
    ingest([folder], fake_settings, council="Wyvern Borough Council")
    (folder / "csc-2024-06-12.txt").unlink()
    (folder / "csc-2024-07-10.txt").unlink()

    notes = " ".join(ingest([folder], fake_settings).notes)
    assert (f"the files of 5 indexed items no longer exist ({folder / 'csc-2024-06-12.txt'}, "
            f"{folder / 'csc-2024-07-10.txt'}):") in notes, notes


def test_a_moved_file_keeps_the_council_given_before_and_files_gone_are_noted(fake_settings, tmp_path):
    folder = tmp_path / "minutes"
    folder.mkdir()
    (folder / "csc-2024-06-12.txt").write_text(
        "Minutes of the meeting held on 12 June 2024\n\n3. Child Protection Plans\n\nThere were 256 children "
        "subject to a child protection plan.\n", encoding="utf-8")
    (folder / "csc-2024-07-10.txt").write_text("4. Fostering\n\nThe panel approved 12 foster carers.\n",
                                               encoding="utf-8")
    ingest([folder], fake_settings, council="Wyvern Borough Council", committee="Children's Scrutiny")
    (folder / "2024").mkdir()
    (folder / "csc-2024-06-12.txt").rename(folder / "2024" / "csc-2024-06-12.txt")

    moved = ingest([folder], fake_settings)  # no --prune: the moved file's new entry replaces its old one
    notes = " ".join(moved.notes)
    assert "1 file moved or renamed since last indexed" in notes and "2024/csc-2024-06-12.txt" in notes, notes
    assert "new entries replace the 1 indexed item of the old path" in notes, notes
    councils = {row.source_id: (row.council, row.committee) for row in _rows(fake_settings).values()}
    assert councils["file:2024/csc-2024-06-12.txt"] == ("Wyvern Borough Council", "Children's Scrutiny")
    assert "file:csc-2024-06-12.txt" not in councils and moved.removed == 1, moved.report()

    (folder / "csc-2024-07-10.txt").unlink()  # a file gone, not moved: it stays until --prune, with a note
    kept = ingest([folder], fake_settings)
    assert "the files of 1 indexed item no longer exist" in " ".join(kept.notes) and kept.removed == 0, kept.notes
    pruned = ingest([folder], fake_settings, prune=True)
    assert pruned.removed == 1 and "no longer exist" not in " ".join(pruned.notes)
    # Two chunks: the heading '3. Child Protection Plans' starts a chunk of its own item text, apart from the
    # opening line before it.
    assert index_stats(fake_settings).by_council == {"Wyvern Borough Council": (1, 2)}


def test_a_draft_renamed_with_a_figure_corrected_leaves_no_old_figure_in_the_index(fake_settings, tmp_path):
    """A draft renamed to its approved name with an item corrected on the way: the items found again told the
    rename, but the corrected item's old version stayed (no file holds it any more), and the old figure was quoted
    before the corrected one."""
    folder = tmp_path / "minutes"
    folder.mkdir()
    minutes = ("Minutes of the Children's Services Scrutiny Committee held on 17 March 2026\n\n"
               "1. Apologies for Absence\n\nApologies were received from Councillor Dalton.\n\n"
               "2. Declarations of Interest\n\nThere were no declarations of interest.\n\n"
               "3. Social Worker Caseloads\n\nThe average caseload of a children's social worker was 19 in "
               "February 2026.\n")
    (folder / "draft-2026-03-17.txt").write_text(minutes, encoding="utf-8")
    ingest([folder], fake_settings, council="Northbrook Borough Council")
    (folder / "draft-2026-03-17.txt").unlink()
    (folder / "approved-2026-03-17.txt").write_text(minutes.replace("was 19 in", "was 21 in"), encoding="utf-8")

    renamed = ingest([folder], fake_settings)
    rows = _rows(fake_settings)
    assert {sid.split("#")[0] for sid in rows} == {"file:approved-2026-03-17.txt"}, sorted(rows)
    assert "no longer exist (" not in " ".join(renamed.notes), renamed.notes
    (said,) = [note for note in renamed.notes if "moved or renamed" in note]  # one note for the file, not one a fact
    assert "replace the 4 indexed items of the old path" in said and "keeps the council" in said, said
    index = Index(fake_settings)
    try:
        texts = [chunk.text for chunk in index.store.get(sorted(index.store.all_ids()))]
    finally:
        index.close()
    assert any("was 21 in" in text for text in texts) and not any("was 19 in" in text for text in texts), texts
    assert {row.council for row in rows.values()} == {"Northbrook Borough Council"}


def _rows(settings):
    manifest = Manifest(settings.manifest_path)
    try:
        return manifest.rows()
    finally:
        manifest.close()


def _vectors(settings) -> dict:
    index = Index(settings)
    try:
        return {cid: vector for cid, (_, vector) in index.store.vectors_of(sorted(index.store.all_ids())).items()}
    finally:
        index.close()


def test_an_item_written_again_with_the_same_text_for_the_embedder_keeps_its_vectors(fake_settings, tmp_path):
    """An item whose metadata alone changed (its reporting period) had every chunk embedded again; so had every item
    after an upgrade whose chunker cut them into the same chunks. Now a chunk embedded from the same text by the same
    model keeps its vector; one whose text for the embedder changed (its title is in it) is embedded again."""
    folder = tmp_path / "minutes"
    first, second = write_markdown_corpus(folder, 2)
    ingest([folder], fake_settings)
    before = _vectors(fake_settings)
    first.write_text(first.read_text().replace('---\n', '---\nperiod: "2015/16"\n', 1))
    second.write_text(second.read_text().replace(' update"', ' report"', 1))  # the item title, in every chunk's header

    summary = ingest([folder], fake_settings)
    assert summary.replaced == 2 and summary.recut == 0
    index = Index(fake_settings)
    first_ids = {c.chunk_id for c in index.store.get(where={"source_id": "synthetic-000"})}
    assert {c.metadata["period"] for c in index.store.get(ids=sorted(first_ids))} == {"2015/16"}
    index.close()
    second_ids = set(before) - first_ids
    assert summary.vectors_kept == len(first_ids) and 0 < summary.tokens_embedded
    after = _vectors(fake_settings)
    assert all(after[cid] == before[cid] for cid in first_ids)
    assert all(after[cid] != before[cid] for cid in second_ids)
    assert f"chunks added {summary.chunks_added} ({len(first_ids)} kept their vectors)" in summary.report()


def test_items_cut_again_by_a_newer_chunker_are_said_to_be_and_keep_their_vectors(fake_settings, tmp_path, monkeypatch):
    """After an upgrade whose chunker cuts minutes otherwise, the first ingest said 'replaced 5' of files that had not
    changed, and embedded them all again."""
    from assistant.ingest import run

    folder = tmp_path / "minutes"
    paths = write_markdown_corpus(folder, 3)
    monkeypatch.setattr(run, "CHUNKER_VERSION", "3")  # as an earlier version cut them
    ingest([folder], fake_settings)
    monkeypatch.undo()
    paths[0].write_text(paths[0].read_text() + "\nThe committee noted a further update on adoption.\n")

    summary = ingest([folder], fake_settings)
    assert (summary.replaced, summary.recut, summary.unchanged) == (3, 2, 0)
    assert summary.vectors_kept > 0 and summary.as_dict()["recut"] == 2
    assert "replaced 3 (2 of them with unchanged minutes, cut into chunks again by this version" in summary.report()
    assert ingest([folder], fake_settings).unchanged == 3


def test_a_file_name_with_a_terminal_escape_is_printed_escaped(fake_settings, tmp_path):
    """Named in the summary as it was, a file's name drove the terminal (from a security review)."""
    folder = tmp_path / "minutes"
    folder.mkdir()
    (folder / "x\x1b[2Jcleared\nforged line.pdf").write_bytes(b"not a pdf at all")
    report = ingest([folder], fake_settings, progress=False).report()
    assert "\x1b" not in report and "x\\x1b[2Jcleared forged line.pdf" in report


def test_an_index_a_newer_version_wrote_in_a_newer_format_is_refused_not_misread(fake_settings, tmp_path):
    """No version said what it wrote, so an older version run on an index a newer one had written read it as its own
    (from an upgrade review; one such fetch ended in a traceback part way)."""
    from assistant.errors import IndexMismatchError
    from assistant.index.manifest import INDEX_FORMAT, INDEX_FORMAT_KEY
    from assistant.ingest.run import check_index_fits

    from cli_helpers import cli_env, run_cli

    folder = tmp_path / "minutes"
    write_markdown_corpus(folder, 1)
    ingest([folder], fake_settings, progress=False)
    manifest = Manifest(fake_settings.manifest_path)
    assert manifest.get_meta(INDEX_FORMAT_KEY) == str(INDEX_FORMAT)
    manifest.set_meta(INDEX_FORMAT_KEY, str(INDEX_FORMAT + 1))
    manifest.close()
    for opening in (lambda: Index(fake_settings), lambda: check_index_fits(fake_settings),
                    lambda: ingest([folder], fake_settings, progress=False)):
        with pytest.raises(IndexMismatchError, match="written by a newer version of the assistant") as refused:
            opening()
        assert "restore a backup" in refused.value.hint
    asked = run_cli("ask", "What was decided about adoption?", env=cli_env(fake_settings.data_dir))
    assert asked.returncode == 2 and "written by a newer version of the assistant" in asked.stderr
    manifest = Manifest(fake_settings.manifest_path)
    assert manifest.get_meta(INDEX_FORMAT_KEY) == str(INDEX_FORMAT + 1)  # left as the newer version wrote it
    manifest.close()


def test_a_vector_made_by_another_embedder_or_export_is_made_again(fake_settings, tmp_path, monkeypatch):
    """What a kept vector was made from names the embedder and, for the bundled model, the export of its weights: a
    new export (int8 weights made 7-bit) gives other vectors under the same model name."""
    from assistant.index.embedder import OnnxEmbedder
    from assistant.index.onnx_files import EXPORT_VERSION
    from assistant.ingest import run

    assert OnnxEmbedder(fake_settings, "int8").vectors_made_by.endswith(f"export {EXPORT_VERSION}")
    folder = tmp_path / "minutes"
    [item] = write_markdown_corpus(folder, 1)
    ingest([folder], fake_settings, progress=False)
    monkeypatch.setattr(run, "_vectors_made_by", lambda index: "another export")
    item.write_text(item.read_text().replace('---\n', '---\nperiod: "2015/16"\n', 1))
    summary = ingest([folder], fake_settings, progress=False)
    assert summary.replaced == 1 and summary.vectors_kept == 0 and summary.tokens_embedded > 0


def test_a_file_gone_is_not_taken_for_moved_into_another_meetings_minutes_for_an_item_of_the_same_words(
        fake_settings, tmp_path):
    """March's minutes archived (gone from their path) and April's added, both with 'There were no declarations of
    interest.': the one item alike had March's file taken for renamed to April's, and all four of March's items
    left the index, where a file gone stays until --prune."""
    folder = tmp_path / "minutes"
    folder.mkdir()
    minutes = ("Minutes of the Children's Services Scrutiny Committee held on {date}\n\n"
               "1. Apologies for Absence\n\nApologies were received from Councillor {name}.\n\n"
               "2. Declarations of Interest\n\nThere were no declarations of interest.\n\n"
               "3. {title}\n\n{text}\n")
    (folder / "csc-2026-03-17.txt").write_text(minutes.format(
        date="17 March 2026", name="Dalton", title="Social Worker Caseloads",
        text="The average caseload of a children's social worker was 19 in February 2026."), encoding="utf-8")
    ingest([folder], fake_settings, council="Northbrook Borough Council")
    (folder / "csc-2026-03-17.txt").unlink()
    (folder / "csc-2026-04-14.txt").write_text(minutes.format(
        date="14 April 2026", name="Patel", title="Fostering Recruitment",
        text="The panel approved 12 new foster carers in March 2026."), encoding="utf-8")

    added = ingest([folder], fake_settings)
    rows = _rows(fake_settings)
    assert added.removed == 0 and len([sid for sid in rows if sid.startswith("file:csc-2026-03-17.txt")]) == 4, \
        (added.notes, sorted(rows))
    notes = " ".join(added.notes)
    assert "replace the" not in notes and "the files of 4 indexed items no longer exist" in notes, notes


def test_a_renamed_files_note_names_its_new_path_not_another_file_sharing_a_sentence(fake_settings, tmp_path):
    """An item of the renamed file whose words another new file also holds ('There were no declarations of
    interest.') may be matched to that file: the note named it as a second move."""
    folder = tmp_path / "minutes"
    folder.mkdir()
    minutes = ("Minutes of the Children's Services Scrutiny Committee held on 17 March 2026\n\n"
               "1. Apologies for Absence\n\nApologies were received from Councillor Dalton.\n\n"
               "2. Declarations of Interest\n\nThere were no declarations of interest.\n\n"
               "3. Social Worker Caseloads\n\nThe average caseload of a children's social worker was 19.\n")
    (folder / "draft.txt").write_text(minutes, encoding="utf-8")
    ingest([folder], fake_settings, council="Northbrook Borough Council")
    (folder / "draft.txt").rename(folder / "z-approved.txt")
    (folder / "a-april.txt").write_text(
        "Minutes of the meeting held on 14 April 2026\n\n1. Apologies for Absence\n\nThere were no apologies.\n\n"
        "2. Declarations of Interest\n\nThere were no declarations of interest.\n\n3. Fostering\n\n"
        "The panel approved 12 foster carers.\n",
        encoding="utf-8")

    summary = ingest([folder], fake_settings)
    (said,) = [note for note in summary.notes if "new entries replace" in note]
    assert "1 file moved or renamed" in said and "draft.txt -> " in said and "z-approved.txt" in said, said
    assert "a-april.txt" not in said, said
    assert {sid.split("#")[0] for sid in _rows(fake_settings)} == {"file:z-approved.txt", "file:a-april.txt"}


_DRAFT = ("Minutes of the Children's Services Scrutiny Committee held on 17 March 2026\n\n"
          "1. Apologies for Absence\n\nApologies were received from Councillor Dalton.\n\n"
          "2. Fostering Update\n\nThe panel approved 12 foster carers in the quarter.\n\n"
          "3. Placement of Child K\n\nChild K, aged 9, was placed with carers in Acacia Road.\n")


@pytest.mark.parametrize("marked, indexed_after", [
    # The file headed not for publication: withheld whole, its new name never indexed.
    (_DRAFT.replace("\n\n1. Apologies", "\nEXEMPT INFORMATION - NOT FOR PUBLICATION\n\n1. Apologies"), []),
    # One item headed exempt: the others are found again under the new name, as a rename.
    (_DRAFT.replace("3. Placement of Child K", "3. Placement of Child K (Exempt)"),
     ["file:approved-2026-03-17.txt", "file:approved-2026-03-17.txt#item-1", "file:approved-2026-03-17.txt#item-2"]),
])
def test_minutes_marked_not_for_publication_as_their_file_is_renamed_leave_the_index(fake_settings, tmp_path,
                                                                                      marked, indexed_after):
    """A draft renamed to its approved name and marked exempt on the way (whole, or one item): the new name is not
    indexed, so nothing told the rename, and the old name's entries stayed, the child's placement still quoted, until
    an ingest with --prune."""
    folder = tmp_path / "minutes"
    folder.mkdir()
    (folder / "draft-2026-03-17.txt").write_text(_DRAFT, encoding="utf-8")
    ingest([folder], fake_settings, council="Northbrook Borough Council")
    assert "file:draft-2026-03-17.txt#item-3" in _rows(fake_settings)
    (folder / "draft-2026-03-17.txt").unlink()
    (folder / "approved-2026-03-17.txt").write_text(marked, encoding="utf-8")

    renamed = ingest([folder], fake_settings)  # no --prune
    assert [p.kind for p in renamed.problems] == ["restricted"], renamed.report()
    assert sorted(_rows(fake_settings)) == indexed_after
    index = Index(fake_settings)
    try:
        ids = sorted(index.store.all_ids())
        texts = [chunk.text for chunk in index.store.get(ids)] if ids else []
    finally:
        index.close()
    assert not any("Acacia Road" in text for text in texts), texts
    assert "no longer exist (" not in " ".join(renamed.notes), renamed.notes
    (said,) = [note for note in renamed.notes if "same meeting" in note]
    assert f"of {folder / 'draft-2026-03-17.txt'}" in said or "of draft-2026-03-17.txt" in said, said
    assert "marked restricted or withheld in this run: removed from the index" in said, said


def test_a_file_gone_of_another_meeting_or_council_stays_when_a_restricted_file_comes(fake_settings, tmp_path):
    """Only the withheld file's own meeting leaves: a file gone of another date, or of another council on that date,
    stays until --prune, as any file gone does."""
    folder = tmp_path / "minutes"
    folder.mkdir()
    (folder / "june.txt").write_text(_DRAFT.replace("17 March", "16 June"), encoding="utf-8")
    (folder / "other.txt").write_text("---\ncouncil: Eastvale Council\n---\n" + _DRAFT, encoding="utf-8")
    ingest([folder], fake_settings)
    (folder / "june.txt").unlink()
    (folder / "other.txt").unlink()
    (folder / "exempt.txt").write_text("---\ncouncil: Northbrook Borough Council\n---\n" + _DRAFT.replace(
        "\n\n1. Apologies", "\nEXEMPT INFORMATION - NOT FOR PUBLICATION\n\n1. Apologies"), encoding="utf-8")

    kept = ingest([folder], fake_settings)
    assert kept.removed == 0 and not any("same meeting" in note for note in kept.notes), kept.notes
    assert "no longer exist" in " ".join(kept.notes), kept.notes


def test_a_file_named_through_another_folder_keeps_its_vectors(fake_settings, tmp_path):
    """Ingesting minutes/cpp and then minutes gives each file a new identity (its path under the folder named): the
    old entries were removed and every chunk embedded again, though its text for the embedder was the same. A file
    moved or renamed keeps its vectors too."""
    folder = tmp_path / "minutes"
    (folder / "cpp").mkdir(parents=True)
    for n, topic in enumerate(("foster carers", "care leavers", "adoption")):
        (folder / "cpp" / f"cpp-2024-0{n + 1}-10.txt").write_text(
            f"Minutes of the Corporate Parenting Panel held on 10 0{n + 1} 2024\n\nMembers discussed the report on "
            f"{topic}. The panel noted {n + 12} new placements in the quarter.\n", encoding="utf-8")
    first = ingest([folder / "cpp"], fake_settings, council="Northbrook Borough Council")
    assert first.tokens_embedded > 0 and all(sid.startswith("file:cpp-") for sid in _rows(fake_settings))
    again = ingest([folder], fake_settings)
    assert all(sid.startswith("file:cpp/") for sid in _rows(fake_settings)), sorted(_rows(fake_settings))
    assert (again.tokens_embedded, again.vectors_kept) == (0, first.chunks_added), again.report()
    assert chroma_ids(fake_settings) == manifest_ids(fake_settings)

    (folder / "cpp" / "cpp-2024-01-10.txt").rename(folder / "cpp" / "approved-2024-01-10.txt")
    moved = ingest([folder], fake_settings)
    assert "moved or renamed" in " ".join(moved.notes) and moved.tokens_embedded == 0, moved.report()
    assert moved.vectors_kept > 0 and chroma_ids(fake_settings) == manifest_ids(fake_settings)


def test_a_folder_of_many_files_moved_is_matched_without_comparing_every_file_with_every_other(
        fake_settings, tmp_path, monkeypatch):
    """Each old entry of a moved file had been compared with every item read: 4 s for a folder of 3,000 files moved,
    growing with the square of their number."""
    from assistant.ingest import identities

    folder = tmp_path / "minutes"
    folder.mkdir()
    for n in range(120):
        (folder / f"csc-{n:03d}.txt").write_text(
            f"Minutes of the meeting held on {n % 28 + 1} March 2024\n\n3. Fostering\n\nThe panel approved {n + 3} "
            f"foster carers, and noted {n + 40} enquiries from households in ward {n}.\n", encoding="utf-8")
    ingest([folder], fake_settings)
    (folder / "2024").mkdir()
    for path in folder.glob("*.txt"):
        path.rename(folder / "2024" / path.name)
    calls = []
    page_of_item = identities.page_of_item
    monkeypatch.setattr(identities, "page_of_item", lambda sid: calls.append(sid) or page_of_item(sid))
    moved = ingest([folder], fake_settings)
    assert (moved.new, moved.removed) == (120, 120)
    assert "120 files moved or renamed since last indexed" in " ".join(moved.notes), moved.notes
    assert len(calls) < 40 * 120, len(calls)  # a few looks an item; 14,400 more before


def test_the_app_brings_its_index_in_line_without_a_progress_bar_when_no_terminal_reads_it(fake_settings, corpus_copy,
                                                                                            capsys):
    """`serve` under a service manager (systemd, docker) wrote tqdm's bars, carriage returns and block characters
    into the service's log at every start that embedded anything: `ingest` draws one only for a terminal."""
    from assistant.ingest.run import ensure_index

    summary = ensure_index(fake_settings, corpus_copy)
    assert summary.new == 5
    assert capsys.readouterr().err == ""
