"""Compare two evaluation runs answer by answer, ignoring timing fields.

Usage: python scripts/compare_answers.py RUN_A RUN_B
Each RUN is a folder holding one `assistant eval --out` folder per question file (seed/, dev/, ...),
or a single such folder. Exits 1 when any answer differs; prints which questions differ and where.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

TIMING_KEYS = {"timings_ms", "wall_ms"}


def without_timings(value):
    if isinstance(value, dict):
        return {k: without_timings(v) for k, v in value.items() if k not in TIMING_KEYS}
    if isinstance(value, list):
        return [without_timings(v) for v in value]
    return value


def answer_files(run: Path) -> dict[str, Path]:
    if (run / "answers.jsonl").is_file():
        return {run.name: run / "answers.jsonl"}
    return {p.parent.name: p for p in sorted(run.glob("*/answers.jsonl"))}


def differing_keys(a: dict, b: dict) -> list[str]:
    return sorted(k for k in set(a) | set(b) if a.get(k) != b.get(k))


def main(argv: list[str]) -> int:
    first, second = answer_files(Path(argv[0])), answer_files(Path(argv[1]))
    if not first or set(first) != set(second):
        print(f"the runs hold different question files: {sorted(first)} and {sorted(second)}")
        return 1
    differences = 0
    for name in sorted(first):
        rows_a = [without_timings(json.loads(line)) for line in first[name].read_text(encoding="utf-8").splitlines()]
        rows_b = [without_timings(json.loads(line)) for line in second[name].read_text(encoding="utf-8").splitlines()]
        changed = [(a.get("id", i), differing_keys(a, b)) for i, (a, b) in enumerate(zip(rows_a, rows_b)) if a != b]
        if len(rows_a) != len(rows_b):
            changed.append(("(count)", [f"{len(rows_a)} answers against {len(rows_b)}"]))
        differences += len(changed)
        print(f"{name}: {len(rows_a)} answers, {len(changed)} differ")
        for question_id, keys in changed:
            print(f"  {question_id}: {', '.join(keys)}")
    return 1 if differences else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
