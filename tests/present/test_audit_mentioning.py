"""`assistant audit --mentioning WORDS` and `--erase-mentioning WORDS`: an erasure request for a person the log names
(a child's name typed into a question), not for a member, from a data-protection review."""

from __future__ import annotations

import json

import pytest

from assistant.present import cli
from assistant.present.audit import AuditLog
from assistant.records import Answer
from test_audit_review import _bytes_of_log


def _log_naming_a_child(folder) -> dict[str, str]:
    """Four answers: two questions name the child (in another case, and with a curly apostrophe), one answer quotes
    minutes that name her, one names nobody; a comment on that last one names her too."""
    folder.mkdir(exist_ok=True)
    log = AuditLog(folder / "audit.sqlite")
    try:
        ids = {
            "asked": log.record_answer(Answer("Where was Jayden O'Brien placed?", "Nothing found.", True,
                                              "no_evidence", "extractive"), {}, "v1", "app", user="alice"),
            "typed": log.record_answer(Answer("what happened to JAYDEN O\u2019BRIEN's placement", "Nothing found.",
                                              True, "no_evidence", "extractive"), {}, "v1", "app", user="bob"),
            "quoted": log.record_answer(Answer("Which placements broke down in 2019?",
                                               "Jayden O'Brien's placement ended in March. [1]", False, None,
                                               "extractive"), {}, "v1", "cli"),
            "other": log.record_answer(Answer("How many children left care?", "148 children were discharged. [1]",
                                              False, None, "extractive"), {}, "v1", "app", user="bob"),
        }
        log.record_feedback(ids["asked"], "not_helpful", "no answer", user="alice")
        log.record_feedback(ids["other"], "source_wrong", "this is not about Jayden O'Brien", user="bob")
        log.record_feedback(ids["other"], "helpful", "thanks", user="carol")
    finally:
        log.close()
    return ids


def test_the_answers_that_mention_a_name_are_listed_and_exported_whoever_asked(tmp_path, capsys):
    ids = _log_naming_a_child(tmp_path / "index")
    index = str(tmp_path / "index")
    assert cli.main(["audit", "--index", index, "--mentioning", "jayden o'brien"]) == 0
    listed = capsys.readouterr().out
    assert all(ids[key] in listed for key in ("asked", "typed", "quoted", "other")), listed
    assert cli.main(["audit", "--index", index, "--mentioning", "Jayden O'Brien", "--format", "jsonl"]) == 0
    records = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [r["answer_id"] for r in records] == [ids[key] for key in ("asked", "typed", "quoted", "other")]
    # A word inside another word is no mention: 'Jay' is not 'Jayden', 'care' is not 'careful'.
    assert cli.main(["audit", "--index", index, "--mentioning", "Jay"]) == 0
    assert "No answers mention 'Jay' in the audit log." in capsys.readouterr().out
    assert cli.main(["audit", "--index", index, "--mentioning", "left care", "--user", "bob"]) == 0
    listed = capsys.readouterr().out
    assert ids["other"] in listed and ids["typed"] not in listed


def test_an_erasure_of_what_mentions_a_name_deletes_it_from_the_file_and_records_neither_name_nor_words(
        tmp_path, capsys):
    ids = _log_naming_a_child(tmp_path / "index")
    index = str(tmp_path / "index")
    assert cli.main(["audit", "--index", index, "--erase-mentioning", "Jayden O'Brien"]) == 1  # only what it would do
    out = capsys.readouterr().out
    assert "Would erase 3 answers and 2 pieces of feedback mentioning \"Jayden O'Brien\"" in out, out
    assert "Nothing was erased: add --yes to erase them." in out
    assert b"Jayden O'Brien" in _bytes_of_log(tmp_path / "index")

    assert cli.main(["audit", "--index", index, "--erase-mentioning", "Jayden O'Brien", "--yes"]) == 0
    assert "Erased 3 answers and 2 pieces of feedback mentioning \"Jayden O'Brien\"" in capsys.readouterr().out
    kept = _bytes_of_log(tmp_path / "index")
    assert b"Jayden" not in kept and b"JAYDEN" not in kept, "the erased text is overwritten in the file"
    log = AuditLog(tmp_path / "index" / "audit.sqlite", read_only=True)
    try:
        # The answer that named nobody stays, with the feedback that named nobody; the comment that named her goes.
        assert [e.answer_id for e in log.entries()] == [ids["other"]]
        assert [f["comment"] for f in log.feedback()] == ["thanks"]
        assert [(e["answers"], e["feedback"], e["what"]) for e in log.erasures()] == [
            (3, 2, "records mentioning given words, on request")]
    finally:
        log.close()


@pytest.mark.parametrize("args, said", [
    (["--erase-mentioning", " "], "--erase-mentioning needs the words to look for"),
    (["--erase-mentioning", "..."], "--erase-mentioning needs the words to look for"),
    (["--mentioning", ""], "--mentioning needs the words to look for"),
    (["--erase-mentioning", "Jayden", "--mentioning", "Jayden"], "--mentioning is for listing the log"),
    (["--show", "abc", "--mentioning", "Jayden"], "--show prints one answer"),
])
def test_an_erasure_by_words_that_cannot_be_done_says_why_and_erases_nothing(tmp_path, capsys, args, said):
    _log_naming_a_child(tmp_path / "index")
    assert cli.main(["audit", "--index", str(tmp_path / "index"), *args]) != 0
    assert said in capsys.readouterr().err
    log = AuditLog(tmp_path / "index" / "audit.sqlite", read_only=True)
    try:
        assert len(list(log.entries())) == 4 and len(log.feedback()) == 3 and not log.erasures()
    finally:
        log.close()
