"""`assistant eval --questions FILE`: a bad file is refused with its line and reason, before any result is written."""

import json

import pytest

from assistant.errors import AssistantError
from assistant.present.evaluate import load_questions, run_evaluation

GOOD = {"id": "q1", "question": "How many?", "kind": "numeric", "gold_urls": ["u"], "must_include": ["5"],
        "notes": "unknown keys are allowed"}


def _file(tmp_path, *rows, raw: bytes | None = None):
    path = tmp_path / "questions.jsonl"
    if raw is not None:
        path.write_bytes(raw)
    else:
        path.write_text("".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in rows), encoding="utf-8")
    return path


def test_a_good_file_loads_with_unknown_keys_and_blank_lines(tmp_path):
    [question] = load_questions(_file(tmp_path, GOOD, ""))
    assert question.id == "q1" and question.gold_urls == ("u",) and question.filters == {}


@pytest.mark.parametrize("rows, raw, message", [
    ((), None, "holds no questions"),
    (("", "   "), None, "holds no questions"),
    ((), "Café £5".encode("latin-1"), "is not UTF-8 text"),
    (({k: v for k, v in GOOD.items() if k != "id"},), None, ":1 is not a valid question record: it has no 'id' key"),
    ((GOOD, "{not json"), None, ":2 is not a valid question record"),
    (({**GOOD, "gold_urls": "u"},), None, "must be lists"),
    (({**GOOD, "filters": {"since": "spring"}},), None, ":1 is not a valid question record (--since must be a date"),
    (({**GOOD, "filters": {"councl": "Leeds"}},), None, ":1 is not a valid question record"),
])
def test_a_bad_file_is_refused_with_its_line_and_reason(tmp_path, rows, raw, message):
    with pytest.raises(AssistantError, match=message.replace("(", r"\(").replace(".", r"\.")):
        load_questions(_file(tmp_path, *rows, raw=raw))


def test_an_empty_file_leaves_earlier_results_as_they_were(tmp_path, fake_settings):
    out = tmp_path / "out"
    out.mkdir()
    (out / "answers.jsonl").write_text("earlier\n")
    with pytest.raises(AssistantError, match="holds no questions"):
        run_evaluation(_file(tmp_path), fake_settings, out, progress=False)
    assert (out / "answers.jsonl").read_text() == "earlier\n"
