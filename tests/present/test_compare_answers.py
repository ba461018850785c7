"""scripts/compare_answers.py, a maintainer's comparison of two eval runs: answers matched by id, outcomes that got
worse named and counted in the exit status (a review found it paired answers by line, refused two run folders of
different names, and could not tell worse from better)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "compare_answers.py"


def _run_folder(folder: Path, outcomes: dict[str, str], correct: tuple[int, int]) -> Path:
    folder.mkdir(parents=True)
    rows = [{"id": qid, "answer": f"answer to {qid}", "outcome": outcome, "wall_ms": 1.0 + n}
            for n, (qid, outcome) in enumerate(outcomes.items())]
    (folder / "answers.jsonl").write_text("".join(json.dumps(row) + "\n" for row in rows))
    overall = {"answer_correctness": correct[0] / correct[1], "counts": {"answer_correctness": list(correct)}}
    (folder / "metrics.json").write_text(json.dumps({"overall": overall}))
    return folder


def _compare(*args: Path | str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(SCRIPT), *map(str, args)], capture_output=True, text=True, timeout=60)


def test_a_question_that_got_worse_is_named_and_fails_the_comparison_whatever_the_order_of_lines(tmp_path):
    before = _run_folder(tmp_path / "before", {"q1": "correct", "q2": "wrong", "q3": "rightly_refused"}, (1, 2))
    # the same questions in another order, under a folder of another name
    after = _run_folder(tmp_path / "after", {"q3": "answered_unanswerable", "q2": "correct", "q1": "correct"}, (2, 2))
    compared = _compare(before, after)
    assert compared.returncode == 1, compared.stdout + compared.stderr
    assert "worse  q3: rightly_refused -> answered_unanswerable" in compared.stdout
    assert "better q2: wrong -> correct" in compared.stdout and "q1:" not in compared.stdout
    assert "answer_correctness" in compared.stdout and "0.500 (1 of 2)  ->  1.000 (2 of 2)" in compared.stdout
    assert "2 outcomes changed (1 worse)" in compared.stdout


def test_runs_with_only_better_outcomes_pass_and_identical_ones_pass_the_identity_check(tmp_path):
    before = _run_folder(tmp_path / "a", {"q1": "wrong", "q2": "correct"}, (1, 2))
    after = _run_folder(tmp_path / "b", {"q2": "correct", "q1": "correct"}, (2, 2))
    assert _compare(before, after).returncode == 0
    assert _compare("--identical", before, after).returncode == 1  # an answer differs
    same = _run_folder(tmp_path / "c", {"q1": "wrong", "q2": "correct"}, (1, 2))
    assert _compare("--identical", before, same).returncode == 0  # timings aside, the same answers


def test_a_folder_without_answers_cannot_be_compared_and_says_so(tmp_path):
    before = _run_folder(tmp_path / "a", {"q1": "correct"}, (1, 1))
    compared = _compare(before, tmp_path / "missing")
    assert compared.returncode == 2 and "holds no answers.jsonl" in compared.stderr


def test_a_question_the_model_failed_on_or_a_question_gone_counts_as_worse(tmp_path):
    """Found by a code review: a correct answer that became model_failed, or a question missing from the second
    run, passed the comparison."""
    before = _run_folder(tmp_path / "a", {"q1": "correct", "q2": "correct"}, (2, 2))
    failed = _run_folder(tmp_path / "b", {"q1": "model_failed", "q2": "correct"}, (1, 1))
    compared = _compare(before, failed)
    assert compared.returncode == 1 and "worse  q1: correct -> model_failed" in compared.stdout
    gone = _run_folder(tmp_path / "c", {"q2": "correct"}, (1, 1))
    compared = _compare(before, gone)
    assert compared.returncode == 1 and "worse  q1: correct -> not asked" in compared.stdout


def test_an_id_that_names_another_question_in_the_second_run_is_said_to(tmp_path):
    """Two runs of different question files that share an id compared two unrelated questions as one, without a word
    (from a maintainer's review)."""
    before = _run_folder(tmp_path / "a", {"q1": "correct", "q2": "correct"}, (2, 2))
    after = _run_folder(tmp_path / "b", {"q1": "rightly_refused", "q2": "correct"}, (1, 1))
    for folder, first in ((before, "Who chaired the panel?"), (after, "What did Lancashire decide about bus fares?")):
        asked = {"q1": first, "q2": "How many children were in care?"}  # each answer's question, as eval writes it
        rows = [json.loads(line) for line in (folder / "answers.jsonl").read_text().splitlines()]
        (folder / "answers.jsonl").write_text("".join(json.dumps({**row, "question": asked[row["id"]]}) + "\n"
                                                      for row in rows))
    compared = _compare(before, after)
    assert "note: 1 id names another question in the second run (q1)" in compared.stdout, compared.stdout
    assert "q2)" not in compared.stdout


def test_answers_quoting_a_line_or_paragraph_separator_are_compared_line_by_line(tmp_path):
    """eval writes the minutes' text as it is: a quote holding U+2028, U+2029 or U+0085 (Word and PDF minutes have
    them) split its line in two for str.splitlines(), and the comparison ended in a traceback with exit status 1, as
    if an outcome had got worse (from the eval maintainer's review)."""
    runs = []
    for name in ("a", "b"):
        folder = _run_folder(tmp_path / name, {"q1": "correct", "q2": "correct"}, (2, 2))
        rows = [json.loads(line) for line in (folder / "answers.jsonl").read_text().split("\n") if line]
        quoted = [{**row, "answer": "57 carers were approved\u2028 in the year.\x85 Stability rose\u2029 to 71%."}
                  for row in rows]
        (folder / "answers.jsonl").write_text("".join(json.dumps(row, ensure_ascii=False) + "\n" for row in quoted),
                                              encoding="utf-8")
        runs.append(folder)
    compared = _compare("--identical", *runs)
    assert compared.returncode == 0, compared.stdout + compared.stderr
    assert "2 questions in" in compared.stdout and "0 answers differ in any way" in compared.stdout


def test_a_damaged_answers_file_cannot_be_compared_and_says_where(tmp_path):
    """A run's answers.jsonl cut short (a full disk) or not UTF-8 ended in a traceback with exit status 1, which the
    script gives an outcome that got worse, not 2, runs that cannot be compared (from the eval maintainer's review)."""
    good = _run_folder(tmp_path / "a", {"q1": "correct", "q2": "correct"}, (2, 2))
    cut = _run_folder(tmp_path / "b", {"q1": "correct", "q2": "correct"}, (2, 2))
    text = (cut / "answers.jsonl").read_text()
    (cut / "answers.jsonl").write_text(text[:len(text) - 10])
    compared = _compare(good, cut)
    assert compared.returncode == 2 and "Traceback" not in compared.stderr
    assert f"cannot compare: {cut / 'answers.jsonl'}:2 is not a JSON line" in compared.stderr
    (cut / "answers.jsonl").write_bytes(b"\xff\xfe" + text.encode())
    compared = _compare(good, cut)
    assert compared.returncode == 2 and "cannot be read" in compared.stderr and "Traceback" not in compared.stderr
    (cut / "answers.jsonl").write_text("[1, 2]\n")
    compared = _compare(good, cut)
    assert compared.returncode == 2 and ":1 is not a JSON object" in compared.stderr


def test_runs_of_question_files_that_share_no_id_are_said_to_be_of_different_files(tmp_path):
    """Every question of the first run read as "not asked", worse, with no word of why (from the eval maintainer's
    review); the exit status stays 1, as for any question gone."""
    before = _run_folder(tmp_path / "a", {"m1": "correct", "m2": "correct"}, (2, 2))
    after = _run_folder(tmp_path / "b", {"x1": "correct"}, (1, 1))
    compared = _compare(before, after)
    assert compared.returncode == 1
    assert "note: the runs share no question id: they are runs of different question files" in compared.stdout
    assert "share no question id" not in _compare(before, before).stdout


def test_an_id_holding_an_escape_or_a_line_break_is_printed_escaped_on_its_line(tmp_path):
    """eval takes ids as written and prints them escaped; the comparison printed them raw, so that an id could drive
    the terminal or forge a line (from the eval maintainer's review)."""
    odd = "q\x1b[2J\nworse  q9"
    before = _run_folder(tmp_path / "a", {odd: "correct"}, (1, 1))
    after = _run_folder(tmp_path / "b", {odd: "wrong"}, (0, 1))
    compared = _compare(before, after)
    assert compared.returncode == 1 and "\x1b" not in compared.stdout
    assert "worse  q\\x1b[2J worse  q9: correct -> wrong" in compared.stdout
