"""How the dense and BM25 lists are ranked together: reciprocal rank by default; with ASSISTANT_FUSION=fitted, the
fitted fusion when it applies to the index's embedding model. The fitted file is checked as it loads, and the fitter
runs end to end on a small index."""

from __future__ import annotations

import json

import numpy as np
import pytest

from assistant.answer.service import Assistant
from assistant.errors import ConfigError, ModelError
from assistant.index.embedder import HASHING_MODEL
from assistant.ingest.run import ingest
from assistant.retrieve.fusion import (FUSION_FILE, FUSION_INPUTS, RRF_K, LearnedFusion, fusion_digest, fusion_in_force,
                                       fusion_inputs, load_fusion, reciprocal_rank_scores)
from assistant.retrieve.question import analyse
from assistant.settings import BUNDLED_EMBEDDING_MODEL, Settings
from conftest import CORPUS

QUESTIONS = ["How many children were discharged from care?", "What was said about foster carers?",
             "agency social workers and caseloads", "dental checks for children in care",
             "What did the panel say about placement stability?"]


def _lists(opened, text):
    """The dense and BM25 lists the retriever fuses, as (chunk id, score) in rank order."""
    retriever = opened.retriever
    question = analyse(text, retriever.council_keys)
    dense = retriever.store.query(retriever.embedder.embed_query(question.text), retriever.dense_k)
    lexical = [(retriever.lexical.entries[p].chunk_id, s)
               for p, s in retriever.lexical.search(question.text, retriever.lexical_k, None)]
    return question, [(h.chunk_id, h.score) for h in dense], lexical


def test_fusion_inputs_of_each_list_and_of_both():
    rows = fusion_inputs([("a", 0.8), ("b", 0.5)], [("b", 12.0), ("c", 3.0)])
    assert set(rows) == {"a", "b", "c"} and all(len(r) == len(FUSION_INPUTS) for r in rows.values())
    assert rows["a"] == pytest.approx([0.8, 1.0, 0.0, 0.0, 30 / (RRF_K + 1)])
    assert rows["b"] == pytest.approx([0.5, 0.5, 1.0, 1.0, 30 / (RRF_K + 2) + 30 / (RRF_K + 1)])
    assert rows["c"] == pytest.approx([0.0, 0.0, 0.25, 0.5, 30 / (RRF_K + 2)])
    assert fusion_inputs([], []) == {}
    assert fusion_inputs([], [("x", 0.0)])["x"][2] == 0.0  # a BM25 list of zero scores shares nothing


def _classic_order(dense: list[str], lexical: list[str]) -> tuple[dict[str, float], list[str]]:
    """Reciprocal-rank scores and order exactly as the retriever computed them before the fitted fusion existed:
    a dict filled from the dense list, then BM25, each adding 1/(60 + rank + 1), sorted by score (stable)."""
    fused: dict[str, float] = {}
    for ranked in (dense, lexical):
        for rank, chunk_id in enumerate(ranked):
            fused[chunk_id] = fused.get(chunk_id, 0.0) + 1.0 / (60 + rank + 1)
    return fused, [cid for cid, _ in sorted(fused.items(), key=lambda kv: -kv[1])]


def test_reciprocal_rank_scores_and_ties_are_bit_for_bit_the_old_ones():
    """(dense 3rd, BM25 24th) and (12th, 12th) tie at 1/36 only when summed as the retriever always summed;
    summing 30/(61 + rank) and dividing by 30 broke that tie the other way."""
    dense = [f"d{i}" for i in range(30)]
    lexical = [f"b{i}" for i in range(30)]
    dense[2], lexical[23] = "tie-a", "tie-a"
    dense[11], lexical[11] = "tie-b", "tie-b"
    expected, order = _classic_order(dense, lexical)
    scores = reciprocal_rank_scores(dense, lexical)
    assert scores == expected and list(scores) == list(expected)  # exact, in the order first found
    assert scores["tie-a"] == scores["tie-b"]
    assert [cid for cid, _ in sorted(scores.items(), key=lambda kv: -kv[1])] == order
    assert order.index("tie-a") < order.index("tie-b")
    rows = fusion_inputs([(c, 0.5) for c in dense], [(c, 1.0) for c in lexical])
    assert list(rows) == list(expected) and all(rows[c][4] == 30.0 * expected[c] for c in rows)


def test_without_a_fit_the_retriever_ranks_exactly_as_before(hashing_assistant):
    """The hashing embedder has no fitted fusion: every hit's score and the whole order (diversity switched off)
    are the old reciprocal-rank ones, compared exactly."""
    retriever = hashing_assistant.retriever
    assert retriever.fusion is None
    retriever.per_source = 10**6
    for text in QUESTIONS:
        question, dense, lexical = _lists(hashing_assistant, text)
        expected, order = _classic_order([c for c, _ in dense], [c for c, _ in lexical])
        found = retriever.search(question, k=len(expected)).hits
        assert [h.chunk_id for h in found] == order
        assert all(h.score == expected[h.chunk_id] and h.fused is None for h in found)


@pytest.mark.parametrize("favoured", ["dense_rank", "bm25_rank"])
def test_a_fitted_fusion_ranks_by_its_score(hashing_assistant, favoured):
    """Weight on one list's rank alone puts that list's first chunk first; the reciprocal-rank score is kept."""
    weights = np.zeros(len(FUSION_INPUTS))
    weights[FUSION_INPUTS.index(favoured)] = 5.0
    hashing_assistant.retriever.fusion = LearnedFusion(weights, -1.0, HASHING_MODEL)
    differ = 0
    for text in QUESTIONS:
        question, dense, lexical = _lists(hashing_assistant, text)
        first = (dense if favoured == "dense_rank" else lexical)[0][0]
        hits = hashing_assistant.retriever.search(question).hits
        assert hits[0].chunk_id == first
        assert hits[0].fused == pytest.approx(4.0)
        differ += dense[0][0] != lexical[0][0]
    assert differ  # some question's two lists disagree, so the weights decided something


def test_a_fusion_applies_only_to_the_model_it_was_fitted_for(hashing_assistant):
    fitted = LearnedFusion(np.ones(len(FUSION_INPUTS)), 0.0, BUNDLED_EMBEDDING_MODEL)
    assert fitted.applies_to(BUNDLED_EMBEDDING_MODEL) and fitted.applies_to(f"{BUNDLED_EMBEDDING_MODEL}@int8")
    assert not fitted.applies_to(HASHING_MODEL) and not fitted.applies_to("all-mpnet-base-v2")
    from assistant.retrieve.hybrid import HybridRetriever

    retriever = hashing_assistant.retriever
    with pytest.raises(ConfigError, match=f"fitted for {BUNDLED_EMBEDDING_MODEL}'s vectors and this index uses "
                                          f"{HASHING_MODEL}"):
        HybridRetriever(retriever.embedder, retriever.store, retriever.lexical, fusion=fitted)
    own = LearnedFusion(np.ones(len(FUSION_INPUTS)), 0.0, HASHING_MODEL)
    assert HybridRetriever(retriever.embedder, retriever.store, retriever.lexical, fusion=own).fusion is own
    with pytest.raises(ConfigError, match="this index uses"):
        retriever.fusion = fitted  # set later, it is checked the same way
    assert retriever.fusion is None


def test_the_shipped_fusion_is_used_with_the_bundled_model_only_when_asked_for(seed_index):
    seed_index = seed_index.with_(fusion="reciprocal-rank")
    fusion = load_fusion()
    assert fusion is not None and fusion.embedding_model == BUNDLED_EMBEDDING_MODEL
    assert np.isfinite(fusion.weights).all() and fusion.weights.shape == (len(FUSION_INPUTS),)
    record = json.loads(FUSION_FILE.read_text())
    assert record["fitted_on"]["split"] == "train" and record["fitted_on"]["questions"] >= 2000
    plain = Assistant(seed_index)
    try:
        assert plain.retriever.fusion is None  # the default is reciprocal rank
        question = analyse(QUESTIONS[0], plain.retriever.council_keys)
        ranked_by_rank = plain.retriever.search(question).hits
        assert ranked_by_rank and all(h.fused is None for h in ranked_by_rank)
    finally:
        plain.close()
    fitted = Assistant(seed_index.with_(fusion="fitted"))
    try:
        assert fitted.retriever.fusion.as_dict() == fusion.as_dict()
        hits = fitted.retriever.search(question).hits
        assert hits and all(h.fused is not None for h in hits)
        assert hits[0].fused == max(h.fused for h in hits)  # ranked by the fitted score
    finally:
        fitted.close()


def test_asking_for_the_fitted_fusion_with_another_embedding_model_is_an_error(tmp_path, fake_settings):
    path = tmp_path / "fusion.json"
    path.write_text(json.dumps(LearnedFusion(np.ones(len(FUSION_INPUTS)), 0.0, BUNDLED_EMBEDDING_MODEL).as_dict()))
    fitted = fake_settings.with_(fusion="fitted")
    assert fusion_in_force(fitted, f"{BUNDLED_EMBEDDING_MODEL}@int8", path).embedding_model == BUNDLED_EMBEDDING_MODEL
    with pytest.raises(ConfigError, match=f"fitted for {BUNDLED_EMBEDDING_MODEL}'s vectors") as raised:
        fusion_in_force(fitted, HASHING_MODEL, path)
    assert "Unset ASSISTANT_FUSION" in raised.value.hint
    ingest([CORPUS], fitted, progress=False)
    with pytest.raises(ConfigError, match="this index uses"):
        Assistant(fitted)  # the real file names the bundled model; this index uses the hashing embedder


def test_asking_for_the_fitted_fusion_without_one_says_how_to_fit_it(tmp_path, fake_settings):
    assert fusion_in_force(fake_settings, HASHING_MODEL, tmp_path / "absent.json") is None
    with pytest.raises(ModelError, match="no fitted fusion") as raised:
        fusion_in_force(fake_settings.with_(fusion="fitted"), HASHING_MODEL, tmp_path / "absent.json")
    assert "--fit-fusion" in raised.value.hint
    assert fusion_digest(fake_settings) == "reciprocal-rank"


def test_fusion_setting_is_checked():
    assert Settings.from_env({}).fusion == "reciprocal-rank"
    assert Settings.from_env({"ASSISTANT_FUSION": "fitted"}).fusion == "fitted"
    with pytest.raises(ConfigError, match="ASSISTANT_FUSION must be one of reciprocal-rank, fitted"):
        Settings.from_env({"ASSISTANT_FUSION": "rrf"})


@pytest.mark.parametrize("content, complaint", [
    ("{not json", "unreadable"),
    (json.dumps({"inputs": ["dense_cosine"], "weights": [1.0], "bias": 0, "embedding_model": "m"}),
     "one finite weight for each of"),
    (json.dumps({"inputs": list(FUSION_INPUTS), "weights": [1, 1, float("nan"), 1, 1], "bias": 0,
                 "embedding_model": "m"}), "one finite weight for each of"),
    (json.dumps({"inputs": list(FUSION_INPUTS), "weights": [1, 1, 1, 1, 1]}), "unreadable"),
    (json.dumps({"inputs": None, "weights": [1, 1, 1, 1, 1], "bias": 0, "embedding_model": "m"}), "unreadable"),
    (json.dumps({"inputs": list(FUSION_INPUTS), "weights": [1, 1, 1, 1, 1], "bias": float("inf"),
                 "embedding_model": "m"}), "and a finite bias"),
])
def test_a_damaged_fusion_file_is_refused_with_how_to_fix_it(tmp_path, fake_settings, content, complaint):
    path = tmp_path / "fusion.json"
    path.write_text(content)
    with pytest.raises(ModelError, match=complaint) as raised:
        load_fusion(path)
    assert "git checkout assistant/retrieve/fusion.json" in raised.value.hint and "--fit-fusion" in raised.value.hint
    assert load_fusion(tmp_path / "absent.json") is None
    fitted = fake_settings.with_(fusion="fitted")
    assert fusion_digest(fitted, path) != fusion_digest(fitted, tmp_path / "absent.json")


def test_fit_fusion_end_to_end_on_a_small_index(hashing_assistant):
    """The fitter's plumbing: questions whose gold item is the one a single list ranks first. It fits five finite
    weights, counts what it was fitted on, and the fit it returns ranks those gold items first."""
    from assistant.answer.training.examples import fit_fusion

    rows = []
    for text in QUESTIONS:
        question, _, lexical = _lists(hashing_assistant, text)
        source = next(e.metadata["source_id"] for e in hashing_assistant.lexical.entries if e.chunk_id == lexical[0][0])
        rows.append({"question": text, "kind": "fact", "gold_urls": [source]})
    rows.append({"question": "How many adopters were approved?", "kind": "unanswerable", "gold_urls": []})
    fusion, fitted_on = fit_fusion(hashing_assistant, rows)
    assert fusion.embedding_model == HASHING_MODEL and np.isfinite(fusion.weights).all()
    assert fitted_on["questions"] == len(QUESTIONS) and fitted_on["chunks"] > fitted_on["chunks_of_gold_items"] > 0
    hashing_assistant.retriever.fusion = fusion
    first = [hashing_assistant.retriever.search(analyse(r["question"], hashing_assistant.retriever.council_keys)).hits[0].source_id
             for r in rows[:-1]]
    assert sum(f == r["gold_urls"][0] for f, r in zip(first, rows)) >= len(QUESTIONS) - 1
