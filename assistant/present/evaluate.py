"""The grounding evaluation: ask every question through `Assistant.ask`, score, and write a report.

Writes `answers.jsonl` (one record a question: its gold data plus the answer exactly as
`assistant ask --json` prints it), `metrics.json` and a readable `report.md`, beside a marker file by which ingest
leaves the folder out. The files it reads are checked in eval_questions.py; the answers are scored, and the report
written, in eval_scoring.py.
"""

from __future__ import annotations

import datetime as dt
import json
import string
import tempfile
import time
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

from assistant.errors import AssistantError
from assistant.files import EVAL_RESULTS_MARKER, write_atomically
from assistant.present.eval_questions import (EvalQuestion, describe_lacking, lacking_gold, load_floors, load_pairs,
                                              load_questions, source_texts, unanswerable_with_gold, warn)
from assistant.present.eval_scoring import (FloorCheck, check_floors, describe_strings_not_in_gold,
                                            describe_strings_in_many_items, describe_turned_away,
                                            describe_unanswerable_with_gold,
                                            describe_unindexed_councils, describe_unknown_gold, describe_unmatched,
                                            gated_figures, outcome, ratio, reader_metrics, render_report, score,
                                            strings_in_many_items, strings_in_no_gold_item)
from assistant.records import Hit
from assistant.retrieve.filters import Filters
from assistant.settings import DEFAULT_CORPUS, Settings
from assistant.text import counted, first_few, keyed_as_now, readable

# The checkout the package runs from, when it runs from one: its corpus/ folder and its git commit.
CHECKOUT = Path(__file__).resolve().parents[2]
# What the marker file says to whoever opens it.
# What a run writes in its --out folder, replacing an earlier run's.
RESULT_FILES = ("answers.jsonl", "metrics.json", "report.md")
EVAL_RESULTS_NOTE = ("This folder holds the results of `assistant eval`. `assistant ingest` leaves out the folder "
                     "that holds this file, and everything in it, since the report lists the questions' expected "
                     "answers: keep no minutes here.\n")


class EvalInterrupted(KeyboardInterrupt):
    """Ctrl-C before any result was written: `asked` of `total` questions were asked, and the --out folder is as it
    was. A KeyboardInterrupt still, for any caller that does not look for this one."""

    def __init__(self, asked: int, total: int) -> None:
        super().__init__(f"interrupted after {asked} of {total} questions")
        self.asked, self.total = asked, total


class ReportNotWritten(AssistantError):
    """answers.jsonl was written, but metrics.json or report.md could not be: the answers are the run's result.
    `metrics` holds the run's figures when they were computed (None when scoring itself was interrupted)."""

    def __init__(self, message: str, hint: str, metrics: dict | None = None) -> None:
        super().__init__(message, hint)
        self.metrics = metrics


def run_evaluation(questions_path: Path, settings: Settings, out_dir: Path, corpus: list[Path] | None = None,
                   pairs_path: Path | None = None, embedder=None, progress: bool = True,
                   index_dir: Path | None = None, chat_model=None, floors: Sequence[str] = ()) -> dict:
    """Answer every question, score the answers, write the three output files; returns the metrics.

    With `corpus`, the questions are asked of an index of it built in a scratch folder that is removed afterwards,
    or in `index_dir` when given: an index already there is brought up to date with the corpus (unchanged items
    are skipped, items of another corpus pruned), so several question files over one corpus build its index once.
    `chat_model` answers in place of the one the settings' language model names (a test's fake); `floors` names
    entries of eval/floors.json to compare the figures with (metrics["floors"]). Ctrl-C before the results are
    written raises EvalInterrupted; a failure once answers.jsonl is written raises ReportNotWritten."""
    questions = load_questions(questions_path)
    if pairs_path is not None and not corpus:
        raise AssistantError("--pairs needs --corpus: each pair's passage is read from the minutes' files.",
                             "Give --corpus with the minutes the pairs quote.")
    pairs = load_pairs(pairs_path) if pairs_path is not None else None
    bounds = load_floors(floors) if floors else {}
    refuse_floors_not_measured(bounds, corpus, pairs_path)
    refuse_floors_of_other_files(bounds, questions_path, pairs_path)
    if corpus:
        refuse_out_in_corpus(out_dir, corpus)
    refuse_out_in_minutes(out_dir, None if corpus else settings)
    # The index asked: the one given, or that of the settings; a --corpus run's own index is in a scratch folder.
    asked_index = index_dir if index_dir is not None else (None if corpus else settings.data_dir)
    refuse_out_over_other_files(out_dir, [questions_path, *([pairs_path] if pairs_path else [])], asked_index)
    made = [folder for folder in (out_dir, *out_dir.parents) if not folder.exists()]  # deepest first
    check_results_folder(out_dir)
    try:
        return _evaluate(questions, questions_path, settings, out_dir, corpus, pairs, pairs_path, embedder, progress,
                         index_dir, chat_model, bounds)
    except BaseException:
        for folder in made:  # a run that wrote nothing leaves none of the folders it made behind it
            if not folder.is_dir() or any(folder.iterdir()):
                break
            folder.rmdir()
        raise


def _evaluate(questions: list[EvalQuestion], questions_path: Path, settings: Settings, out_dir: Path, corpus, pairs,
              pairs_path: Path | None, embedder, progress: bool, index_dir: Path | None, chat_model,
              bounds: dict) -> dict:
    lacking = lacking_gold(questions)
    if any(lacking.values()):
        warn(describe_lacking(lacking) + ".")
    # The question file against its own rules and, with the minutes' text at hand, its gold items: warned of now, and
    # kept for metrics.json and the report.
    question_checks: dict = {"unanswerable_with_gold": unanswerable_with_gold(questions)}
    if question_checks["unanswerable_with_gold"]:
        warn(describe_unanswerable_with_gold(question_checks["unanswerable_with_gold"]) + ".")
    records: list[dict] = []
    try:
        texts = source_texts(corpus, settings.max_item_chars) if corpus else None
        if texts is not None:
            question_checks["must_include_in_no_gold_item"] = strings_in_no_gold_item(questions, texts)
            if question_checks["must_include_in_no_gold_item"]:
                warn(describe_strings_not_in_gold(question_checks["must_include_in_no_gold_item"]) + ".")
            question_checks["must_include_in_many_items"] = strings_in_many_items(questions, texts)
            if question_checks["must_include_in_many_items"]:
                warn(describe_strings_in_many_items(question_checks["must_include_in_many_items"]) + ".")
        if pairs:
            check_pairs_against_corpus(pairs, texts, pairs_path)
        run = _ask_all(questions, records, settings, corpus, texts, pairs, embedder, progress, index_dir, chat_model)
    except KeyboardInterrupt:
        raise EvalInterrupted(len(records), len(questions)) from None
    # The answers first, as the run's result whatever happens next. Results of an earlier run are removed before
    # it, answers.jsonl included: were the write to fail, the folder would hold no earlier answers that could be
    # taken for this run's, and no metrics of other answers (each file is written whole or not at all). Simpler
    # than staging all three under other names, and as safe: nothing of an earlier run is left beside this one's.
    replaced = earlier_run(out_dir)
    for stale in RESULT_FILES:
        (out_dir / stale).unlink(missing_ok=True)
    # Before any result: refuse_out_in_minutes knows only the minutes folders it can see, and an ingest of a folder
    # that holds this one would read the report as minutes. Ingest leaves out every folder the marker is in.
    write_atomically(out_dir / EVAL_RESULTS_MARKER, EVAL_RESULTS_NOTE)
    for q, record in zip(questions, records):
        record["outcome"] = outcome(q, record)
    write_atomically(out_dir / "answers.jsonl", "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records))
    answers = readable(str(out_dir / "answers.jsonl"))
    metrics, written = None, []
    try:
        metrics = _metrics(questions, records, run, questions_path, settings, corpus, index_dir, question_checks,
                           bounds)
        metrics["replaced_results"] = replaced
        write_atomically(out_dir / "metrics.json", json.dumps(metrics, indent=2))
        written.append("metrics.json")
        write_atomically(out_dir / "report.md", render_report(metrics, *reversed(answered_only(questions, records))))
        return metrics
    except KeyboardInterrupt:  # the answers are written, and are what the run is for: the status says so
        raise ReportNotWritten(f"Interrupted: the answers are in {answers}{_and_metrics(written, out_dir)}, but "
                               f"{_not_written(written)} {'was' if written else 'were'} not written.",
                               "Run the command again for the metrics.", metrics) from None
    except OSError as exc:  # a full disk, a folder made read-only meanwhile; a fault of the scoring itself shows
        raise ReportNotWritten(f"The answers are in {answers}{_and_metrics(written, out_dir)}, but "
                               f"{_not_written(written)} could not be written ({type(exc).__name__}: {exc}).",
                               "Check the --out folder (space, permissions) and run again for "
                               + ("the report; the answers and metrics themselves are complete." if written else
                                  "the metrics; the answers themselves are complete."), metrics) from exc


def _and_metrics(written: list[str], out_dir: Path) -> str:
    return f" and the metrics in {readable(str(out_dir / 'metrics.json'))}" if written else ""


def _not_written(written: list[str]) -> str:
    return " and ".join(name for name in ("metrics.json", "report.md") if name not in written)


@dataclass(frozen=True)
class _Run:
    """What asking the questions gave, besides the answers: what scoring and the report need."""
    settings: Settings
    alce: list[dict]
    texts: dict[str, dict] | None
    pairs: dict | None
    filters_matching_nothing: list[str]
    ingest_seconds: float | None
    ingested: dict | None
    gold_urls_not_indexed: list[str]
    councils_not_indexed: dict[str, list[str]]
    produced_by: dict
    index_changed_after_question: list[int]
    questions_turned_away: list[str]


def _ask_all(questions: list[EvalQuestion], records: list[dict], settings: Settings, corpus, texts, pairs,
             embedder, progress: bool, index_dir: Path | None, chat_model=None) -> _Run:
    """Build the index when asked to, ask every question (each answer appended to `records` as it comes) and
    judge the answers' citations, and the guard on the pairs."""
    from assistant.answer.service import Assistant, ModelFailure

    with tempfile.TemporaryDirectory(prefix="eval-index-") as scratch:
        if corpus:
            from assistant.index.write_lock import writing_index
            from assistant.ingest.run import Index, ingest

            settings = settings.with_(data_dir=index_dir or Path(scratch) / "index")
            with writing_index(settings):  # before the index is opened: no store is made while another writes
                index = Index(settings, embedder=embedder)
                started = time.perf_counter()
                summary = ingest(corpus, settings, index=index, progress=False, prune=index_dir is not None)
            ingest_seconds = time.perf_counter() - started
            ingested = {"new": summary.new, "replaced": summary.replaced, "unchanged": summary.unchanged,
                        "removed": summary.removed}
            embedder = index.embedder
            index.close()
            if summary.failed:
                raise AssistantError("Some evaluation inputs failed to ingest: "
                                     + "; ".join(p.describe() for p in summary.failed), "Fix them and run again.")
        else:
            ingest_seconds, ingested = None, None
        assistant = Assistant(settings, embedder=embedder, chat_model=chat_model)
        try:
            if not assistant.chunk_count:
                # Every question would be refused, and the unanswerable ones scored as right.
                if corpus:
                    raise AssistantError(f"The --corpus inputs ({', '.join(map(str, corpus))}) hold no minutes, so "
                                         "there is nothing to ask.", "Give --corpus the minutes the questions are "
                                         "about.")
                raise AssistantError(f"The index in {settings.data_dir} holds no minutes, so there is nothing to ask.",
                                     f"Run `assistant ingest --index {settings.data_dir} FOLDER` first, or give "
                                     "--corpus the minutes to ask of.")
            held = assistant.index.manifest.finished_ids()
            produced_by = run_record(assistant, settings, len(held), chunked=bool(corpus))
            if unknown := [q.id for q in questions if set(q.gold_urls) - held]:
                warn(describe_unknown_gold(unknown) + ".")
            if unindexed := councils_not_indexed(assistant, questions):
                warn(describe_unindexed_councils(unindexed) + ".")
            unmatched = filters_matching_nothing(assistant, questions)
            if unmatched:
                warn(describe_unmatched(unmatched) + ".")
            # Refused as bad_question unsearched, as filters matching nothing are: counted as rightly refused when
            # unanswerable, which says nothing of the reader (load_questions leaves small talk and no topic to `ask`).
            if turned_away := [q.id for q in questions if assistant.question_problem(q.question)]:
                warn(describe_turned_away(turned_away) + ".")
            try:
                assistant.ask("warm-up question about looked after children")  # load the models outside the timings
            except ModelFailure as failure:
                # Only a warm-up: the questions are asked all the same, each failure recorded with its question.
                warn(f"The language model failed on the warm-up question, before any question of the file: "
                     f"{failure.message.rstrip('.')}. The evaluation goes on.")
            # Each question reads the index as it then stands (Assistant.follow_index), which opens it anew when an
            # ingest or fetch has changed it: seen here as a new Index, so that figures mixing two states say so.
            changed_after: list[int] = []
            alce: list[dict] = []  # one for each question answered (not those the model failed on)
            for number, q in enumerate(questions, start=1):
                reading = assistant.index
                started = time.perf_counter()
                try:
                    answer = assistant.ask(q.question, Filters(**q.filters))
                except ModelFailure as failure:
                    if assistant.index is not reading and number > 1:
                        changed_after.append(number - 1)
                    # Recorded and gone past, as `brief` does: one failed request (a 500 from a shared server) had
                    # thrown away every answer of the run. The question is left out of the figures, where it would
                    # count as a wrong answer, and counted apart (metrics.json's model_failures, the report).
                    if not any(r.get("model_failed") for r in records):
                        warn(f"The language model failed on question {number} of {len(questions)} ({q.id}): "
                             f"{failure.message.rstrip('.')}. {failure.hint} The evaluation goes on; failed "
                             "questions are left out of the figures and counted in the report.")
                    records.append({**failure.answer.to_json(), "id": q.id, "kind": q.kind,
                                    "gold_urls": list(q.gold_urls), "must_include": list(q.must_include),
                                    "wall_ms": round((time.perf_counter() - started) * 1000, 2), "reader_best": "",
                                    "cut_short": False, "model_failed": True,
                                    "error": f"{failure.message} {failure.hint}".strip()})
                    continue
                wall_ms = (time.perf_counter() - started) * 1000
                if assistant.index is not reading and number > 1:
                    changed_after.append(number - 1)
                # A language model that stopped part-way: its first sentences are its own, the rest the reader's.
                # (A reply given up for time with nothing of it shown is a fallback, and counted as one.)
                cut_short = not answer.refused and not answer.fallback and bool(answer.provenance
                                                                                and answer.provenance.error)
                records.append({**answer.to_json(), "id": q.id, "kind": q.kind, "gold_urls": list(q.gold_urls),
                                "must_include": list(q.must_include), "wall_ms": round(wall_ms, 2),
                                "reader_best": reader_best(assistant, q), "cut_short": cut_short})
                # Judged now, against the index the answer was given from: after an ingest meanwhile, the chunks
                # an earlier answer cites may be gone, and its sentences would count as unsupported.
                alce.append(alce_scores(assistant, records[-1]))
                if progress and number % 20 == 0:
                    print(f"  {number}/{len(questions)} questions", flush=True)
            if changed_after:  # the head says what the index held when the run started, and at its end
                produced_by["index_at_end"] = {
                    "items": len(assistant.index.manifest.finished_ids()),
                    "chunks": assistant.chunk_count}
            guarded = guard_on_pairs(assistant, pairs, texts) if pairs else None
        finally:
            assistant.close()
    return _Run(settings, alce, texts, guarded, unmatched, ingest_seconds, ingested, unknown, unindexed, produced_by,
                changed_after, turned_away)


def _metrics(questions: list[EvalQuestion], records: list[dict], run: _Run, questions_path: Path,
             settings: Settings, corpus, index_dir: Path | None, question_checks: dict,
             bounds: dict[str, dict]) -> dict:
    failed = [r["id"] for r in records if r.get("model_failed")]
    questions, records = answered_only(questions, records)
    metrics = score(questions, records, run.alce, run.texts)
    metrics["reader"] = reader_metrics(questions, records)
    metrics["model_failures"] = failed  # left out of every figure above
    metrics["mode"] = records[0]["mode"] if records else settings.llm
    metrics["retrieval_fusion"] = settings.fusion
    metrics["questions_file"] = str(questions_path)
    metrics["corpus"] = [str(p) for p in corpus] if corpus else None
    metrics["index"] = None if corpus and index_dir is None else str(run.settings.data_dir)
    metrics["ingest_seconds"] = round(run.ingest_seconds, 2) if run.ingest_seconds is not None else None
    metrics["ingest_items"] = run.ingested  # with index_dir, "unchanged" items were already in its index
    metrics["produced_by"] = run.produced_by
    metrics["index_changed_after_question"] = run.index_changed_after_question
    metrics["filters_matching_nothing"] = run.filters_matching_nothing
    metrics["gold_urls_not_indexed"] = run.gold_urls_not_indexed
    metrics["councils_not_indexed"] = run.councils_not_indexed
    metrics["questions_turned_away"] = run.questions_turned_away
    # None: the minutes' text was not at hand (no --corpus), so the strings were not looked for
    metrics["must_include_in_no_gold_item"] = question_checks.get("must_include_in_no_gold_item")
    metrics["must_include_in_many_items"] = question_checks.get("must_include_in_many_items")
    metrics["unanswerable_with_gold"] = question_checks["unanswerable_with_gold"]
    if run.pairs is not None:
        metrics["support_pairs"] = run.pairs
    if bounds:
        figures = gated_figures(metrics)
        checks = [{"entry": name, **check.as_json()} for name, entry in bounds.items()
                  for check in check_floors(figures, entry)]
        if failed:
            # The figures leave out the questions the model failed on: judged on the rest, a floor could hold because
            # the questions it fails were not counted (a review saw correctness rise as the model failed more).
            checks.append({"entry": "every entry", **FloorCheck("model_failures", len(failed), 0, "max").as_json()})
        metrics["floors"] = {"entries": list(bounds), "checks": checks,
                             "broken": sum(not check["held"] for check in checks)}
    return metrics


def answered_only(questions: list[EvalQuestion], records: list[dict]) -> tuple[list[EvalQuestion], list[dict]]:
    """The questions and their records without those whose language model failed, which are not scored."""
    kept = [(q, r) for q, r in zip(questions, records) if not r.get("model_failed")]
    return [q for q, _ in kept], [r for _, r in kept]


def run_record(assistant, settings: Settings, items: int, chunked: bool = False) -> dict:
    """What produced the run, for metrics.json and the report's head: a fake reader or embedder, exact search or
    another index gives other figures, and a report that does not say so cannot be told from one that does."""
    from assistant import __version__
    from assistant.answer.prompts import prompt_version
    from assistant.answer.service import EXTRACTIVE
    from assistant.settings import BUNDLED_EMBEDDING_MODEL

    bundled = settings.embedding_model == BUNDLED_EMBEDDING_MODEL
    return {"run_at": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC"),
            "package_version": __version__, "git_commit": git_commit(),
            "reader": dict(assistant.reader_identity),
            "embedding_model": assistant.index.embedder.name,
            "embed_precision": settings.embed_precision if bundled else None,  # the bundled model's alone
            "exact_search": assistant.index.store.searches_exactly,
            "exact_search_setting": {None: "auto", True: "on", False: "off"}[settings.exact_search],
            # Settings that change the figures without changing the code: chunk size (known when this run chunked the
            # minutes: the index does not record it), an NLI model beside the guard, and in a model's mode the prompts.
            "chunk_tokens": settings.chunk_tokens if chunked else None, "nli_model": settings.nli_model or None,
            "prompt_version": prompt_version() if assistant.mode != EXTRACTIVE else None,
            "index_items": items, "index_chunks": assistant.chunk_count}


def git_commit(checkout: Path = CHECKOUT) -> str | None:
    """The commit the checkout is at, read from its .git folder (no git process is run): None when the package does
    not run from a git checkout, or its HEAD cannot be read. Changes not committed are not seen."""
    git = checkout / ".git"
    try:
        if git.is_file():  # a worktree's .git names its folder: "gitdir: PATH"
            git = checkout / git.read_text(encoding="utf-8").partition("gitdir:")[2].strip()
        head = (git / "HEAD").read_text(encoding="utf-8").strip()
        common = git / (git / "commondir").read_text(encoding="utf-8").strip() if (git / "commondir").is_file() else git
        if head.startswith("ref:"):
            ref = head.partition("ref:")[2].strip()
            loose = next((folder / ref for folder in (git, common) if (folder / ref).is_file()), None)
            if loose is not None:
                head = loose.read_text(encoding="utf-8").strip()
            else:  # packed by `git gc`: "SHA refs/heads/main" lines
                packed = (common / "packed-refs").read_text(encoding="utf-8").splitlines()
                head = next((line.partition(" ")[0] for line in packed if line.partition(" ")[2] == ref), "")
    except OSError:
        return None
    return head if len(head) == 40 and all(c in string.hexdigits for c in head) else None


def councils_not_indexed(assistant, questions: list[EvalQuestion]) -> dict[str, list[str]]:
    """By question id, the councils a question names (of the shipped directory of UK councils, or the index's own)
    that the index does not hold: nothing indexed is about them, so such a question tests no reading."""
    from assistant.ingest.moderngov.directory import directory_place_names
    from assistant.retrieve.question import councils_named

    retriever = assistant.retriever
    names = directory_place_names()
    known = set(names) | retriever.council_keys  # the index's own too: "North Somerset" is not also Somerset
    unindexed = {}
    for q in questions:
        if outside := [names.get(k, k) for k in councils_named(q.question, known, initialled=retriever.council_keys)
                       if not retriever.councils_called(k)]:
            unindexed[q.id] = outside
    return unindexed


def filters_matching_nothing(assistant, questions: list[EvalQuestion]) -> list[str]:
    """The ids of the questions whose filters select no indexed minutes: `ask` refuses them (no_match_filters)
    without searching, so an unanswerable one would count as rightly refused without having been asked."""
    return [q.id for q in questions if assistant.filters_match_nothing(q.question, Filters(**q.filters))]


# Figures a floor may name that only some runs measure, with the option that measures each.
_PAIR_FIGURES = ("unsupported_precision", "unsupported_recall", "supported_kept")


def refuse_floors_not_measured(bounds: dict[str, dict], corpus, pairs_path: Path | None) -> None:
    """Refuse, before any question is asked, floors this run cannot measure: the guard's need --pairs, and
    quote_validity needs --corpus (the quotes are checked against the minutes' files). After the whole run they would
    only have read "not measured" and broken the gate."""
    for name, entry in bounds.items():
        if pairs_path is None and (figures := [f for f in entry if f in _PAIR_FIGURES]):
            raise AssistantError(f"The floors {name!r} bound {', '.join(figures)}, which only a run with --pairs "
                                 "measures (the guard on support pairs).",
                                 "Give --pairs (with --corpus), as eval/README.md shows, or leave those floors out.")
        if not corpus and "quote_validity" in entry:
            raise AssistantError(f"The floors {name!r} bound quote_validity, which only a run with --corpus measures "
                                 "(each quote is checked against its minutes' file).",
                                 "Give --corpus with the minutes instead of --index (the run builds its own index of "
                                 "them), or leave --floors out: a run of an existing index can be compared with "
                                 "another by scripts/compare_answers.py.")


def refuse_floors_of_other_files(bounds: dict[str, dict], questions_path: Path, pairs_path: Path | None) -> None:
    """Refuse floors set on another question or pairs file than the run's (the file an entry names, or a copy of
    it, is the same): `--floors seed` over the dev questions would have judged them by the seed file's figures."""
    given = {"_questions": ("question", questions_path), "_pairs": ("pairs", pairs_path)}
    for name, entry in bounds.items():
        for key, (what, path) in given.items():
            meant = entry.get(key)
            if meant is None or path is None or _same_file_or_copy(path, meant):
                continue
            if not meant.is_file():
                raise AssistantError(f"The floors {name!r} were set on the {what} file {meant}, which is not there, "
                                     "so this run's file cannot be told to be the same.",
                                     f"Restore {meant.name} (from git, in a checkout), or mend that entry's "
                                     f"\"{key}\" in eval/floors.json.")
            raise AssistantError(f"The floors {name!r} were set on the {what} file {meant}, and this run reads "
                                 f"{path}, which is another file.",
                                 "Give --floors the entry set on this file (eval/floors.json names each entry's "
                                 "files), or leave --floors out.")


def _same_file_or_copy(path: Path, meant: Path) -> bool:
    try:
        return path.resolve() == meant.resolve() or path.read_bytes() == meant.read_bytes()
    except OSError:  # the file an entry names is not there (said apart), or cannot be read
        return False


def refuse_out_over_other_files(out_dir: Path, inputs: list[Path], index: Path | None) -> None:
    """Refuse an --out folder whose results would replace what no eval wrote there: an input of the run (a questions
    file named answers.jsonl), files of the same names with no earlier run's marker beside them (someone's own
    report.md), or the folder of the index asked (None: one the run builds in a scratch folder), whose files are the
    index."""
    target = out_dir.expanduser().resolve()
    data_dir = index.expanduser().resolve() if index is not None else None
    if data_dir is not None and target.is_relative_to(data_dir):
        raise AssistantError(f"The --out folder {out_dir} is inside the index folder {index}: the results would sit "
                             "among the index's own files.", "Give --out a folder outside the index folder.")
    for given in inputs:
        if given.expanduser().resolve().parent == target and given.name in RESULT_FILES:
            raise AssistantError(f"The --out folder {out_dir} would get this run's {given.name} in place of {given}, "
                                 "an input of the run.", "Give --out another folder, or rename the input.")
    if target.is_dir() and not (target / EVAL_RESULTS_MARKER).exists():
        if found := [name for name in RESULT_FILES if (target / name).exists()]:
            one = len(found) == 1
            raise AssistantError(f"The --out folder {out_dir} holds {' and '.join(found)} but not the "
                                 f"{EVAL_RESULTS_MARKER} file that `assistant eval` leaves beside its results, so "
                                 f"{'it' if one else 'they'} may be someone's own: this run would replace "
                                 f"{'it' if one else 'them'}.",
                                 f"Give --out a new folder, or move {'that file' if one else 'those files'} out of it "
                                 "first (results of an older version, which left no such file, may be deleted).")


def earlier_run(out_dir: Path) -> dict | None:
    """What the results this run replaces in `out_dir` were of (their questions file, when they were made and how
    many questions they scored, as far as their metrics.json says), or None when there are none: said when they are
    replaced, since the default --out makes any two runs replace each other."""
    if not any((out_dir / name).is_file() for name in RESULT_FILES):
        return None
    try:
        earlier = json.loads((out_dir / "metrics.json").read_text(encoding="utf-8"))
        return {"questions_file": earlier.get("questions_file"), "run_at": earlier["produced_by"].get("run_at"),
                "questions": earlier["overall"].get("questions")}
    except (OSError, ValueError, KeyError, TypeError, AttributeError):  # no metrics.json, or another's
        return {"questions_file": None, "run_at": None, "questions": None}


def refuse_out_in_corpus(out_dir: Path, corpus: list[Path]) -> None:
    """Refuse an --out folder inside a --corpus folder: the next run would read its report, which lists the
    expected answers, as minutes, and its answers.jsonl as a broken minutes file; and one that holds a --corpus
    folder, whose minutes the marker it leaves would hide from every later ingest."""
    target = out_dir.expanduser().resolve()
    for path in corpus:
        folder = path.expanduser().resolve()
        if target.is_relative_to(folder):
            raise AssistantError(f"The --out folder {out_dir} is inside the --corpus input {path}: the next run "
                                 "would read this run's report, which lists the expected answers, as minutes.",
                                 "Give --out a folder outside the minutes given to --corpus.")
        if folder.is_relative_to(target):
            # The marker file the run leaves makes ingest pass over the folder holding it: these minutes too.
            raise AssistantError(f"The --out folder {out_dir} holds the --corpus input {path}: ingest leaves out a "
                                 "folder of eval results, so the next run would leave out those minutes.",
                                 "Give --out a folder of its own, beside the minutes, not above them.")


def refuse_out_in_minutes(out_dir: Path, settings: Settings | None) -> None:
    """Refuse an --out folder inside the project's corpus/ folder, which `assistant ingest`, run.sh and `serve` read
    by default, or (given the settings of an existing index) inside a folder that index's minutes were read from: the
    next ingest would read this run's report, which lists the expected answers, as minutes."""
    folders = {folder.resolve(): "the project's minutes folder, which `assistant ingest` reads by default"
               for folder in (DEFAULT_CORPUS, CHECKOUT / DEFAULT_CORPUS) if folder.is_dir()}
    if settings is not None:
        folders.update({folder: f"a folder the minutes of the index {settings.data_dir} were read from"
                        for folder in ingested_folders(settings) if folder not in folders})
    target = out_dir.expanduser().resolve()
    for folder, what in folders.items():
        if target.is_relative_to(folder):
            raise AssistantError(f"The --out folder {out_dir} is inside {folder}, {what}: the next ingest would read "
                                 "this run's report, which lists the expected answers, as minutes.",
                                 "Give --out a folder outside the minutes.")
        if folder.is_relative_to(target):
            # The marker file the run leaves makes ingest pass over the folder holding it: the minutes in it too.
            raise AssistantError(f"The --out folder {out_dir} holds {folder}, {what}: ingest leaves out a folder of "
                                 "eval results, and so would leave out those minutes.",
                                 "Give --out a folder of its own, such as eval-results/.")
    if target == Path.home().resolve():
        raise AssistantError(f"The --out folder {out_dir} is your home folder: ingest leaves out a folder of eval "
                             "results, and so would leave out any minutes you keep under it.",
                             "Give --out a folder of its own, such as ~/eval-results.")


def ingested_folders(settings: Settings) -> set[Path]:
    """The folders holding the files the index's items were read from, as its manifest records them (read only)."""
    from assistant.index.manifest import Manifest
    from assistant.index.stats import index_exists
    from assistant.ingest.identities import FILE_PATHS_META

    if not index_exists(settings):
        return set()  # asking says so, with what to do
    manifest = Manifest(settings.manifest_path, read_only=True)
    try:
        files = json.loads(manifest.get_meta(FILE_PATHS_META) or "{}").values()
    finally:
        manifest.close()
    # A folder of minutes holds more than one of the files: a file given to ingest by its name (a JSONL file of many
    # items, or one meeting's minutes) is read by its name again, and its folder is often the project itself.
    per_folder = Counter(Path(file).parent for file in set(files) if not file.endswith(".jsonl"))
    return {folder for folder, count in per_folder.items() if count > 1}


def check_results_folder(out_dir: Path) -> None:
    """Make the --out folder and write a file there, so that a folder that cannot take the results fails before
    any question is asked rather than after all of them. (`files.check_writable` checks one file's place; --out is a
    folder of several, and its messages speak of the folder.)"""
    in_the_way = next((p for p in (out_dir, *out_dir.parents) if p.exists() and not p.is_dir()), None)
    if in_the_way is not None:
        what = "the --out folder" if in_the_way == out_dir else f"a folder on the way to {out_dir}"
        kind = "a file" if in_the_way.is_file() else "a device or a pipe"
        raise AssistantError(f"{in_the_way} is {kind}, not a folder, so it cannot be {what}.",
                             "Give --out a folder (a missing one is made), not the name of a file.")
    try:
        # Made here, within the try: a new folder in one that may not be written is this folder's problem too.
        out_dir.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=out_dir, prefix=".eval-write-check-"):
            pass
    except OSError as exc:
        raise AssistantError(f"The results cannot be written to {out_dir} (the --out folder): {exc.strerror or exc}.",
                             "Give --out a folder you may write to (a missing one is made), or change its "
                             "permissions.") from None


def reader_best(assistant, q: EvalQuestion) -> str:
    """The reader's best sentence for the question, whether or not it was confident enough to answer."""
    try:
        draft = assistant.read(q.question, Filters(**q.filters))
    except AssistantError:
        return ""
    return draft.best.text if draft.best is not None else ""


def alce_scores(assistant, record: dict) -> dict:
    """Citation recall and precision (ALCE-style), judged by the guard on the answer as generated."""
    by_marker = {c["marker"]: c for c in record["citations"]}
    sentences = record["sentences"]
    recall_hits = precision_hits = precision_total = 0
    for s in sentences:
        hits = [_hit(assistant, by_marker[m]) for m in s["markers"] if m in by_marker]
        hits = [h for h in hits if h is not None]
        if not hits:
            continue
        supported = assistant.guard.check(s["text"], hits).supported
        recall_hits += supported
        for hit in hits:
            precision_total += 1
            alone = assistant.guard.check(s["text"], [hit]).supported
            others = [h for h in hits if h is not hit]
            needed = not others or not assistant.guard.check(s["text"], others).supported
            precision_hits += supported and (alone or needed)
    return {"sentences": len(sentences), "supported": recall_hits, "citations": precision_total,
            "supporting_citations": precision_hits, "dropped": sum(1 for s in sentences if not s["shown"])}


def _hit(assistant, citation: dict) -> Hit | None:
    position = assistant.lexical.position.get(citation["chunk_id"])
    if position is None:
        return None
    entry = assistant.lexical.entries[position]
    return Hit(entry.chunk_id, entry.text, keyed_as_now(entry.metadata), 0.0)  # as the retriever's hits are


def check_pairs_against_corpus(pairs: list[dict], texts: dict[str, dict], path: Path) -> None:
    """Before any question is asked: refuse a pair whose span runs past the end of its item's text (its passage
    would be cut short or empty, and the guard's verdict on it would measure nothing); warn of pairs whose source
    is not in the corpus, which are skipped, and refuse a file none of whose pairs is left."""
    for pair in pairs:
        source = texts.get(pair["source_url"])
        if source is not None and pair["end"] > len(source["text"]):
            raise AssistantError(f"{path}: the pair {pair['id']!r} ends at character {pair['end']}, past the end of "
                                 f"{pair['source_url']} ({len(source['text'])} characters).",
                                 "Fix its start and end, or check that --corpus holds the minutes it was written on.")
    missing = [pair["id"] for pair in pairs if pair["source_url"] not in texts]
    if len(missing) == len(pairs):
        raise AssistantError(f"No support pair of {path} ({len(pairs)} given) has its source in the --corpus inputs, "
                             "so the guard would be measured on nothing.",
                             "Give --corpus the minutes the pairs were written on (their source_url is an item's "
                             "source identity).")
    if missing:
        warn(f"{counted(len(missing), 'support pair')} of {path} {'has its' if len(missing) == 1 else 'have their'} "
              f"source not in the --corpus inputs ({first_few(missing, 5)}): skipped, and counted in the report as "
              "skipped.")


def guard_on_pairs(assistant, pairs: list[dict], texts: dict[str, dict]) -> dict:
    """The guard's precision and recall at finding unsupported sentences, on labelled pairs."""
    from assistant.text import committee_key, council_key

    tp = fp = fn = tn = 0
    missing = 0
    by_kind: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for pair in pairs:
        source = texts.get(pair["source_url"])
        if source is None:
            missing += 1
            continue
        passage = source["text"][pair["start"]:pair["end"]]
        meta = {"source_id": pair["source_url"], "council": source["council"],
                "council_key": council_key(source["council"]) if source["council"] else "",
                "committee": source["committee"],
                "committee_key": committee_key(source["committee"]) if source["committee"] else "",
                "meeting_date": source["meeting_date"], "item_title": source["item_title"],
                "period": source["period"]}
        hit = Hit(f"pair:{pair['id']}", passage, meta, 0.0)
        flagged = not assistant.guard.check(pair["sentence"], [hit]).supported
        unsupported = not pair["supported"]
        tp += flagged and unsupported
        fp += flagged and not unsupported
        fn += (not flagged) and unsupported
        tn += (not flagged) and not unsupported
        by_kind[pair.get("kind", "?")][0] += int(flagged == unsupported)
        by_kind[pair.get("kind", "?")][1] += 1
    return {
        "measured": True, "pairs": tp + fp + fn + tn, "missing_sources": missing,
        "unsupported_precision": ratio(tp, tp + fp), "unsupported_recall": ratio(tp, tp + fn),
        "supported_kept": ratio(tn, tn + fp),
        "accuracy_by_kind": {k: ratio(ok, n) for k, (ok, n) in sorted(by_kind.items())},
        "counts_by_kind": {k: [ok, n] for k, (ok, n) in sorted(by_kind.items())},
        "confusion": {"flagged_unsupported": tp, "flagged_supported": fp, "missed_unsupported": fn,
                      "kept_supported": tn},
    }
