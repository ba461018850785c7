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
        filtered = opened.ask(BOTH, Filters(council="Rotherham"))
        assert not filtered.refused and NOT_QUOTED not in filtered.notes
        assert any("Barnsley" in note for note in filtered.notes)  # the filter's own note
    finally:
        opened.close()
