"""The reader: the shipped model and the deterministic fake obey one interface; a tiny reader trains end to end."""

from __future__ import annotations

import json

import numpy as np
import pytest

from assistant.answer.reader import (READER_DIR, SPAN_MARGIN_LIMIT, OnnxReader, OverlapReader, candidate_text,
                                     load_reader)
from assistant.errors import ModelError

QUESTION = "How many children were in care in Durham at the end of March?"
ANSWER = candidate_text("At the end of March there were 1,021 children in care, a rise of 3%.", "Children in Care Update")
OTHER = candidate_text("The Chair thanked officers for the report and members noted it.", "Children in Care Update")


@pytest.fixture(params=["shipped", "fake"])
def reader(request):
    return OnnxReader() if request.param == "shipped" else OverlapReader()


def test_every_reader_reads_each_candidate_once_and_deterministically(reader):
    first = reader.read(QUESTION, [ANSWER, OTHER])
    assert len(first) == 2 and all(np.isfinite(r.logit) for r in first)
    assert reader.read(QUESTION, [ANSWER, OTHER]) == first
    assert reader.read(QUESTION, []) == []
    for text, reading in zip([ANSWER, OTHER], first):
        if reading.short_answer is not None:
            start, end = reading.short_answer
            assert 0 <= start < end <= len(text)


def test_every_reader_prefers_the_sentence_that_answers(reader):
    answer, other = reader.read(QUESTION, [ANSWER, OTHER])
    assert answer.logit > other.logit


def test_every_reader_is_surer_of_a_short_answer_in_the_sentence_that_answers(reader):
    answer, other = reader.read(QUESTION, [ANSWER, OTHER])
    assert answer.span_margin > other.span_margin
    assert all(-SPAN_MARGIN_LIMIT <= r.span_margin <= SPAN_MARGIN_LIMIT for r in (answer, other))


def test_the_shipped_reader_marks_the_figure_as_the_short_answer():
    [reading] = OnnxReader().read(QUESTION, [ANSWER])
    assert reading.short_answer is not None
    assert "1,021" in ANSWER[slice(*reading.short_answer)]


def test_the_shipped_reader_is_small_and_checked_against_its_sha256(tmp_path):
    manifest = json.loads((READER_DIR / "manifest.json").read_text())
    assert sum((READER_DIR / name).stat().st_size for name in manifest["sha256"]) <= 30 * 1024 * 1024
    damaged = tmp_path / "reader"
    damaged.mkdir()
    for name in [*manifest["sha256"], "manifest.json"]:
        (damaged / name).write_bytes((READER_DIR / name).read_bytes())
    (damaged / "tokenizer.json").write_text((READER_DIR / "tokenizer.json").read_text() + " ")
    with pytest.raises(ModelError, match="sha256"):
        OnnxReader(damaged)
    with pytest.raises(ModelError, match="missing"):
        OnnxReader(tmp_path / "nowhere")


def test_a_setting_names_the_fake_reader():
    assert isinstance(load_reader("fake:overlap"), OverlapReader)


@pytest.mark.slow
def test_a_tiny_reader_trains_exports_and_reads(tmp_path):
    from assistant.answer.train import Example, save_reader, train_reader
    from assistant.index.models import ensure_bundled_model
    from assistant.settings import Settings

    base = ensure_bundled_model(Settings.from_env().model_dir)
    examples = []
    for n, (question, answer) in enumerate([
        ("How many foster carers were approved?", "Twelve new foster carers were approved in the year."),
        ("Who chaired the panel?", "Councillor Patel chaired the panel."),
        ("When will the next inspection be?", "The next inspection is expected in June 2025."),
        ("What was the budget overspend?", "The service overspent its budget by £2.1m."),
    ]):
        texts = [answer, "Apologies for absence were received.", "The minutes of the last meeting were agreed."]
        span = (0, answer.index(" ")) if n != 3 else (answer.index("£"), answer.index("£") + 5)
        examples.append(Example(f"t{n}", question, True, texts, np.array([1, 0, 0]), [span, None, None],
                                np.zeros((3, 8), dtype=np.float32), stage1=np.array([0.0, 1.0, 2.0])))
    # An unanswerable question: all its candidates are negatives, and 'no answer' is its listwise target.
    examples.append(Example("t4", "How many adopters were recruited?", False,
                            ["Apologies for absence were received.", "The Chair welcomed members."],
                            np.array([0, 0]), [None, None], np.zeros((2, 8), dtype=np.float32),
                            stage1=np.array([1.0, 0.0])))
    model, _ = train_reader(examples, base, layers=1, epochs=1, seed=0, batch_pairs=6)
    save_reader(model, base, tmp_path / "tiny", "tiny-test-reader")
    readings = OnnxReader(tmp_path / "tiny").read("Who chaired the panel?", ["Councillor Patel chaired the panel."])
    assert len(readings) == 1 and np.isfinite(readings[0].logit)


def test_the_short_answer_threshold_is_fitted_to_show_right_short_answers_and_hide_wrong_ones():
    from assistant.answer.train import Example, span_threshold

    examples, probabilities, margins, spans = [], [], [], []
    for n, (margin, right) in enumerate([(3.0, True), (2.0, True), (-1.0, False), (-3.0, False)]):
        examples.append(Example(f"s{n}", "How many?", True, ["There were 12 of them."], np.array([1]), [(10, 12)],
                                np.zeros((1, 8), dtype=np.float32)))
        probabilities.append(np.array([0.9]))
        margins.append(np.array([margin]))
        spans.append([(10, 12) if right else (0, 5)])
    threshold = span_threshold(examples, probabilities, margins, spans)
    assert -1.0 <= threshold < 2.0  # shows the two right short answers, hides the two wrong ones
    # An unanswerable question's sentence never counts either way.
    examples.append(Example("s4", "Who?", False, ["Nobody."], np.array([0]), [None], np.zeros((1, 8), np.float32)))
    assert span_threshold(examples, probabilities + [np.array([0.9])], margins + [np.array([9.0])],
                          spans + [[(0, 6)]]) == threshold


def test_a_short_answer_is_widened_to_whole_words_and_stripped_of_punctuation():
    from assistant.answer.reader import _trim_to_text

    text = "There were 1,021 children in care, a rise of 3%."
    start = text.index("02")  # word pieces can mark part of a figure
    assert text[slice(*_trim_to_text(text, start, start + 2))] == "1,021"
    assert text[slice(*_trim_to_text(text, text.index("care"), text.index("care") + 4))] == "care"
    assert text[slice(*_trim_to_text(text, text.index("care"), text.index("care") + 5))] == "care"  # "care,"
