"""`assistant eval`'s question files: every mistake refused at load with its line and reason, the reasonable
files other tools write accepted, and questions without gold data left out of the metrics that need it."""

import json
import re
import shutil
from pathlib import Path

import pytest

from assistant.errors import AssistantError
from assistant.present.eval_questions import KINDS, load_pairs, load_questions
from assistant.present.eval_scoring import score
from assistant.present.evaluate import run_evaluation

from conftest import CORPUS

BARNSLEY = "https://barnsleymbc.moderngov.co.uk/mgAi.aspx?ID=23547"
GOOD = {"id": "q1", "question": "Who is the Service Director at Barnsley?", "kind": "who", "gold_urls": [BARNSLEY],
        "must_include": ["Mel John-Ross"], "notes": "unknown keys are allowed"}


def _write(tmp_path, *rows, name="questions.jsonl") -> Path:
    path = tmp_path / name
    path.write_text("".join((r if isinstance(r, str) else json.dumps(r, ensure_ascii=False)) + "\n" for r in rows),
                    encoding="utf-8")
    return path


@pytest.mark.parametrize("rows, message", [
    ((GOOD, {**GOOD, "id": "q2"}, {**GOOD, "question": "Another?"}), ":3 repeats the id 'q1' of line 1"),
    ((GOOD, {**GOOD, "id": 1}, {**GOOD, "id": "1"}), ":3 repeats the id '1' of line 2"),
    (({**GOOD, "must_include": [2018]},), "must_include is [2018]"),
    (({**GOOD, "gold_urls": [["u"]]},), 'gold_urls is [["u"]]'),
    (({**GOOD, "kind": None},), "the kind must be one of fact, numeric, who, resolution, multi, unanswerable, "
                                "not null"),
    (({**GOOD, "kind": ["who"]},), "the kind must be one of"),
    (({**GOOD, "kind": "person"},), 'not "person"'),
    (({**GOOD, "id": ["b", 1]},), 'the id must be text, not ["b", 1]'),
    (({**GOOD, "id": None},), "the id must be text, not null"),
    (({**GOOD, "id": " "},), "the id is blank"),
    (({**GOOD, "question": None},), "the question must be text, not null"),
    (({**GOOD, "question": 42},), "the question must be text, not 42"),
    (({**GOOD, "question": ""},), "the question is blank"),
    ((GOOD, {**GOOD, "id": "q2", "question": "  \t "}), ":2 is not a valid question record (the question is blank"),
    (({**GOOD, "filters": {"council": "Barnsley", "notes": "x"}},),
     "filters has the unknown key 'notes'; the filter keys are council, committee, since, until"),
    (({**GOOD, "filters": "Barnsley"},), "filters must be a JSON object"),
    # From a code review of the eval command: a check every answer passes, a filter that filters nothing, and an id
    # that answers of another run would not be matched by.
    (({**GOOD, "must_include": ["Mel John-Ross", " [1] "]},),
     'the must_include string " [1] " is only a citation marker, which every answer would hold'),
    (({**GOOD, "filters": {"council": ""}},), "the filter council is blank: give it a value, or leave the key out"),
    ((GOOD, {**GOOD, "id": "q2", "filters": {"since": "2018-01-01", "committee": " "}}),
     ":2 is not a valid question record (the filter committee is blank"),
    (({**GOOD, "id": "q1 "},), 'the id "q1 " has spaces around it: write it as "q1"'),
])
def test_a_mistake_is_refused_at_load_with_its_line_and_reason(tmp_path, fake_settings, rows, message):
    out = tmp_path / "out"
    out.mkdir()
    (out / "metrics.json").write_text("earlier\n")
    with pytest.raises(AssistantError, match=re.escape(message)):
        run_evaluation(_write(tmp_path, *rows), fake_settings, out, progress=False)
    assert sorted(p.name for p in out.iterdir()) == ["metrics.json"]  # nothing of this run written
    assert (out / "metrics.json").read_text() == "earlier\n"


def test_every_kind_is_read_in_any_letter_case_and_an_unknown_one_is_named_with_the_kinds(tmp_path):
    rows = [{**GOOD, "id": kind, "kind": f" {kind.upper()} "} for kind in KINDS]
    assert [q.kind for q in load_questions(_write(tmp_path, *rows))] == list(KINDS)
    with pytest.raises(AssistantError, match="one of " + ", ".join(KINDS)):
        load_questions(_write(tmp_path, {**GOOD, "kind": "Unanswerables"}))


def test_a_numeric_id_is_read_as_its_text(tmp_path):
    [question] = load_questions(_write(tmp_path, {**GOOD, "id": 7}))
    assert question.id == "7"


ODD = {**GOOD, "id": "odd", "question": "Who is\u2028the Service\u2029Director\u0085at Barnsley?"}


@pytest.mark.parametrize("head, first, between", [
    (b"\xef\xbb\xbf", GOOD, ""),  # a byte order mark, as Windows tools write
    (b"", ODD, ""),  # U+2028, U+2029 and U+0085 raw inside a string, as json.dumps(..., ensure_ascii=False) writes
    (b"", GOOD, "# reviewed by AB\r\n  # another comment"),
])
def test_files_other_tools_write_are_read_and_numbered_as_an_editor_numbers_them(tmp_path, head, first, between):
    text = "\r\n".join([json.dumps(first, ensure_ascii=False), between, json.dumps({**GOOD, "id": "q2"})]) + "\r\n"
    path = tmp_path / "questions.jsonl"
    path.write_bytes(head + text.encode("utf-8"))
    assert [(q.id, q.question) for q in load_questions(path)] == [(first["id"], first["question"]),
                                                                   ("q2", GOOD["question"])]
    path.write_bytes(head + (text + '{"id": "q3"}\n').encode("utf-8"))
    last = len(text.split("\n"))
    with pytest.raises(AssistantError, match=re.escape(f":{last} is not a valid question record: it has no")):
        load_questions(path)


def test_a_byte_order_mark_at_the_start_of_any_line_is_dropped_as_files_joined_with_cat_have_one(tmp_path):
    path = tmp_path / "questions.jsonl"
    path.write_bytes(b"".join(b"\xef\xbb\xbf" + line.encode("utf-8") + b"\n" for line in
                              (json.dumps(GOOD), "# the second file", json.dumps({**GOOD, "id": "q2"}))))
    assert [q.id for q in load_questions(path)] == ["q1", "q2"]


def test_ids_that_differ_only_in_letter_case_are_warned_of_with_both_lines(tmp_path, capsys):
    rows = [GOOD, {**GOOD, "id": "other"}, {**GOOD, "id": "Q1"}]
    assert [q.id for q in load_questions(_write(tmp_path, *rows))] == ["q1", "other", "Q1"]
    warnings = [line for line in capsys.readouterr().err.splitlines() if line.startswith("warning:")]
    assert warnings == [f"warning: {tmp_path / 'questions.jsonl'}:3 has the id 'Q1', which differs from 'q1' of line 1 "
                        "only in letter case: answers are matched by their id as written (scripts/compare_answers.py), "
                        "so give one of them another id, or keep each one's case from run to run."]


def test_support_pairs_with_a_raw_line_separator_in_a_sentence_are_read_whole(tmp_path):
    pair = {"id": "p1", "sentence": "Caseloads fell\u2028to 18.", "source_url": "u", "start": 0, "end": 5,
            "supported": True}
    path = tmp_path / "pairs.jsonl"
    path.write_text(json.dumps(pair, ensure_ascii=False) + "\n", encoding="utf-8")
    assert [p["sentence"] for p in load_pairs(path)] == [pair["sentence"]]


def test_missing_or_blank_gold_lists_load_as_empty(tmp_path):
    rows = [{k: v for k, v in GOOD.items() if k not in ("gold_urls", "must_include")},
            {**GOOD, "id": "q2", "gold_urls": None, "must_include": None},
            {**GOOD, "id": "q3", "gold_urls": [""], "must_include": ["", " ", "Mel John-Ross"]}]
    loaded = load_questions(_write(tmp_path, *rows))
    assert [(q.gold_urls, q.must_include) for q in loaded] == [((), ()), ((), ()), ((), ("Mel John-Ross",))]


def _record(q_id: str, kind: str, answer: str, retrieved: list[str], cited: list[str]) -> dict:
    citations = [{"marker": i, "source_url": url, "council": "", "quote": ""} for i, url in enumerate(cited, 1)]
    sentences = [{"text": answer, "markers": list(range(1, len(cited) + 1)), "shown": True}]
    return {"id": q_id, "kind": kind, "answer": answer, "refused": False, "citations": citations,
            "sentences": sentences, "retrieved": [{"source_url": url} for url in retrieved], "wall_ms": 1.0}


def test_a_question_without_gold_urls_or_must_include_is_left_out_of_the_metrics_that_need_them(tmp_path):
    rows = [{**GOOD, "id": "full", "must_include": ["680"]},  # answered without its figure: not correct
            {**GOOD, "id": "no-gold", "gold_urls": []},  # retrieved and cited elsewhere, answered right
            {**GOOD, "id": "no-facts", "must_include": []}]  # retrieved and cited right
    questions = load_questions(_write(tmp_path, *rows))
    records = [_record("full", "who", "Mel John-Ross", [BARNSLEY], [BARNSLEY]),
               _record("no-gold", "who", "Mel John-Ross", ["elsewhere"], ["elsewhere"]),
               _record("no-facts", "who", "Someone", [BARNSLEY], [BARNSLEY])]
    alce = [{"sentences": 1, "supported": 1, "citations": 1, "supporting_citations": 1, "dropped": 0}] * 3
    overall = score(questions, records, alce, None)["overall"]
    assert overall["answerable_without_gold_urls"] == 1 and overall["answerable_without_must_include"] == 1
    assert overall["retrieval_recall_at_5"] == 1.0 and overall["retrieval_mrr_at_5"] == 1.0
    assert overall["citation_source_precision"] == 1.0 and overall["citation_source_recall"] == 1.0
    assert overall["answer_correctness"] == 0.5  # "full" wrong, "no-gold" right; "no-facts" not judged


def test_every_share_has_its_counts_mrr_among_them_and_one_of_nothing_is_0_of_0(tmp_path):
    """From a code review of the eval command: MRR had no counts, and a share of nothing lost its own."""
    rows = [{**GOOD, "id": "first"}, {**GOOD, "id": "second"}]
    questions = load_questions(_write(tmp_path, *rows))
    records = [_record("first", "who", "Mel John-Ross", [BARNSLEY], [BARNSLEY]),
               _record("second", "who", "Mel John-Ross", ["elsewhere", BARNSLEY], [BARNSLEY])]
    alce = [{"sentences": 1, "supported": 1, "citations": 1, "supporting_citations": 1, "dropped": 0}] * 2
    overall = score(questions, records, alce, None)["overall"]
    assert overall["retrieval_mrr_at_5"] == 0.75 and overall["counts"]["retrieval_mrr_at_5"] == [1.5, 2]
    assert overall["unanswerable_refused"] is None and overall["counts"]["unanswerable_refused"] == [0, 0]
    assert overall["quote_validity"] is None and overall["counts"]["quote_validity"] == [0, 0]


@pytest.fixture
def seed_index_settings(fake_settings):
    """fake_settings with corpus/ ingested into its index."""
    from assistant.ingest.run import ingest

    ingest([CORPUS], fake_settings, progress=False)
    return fake_settings


def test_missing_gold_is_warned_of_once_and_shown_in_metrics_and_report(tmp_path, seed_index_settings, capsys):
    rows = [GOOD, {**GOOD, "id": "no-gold", "gold_urls": []}, {**GOOD, "id": "no-facts", "must_include": [""]},
            {**{k: v for k, v in GOOD.items() if k != "must_include"}, "id": "also-no-facts"},
            {"id": "u", "question": "How many dragons?", "kind": "unanswerable"}]
    out = tmp_path / "out"
    metrics = run_evaluation(_write(tmp_path, *rows), seed_index_settings, out, progress=False)
    warnings = [line for line in capsys.readouterr().err.splitlines() if line.startswith("warning:")]
    assert warnings == ["warning: 1 answerable question without gold_urls, not counted in retrieval and "
                        "cited-source metrics; 2 answerable questions without must_include, not counted in answer "
                        "correctness and the reader's top-1."]
    saved = json.loads((out / "metrics.json").read_text())
    assert saved == metrics and saved["overall"]["answerable_without_gold_urls"] == 1
    assert saved["overall"]["answerable_without_must_include"] == 2
    assert saved["who"]["answerable_without_gold_urls"] == 1  # and for each kind
    assert "1 answerable question without gold_urls" in (out / "report.md").read_text()


@pytest.mark.parametrize("question", ["", "   ", "?!?", "x" * 2001])
def test_a_bad_question_carries_the_same_timings_as_any_answer(hashing_assistant, question):
    answer = hashing_assistant.ask(question).to_json()
    assert answer["refusal_reason"] == "bad_question"
    assert set(answer["timings_ms"]) == {"retrieve", "answer", "verify", "total"}
    assert answer["timings_ms"]["total"] >= 0.0


@pytest.mark.parametrize("question, problem", [("?!?", "has no words in it"), ("x" * 2001, "the limit is 2,000")])
def test_a_question_that_cannot_be_asked_is_refused_at_load_not_scored_as_a_refusal(tmp_path, fake_settings, question,
                                                                                  problem):
    # Asked, it would be refused as a bad question, and scored as a right refusal when labelled unanswerable.
    rows = (GOOD, {"id": "u", "question": question, "kind": "unanswerable"})
    with pytest.raises(AssistantError, match=r":2 holds a question that cannot be asked: .*" + re.escape(problem)):
        run_evaluation(_write(tmp_path, *rows), fake_settings, tmp_path / "out", progress=False)
    assert not (tmp_path / "out" / "answers.jsonl").exists()


def test_a_misspelt_key_is_warned_of_with_the_key_it_means(tmp_path, capsys):
    rows = [{**GOOD, "filter": {"council": "Sefton"}}, {**GOOD, "id": "q2", "must_inclde": ["x"], "notes": "fine"}]
    load_questions(_write(tmp_path, *rows))
    warnings = [line for line in capsys.readouterr().err.splitlines() if line.startswith("warning:")]
    assert warnings == [f"warning: {tmp_path / 'questions.jsonl'}:1 has the key 'filter', which is not read: did you "
                        "mean 'filters'?",
                        f"warning: {tmp_path / 'questions.jsonl'}:2 has the key 'must_inclde', which is not read: did "
                        "you mean 'must_include'?"]


def test_gold_ids_that_no_indexed_item_has_are_warned_of_and_the_index_is_recorded(tmp_path, seed_index_settings,
                                                                                   capsys):
    rows = [GOOD, {**GOOD, "id": "typo", "gold_urls": [BARNSLEY + "7"]}]
    out = tmp_path / "out"
    metrics = run_evaluation(_write(tmp_path, *rows), seed_index_settings, out, progress=False)
    assert ("warning: 1 question names gold_urls that no indexed item has (typo)" in capsys.readouterr().err)
    assert metrics["index"] == str(seed_index_settings.data_dir) and metrics["corpus"] is None
    assert f"(`{seed_index_settings.data_dir}`)" in (out / "report.md").read_text()


def test_a_support_pair_past_the_end_of_its_item_is_refused_before_any_question_is_asked(tmp_path, fake_settings):
    pair = {"id": "p3", "source_url": BARNSLEY, "start": 9000, "end": 900000, "sentence": "s", "supported": True}
    pairs = _write(tmp_path, pair, name="pairs.jsonl")
    past_the_end = re.escape("the pair 'p3' ends at character 900000, past the end of " + BARNSLEY)
    with pytest.raises(AssistantError, match=past_the_end):
        run_evaluation(_write(tmp_path, GOOD), fake_settings, tmp_path / "out", corpus=[CORPUS], pairs_path=pairs,
                       progress=False)
    assert not (tmp_path / "out" / "answers.jsonl").exists()


@pytest.mark.skipif(not Path("/sys/kernel").is_dir(), reason="needs /sys/kernel, a folder even root cannot write")
def test_an_out_folder_that_cannot_be_written_fails_before_any_question_is_asked(tmp_path, fake_settings):
    # fake_settings has no index: had the run gone on to ask, it would have failed for want of one.
    where = re.escape("cannot be written to /sys/kernel (the --out folder)")
    with pytest.raises(AssistantError, match=where) as caught:
        run_evaluation(_write(tmp_path, GOOD), fake_settings, Path("/sys/kernel"), progress=False)
    assert "--out" in caught.value.hint and ".tmp" not in caught.value.message


def test_an_index_without_minutes_is_refused(tmp_path, fake_settings):
    # Every question would be refused, and every unanswerable one scored as right.
    from assistant.ingest.run import ingest

    empty = tmp_path / "no-minutes"
    empty.mkdir()
    # An ingest of no minutes at all makes no index: one of a restricted item alone makes an index that holds none.
    restricted = tmp_path / "restricted-only"
    restricted.mkdir()
    (restricted / "item.md").write_text("---\nid: exempt-1\ncouncil: Sefton Council\nrestricted: true\n---\n"
                                        "Exempt text.\n", encoding="utf-8")
    ingest([restricted], fake_settings, progress=False)
    with pytest.raises(AssistantError, match=re.escape(f"The index in {fake_settings.data_dir} holds no minutes")) \
            as caught:
        run_evaluation(_write(tmp_path, GOOD), fake_settings, tmp_path / "out", progress=False)
    assert f"--index {fake_settings.data_dir}" in caught.value.hint
    with pytest.raises(AssistantError, match=re.escape(f"The --corpus inputs ({empty}) hold no minutes")):
        run_evaluation(_write(tmp_path, GOOD), fake_settings, tmp_path / "out", corpus=[empty], progress=False)
    assert not (tmp_path / "out" / "answers.jsonl").exists()

def _answer(text: str) -> dict:
    return {"answer": text, "refused": False, "citations": [], "sentences": []}


@pytest.mark.parametrize("answer, gold, correct", [
    ("In 2018 148 children left care. [1]", "148", True),
    ("In 2018 148 children left care. [1]", "48", False),   # the tail of a larger figure
    ("In 2018 148 children left care. [1]", "1", False),    # only in the citation marker
    ("Only 28.5% of reports were on time. [2]", "28", False),
    ("Only 28.5% of reports were on time. [2]", "28.5%", True),
    ("Referrals rose to 1,234 in the year. [1]", "234", False),
    ("The service had 12. [1]", "12", True),
    ("The budget was £1.2m. [1]", "1.2", True),
    ("Neglect was the main category. [1]", "neglect", True),
])
def test_a_gold_figure_counts_only_as_a_whole_figure_of_the_answer_text(answer, gold, correct):
    from assistant.present.eval_questions import EvalQuestion
    from assistant.present.eval_scoring import is_correct

    q = EvalQuestion("x", "How many?", "numeric", (), (gold,), {})
    assert is_correct(q, _answer(answer)) is correct


@pytest.mark.parametrize("answer, gold, correct", [
    ("The Committee noted the progress towards the Plan. [1]", "Ward", False),
    ("Retention was always a challenge. [1]", "Hall", False),
    ("The Leeds partnership reported. [1]", "Lee", False),
    ("Support for foster carers grew. [1]", "care", False),
    ("Traffic on the M62 was slowed. [1]", "62", False),  # a figure that a letter opens is part of a code
    ("Councillor Ward (Chair) reported. [1]", "Ward", True),
    ("The report of Ms Hall-Jones was noted. [1]", "Hall", True),
    ("Mr Lee's report was noted. [1]", "Lee", True),
    ("Children in care rose. [1]", "in care", True),
    ("Caseloads fell to 18.5% in 2019 [1]", "18.5% in 2019", True),
])
def test_a_gold_word_counts_only_as_whole_words_of_the_answer_text(answer, gold, correct):
    """From a code review of the eval command: a surname counted inside any word that held it."""
    from assistant.present.eval_questions import EvalQuestion
    from assistant.present.eval_scoring import as_compared, compared_string, holds, is_correct

    q = EvalQuestion("x", "Who?", "who", (), (gold,), {})
    assert is_correct(q, _answer(answer)) is correct
    assert holds(as_compared(answer), compared_string(gold)) is correct  # the one rule, as a maintainer may run it


def test_percentiles_are_nearest_rank_and_words_leave_out_the_markers():
    from assistant.present.eval_scoring import _percentile

    assert _percentile([7, 8, 15, 20, 23, 31, 61], 0.9) == 61
    assert _percentile(list(range(1, 31)), 0.95) == 29
    assert _percentile(list(range(1, 11)), 0.9) == 9
    from assistant.present.eval_questions import EvalQuestion

    q = EvalQuestion("x", "How many?", "numeric", (), ("148",), {})
    record = {**_answer("148 In 2018 148 children left care. [1] [2]"), "kind": "numeric", "retrieved": [],
              "wall_ms": 50.0}
    alce = {"sentences": 0, "supported": 0, "citations": 0, "supporting_citations": 0, "dropped": 0}
    assert score([q], [record], [alce], None)["overall"]["answer_words_median"] == 7


def test_a_gold_string_written_with_its_marker_is_matched_without_it():
    from assistant.present.eval_questions import EvalQuestion
    from assistant.present.eval_scoring import is_correct

    q = EvalQuestion("x", "How many?", "numeric", (), ("148 [1]",), {})
    assert is_correct(q, _answer("In 2018 148 children left care. [1]"))


# -- bad input to `assistant eval`, and what its summary and report say ------------------------------

@pytest.fixture
def cli_on_seed(hashing_seed_index, monkeypatch):
    """`assistant` run in this process on the seed index: its status; stdout and stderr are left to capsys."""
    from assistant.index.embedder import HASHING_MODEL
    from assistant.present.cli import main

    monkeypatch.setenv("ASSISTANT_EMBEDDING_MODEL", HASHING_MODEL)
    return lambda *args: main([*args, "--index", str(hashing_seed_index.data_dir)])


def _earlier_results(out: Path) -> None:
    from assistant.files import EVAL_RESULTS_MARKER

    out.mkdir()
    (out / EVAL_RESULTS_MARKER).write_text("an earlier run's\n")
    for name in ("answers.jsonl", "metrics.json", "report.md"):
        (out / name).write_text("earlier\n")


def test_a_lone_surrogate_escape_is_read_as_the_replacement_character(tmp_path, hashing_seed_index):
    # json.loads turns "\ud800" into a lone surrogate, which neither the tokenizer nor a UTF-8 file can take; one that
    # a byte not in UTF-8 could have made ("\udce9", from 0xE9) is read as U+FFFD, any other as "?", as `brief` does.
    lines = ['{"id": "s-1\\ud800", "question": "\\ud800 How many children were discharged from care in 2018?", '
             '"kind": "numeric", "must_include": ["148\\ud800"], "filters": {"council": "Rotherham\\udce9"}}',
             '{"id": "s-2", "question": "How many dragons?", "kind": "unanswerable"}']
    out = tmp_path / "out"
    run_evaluation(_write(tmp_path, *lines), hashing_seed_index, out, progress=False)
    first = json.loads((out / "answers.jsonl").read_text(encoding="utf-8").splitlines()[0])
    assert first["id"] == "s-1?" and first["must_include"] == ["148?"]
    assert first["question"].startswith("? How many") and first["filters"]["council"] == "Rotherham\ufffd"
    assert json.loads((out / "metrics.json").read_text())["overall"]["questions"] == 2


def test_a_failed_write_of_the_answers_leaves_nothing_that_looks_like_a_finished_run(tmp_path, hashing_seed_index,
                                                                                    monkeypatch):
    import assistant.present.evaluate as evaluate

    def disk_full(path, data, **kwargs):
        raise OSError(28, "No space left on device", str(path))

    out = tmp_path / "out"
    _earlier_results(out)
    monkeypatch.setattr(evaluate, "write_atomically", disk_full)
    with pytest.raises(OSError, match="No space left"):
        run_evaluation(_write(tmp_path, GOOD), hashing_seed_index, out, progress=False)
    # The earlier answers are not left to pass for this run's (the marker says only that a run wrote here).
    assert [p.name for p in out.iterdir()] == [".assistant-eval-results"]


PAIR = {"id": "p1", "sentence": "Caseloads fell.", "source_url": BARNSLEY, "start": 0, "end": 50, "supported": True,
        "kind": "paraphrase"}


@pytest.mark.parametrize("lines, message", [
    (({**PAIR, "sentence": None},), ":1: the pair's sentence must be text that is not blank, not null."),
    (({**PAIR, "id": "p0"}, {**PAIR, "sentence": 42}), ":2: the pair's sentence must be text that is not blank, not 42."),
    (({**PAIR, "source_url": ["u"]},), ':1: the pair\'s source_url must be text that is not blank, not ["u"].'),
    (({**PAIR, "id": None},), ":1: the pair's id must be text that is not blank, not null."),
    (({**PAIR, "kind": ["paraphrase"]},), ":1: the pair's kind must be text (paraphrase, changed_figure, ...), not "
                                          '["paraphrase"].'),
    ((PAIR, {**PAIR, "start": 60, "end": 90}), ":2 repeats the pair id 'p1' of line 1."),
    ((PAIR, {**PAIR, "id": 2}, {**PAIR, "id": "2"}), ":3 repeats the pair id '2' of line 2."),
    ((json.dumps(PAIR)[:-1] + ', "sentence": "Caseloads rose."}',), ":1 is not a support pair. The key 'sentence' is "
                                                                    "given twice."),
    (("# no pairs here",), "holds no support pairs"),
])
def test_every_field_of_a_support_pair_is_checked_at_load_by_its_line(tmp_path, fake_settings, lines, message):
    pairs = _write(tmp_path, *lines, name="pairs.jsonl")
    out = tmp_path / "out"
    with pytest.raises(AssistantError, match=re.escape(message)):
        run_evaluation(_write(tmp_path, GOOD), fake_settings, out, corpus=[CORPUS], pairs_path=pairs, progress=False)
    assert not out.exists()  # refused before anything was asked or written


@pytest.mark.parametrize("line, message", [
    ('{"id": "x", "question": "Who?", "kind": "who", "id": "y"}', ":2 is not a valid question record (the key 'id' "
                                                                  "is given twice)"),
    ('{"id": "x", "question": "Who?", "kind": "who", "filters": {"council": "Sefton", "council": "Barnsley"}}',
     ":2 is not a valid question record (the key 'council' is given twice)"),
    ('   {"id": "x", "question": "broken json", ', ":2 is not a valid question record (not valid JSON: Expecting "
                                                   "property name enclosed in double quotes at column 42)."),
])
def test_a_key_given_twice_or_bad_json_is_refused_by_its_line_and_column(tmp_path, line, message):
    with pytest.raises(AssistantError, match=re.escape(message)) as caught:
        load_questions(_write(tmp_path, GOOD, line))
    assert "line 1" not in caught.value.message  # json's own count, of lines within the one line it was given


DEEPLY_NESTED = '"notes": ' + "[" * 3000 + "]" * 3000


def test_brackets_nested_too_deeply_are_refused_by_their_line_not_with_a_traceback(tmp_path, fake_settings):
    """A line json gives up on with a RecursionError had ended the run in a traceback, with exit status 1, which
    `eval` gives a broken floor (from a maintainer's review)."""
    question = '{"id": "x", "question": "Who?", "kind": "who", ' + DEEPLY_NESTED + "}"
    with pytest.raises(AssistantError, match=re.escape(":2 is not a valid question record (not valid JSON here: its "
                                                       "brackets are nested too deeply to read)")):
        load_questions(_write(tmp_path, GOOD, question))
    pair = json.dumps(PAIR)[:-1] + ", " + DEEPLY_NESTED + "}"
    out = tmp_path / "out"
    with pytest.raises(AssistantError, match=re.escape(":1 is not a support pair. Not valid JSON here: its brackets "
                                                       "are nested too deeply to read.")):
        run_evaluation(_write(tmp_path, GOOD), fake_settings, out, corpus=[CORPUS],
                       pairs_path=_write(tmp_path, pair, name="pairs.jsonl"), progress=False)
    assert not out.exists()


def test_questions_whose_filters_match_nothing_are_warned_of_and_counted(tmp_path, hashing_seed_index, capsys):
    rows = [{"id": "f-1", "question": "What was the average caseload?", "kind": "unanswerable",
             "filters": {"council": "Bradfrod"}},
            {"id": "f-2", "question": "How many Ofsted inspections were there?", "kind": "unanswerable",
             "filters": {"since": "2030"}},
            {"id": "f-3", "question": "How many dragons?", "kind": "unanswerable", "filters": {"council": "Barnsley"}},
            {**GOOD, "id": "f-4", "filters": {"committee": "Childrens Srutiny"}}]
    out = tmp_path / "out"
    metrics = run_evaluation(_write(tmp_path, *rows), hashing_seed_index, out, progress=False)
    warnings = [line for line in capsys.readouterr().err.splitlines() if line.startswith("warning:")]
    assert warnings == ["warning: 3 questions have filters that match nothing in the index (f-1, f-2, f-4): they are "
                        "refused as no_match_filters without being asked, and an unanswerable one counts as rightly "
                        "refused (a misspelt council or committee, or dates outside the minutes?)."]
    overall = metrics["overall"]
    assert overall["unanswerable_refused"] == 1.0  # computed as before, and now with its make-up beside it
    assert overall["unanswerable_refused_no_match_filters"] == 2
    assert overall["answerable_refused_no_match_filters"] == 1
    assert metrics["filters_matching_nothing"] == ["f-1", "f-2", "f-4"]
    report = (out / "report.md").read_text()
    assert "| Unanswerable refused as filters matched nothing (questions) | 2 |" in report
    assert "Filters matching nothing: 3 questions have filters that match nothing in the index (f-1, f-2, f-4)" in report


def test_a_questions_file_whose_name_is_not_utf8_is_named_readably_in_the_report(tmp_path, hashing_seed_index):
    import os

    questions = _write(tmp_path, GOOD, name=os.fsdecode(b"r\xe9sum\xe9.jsonl"))
    out = tmp_path / "out"
    metrics = run_evaluation(questions, hashing_seed_index, out, progress=False)
    assert metrics["questions_file"] == str(questions)
    assert f"`{tmp_path}/r\ufffdsum\ufffd.jsonl` (1)" in (out / "report.md").read_text(encoding="utf-8")


def test_a_failure_once_the_answers_are_written_is_a_warning_and_exit_status_0(tmp_path, cli_on_seed, monkeypatch,
                                                                              capsys):
    import assistant.present.evaluate as evaluate

    def broken_report(*args):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(evaluate, "render_report", broken_report)
    out = tmp_path / "out"
    assert cli_on_seed("eval", "--questions", str(_write(tmp_path, GOOD)), "--out", str(out)) == 0
    err = capsys.readouterr().err
    # metrics.json is written before the report is made, so only report.md is named as not written.
    assert f"warning: The answers are in {out / 'answers.jsonl'} and the metrics in {out / 'metrics.json'}, but " \
           "report.md could not be written (OSError: [Errno 28] No space left on device)." in err and "how to fix:" in err
    assert (out / "answers.jsonl").is_file() and (out / "metrics.json").is_file() and not (out / "report.md").exists()


def test_ctrl_c_once_the_answers_are_written_exits_0_and_a_fault_of_the_scoring_is_not_hidden(tmp_path, cli_on_seed,
                                                                                             monkeypatch, capsys):
    import assistant.present.evaluate as evaluate

    def interrupted(*args):
        raise KeyboardInterrupt

    monkeypatch.setattr(evaluate, "render_report", interrupted)
    out = tmp_path / "out"
    assert cli_on_seed("eval", "--questions", str(_write(tmp_path, GOOD)), "--out", str(out)) == 0
    assert "Interrupted: the answers are in" in capsys.readouterr().err and (out / "answers.jsonl").is_file()

    def faulty(*args):
        raise TypeError("a fault of the scoring")

    monkeypatch.setattr(evaluate, "render_report", faulty)
    with pytest.raises(TypeError, match="a fault of the scoring"):  # not passed off as a full disk
        cli_on_seed("eval", "--questions", str(_write(tmp_path, GOOD)), "--out", str(out))


def test_ctrl_c_while_scoring_a_run_given_floors_does_not_exit_as_if_they_held(tmp_path, cli_on_seed, monkeypatch,
                                                                               capsys):
    import assistant.present.evaluate as evaluate
    from assistant.present.eval_questions import load_floors

    def interrupted(*args):
        raise KeyboardInterrupt

    floors = tmp_path / "floors.json"
    floors.write_text(json.dumps({"strict": {"answer_correctness": {"min": 1.0}}}))
    monkeypatch.setattr(evaluate, "load_floors", lambda names: load_floors(names, floors))
    monkeypatch.setattr(evaluate, "_metrics", interrupted)  # before the floors are compared
    out = tmp_path / "out"
    # The answers are written, but no floor was compared: 0, which says every floor held, would pass a gate unchecked.
    assert cli_on_seed("eval", "--questions", str(_write(tmp_path, GOOD)), "--out", str(out), "--floors",
                       "strict") == 130
    err = capsys.readouterr().err
    assert "Interrupted: the answers are in" in err and "the floors (strict) were not compared" in err
    assert (out / "answers.jsonl").is_file()


def test_an_out_folder_inside_a_corpus_folder_is_refused_before_anything_is_asked(tmp_path, fake_settings,
                                                                                 corpus_copy):
    for out in (corpus_copy / "results", corpus_copy):
        with pytest.raises(AssistantError, match=re.escape(f"The --out folder {out} is inside the --corpus input "
                                                           f"{corpus_copy}")) as caught:
            run_evaluation(_write(tmp_path, GOOD), fake_settings, out, corpus=[tmp_path / "elsewhere", corpus_copy],
                           progress=False)
        assert "outside the minutes" in caught.value.hint
    assert not (corpus_copy / "results").exists()


def test_pairs_whose_source_is_not_in_the_corpus_are_warned_of_and_none_left_is_an_error(tmp_path, fake_settings,
                                                                                        capsys):
    from assistant.present.evaluate import check_pairs_against_corpus

    pairs = [PAIR, {**PAIR, "id": "p2", "source_url": BARNSLEY + "9"}]
    check_pairs_against_corpus(pairs, {BARNSLEY: {"text": "x" * 100}}, Path("pairs.jsonl"))
    assert capsys.readouterr().err == ("warning: 1 support pair of pairs.jsonl has its source not in the --corpus "
                                       "inputs (p2): skipped, and counted in the report as skipped.\n")
    missing = _write(tmp_path, {**PAIR, "source_url": BARNSLEY + "9"}, name="pairs.jsonl")
    with pytest.raises(AssistantError, match=re.escape(f"No support pair of {missing} (1 given) has its source in "
                                                       "the --corpus inputs")):
        run_evaluation(_write(tmp_path, GOOD), fake_settings, tmp_path / "out", corpus=[CORPUS], pairs_path=missing,
                       progress=False)
    assert not (tmp_path / "out" / "answers.jsonl").exists()


def test_json_usage_errors_print_the_error_object_and_a_bad_question_says_so_on_stderr(cli_on_seed, capsys):
    with pytest.raises(SystemExit) as stopped:
        cli_on_seed("ask", "How many children?", "--json", "--sinse", "2020")
    out, err = capsys.readouterr()
    assert stopped.value.code == 2 and "unrecognized arguments: --sinse 2020" in err
    assert json.loads(out) == {"error": "unrecognized arguments: --sinse 2020 (did you mean --since?)",
                               "hint": "See `assistant ask --help`."}
    with pytest.raises(SystemExit):
        cli_on_seed("ask", "How many children?", "--sinse", "2020")
    assert capsys.readouterr().out == ""  # without --json, argparse's message alone
    assert cli_on_seed("ask", "  ") == 2
    out, err = capsys.readouterr()
    assert "Please type a question." in out and "error: Please type a question." in err and "how to fix:" in err


def test_an_out_or_index_that_names_a_file_is_said_to_be_a_file(tmp_path, fake_settings, cli_on_seed, capsys):
    a_file = tmp_path / "a-file"
    a_file.write_text("x\n")
    for out, kind in ((a_file, "a file"), (Path("/dev/null"), "a device or a pipe")):
        with pytest.raises(AssistantError, match=re.escape(f"{out} is {kind}, not a folder, so it cannot be the "
                                                           "--out folder")):
            run_evaluation(_write(tmp_path, GOOD), fake_settings, out, progress=False)
    with pytest.raises(AssistantError, match=re.escape(f"{a_file} is a file, not a folder, so it cannot be a folder "
                                                       f"on the way to {a_file / 'results'}")):
        run_evaluation(_write(tmp_path, GOOD), fake_settings, a_file / "results", progress=False)
    from assistant.present.cli import main

    assert main(["ask", "How many children?", "--index", str(a_file)]) == 2
    err = capsys.readouterr().err
    assert f"error: {a_file} is a file, not an index folder." in err and "ingest --index" not in err


def test_a_questions_file_that_is_a_pipe_is_said_to_be_one(tmp_path):
    import os

    pipe = tmp_path / "pipe"
    os.mkfifo(pipe)
    with pytest.raises(AssistantError, match=re.escape(f"{pipe} is not a regular file but a pipe or a device")):
        load_questions(pipe)


def test_the_summary_gives_the_count_the_readers_figures_and_why_a_figure_is_missing(tmp_path, cli_on_seed, capsys):
    out = tmp_path / "out"
    assert cli_on_seed("eval", "--questions", str(_write(tmp_path, GOOD)), "--out", str(out)) == 0
    printed = capsys.readouterr().out
    assert "None" not in printed
    assert "  questions: 1 (1 answerable, 0 unanswerable)" in printed
    assert "  quote_validity: – (needs --corpus)" in printed
    assert "  unanswerable_refused: – (no unanswerable questions)" in printed
    assert "  reader top1_sentence_accuracy: " in printed
    assert "  reader answerability_auc: – (no unanswerable questions)" in printed
    report = (out / "report.md").read_text()
    assert "Answerability AUC (its confidence, answerable against unanswerable): – (no unanswerable questions)" in report
    assert "| confidence | questions | share answerable |" in report


def test_ctrl_c_says_how_many_were_answered_and_that_nothing_was_written(tmp_path, cli_on_seed, monkeypatch, capsys):
    from assistant.answer.service import Assistant

    asked = []
    real_ask = Assistant.ask

    def ask_until_ctrl_c(self, *args, **kwargs):
        asked.append(args)
        if len(asked) == 3:  # the warm-up question, the first question, then Ctrl-C
            raise KeyboardInterrupt
        return real_ask(self, *args, **kwargs)

    monkeypatch.setattr(Assistant, "ask", ask_until_ctrl_c)
    out = tmp_path / "out"
    _earlier_results(out)
    questions = _write(tmp_path, GOOD, {**GOOD, "id": "q2"})
    assert cli_on_seed("eval", "--questions", str(questions), "--out", str(out)) == 130
    assert (f"interrupted after answering 1 of 2 questions: nothing was written to {out}, and the results of an "
            "earlier run there are as they were.") in capsys.readouterr().err
    kept = {p.name: p.read_text() for p in out.iterdir() if not p.name.startswith(".")}
    assert kept == {n: "earlier\n" for n in ("answers.jsonl", "metrics.json", "report.md")}


def test_a_run_killed_with_sigterm_removes_its_scratch_index_and_the_folders_it_made(tmp_path):
    """SIGTERM (`kill`, a CI job's time limit) is taken as Ctrl-C: Python's own handling ended the run at once, leaving
    its scratch index in the temporary folder and the --out folders it had made."""
    import signal
    import subprocess
    import sys

    from cli_helpers import cli_env

    scratch, out = tmp_path / "tmp", tmp_path / "results" / "run"
    scratch.mkdir()
    questions = _write(tmp_path, *({**GOOD, "id": f"q{n}"} for n in range(400)))
    env = cli_env(tmp_path / "unused", ASSISTANT_READER="fake:overlap", TMPDIR=str(scratch))
    run = subprocess.Popen([sys.executable, "-m", "assistant", "eval", "--questions", str(questions), "--corpus",
                            str(CORPUS), "--out", str(out)], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           text=True)
    try:
        for line in run.stdout:
            if line.strip() == "20/400 questions":  # asking, its scratch index built
                break
        run.send_signal(signal.SIGTERM)
        err = run.communicate(timeout=120)[1]
    finally:
        if run.poll() is None:
            run.kill()
            run.wait(timeout=60)
    assert run.returncode == 130, err
    assert "interrupted after answering" in err and "of 400 questions: nothing was written to" in err
    assert not [p.name for p in scratch.iterdir() if p.name.startswith("eval-index-")]
    assert not (tmp_path / "results").exists()


def test_word_count_medians_are_written_alike_in_one_row(tmp_path):
    from assistant.present.eval_scoring import reader_metrics, render_report

    rows = [{**GOOD, "id": "a", "kind": "who"}, {**GOOD, "id": "b", "kind": "who"}, {**GOOD, "id": "c", "kind": "fact"}]
    questions = load_questions(_write(tmp_path, *rows))
    records = [{**_record("a", "who", "two words", [BARNSLEY], [BARNSLEY]), "question": "?", "must_include": []},
               {**_record("b", "who", "four words in all", [BARNSLEY], [BARNSLEY]), "question": "?",
                "must_include": []},
               {**_record("c", "fact", "five words in all here", [BARNSLEY], [BARNSLEY]), "question": "?",
                "must_include": []}]
    alce = [{"sentences": 1, "supported": 1, "citations": 1, "supporting_citations": 1, "dropped": 0}] * 3
    metrics = {**score(questions, records, alce, None), "reader": reader_metrics(questions, records),
               "questions_file": "q.jsonl", "mode": "extractive", "corpus": None, "index": None}
    assert metrics["who"]["answer_words_median"] == 3.0
    assert "| Answer words, median | 4 | 5 | 3 |" in render_report(metrics, records, questions)


def test_a_model_failure_is_recorded_for_its_question_and_the_run_goes_on(tmp_path, cli_on_seed, monkeypatch, capsys):
    """One error from the model's server (a 500, a 503) had ended the whole run and thrown away every answer; now the
    question is recorded as failed, left out of the figures and counted, as `brief` marks it not answered."""
    from assistant.answer.service import Assistant, ModelFailure
    from assistant.errors import ModelError

    asked = []
    real_ask = Assistant.ask

    def overloaded_at_the_second_question(self, *args, **kwargs):
        asked.append(args)
        answer = real_ask(self, *args, **kwargs)
        if len(asked) == 3:  # the warm-up question, the first question, then the server answers 503
            raise ModelFailure(ModelError("The language model 'openai:fake' failed: Error code: 503 - overloaded",
                                          "The server failed or is overloaded (HTTP 503): ask again in a while"),
                               answer)
        return answer

    monkeypatch.setattr(Assistant, "ask", overloaded_at_the_second_question)
    out = tmp_path / "out"
    _earlier_results(out)
    questions = _write(tmp_path, GOOD, {**GOOD, "id": "q2"}, {**GOOD, "id": "q3"})
    assert cli_on_seed("eval", "--questions", str(questions), "--out", str(out)) == 0  # answers.jsonl is written
    captured = capsys.readouterr()
    said = "The language model failed on question 2 of 3 (q2): The language model 'openai:fake' failed: "
    assert said in captured.err
    assert "ask again in a while" in captured.err and "The evaluation goes on" in captured.err
    records = [json.loads(line) for line in (out / "answers.jsonl").read_text().splitlines()]
    assert [r["id"] for r in records] == ["q1", "q2", "q3"]
    assert [bool(r.get("model_failed")) for r in records] == [False, True, False]
    assert "Error code: 503" in records[1]["error"] and "ask again" in records[1]["error"]
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["model_failures"] == ["q2"] and metrics["overall"]["questions"] == 2
    said = "The language model failed on 1 question of 3 (q2)"
    assert said in (out / "report.md").read_text() and said in captured.out


def test_a_run_whose_every_question_failed_still_writes_its_answers_and_says_so(tmp_path, cli_on_seed, monkeypatch,
                                                                                capsys):
    from assistant.answer.service import Assistant, ModelFailure
    from assistant.errors import ModelError

    real_ask = Assistant.ask

    def server_down(self, question, *args, **kwargs):
        answer = real_ask(self, question, *args, **kwargs)
        if question.startswith("warm-up"):
            return answer
        raise ModelFailure(ModelError("The language model 'openai:fake' failed: Connection error.", "Check it"),
                           answer)

    monkeypatch.setattr(Assistant, "ask", server_down)
    out = tmp_path / "out"
    assert cli_on_seed("eval", "--questions", str(_write(tmp_path, GOOD, {**GOOD, "id": "q2"})), "--out", str(out)) == 0
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["model_failures"] == ["q1", "q2"] and metrics["overall"]["questions"] == 0
    assert "The language model failed on 2 questions of 2 (q1, q2)" in (out / "report.md").read_text()
    assert len((out / "answers.jsonl").read_text().splitlines()) == 2


def test_a_model_failure_on_the_warm_up_question_does_not_end_the_run(tmp_path, cli_on_seed, monkeypatch, capsys):
    """The warm-up (asked to load the models before the timings) had ended the run with nothing written when the
    model failed on it, though a failed question of the file is recorded and gone past."""
    from assistant.answer.service import Assistant, ModelFailure
    from assistant.errors import ModelError

    real_ask = Assistant.ask

    def fails_on_the_warm_up(self, question, *args, **kwargs):
        answer = real_ask(self, question, *args, **kwargs)
        if question.startswith("warm-up"):
            raise ModelFailure(ModelError("The language model 'openai:fake' failed: Error code: 500 - boom",
                                          "The server failed"), answer)
        return answer

    monkeypatch.setattr(Assistant, "ask", fails_on_the_warm_up)
    out = tmp_path / "out"
    assert cli_on_seed("eval", "--questions", str(_write(tmp_path, GOOD)), "--out", str(out)) == 0
    assert "failed on the warm-up question, before any question of the file" in capsys.readouterr().err
    records = [json.loads(line) for line in (out / "answers.jsonl").read_text().splitlines()]
    assert [r["id"] for r in records] == ["q1"] and not records[0].get("model_failed")


def test_a_run_judged_against_floors_does_not_pass_when_the_model_failed_on_a_question(tmp_path, cli_on_seed,
                                                                                       monkeypatch, capsys):
    """The figures leave out the questions the model failed on, so a floor could hold on what was left (a review saw
    correctness rise from 0.765 to 0.811 as the model failed on 14 of 64 questions, and a dead server pass)."""
    from assistant.answer.service import Assistant, ModelFailure
    from assistant.errors import ModelError
    from assistant.present import evaluate

    real_ask = Assistant.ask
    asked = []

    def failing_at_the_second_question(self, *args, **kwargs):
        asked.append(args)
        answer = real_ask(self, *args, **kwargs)
        if len(asked) == 3:  # the warm-up question, the first question, then the second fails
            raise ModelFailure(ModelError("The language model 'openai:fake' failed: Error code: 500", "Ask again"),
                               answer)
        return answer

    monkeypatch.setattr(Assistant, "ask", failing_at_the_second_question)
    monkeypatch.setattr(evaluate, "load_floors", lambda names: {"lenient": {"answer_correctness": {"min": 0.0}}})
    questions = _write(tmp_path, GOOD, {**GOOD, "id": "q2"}, {**GOOD, "id": "q3"})
    assert cli_on_seed("eval", "--questions", str(questions), "--out", str(tmp_path / "out"),
                       "--floors", "lenient") == 1
    floors = json.loads((tmp_path / "out" / "metrics.json").read_text())["floors"]
    assert floors["broken"] == 1 and {"entry": "every entry", "figure": "model_failures", "value": 1, "max": 0,
                                      "held": False} in floors["checks"]
    assert "model_failures" in capsys.readouterr().out


def test_a_run_says_when_it_replaces_the_results_of_an_earlier_one_and_of_what(tmp_path, cli_on_seed, capsys):
    """Two runs without --out (a before and an after) wrote to one folder, and the second put its results in place
    of the first's without a word (a maintainer's review)."""
    out = tmp_path / "out"
    before = _write(tmp_path, GOOD, name="before.jsonl")
    assert cli_on_seed("eval", "--questions", str(before), "--out", str(out)) == 0
    assert "in place of the results" not in capsys.readouterr().out
    after = _write(tmp_path, GOOD, {**GOOD, "id": "q2"}, name="after.jsonl")
    assert cli_on_seed("eval", "--questions", str(after), "--out", str(out)) == 0
    said = capsys.readouterr().out
    assert f"(in place of the results of an earlier run of {before} (1 question scored, " in said
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["replaced_results"]["questions_file"] == str(before)
    # Each answer says how it counted, so that two runs can be compared question by question.
    outcomes = [json.loads(line)["outcome"] for line in (out / "answers.jsonl").read_text().splitlines()]
    assert outcomes.count("correct") == metrics["overall"]["counts"]["answer_correctness"][0]
    assert set(outcomes) <= {"correct", "wrong", "wrongly_refused"} and len(outcomes) == 2


def test_an_out_folder_that_holds_a_corpus_folder_is_refused(tmp_path, capsys):
    """The marker a run leaves in --out makes ingest pass over the folder and all under it: an --out above the
    minutes hid them from the next run, which then said only that they held no minutes."""
    from assistant.present.cli import main

    minutes = tmp_path / "parent" / "minutes"
    shutil.copytree(CORPUS, minutes)
    questions = _write(tmp_path, GOOD)
    assert main(["eval", "--questions", str(questions), "--corpus", str(minutes), "--out",
                 str(tmp_path / "parent")]) == 2
    assert f"The --out folder {tmp_path / 'parent'} holds the --corpus input {minutes}" in capsys.readouterr().err
    assert not list((tmp_path / "parent").glob("*.json*"))


def test_a_broken_floor_says_what_its_share_is_of():
    """The gate had said 'answer_correctness = 0.5882 is below its floor 0.7', where the CLI says 0.588 (30 of 51):
    how many questions short a change is was hidden."""
    from assistant.present.eval_scoring import floor_failures

    figures = {"answer_correctness": 0.5882, "counts": {"answer_correctness": [30, 51]}}
    assert floor_failures(figures, {"answer_correctness": {"min": 0.7}}) == [
        "answer_correctness = 0.5882 (30 of 51) is below its floor 0.7"]
