"""The reader's training data in training/: shapes, shares, the council split, and that every span is real.

The questions were written by reading ../shared/corpus/train_minutes.jsonl; the committed files hold
character spans into that file's `text` fields, never the minute text itself (as in eval/, only the short
`must_include` strings are copied). Span checks skip when ../shared is absent.
"""

from __future__ import annotations

import json
import sys
from functools import lru_cache

import pytest

from conftest import ROOT

TRAINING = ROOT / "training"
sys.path.insert(0, str(TRAINING))
from build_splits import LATE_TEST_PARTS

# The files of questions written later over the test split's items (training/README.md), as build_splits
# names them: their items are the test split's.
LATE_TEST_FILES = tuple(dict.fromkeys(LATE_TEST_PARTS.values()))
SPLITS = ("train", "validation", "test") + LATE_TEST_FILES
COUNCIL_SPLIT = {split: "test" if split in LATE_TEST_FILES else split for split in SPLITS}
TRAIN_MINUTES = ROOT.parent / "shared" / "corpus" / "train_minutes.jsonl"
KINDS = {"fact", "numeric", "who", "resolution", "multi", "unanswerable"}


@lru_cache(maxsize=None)
def rows(split: str) -> tuple[dict, ...]:
    path = TRAINING / f"reader_{split}.jsonl"
    return tuple(json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip())


def every_row() -> list[dict]:
    return [row for split in SPLITS for row in rows(split)]


@lru_cache(maxsize=1)
def minutes() -> dict[str, dict]:
    if not TRAIN_MINUTES.is_file():
        pytest.skip(f"needs ../shared beside the checkout ({TRAIN_MINUTES} not found)")
    with TRAIN_MINUTES.open(encoding="utf-8") as handle:
        return {row["url"]: row for row in map(json.loads, handle)}


def test_there_are_enough_questions_of_each_required_kind():
    everything = every_row()
    assert len(everything) >= 2000
    assert len({row["id"] for row in everything}) == len(everything)
    assert {row["kind"] for row in everything} == KINDS
    answerable = [row for row in everything if row["kind"] != "unanswerable"]
    assert sum(row["kind"] == "unanswerable" for row in everything) / len(everything) >= 0.25
    assert sum(row["paraphrased"] for row in answerable) / len(everything) >= 0.40
    assert sum(not row["names_council"] for row in everything) / len(everything) >= 0.30


@pytest.mark.parametrize("split", SPLITS)
def test_rows_have_the_shape_of_the_eval_files_plus_spans(split):
    for row in rows(split):
        assert {"id", "question", "kind", "gold_urls", "must_include", "evidence", "short_answer"} <= set(row)
        if row["kind"] == "unanswerable":
            assert row["gold_urls"] == [] and row["must_include"] == [] and row["evidence"] == []
            assert row["about_url"]
        else:
            assert row["gold_urls"] and 1 <= len(row["must_include"]) <= 3 and row["evidence"]
            assert {e["url"] for e in row["evidence"]} <= set(row["gold_urls"])
            assert all(0 <= e["start"] < e["end"] for e in row["evidence"])


def test_the_split_is_by_council_and_no_item_is_in_two_splits():
    split_of = json.loads((TRAINING / "split.json").read_text())["councils"]
    items_in = {split: set() for split in SPLITS}
    for split in SPLITS:
        for row in rows(split):
            urls = row["gold_urls"] or [row["about_url"]]
            items_in[split].update(urls)
            if TRAIN_MINUTES.is_file():
                assert split_of[minutes()[urls[0]]["council"]] == COUNCIL_SPLIT[split], row["id"]
    tested = set().union(*(items_in[split] for split in SPLITS if COUNCIL_SPLIT[split] == "test"))
    assert not items_in["train"] & items_in["validation"]
    assert not items_in["train"] & tested
    assert not items_in["validation"] & tested


def test_every_span_and_gold_string_is_in_the_minutes():
    items = minutes()
    for row in every_row():
        for url in row["gold_urls"] + ([row["about_url"]] if row.get("about_url") else []):
            assert url in items, (row["id"], url)
        quoted = " ".join(items[e["url"]]["text"][e["start"]:e["end"]] for e in row["evidence"])
        squashed = " ".join(quoted.split()).lower()
        for needle in row["must_include"]:
            assert " ".join(needle.split()).lower() in squashed, (row["id"], needle)
            assert needle.lower() not in row["question"].lower(), (row["id"], needle)
        short = row["short_answer"]
        if short:
            assert any(e["url"] == short["url"] and e["start"] <= short["start"] < short["end"] <= e["end"]
                       for e in row["evidence"]), row["id"]


def test_a_question_names_a_council_by_its_distinctive_words_or_by_a_place_name_made_of_filler():
    from check_questions import names_a_council

    councils = ["City of London Corporation", "London Borough of Barnet", "Bath and North East Somerset Council"]
    assert names_a_council("What did the City of London say about care leavers?", councils)
    assert names_a_council("How many children does Barnet look after?", councils)
    assert names_a_council("What did Bath and North East Somerset agree?", councils)
    assert not names_a_council("What did the London boroughs agree?", councils)
    assert not names_a_council("What did the city council agree about fostering?", councils)
    assert not names_a_council("What did the panel say about Bath?", councils)  # Somerset is missing


def test_the_writers_check_counts_a_line_that_is_not_json_among_its_questions(tmp_path, monkeypatch, capsys):
    import check_questions

    minutes_file = tmp_path / "minutes.jsonl"
    minutes_file.write_text(json.dumps({"url": "u1", "council": "Dale Council", "text": "Some minutes."}) + "\n")
    part = tmp_path / "part.jsonl"
    part.write_text("not json at all\n\n")
    monkeypatch.setattr(sys, "argv", ["check_questions.py", str(part), "--minutes", str(minutes_file)])
    assert check_questions.main() == 1
    out = capsys.readouterr().out
    assert "part.jsonl:1: not JSON" in out
    assert "1 questions, 1 with problems" in out
    assert "-0%" not in out  # no shares of a negative count


def test_building_the_splits_stops_on_a_later_part_over_test_items_that_names_no_file(tmp_path, monkeypatch, capsys):
    import build_splits

    minutes()  # skips without ../shared

    first = rows("test")[0]
    test_item = (first["gold_urls"] or [first["about_url"]])[0]
    part = tmp_path / "part-99.jsonl"
    part.write_text(json.dumps({"id": "tr99-0001", "question": "What did the panel decide about dental checks?",
                                "kind": "unanswerable", "gold_urls": [], "evidence": [], "short_answer": None,
                                "must_include": [], "about_url": test_item}) + "\n")
    out = tmp_path / "out"
    out.mkdir()
    monkeypatch.setattr(sys, "argv", ["build_splits.py", str(part), "--out", str(out)])
    with pytest.raises(SystemExit, match="part-99.jsonl:1 is over a test item.*LATE_TEST_PARTS"):
        build_splits.main()
    assert not list(out.iterdir())  # nothing half-written


def test_every_unanswerable_twin_names_an_answerable_question_of_its_own_split():
    """The sixth round's unanswerable twins (training/README.md) each record the answerable question they were
    written beside; it must exist, be answerable, sit in the same split (the test files count as one), and be
    about the item the twin is about."""
    same_split = {split: [name for name in SPLITS if COUNCIL_SPLIT[name] == COUNCIL_SPLIT[split]] for split in SPLITS}
    twins = 0
    for split in SPLITS:
        answerable = {row["id"]: row for name in same_split[split] for row in rows(name)
                      if row["kind"] != "unanswerable"}
        for row in rows(split):
            if "twin_of" not in row:
                continue
            twins += 1
            original = answerable.get(row["twin_of"])
            assert original is not None, (row["id"], row["twin_of"])
            assert row["about_url"] in original["gold_urls"], row["id"]
    assert twins >= 200


def test_appending_a_part_adds_its_questions_to_their_split_and_refuses_an_id_already_there(tmp_path, monkeypatch):
    import build_splits

    minutes()  # skips without ../shared

    out = tmp_path / "out"
    out.mkdir()
    for split in SPLITS:
        (out / f"reader_{split}.jsonl").write_text((TRAINING / f"reader_{split}.jsonl").read_text(encoding="utf-8"),
                                                  encoding="utf-8")
    original = next(row for row in rows("train") if row["kind"] != "unanswerable")
    twin = {"id": "tr99-0001", "question": "What did the panel decide about dental checks in 1987?",
            "kind": "unanswerable", "gold_urls": [], "evidence": [], "must_include": [],
            "about_url": original["gold_urls"][0], "twin_of": original["id"]}
    part = tmp_path / "part-99.jsonl"
    part.write_text(json.dumps(twin) + "\n")
    monkeypatch.setattr(sys, "argv", ["build_splits.py", str(part), "--out", str(out), "--append"])
    assert build_splits.main() == 0
    train_lines = (out / "reader_train.jsonl").read_text(encoding="utf-8").splitlines()
    assert train_lines[:-1] == (TRAINING / "reader_train.jsonl").read_text(encoding="utf-8").splitlines()
    added = json.loads(train_lines[-1])
    assert (added["id"], added["twin_of"], added["evidence"]) == ("tr99-0001", original["id"], [])
    for split in SPLITS[1:]:
        assert (out / f"reader_{split}.jsonl").read_text(encoding="utf-8") == \
            (TRAINING / f"reader_{split}.jsonl").read_text(encoding="utf-8")

    with pytest.raises(SystemExit, match="already in the splits.*tr99-0001"):
        build_splits.main()  # the same part again
    assert len((out / "reader_train.jsonl").read_text(encoding="utf-8").splitlines()) == len(train_lines)


def test_appending_never_adds_to_the_first_contact_test_file(tmp_path, monkeypatch):
    import build_splits

    minutes()  # skips without ../shared

    first = rows("test")[0]
    test_item = (first["gold_urls"] or [first["about_url"]])[0]
    part = tmp_path / "part-3.jsonl"  # a first-round part name, which a full build sends to reader_test.jsonl
    part.write_text(json.dumps({"id": "tr3-9999", "question": "What did the panel decide about dental checks?",
                                "kind": "unanswerable", "gold_urls": [], "evidence": [], "must_include": [],
                                "about_url": test_item}) + "\n")
    out = tmp_path / "out"
    out.mkdir()
    monkeypatch.setattr(sys, "argv", ["build_splits.py", str(part), "--out", str(out), "--append"])
    with pytest.raises(SystemExit, match="over test items"):
        build_splits.main()
    assert not list(out.iterdir())


def test_appending_with_no_files_stops_with_a_message_and_writes_nothing(tmp_path, monkeypatch, capsys):
    import build_splits

    out = tmp_path / "out"
    out.mkdir()
    monkeypatch.setattr(sys, "argv", ["build_splits.py", "--out", str(out), "--append"])
    with pytest.raises(SystemExit):
        build_splits.main()
    assert "--append needs the question files to add" in capsys.readouterr().err
    assert not list(out.iterdir())
