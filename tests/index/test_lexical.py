"""The keyword (BM25) index: updating it in place gives exactly the index a full rebuild gives, fetching only
the chunks of new and changed items; a saved index it cannot trust is rebuilt from everything."""

from __future__ import annotations

import numpy as np
import pytest

from assistant.index import lexical
from assistant.index.lexical import LexicalEntry
from assistant.records import content_hash
from assistant.text import lexical_tokens, metadata_breadcrumb

from conftest import CORPUS
from corpus_factory import COUNCILS, TOPICS, minute_text

QUERIES = ["foster carers recruitment", "child protection plans in the north locality", "social worker vacancies",
           "37 children supported", "Members questioned the timeliness of visits", "Riverton early help update",
           "Sefton adoption", "dental health looked after children", "nothing matches zzyzx"]


def item_entries(n: int, change: str = "", committee: str = "Children's Scrutiny Committee") -> list[LexicalEntry]:
    """One synthetic item as chunks, a paragraph each. As in ingest, a chunk's id covers its item, place and text,
    not the rest of its metadata (here where it starts, which moves when an earlier paragraph changes)."""
    paragraphs = minute_text(n).replace("Members noted", change or "Members noted").split("\n\n")
    meta = {"source_id": f"synthetic-{n:03d}", "council": COUNCILS[n % len(COUNCILS)], "committee": committee,
            "meeting_date": f"{2015 + n % 9}-{n % 12 + 1:02d}",
            "item_title": f"{TOPICS[n % len(TOPICS)].title()} update"}
    starts = [sum(len(p) + 2 for p in paragraphs[:i]) for i in range(len(paragraphs))]
    return [LexicalEntry(content_hash(meta["source_id"], str(position), paragraph)[:32], paragraph,
                         {**meta, "position": position, "char_start": starts[position]})
            for position, paragraph in enumerate(paragraphs)]


def versions(entries: list[LexicalEntry]) -> dict[str, str]:
    """Each chunk's version as ingest gives it: its item's fingerprint, a hash of everything in the item."""
    items: dict[str, list[str]] = {}
    for e in entries:
        items.setdefault(e.metadata["source_id"], []).append(e.text + repr(sorted(e.metadata.items())))
    fingerprints = {source: content_hash(*parts) for source, parts in items.items()}
    return {e.chunk_id: fingerprints[e.metadata["source_id"]] for e in entries}


def changed_chunks(before: list[LexicalEntry], after: list[LexicalEntry]) -> set[str]:
    """The chunks an update must read: those of new items and of changed ones."""
    old = versions(before)
    return {cid for cid, version in versions(after).items() if old.get(cid) != version}


class RecordingChunks:
    """A deterministic stand-in for the vector store's `get`: serves entries and records every id asked for."""

    def __init__(self, entries: list[LexicalEntry]) -> None:
        self.by_id = {e.chunk_id: e for e in entries}
        self.asked: list[str] = []

    def __call__(self, ids: list[str]) -> list[LexicalEntry]:
        self.asked.extend(ids)
        return [self.by_id[i] for i in reversed(ids) if i in self.by_id]  # any order: update sorts them


def words_of(*indexes: lexical.LexicalIndex) -> set[str]:
    found = {t for q in QUERIES for t in lexical_tokens(q)}
    for index in indexes:
        found |= {t for e in index.entries for t in lexical_tokens(metadata_breadcrumb(e.metadata) + "\n" + e.text)}
    return found


def assert_same_index(folder, reference_folder) -> None:
    """Same entries in the same order, same search results, same document frequencies, same files."""
    index, reference = lexical.load(folder), lexical.load(reference_folder)
    assert [(e.chunk_id, e.text, e.metadata) for e in index.entries] == \
        [(e.chunk_id, e.text, e.metadata) for e in reference.entries]
    mask = np.array([e.metadata.get("council") != COUNCILS[0] for e in reference.entries])
    for query in QUERIES:
        assert index.search(query, 10) == reference.search(query, 10)
        assert index.search(query, 5, mask) == reference.search(query, 5, mask)
    for word in words_of(index, reference):
        assert index.document_frequency(word) == reference.document_frequency(word), word
    files = sorted(p.name for p in folder.iterdir())
    assert files == sorted(p.name for p in reference_folder.iterdir())
    assert all((folder / f).read_bytes() == (reference_folder / f).read_bytes() for f in files)


def full_rebuild(entries: list[LexicalEntry], folder):
    store = RecordingChunks(entries)
    lexical.update(folder, versions(entries), store)
    assert sorted(store.asked) == sorted(ids(entries))
    return folder


def ids(entries: list[LexicalEntry]) -> list[str]:
    return [e.chunk_id for e in entries]


def questioned(n: int) -> str:
    return "Members questioned" if n == 2 else ""


BEFORE = [e for n in range(6) for e in item_entries(n)]
CHANGES = {
    "two items added": [e for n in range(8) for e in item_entries(n)],
    "an item re-ingested with changed text": [e for n in range(6) for e in item_entries(n, questioned(n))],
    "an item re-ingested with a new committee name only": [
        e for n in range(6) for e in item_entries(n, committee="Corporate Parenting Panel" if n == 3 else
                                                  "Children's Scrutiny Committee")],
    "an item pruned": [e for n in range(6) if n != 4 for e in item_entries(n)],
    "changed, pruned and added at once": [e for n in range(8) if n != 4 for e in item_entries(n, questioned(n))],
}


@pytest.mark.parametrize("change", list(CHANGES))
def test_an_update_fetches_only_new_and_changed_items_and_equals_a_full_rebuild(tmp_path, change):
    after = CHANGES[change]
    folder = full_rebuild(BEFORE, tmp_path / "bm25")
    store = RecordingChunks(after)
    updated = lexical.update(folder, versions(after), store)
    assert sorted(store.asked) == sorted(changed_chunks(BEFORE, after))
    assert lexical.is_current(folder, ids(after)) and lexical.holds(folder, versions(after))
    assert_same_index(folder, full_rebuild(after, tmp_path / "reference"))
    assert [e.chunk_id for e in updated.entries] == [e.chunk_id for e in lexical.load(folder).entries]


def test_unchanged_items_are_never_fetched(tmp_path):
    after = CHANGES["changed, pruned and added at once"]
    folder = full_rebuild(BEFORE, tmp_path / "bm25")
    store = RecordingChunks(after)
    lexical.update(folder, versions(after), store)
    fetched_items = {store.by_id[cid].metadata["source_id"] for cid in store.asked}
    assert fetched_items == {"synthetic-002", "synthetic-006", "synthetic-007"}


def test_many_updates_in_a_row_still_equal_a_full_rebuild(tmp_path):
    folder = tmp_path / "bm25"
    for step in range(8):  # a window of three items moving along, one of them changed now and then
        held = [e for n in range(max(0, step - 2), step + 1) for e in item_entries(n, questioned(n + step % 2))]
        lexical.update(folder, versions(held), RecordingChunks(held))
    assert_same_index(folder, full_rebuild(held, tmp_path / "reference"))


def test_entries_are_kept_in_reading_order(tmp_path):
    entries = [e for n in (5, 1, 3) for e in item_entries(n)]
    index = lexical.update(tmp_path / "bm25", versions(entries), RecordingChunks(entries))
    order = [(e.metadata["source_id"], e.metadata["position"]) for e in index.entries]
    assert order == sorted(order)


def damage_deleted_folder(folder):
    import shutil

    shutil.rmtree(folder)


def damage_deleted_tokens(folder):
    (folder / "tokens.npy").unlink()


def damage_truncated_tokens(folder):
    data = (folder / "tokens.npy").read_bytes()
    (folder / "tokens.npy").write_bytes(data[:len(data) // 2])


def damage_tokens_of_another_index(folder):
    np.save(folder / "offsets.npy", np.load(folder / "offsets.npy")[:-1])


def damage_garbled_entries(folder):
    with (folder / "entries.jsonl").open("a", encoding="utf-8") as handle:
        handle.write('{"id": "half a line')


def damage_state_of_other_chunks(folder):
    (folder / "state.txt").write_text("left by an interrupted ingest")


def damage_versions_of_other_chunks(folder):
    (folder / "versions.txt").write_text("left by an interrupted ingest")


@pytest.mark.parametrize("damage", [damage_deleted_folder, damage_deleted_tokens, damage_truncated_tokens,
                                    damage_tokens_of_another_index, damage_garbled_entries,
                                    damage_state_of_other_chunks, damage_versions_of_other_chunks])
def test_a_missing_or_damaged_saved_index_is_rebuilt_from_every_chunk(tmp_path, damage):
    after = CHANGES["changed, pruned and added at once"]
    folder = full_rebuild(BEFORE, tmp_path / "bm25")
    damage(folder)
    store = RecordingChunks(after)
    lexical.update(folder, versions(after), store)
    assert sorted(store.asked) == sorted(ids(after))
    assert_same_index(folder, full_rebuild(after, tmp_path / "reference"))


def test_an_index_saved_by_another_format_version_is_rebuilt_from_every_chunk(tmp_path, monkeypatch):
    folder = tmp_path / "bm25"
    monkeypatch.setattr(lexical, "FORMAT_VERSION", "an older one")
    full_rebuild(BEFORE, folder)
    monkeypatch.undo()
    assert not lexical.is_current(folder, ids(BEFORE))
    store = RecordingChunks(BEFORE)
    lexical.update(folder, versions(BEFORE), store)
    assert sorted(store.asked) == sorted(ids(BEFORE))
    assert lexical.holds(folder, versions(BEFORE))


def test_a_kill_between_the_two_renames_of_a_save_loses_nothing(tmp_path):
    folder = full_rebuild(BEFORE, tmp_path / "bm25")
    folder.rename(folder.with_name("bm25.old"))  # where the swap had moved the previous index when killed
    after = CHANGES["two items added"]
    store = RecordingChunks(after)
    lexical.update(folder, versions(after), store)
    assert sorted(store.asked) == sorted(changed_chunks(BEFORE, after))
    assert_same_index(folder, full_rebuild(after, tmp_path / "reference"))


def test_an_index_can_become_empty_and_grow_again(tmp_path):
    folder = full_rebuild(BEFORE, tmp_path / "bm25")
    store = RecordingChunks(BEFORE)
    empty = lexical.update(folder, {}, store)
    assert store.asked == [] and len(empty) == 0 and lexical.is_current(folder, [])
    assert empty.search("foster carers", 5) == [] and empty.document_frequency("foster") == 0
    assert len(lexical.load(folder)) == 0
    lexical.update(folder, versions(BEFORE), store)
    assert sorted(store.asked) == sorted(ids(BEFORE))
    assert_same_index(folder, full_rebuild(BEFORE, tmp_path / "reference"))


def seed_corpus_entries() -> list[LexicalEntry]:
    entries = []
    for path in sorted(CORPUS.glob("*.md")):
        for position, paragraph in enumerate(p for p in path.read_text(encoding="utf-8").split("\n\n") if p.strip()):
            entries.append(LexicalEntry(f"{path.stem}-{position}", paragraph,
                                        {"source_id": path.stem, "position": position, "council": path.stem}))
    return entries


def test_scores_and_document_frequencies_are_those_of_bm25s(tmp_path):
    import bm25s

    entries = seed_corpus_entries() + BEFORE
    index = lexical.build(entries, tmp_path / "bm25")
    corpus = [lexical_tokens(metadata_breadcrumb(e.metadata) + "\n" + e.text) or ["\u2205"] for e in entries]
    reference = bm25s.BM25()
    reference.index(corpus, show_progress=False)
    for query in QUERIES + ["looked after children placements stability", "ofsted inspection 2018 outcomes"]:
        tokens = [t for t in lexical_tokens(query) if t in reference.vocab_dict]
        scores = np.asarray(reference.get_scores(tokens), dtype=np.float32) if tokens else np.zeros(len(entries))
        assert dict(index.search(query, len(entries))) == {i: float(s) for i, s in enumerate(scores) if s > 0}
    for word in {t for tokens in corpus for t in tokens}:
        assert index.document_frequency(word) == sum(word in tokens for tokens in corpus)


def test_the_index_knows_a_word_any_chunk_holds_or_one_sharing_its_first_four_letters(tmp_path):
    entries = [LexicalEntry("c1", "The children of England were counted.", {"source_id": "s1", "position": 0,
                                                                            "council": "Dale Council"})]
    index = lexical.build(entries, tmp_path / "bm25")
    assert index.knows(lexical_tokens("England")[0]) and index.knows(lexical_tokens("Dale")[0])
    assert index.knows(lexical_tokens("English")[0])  # as text.missing_names matches a name within evidence
    assert not index.knows(lexical_tokens("Manchester")[0])
    assert not index.knows("engl")  # under five letters, only the whole word counts


@pytest.mark.parametrize("question, minutes", [
    ("What share of care leavers were in education, 62 per cent?", "62% of care leavers were in education."),
    ("Were 62% of care leavers in education?", "62 per cent of care leavers were in education."),
    ("Were 62% of care leavers in education?", "62 percent of care leavers were in education."),
    ("Did the service support 1200 families?", "The service supported 1,200 families."),
    ("Did the service support 1,200 families?", "The service supported 1200 families."),
])
def test_a_figure_is_found_however_the_question_and_the_minutes_write_it(tmp_path, question, minutes):
    other_figure = minutes.replace("62", "70").replace("1,200", "1,500").replace("1200", "1500")
    entries = [LexicalEntry("c1", minutes, {"source_id": "s1", "position": 0}),
               LexicalEntry("c2", other_figure, {"source_id": "s2", "position": 0})]
    scores = dict(lexical.build(entries, tmp_path / "bm25").search(question, 2))
    assert scores[0] > scores.get(1, 0.0)


def test_a_list_of_two_figures_is_not_read_as_one_thousands_figure():
    assert lexical_tokens("items 3,4 and 5") == ["item", "3,4", "5"]
    assert lexical_tokens("12,345.5 per cent") == ["12345.5%"]
    assert lexical_tokens("74 % of the % of") == ["74%"]
