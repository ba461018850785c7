"""A question that names several councils, answered from fewer of them: the answer says which it quotes nothing of."""

from __future__ import annotations

from assistant.answer.service import Assistant
from assistant.ingest.run import ingest
from assistant.retrieve.filters import Filters
from conftest import CORPUS

BOTH = "How many children were discharged from care in Rotherham and in Barnsley in 2018?"
NOT_QUOTED = "Nothing shown is quoted from the minutes of Barnsley Metropolitan Borough Council."


def test_a_council_a_comparison_names_and_nothing_shown_quotes_is_noted(fake_settings):
    """An officer's briefing had one council's count for a question about two, with no word of the other: it read
    as the whole comparison."""
    ingest([CORPUS], fake_settings, progress=False)
    opened = Assistant(fake_settings.with_(reader="fake:overlap"))
    try:
        answer = opened.ask(BOTH)
        quoted = {c.council for c in answer.shown_citations}
        assert not answer.refused and quoted == {"Rotherham Metropolitan Borough Council"}, answer.answer
        assert NOT_QUOTED in answer.notes
        # One council asked about: nothing to note. A council filter that leaves Barnsley out says so itself.
        alone = opened.ask("How many children were discharged from care in Rotherham in 2018?")
        assert not alone.refused and not any(note.startswith("Nothing shown") for note in alone.notes)
        # 'Which councils other than ...' names councils it does not ask about
        other_than = opened.ask("Which councils other than Rotherham and Barnsley discharged children from care in "
                                "2018?")
        assert not any(note.startswith("Nothing shown") for note in other_than.notes)
        filtered = opened.ask(BOTH, Filters(council="Rotherham"))
        assert not filtered.refused and NOT_QUOTED not in filtered.notes
        assert any("Barnsley" in note for note in filtered.notes)  # the filter's own note
    finally:
        opened.close()


def _minutes(folder, name: str, council: str, text: str):
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{name}.md").write_text(f'---\ncouncil: "{council}"\ncommittee: "Children\'s Services Overview and '
                                       f'Scrutiny Committee"\nmeeting_date: "2023-02-07"\nitem_title: "{name}"\n---\n'
                                       f"{text}\n", encoding="utf-8")


def test_one_council_indexed_under_two_names_is_one_council_quoted_under_either(fake_settings, tmp_path):
    """A question about BCP names both the names its minutes are indexed under ('BCP Council' and Bournemouth,
    Christchurch and Poole Council's): answered from the full name's minutes, it was told nothing shown was quoted
    from BCP Council's, as if a second council had been asked about."""
    corpus = tmp_path / "corpus"
    _minutes(corpus, "Care leavers", "Bournemouth, Christchurch and Poole Council",
             "Care leavers. There were 412 care leavers supported by the leaving care service in 2022.")
    _minutes(corpus, "Exclusions", "BCP Council", "Exclusions. The report on school exclusions was noted.")
    _minutes(corpus, "Medway care leavers", "Medway Council", "Members noted the report on the fostering service.")
    ingest([corpus], fake_settings, progress=False)
    opened = Assistant(fake_settings.with_(reader="fake:overlap"))
    try:
        alone = opened.ask("How many care leavers were supported by the leaving care service in BCP in 2022?")
        quoted = {c.council for c in alone.shown_citations}
        assert not alone.refused and quoted == {"Bournemouth, Christchurch and Poole Council"}, alone.answer
        assert not any(note.startswith("Nothing shown") for note in alone.notes), alone.notes
        # Beside another council, it is named once, under one of its names.
        both = opened.ask("How many care leavers were supported by the leaving care service in Medway and BCP in "
                          "2022?")
        assert not both.refused and {c.council for c in both.shown_citations} == quoted, both.answer
        assert "Nothing shown is quoted from the minutes of Medway Council." in both.notes
    finally:
        opened.close()
