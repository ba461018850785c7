"""`assistant eval` as a maintainer reads it: what a language model wrote itself, what produced a run, question files
checked against their gold items, counts and reasons, floors, an index that changed meanwhile, questions about
minutes the index lacks, the reader's own figures, where results may be written, and what a failed write names."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from langchain_core.language_models import GenericFakeChatModel
from langchain_core.messages import AIMessageChunk
from langchain_core.outputs import ChatGenerationChunk

from assistant.errors import AssistantError, IndexMismatchError
from assistant.files import EVAL_RESULTS_MARKER
from assistant.present.eval_questions import EvalQuestion, load_questions
from assistant.present.eval_scoring import is_correct, reader_metrics, summary_lines
from assistant.present.evaluate import ReportNotWritten, run_evaluation

from cli_helpers import cli_env, run_cli
from conftest import CORPUS, ROOT

ROTHERHAM = "rotherham-2018-ilsc-performance-feedback"
BRADFORD = "https://bradford.moderngov.co.uk/mgAi.aspx?ID=14280"
BARNSLEY = "https://barnsleymbc.moderngov.co.uk/mgAi.aspx?ID=23547"
SEFTON = "https://modgov.sefton.gov.uk/ieIssueDetails.aspx?IId=53893&Opt=3"
DISCHARGED = {"id": "discharged", "question": "How many children were discharged from care in Rotherham in 2018?",
              "kind": "numeric", "gold_urls": [ROTHERHAM], "must_include": ["148"]}
CO_ORDINATORS = {"id": "co-ordinators", "question": "How many Early Help Co-ordinators were in post in Bradford?",
                 "kind": "numeric", "gold_urls": [BRADFORD], "must_include": ["12"]}
BED_AND_BREAKFAST = {"id": "b-and-b", "question": "Are Sefton care leavers placed in bed and breakfast accommodation?",
                     "kind": "fact", "gold_urls": [SEFTON], "must_include": ["not placed"]}
FAMILY_HUBS = {"id": "hubs", "question": "How much did Blackpool spend on Family Hubs?", "kind": "unanswerable"}
BUS_FARES = {"id": "fares", "question": "What was the bus fare increase agreed by Rotherham?", "kind": "unanswerable"}


def _write(folder: Path, *rows, name: str = "questions.jsonl") -> Path:
    path = folder / name
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return path


def _warnings(capsys) -> list[str]:
    return [line for line in capsys.readouterr().err.splitlines() if line.startswith("warning:")]


@pytest.fixture
def seed_index(fake_settings):
    """fake_settings with corpus/ ingested into its index (the hashing embedder: fast)."""
    from assistant.ingest.run import ingest

    ingest([CORPUS], fake_settings, progress=False)
    return fake_settings


# -- 1. in language-model mode, what the model wrote itself -------------------------------------------------

class QuotingChatModel(GenericFakeChatModel):
    """A language model that answers with the sentence of its evidence holding one of `figures`, citing its block
    (an answer the guard passes), and otherwise says the evidence does not answer. For a figure in `stops_after`,
    its connection fails just after that sentence, as a server that stops part-way does."""

    figures: tuple = ()
    stops_after: tuple = ()
    replies: int = 0

    def _stream(self, messages, stop=None, run_manager=None, **kwargs):
        import httpx
        import openai

        self.replies += 1
        reply, figure = "The evidence does not answer this question.", None
        for block in str(messages[-1].content).split('<evidence id="')[1:]:
            number, _, rest = block.partition('">')
            text = " ".join(" ".join(rest.partition("</evidence>")[0].strip().split("\n")[1:]).split())  # no Source:
            figure = next((f for f in self.figures if f in text), None)
            if figure is not None:
                sentence = next(s for s in text.split(". ") if figure in s)
                reply = f"{sentence.strip().rstrip('.')} [{number}]."
                break
        stops = figure in self.stops_after
        self.messages = iter([reply + (" Then" if stops else "")])
        yield from super()._stream(messages, stop, run_manager, **kwargs)
        if stops:
            request = httpx.Request("POST", "http://127.0.0.1:9/v1/chat/completions")
            raise openai.APIConnectionError(request=request)
        yield ChatGenerationChunk(message=AIMessageChunk(content=""), generation_info={"finish_reason": "stop"})


def test_answers_the_model_did_not_write_are_counted_apart_and_a_run_of_them_warned_of(tmp_path, seed_index):
    questions = _write(tmp_path, DISCHARGED, CO_ORDINATORS, BED_AND_BREAKFAST, FAMILY_HUBS)
    llm = seed_index.with_(llm="openai:fake")
    model = QuotingChatModel(messages=iter([]), figures=("148 children", "12 Early"), stops_after=("12 Early",))
    metrics = run_evaluation(questions, llm, tmp_path / "mixed", progress=False, chat_model=model)
    overall = metrics["overall"]
    assert model.replies == 4  # the warm-up and three questions: the reader refused the unanswerable one itself
    # The discharges are the model's own; the co-ordinators' answer stopped after its first sentence; the model
    # declined the bed-and-breakfast question, whose answer is the reader's quote.
    assert (overall["answered"], overall["fallback_answers"], overall["cut_short_answers"]) == (3, 1, 1)
    assert overall["counts"]["fallback_answers"] == [1, 3] and metrics["fact"]["fallback_answers"] == 1
    assert metrics["numeric"]["cut_short_answers"] == 1 and metrics["numeric"]["fallback_answers"] == 0
    assert overall["answer_correctness"] == 1.0  # all three right, whoever wrote them
    assert overall["answer_correctness_model_written"] == 1.0
    assert overall["counts"]["answer_correctness_model_written"] == [1, 1]  # the discharges alone
    printed = "\n".join(summary_lines(metrics))
    assert "  fallback_answers: 1 of 3 answered" in printed and "numeric 0 of 2" in printed
    assert "  cut_short_answers: 1 of 3 answered" in printed and "WARNING" not in printed
    report = (tmp_path / "mixed" / "report.md").read_text()
    assert "| Answers quoted from the minutes in place of the model's reply (fallback) | 1 of 3 | 1 of 1 |" in report
    assert "| Answer correctness, answers the model wrote in full | 1.000 (1 of 1) |" in report
    assert "## Warnings" not in report

    junk = QuotingChatModel(messages=iter([]), figures=())  # never a usable reply: every answer is the reader's
    metrics = run_evaluation(questions, llm, tmp_path / "junk", progress=False, chat_model=junk)
    assert metrics["overall"]["fallback_answers"] == metrics["overall"]["answered"] == 3
    assert metrics["overall"]["answer_correctness_model_written"] is None
    warning = [line for line in summary_lines(metrics) if line.startswith("  WARNING: ")]
    assert warning and "3 of the 3 answered questions got the reader's quote in place of the language model's " \
                       "reply" in warning[0]
    assert "- **3 of the 3 answered questions got the reader's quote" in (tmp_path / "junk" / "report.md").read_text()


# -- 2. what produced a run -------------------------------------------------------------------------------

def test_a_run_records_its_reader_embedder_search_index_code_and_date(tmp_path, seed_index):
    import datetime as dt

    from assistant import __version__
    from assistant.present.evaluate import git_commit

    settings = seed_index.with_(reader="fake:overlap", exact_search=True)
    metrics = run_evaluation(_write(tmp_path, DISCHARGED), settings, tmp_path / "out", progress=False)
    produced = metrics["produced_by"]
    assert produced["reader"] == {"spec": "fake:overlap", "name": "fake:overlap"}
    assert produced["embedding_model"] == "fake:hashing" and produced["embed_precision"] is None
    assert produced["exact_search"] is True and produced["package_version"] == __version__
    assert produced["exact_search_setting"] == "on"
    # The chunk size is known when the run chunked the minutes (--corpus); an index does not record its own.
    assert produced["chunk_tokens"] is None and produced["nli_model"] is None
    assert produced["prompt_version"] is None  # extractive: no prompt reaches a model
    assert "chunks of up to" not in (tmp_path / "out" / "report.md").read_text()
    assert produced["index_items"] == 5 and produced["index_chunks"] > 5
    assert produced["git_commit"] == git_commit()
    ran = dt.datetime.strptime(produced["run_at"], "%Y-%m-%d %H:%M:%S UTC").replace(tzinfo=dt.timezone.utc)
    assert abs((dt.datetime.now(dt.timezone.utc) - ran).total_seconds()) < 600
    report = (tmp_path / "out" / "report.md").read_text()
    assert f"- Run: {produced['run_at']}, assistant {__version__}" in report
    assert "- Reader: `fake:overlap`" in report
    assert "- Embedding model: `fake:hashing`; exact search: on" in report
    assert f"- Index: 5 items, {produced['index_chunks']} chunks" in report


def test_the_git_commit_is_read_from_the_checkout_without_running_git(tmp_path):
    from assistant.present.evaluate import git_commit

    sha = "0123456789abcdef0123456789abcdef01234567"
    loose = tmp_path / "loose"
    (loose / ".git" / "refs" / "heads").mkdir(parents=True)
    (loose / ".git" / "HEAD").write_text("ref: refs/heads/main\n")
    (loose / ".git" / "refs" / "heads" / "main").write_text(sha + "\n")
    packed = tmp_path / "packed"
    (packed / ".git").mkdir(parents=True)
    (packed / ".git" / "HEAD").write_text("ref: refs/heads/main\n")
    (packed / ".git" / "packed-refs").write_text(f"# pack-refs with: peeled\n{sha} refs/heads/main\n")
    detached = tmp_path / "detached"
    (detached / ".git").mkdir(parents=True)
    (detached / ".git" / "HEAD").write_text(sha + "\n")
    assert git_commit(loose) == git_commit(packed) == git_commit(detached) == sha
    assert git_commit(tmp_path / "not-a-checkout") is None


# -- 3. must_include against the gold items; quotes and dashes as typed ------------------------------------

@pytest.mark.parametrize("answer, gold", [
    ("the Safeguarding Children\u2019s Board [1]", "Safeguarding Children's Board"),
    ("the Safeguarding Children's Board [1]", "Safeguarding Children\u2019s Board"),
    ("in 2017\u201318 the rate fell [1]", "2017-18"),
    ("described as \u201cgood\u201d [1]", '"good"'),
    ("a rise \u2014 not a fall [1]", "rise - not"),
])
def test_typographic_quotes_and_dashes_match_the_keys_people_type(answer, gold):
    q = EvalQuestion("x", "What?", "fact", (), (gold,), {})
    assert is_correct(q, {"answer": answer, "refused": False, "citations": [], "sentences": []})


def test_strings_no_gold_item_holds_and_unanswerable_questions_with_gold_are_warned_of_by_id(tmp_path, fake_settings,
                                                                                           capsys):
    rows = [{"id": "typed-apostrophe", "question": "Under whose partnership arrangements was training on dental hygiene "
             "delivered in Barnsley?", "kind": "fact", "gold_urls": [BARNSLEY],
             "must_include": ["Safeguarding Children's Board"]},
            {**DISCHARGED, "id": "typo", "must_include": ["184"]},
            {**CO_ORDINATORS, "id": "labelled-unanswerable", "kind": "unanswerable"}]
    out = tmp_path / "out"
    metrics = run_evaluation(_write(tmp_path, *rows), fake_settings, out, corpus=[CORPUS], progress=False)
    warnings = _warnings(capsys)
    # This run chunked the minutes: the head says at what size.
    assert metrics["produced_by"]["chunk_tokens"] == fake_settings.chunk_tokens
    assert f"chunks of up to {fake_settings.chunk_tokens} tokens" in (out / "report.md").read_text()
    assert any("1 question has must_include strings that none of its gold items holds" in w and "(typo: '184')" in w
               for w in warnings), warnings
    assert any("1 unanswerable question has gold_urls or must_include (labelled-unanswerable)" in w
               for w in warnings), warnings
    assert not any("typed-apostrophe" in w for w in warnings)  # "Children's" is in minutes that print "Children’s"
    assert metrics["must_include_in_no_gold_item"] == {"typo": ["184"]}
    assert metrics["unanswerable_with_gold"] == ["labelled-unanswerable"]
    report = (out / "report.md").read_text()
    assert "(typo: '184')" in report and "(labelled-unanswerable)" in report


def test_a_word_held_only_inside_another_and_a_string_in_many_items_are_warned_of_before_the_run(tmp_path,
                                                                                               fake_settings, capsys):
    """From a code review of the eval command: the check of the gold items read words as scoring had, inside other
    words ('Ward' in Rotherham's "towards"), and a string that every answer holds ('the') passed unremarked."""
    rows = [{**DISCHARGED, "id": "surname", "must_include": ["Ward"]},
            {**DISCHARGED, "id": "common", "must_include": ["148", "the"]}]
    out = tmp_path / "out"
    metrics = run_evaluation(_write(tmp_path, *rows), fake_settings, out, corpus=[CORPUS], progress=False)
    warnings = _warnings(capsys)
    assert metrics["must_include_in_no_gold_item"] == {"surname": ["Ward"]}
    assert any("1 question has must_include strings that none of its gold items holds" in w and "(surname: 'Ward')" in w
               for w in warnings), warnings
    assert metrics["must_include_in_many_items"] == {"common": ["the"]}
    assert any("1 question has must_include strings found in more than 3 items of the minutes (common: 'the')" in w
               for w in warnings), warnings
    assert "found in more than 3 items of the minutes (common: 'the')" in (out / "report.md").read_text()


def _cited(answer: str, *councils: str) -> dict:
    citations = [{"marker": i, "source_url": f"u{i}", "council": c} for i, c in enumerate(councils, 1)]
    return {"answer": answer, "refused": False, "citations": citations,
            "sentences": [{"markers": [c["marker"] for c in citations], "shown": True}]}


@pytest.mark.parametrize("wanted, councils, held", [
    ("Leicester", ("Leicestershire County Council",), False),
    ("Council", ("Leicestershire County Council",), False),
    ("County", ("Leicestershire County Council",), False),
    ("County Council", ("Leicestershire County Council",), False),
    ("shire", ("Leicestershire County Council",), False),
    ("Leicester", ("Leicestershire County Council", "Leicester City Council"), True),
    ("Leicester City Council", ("Leicester City Council",), True),
    ("Leicestershire", ("Leicestershire County Council",), True),
    ("Bradford", ("City of Bradford Metropolitan District Council",), True),
])
def test_a_multi_questions_council_name_is_held_by_a_cited_council_only_as_whole_words_of_a_place(wanted, councils,
                                                                                                  held):
    """From a code review of the eval command: any string that was part of a cited council's name counted, 'Council'
    or 'Leicester' by a citation of Leicestershire County Council."""
    from assistant.present.eval_scoring import strings_in_no_gold_item

    multi = EvalQuestion("m", "Which councils?", "multi", ("gold",), ("28.5%", wanted), {})
    assert is_correct(multi, _cited("Both reported 28.5%. [1]", *councils)) is held
    fact = EvalQuestion("f", "Which council?", "fact", ("gold",), ("28.5%", wanted), {})
    assert not is_correct(fact, _cited("Both reported 28.5%. [1]", *councils))  # the council route is multi's alone
    texts = {"gold": {"text": "It reported 28.5%.", "council": councils[-1]}}
    assert strings_in_no_gold_item([multi], texts) == ({} if held else {"m": [wanted]})


def test_a_multi_questions_council_name_is_not_held_to_the_rule_of_three_items():
    from assistant.present.eval_scoring import strings_in_many_items

    texts = {f"u{n}": {"text": f"Sefton reported {n} reviews on the day.", "council": "Sefton Council"}
             for n in range(4)}
    questions = [EvalQuestion("m", "Which?", "multi", ("u1",), ("Sefton", "reviews", "3 reviews"), {}),
                 EvalQuestion("f", "Which?", "fact", ("u1",), ("Sefton",), {})]
    assert strings_in_many_items(questions, texts) == {"m": ["reviews"], "f": ["Sefton"]}


# -- 4. counts, reasons, gold sources cited, floors -------------------------------------------------------

def _answer(text: str, refused: bool = False, cited: tuple = (), retrieved: tuple = (), **more) -> dict:
    citations = [{"marker": i, "source_url": url, "council": ""} for i, url in enumerate(cited, 1)]
    return {"answer": text, "refused": refused, "citations": citations,
            "sentences": [{"markers": [c["marker"] for c in citations], "shown": True}],
            "retrieved": [{"source_url": url} for url in retrieved], **more}


def test_a_failed_question_says_in_a_few_words_what_went_wrong():
    from assistant.present.eval_scoring import failure_reason

    q = EvalQuestion("q", "How many?", "numeric", (ROTHERHAM,), ("148",), {})
    assert failure_reason(q, _answer("", True, refusal_reason="not_stated", confidence=0.3612)) == \
        "refused (not_stated) at confidence 0.36; expected '148'"
    assert failure_reason(q, _answer("", True, refusal_reason="no_match_filters")) == \
        "refused: its filters match nothing in the index; expected '148'"
    assert failure_reason(q, _answer("149 [1]", cited=[ROTHERHAM], retrieved=[ROTHERHAM])) == "answered; missing '148'"
    assert failure_reason(q, _answer("148 [1]", cited=[BRADFORD], retrieved=[BRADFORD, ROTHERHAM])) == \
        "answered; gold not cited"
    assert failure_reason(q, _answer("12 [1]", cited=[BRADFORD], retrieved=[BRADFORD])) == \
        "answered; gold not retrieved; missing '148'"
    assert failure_reason(q, _answer("", True, refusal_reason="bad_question")) == \
        "refused unasked: `ask` turns the question away (small talk, or no topic to look for); expected '148'"
    unanswerable = EvalQuestion("u", "How many dragons?", "unanswerable", (), (), {})
    assert failure_reason(unanswerable, _answer("Some [1]", cited=[BRADFORD], confidence=0.71)) == \
        "answered at confidence 0.71"


def test_the_floors_are_compared_as_the_gate_compares_them():
    from assistant.present.eval_scoring import check_floors, floor_failures

    floors = {"answer_correctness": {"min": 0.7}, "answer_words_median": {"max": 60}, "quote_validity": {"min": 1.0},
              "retrieval_recall_at_5": {"min": 0.9}}
    figures = {"answer_correctness": 0.69, "answer_words_median": 61, "quote_validity": None,
               "retrieval_recall_at_5": 0.9}
    assert floor_failures(figures, floors) == ["answer_correctness = 0.69 is below its floor 0.7",
                                               "answer_words_median = 61 is above its ceiling 60",
                                               "quote_validity was not measured"]
    assert [c.held for c in check_floors(figures, floors)] == [False, False, False, True]
    assert floor_failures({"answer_correctness": 0.7}, {"answer_correctness": {"min": 0.7}}) == []


@pytest.fixture
def cli(seed_index, monkeypatch):
    """`assistant` run in this process on the seed index (hashing embedder): its exit status."""
    from assistant.index.embedder import HASHING_MODEL
    from assistant.present.cli import main

    monkeypatch.setenv("ASSISTANT_EMBEDDING_MODEL", HASHING_MODEL)
    return lambda *args: main([*args, "--index", str(seed_index.data_dir)])


def test_counts_stand_beside_shares_and_a_broken_floor_makes_the_status_1(tmp_path, cli, capsys, monkeypatch):
    from assistant.present import evaluate
    from assistant.present.eval_questions import load_floors

    questions = _write(tmp_path, DISCHARGED, {**DISCHARGED, "id": "again"}, CO_ORDINATORS,
                       {**BED_AND_BREAKFAST, "must_include": ["148"]}, FAMILY_HUBS)
    out = tmp_path / "out"
    # With --index the quotes are not re-read: the seed floors, which hold quote_validity at 1.0, cannot be met, and
    # are refused before any question is asked (after the whole run, they had only read "not measured").
    assert cli("eval", "--questions", str(questions), "--out", str(out), "--floors", "seed") == 2
    said = capsys.readouterr().err
    assert "The floors 'seed' bound quote_validity, which only a run with --corpus measures" in said
    assert not out.exists()
    assert cli("eval", "--questions", str(questions), "--out", str(out), "--floors", "guard") == 2
    assert "bound unsupported_recall, supported_kept, which only a run with --pairs" in capsys.readouterr().err

    floors = tmp_path / "floors.json"
    floors.write_text(json.dumps({"strict": {"answer_correctness": {"min": 0.8}, "unanswerable_refused": {"min": 1.0},
                                             "answerable_wrongly_refused": {"max": 0.0}}}))
    monkeypatch.setattr(evaluate, "load_floors", lambda names: load_floors(names, floors))
    assert cli("eval", "--questions", str(questions), "--out", str(out), "--floors", "strict") == 1
    printed = capsys.readouterr().out
    assert "  answer_correctness: 0.750 (3 of 4)" in printed
    assert "  citation_source_recall: 1.000 (4 of 4)" in printed
    assert "  unanswerable_refused: 1.000 (1 of 1)" in printed
    assert "  floors (strict): 1 of 3 bounds broken" in printed
    assert "    strict answer_correctness: 0.750 (3 of 4), at least 0.8: BROKEN" in printed
    assert "    strict unanswerable_refused: 1.000 (1 of 1), at least 1.0: held" in printed
    assert (out / "answers.jsonl").is_file()  # the run's result, written whatever the floors say
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["floors"]["broken"] == 1 and metrics["overall"]["counts"]["answer_correctness"] == [3, 4]
    report = (out / "report.md").read_text()
    assert "| Answer correctness | 0.750 (3 of 4) |" in report
    assert "| strict | answer_correctness | 0.750 (3 of 4) | at least 0.8 | **broken** |" in report
    assert "- `b-and-b` (fact; answered; missing '148'): Are Sefton care leavers" in report

    assert cli("eval", "--questions", str(questions), "--out", str(out)) == 0  # no floors asked for: as before
    assert cli("eval", "--questions", str(questions), "--out", str(out), "--floors", "no-such-floors") == 2
    assert "has no floors named 'no-such-floors'" in capsys.readouterr().err




def test_a_run_in_a_language_models_mode_records_its_prompts(seed_index):
    from assistant.answer.prompts import prompt_version
    from assistant.answer.service import Assistant
    from assistant.present.evaluate import run_record

    endpoint = (("OPENAI_BASE_URL", "http://127.0.0.1:9/v1"),)  # never asked: the record is made before any question
    assistant = Assistant(seed_index.with_(llm="openai:fake", openai_base_urls=endpoint))
    try:
        assert run_record(assistant, assistant.settings, 5)["prompt_version"] == prompt_version()
    finally:
        assistant.close()

def test_a_run_left_to_auto_says_whether_its_index_was_searched_exactly(tmp_path, seed_index):
    """With ASSISTANT_EXACT_SEARCH unset, the index's size decides: the record says what was done, and that auto did."""
    assert seed_index.exact_search is None
    metrics = run_evaluation(_write(tmp_path, DISCHARGED), seed_index.with_(reader="fake:overlap"), tmp_path / "out",
                             progress=False)
    assert metrics["produced_by"]["exact_search"] is True  # five items: well under the limit
    assert metrics["produced_by"]["exact_search_setting"] == "auto"
    assert "exact search: on (auto: by the index's size)" in (tmp_path / "out" / "report.md").read_text()

# -- 5. an index that changes while the run asks -----------------------------------------------------------

def correcting_after_two_questions(settings, corpus_copy, failing_next: bool = False):
    """Assistant.ask as an eval run meets it while another process ingests a correction ('148 children' made 149) of
    the minutes after the warm-up and two questions; with `failing_next`, the model then fails on the third."""
    from assistant.answer.service import Assistant, ModelFailure
    from assistant.errors import ModelError

    env = cli_env(settings.data_dir)
    assert run_cli("ingest", str(corpus_copy), env=env).returncode == 0
    asked = []
    real_ask = Assistant.ask

    def ask(self, *args, **kwargs):
        answer = real_ask(self, *args, **kwargs)
        asked.append(args)
        if len(asked) == 3:
            rotherham = corpus_copy / f"{ROTHERHAM}.md"
            rotherham.write_text(rotherham.read_text(encoding="utf-8").replace("148 children", "149 children"),
                                 encoding="utf-8")
            changed = run_cli("ingest", str(corpus_copy), env=env)
            assert changed.returncode == 0, changed.stderr
        if failing_next and len(asked) == 4:  # the third question reads the new index, and its model fails
            raise ModelFailure(ModelError("The language model 'openai:fake' failed: Error code: 503", "Ask again"),
                               answer)
        return answer

    return ask


def test_an_index_changed_by_an_ingest_during_the_run_is_said_to_mix_two_states(tmp_path, fake_settings, corpus_copy,
                                                                               monkeypatch):
    from assistant.answer.service import Assistant

    monkeypatch.setattr(Assistant, "ask", correcting_after_two_questions(fake_settings, corpus_copy))
    rows = [{**DISCHARGED, "id": f"d-{n}"} for n in range(4)]
    out = tmp_path / "out"
    metrics = run_evaluation(_write(tmp_path, *rows), fake_settings, out, progress=False)
    answers = [json.loads(line)["answer"] for line in (out / "answers.jsonl").read_text().splitlines()]
    assert "148" in answers[1] and "149" in answers[2]  # the figures do mix two states
    assert metrics["index_changed_after_question"] == [2]
    # Each answer's citations judged against the index it was given from: those before the change cite chunks the
    # ingest replaced, and had counted as unsupported.
    assert metrics["overall"]["alce_citation_recall"] == 1.0, metrics["overall"]["counts"]["alce_citation_recall"]
    said = "The index changed after question 2 of 4 while the run was asking"
    assert any(said in line and "mix two states" in line for line in summary_lines(metrics))
    assert said in (out / "report.md").read_text()
    # The head gives the index at the start and at the end: one item replaced, the same number of items.
    start, end = metrics["produced_by"]["index_chunks"], metrics["produced_by"]["index_at_end"]["chunks"]
    assert metrics["produced_by"]["index_at_end"]["items"] == metrics["produced_by"]["index_items"]
    assert (f"chunks when the run started, and {metrics['produced_by']['index_items']} items, {end} chunk"
            in (out / "report.md").read_text()) and start > 0
    assert not _key_names(metrics, {"numeric"}) - _documented_keys()  # index_at_end among them

    unchanged = run_evaluation(_write(tmp_path, *rows[:1]), fake_settings, tmp_path / "again", progress=False)
    assert unchanged["index_changed_after_question"] == [] and "index_at_end" not in unchanged["produced_by"]
    assert "The index changed" not in "\n".join(summary_lines(unchanged))


def test_an_index_change_seen_by_a_question_the_model_failed_on_is_still_said(tmp_path, fake_settings, corpus_copy,
                                                                             monkeypatch):
    """The question that first read the changed index failed at the model: the change had gone unrecorded, and the
    warning numbered questions among the scored ones only (8 scored and 1 failed had read "of 8")."""
    from assistant.answer.service import Assistant

    monkeypatch.setattr(Assistant, "ask", correcting_after_two_questions(fake_settings, corpus_copy, failing_next=True))
    rows = [{**DISCHARGED, "id": f"d-{n}"} for n in range(4)]
    metrics = run_evaluation(_write(tmp_path, *rows), fake_settings, tmp_path / "out", progress=False)
    assert metrics["model_failures"] == ["d-2"] and metrics["overall"]["questions"] == 3
    assert metrics["index_changed_after_question"] == [2]
    said = "The index changed after question 2 of 4 while the run was asking"
    assert any(said in line for line in summary_lines(metrics)), summary_lines(metrics)
    assert said in (tmp_path / "out" / "report.md").read_text()

# -- 6. gold items and councils the index does not hold ---------------------------------------------------

def test_gold_items_and_councils_the_index_lacks_are_recorded_in_metrics_and_report(tmp_path, fake_settings, capsys):
    barnsley_only = tmp_path / "barnsley"
    barnsley_only.mkdir()
    shutil.copy(CORPUS / "barnsley-2018-csc-performance.md", barnsley_only)
    rows = [DISCHARGED, BUS_FARES, {"id": "barnsley", "question": "Who was the Service Director for Children's Social "
                                    "Care and Safeguarding at Barnsley?", "kind": "who", "gold_urls": [BARNSLEY],
                                    "must_include": ["Mel John-Ross"]}]
    out = tmp_path / "out"
    metrics = run_evaluation(_write(tmp_path, *rows), fake_settings, out, corpus=[barnsley_only], progress=False)
    assert metrics["gold_urls_not_indexed"] == ["discharged"]
    assert metrics["councils_not_indexed"] == {"discharged": ["Rotherham"], "fares": ["Rotherham"]}
    assert any(w.startswith("warning: 2 questions name a council the index does not hold (discharged: Rotherham, "
                            "fares: Rotherham)") for w in _warnings(capsys))
    report = (out / "report.md").read_text()
    assert "- 1 question names gold_urls that no indexed item has (discharged)" in report
    assert "- 2 questions name a council the index does not hold (discharged: Rotherham, fares: Rotherham)" in report


def test_a_council_named_by_its_initialism_is_one_the_index_may_lack(tmp_path, hashing_assistant):
    """'RBWM' names the Royal Borough of Windsor and Maidenhead, as the answer reads it: the seed index lacks it."""
    from assistant.present.evaluate import councils_not_indexed

    rows = [{**DISCHARGED, "id": "rbwm", "question": "How many children were discharged from care in RBWM in 2018?"},
            {**DISCHARGED, "id": "lower", "question": "How many children were discharged from care in rbwm in 2018?"}]
    assert councils_not_indexed(hashing_assistant, load_questions(_write(tmp_path, *rows))) == {
        "rbwm": ["Windsor and Maidenhead"]}


# -- 7. the reader's own figures ---------------------------------------------------------------------------

def test_the_readers_figures_leave_out_questions_it_never_read_and_judge_only_answerable_ones(tmp_path):
    rows = [{**DISCHARGED, "id": "unread-answerable", "filters": {"council": "Nowhere"}},
            {**FAMILY_HUBS, "id": "unread-unanswerable", "filters": {"council": "Nowhere"}},
            {**DISCHARGED, "id": "read-low"}, {**FAMILY_HUBS, "id": "read-unanswerable"},
            {**DISCHARGED, "id": "read-high"}, {**FAMILY_HUBS, "id": "alone-in-its-band"}]
    questions = load_questions(_write(tmp_path, *rows))
    unread = {"refused": True, "refusal_reason": "no_match_filters", "confidence": 0.0, "reader_best": "",
              "citations": []}
    records = [unread, unread,
               {"refused": False, "confidence": 0.15, "reader_best": "In 2018 148 children left.", "citations": []},
               {"refused": True, "refusal_reason": "not_stated", "confidence": 0.1, "reader_best": "x",
                "citations": []},
               {"refused": False, "confidence": 0.9, "reader_best": "Some 150 children.", "citations": []},
               {"refused": True, "refusal_reason": "not_stated", "confidence": 0.5, "reader_best": "y",
                "citations": []}]
    reader = reader_metrics(questions, records)
    assert reader["questions_not_read"] == 2
    assert reader["answerability_auc"] == 0.75  # answerable 0.15 and 0.9 against unanswerable 0.1 and 0.5
    assert reader["top1_sentence_accuracy"] == 0.5
    low, _, middle, _, high = reader["calibration"]
    assert (low["questions"], low["best_sentence_correct"]) == (2, 1.0)  # the unanswerable one is not a miss
    assert (middle["questions"], middle["best_sentence_correct"]) == (1, None)  # no answerable question: "–"
    assert high["best_sentence_correct"] == 0.0



def test_questions_ask_turns_away_unsearched_are_warned_of_kept_and_given_their_own_reason(tmp_path, seed_index,
                                                                                        capsys):
    """An unanswerable question that names no topic ("Who chairs it?") was refused as bad_question, counted as rightly
    refused without a word, and the report said the reader's figures left it out for "filters matching nothing"
    (from the eval maintainer's review)."""
    rows = [DISCHARGED, FAMILY_HUBS, {"id": "vague", "question": "Who chairs it?", "kind": "unanswerable"},
            {"id": "hello", "question": "hello", "kind": "unanswerable"},
            {**BUS_FARES, "id": "nowhere", "filters": {"council": "Nowhere"}}]
    out = tmp_path / "out"
    metrics = run_evaluation(_write(tmp_path, *rows), seed_index, out, progress=False)
    assert metrics["questions_turned_away"] == ["vague", "hello"]
    said = ("2 questions are turned away by `ask` before any search (vague, hello: small talk, or no topic to look "
            "for): an unanswerable one counts as rightly refused")
    assert any(w.startswith(f"warning: {said}") for w in _warnings(capsys))
    assert metrics["reader"]["questions_not_read"] == 3
    report = (out / "report.md").read_text()
    assert f"- {said}" in report
    assert ("Left out of these figures: 3 questions refused before the reader read anything (filters matching "
            "nothing: 1; turned away by `ask` unasked: 2)") in report
    plain = run_evaluation(_write(tmp_path, DISCHARGED, FAMILY_HUBS, name="plain.jsonl"), seed_index,
                           tmp_path / "plain", progress=False)
    assert plain["questions_turned_away"] == [] and "turned away" not in (tmp_path / "plain" / "report.md").read_text()


def test_an_id_holding_a_line_break_or_an_escape_keeps_to_its_line_in_the_report_and_summary(tmp_path, seed_index):
    """Ids are taken as written, and the warnings printed them escaped; the report's list of failures and its warnings
    (and the summary's) printed them raw, so that "d\\n## All passed" made a heading of its own (from the eval
    maintainer's review)."""
    odd = "d\n## All passed \x1b[2J"
    rows = [{**DISCHARGED, "id": odd, "must_include": ["999"]}, {**FAMILY_HUBS, "id": odd + "2"},
            {"id": "vague\x1b[2J", "question": "Who chairs it?", "kind": "unanswerable"}]
    out = tmp_path / "out"
    metrics = run_evaluation(_write(tmp_path, *rows), seed_index, out, progress=False)
    report = (out / "report.md").read_text()
    assert "\x1b" not in report and "## All passed" not in report.splitlines()
    assert "- `d ## All passed \\x1b[2J` (numeric; " in report
    assert "vague\\x1b[2J" in report  # the warning of a question turned away, escaped
    metrics["model_failures"] = [odd]
    summary = "\n".join(summary_lines(metrics))
    assert "\x1b" not in summary and "The language model failed on 1 question of 4 (d ## All passed \\x1b[2J)" in summary

# -- 8. --out inside minutes an index was built from --------------------------------------------------------

def test_an_out_folder_inside_the_minutes_of_the_index_or_the_projects_corpus_is_refused(tmp_path, fake_settings,
                                                                                      corpus_copy, monkeypatch):
    from assistant.ingest.run import ingest

    ingest([corpus_copy], fake_settings, progress=False)
    questions = _write(tmp_path, DISCHARGED)
    for out in (corpus_copy / "results", corpus_copy):
        with pytest.raises(AssistantError, match=f"a folder the minutes of the index {fake_settings.data_dir} were "
                                                 "read from") as caught:
            run_evaluation(questions, fake_settings, out, progress=False)
        assert f"The --out folder {out} is inside {corpus_copy}" in caught.value.message
        assert "outside the minutes" in caught.value.hint
    assert not (corpus_copy / "results").exists()
    inside_the_project = ROOT / "corpus" / "eval-results"
    for corpus in (None, [corpus_copy]):  # whatever the run asks of
        with pytest.raises(AssistantError, match="the project's minutes folder"):
            run_evaluation(questions, fake_settings, inside_the_project, corpus=corpus, progress=False)
    assert not inside_the_project.exists()
    project = tmp_path / "project"
    (project / "corpus").mkdir(parents=True)
    monkeypatch.chdir(project)  # corpus/ of the folder it runs from, which `assistant ingest` reads by default
    with pytest.raises(AssistantError, match="the project's minutes folder"):
        run_evaluation(questions, fake_settings, Path("corpus/results"), progress=False)
    assert run_evaluation(questions, fake_settings, Path("results"), progress=False)["overall"]["questions"] == 1


def test_a_file_ingested_by_its_name_does_not_make_its_folder_a_minutes_folder(tmp_path, fake_settings):
    """One file given to ingest by its name (read by its name again) had made its whole folder refuse every --out
    under it, the default one included, and the hint recommended that very default."""
    from assistant.ingest.run import ingest

    home = tmp_path / "home"
    home.mkdir()
    (home / "minutes.md").write_text((ROOT / "corpus" / "rotherham-2018-ilsc-performance-feedback.md").read_text(
        encoding="utf-8"), encoding="utf-8")
    ingest([home / "minutes.md"], fake_settings, progress=False)
    questions = _write(tmp_path, DISCHARGED)
    out = home / "checkout" / "eval" / "results" / "latest"
    assert run_evaluation(questions, fake_settings, out, progress=False)["overall"]["questions"] == 1


# -- 9. the embedding-model mismatch names the index folder -----------------------------------------------

def test_the_embedding_model_mismatch_hint_names_the_index_folder_unless_it_is_the_default(tmp_path, fake_settings,
                                                                                        monkeypatch):
    from assistant.index.manifest import Manifest
    from assistant.index.vector_store import ChromaStore
    from assistant.ingest.run import Index

    ChromaStore(fake_settings, "some-other-model")
    with pytest.raises(IndexMismatchError) as caught:
        ChromaStore(fake_settings, "fake:hashing")
    assert f"`assistant ingest --reset --index {fake_settings.data_dir} PATH`" in caught.value.hint

    elsewhere = fake_settings.with_(data_dir=tmp_path / "manifest-only")
    elsewhere.data_dir.mkdir()
    manifest = Manifest(elsewhere.manifest_path)
    manifest.set_meta("embedding_model", "some-other-model")
    manifest.close()
    with pytest.raises(IndexMismatchError) as caught:
        Index(elsewhere)
    assert f"`assistant ingest --reset --index {elsewhere.data_dir} PATH`" in caught.value.hint

    monkeypatch.chdir(tmp_path)
    default = fake_settings.with_(data_dir=Path(".assistant"))
    ChromaStore(default, "some-other-model")
    with pytest.raises(IndexMismatchError) as caught:
        ChromaStore(default, "fake:hashing")
    # The minutes' PATH too: without one, ingest reads the project's corpus/, not the minutes the index was built from.
    assert "Run `assistant ingest --reset PATH` with the minutes it was built from to rebuild it" in caught.value.hint
    assert "--index" not in caught.value.hint

    spaced = fake_settings.with_(data_dir=tmp_path / "council minutes" / "index")
    ChromaStore(spaced, "some-other-model")
    with pytest.raises(IndexMismatchError) as caught:
        ChromaStore(spaced, "fake:hashing")
    # Quoted for a shell: pasted as shown, it resets this folder and no other.
    assert f"`assistant ingest --reset --index '{spaced.data_dir}' PATH`" in caught.value.hint


# -- 10. a failed write names the file that failed ----------------------------------------------------------

def test_when_only_the_report_fails_to_write_only_the_report_is_named(tmp_path, seed_index, monkeypatch):
    import assistant.present.evaluate as evaluate

    real_write = evaluate.write_atomically

    def full_disk_for(name):
        def write(path, text, **kwargs):
            if path.name == name:
                raise OSError(28, "No space left on device", str(path))
            return real_write(path, text, **kwargs)
        return write

    out = tmp_path / "out"
    monkeypatch.setattr(evaluate, "write_atomically", full_disk_for("report.md"))
    with pytest.raises(ReportNotWritten) as caught:
        run_evaluation(_write(tmp_path, DISCHARGED), seed_index, out, progress=False)
    assert f"and the metrics in {out / 'metrics.json'}, but report.md could not be written" in caught.value.message
    assert "metrics.json and report.md" not in caught.value.message and "the report" in caught.value.hint
    assert caught.value.metrics == json.loads((out / "metrics.json").read_text())

    monkeypatch.setattr(evaluate, "write_atomically", full_disk_for("metrics.json"))
    with pytest.raises(ReportNotWritten) as caught:
        run_evaluation(_write(tmp_path, DISCHARGED), seed_index, out, progress=False)
    assert "but metrics.json and report.md could not be written" in caught.value.message
    assert sorted(p.name for p in out.iterdir()) == [EVAL_RESULTS_MARKER, "answers.jsonl"]


# -- 11. the support pairs' kinds with their counts ---------------------------------------------------------

def test_the_pair_kind_table_gives_each_kind_its_count(tmp_path, fake_settings):
    pairs = [{"id": "p1", "sentence": "Rotherham discharged 148 children from care in 2018.", "source_url": ROTHERHAM,
              "start": 2080, "end": 2122, "supported": True, "kind": "paraphrase"},
             {"id": "p2", "sentence": "Rotherham discharged 184 children from care in 2018.", "source_url": ROTHERHAM,
              "start": 2080, "end": 2122, "supported": False, "kind": "changed_figure"},
             {"id": "p3", "sentence": "Twenty Early Help Co-ordinators were in post in Bradford.",
              "source_url": BRADFORD, "start": 1808, "end": 1885, "supported": False, "kind": "changed_figure"}]
    out = tmp_path / "out"
    metrics = run_evaluation(_write(tmp_path, DISCHARGED), fake_settings, out, corpus=[CORPUS],
                             pairs_path=_write(tmp_path, *pairs, name="pairs.jsonl"), progress=False)
    by_kind = metrics["support_pairs"]["counts_by_kind"]
    assert {kind: n for kind, (_, n) in by_kind.items()} == {"changed_figure": 2, "paraphrase": 1}
    right, n = by_kind["changed_figure"]
    report = (out / "report.md").read_text()
    assert f"| changed_figure | {right / n:.3f} ({right} of 2) |" in report


def test_an_out_folder_that_holds_the_minutes_or_is_the_home_folder_is_refused(tmp_path, fake_settings, corpus_copy,
                                                                              monkeypatch):
    """The marker the run leaves makes ingest pass over its folder: an --out above the minutes (`--out .` at the top
    of one's files, `--out ~`) would have switched ingest off for them."""
    from assistant.ingest.run import ingest

    ingest([corpus_copy], fake_settings, progress=False)
    questions = _write(tmp_path, DISCHARGED)
    with pytest.raises(AssistantError, match=f"holds {corpus_copy}") as caught:
        run_evaluation(questions, fake_settings, corpus_copy.parent, progress=False)
    assert "a folder of its own" in caught.value.hint
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    with pytest.raises(AssistantError, match="is your home folder"):
        run_evaluation(questions, fake_settings, home, progress=False)


# -- 12. every key of metrics.json is documented ------------------------------------------------------------

def _documented_keys() -> set[str]:
    """The key names eval/README.md's section on metrics.json gives, each in backticks."""
    import re

    readme = (ROOT / "eval" / "README.md").read_text(encoding="utf-8")
    section = readme.split("### `metrics.json`, key by key", 1)[1].split("\n#", 1)[0]
    return set(re.findall(r"`([a-z][a-z0-9_]*)`", section))


def _key_names(metrics: dict, kinds: set[str]) -> set[str]:
    """Every key name in a run's metrics, leaving out those that are data (question kinds and ids, pair kinds)."""
    names = set()

    def walk(value, key=""):
        if isinstance(value, list):
            for element in value:
                walk(element)
        elif isinstance(value, dict):
            for name, inner in value.items():
                if key not in ("councils_not_indexed", "must_include_in_no_gold_item", "must_include_in_many_items",
                               "accuracy_by_kind", "counts_by_kind"):
                    names.add(name)
                walk(inner, name)

    walk({name: value for name, value in metrics.items() if name not in kinds})
    for kind in kinds & set(metrics):
        walk(metrics[kind])
    return names


def test_every_key_a_run_writes_to_metrics_json_is_documented(tmp_path, seed_index, monkeypatch):
    """A maintainer reading metrics.json had keys that no document explained (from a maintainer's review)."""
    from assistant.present import evaluate
    from assistant.present.eval_questions import load_floors

    floors = tmp_path / "floors.json"
    floors.write_text(json.dumps({"some": {"answer_correctness": {"min": 0.5}}}))
    monkeypatch.setattr(evaluate, "load_floors", lambda names: load_floors(names, floors))
    rows = (DISCHARGED, CO_ORDINATORS, FAMILY_HUBS, {**BUS_FARES, "filters": {"council": "Nowhere"}})
    pairs = [{"id": "p1", "sentence": "Rotherham discharged 148 children from care in 2018.", "source_url": ROTHERHAM,
              "start": 2080, "end": 2122, "supported": True, "kind": "paraphrase"}]
    questions = _write(tmp_path, *rows)
    out = tmp_path / "out"
    run_evaluation(questions, seed_index, out, corpus=[CORPUS], progress=False)
    extractive = run_evaluation(questions, seed_index, out, corpus=[CORPUS], floors=["some"], progress=False,
                                pairs_path=_write(tmp_path, *pairs, name="pairs.jsonl"))
    assert extractive["replaced_results"] and extractive["support_pairs"]["measured"] and extractive["floors"]
    model = QuotingChatModel(messages=iter([]), figures=("148 children",))
    llm = run_evaluation(questions, seed_index.with_(llm="openai:fake"), tmp_path / "llm", progress=False,
                         chat_model=model)
    assert "fallback_answers" in llm["overall"]
    kinds = {row["kind"] for row in rows}
    written = _key_names(extractive, kinds) | _key_names(llm, kinds)
    assert {"calibration", "best_sentence_counts", "confusion", "checks", "held", "manifest_sha256"} <= written
    undocumented = written - _documented_keys()
    assert not undocumented, f"metrics.json keys eval/README.md does not list: {sorted(undocumented)}"


# -- 13. floors belong to the file they were set on -----------------------------------------------------------

def test_floors_are_refused_for_another_question_or_pairs_file_than_their_own(tmp_path, seed_index, monkeypatch):
    """`--floors seed` over another question file had judged it by the seed file's figures (a maintainer's review)."""
    from assistant.present import evaluate
    from assistant.present.eval_questions import load_floors

    project = tmp_path / "project"
    (project / "eval").mkdir(parents=True)
    own = _write(project / "eval", DISCHARGED, name="own.jsonl")
    pairs = [{"id": "p1", "sentence": "Rotherham discharged 148 children from care in 2018.", "source_url": ROTHERHAM,
              "start": 2080, "end": 2122, "supported": True}]
    own_pairs = _write(project / "eval", *pairs, name="pairs.jsonl")
    floors = project / "eval" / "floors.json"
    floors.write_text(json.dumps({"mine": {"_questions": "eval/own.jsonl", "answer_correctness": {"min": 0.5}},
                                  "guard": {"_pairs": "eval/pairs.jsonl", "supported_kept": {"min": 0.5}}}))
    monkeypatch.setattr(evaluate, "load_floors", lambda names: load_floors(names, floors))
    assert load_floors(["mine"], floors)["mine"]["_questions"] == own

    metrics = run_evaluation(own, seed_index, tmp_path / "out", floors=["mine"], progress=False)
    assert metrics["floors"]["broken"] == 0 and [c["figure"] for c in metrics["floors"]["checks"]] == [
        "answer_correctness"]
    copy = tmp_path / "copy.jsonl"
    copy.write_bytes(own.read_bytes())  # the same questions elsewhere are the same file
    assert run_evaluation(copy, seed_index, tmp_path / "out", floors=["mine"], progress=False)["floors"]["broken"] == 0

    other = _write(tmp_path, DISCHARGED, CO_ORDINATORS, name="other.jsonl")
    with pytest.raises(AssistantError, match="The floors 'mine' were set on the question file .*own.jsonl, and this "
                                             "run reads .*other.jsonl, which is another file") as caught:
        run_evaluation(other, seed_index, tmp_path / "refused", floors=["mine"], progress=False)
    assert "eval/floors.json names each entry's files" in caught.value.hint
    assert not (tmp_path / "refused").exists()  # refused before anything was asked or written
    run_evaluation(other, seed_index, tmp_path / "refused", progress=False)  # without --floors it runs

    other_pairs = _write(tmp_path, {**pairs[0], "supported": False}, name="other-pairs.jsonl")
    with pytest.raises(AssistantError, match="set on the pairs file .*pairs.jsonl, and this run reads "
                                             ".*other-pairs.jsonl"):
        run_evaluation(own, seed_index, tmp_path / "guarded", corpus=[CORPUS], pairs_path=other_pairs,
                       floors=["guard"], progress=False)
    guarded = run_evaluation(own, seed_index, tmp_path / "guarded", corpus=[CORPUS], pairs_path=own_pairs,
                             floors=["guard"], progress=False)
    assert [c["figure"] for c in guarded["floors"]["checks"]] == ["supported_kept"]  # run, and judged

    floors.write_text(json.dumps({"mine": {"_questions": "eval/gone.jsonl", "answer_correctness": {"min": 0.5}}}))
    with pytest.raises(AssistantError, match="were set on the question file .*gone.jsonl, which is not there"):
        run_evaluation(own, seed_index, tmp_path / "gone", floors=["mine"], progress=False)
    floors.write_text(json.dumps({"mine": {"_questions": 3, "answer_correctness": {"min": 0.5}}}))
    with pytest.raises(AssistantError, match="a file's path"):
        load_floors(["mine"], floors)
