"""Turn the hand-written question files (with quotes) into the committed split files (with spans only).

Usage: python3 training/build_splits.py [QUESTION_FILES ...] [--minutes PATH] [--out DIR] [--append]

Every quote and short answer is located in its item's text and stored as character offsets into the
`text` field of ../shared/corpus/train_minutes.jsonl, so no minute text is copied into the project
(`must_include` strings excepted, as in eval/). Each question goes to the split of its item's council,
fixed in training/split.json before any question was written. A question whose quote cannot be found
is reported and left out.

With --append, only the files given are converted, and their questions are added to the split files already in
--out (the writers' earlier files are not committed, so a later round cannot rebuild the splits from them).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from check_questions import DEFAULT_MINUTES, check_line, names_a_council, shares_three_word_run  # noqa: E402

HERE = Path(__file__).resolve().parent
# Questions over test items written after the test split had first been run go to files of their own, so
# that the test split stays the one whose first-contact figures were reported, and each later file can have a
# first contact of its own: the fifth round's answerable questions that name the council, the sixth
# round's pairs of an answerable question and its unanswerable twin, and the twenty-ninth round's mixed
# questions (answerable and hard unanswerable, mostly paraphrased), written after every decision so far.
FIRST_TEST_PARTS = {f"part-{n}.jsonl" for n in range(1, 8)}
LATE_TEST_PARTS = {"part-36.jsonl": "test_named", "part-45.jsonl": "test_twins",
                   **{f"part-{n}.jsonl": "test_late" for n in range(71, 75)}}


def locate(text: str, quote: str, within: tuple[int, int] | None = None) -> tuple[int, int] | None:
    """Where the quote stands in the text, ignoring differences in white space."""
    words = quote.split()
    if not words:
        return None
    pattern = re.compile(r"\s+".join(re.escape(w) for w in words))
    start, end = within or (0, len(text))
    match = pattern.search(text, start, end)
    return (match.start(), match.end()) if match else None


def convert(row: dict, items: dict[str, dict], councils: list[str]) -> dict:
    out = {key: row[key] for key in ("id", "question", "kind", "gold_urls", "must_include")}
    if row["kind"] == "unanswerable":
        out.update(evidence=[], short_answer=None, about_url=row["about_url"])
        if row.get("twin_of"):
            out["twin_of"] = row["twin_of"]  # the answerable question it was written beside (sixth round)
    else:
        evidence = []
        for entry in row["evidence"]:
            span = locate(items[entry["url"]]["text"], entry["quote"])
            if span is None:
                raise ValueError(f"quote not found in {entry['url']}")
            evidence.append({"url": entry["url"], "start": span[0], "end": span[1]})
        short = None
        if row.get("short_answer"):
            for entry in evidence:
                span = locate(items[entry["url"]]["text"], row["short_answer"], (entry["start"], entry["end"]))
                if span:
                    short = {"url": entry["url"], "start": span[0], "end": span[1]}
                    break
        out.update(evidence=evidence, short_answer=short)
        passage = " ".join(e["quote"] for e in row["evidence"])
        out["paraphrased"] = not shares_three_word_run(row["question"], passage)
    out["names_council"] = names_a_council(row["question"], councils)
    return out


def council_of(row: dict, items: dict[str, dict]) -> str:
    url = row["gold_urls"][0] if row["gold_urls"] else row["about_url"]
    return items[url]["council"]


def _read_split(path: Path) -> list[dict]:
    if not path.is_file():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("files", nargs="*")
    parser.add_argument("--minutes", default=str(DEFAULT_MINUTES))
    parser.add_argument("--out", default=str(HERE))
    parser.add_argument("--append", action="store_true",
                        help="add the given files' questions to the split files in --out instead of rewriting them")
    args = parser.parse_args()
    if args.append and not args.files:
        parser.error("--append needs the question files to add")
    files = [Path(f) for f in args.files] or sorted((HERE / "questions").glob("part-*.jsonl"))
    items = {}
    with open(args.minutes, encoding="utf-8") as handle:
        for line in handle:
            row = json.loads(line)
            items[row["url"]] = row
    councils = sorted({row["council"] for row in items.values()})
    split_of = json.loads((HERE / "split.json").read_text())["councils"]
    splits: dict[str, list[dict]] = {"train": [], "validation": [], "test": []}
    splits.update({name: [] for name in LATE_TEST_PARTS.values()})
    left_out = 0
    for path in files:
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if not line.strip():
                continue
            row = json.loads(line)
            problems = check_line(row, items)
            if not problems:
                try:
                    converted = convert(row, items, councils)
                except ValueError as error:
                    problems = [str(error)]
            if problems:
                print(f"{path.name}:{number} left out: {'; '.join(problems)}")
                left_out += 1
                continue
            # A multi question whose items sit in different splits would leak: it goes with its first item.
            split = split_of[council_of(row, items)]
            if split == "test" and path.name not in FIRST_TEST_PARTS:
                if path.name not in LATE_TEST_PARTS:
                    raise SystemExit(f"{path.name}:{number} is over a test item but its part is neither a first-round "
                                     "part nor in LATE_TEST_PARTS: name the file it belongs in there.")
                split = LATE_TEST_PARTS[path.name]
            splits[split].append(converted)
    if args.append:
        if splits["test"]:
            raise SystemExit(f"--append: {len(splits['test'])} questions are over test items; reader_test.jsonl keeps "
                             "its first-contact questions only, so name a file of their own in LATE_TEST_PARTS.")
        existing = {name: _read_split(Path(args.out) / f"reader_{name}.jsonl") for name in splits}
        taken = {row["id"] for rows in existing.values() for row in rows}
        repeated = sorted(row["id"] for rows in splits.values() for row in rows if row["id"] in taken)
        if repeated:
            raise SystemExit(f"--append: {len(repeated)} question ids are already in the splits "
                             f"({', '.join(repeated[:5])}); give the new part's questions ids of their own.")
        splits = {name: existing[name] + rows for name, rows in splits.items()}
    for name, rows in splits.items():
        target = Path(args.out) / f"reader_{name}.jsonl"
        with target.open("w", encoding="utf-8") as handle:
            for row in rows:
                handle.write(json.dumps(row, ensure_ascii=False) + "\n")
        answerable = [r for r in rows if r["kind"] != "unanswerable"]
        print(f"{target.name}: {len(rows)} questions, {len(rows) - len(answerable)} unanswerable, "
              f"{sum(r['paraphrased'] for r in answerable)} paraphrased, "
              f"{sum(not r['names_council'] for r in rows)} naming no council")
    print(f"{left_out} left out")
    return 0


if __name__ == "__main__":
    sys.exit(main())
