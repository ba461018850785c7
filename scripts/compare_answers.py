"""Compare two evaluation runs question by question: what got better, what got worse, and the main figures.

Usage: python scripts/compare_answers.py [--identical] RUN_A RUN_B

Each RUN is an `assistant eval --out` folder, or a folder holding one such folder per question file (seed/, dev/,
...), matched by name. Answers are matched by question id, not by line. For each question file it prints the main
figures of both runs side by side (from metrics.json, with their counts), then every question whose outcome changed
(answers.jsonl's `outcome`: correct, wrong, wrongly_refused, rightly_refused, answered_unanswerable, ...), worse ones
first, and how many answers differ in any other way (timings aside).

Exit status: 1 when some question's outcome got worse, the model failed on one it had answered, or a question of the
first run is missing from the second (or, with --identical, when any answer differs at all, as a check that a change
left the answers as they were), 2 when the runs cannot be compared, else 0.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from assistant.present.eval_scoring import WORSE_OUTCOMES
from assistant.text import one_printed_line

TIMING_KEYS = {"timings_ms", "wall_ms"}
FIGURES = ("answer_correctness", "unanswerable_refused", "answerable_wrongly_refused", "citation_source_recall",
           "quote_validity", "retrieval_recall_at_5")
# Outcomes that count against the figures, and a question the model failed on, which the figures leave out; a change
# into one of these from any other is worse, out of one into another is better.
WORSE = {*WORSE_OUTCOMES, "model_failed"}


def without_timings(value):
    if isinstance(value, dict):
        return {k: without_timings(v) for k, v in value.items() if k not in TIMING_KEYS}
    if isinstance(value, list):
        return [without_timings(v) for v in value]
    return value


def result_folders(run: Path) -> dict[str, Path]:
    """The eval folders of a run by name; a run that is one folder is named "" so that any two such compare."""
    if (run / "answers.jsonl").is_file():
        return {"": run}
    return {p.parent.name: p.parent for p in sorted(run.glob("*/answers.jsonl"))}


class CannotCompare(Exception):
    """A run's answers.jsonl that cannot be read (cut short by a full disk, edited by hand): exit status 2, as the
    docstring says, not the traceback's 1, which reads as an outcome that got worse."""


def answers_by_id(folder: Path) -> dict[str, dict]:
    path = folder / "answers.jsonl"
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise CannotCompare(f"{path} cannot be read ({exc.strerror if isinstance(exc, OSError) else exc}).") from None
    answers = {}
    # Lines end at "\n" alone: eval writes the minutes' text as it is (ensure_ascii=False), and a quote holding a line
    # or paragraph separator (U+2028, U+2029) or U+0085, which str.splitlines() breaks at, had failed the comparison.
    for n, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except ValueError as exc:
            raise CannotCompare(f"{path}:{n} is not a JSON line ({exc}): the file is damaged, or not one "
                                "`assistant eval` wrote.") from None
        if not isinstance(row, dict):
            raise CannotCompare(f"{path}:{n} is not a JSON object: the file is not one `assistant eval` wrote.")
        answers[str(row.get("id", f"line {n}"))] = without_timings(row)
    return answers


def figures(folder: Path) -> dict:
    try:
        return json.loads((folder / "metrics.json").read_text(encoding="utf-8"))["overall"]
    except (OSError, ValueError, KeyError):
        return {}


def figure_line(name: str, a: dict, b: dict) -> str:
    def shown(overall: dict) -> str:
        value = overall.get(name)
        if value is None:
            return "-"
        count = overall.get("counts", {}).get(name)
        return f"{value:.3f}" + (f" ({count[0]:g} of {count[1]:g})" if count else "")

    return f"  {name:<28} {shown(a):>22}  ->  {shown(b)}"


def compare(name: str, first: Path, second: Path) -> tuple[int, int]:
    """Prints the comparison of one question file's runs; returns how many outcomes got worse and how many answers
    differ at all."""
    a, b = answers_by_id(first), answers_by_id(second)
    print(f"{name or first.name}: {len(a)} questions in {first}, {len(b)} in {second}")
    for figure in FIGURES:
        if figure in figures(first) or figure in figures(second):
            print(figure_line(figure, figures(first), figures(second)))
    changes = []
    if all("outcome" in row for row in [*a.values(), *b.values()]):
        for qid in [q for q in a if q in b]:
            before, after = a[qid]["outcome"], b[qid]["outcome"]
            if before != after:
                worse = after in WORSE and before not in WORSE
                changes.append((not worse, qid, before, after))
    else:
        print("  a run made before answers recorded their outcome: only whether answers differ is compared")
    # A question of the first run that the second did not ask is a question file changed, or a run cut short.
    changes += [(False, qid, a[qid].get("outcome", "asked"), "not asked") for qid in a if qid not in b]
    worse = sum(not better for better, *_ in changes)
    for better, qid, before, after in sorted(changes):
        # An id as written may hold an escape sequence or a line break: printed on one line, escaped, as eval does.
        print(f"  {'worse ' if not better else 'better' if before in WORSE else 'other '} {one_printed_line(qid)}: "
              f"{one_printed_line(str(before))} -> {one_printed_line(str(after))}")
    if a and b and not set(a) & set(b):
        # Every question of the first run then reads as "not asked" and worse: say why, as for ids reworded below.
        print("  note: the runs share no question id: they are runs of different question files, so compare runs of "
              "one file")
    # Ids match answers, so a question file edited between the runs (or another file) pairs different questions: their
    # outcomes say nothing of the change under test.
    if reworded := [qid for qid in a if qid in b and a[qid].get("question") != b[qid].get("question")]:
        shown = ", ".join(map(one_printed_line, reworded[:5])) + (f" and {len(reworded) - 5} more"
                                                                   if len(reworded) > 5 else "")
        print(f"  note: {len(reworded)} {'id names' if len(reworded) == 1 else 'ids name'} another question in the "
              f"second run ({shown}): the question files differ, so compare runs of one file")
    only = [f"{len(set(a) - set(b))} only in the first", f"{len(set(b) - set(a))} only in the second"]
    differ = sum(a[q] != b[q] for q in a if q in b) + len(set(a) ^ set(b))
    print(f"  {len(changes)} outcomes changed ({worse} worse); {differ} answers differ in any way; "
          f"{', '.join(only)}")
    return worse, differ


def main(argv: list[str]) -> int:
    identical = "--identical" in argv
    runs = [arg for arg in argv if arg != "--identical"]
    if len(runs) != 2:
        print(__doc__.strip().splitlines()[2], file=sys.stderr)
        return 2
    first, second = (result_folders(Path(run)) for run in runs)
    for run, found in zip(runs, (first, second)):
        if not found:
            print(f"{run} holds no answers.jsonl, nor folders that do: give `assistant eval --out` folders.",
                  file=sys.stderr)
            return 2
    if set(first) != set(second):
        print(f"the runs hold different question files: {sorted(first)} and {sorted(second)}", file=sys.stderr)
        return 2
    worse = differ = 0
    for name in sorted(first):
        try:
            got_worse, differing = compare(name, first[name], second[name])
        except CannotCompare as problem:
            print(f"cannot compare: {problem}", file=sys.stderr)
            return 2
        worse, differ = worse + got_worse, differ + differing
    return 1 if worse or (identical and differ) else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
