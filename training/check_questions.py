"""Check hand-written reader training questions against the training minutes.

Usage: python3 training/check_questions.py FILE.jsonl [--minutes PATH]

It only checks and reports (shapes, verbatim quotes, must_include strings, and the share of
paraphrased and council-free questions); it never writes or changes a question.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

KINDS = {"fact", "numeric", "who", "resolution", "multi", "unanswerable"}
DEFAULT_MINUTES = Path(__file__).resolve().parents[2] / "shared" / "corpus" / "train_minutes.jsonl"
# Function words that do not make a run of words "shared" with the minutes.
FUNCTION_WORDS = frozenset(
    "a an the of to in on at for by with from and or but as is are was were be been being this that these "
    "those it its their there they them he she his her we our you your i what which who whom whose when where "
    "why how did do does done has have had will would should could can may might must not no any all some "
    "into about over under than then so if also such per each other more most many much".split()
)
COUNCIL_FILLER = frozenset(
    "council county city borough metropolitan district london royal of the and corporation north south east "
    "west upon on city's mbc".split()
)

# The words naming the body rather than the place ("City of London Corporation" is the place "city of london").
BODY_WORDS = frozenset({"council", "corporation"})


def squash(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def content_words(text: str) -> list[str]:
    return [w for w in re.findall(r"[a-z0-9]+", text.lower()) if w not in FUNCTION_WORDS]


def shares_three_word_run(question: str, passage: str) -> bool:
    q = content_words(question)
    p = content_words(passage)
    runs = {tuple(p[i : i + 3]) for i in range(len(p) - 2)}
    return any(tuple(q[i : i + 3]) in runs for i in range(len(q) - 2))


def council_words(council: str) -> set[str]:
    return {w for w in re.findall(r"[a-z]+", council.lower()) if w not in COUNCIL_FILLER and len(w) > 2}


def names_a_council(question: str, councils: list[str]) -> bool:
    tokens = re.findall(r"[a-z]+", question.lower())
    words, spaced = set(tokens), " ".join(tokens)
    for council in councils:
        distinctive = council_words(council)
        if distinctive and distinctive <= words:
            return True
        # A name made only of filler ("City of London Corporation") counts when its place name is written out.
        if not distinctive:
            place = " ".join(w for w in re.findall(r"[a-z]+", council.lower()) if w not in BODY_WORDS)
            if f" {place} " in f" {spaced} ":
                return True
    return False


def check_line(row: dict, items: dict[str, dict]) -> list[str]:
    problems = []
    for key in ("id", "question", "kind", "gold_urls", "must_include", "evidence"):
        if key not in row:
            problems.append(f"missing key {key!r}")
    if problems:
        return problems
    kind = row["kind"]
    if kind not in KINDS:
        problems.append(f"kind {kind!r} is not one of {sorted(KINDS)}")
    if kind == "unanswerable":
        if row["gold_urls"] or row["must_include"] or row["evidence"]:
            problems.append("an unanswerable question has empty gold_urls, must_include and evidence")
        if row.get("about_url") not in items:
            problems.append("about_url must be the url of the item whose topic the question is about")
        return problems
    if not row["gold_urls"]:
        problems.append("an answerable question needs gold_urls")
    for url in row["gold_urls"]:
        if url not in items:
            problems.append(f"gold url not in the minutes: {url}")
    if kind == "multi" and len(set(row["gold_urls"])) < 2:
        problems.append("a multi question needs two or more gold_urls")
    quotes = []
    for entry in row["evidence"]:
        url, quote = entry.get("url"), entry.get("quote", "")
        if url not in row["gold_urls"]:
            problems.append(f"evidence url is not among gold_urls: {url}")
            continue
        if not quote or squash(quote) not in squash(items[url]["text"]):
            problems.append(f"quote not found verbatim in {url}: {quote[:60]!r}")
        quotes.append(squash(quote))
    if not row["evidence"]:
        problems.append("an answerable question needs evidence quotes")
    if not 1 <= len(row["must_include"]) <= 3:
        problems.append("must_include holds 1 to 3 strings")
    joined = " ".join(quotes).lower()
    for needle in row["must_include"]:
        if squash(needle).lower() not in joined:
            problems.append(f"must_include {needle!r} is not in the evidence quotes")
        if squash(needle).lower() in row["question"].lower():
            problems.append(f"must_include {needle!r} is in the question itself")
    short = row.get("short_answer")
    if short is not None and squash(short) not in " ".join(quotes):
        problems.append(f"short_answer {short!r} is not in the evidence quotes")
    return problems


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("files", nargs="+")
    parser.add_argument("--minutes", default=str(DEFAULT_MINUTES))
    args = parser.parse_args()
    items = {}
    with open(args.minutes, encoding="utf-8") as handle:
        for line in handle:
            row = json.loads(line)
            items[row["url"]] = row
    councils = sorted({row["council"] for row in items.values()})
    total = bad = unanswerable = paraphrased = answerable = council_free = 0
    for path in args.files:
        for number, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), 1):
            if not line.strip():
                continue
            total += 1
            try:
                row = json.loads(line)
            except json.JSONDecodeError as error:
                print(f"{path}:{number}: not JSON ({error})")
                bad += 1
                continue
            problems = check_line(row, items)
            for problem in problems:
                print(f"{path}:{number} ({row.get('id')}): {problem}")
            bad += bool(problems)
            if problems:
                continue
            council_free += not names_a_council(row["question"], councils)
            if row["kind"] == "unanswerable":
                unanswerable += 1
            else:
                answerable += 1
                passage = " ".join(e["quote"] for e in row["evidence"])
                paraphrased += not shares_three_word_run(row["question"], passage)
    good = total - bad
    print(f"{total} questions, {bad} with problems")
    if good:
        # The shares the issue asks of the whole question set; one writer's part may be briefed otherwise (a
        # part of pairs that all name their council), so they are shown for reference, not as a verdict.
        print(f"unanswerable {unanswerable / good:.0%}, "
              f"paraphrased {paraphrased / max(answerable, 1):.0%} of answerable, "
              f"naming no council {council_free / good:.0%} "
              f"(the whole set wants >= 25%, >= 40% of all questions and >= 30%; follow your brief for your part)")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
