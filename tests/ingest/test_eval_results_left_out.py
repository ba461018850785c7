"""A folder `assistant eval` wrote its results to is never read as minutes, wherever it lands: eval leaves a marker
file there, and ingest leaves out any folder holding it, with a note. The --out refusal sees only the minutes
folders the index's files show (a folder of one file a sub-folder slipped past it), and the report lists the
questions' expected answers, which read as minutes could be cited back."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from assistant.files import EVAL_RESULTS_MARKER
from assistant.index.manifest import Manifest
from assistant.ingest.readers import read_inputs

from conftest import CORPUS

CAP = 1_000_000
ROTHERHAM = "rotherham-2018-ilsc-performance-feedback"
DISCHARGED = {"id": "discharged", "question": "How many children were discharged from care in Rotherham in 2018?",
              "kind": "numeric", "gold_urls": [ROTHERHAM], "must_include": ["148"]}


def _left_out(shown: Path, inside: Path | None = None) -> str:
    where = f"it is inside {inside}," if inside else "it is"
    return (f"left out {shown}: {where} a folder of `assistant eval` results (it holds {EVAL_RESULTS_MARKER}), not "
            "minutes. If minutes were put there, move them to a folder of their own and ingest that.")


def _source_ids(settings) -> set[str]:
    manifest = Manifest(settings.manifest_path)
    try:
        return set(manifest.rows())
    finally:
        manifest.close()


def test_an_eval_run_written_into_a_minutes_folder_of_one_file_a_sub_folder_is_left_out_by_the_next_ingest(
        tmp_path, fake_settings):
    from assistant.ingest.run import ingest
    from assistant.present.evaluate import run_evaluation

    council = tmp_path / "council"
    for year, name in (("2023", f"{ROTHERHAM}.md"), ("2024", "barnsley-2018-csc-performance.md")):
        (council / year).mkdir(parents=True)
        shutil.copy(CORPUS / name, council / year / name)
    assert ingest([council], fake_settings, progress=False).new == 2
    questions = tmp_path / "questions.jsonl"
    questions.write_text(json.dumps(DISCHARGED) + "\n", encoding="utf-8")
    out = council / "eval-run"
    run_evaluation(questions, fake_settings, out, progress=False)  # the --out refusal does not see this folder
    assert {p.name for p in out.iterdir()} == {EVAL_RESULTS_MARKER, "answers.jsonl", "metrics.json", "report.md"}
    before = _source_ids(fake_settings)

    again = ingest([council], fake_settings, progress=False)
    assert _left_out(council / "eval-run") in again.notes
    assert (again.new, again.replaced, again.unchanged) == (0, 0, 2)
    assert not again.problems, [p.origin for p in again.problems]  # answers.jsonl is not read as a broken file
    assert _source_ids(fake_settings) == before
    assert not any("eval-run" in source_id for source_id in before)


def test_a_results_folder_is_left_out_found_in_a_folder_named_itself_through_a_link_or_by_a_file_in_it(tmp_path):
    minutes = tmp_path / "minutes"
    (minutes / "2023").mkdir(parents=True)
    (minutes / "2023" / "fostering.txt").write_text("Fostering.", encoding="utf-8")
    results = minutes / "eval-run"
    (results / "older").mkdir(parents=True)
    (results / EVAL_RESULTS_MARKER).write_text("results of assistant eval\n", encoding="utf-8")
    (results / "report.md").write_text("# Evaluation\n\nExpected: 148 children.\n", encoding="utf-8")
    (results / "older" / "report.md").write_text("# Evaluation\n\nExpected: 12.\n", encoding="utf-8")
    (minutes / "linked-run").symlink_to(results)

    notes: list[str] = []
    found = list(read_inputs([minutes], CAP, notes=notes))
    assert [item.source_id for item in found] == ["file:2023/fostering.txt"]
    assert notes == [_left_out(minutes / "eval-run"), _left_out(minutes / "linked-run")]

    for given, inside in ((results, None), (results / "report.md", results), (results / "older", results)):
        notes.clear()
        assert list(read_inputs([given], CAP, notes=notes)) == []
        assert notes == [_left_out(given, inside)]


def test_a_folder_without_the_marker_is_read_as_before(tmp_path):
    """Only the marker counts, not the names of eval's files: minutes may well be called report.md."""
    (tmp_path / "report.md").write_text("# Cabinet\n\nThe report was noted.\n", encoding="utf-8")
    notes: list[str] = []
    assert [item.source_id for item in read_inputs([tmp_path], CAP, notes=notes)] == ["file:report.md"]
    assert notes == []
