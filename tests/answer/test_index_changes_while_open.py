"""An ingest by another process while an Assistant is open (the app serving, a long evaluation): the next question
is answered from the index as it now stands, with no crash on chunks the other process removed."""

from __future__ import annotations

import shutil

from assistant.answer.service import Assistant
from assistant.retrieve.filters import Filters
from cli_helpers import cli_env, run_cli
from conftest import CORPUS

DISCHARGES = "How many children were discharged from care in 2018?"


def _opened_over_a_copy_of_the_seeds(tmp_path, fake_settings):
    """A copy of corpus/ that a test may change, ingested by another process, and an Assistant open on its index."""
    corpus = tmp_path / "corpus"
    shutil.copytree(CORPUS, corpus)
    env = cli_env(fake_settings.data_dir, ASSISTANT_READER="fake:overlap")
    assert run_cli("ingest", str(corpus), env=env).returncode == 0
    return corpus, env, Assistant(fake_settings.with_(reader="fake:overlap"))


def test_an_open_assistant_answers_from_minutes_corrected_pruned_or_added_by_another_process(tmp_path,
                                                                                             fake_settings):
    corpus, env, opened = _opened_over_a_copy_of_the_seeds(tmp_path, fake_settings)
    try:
        before = opened.ask(DISCHARGES)
        assert "148" in before.answer
        assert opened.ask("What did Barnsley report?", Filters(council="Barnsley")).retrieved

        # Another process corrects Rotherham's figure and drops Barnsley's minutes.
        rotherham = corpus / "rotherham-2018-ilsc-performance-feedback.md"
        rotherham.write_text(rotherham.read_text(encoding="utf-8").replace("148 children", "151 children"),
                             encoding="utf-8")
        (corpus / "barnsley-2018-csc-performance.md").unlink()
        changed = run_cli("ingest", str(corpus), "--prune", env=env)
        assert changed.returncode == 0, changed.stderr

        after = opened.ask(DISCHARGES)
        assert "151" in after.answer and "148" not in after.answer, after.answer
        assert all("148 children" not in c.quote for c in after.citations)
        gone = opened.ask("What did Barnsley report?", Filters(council="Barnsley"))
        assert gone.refusal_reason == "no_match_filters" and not gone.retrieved
        assert "Barnsley" not in " ".join(opened.council_names.values())
        # Every chunk an answer rests on is one the index now holds.
        held = {e.chunk_id for e in opened.lexical.entries}
        assert {r["chunk_id"] for r in opened.ask("foster carers and social workers").retrieved} <= held
    finally:
        opened.close()


def test_an_assistant_keeps_answering_while_the_index_is_mid_write(fake_settings, monkeypatch):
    from assistant.ingest.run import ingest
    from assistant.index import lexical

    ingest([CORPUS], fake_settings, progress=False)
    opened = Assistant(fake_settings.with_(reader="fake:overlap"))
    try:
        # As if a writer had changed the keyword index's state but not yet finished: the index does not agree
        # with itself, so the one already read keeps answering.
        monkeypatch.setattr(lexical, "saved_state", lambda folder: "a state being written")
        assert not opened.follow_index()
        assert "148" in opened.ask(DISCHARGES).answer
    finally:
        opened.close()


def test_an_open_assistant_follows_a_corrected_date_and_a_reset_that_rebuilt_the_same_chunks(tmp_path, fake_settings):
    """It read the index again only when the set of chunk ids changed: a corrected meeting date (same chunks, new
    metadata) never reached it, so a date filter missed the item, and after `ingest --reset` with the same minutes
    (the same chunks, in a new vector collection) every question was told the index was being rebuilt."""
    corpus, env, opened = _opened_over_a_copy_of_the_seeds(tmp_path, fake_settings)
    try:
        later = Filters(since="2025-01-01")
        assert opened.ask(DISCHARGES, later).refusal_reason == "no_match_filters"
        rotherham = corpus / "rotherham-2018-ilsc-performance-feedback.md"
        text = rotherham.read_text(encoding="utf-8")
        dated = next(line for line in text.splitlines() if line.startswith("meeting_date:"))
        rotherham.write_text(text.replace(dated, "meeting_date: 2025-04-01"), encoding="utf-8")
        assert run_cli("ingest", str(corpus), env=env).returncode == 0
        corrected = opened.ask(DISCHARGES, later)
        assert "148" in corrected.answer and corrected.citations[0].meeting_date == "2025-04-01", corrected.answer

        assert run_cli("ingest", str(corpus), "--reset", env=env).returncode == 0
        rebuilt = opened.ask(DISCHARGES)
        assert "148" in rebuilt.answer and not rebuilt.refused, rebuilt.answer
    finally:
        opened.close()
