"""The grounding guard on its own: made-up passages, the deterministic hashing embedder, no index."""

import pytest

from assistant.index.embedder import HashingEmbedder
from assistant.records import Hit
from assistant.verify.guard import Guard, find_verbatim, strip_markers

PASSAGE = ("In Rotherham 148 children were discharged from care in 2018, and the Panel noted that "
           "adoption orders had risen since the previous year.")


def _hit(text: str = PASSAGE, council: str = "Rotherham Metropolitan Borough Council") -> Hit:
    return Hit("c1", text, {"source_id": "s1", "council": council, "council_key": "rotherham",
                            "meeting_date": "2018-11-05"}, 1.0)


@pytest.fixture
def guard() -> Guard:
    return Guard(HashingEmbedder(), ["rotherham", "sefton"])


def test_a_verbatim_sentence_is_supported_with_its_quote(guard):
    verdict = guard.check("148 children were discharged from care in 2018", [_hit()])
    assert verdict.supported and verdict.reason == "verbatim"
    assert verdict.quote == "148 children were discharged from care in 2018"


@pytest.mark.parametrize("claim, reason", [
    ("In Rotherham 184 children were discharged from care in 2018.", "figure 184"),
    ("In Rotherham 148 children were discharged from care in 2019.", "2019"),
    ("In Sefton 148 children were discharged from care in 2018.", "names sefton"),
])
def test_a_changed_figure_year_or_council_is_unsupported(guard, claim, reason):
    verdict = guard.check(claim, [_hit()])
    assert not verdict.supported
    assert reason in verdict.reason


def test_a_sentence_without_a_citation_is_unsupported(guard):
    assert guard.check("148 children were discharged.", []).reason == "no citation"


def test_markers_are_stripped_and_read_in_order():
    assert strip_markers("Adoption orders rose [2][1, 2].") == ("Adoption orders rose.", (2, 1))


def test_verbatim_matching_ignores_white_space_and_case():
    text = "The Panel\u00a0noted   that\nadoption orders had risen."
    span = find_verbatim(text, "the panel noted that adoption orders")
    assert span is not None and span.of(text).startswith("The Panel")
