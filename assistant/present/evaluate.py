"""The grounding evaluation: ask every question through `Assistant.ask`, score, and write a report.

Writes `answers.jsonl` (one record a question: its gold data plus the answer exactly as
`assistant ask --json` prints it), `metrics.json` and a readable `report.md`.
"""

from __future__ import annotations

import difflib
import json
import math
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Iterable, Iterator

from assistant.errors import AssistantError
from assistant.files import read_utf8, write_atomically
from assistant.present.render import readable
from assistant.retrieve.filters import Filters
from assistant.records import Hit
from assistant.text import counted, first_few, is_small_talk, normalise_space
from assistant.settings import Settings

KINDS = ("fact", "numeric", "who", "resolution", "multi", "unanswerable")
REQUIRED_KEYS = ("id", "question", "kind")
LIST_KEYS = ("gold_urls", "must_include")
FILTER_KEYS = tuple(f.name for f in fields(Filters))


@dataclass(frozen=True)
class EvalQuestion:
    id: str
    question: str
    kind: str
    gold_urls: tuple[str, ...]
    must_include: tuple[str, ...]
    filters: dict

    @property
    def answerable(self) -> bool:
        return self.kind != "unanswerable"

    @classmethod
    def from_row(cls, row) -> "EvalQuestion":
        """A question line's record, checked once here: KeyError names a missing key, ValueError (or the filters'
        AssistantError) says what else is wrong. Unknown top-level keys ("notes") are allowed."""
        if not isinstance(row, dict):
            raise ValueError("not a JSON object")
        for key in REQUIRED_KEYS:
            if key not in row:
                raise KeyError(key)
        ident = row["id"]
        if isinstance(ident, int) and not isinstance(ident, bool):
            ident = str(ident)  # an id written as a number is read as its text
        question = row["question"]
        for key, value in (("id", ident), ("question", question)):
            if not isinstance(value, str):
                raise ValueError(f"the {key} must be text, not {value!r}")
            if not value.strip():
                raise ValueError(f"the {key} is blank")
        kind = row["kind"]
        if not isinstance(kind, str) or kind.strip().lower() not in KINDS:
            raise ValueError(f"the kind must be one of {', '.join(KINDS)}, not {kind!r}")
        lists = {}
        for key in LIST_KEYS:
            value = [] if row.get(key) is None else row[key]
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise ValueError(f"{' and '.join(LIST_KEYS)} must be lists of strings: {key} is {value!r}")
            lists[key] = tuple(v for v in value if v.strip())
        filters = {} if row.get("filters") is None else row["filters"]
        if not isinstance(filters, dict):
            raise ValueError(f"filters must be a JSON object with some of {', '.join(FILTER_KEYS)}, not {filters!r}")
        unknown = [key for key in filters if key not in FILTER_KEYS]
        if unknown:
            raise ValueError(f"filters has the unknown key {unknown[0]!r}; "
                             f"the filter keys are {', '.join(FILTER_KEYS)}")
        Filters(**filters)
        return cls(ident, question, kind.strip().lower(), lists["gold_urls"], lists["must_include"], dict(filters))


def misspelt_keys(row: dict) -> dict[str, str]:
    """Unknown top-level keys that look like a misspelt known one ("filter", "must_inclde"), with the key each
    probably means. Other unknown keys ("notes") are allowed and pass silently."""
    known = (*REQUIRED_KEYS, *LIST_KEYS, "filters")
    misspelt = {}
    for key in row:
        if key not in known and (close := difflib.get_close_matches(str(key), known, n=1, cutoff=0.75)):
            misspelt[key] = close[0]
    return misspelt


def json_lines(path: Path, what: str) -> Iterator[tuple[int, str]]:
    """Each line of a JSON-lines file with its number, skipping blank lines and # comments (read_utf8 drops a byte
    order mark at the start, which Windows tools write). Lines come as written, for parse_line to count columns."""
    # Lines end at "\n" only: json.dumps(..., ensure_ascii=False) writes U+2028, U+2029 and U+0085 raw inside
    # strings, and str.splitlines() would break a line there.
    text = read_utf8(path, what)
    for number, line in enumerate(text.split("\n"), start=1):
        stripped = line.strip()
        if stripped and not stripped.startswith("#"):
            yield number, line


def parse_line(line: str):
    """One JSON line's value. ValueError says what is wrong: bad JSON (at its column in the line as written), or a
    key given twice in one object. A lone surrogate escape ("\\ud800") is read as a replacement character, as
    `brief` reads one."""
    stripped = line.strip()
    try:
        value = json.loads(stripped, object_pairs_hook=_object_with_keys_once)
    except json.JSONDecodeError as exc:
        # json counts lines and columns within the text it was given: one line here, so only the column helps,
        # counted from the start of the line as an editor shows it. Some of json's messages end in "at" already.
        column = exc.colno + len(line) - len(line.lstrip())
        raise ValueError(f"not valid JSON: {exc.msg.removesuffix(' at')} at column {column}") from None
    return _readable_strings(value)


def _object_with_keys_once(pairs: list[tuple[str, object]]) -> dict:
    """A JSON object, failing on a key given twice: json would keep the last value and drop the first unseen."""
    fields: dict = {}
    for key, value in pairs:
        if key in fields:
            raise ValueError(f"the key {key!r} is given twice")
        fields[key] = value
    return fields


def _readable_strings(value):
    """The value with every string made `readable`: lone surrogates, which neither the tokenizer nor a UTF-8 file can
    take, become replacement characters."""
    if isinstance(value, str):
        return readable(value)
    if isinstance(value, list):
        return [_readable_strings(v) for v in value]
    if isinstance(value, dict):
        return {readable(k): _readable_strings(v) for k, v in value.items()}
    return value


def check_regular_file(path: Path, flag: str, what: str) -> None:
    """Refuse a `path` that is missing, a folder, or not a regular file (a pipe such as /dev/stdin, a device)."""
    if path.is_dir():
        raise AssistantError(f"{path} is a folder, not a {what}.", f"Give {flag} a JSONL file.")
    if not path.exists():
        raise AssistantError(f"No {what} at {path}.", f"Check the path given to {flag}.")
    if not path.is_file():
        # The report names the file as the run's record of what was asked: a pipe names nothing to read again.
        raise AssistantError(f"{path} is not a regular file but a pipe or a device, so it is not read as a {what}.",
                             f"Save its contents to a file and give {flag} that file's path.")


def load_questions(path: Path) -> list[EvalQuestion]:
    """Every question of the file, each line checked and ids unique, before any is asked."""
    from assistant.answer.service import question_problem

    check_regular_file(path, "--questions", "questions file")
    questions = []
    first_line: dict[str, int] = {}
    for number, line in json_lines(path, "the questions file"):
        try:
            row = parse_line(line)
            question = EvalQuestion.from_row(row)
        except KeyError as exc:
            raise AssistantError(f"{path}:{number} is not a valid question record: it has no {exc} key.",
                                 "See eval/README.md for the format.") from None
        except (ValueError, TypeError, AssistantError) as exc:
            raise AssistantError(f"{path}:{number} is not a valid question record ({exc}).",
                                 "See eval/README.md for the format.") from None
        # A question `ask` would not take (no words, too long) is a mistake in the file, not a refusal to score;
        # small talk is left to the assistant, whose answer to it is what is measured.
        if (problem := question_problem(question.question)) and not is_small_talk(question.question):
            raise AssistantError(f"{path}:{number} holds a question that cannot be asked: {problem}",
                                 "Fix the question on that line.")
        for key, meant in misspelt_keys(row).items():
            _warn(f"{path}:{number} has the key {key!r}, which is not read: did you mean {meant!r}?")
        if question.id in first_line:
            raise AssistantError(f"{path}:{number} repeats the id {question.id!r} of line {first_line[question.id]}.",
                                 "Give every question an id of its own: answers are scored by their question's id.")
        first_line[question.id] = number
        questions.append(question)
    if not questions:
        raise AssistantError(f"{path} holds no questions.", "Give a file of JSON lines, one question each.")
    return questions


def source_texts(paths: Iterable[Path], max_item_chars: int) -> dict[str, dict]:
    """Every item's text and metadata as read from the input files (not from the index)."""
    from assistant.ingest.readers import read_inputs
    from assistant.records import MinuteItem

    texts: dict[str, dict] = {}
    for found in read_inputs(list(paths), max_item_chars):
        if isinstance(found, MinuteItem) and not found.restricted:
            texts[found.source_id] = {"text": found.text, "council": found.council, "committee": found.committee,
                                      "meeting_date": found.meeting_date, "item_title": found.item_title,
                                      "period": found.period}
    return texts


# -- scoring one answer --------------------------------------------------------------------------

def first_sources(answer: dict, limit: int = 5) -> list[str]:
    return list(dict.fromkeys(r["source_url"] for r in answer["retrieved"]))[:limit]


def shown_citations(answer: dict) -> list[dict]:
    shown = {m for s in answer["sentences"] if s["shown"] for m in s["markers"]}
    return [c for c in answer["citations"] if c["marker"] in shown]


def is_correct(q: EvalQuestion, answer: dict) -> bool:
    if not q.answerable or answer["refused"]:
        return False
    text = normalise_space(answer_words(answer["answer"])).lower()
    councils = " ".join(c["council"] for c in shown_citations(answer)).lower()
    for needle in q.must_include:
        needle = normalise_space(answer_words(needle)).lower()  # a gold string written with its marker, '48 [1]'
        if holds(text, needle):
            continue
        if q.kind == "multi" and needle in councils:
            continue
        return False
    return True


def answer_words(answer: str) -> str:
    """An answer's text without its [n] citation markers: a gold figure "1" is not found in "[1]", nor do the
    markers count as words."""
    from assistant.verify.guard import strip_markers

    return strip_markers(answer)[0]


def holds(text: str, needle: str) -> bool:
    """Whether `needle` is in `text`, as a whole figure where it starts or ends with a digit: "48" is not in "148",
    nor "1" in "1.5" or "1,234", nor "28" in "28.5%"."""
    start = text.find(needle)
    while start >= 0:
        end = start + len(needle)
        cut_before = needle[:1].isdigit() and _figure_goes_on(text, start - 1, -1)
        cut_after = needle[-1:].isdigit() and _figure_goes_on(text, end, 1)
        if not (cut_before or cut_after):
            return True
        start = text.find(needle, start + 1)
    return False


def _figure_goes_on(text: str, at: int, step: int) -> bool:
    """Whether the character at `at` continues a figure that a neighbouring digit ends: a digit, or a decimal point
    or thousands comma with a digit beyond it."""
    def char(i: int) -> str:
        return text[i] if 0 <= i < len(text) else ""

    return char(at).isdigit() or (char(at) in (".", ",") and char(at + step).isdigit())


def quote_checks(answer: dict, texts: dict[str, dict] | None) -> list[bool]:
    if texts is None:
        return []
    results = []
    for c in answer["citations"]:
        source = texts.get(c["source_url"])
        results.append(bool(source) and normalise_space(c["quote"]) in normalise_space(source["text"]))
    return results


# -- the run -------------------------------------------------------------------------------------

class EvalInterrupted(KeyboardInterrupt):
    """Ctrl-C before any result was written: `asked` of `total` questions were asked, and the --out folder is as it
    was. A KeyboardInterrupt still, for any caller that does not look for this one."""

    def __init__(self, asked: int, total: int) -> None:
        super().__init__(f"interrupted after {asked} of {total} questions")
        self.asked, self.total = asked, total


class ReportNotWritten(AssistantError):
    """answers.jsonl was written, but metrics.json or report.md could not be: the answers are the run's result."""


def run_evaluation(questions_path: Path, settings: Settings, out_dir: Path, corpus: list[Path] | None = None,
                   pairs_path: Path | None = None, embedder=None, progress: bool = True,
                   index_dir: Path | None = None) -> dict:
    """Answer every question, score the answers, write the three output files; returns the metrics.

    With `corpus`, the questions are asked of an index of it built in a scratch folder that is removed afterwards,
    or in `index_dir` when given: an index already there is brought up to date with the corpus (unchanged items
    are skipped, items of another corpus pruned), so several question files over one corpus build its index once.
    Ctrl-C before the results are written raises EvalInterrupted; a failure once answers.jsonl is written raises
    ReportNotWritten."""
    questions = load_questions(questions_path)
    if pairs_path is not None and not corpus:
        raise AssistantError("--pairs needs --corpus: each pair's passage is read from the minutes' files.",
                             "Give --corpus with the minutes the pairs quote.")
    pairs = load_pairs(pairs_path) if pairs_path is not None else None
    if corpus:
        refuse_out_in_corpus(out_dir, corpus)
    check_writable(out_dir)
    lacking = lacking_gold(questions)
    if any(lacking.values()):
        _warn(describe_lacking(lacking) + ".")
    records: list[dict] = []
    try:
        texts = source_texts(corpus, settings.max_item_chars) if corpus else None
        if pairs:
            check_pairs_against_corpus(pairs, texts, pairs_path)
        run = _ask_all(questions, records, settings, corpus, texts, pairs, embedder, progress, index_dir)
    except KeyboardInterrupt:
        raise EvalInterrupted(len(records), len(questions)) from None
    # The answers first, as the run's result whatever happens next. Results of an earlier run are removed before
    # it, answers.jsonl included: were the write to fail, the folder would hold no earlier answers that could be
    # taken for this run's, and no metrics of other answers (each file is written whole or not at all). Simpler
    # than staging all three under other names, and as safe: nothing of an earlier run is left beside this one's.
    for stale in ("answers.jsonl", "metrics.json", "report.md"):
        (out_dir / stale).unlink(missing_ok=True)
    write_atomically(out_dir / "answers.jsonl", "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records))
    try:
        return _write_metrics_and_report(questions, records, run, questions_path, settings, out_dir, corpus,
                                         index_dir)
    except KeyboardInterrupt:
        raise
    except Exception as exc:  # whatever it is, the answers are written and are what the run is for
        raise ReportNotWritten(f"The answers are in {readable(str(out_dir / 'answers.jsonl'))}, but metrics.json "
                               f"and report.md could not be written ({type(exc).__name__}: {exc}).",
                               "Check the --out folder (space, permissions) and run again for the metrics; the "
                               "answers themselves are complete.") from exc


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


def _ask_all(questions: list[EvalQuestion], records: list[dict], settings: Settings, corpus, texts, pairs,
             embedder, progress: bool, index_dir: Path | None) -> _Run:
    """Build the index when asked to, ask every question (each answer appended to `records` as it comes) and
    judge the answers' citations, and the guard on the pairs."""
    from assistant.answer.service import Assistant

    with tempfile.TemporaryDirectory(prefix="eval-index-") as scratch:
        if corpus:
            from assistant.ingest.run import Index, ingest

            settings = settings.with_(data_dir=index_dir or Path(scratch) / "index")
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
        assistant = Assistant(settings, embedder=embedder)
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
            held = {sid for sid, row in assistant.index.manifest.rows().items() if row.status == "done"}
            if unknown := [q.id for q in questions if set(q.gold_urls) - held]:
                _warn(f"{counted(len(unknown), 'question')} {'names' if len(unknown) == 1 else 'name'} gold_urls "
                      f"that no indexed item has ({first_few(unknown, 5)}): a misspelt id, or minutes not ingested. "
                      "Those sources count as not retrieved and not cited.")
            unmatched = filters_matching_nothing(assistant, questions)
            if unmatched:
                _warn(describe_unmatched(unmatched) + ".")
            assistant.ask("warm-up question about looked after children")  # load the models outside the timings
            for number, q in enumerate(questions, start=1):
                started = time.perf_counter()
                answer = assistant.ask(q.question, Filters(**q.filters))
                wall_ms = (time.perf_counter() - started) * 1000
                records.append({**answer.to_json(), "id": q.id, "kind": q.kind, "gold_urls": list(q.gold_urls),
                                "must_include": list(q.must_include), "wall_ms": round(wall_ms, 2),
                                "reader_best": reader_best(assistant, q)})
                if progress and number % 20 == 0:
                    print(f"  {number}/{len(questions)} questions", flush=True)
            alce = [alce_scores(assistant, r) for r in records]
            guarded = guard_on_pairs(assistant, pairs, texts) if pairs else None
        finally:
            assistant.close()
    return _Run(settings, alce, texts, guarded, unmatched, ingest_seconds, ingested)


def _write_metrics_and_report(questions: list[EvalQuestion], records: list[dict], run: _Run, questions_path: Path,
                              settings: Settings, out_dir: Path, corpus, index_dir: Path | None) -> dict:
    metrics = score(questions, records, run.alce, run.texts)
    metrics["reader"] = reader_metrics(questions, records)
    metrics["mode"] = records[0]["mode"] if records else settings.llm
    metrics["retrieval_fusion"] = settings.fusion
    metrics["questions_file"] = str(questions_path)
    metrics["corpus"] = [str(p) for p in corpus] if corpus else None
    metrics["index"] = None if corpus and index_dir is None else str(run.settings.data_dir)
    metrics["ingest_seconds"] = round(run.ingest_seconds, 2) if run.ingest_seconds is not None else None
    metrics["ingest_items"] = run.ingested  # with index_dir, "unchanged" items were already in its index
    metrics["filters_matching_nothing"] = run.filters_matching_nothing
    if run.pairs is not None:
        metrics["support_pairs"] = run.pairs
    write_atomically(out_dir / "metrics.json", json.dumps(metrics, indent=2))
    write_atomically(out_dir / "report.md", render_report(metrics, records, questions))
    return metrics


def filters_matching_nothing(assistant, questions: list[EvalQuestion]) -> list[str]:
    """The ids of the questions whose filters select no indexed minutes: `ask` refuses them (no_match_filters)
    without searching, so an unanswerable one would count as rightly refused without having been asked."""
    from assistant.retrieve.question import analyse

    unmatched = []
    for q in questions:
        filters = Filters(**q.filters)
        # The question as `ask` reads it: the councils it names narrow the search too when no council filter does.
        if filters.active and assistant.retriever.search(
                analyse(q.question, assistant.retriever.council_keys), filters).no_match:
            unmatched.append(q.id)
    return unmatched


def describe_unmatched(ids: list[str]) -> str:
    """The questions of filters_matching_nothing in words, with what it does to the figures."""
    one = len(ids) == 1
    return (f"{counted(len(ids), 'question')} {'has' if one else 'have'} filters that match nothing in the index "
            f"({first_few(ids, 5)}): {'it is' if one else 'they are'} refused as no_match_filters without being "
            "asked, and an unanswerable one counts as rightly refused (a misspelt council or committee, or dates "
            "outside the minutes?)")


def refuse_out_in_corpus(out_dir: Path, corpus: list[Path]) -> None:
    """Refuse an --out folder inside a --corpus folder: the next run would read its report, which lists the
    expected answers, as minutes, and its answers.jsonl as a broken minutes file."""
    target = out_dir.expanduser().resolve()
    for path in corpus:
        folder = path.expanduser().resolve()
        if target == folder or folder in target.parents:
            raise AssistantError(f"The --out folder {out_dir} is inside the --corpus input {path}: the next run "
                                 "would read this run's report, which lists the expected answers, as minutes.",
                                 "Give --out a folder outside the minutes given to --corpus.")


def check_writable(out_dir: Path) -> None:
    """Make the --out folder and write a file there, so that a folder that cannot take the results fails before
    any question is asked rather than after all of them."""
    in_the_way = next((p for p in (out_dir, *out_dir.parents) if p.exists() and not p.is_dir()), None)
    if in_the_way is not None:
        what = "the --out folder" if in_the_way == out_dir else f"a folder on the way to {out_dir}"
        kind = "a file" if in_the_way.is_file() else "a device or a pipe"
        raise AssistantError(f"{in_the_way} is {kind}, not a folder, so it cannot be {what}.",
                             "Give --out a folder (a missing one is made), not the name of a file.")
    out_dir.mkdir(parents=True, exist_ok=True)
    try:
        with tempfile.NamedTemporaryFile(dir=out_dir, prefix=".eval-write-check-"):
            pass
    except OSError as exc:
        raise AssistantError(f"The results cannot be written to {out_dir} (the --out folder): {exc.strerror or exc}.",
                             "Give --out a folder you may write to (a missing one is made), or change its "
                             "permissions.") from None


def lacking_gold(questions: list[EvalQuestion]) -> dict[str, int]:
    """How many answerable questions have no gold_urls, and how many no must_include."""
    answerable = [q for q in questions if q.answerable]
    return {key: sum(not getattr(q, key) for q in answerable) for key in LIST_KEYS}


def describe_lacking(lacking: dict[str, int]) -> str:
    """The counts of lacking_gold in words, with the metrics each is left out of."""
    what = {"gold_urls": "retrieval and cited-source metrics",
            "must_include": "answer correctness and the reader's top-1"}
    return "; ".join(f"{counted(n, 'answerable question')} without {key}, not counted in {what[key]}"
                     for key, n in lacking.items() if n)


def _warn(message: str) -> None:
    print(f"warning: {message}", file=sys.stderr, flush=True)


def reader_best(assistant, q: EvalQuestion) -> str:
    """The reader's best sentence for the question, whether or not it was confident enough to answer."""
    try:
        draft = assistant.read(q.question, Filters(**q.filters))
    except AssistantError:
        return ""
    return draft.best.text if draft.best is not None else ""


def reader_metrics(questions: list[EvalQuestion], records: list[dict], bins: int = 5) -> dict:
    """The reader's own figures: how often its best sentence holds the answer (top-1), how well its confidence
    tells answerable from unanswerable questions (AUC), and how confidence relates to being right."""
    rows = []
    for q, r in zip(questions, records):
        best = {"answer": r.get("reader_best", ""), "refused": False, "citations": r["citations"], "sentences": []}
        # None: an answerable question without must_include, whose best sentence cannot be judged
        ok = (is_correct(q, best) if q.must_include else None) if q.answerable else False
        rows.append((q.answerable, float(r.get("confidence", 0.0)), ok))
    answerable = [c for a, c, _ in rows if a]
    unanswerable = [c for a, c, _ in rows if not a]
    pairs = [(p > n) + 0.5 * (p == n) for p in answerable for n in unanswerable]
    table = []
    for b in range(bins):
        low, high = b / bins, (b + 1) / bins
        inside = [(a, ok) for a, c, ok in rows if low <= c < high or (b == bins - 1 and c >= 1.0)]
        judged = [ok for _, ok in inside if ok is not None]
        table.append({"confidence": f"{low:.1f}-{high:.1f}", "questions": len(inside),
                      "answerable": _ratio(sum(a for a, _ in inside), len(inside)),
                      "best_sentence_correct": _ratio(sum(judged), len(judged))})
    judged = [ok for a, _, ok in rows if a and ok is not None]
    return {"top1_sentence_accuracy": _ratio(sum(judged), len(judged)),
            "answerability_auc": _ratio(sum(pairs), len(pairs)), "calibration": table}


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
    return Hit(entry.chunk_id, entry.text, entry.metadata, 0.0)


PAIR_KEYS = ("id", "source_url", "start", "end", "sentence", "supported")
PAIR_TEXT_KEYS = ("id", "source_url", "sentence")


def load_pairs(path: Path) -> list[dict]:
    """Labelled support pairs for `--pairs`, every field checked and ids unique, before any question is asked."""
    check_regular_file(path, "--pairs", "support pairs file")
    pairs = []
    first_line: dict[str, int] = {}
    fix_line = "Fix that line (see eval/README.md)."
    for number, line in json_lines(path, "the pairs file"):
        try:
            pair, problem = parse_line(line), ""
        except ValueError as exc:
            reason = str(exc)
            pair, problem = None, f" {reason[:1].upper()}{reason[1:]}."  # "Not valid JSON: ... at column 12."
        if not isinstance(pair, dict) or any(key not in pair for key in PAIR_KEYS):
            lacking = [key for key in PAIR_KEYS if key not in pair] if isinstance(pair, dict) else []
            raise AssistantError(f"{path}:{number} is not a support pair"
                                 + (f": it has no {', '.join(lacking)}." if lacking else "." + problem),
                                 f"Each line is a JSON object with {', '.join(PAIR_KEYS)} (see eval/README.md).")
        if type(pair["id"]) is int:
            pair["id"] = str(pair["id"])  # as a question's id written as a number
        for key in PAIR_TEXT_KEYS:
            if not isinstance(pair[key], str) or not pair[key].strip():
                raise AssistantError(f"{path}:{number}: the pair's {key} must be text that is not blank, not "
                                     f"{pair[key]!r}.", fix_line)
        if not isinstance(pair.get("kind", ""), str):
            raise AssistantError(f"{path}:{number}: the pair's kind must be text (paraphrase, changed_figure, ...), "
                                 f"not {pair['kind']!r}.", fix_line)
        span, supported = (pair["start"], pair["end"]), pair["supported"]
        if not (all(type(n) is int and n >= 0 for n in span) and span[0] < span[1] and type(supported) is bool):
            raise AssistantError(f"{path}:{number}: start and end must be character offsets with start < end, and "
                                 "supported true or false.", fix_line)
        if pair["id"] in first_line:
            raise AssistantError(f"{path}:{number} repeats the pair id {pair['id']!r} of line "
                                 f"{first_line[pair['id']]}.", "Give every pair an id of its own.")
        first_line[pair["id"]] = number
        pairs.append(pair)
    if not pairs:
        raise AssistantError(f"{path} holds no support pairs.", "Give a file of JSON lines, one pair each.")
    return pairs


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
        _warn(f"{counted(len(missing), 'support pair')} of {path} {'has its' if len(missing) == 1 else 'have their'} "
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
        "unsupported_precision": _ratio(tp, tp + fp), "unsupported_recall": _ratio(tp, tp + fn),
        "supported_kept": _ratio(tn, tn + fp),
        "accuracy_by_kind": {k: _ratio(ok, n) for k, (ok, n) in sorted(by_kind.items())},
        "confusion": {"flagged_unsupported": tp, "flagged_supported": fp, "missed_unsupported": fn,
                      "kept_supported": tn},
    }


# -- metrics -------------------------------------------------------------------------------------

def score(questions: list[EvalQuestion], records: list[dict], alce: list[dict], texts) -> dict:
    groups: dict[str, list[int]] = defaultdict(list)
    for i, record in enumerate(records):
        groups["overall"].append(i)
        groups[record["kind"]].append(i)
    return {name: _group_metrics([questions[i] for i in idx], [records[i] for i in idx],
                                 [alce[i] for i in idx], texts)
            for name, idx in sorted(groups.items(), key=lambda kv: (kv[0] != "overall", kv[0]))}


def _group_metrics(questions, records, alce, texts) -> dict:
    answerable = [(q, r) for q, r in zip(questions, records) if q.answerable]
    unanswerable = [(q, r) for q, r in zip(questions, records) if not q.answerable]
    recall5, mrr, precision, recall = [], [], [], []
    for q, r in answerable:
        if not q.gold_urls:  # nothing to measure retrieval or citations against
            continue
        top = first_sources(r)
        gold = set(q.gold_urls)
        recall5.append(len(gold & set(top)) / len(gold))
        mrr.append(next((1 / (i + 1) for i, s in enumerate(top) if s in gold), 0.0))
        cited = {c["source_url"] for c in shown_citations(r)}
        recall.append(len(gold & cited) / len(gold))
        if cited:
            precision.append(len(cited & gold) / len(cited))
    quotes = [ok for r in records for ok in quote_checks(r, texts)]
    answered = [r for r in records if not r["refused"]]
    words = sorted(len(answer_words(r["answer"]).split()) for r in answered)
    latency = sorted(r["wall_ms"] for r in records)
    sentences = sum(a["sentences"] for a in alce)
    cited_sentences = sum(a["supported"] for a in alce)
    return {
        "questions": len(records), "answerable": len(answerable), "unanswerable": len(unanswerable),
        **{f"answerable_without_{key}": n for key, n in lacking_gold(questions).items()},
        "retrieval_recall_at_5": _mean(recall5), "retrieval_mrr_at_5": _mean(mrr),
        "citation_source_precision": _mean(precision), "citation_source_recall": _mean(recall),
        "quote_validity": _ratio(sum(quotes), len(quotes)) if texts is not None else None,
        "quotes_checked": len(quotes),
        "alce_citation_recall": _ratio(cited_sentences, sentences),
        "alce_citation_precision": _ratio(sum(a["supporting_citations"] for a in alce),
                                          sum(a["citations"] for a in alce)),
        "sentences_dropped_share": _ratio(sum(a["dropped"] for a in alce), sentences),
        "answer_correctness": _mean([float(is_correct(q, r)) for q, r in answerable if q.must_include]),
        "unanswerable_refused": _mean([float(r["refused"]) for _, r in unanswerable]),
        "answerable_wrongly_refused": _mean([float(r["refused"]) for _, r in answerable]),
        # Refused before any search, for filters that match no minutes: counted in the two figures above as well.
        "unanswerable_refused_no_match_filters": sum(_no_match(r) for _, r in unanswerable),
        "answerable_refused_no_match_filters": sum(_no_match(r) for _, r in answerable),
        "answer_words_median": statistics.median(words) if words else None,
        "answer_words_p90": _percentile(words, 0.9),
        "latency_ms_median": round(statistics.median(latency), 1) if latency else None,
        "latency_ms_p95": _percentile(latency, 0.95),
    }


def _no_match(record: dict) -> bool:
    return record.get("refusal_reason") == "no_match_filters"


def _mean(values: list[float]) -> float | None:
    return round(sum(values) / len(values), 4) if values else None


def _ratio(numerator: float, denominator: float) -> float | None:
    return round(numerator / denominator, 4) if denominator else None


def _percentile(values: list[float], share: float) -> float | None:
    """The nearest-rank percentile of sorted values: the smallest value with at least `share` of them at or below it."""
    if not values:
        return None
    rank = math.ceil(share * len(values) - 1e-9)  # 0.9 * 10 may come out a hair above 9
    return round(values[max(0, min(len(values), rank) - 1)], 1)


# -- the report ----------------------------------------------------------------------------------

_ROWS = [
    ("retrieval_recall_at_5", "Retrieval recall@5"), ("retrieval_mrr_at_5", "Retrieval MRR@5"),
    ("citation_source_precision", "Cited sources that are gold"), ("citation_source_recall", "Gold sources cited"),
    ("quote_validity", "Quotes verbatim in the source"), ("alce_citation_recall", "ALCE citation recall"),
    ("alce_citation_precision", "ALCE citation precision"), ("sentences_dropped_share", "Sentences dropped by the guard"),
    ("answer_correctness", "Answer correctness"), ("unanswerable_refused", "Unanswerable refused"),
    ("unanswerable_refused_no_match_filters", "Unanswerable refused as filters matched nothing (questions)"),
    ("answerable_wrongly_refused", "Answerable wrongly refused"),
    ("answerable_refused_no_match_filters", "Answerable refused as filters matched nothing (questions)"),
    ("answer_words_median", "Answer words, median"),
    ("answer_words_p90", "Answer words, 90th percentile"), ("latency_ms_median", "Latency ms, median"),
    ("latency_ms_p95", "Latency ms, 95th percentile"),
]


def render_report(metrics: dict, records: list[dict], questions: list[EvalQuestion]) -> str:
    kinds = [k for k in KINDS if k in metrics]
    # Paths are named as given, and a name that is not UTF-8 (a Latin-1 name from an old share) is shown with U+FFFD.
    corpus = ", ".join(f"`{readable(c)}`" for c in metrics["corpus"] or ())
    lines = [
        "# Evaluation report", "",
        f"- Questions: `{readable(metrics['questions_file'])}` ({metrics['overall']['questions']})",
        f"- Mode: `{metrics['mode']}`; retrieval fusion: `{metrics.get('retrieval_fusion', 'reciprocal-rank')}`",
        f"- Corpus: {corpus or 'the existing index'}"
        + (f" (`{readable(metrics['index'])}`)" if metrics.get("index") and not metrics["corpus"] else ""),
        "", "## Metrics", "",
        "| metric | overall | " + " | ".join(kinds) + " |",
        "| --- | --- | " + " | ".join("---" for _ in kinds) + " |",
    ]
    for key, label in _ROWS:
        cells = [_fmt(metrics["overall"].get(key), key)] + [_fmt(metrics[k].get(key), key) for k in kinds]
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    if metrics["overall"]["quote_validity"] is None:
        lines += ["", "Quote validity was not measured: it needs `--corpus` to re-read the sources."]
    lacking = lacking_gold(questions)
    if any(lacking.values()):
        lines += ["", f"Not scored in full: {describe_lacking(lacking)}."]
    if metrics.get("filters_matching_nothing"):
        lines += ["", f"Filters matching nothing: {describe_unmatched(metrics['filters_matching_nothing'])}. They "
                      "are counted in the refusal figures, and on their own in the rows \"refused as filters matched "
                      "nothing\"."]
    pairs = metrics.get("support_pairs")
    if pairs and pairs.get("measured"):
        skipped = (f" ({pairs['missing_sources']} skipped: source not in the corpus)" if pairs["missing_sources"]
                   else "")
        lines += ["", "## The grounding guard on labelled support pairs", "",
                  f"{counted(pairs['pairs'], 'pair')}{skipped}.", "",
                  f"- Precision at finding unsupported sentences: {_fmt(pairs['unsupported_precision'])}",
                  f"- Recall at finding unsupported sentences: {_fmt(pairs['unsupported_recall'])}",
                  f"- Supported sentences kept: {_fmt(pairs['supported_kept'])}", "",
                  "| pair kind | accuracy |", "| --- | --- |"]
        lines += [f"| {k} | {_fmt(v)} |" for k, v in pairs["accuracy_by_kind"].items()]
    reader = metrics.get("reader")
    if reader:
        lines += ["", "## The reader", "",
                  f"- Its best sentence holds the answer (top-1, answerable questions): "
                  f"{_fmt(reader['top1_sentence_accuracy'])}",
                  f"- Answerability AUC (its confidence, answerable against unanswerable): "
                  f"{_fmt_why(reader['answerability_auc'], _why_no_auc(metrics['overall']))}", "",
                  "| confidence | questions | share answerable | best sentence holds the answer |",
                  "| --- | --- | --- | --- |"]
        lines += [f"| {row['confidence']} | {row['questions']} | {_fmt(row['answerable'])} | "
                  f"{_fmt(row['best_sentence_correct'])} |" for row in reader["calibration"]]
    failures = [r for r, q in zip(records, questions) if (q.answerable and not is_correct(q, r))
                or (not q.answerable and not r["refused"])]
    # The answers themselves stay in answers.jsonl: they quote the minutes, which this report does not.
    lines += ["", f"## Questions not answered as expected ({len(failures)})", ""]
    for r in failures:
        outcome = f"refused ({r['refusal_reason']})" if r["refused"] else "answered"
        expected = f"; expected {', '.join(repr(m) for m in r['must_include'])}" if r["must_include"] else ""
        lines.append(f"- `{r['id']}` ({r['kind']}, {outcome}{expected}): {r['question']}")
    return "\n".join(lines) + "\n"


# Figures that are not shares: a word count or a time below 1 is not written as one ("0.200").
_AMOUNTS = ("answer_words_median", "answer_words_p90", "latency_ms_median", "latency_ms_p95")


def _fmt(value, key: str = "") -> str:
    if value is None:
        return "–"
    if isinstance(value, float) and value <= 1.0 and key not in _AMOUNTS:
        return f"{value:.3f}"
    if isinstance(value, float):
        # A median of an even count of whole numbers is a float: 27.0 beside 34 in one row read as two kinds of figure.
        return f"{value:.0f}" if value.is_integer() else f"{value:.1f}"
    return str(value)


def _fmt_why(value, why_missing: str, key: str = "") -> str:
    """A figure, or a dash with the reason it is missing."""
    return _fmt(value, key) if value is not None else f"– ({why_missing})"


def _why_no_auc(overall: dict) -> str:
    return "no unanswerable questions" if overall["answerable"] else "no answerable questions"


def summary_lines(metrics: dict) -> list[str]:
    """The run's main figures for the terminal, each missing one with the reason it is missing."""
    overall, reader = metrics["overall"], metrics["reader"]
    no_gold = "no answerable question has gold_urls"
    no_facts = "no answerable question has must_include"
    why = {
        "retrieval_recall_at_5": no_gold,
        "answer_correctness": no_facts,
        "citation_source_precision": "no answer to a question with gold_urls cited a source"
        if overall["answerable"] > overall["answerable_without_gold_urls"] else no_gold,
        "quote_validity": "needs --corpus" if metrics["corpus"] is None else "no quotes",
        "unanswerable_refused": "no unanswerable questions",
        "answerable_wrongly_refused": "no answerable questions",
        "answer_words_median": "every question was refused",
        "latency_ms_median": "no questions",
    }
    lines = [f"  questions: {overall['questions']} ({overall['answerable']} answerable, "
             f"{overall['unanswerable']} unanswerable)"]
    lines += [f"  {key}: {_fmt_why(overall[key], reason, key)}" for key, reason in why.items()]
    if overall["unanswerable_refused_no_match_filters"]:
        lines.append(f"    of the unanswerable refused, {overall['unanswerable_refused_no_match_filters']} only because "
                     "their filters match nothing in the index")
    lines += [f"  reader top1_sentence_accuracy: {_fmt_why(reader['top1_sentence_accuracy'], no_facts)}",
              f"  reader answerability_auc: {_fmt_why(reader['answerability_auc'], _why_no_auc(overall))}"]
    pairs = metrics.get("support_pairs")
    if pairs and pairs.get("measured"):
        lines.append(f"  guard on {counted(pairs['pairs'], 'pair')}: unsupported precision "
                     f"{_fmt_why(pairs['unsupported_precision'], 'no sentence flagged')}, recall "
                     f"{_fmt_why(pairs['unsupported_recall'], 'no unsupported pairs')}, supported kept "
                     f"{_fmt_why(pairs['supported_kept'], 'no supported pairs')}")
    return lines
