"""`assistant eval`'s question files: every mistake refused at load with its line and reason, the reasonable
files other tools write accepted, and questions without gold data left out of the metrics that need it."""

import json
import re
from pathlib import Path

import pytest

from assistant.errors import AssistantError
from assistant.present.evaluate import KINDS, load_pairs, load_questions, run_evaluation, score

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
    (({**GOOD, "gold_urls": [["u"]]},), "gold_urls is [['u']]"),
    (({**GOOD, "kind": None},), "the kind must be one of fact, numeric, who, resolution, multi, unanswerable, "
                                "not None"),
    (({**GOOD, "kind": ["who"]},), "the kind must be one of"),
    (({**GOOD, "kind": "person"},), "not 'person'"),
    (({**GOOD, "id": ["b", 1]},), "the id must be text, not ['b', 1]"),
    (({**GOOD, "id": None},), "the id must be text, not None"),
    (({**GOOD, "id": " "},), "the id is blank"),
    (({**GOOD, "question": None},), "the question must be text, not None"),
    (({**GOOD, "question": 42},), "the question must be text, not 42"),
    (({**GOOD, "question": ""},), "the question is blank"),
    ((GOOD, {**GOOD, "id": "q2", "question": "  \t "}), ":2 is not a valid question record (the question is blank"),
    (({**GOOD, "filters": {"council": "Barnsley", "notes": "x"}},),
     "filters has the unknown key 'notes'; the filter keys are council, committee, since, until"),
    (({**GOOD, "filters": "Barnsley"},), "filters must be a JSON object"),
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
    assert ("warning: 1 question name gold_urls that no indexed item has (typo)" in capsys.readouterr().err)
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
    ingest([empty], fake_settings, progress=False)
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
    from assistant.present.evaluate import EvalQuestion, is_correct

    q = EvalQuestion("x", "How many?", "numeric", (), (gold,), {})
    assert is_correct(q, _answer(answer)) is correct


def test_percentiles_are_nearest_rank_and_words_leave_out_the_markers():
    from assistant.present.evaluate import _percentile

    assert _percentile([7, 8, 15, 20, 23, 31, 61], 0.9) == 61
    assert _percentile(list(range(1, 31)), 0.95) == 29
    assert _percentile(list(range(1, 11)), 0.9) == 9
    from assistant.present.evaluate import EvalQuestion

    q = EvalQuestion("x", "How many?", "numeric", (), ("148",), {})
    record = {**_answer("148 In 2018 148 children left care. [1] [2]"), "kind": "numeric", "retrieved": [],
              "wall_ms": 50.0}
    alce = {"sentences": 0, "supported": 0, "citations": 0, "supporting_citations": 0, "dropped": 0}
    assert score([q], [record], [alce], None)["overall"]["answer_words_median"] == 7


def test_a_gold_string_written_with_its_marker_is_matched_without_it():
    from assistant.present.evaluate import EvalQuestion, is_correct

    q = EvalQuestion("x", "How many?", "numeric", (), ("148 [1]",), {})
    assert is_correct(q, _answer("In 2018 148 children left care. [1]"))
