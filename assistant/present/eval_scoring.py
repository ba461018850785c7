"""Scoring the evaluation's answers, and its report: whether each answer is right and its quotes verbatim, the
figures over a question file and over each kind of question, the reader's own figures, and report.md."""

from __future__ import annotations

import math
import statistics
from collections import defaultdict

from assistant.present.eval_questions import KINDS, EvalQuestion, describe_lacking, lacking_gold
from assistant.text import counted, first_few, normalise_space, readable

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
                      "answerable": ratio(sum(a for a, _ in inside), len(inside)),
                      "best_sentence_correct": ratio(sum(judged), len(judged))})
    judged = [ok for a, _, ok in rows if a and ok is not None]
    return {"top1_sentence_accuracy": ratio(sum(judged), len(judged)),
            "answerability_auc": ratio(sum(pairs), len(pairs)), "calibration": table}


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
        "quote_validity": ratio(sum(quotes), len(quotes)) if texts is not None else None,
        "quotes_checked": len(quotes),
        "alce_citation_recall": ratio(cited_sentences, sentences),
        "alce_citation_precision": ratio(sum(a["supporting_citations"] for a in alce),
                                          sum(a["citations"] for a in alce)),
        "sentences_dropped_share": ratio(sum(a["dropped"] for a in alce), sentences),
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


def ratio(numerator: float, denominator: float) -> float | None:
    return round(numerator / denominator, 4) if denominator else None


def _percentile(values: list[float], share: float) -> float | None:
    """The nearest-rank percentile of sorted values: the smallest value with at least `share` of them at or below it."""
    if not values:
        return None
    rank = math.ceil(share * len(values) - 1e-9)  # 0.9 * 10 may come out a hair above 9
    return round(values[max(0, min(len(values), rank) - 1)], 1)


def describe_unmatched(ids: list[str]) -> str:
    """The questions of filters_matching_nothing in words, with what it does to the figures."""
    one = len(ids) == 1
    return (f"{counted(len(ids), 'question')} {'has' if one else 'have'} filters that match nothing in the index "
            f"({first_few(ids, 5)}): {'it is' if one else 'they are'} refused as no_match_filters without being "
            "asked, and an unanswerable one counts as rightly refused (a misspelt council or committee, or dates "
            "outside the minutes?)")


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
