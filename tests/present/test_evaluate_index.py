"""run_evaluation's index: built in a scratch folder, or kept in index_dir and reused by later question files."""

import json
import shutil

from assistant.present.evaluate import run_evaluation

from conftest import CORPUS, ROOT


def _answers(folder):
    rows = [json.loads(line) for line in (folder / "answers.jsonl").read_text().splitlines()]
    return [(r["id"], r["answer"], r["refused"], [c["source_url"] for c in r["citations"]]) for r in rows]


def _questions(tmp_path):
    questions = tmp_path / "questions.jsonl"
    questions.write_text("".join((ROOT / "eval" / "questions.jsonl").read_text().splitlines(keepends=True)[:4]))
    return questions


def test_an_index_kept_in_index_dir_is_reused_by_the_next_question_file(tmp_path, fake_settings):
    questions, kept = _questions(tmp_path), tmp_path / "kept-index"
    first = run_evaluation(questions, fake_settings, tmp_path / "first", corpus=[CORPUS], progress=False,
                           index_dir=kept)
    second = run_evaluation(questions, fake_settings, tmp_path / "second", corpus=[CORPUS], progress=False,
                            index_dir=kept)
    assert first["ingest_items"]["new"] >= 5 and first["ingest_items"]["unchanged"] == 0
    assert second["ingest_items"] == {"new": 0, "replaced": 0, "unchanged": first["ingest_items"]["new"],
                                      "removed": 0}
    assert _answers(tmp_path / "first") == _answers(tmp_path / "second")
    assert any(kept.iterdir())  # the index stays for the next file

    scratch = run_evaluation(questions, fake_settings, tmp_path / "scratch", corpus=[CORPUS], progress=False)
    assert scratch["ingest_items"]["new"] == first["ingest_items"]["new"]  # built afresh
    assert _answers(tmp_path / "scratch") == _answers(tmp_path / "first")


def test_another_corpus_in_the_same_index_dir_is_answered_from_that_corpus_alone(tmp_path, fake_settings):
    questions, kept = _questions(tmp_path), tmp_path / "kept-index"
    fewer = tmp_path / "fewer"
    fewer.mkdir()
    for path in sorted(CORPUS.glob("*.md"))[:2]:
        shutil.copy(path, fewer / path.name)
    run_evaluation(questions, fake_settings, tmp_path / "all", corpus=[CORPUS], progress=False, index_dir=kept)
    reused = run_evaluation(questions, fake_settings, tmp_path / "reused", corpus=[fewer], progress=False,
                            index_dir=kept)
    alone = run_evaluation(questions, fake_settings, tmp_path / "alone", corpus=[fewer], progress=False)
    assert reused["ingest_items"]["removed"] >= 3  # the items of the first corpus that the second lacks
    assert _answers(tmp_path / "reused") == _answers(tmp_path / "alone")
