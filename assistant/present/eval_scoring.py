"""Scoring the evaluation's answers, and its report: whether each answer is right and its quotes verbatim, the
figures over a question file and over each kind of question, the reader's own figures, the floors, and report.md."""

from __future__ import annotations

import math
import statistics
from collections import defaultdict
from dataclasses import dataclass
from itertools import islice

from assistant.present.eval_questions import KINDS, EvalQuestion, describe_lacking, lacking_gold
from assistant.text import (COUNCIL_KIND_WORDS, COUNCIL_NAME_JOINERS, WELSH_COUNCIL_NAME_JOINERS, counted, first_few,
                            fold, fold_typography, normalise_space, one_printed_line, readable)

# Refused before the reader read anything: its confidence (0) and best sentence ('') say nothing about it.
REFUSED_UNREAD = ("no_match_filters", "bad_question")


def first_sources(answer: dict, limit: int = 5) -> list[str]:
    return list(dict.fromkeys(r["source_url"] for r in answer["retrieved"]))[:limit]


def shown_citations(answer: dict) -> list[dict]:
    shown = {m for s in answer["sentences"] if s["shown"] for m in s["markers"]}
    return [c for c in answer["citations"] if c["marker"] in shown]


def is_correct(q: EvalQuestion, answer: dict) -> bool:
    return q.answerable and not answer["refused"] and not missing_strings(q, answer)


# What became of one question, as answers.jsonl records it, so that two runs can be compared question by question
# (scripts/compare_answers.py): correct and rightly_refused count for the figures, WORSE_OUTCOMES against them, and
# answered_unscored and model_failed are not scored.
OUTCOMES = ("correct", "rightly_refused", "answered_unscored", "model_failed", "wrong", "wrongly_refused",
            "answered_unanswerable")
WORSE_OUTCOMES = ("wrong", "wrongly_refused", "answered_unanswerable")


def outcome(q: EvalQuestion, answer: dict) -> str:
    """One of OUTCOMES, as the figures count it: an answerable question answered with every must_include string is
    correct, one answered without them wrong, one refused wrongly refused (with no must_include, an answer is not
    scored); an unanswerable one is rightly refused or answered; a question the model failed on is left out."""
    if answer.get("model_failed"):
        return "model_failed"
    if not q.answerable:
        return "rightly_refused" if answer["refused"] else "answered_unanswerable"
    if answer["refused"]:
        return "wrongly_refused"
    if not q.must_include:
        return "answered_unscored"
    return "correct" if is_correct(q, answer) else "wrong"


def missing_strings(q: EvalQuestion, answer: dict) -> list[str]:
    """The must_include strings an answer lacks: all of them when it was refused."""
    if answer["refused"]:
        return list(q.must_include)
    councils = [c["council"] for c in shown_citations(answer)]
    return _not_held(q, answer_words(answer["answer"]), councils)


def _not_held(q: EvalQuestion, text: str, councils: list[str]) -> list[str]:
    """The must_include strings not in `text` (for `multi` questions, a council's name may be held by one of
    `councils`, the councils of the sources cited)."""
    text = as_compared(text)
    councils = [as_compared(council) for council in councils if council] if q.kind == "multi" else []
    missing = []
    for needle in q.must_include:
        wanted = compared_string(needle)
        if not holds(text, wanted) and not any(names_council(council, wanted) for council in councils):
            missing.append(needle)
    return missing


def compared_string(needle: str) -> str:
    """A must_include string as it is looked for: without citation markers (a gold string written with its marker,
    '48 [1]'), and as_compared."""
    return as_compared(answer_words(needle))


def names_council(council: str, wanted: str) -> bool:
    """Whether a must_include string (compared_string) names the council of that name (as_compared): as whole words
    of its name, one of them a word of its place. 'Leicester' does not name Leicestershire County Council, and
    'Council' or 'County' names no council: any source cited would hold them."""
    return holds(council, wanted) and any(word not in _COUNCIL_KIND_AND_JOINING_WORDS for word in fold(wanted).split())


# The words of a council's name that say what kind of council it is, or join its words: never where it is.
_COUNCIL_KIND_AND_JOINING_WORDS = COUNCIL_KIND_WORDS | COUNCIL_NAME_JOINERS | WELSH_COUNCIL_NAME_JOINERS


def as_compared(text: str) -> str:
    """Text as answers, gold strings and the minutes are compared: spaces squeezed, curly quotes and long dashes as
    typed on a keyboard (a gold "Children's" is in minutes that print "Children’s"), lower case."""
    return fold_typography(normalise_space(text)).lower()


def strings_in_no_gold_item(questions: list[EvalQuestion], texts: dict[str, dict]) -> dict[str, list[str]]:
    """By question id, the must_include strings that none of the question's gold items holds, when the text of every
    one is at hand: a typo, or a figure the minutes write otherwise. Such a question is scored wrong whatever is
    answered. (Gold items not at hand are warned of as not indexed.)"""
    lacking = {}
    for q in questions:
        if not q.answerable or not q.gold_urls or not all(url in texts for url in q.gold_urls):
            continue
        held_nowhere = set(q.must_include)
        for url in q.gold_urls:
            held_nowhere &= set(_not_held(q, texts[url]["text"], [texts[url]["council"] or ""]))
        if held_nowhere:
            lacking[q.id] = [needle for needle in q.must_include if needle in held_nowhere]
    return lacking


# eval/README.md's rule: a must_include string found in at most this many items of the corpus pins the answer to
# its sources.
MOST_ITEMS_PER_STRING = 3


def strings_in_many_items(questions: list[EvalQuestion], texts: dict[str, dict]) -> dict[str, list[str]]:
    """By question id, the must_include strings found in more than MOST_ITEMS_PER_STRING items of the minutes at
    hand ('the', 'care'): an answer quoting any of those items would hold them, so they do not pin the answer to its
    sources. A multi question's strings that name a council are left out, as eval/README.md's rule leaves them."""
    compared = [as_compared(t["text"]) for t in texts.values()]
    councils = {as_compared(t["council"]) for t in texts.values() if t["council"]}
    items_holding: dict[str, int] = {}  # by string as compared, up to one more than the rule allows
    common = {}
    for q in questions:
        strings = []
        for needle in q.must_include:
            wanted = compared_string(needle)
            if q.kind == "multi" and any(names_council(council, wanted) for council in councils):
                continue
            if wanted not in items_holding:
                held_by = (text for text in compared if holds(text, wanted))
                items_holding[wanted] = sum(1 for _ in islice(held_by, MOST_ITEMS_PER_STRING + 1))
            if items_holding[wanted] > MOST_ITEMS_PER_STRING:
                strings.append(needle)
        if strings:
            common[q.id] = strings
    return common


def answer_words(answer: str) -> str:
    """An answer's text without its [n] citation markers: a gold figure "1" is not found in "[1]", nor do the
    markers count as words."""
    from assistant.verify.guard import strip_markers

    return strip_markers(answer)[0]


def holds(text: str, needle: str) -> bool:
    """Whether the must_include string `needle` is in `text` (both as compared: as_compared(text) and
    compared_string(needle)), the one rule of the scoring and of the checks of a question file against the minutes.
    An end of `needle` that is a letter is a whole word's: "ward" is not in "towards", nor "hall" in "challenge", nor
    "lee" in "leeds". An end that is a digit is a whole figure's: "48" is not in "148", nor "1" in "1.5" or "1,234",
    nor "28" in "28.5%", nor "62" in "m62"; a unit may follow it ("1.2" is in "£1.2m")."""
    start = text.find(needle)
    while start >= 0:
        end = start + len(needle)
        if not (_runs_on(text, start - 1, -1, needle[:1]) or _runs_on(text, end, 1, needle[-1:])):
            return True
        start = text.find(needle, start + 1)
    return False


def _runs_on(text: str, at: int, step: int, edge: str) -> bool:
    """Whether the character at `at`, beside a match whose character at that end is `edge`, makes the match part of
    a longer word or figure: a letter or digit beside a letter; beside a digit, a digit, a decimal point or thousands
    comma with a digit beyond it, or a letter before it (the figure is then part of a code: 'M62', 'KS2'). A letter
    after a digit is the figure's unit ('£1.2m', '10am'), as the minutes write them."""
    def char(i: int) -> str:
        return text[i] if 0 <= i < len(text) else ""

    if edge.isalpha():
        return char(at).isalnum()
    if not edge.isdigit():
        return False
    figure_goes_on = char(at).isdigit() or (char(at) in (".", ",") and char(at + step).isdigit())
    return figure_goes_on or (step < 0 and char(at).isalpha())


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
    tells answerable from unanswerable questions (AUC), and how confidence relates to being right. Questions
    refused before the reader read anything (filters matching nothing) are left out, and counted."""
    rows = []
    for q, r in zip(questions, records):
        if r.get("refusal_reason") in REFUSED_UNREAD:
            continue
        best = {"answer": r.get("reader_best", ""), "refused": False, "citations": r["citations"], "sentences": []}
        # None: an unanswerable question, or an answerable one without must_include, whose best sentence cannot
        # be judged
        ok = is_correct(q, best) if q.answerable and q.must_include else None
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
                      "best_sentence_correct": ratio(sum(judged), len(judged)),
                      "best_sentence_counts": [sum(judged), len(judged)]})
    judged = [ok for a, _, ok in rows if a and ok is not None]
    return {"top1_sentence_accuracy": ratio(sum(judged), len(judged)), "top1_counts": [sum(judged), len(judged)],
            "answerability_auc": ratio(sum(pairs), len(pairs)), "calibration": table,
            "questions_not_read": len(records) - len(rows)}


def score(questions: list[EvalQuestion], records: list[dict], alce: list[dict], texts) -> dict:
    groups: dict[str, list[int]] = defaultdict(list)
    groups["overall"] = []  # even with no records: a run whose every question the model failed is still reported
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
    correct = [float(is_correct(q, r)) for q, r in answerable if q.must_include]
    unanswerable_refused = [float(r["refused"]) for _, r in unanswerable]
    wrongly_refused = [float(r["refused"]) for _, r in answerable]
    dropped = sum(a["dropped"] for a in alce)
    supporting, citations = sum(a["supporting_citations"] for a in alce), sum(a["citations"] for a in alce)
    metrics = {
        "questions": len(records), "answerable": len(answerable), "unanswerable": len(unanswerable),
        **{f"answerable_without_{key}": n for key, n in lacking_gold(questions).items()},
        "retrieval_recall_at_5": _mean(recall5), "retrieval_mrr_at_5": _mean(mrr),
        "citation_source_precision": _mean(precision), "citation_source_recall": _mean(recall),
        "quote_validity": ratio(sum(quotes), len(quotes)) if texts is not None else None,
        "quotes_checked": len(quotes),
        "alce_citation_recall": ratio(cited_sentences, sentences),
        "alce_citation_precision": ratio(supporting, citations),
        "sentences_dropped_share": ratio(dropped, sentences),
        "answer_correctness": _mean(correct),
        "unanswerable_refused": _mean(unanswerable_refused),
        "answerable_wrongly_refused": _mean(wrongly_refused),
        # Refused before any search, for filters that match no minutes: counted in the two figures above as well.
        "unanswerable_refused_no_match_filters": sum(_no_match(r) for _, r in unanswerable),
        "answerable_refused_no_match_filters": sum(_no_match(r) for _, r in answerable),
        "answer_words_median": statistics.median(words) if words else None,
        "answer_words_p90": _percentile(words, 0.9),
        "latency_ms_median": round(statistics.median(latency), 1) if latency else None,
        "latency_ms_p95": _percentile(latency, 0.95),
    }
    # What each share is of, so that a change of one question reads as one ("0.933 (14 of 15)").
    counts = {"retrieval_recall_at_5": (sum(recall5), len(recall5)), "retrieval_mrr_at_5": (sum(mrr), len(mrr)),
              "citation_source_precision": (sum(precision), len(precision)),
              "citation_source_recall": (sum(recall), len(recall)),
              "quote_validity": (sum(quotes), len(quotes)),
              "alce_citation_recall": (cited_sentences, sentences), "alce_citation_precision": (supporting, citations),
              "sentences_dropped_share": (dropped, sentences), "answer_correctness": (sum(correct), len(correct)),
              "unanswerable_refused": (sum(unanswerable_refused), len(unanswerable_refused)),
              "answerable_wrongly_refused": (sum(wrongly_refused), len(wrongly_refused))}
    if any(str(r.get("mode", "")).startswith("llm:") for r in records):
        counts.update(_model_figures(metrics, answerable, answered))
    # Every share has its counts, [0, 0] when it had nothing to measure, as eval/README.md says: a count left out
    # could not be told from one this version does not write.
    metrics["counts"] = {key: [_count(n), _count(total)] for key, (n, total) in counts.items()}
    return metrics


def _model_figures(metrics: dict, answerable: list, answered: list[dict]) -> dict:
    """In language-model mode: how many answers are the reader's quote in place of the model's reply (fallback) or
    were cut short by the model stopping part-way, and correctness over the answers the model wrote in full. Without
    these, a model whose replies are never used scores exactly as the reader does."""
    written = [float(is_correct(q, r)) for q, r in answerable
               if q.must_include and not r["refused"] and not r.get("fallback") and not r.get("cut_short")]
    fallback = sum(bool(r.get("fallback")) for r in answered)
    cut_short = sum(bool(r.get("cut_short")) for r in answered)
    metrics.update(answered=len(answered), fallback_answers=fallback, cut_short_answers=cut_short,
                   answer_correctness_model_written=_mean(written))
    return {"fallback_answers": (fallback, len(answered)), "cut_short_answers": (cut_short, len(answered)),
            "answer_correctness_model_written": (sum(written), len(written))}


def _count(n: float) -> float | int:
    """A count as written: whole when it is (a recall summed over questions with two gold items may not be)."""
    return int(n) if float(n).is_integer() else round(n, 2)


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


def fell_back_mostly(overall: dict) -> bool:
    """Whether more than half the answered questions got the reader's quote in place of the model's reply."""
    return overall.get("fallback_answers", 0) * 2 > overall.get("answered", 0) > 0


def describe_fallbacks(overall: dict) -> str:
    return (f"{overall['fallback_answers']} of the {counted(overall['answered'], 'answered question')} got the "
            "reader's quote in place of the language model's reply (fallback): these figures are mostly the "
            "reader's, not the model's. Each such answer's note says why (an empty reply, a refusal, no supported "
            "sentence); \"answer correctness, answers the model wrote in full\" leaves them out")


def failure_reason(q: EvalQuestion, record: dict) -> str:
    """Why a question counts as not answered as expected, in a few words: "refused (not_stated) at confidence 0.36",
    "answered; gold not cited; missing '148'"."""
    confidence = f"at confidence {float(record.get('confidence', 0.0)):.2f}"
    if record["refused"]:
        reason = record.get("refusal_reason")
        if reason == "no_match_filters":
            said = "refused: its filters match nothing in the index"
        elif reason == "bad_question":
            # Turned away before any search: the reader never read it, so a confidence of 0.00 would say nothing.
            said = "refused unasked: `ask` turns the question away (small talk, or no topic to look for)"
        else:
            said = f"refused ({reason}) {confidence}"
        return said + (f"; expected {', '.join(map(repr, q.must_include))}" if q.must_include else "")
    said = "answered with the reader's quote (fallback)" if record.get("fallback") else "answered"
    if not q.answerable:
        return f"{said} {confidence}"
    parts = [said]
    gold = set(q.gold_urls)
    if gold and not gold & {c["source_url"] for c in shown_citations(record)}:
        parts.append("gold not cited" if gold & set(first_sources(record)) else "gold not retrieved")
    if missing := missing_strings(q, record):
        parts.append(f"missing {', '.join(map(repr, missing))}")
    return "; ".join(parts)


@dataclass(frozen=True)
class FloorCheck:
    """One gated figure of a run against its bound in eval/floors.json: a floor ("min") or a ceiling ("max")."""

    figure: str
    value: float | None
    bound: float
    kind: str
    count: tuple[float, float] | None = None  # what the share is of, when known: (30, 51)

    @property
    def held(self) -> bool:
        if self.value is None:
            return False
        return self.value >= self.bound if self.kind == "min" else self.value <= self.bound

    def failure(self) -> str:
        """What is wrong, when it did not hold, as the gate says it."""
        if self.value is None:
            return f"{self.figure} was not measured"
        of = f" ({self.count[0]:g} of {self.count[1]:g})" if self.count else ""
        if self.kind == "min":
            return f"{self.figure} = {self.value}{of} is below its floor {self.bound}"
        return f"{self.figure} = {self.value}{of} is above its ceiling {self.bound}"

    def as_json(self) -> dict:
        return {"figure": self.figure, "value": self.value, self.kind: self.bound, "held": self.held}


def check_floors(figures: dict, floors: dict) -> list[FloorCheck]:
    """Each bound of one entry of eval/floors.json ({figure: {"min": x} or {"max": x}}) against the run's figures (with
    what each share is of, from their "counts"); a figure the run does not have (None, or not named) was not
    measured, which does not hold."""
    counts = figures.get("counts") or {}
    return [FloorCheck(figure, figures.get(figure), bound[kind], kind,
                       tuple(counts[figure]) if figure in counts else None)
            for figure, bound in floors.items() if isinstance(bound, dict) for kind in ("min", "max") if kind in bound]


def floor_failures(figures: dict, floors: dict) -> list[str]:
    """What broke its floor or ceiling, one line each: empty when every bound held (what the gate asserts)."""
    return [check.failure() for check in check_floors(figures, floors) if not check.held]


def gated_figures(metrics: dict) -> dict:
    """The figures a floor may name: the overall ones and, when the guard was measured on support pairs, its own."""
    pairs = metrics.get("support_pairs") or {}
    return {**metrics["overall"], **(pairs if pairs.get("measured") else {})}


def describe_index_change(changed_after: list[int], questions: int) -> str:
    again = f" (and again after question {first_few([str(n) for n in changed_after[1:]])})" if changed_after[1:] else ""
    return (f"The index changed after question {changed_after[0]} of {questions}{again} while the run was asking (an "
            "ingest or fetch meanwhile): these figures mix two states of the index. Run again when no writer is at "
            "work")


def describe_unmatched(ids: list[str]) -> str:
    """The questions of filters_matching_nothing in words, with what it does to the figures."""
    one = len(ids) == 1
    return (f"{counted(len(ids), 'question')} {'has' if one else 'have'} filters that match nothing in the index "
            f"({first_few(ids, 5)}): {'it is' if one else 'they are'} refused as no_match_filters without being "
            "asked, and an unanswerable one counts as rightly refused (a misspelt council or committee, or dates "
            "outside the minutes?)")


def describe_turned_away(ids: list[str]) -> str:
    """The questions `ask` turns away before any search (small talk, or a question naming no topic), in words."""
    one = len(ids) == 1
    return (f"{counted(len(ids), 'question')} {'is' if one else 'are'} turned away by `ask` before any search "
            f"({first_few(ids, 5)}: small talk, or no topic to look for): an unanswerable one counts as rightly "
            "refused, and an answerable one as wrongly refused, without the reader being tested, and the reader's "
            f"figures leave {'it' if one else 'them'} out")


def describe_unknown_gold(ids: list[str]) -> str:
    one = len(ids) == 1
    return (f"{counted(len(ids), 'question')} {'names' if one else 'name'} gold_urls that no indexed item has "
            f"({first_few(ids, 5)}): a misspelt id, or minutes not ingested. Those sources count as not retrieved and "
            "not cited")


def describe_unindexed_councils(named: dict[str, list[str]]) -> str:
    one = len(named) == 1
    which = [f"{q}: {' and '.join(councils)}" for q, councils in named.items()]
    return (f"{counted(len(named), 'question')} {'names' if one else 'name'} a council the index does not hold "
            f"({first_few(which, 5)}): nothing indexed is about it, so an unanswerable one refused counts as right "
            "without testing the reader, and an answerable one cannot be answered (the wrong --corpus or --index?)")


def describe_strings_not_in_gold(lacking: dict[str, list[str]]) -> str:
    one = len(lacking) == 1
    which = [f"{q}: {', '.join(map(repr, strings))}" for q, strings in lacking.items()]
    return (f"{counted(len(lacking), 'question')} {'has' if one else 'have'} must_include strings that none of "
            f"{'its' if one else 'their'} gold items holds, curly quotes and dashes taken for straight ones "
            f"({first_few(which, 5, '; ')}): such a question is scored wrong whatever is answered. Fix the string (a "
            "typo?) or the gold_urls")


def describe_strings_in_many_items(common: dict[str, list[str]]) -> str:
    one = len(common) == 1
    which = [f"{q}: {', '.join(map(repr, strings))}" for q, strings in common.items()]
    return (f"{counted(len(common), 'question')} {'has' if one else 'have'} must_include strings found in more than "
            f"{MOST_ITEMS_PER_STRING} items of the minutes ({first_few(which, 5, '; ')}): an answer quoting any of "
            "those items would hold them, so they do not pin the answer to its sources (eval/README.md). Give a "
            "rarer string from the sentence that answers")


def describe_unanswerable_with_gold(ids: list[str]) -> str:
    one = len(ids) == 1
    return (f"{counted(len(ids), 'unanswerable question')} {'has' if one else 'have'} gold_urls or must_include "
            f"({first_few(ids, 5)}), which an unanswerable question leaves empty (eval/README.md): is "
            f"{'its' if one else 'each'} kind right? {'It is' if one else 'They are'} scored as unanswerable")


def loud_warnings(metrics: dict) -> list[str]:
    """What makes the run's figures other than they seem (the summary ends with these), each without its stop."""
    warnings = [describe_fallbacks(metrics["overall"])] if fell_back_mostly(metrics["overall"]) else []
    if metrics.get("model_failures"):
        warnings.append(describe_model_failures(metrics["model_failures"], metrics["overall"]["questions"]))
    if metrics.get("index_changed_after_question"):
        # Numbered among every question asked, the ones the model failed on too ("after question 9 of 8" had been said).
        asked = metrics["overall"]["questions"] + len(metrics.get("model_failures") or ())
        warnings.append(describe_index_change(metrics["index_changed_after_question"], asked))
    return warnings


def describe_model_failures(failed: list[str], answered: int) -> str:
    """The questions whose language model failed (an error from its server), without the stop."""
    return (f"The language model failed on {counted(len(failed), 'question')} of {len(failed) + answered} "
            f"({first_few(failed, 5)}): {'it is' if len(failed) == 1 else 'they are'} in answers.jsonl with "
            "the error (`model_failed`, `error`) and left out of every figure here; run them again once the model "
            "answers")


def input_warnings(metrics: dict) -> list[str]:
    """What was wrong with the questions against the minutes (warned of as the run began), each without its stop."""
    return [describe(metrics[key]) for key, describe in (
        ("gold_urls_not_indexed", describe_unknown_gold), ("councils_not_indexed", describe_unindexed_councils),
        ("questions_turned_away", describe_turned_away),
        ("must_include_in_no_gold_item", describe_strings_not_in_gold),
        ("must_include_in_many_items", describe_strings_in_many_items),
        ("unanswerable_with_gold", describe_unanswerable_with_gold)) if metrics.get(key)]


_ROWS = [
    ("retrieval_recall_at_5", "Retrieval recall@5"), ("retrieval_mrr_at_5", "Retrieval MRR@5"),
    ("citation_source_precision", "Cited sources that are gold"), ("citation_source_recall", "Gold sources cited"),
    ("quote_validity", "Quotes verbatim in the source"), ("alce_citation_recall", "ALCE citation recall"),
    ("alce_citation_precision", "ALCE citation precision"), ("sentences_dropped_share", "Sentences dropped by the guard"),
    ("answer_correctness", "Answer correctness"),
    ("answer_correctness_model_written", "Answer correctness, answers the model wrote in full"),
    ("fallback_answers", "Answers quoted from the minutes in place of the model's reply (fallback)"),
    ("cut_short_answers", "Answers the model stopped part-way (cut short)"),
    ("unanswerable_refused", "Unanswerable refused"),
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
        f"- Questions: `{readable(metrics['questions_file'])}` ({metrics['overall']['questions']}"
        + (f" scored, {len(metrics['model_failures'])} the model failed on)" if metrics.get("model_failures") else ")"),
        f"- Mode: `{metrics['mode']}`; retrieval fusion: `{metrics.get('retrieval_fusion', 'reciprocal-rank')}`",
        f"- Corpus: {corpus or 'the existing index'}"
        + (f" (`{readable(metrics['index'])}`)" if metrics.get("index") and not metrics["corpus"] else ""),
        *_produced_by_lines(metrics.get("produced_by")),
    ]
    loud, of_inputs = loud_warnings(metrics), input_warnings(metrics)
    if loud or of_inputs:
        # One line each: a warning names question ids, which may hold a line break or an escape.
        lines += ["", "## Warnings", "", *(f"- **{one_printed_line(w)}.**" for w in loud),
                  *(f"- {one_printed_line(w)}." for w in of_inputs)]
    lines += ["", "## Metrics", "",
              "| metric | overall | " + " | ".join(kinds) + " |",
              "| --- | --- | " + " | ".join("---" for _ in kinds) + " |"]
    for key, label in _ROWS:
        if key not in metrics["overall"]:  # the language model's own rows, in its mode only
            continue
        cells = [_cell(metrics["overall"], key)] + [_cell(metrics[k], key) for k in kinds]
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
    lines += _floor_lines(metrics)
    pairs = metrics.get("support_pairs")
    if pairs and pairs.get("measured"):
        skipped = (f" ({pairs['missing_sources']} skipped: source not in the corpus)" if pairs["missing_sources"]
                   else "")
        counts = pairs.get("counts_by_kind", {})
        lines += ["", "## The grounding guard on labelled support pairs", "",
                  f"{counted(pairs['pairs'], 'pair')}{skipped}.", "",
                  f"- Precision at finding unsupported sentences: {_fmt(pairs['unsupported_precision'])}",
                  f"- Recall at finding unsupported sentences: {_fmt(pairs['unsupported_recall'])}",
                  f"- Supported sentences kept: {_fmt(pairs['supported_kept'])}", "",
                  "| pair kind | accuracy |", "| --- | --- |"]
        lines += [f"| {k} | {_with_count(_fmt(v), counts.get(k))} |" for k, v in pairs["accuracy_by_kind"].items()]
    reader = metrics.get("reader")
    if reader:
        lines += ["", "## The reader", "",
                  f"- Its best sentence holds the answer (top-1, answerable questions): "
                  f"{_with_count(_fmt(reader['top1_sentence_accuracy']), reader.get('top1_counts'))}",
                  f"- Answerability AUC (its confidence, answerable against unanswerable): "
                  f"{_fmt_why(reader['answerability_auc'], _why_no_auc(metrics['overall']))}"]
        if reader.get("questions_not_read"):
            lines.append(f"- Left out of these figures: {counted(reader['questions_not_read'], 'question')} refused "
                         f"before the reader read anything ({_why_not_read(records)})")
        lines += ["", "| confidence | questions | share answerable | best sentence holds the answer (answerable) |",
                  "| --- | --- | --- | --- |"]
        lines += [f"| {row['confidence']} | {row['questions']} | {_fmt(row['answerable'])} | "
                  f"{_with_count(_fmt(row['best_sentence_correct']), row.get('best_sentence_counts'))} |"
                  for row in reader["calibration"]]
    failures = [(r, q) for r, q in zip(records, questions) if (q.answerable and not is_correct(q, r))
                or (not q.answerable and not r["refused"])]
    # The answers themselves stay in answers.jsonl: they quote the minutes, which this report does not.
    lines += ["", f"## Questions not answered as expected ({len(failures)})", ""]
    for r, q in failures:
        # An id is taken as written (a line break, an escape), and would otherwise split its item of the list.
        lines.append(f"- `{one_printed_line(r['id'])}` ({r['kind']}; {failure_reason(q, r)}): "
                     f"{one_printed_line(r['question'])}")
    return "\n".join(lines) + "\n"


def _why_not_read(records: list[dict]) -> str:
    """Why the questions left out of the reader's figures were never read, with how many for each reason: not all
    for filters matching nothing, which the report had said of a question `ask` turned away too."""
    said = {"no_match_filters": "filters matching nothing", "bad_question": "turned away by `ask` unasked"}
    reasons = [r.get("refusal_reason") for r in records if r.get("refusal_reason") in REFUSED_UNREAD]
    return "; ".join(f"{said[reason]}: {reasons.count(reason)}" for reason in REFUSED_UNREAD if reason in reasons)


def _produced_by_lines(produced: dict | None) -> list[str]:
    """The report head's record of what made the run, so that a report can be dated and two runs told apart."""
    if not produced:
        return []
    commit = produced.get("git_commit")
    reader = produced.get("reader") or {}
    hashes = ", ".join(f"{name.removesuffix('_sha256')} sha256 `{value[:12]}`" for name, value in reader.items()
                       if name.endswith("_sha256") and value)
    precision = f" (precision `{produced['embed_precision']}`)" if produced.get("embed_precision") else ""
    return [
        f"- Run: {produced['run_at']}, assistant {produced['package_version']}"
        + (f", git commit `{commit}`" if commit else " (no git commit: not run from a git checkout)"),
        f"- Reader: `{reader.get('name') or reader.get('spec', '?')}`" + (f" ({hashes})" if hashes else ""),
        f"- Embedding model: `{produced['embedding_model']}`{precision}; exact search: "
        f"{'on' if produced.get('exact_search') else 'off'}"
        + (" (auto: by the index's size)" if produced.get("exact_search_setting") == "auto" else ""),
        f"- Index: {counted(produced['index_items'], 'item')}, {counted(produced['index_chunks'], 'chunk')} when the "
        + (f"run started, and {counted(end['items'], 'item')}, {counted(end['chunks'], 'chunk')} at its end (the "
           "index changed while it asked)" if (end := produced.get("index_at_end")) else "questions were asked")
        + f"; chunks of up to {produced['chunk_tokens']} tokens" * bool(produced.get("chunk_tokens")),
        *([f"- NLI model beside the guard: `{produced['nli_model']}`"] if produced.get("nli_model") else []),
        *([f"- Prompts: version `{produced['prompt_version']}`"] if produced.get("prompt_version") else []),
    ]


def _floor_lines(metrics: dict) -> list[str]:
    floors = metrics.get("floors")
    if not floors:
        return []
    lines = ["", f"## Floors (`eval/floors.json`: {', '.join(floors['entries'])})", "",
             f"{floors['broken']} of {counted(len(floors['checks']), 'bound')} broken.", "",
             "| entry | figure | value | bound | |", "| --- | --- | --- | --- | --- |"]
    lines += [f"| {check['entry']} | {check['figure']} | {_floor_value(metrics, check)} | {_bound(check)} | "
              f"{'held' if check['held'] else '**broken**'} |" for check in floors["checks"]]
    return lines


def floor_summary(metrics: dict) -> list[str]:
    floors = metrics["floors"]
    lines = [f"  floors ({', '.join(floors['entries'])}): {floors['broken']} of "
             f"{counted(len(floors['checks']), 'bound')} broken"]
    lines += [f"    {check['entry']} {check['figure']}: {_floor_value(metrics, check)}, {_bound(check)}: "
              f"{'held' if check['held'] else 'BROKEN'}" for check in floors["checks"]]
    return lines


def _floor_value(metrics: dict, check: dict) -> str:
    if check["value"] is None:
        return "– (not measured)"
    overall = metrics["overall"]
    return _cell(overall, check["figure"]) if check["figure"] in overall else _fmt(check["value"], check["figure"])


def _bound(check: dict) -> str:
    return f"at least {check['min']}" if "min" in check else f"at most {check['max']}"


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


def _cell(group: dict, key: str) -> str:
    """A figure of one group with what it is of: "0.933 (14 of 15)", or "15 of 15" for a count."""
    value, count = group.get(key), group.get("counts", {}).get(key)
    if value is not None and count and isinstance(value, int) and not isinstance(value, bool):
        return f"{count[0]} of {count[1]}"
    return _with_count(_fmt(value, key), count if value is not None else None)


def _with_count(shown: str, count) -> str:
    """A share with what it is of, when that is known and not nothing: "0.800 (12 of 15)"."""
    return f"{shown} ({count[0]} of {count[1]})" if count and count[1] else shown


def _fmt_why(value, why_missing: str, key: str = "") -> str:
    """A figure, or a dash with the reason it is missing."""
    return _fmt(value, key) if value is not None else f"– ({why_missing})"


def _why_no_auc(overall: dict) -> str:
    return "no unanswerable questions" if overall["answerable"] else "no answerable questions"


def summary_lines(metrics: dict) -> list[str]:
    """The run's main figures for the terminal, each missing one with the reason it is missing, then the floors and
    what makes the figures less than they seem."""
    overall, reader = metrics["overall"], metrics["reader"]
    no_gold = "no answerable question has gold_urls"
    no_facts = "no answerable question has must_include"
    why = {
        "retrieval_recall_at_5": no_gold,
        "answer_correctness": no_facts,
        "citation_source_precision": "no answer to a question with gold_urls cited a source"
        if overall["answerable"] > overall["answerable_without_gold_urls"] else no_gold,
        "citation_source_recall": no_gold,
        "quote_validity": "needs --corpus" if metrics["corpus"] is None else "no quotes",
        "unanswerable_refused": "no unanswerable questions",
        "answerable_wrongly_refused": "no answerable questions",
        "answer_words_median": "every question was refused",
        "latency_ms_median": "no questions",
    }
    lines = [f"  questions: {overall['questions']} ({overall['answerable']} answerable, "
             f"{overall['unanswerable']} unanswerable)"]
    lines += [f"  {key}: {_summary_cell(overall, key, reason)}" for key, reason in why.items()]
    if overall["unanswerable_refused_no_match_filters"]:
        lines.append(f"    of the unanswerable refused, {overall['unanswerable_refused_no_match_filters']} only because "
                     "their filters match nothing in the index")
    if "fallback_answers" in overall:
        kinds = [k for k in KINDS if k in metrics]
        for key, said in (("fallback_answers", "answers quoted from the minutes in place of the model's reply"),
                          ("cut_short_answers", "answers the model stopped part-way")):
            by_kind = ", ".join(f"{k} {_cell(metrics[k], key)}" for k in kinds if metrics[k].get("answered"))
            lines.append(f"  {key}: {_cell(overall, key)} answered ({said})" + (f"; {by_kind}" if by_kind else ""))
        lines.append("  answer_correctness_model_written: "
                     + _summary_cell(overall, "answer_correctness_model_written",
                                     "no answer to a question with must_include was the model's own in full"))
    top1 = _with_count(_fmt_why(reader["top1_sentence_accuracy"], no_facts), reader.get("top1_counts"))
    lines += [f"  reader top1_sentence_accuracy: {top1}",
              f"  reader answerability_auc: {_fmt_why(reader['answerability_auc'], _why_no_auc(overall))}"]
    if reader.get("questions_not_read"):
        lines.append(f"    the reader's figures leave out {counted(reader['questions_not_read'], 'question')} refused "
                     "before it read anything")
    pairs = metrics.get("support_pairs")
    if pairs and pairs.get("measured"):
        lines.append(f"  guard on {counted(pairs['pairs'], 'pair')}: unsupported precision "
                     f"{_fmt_why(pairs['unsupported_precision'], 'no sentence flagged')}, recall "
                     f"{_fmt_why(pairs['unsupported_recall'], 'no unsupported pairs')}, supported kept "
                     f"{_fmt_why(pairs['supported_kept'], 'no supported pairs')}")
    if metrics.get("floors"):
        lines += floor_summary(metrics)
    lines += [f"  WARNING: {one_printed_line(w)}." for w in loud_warnings(metrics)]  # ids, as warn() prints them
    return lines


def _summary_cell(group: dict, key: str, why_missing: str) -> str:
    return _cell(group, key) if group.get(key) is not None else f"– ({why_missing})"
