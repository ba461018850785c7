"""A Welsh council's minutes in Welsh and in English, under its Welsh name ('Cyngor Gwynedd') and its English one
('Gwynedd Council'), are one council's: a filter or a question naming it either way searches both. They had been two
councils, and naming either left the other's minutes out without a word."""

from __future__ import annotations

import pytest

from assistant.answer.service import Assistant
from assistant.ingest.run import ingest
from assistant.retrieve.filters import Filters
from assistant.retrieve.question import analyse
from assistant.text import WELSH_PLACE_NAMES, council_key, named_councils

ENGLISH = ("The Head of Children's Services reported that Gwynedd Council had approved 9 new foster carers during "
           "the year, and that 278 children were looked after on 31 December 2023.")
WELSH = ("Adroddodd Pennaeth y Gwasanaethau Plant fod Cyngor Gwynedd wedi cymeradwyo 9 o ofalwyr maeth newydd yn "
         "ystod y flwyddyn, a bod 278 o blant yn derbyn gofal ar 31 Rhagfyr 2023.")


@pytest.mark.parametrize("name, key", [
    ("Cyngor Gwynedd", "gwynedd"), ("Gwynedd Council", "gwynedd"),
    ("Cyngor Sir Ceredigion", "ceredigion"), ("Ceredigion County Council", "ceredigion"),
    ("Cyngor Bwrdeistref Sirol Conwy", "conwy"), ("Conwy County Borough Council", "conwy"),
    ("Cyngor Caerdydd", "cardiff"), ("City of Cardiff Council", "cardiff"),
    ("Cyngor Dinas a Sir Abertawe", "swansea"), ("City and County of Swansea Council", "swansea"),
    ("Cyngor Sir Ynys Môn", "isle anglesey"), ("Isle of Anglesey County Council", "isle anglesey"),
    ("Cyngor Sir y Fflint", "flintshire"), ("Cyngor Bwrdeistref Sirol Wrecsam", "wrexham"),
    ("Cyngor Gwynedd (Gwynedd Council)", "gwynedd"), ("Cyngor Caerdydd / Cardiff Council", "cardiff"),
])
def test_a_welsh_councils_welsh_and_english_names_have_one_key(name, key):
    assert council_key(name) == key


@pytest.mark.parametrize("welsh, english", [(welsh, english) for english, names in WELSH_PLACE_NAMES.items()
                                            for welsh in names])
def test_every_welsh_place_name_keys_as_its_english_one_in_a_councils_name(welsh, english):
    # 'Pen-y-bont ar Ogwr' keeps its 'y' only as written: its key had been 'pen bont ar ogwr', no council's.
    for name in (f"Cyngor {welsh}", f"Cyngor Bwrdeistref Sirol {welsh.title().replace(' Y ', '-y-')}"):
        assert council_key(name) == english, name


def test_a_question_names_a_welsh_council_by_either_name_mutated_or_not():
    keys = ["gwynedd", "cardiff", "sefton"]
    assert named_councils("Faint o blant oedd yn derbyn gofal gan Gyngor Gwynedd?", keys) == ("gwynedd",)
    assert named_councils("Beth ddywedodd Cyngor Caerdydd am ofalwyr maeth?", keys) == ("cardiff",)
    assert named_councils("How many children did Cyngor Gwynedd look after?", keys) == ("gwynedd",)
    assert named_councils("Faint o blant sydd yng ngofal Cyngor Bwrdeistref Sirol Pen-y-bont ar Ogwr?",
                          ["bridgend", "cardiff"]) == ("bridgend",)


def _write(folder, name: str, council: str, text: str) -> None:
    folder.mkdir(exist_ok=True)
    (folder / f"{name}.md").write_text(
        f'---\nid: "{name}"\ncouncil: "{council}"\ncommittee: "Care Scrutiny Committee"\nmeeting_date: "2024-03-14"\n'
        f'item_title: "Fostering report"\nsource_url: ""\n---\n{text}\n', encoding="utf-8")


def _minutes(folder) -> None:
    _write(folder, "gwynedd-en", "Gwynedd Council", ENGLISH)
    _write(folder, "gwynedd-cy", "Cyngor Gwynedd", WELSH)
    _write(folder, "sefton", "Sefton Council", "Sefton Council approved 12 new foster carers during the year.")


def _sources(assistant: Assistant, question: str, filters: Filters = Filters()) -> set[str]:
    q = analyse(question, assistant.retriever.council_keys)
    return {hit.source_id for hit in assistant.retriever.search(q, filters).hits}


def _is_one_council(assistant: Assistant) -> None:
    assert assistant.retriever.council_keys == {"gwynedd", "sefton"}
    # Listed once, by its English name where its minutes give two.
    assert assistant.council_names == {"gwynedd": "Gwynedd Council", "sefton": "Sefton Council"}
    for name in ("Cyngor Gwynedd", "Gwynedd Council", "Gwynedd"):
        assert _sources(assistant, "foster carers approved", Filters(council=name)) == {"gwynedd-en", "gwynedd-cy"}
    assert _sources(assistant, "How many foster carers did Cyngor Gwynedd approve?") == {"gwynedd-en", "gwynedd-cy"}
    assert _sources(assistant, "Faint o ofalwyr maeth a gymeradwywyd gan Gwynedd Council?") == {"gwynedd-en",
                                                                                               "gwynedd-cy"}
    hits = assistant.retriever.search(analyse("foster carers", set()), Filters(council="Cyngor Gwynedd")).hits
    assert {hit.metadata["council_key"] for hit in hits} == {"gwynedd"}
    # Each found by the dense search as well as by its words: the filter reached the vectors of both.
    assert {hit.source_id for hit in hits if hit.dense is not None} == {"gwynedd-en", "gwynedd-cy"}


def test_the_welsh_and_english_minutes_of_a_council_are_one_councils(fake_settings, tmp_path):
    _minutes(tmp_path / "minutes")
    ingest([tmp_path / "minutes"], fake_settings, progress=False)
    assistant = Assistant(fake_settings)
    try:
        _is_one_council(assistant)
    finally:
        assistant.close()


@pytest.mark.parametrize("searched_in_chroma", [False, True])
def test_an_index_keyed_before_welsh_names_were_known_is_read_as_one_council_too(fake_settings, tmp_path,
                                                                                 monkeypatch, searched_in_chroma):
    """Chunks ingested by an earlier version keep the key it stored ('cyngor gwynedd'): they are found by the key
    their council's name has now, without ingesting them again, whether the filter is applied to the chunks the
    keyword index lists or as Chroma's `where` (a filter that leaves many chunks)."""
    from assistant.ingest import chunk
    from assistant.retrieve import hybrid

    monkeypatch.setattr(chunk, "council_key", lambda name: "cyngor gwynedd" if name == "Cyngor Gwynedd"
                        else council_key(name))
    _minutes(tmp_path / "minutes")
    ingest([tmp_path / "minutes"], fake_settings, progress=False)
    monkeypatch.undo()
    if searched_in_chroma:  # through Chroma's graph and its `where`, as a large index is
        monkeypatch.setattr(hybrid, "EXACT_SEARCH_LIMIT", 0)
        fake_settings = fake_settings.with_(exact_search=False)
    assistant = Assistant(fake_settings)
    try:
        stored = {e.metadata["council_key"] for e in assistant.lexical.entries}
        assert stored == {"gwynedd", "cyngor gwynedd", "sefton"}  # as the earlier version stored them
        _is_one_council(assistant)
    finally:
        assistant.close()


def test_a_question_about_a_council_the_index_neither_holds_nor_mentions_is_not_answered_from_anothers(
        fake_settings, tmp_path):
    """'Cardiff' passed as 'Cardigan' (a name is matched by its first four letters), and a question about Cardiff
    was answered with Gwynedd's figures."""
    folder = tmp_path / "minutes"
    _minutes(folder)
    _write(folder, "gwynedd-placements", "Gwynedd Council", "Members noted that 14 children were placed in "
           "residential homes outside the county, two of them near Cardigan.")
    ingest([folder], fake_settings, progress=False)
    assistant = Assistant(fake_settings)
    try:
        for question, name in (("How many children were looked after by Cardiff Council on 31 December 2023?",
                                "Cardiff"), ("How many foster carers did Cyngor Caerdydd approve?", "Caerdydd")):
            answer = assistant.ask(question)
            assert answer.refused and answer.answer.endswith(f"The indexed minutes never mention {name}."), answer
        # Indexed, or named in the minutes, a council is no veto of its own.
        for question in ("How many foster carers did Cyngor Gwynedd approve?",
                         "How many children were placed in residential homes near Cardigan?"):
            assert "never mention" not in assistant.ask(question).answer, question
    finally:
        assistant.close()


def test_items_with_no_council_left_out_by_a_council_are_counted_in_a_note(fake_settings, tmp_path):
    """A bilingual file headed 'CYNGOR GWYNEDD / GWYNEDD COUNCIL' was ingested with no council recorded, and a
    question naming Gwynedd left it out without a word."""
    folder = tmp_path / "minutes"
    _minutes(folder)
    (folder / "bilingual.txt").write_text("CYNGOR GWYNEDD / GWYNEDD COUNCIL\n\n9 new foster carers were approved.\n",
                                          encoding="utf-8")
    ingest([folder], fake_settings, progress=False)
    assistant = Assistant(fake_settings)
    try:
        named = assistant.ask("How many foster carers did Gwynedd Council approve?")
        [note] = [n for n in named.notes if "no council recorded" in n]
        assert note.startswith("1 item with no council recorded was left out, as only the council the question "
                               "names was searched") and "assistant ingest --council NAME" in note
        filtered = assistant.ask("How many foster carers were approved?", Filters(council="Sefton"))
        assert any("only the council filter's council was searched" in n for n in filtered.notes)
        assert not any("no council recorded" in n for n in assistant.ask("How many foster carers were approved?").notes)
    finally:
        assistant.close()


def test_a_stored_key_two_councils_share_is_parted_by_each_chunks_council():
    """An earlier version's key that stands for two councils now: each chunk is keyed by its own council's name."""
    import types

    from assistant.index.lexical import LexicalEntry, LexicalIndex
    from assistant.retrieve.hybrid import HybridRetriever

    metas = [{"council": "Cyngor Gwynedd", "council_key": "gwynedd council"},
             {"council": "Gwynedd Council", "council_key": "gwynedd council"},
             {"council": "Cyngor Caerdydd", "council_key": "gwynedd council"},
             {"council": "", "council_key": ""}]
    entries = [LexicalEntry(f"c{i}", "text", {**m, "source_id": f"s{i}"}) for i, m in enumerate(metas)]
    lexical = LexicalIndex(entries, None)  # no BM25 scores: the retriever only reads its entries and names
    retriever = HybridRetriever(types.SimpleNamespace(name="x"), None, lexical)
    assert retriever.council_keys == {"gwynedd", "cardiff"}
    keys = [retriever._council_names[code] for code in retriever._council_codes]
    assert keys == ["gwynedd", "gwynedd", "cardiff", ""]
    assert retriever.council_names_by_key == {"gwynedd": "Gwynedd Council", "cardiff": "Cyngor Caerdydd"}
