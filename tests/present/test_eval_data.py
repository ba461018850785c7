"""The evaluation data in eval/: its shape, its counts, and that every gold fact is really in the minutes.

The files were written by reading the minutes, so these tests read the minutes independently too:
the seed items straight from corpus/*.md and the dev items from ../shared, never through the assistant.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import pytest
import yaml

from conftest import CORPUS, DEV_CORPUS, ROOT, need_shared

EVAL = ROOT / "eval"
SEED_QUESTIONS = EVAL / "questions.jsonl"
DEV_QUESTIONS = EVAL / "dev_questions.jsonl"
# Written later, by reading the dev corpus, for tuning (tuning_questions) and for a held-out estimate
# that nothing was tuned on (holdout_questions); see eval/README.md.
TUNING_QUESTIONS = EVAL / "tuning_questions.jsonl"
HOLDOUT_QUESTIONS = EVAL / "holdout_questions.jsonl"
FRESH_QUESTIONS = EVAL / "fresh_questions.jsonl"
DEV_CORPUS_FILES = (DEV_QUESTIONS, TUNING_QUESTIONS, HOLDOUT_QUESTIONS, FRESH_QUESTIONS)
ALL_QUESTION_FILES = (SEED_QUESTIONS,) + DEV_CORPUS_FILES
PAIR_FILES = (EVAL / "support_pairs_calibration.jsonl", EVAL / "support_pairs_test.jsonl")

# A figure the minutes write in words ('fifteen areas') is still a figure.
NUMBER_WORD = re.compile(r"\b(?:one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen|fourteen|"
                         r"fifteen|sixteen|seventeen|eighteen|nineteen|twenty|thirty|forty|fifty|hundred|thousand)\b", re.I)
QUESTION_KINDS = {"fact", "numeric", "who", "resolution", "multi", "unanswerable"}
QUESTION_KEYS = {"id", "question", "kind", "gold_urls", "must_include"}
FILTER_KEYS = {"council", "committee", "since", "until"}
SUPPORTED_KINDS = {"paraphrase", "restatement", "summary"}
UNSUPPORTED_KINDS = {"changed_figure", "swapped_council", "swapped_year", "negation", "neighbour_claim", "unrelated"}
PAIR_KEYS = {"id", "sentence", "source_url", "start", "end", "supported", "kind"}
MAX_ITEMS_PER_STRING = 3  # a must_include string rarer than this pins the answer to its sources
MAX_SPAN_CHARS = 1000  # a cited passage is a sentence or a short passage, not a whole item

# The same front matter rule as the Markdown reader, restated here so the data is checked independently.
_FRONT_MATTER = re.compile(r"\A---[ \t]*\n(.*?\n)?(?:---|\.\.\.)[ \t]*(?:\n|\Z)", re.DOTALL)
_COUNCIL_NOISE = {"council", "metropolitan", "borough", "district", "county", "city", "of", "the", "and",
                  "royal", "london"}
_ISO_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")


@dataclass(frozen=True)
class Item:
    identity: str  # source_url, or id when there is no URL
    council: str
    text: str  # as read from the input, before any normalisation


def norm(text: str) -> str:
    """Case-folded with runs of whitespace (non-breaking spaces included) squeezed to one space."""
    return " ".join(text.split()).casefold()


def read_jsonl(path: Path) -> list[dict]:
    rows = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if line.strip():
            try:
                rows.append(json.loads(line))
            except json.JSONDecodeError as error:
                pytest.fail(f"{path.name} line {number} is not JSON: {error}")
    return rows


@lru_cache(maxsize=1)
def seed_items() -> dict[str, Item]:
    items = {}
    for path in sorted(CORPUS.glob("*.md")):
        raw = path.read_bytes().decode("utf-8-sig").replace("\r\n", "\n").replace("\r", "\n")
        match = _FRONT_MATTER.match(raw)
        assert match, f"{path.name} has no front matter"
        meta = yaml.safe_load(match.group(1) or "") or {}
        identity = str(meta.get("source_url") or "").strip() or str(meta["id"])
        items[identity] = Item(identity, str(meta.get("council") or ""), raw[match.end():].strip("\n"))
    assert len(items) == 5, "expected the five seed items in corpus/"
    return items


@lru_cache(maxsize=1)
def dev_items() -> dict[str, Item]:
    items = {}
    for row in read_jsonl(DEV_CORPUS):
        items[row["url"]] = Item(row["url"], row.get("council", ""), row["text"])
    return items


def combined_items() -> dict[str, Item]:
    """What the dev evaluation indexes: the shared dev corpus and the seed items together."""
    return {**dev_items(), **seed_items()}


def is_council_name(string: str, question: dict, items: dict[str, Item]) -> bool:
    """A multi question may require council names, which an answer shows through its cited sources."""
    return question["kind"] == "multi" and any(
        norm(string) in norm(items[url].council) for url in question["gold_urls"] if url in items)


def covered_council_names() -> set[str]:
    """Place names of the seed councils: 'City of Bradford Metropolitan District Council' -> 'bradford'."""
    names = set()
    for item in seed_items().values():
        words = [w for w in re.findall(r"[a-z]+", item.council.lower()) if w not in _COUNCIL_NOISE]
        names.add(" ".join(words))
    return names


def names_a_covered_council(question: str) -> bool:
    return any(re.search(rf"\b{re.escape(name)}\b", question, re.IGNORECASE) for name in covered_council_names())


def all_pairs() -> list[tuple[str, dict]]:
    return [(path.name, row) for path in PAIR_FILES for row in read_jsonl(path)]


# ---------------------------------------------------------------- questions


@pytest.mark.parametrize("path", ALL_QUESTION_FILES, ids=lambda p: p.name)
def test_question_files_have_the_agreed_shape(path):
    for q in read_jsonl(path):
        where = f"{path.name} {q.get('id')}"
        assert QUESTION_KEYS <= set(q) <= QUESTION_KEYS | {"filters"}, f"{where}: keys {sorted(q)}"
        assert isinstance(q["id"], str) and q["id"], where
        assert isinstance(q["question"], str) and q["question"].strip(), where
        assert q["kind"] in QUESTION_KINDS, f"{where}: kind {q['kind']!r}"
        assert isinstance(q["gold_urls"], list) and all(isinstance(u, str) and u for u in q["gold_urls"]), where
        assert isinstance(q["must_include"], list) and all(isinstance(s, str) and s.strip()
                                                           for s in q["must_include"]), where
        assert len(set(q["gold_urls"])) == len(q["gold_urls"]), f"{where}: repeated gold url"
        if q["kind"] == "unanswerable":
            assert q["gold_urls"] == [] and q["must_include"] == [], f"{where}: unanswerable with gold data"
            continue
        assert q["gold_urls"], f"{where}: no gold_urls"
        assert 1 <= len(q["must_include"]) <= 3, f"{where}: must_include needs 1 to 3 strings"
        for string in q["must_include"]:
            assert norm(string) not in norm(q["question"]), f"{where}: {string!r} is given away by the question"
        if q["kind"] == "numeric":
            assert any(ch.isdigit() for s in q["must_include"] for ch in s) or any(
                NUMBER_WORD.search(s) for s in q["must_include"]), f"{where}: numeric without a figure"
        if q["kind"] == "multi":
            assert len(q["gold_urls"]) >= 2, f"{where}: a multi question needs two or more items"


def test_some_questions_carry_filters_for_the_check_below_to_read():
    assert any(q.get("filters") for path in ALL_QUESTION_FILES for q in read_jsonl(path))


@pytest.mark.parametrize("path", ALL_QUESTION_FILES, ids=lambda p: p.name)
def test_filters_use_the_four_keys_and_real_dates(path):
    for q in read_jsonl(path):
        filters = q.get("filters")
        if filters is None:
            continue
        where = f"{path.name} {q['id']}"
        assert isinstance(filters, dict) and filters, f"{where}: filters must be a non-empty object"
        assert set(filters) <= FILTER_KEYS, f"{where}: unknown filter keys {sorted(set(filters) - FILTER_KEYS)}"
        assert all(isinstance(v, str) and v.strip() for v in filters.values()), where
        days = {}
        for key in ("since", "until"):
            if key in filters:
                assert _ISO_DAY.fullmatch(filters[key]), f"{where}: {key} must be YYYY-MM-DD"
                days[key] = dt.date.fromisoformat(filters[key])
        if len(days) == 2:
            assert days["since"] <= days["until"], f"{where}: the date range ends before it starts"


def test_seed_question_counts():
    questions = read_jsonl(SEED_QUESTIONS)
    unanswerable = [q for q in questions if q["kind"] == "unanswerable"]
    assert len(questions) >= 40
    assert len(unanswerable) >= 10
    # So that a check on the council name alone cannot refuse them.
    assert sum(names_a_covered_council(q["question"]) for q in unanswerable) >= 5
    assert {q["kind"] for q in questions} == QUESTION_KINDS


def test_dev_question_counts():
    questions = read_jsonl(DEV_QUESTIONS)
    assert len(questions) >= 60
    assert sum(q["kind"] == "unanswerable" for q in questions) >= 15


@pytest.mark.parametrize("path", [TUNING_QUESTIONS, HOLDOUT_QUESTIONS, FRESH_QUESTIONS], ids=lambda p: p.name)
def test_tuning_and_holdout_question_counts(path):
    questions = read_jsonl(path)
    assert len(questions) >= 30
    assert sum(q["kind"] == "unanswerable" for q in questions) >= 14


def test_ids_are_unique_across_all_files():
    ids = [q["id"] for path in ALL_QUESTION_FILES for q in read_jsonl(path)]
    ids += [row["id"] for _, row in all_pairs()]
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    assert not duplicates, f"ids used more than once: {duplicates}"


def _check_gold(q: dict, items: dict[str, Item], where: str) -> None:
    for url in q["gold_urls"]:
        assert url in items, f"{where}: gold url {url!r} is not a source identity of the corpus"
    for string in q["must_include"]:
        in_text = any(norm(string) in norm(items[url].text) for url in q["gold_urls"])
        assert in_text or is_council_name(string, q, items), f"{where}: {string!r} is in no gold item"


def test_seed_gold_urls_and_must_include_are_in_the_seed_minutes():
    for q in read_jsonl(SEED_QUESTIONS):
        _check_gold(q, seed_items(), f"questions.jsonl {q['id']}")


@pytest.mark.shared
@pytest.mark.parametrize("path", DEV_CORPUS_FILES, ids=lambda p: p.name)
def test_dev_gold_urls_and_must_include_are_in_the_combined_corpus(path):
    need_shared()
    for q in read_jsonl(path):
        _check_gold(q, combined_items(), f"{path.name} {q['id']}")


@pytest.mark.shared
@pytest.mark.parametrize("path", ALL_QUESTION_FILES, ids=lambda p: p.name)
def test_must_include_strings_are_rare_in_the_combined_corpus(path):
    need_shared()
    items = combined_items()
    texts = {url: norm(item.text) for url, item in items.items()}
    for q in read_jsonl(path):
        for string in q["must_include"]:
            if is_council_name(string, q, items):
                continue
            found = [url for url, text in texts.items() if norm(string) in text]
            assert len(found) <= MAX_ITEMS_PER_STRING, (
                f"{path.name} {q['id']}: {string!r} is in {len(found)} items, so it does not pin the answer")


# ---------------------------------------------------------------- support pairs


def test_support_pairs_have_the_agreed_shape_and_counts():
    pairs = all_pairs()
    assert len(pairs) >= 150
    for name, row in pairs:
        where = f"{name} {row.get('id')}"
        assert set(row) == PAIR_KEYS, f"{where}: keys {sorted(row)} (the passage is given by reference only)"
        assert isinstance(row["sentence"], str) and row["sentence"].strip(), where
        assert isinstance(row["source_url"], str) and row["source_url"], where
        assert all(isinstance(row[k], int) and not isinstance(row[k], bool) for k in ("start", "end")), where
        assert 0 <= row["start"] < row["end"], f"{where}: empty or reversed span"
        assert row["end"] - row["start"] <= MAX_SPAN_CHARS, f"{where}: span longer than a short passage"
        assert isinstance(row["supported"], bool), where
        allowed = SUPPORTED_KINDS if row["supported"] else UNSUPPORTED_KINDS
        assert row["kind"] in allowed, f"{where}: kind {row['kind']!r} with supported={row['supported']}"
    for path in PAIR_FILES:
        rows = read_jsonl(path)
        assert {r["supported"] for r in rows} == {True, False}, f"{path.name} needs both labels"
        assert {r["kind"] for r in rows} == SUPPORTED_KINDS | UNSUPPORTED_KINDS, f"{path.name} misses a kind"


def _check_spans(items: dict[str, Item], pairs: list[tuple[str, dict]]) -> None:
    for name, row in pairs:
        where = f"{name} {row['id']}"
        assert row["source_url"] in items, f"{where}: {row['source_url']!r} is not a source identity"
        text = items[row["source_url"]].text
        assert row["end"] <= len(text), f"{where}: span ends past the item text ({len(text)} chars)"
        passage = text[row["start"]:row["end"]]
        assert passage.strip(), f"{where}: the span is blank"
        if row["supported"]:
            assert norm(row["sentence"]) != norm(passage), f"{where}: a verbatim copy tests nothing"


def test_seed_support_pair_spans_point_into_the_seed_text():
    seeds = seed_items()
    pairs = [(name, row) for name, row in all_pairs() if row["source_url"] in seeds]
    assert pairs, "some support pairs should cite the seed items"
    _check_spans(seeds, pairs)


@pytest.mark.shared
def test_every_support_pair_span_points_into_the_combined_corpus():
    need_shared()
    items = combined_items()
    pairs = all_pairs()
    assert any(row["source_url"] in dev_items() for _, row in pairs), "some pairs should cite the dev corpus"
    _check_spans(items, pairs)
    # No passage is cited in both files, so the test split is never tuned against.
    cited = [{(r["source_url"], r["start"], r["end"]) for r in read_jsonl(p)} for p in PAIR_FILES]
    assert not cited[0] & cited[1]
