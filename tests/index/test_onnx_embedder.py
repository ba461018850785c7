"""The bundled model on onnxruntime: the same vectors as sentence-transformers, its ONNX file made once
from the bundled weights in a child process, cached with its sha256, and made again when damaged."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from assistant.errors import ConfigError, IndexMismatchError, ModelError
from assistant.index.embedder import OnnxEmbedder, SentenceTransformerEmbedder, make_embedder
from assistant.index.models import ensure_bundled_model
from assistant.index.onnx_files import cached_onnx, ensure_onnx, onnx_path
from assistant.settings import BUNDLED_EMBEDDING_MODEL, Settings

TEXTS = [
    "How many children were looked after at the end of March?",
    "The Committee noted that 412 children were looked after on 31 March 2024, up from 398 a year earlier, "
    "and that the rise was mostly among unaccompanied asylum seeking children placed out of area. " * 3,
    "Dental checks.",
    "Resolved: that the report be noted and a further update be brought to the next meeting of the panel.",
    "x",
]


@pytest.fixture(scope="module")
def default_settings():
    return Settings.from_env()


@pytest.mark.slow
def test_onnx_vectors_match_sentence_transformers(default_settings):
    onnx = OnnxEmbedder(default_settings, "fp32")
    torch_model = SentenceTransformerEmbedder(BUNDLED_EMBEDDING_MODEL, default_settings)
    a = np.asarray(onnx.embed_documents(TEXTS))
    b = np.asarray(torch_model.embed_documents(TEXTS))
    assert a.shape == b.shape == (len(TEXTS), 384)
    assert np.allclose(np.linalg.norm(a, axis=1), 1.0, atol=1e-4)
    assert (a * b).sum(axis=1).min() > 0.9999
    # Token counts, and so what `fits` accepts, agree with the tokenizer sentence-transformers uses.
    for text in TEXTS:
        assert onnx.count_model_tokens(text) == torch_model.count_model_tokens(text)
    assert onnx.fits(TEXTS[0]) and not onnx.fits(" ".join(TEXTS[1:2] * 4))


@pytest.mark.slow
def test_batched_and_sorted_embedding_keeps_the_order(default_settings):
    onnx = OnnxEmbedder(default_settings, "fp32", batch_size=2)
    together = np.asarray(onnx.embed_documents(TEXTS))
    alone = np.asarray([onnx.embed_query(text) for text in TEXTS])
    assert np.allclose(together, alone, atol=1e-5)
    assert onnx.embed_documents([]) == []


def test_the_bundled_model_runs_on_onnx_unless_told_otherwise(default_settings):
    assert isinstance(make_embedder(default_settings), OnnxEmbedder)
    assert isinstance(make_embedder(default_settings.with_(embed_precision="torch")), SentenceTransformerEmbedder)
    assert make_embedder(default_settings.with_(embed_precision="int8")).name == f"{BUNDLED_EMBEDDING_MODEL}@int8"
    # fp32 vectors are sentence-transformers' own, so an index built on torch stays usable with fp32.
    assert make_embedder(default_settings.with_(embed_precision="fp32")).name == BUNDLED_EMBEDDING_MODEL


@pytest.mark.slow
def test_int8_vectors_are_alike_on_every_cpu(default_settings):
    """With full 8-bit weights onnxruntime's int8 kernels overflow 16-bit sums on CPUs without VNNI (vectors at
    cosine 0.991 to the exact products' there); the export keeps weights to 7 bits so that none can."""
    from onnx_exact import WIDEST_SAFE_WEIGHT, exact_session, widest_weight

    embedder = OnnxEmbedder(default_settings, "int8")
    here = np.asarray(embedder.embed_documents(TEXTS))
    exact = OnnxEmbedder(default_settings, "int8")
    exact._ready(session=False)
    exact._session = exact_session(ensure_onnx(exact._folder, "int8"))
    reference = np.asarray(exact.embed_documents(TEXTS))
    # Near 1 on a CPU with VNNI whatever the weights; the weights' width shows it on any CPU.
    assert widest_weight(ensure_onnx(exact._folder, "int8")) <= WIDEST_SAFE_WEIGHT
    assert (here * reference).sum(axis=1).min() > 0.99999


@pytest.mark.slow
def test_int8_vectors_stay_close_to_fp32(default_settings):
    int8 = np.asarray(OnnxEmbedder(default_settings, "int8").embed_documents(TEXTS))
    fp32 = np.asarray(OnnxEmbedder(default_settings, "fp32").embed_documents(TEXTS))
    assert (int8 * fp32).sum(axis=1).min() > 0.97


def test_an_unknown_precision_is_refused_with_the_choices():
    with pytest.raises(ConfigError, match="fp32, int8, torch"):
        Settings.from_env({"ASSISTANT_EMBED_PRECISION": "fp8"})


@pytest.mark.slow
def test_onnx_file_is_made_once_cached_and_remade_when_damaged(tmp_path):
    model_dir = tmp_path / "models"
    folder = ensure_bundled_model(model_dir)
    assert cached_onnx(folder, "fp32") is None
    made = ensure_onnx(folder, "fp32")
    assert made == onnx_path(folder, "fp32") and made.stat().st_size > 80_000_000
    record = json.loads(made.with_suffix(".json").read_text())
    assert record["precision"] == "fp32" and len(record["sha256"]) == 64
    stamp = made.stat().st_mtime_ns
    assert ensure_onnx(folder, "fp32") == made and made.stat().st_mtime_ns == stamp  # cached: not made again

    with made.open("r+b") as handle:  # damage it: the sha256 no longer matches, so it is made again
        handle.seek(1000)
        handle.write(b"\x00" * 64)
    assert cached_onnx(folder, "fp32") is None
    again = ensure_onnx(folder, "fp32")
    assert cached_onnx(folder, "fp32") == again
    settings = Settings.from_env(data_dir=tmp_path / "index", model_dir=model_dir)
    assert len(OnnxEmbedder(settings, "fp32").embed_query("children in care")) == 384


def test_a_model_folder_that_cannot_be_exported_gives_a_clear_error(tmp_path):
    broken = tmp_path / "not-a-model"
    broken.mkdir()
    (broken / "config.json").write_text("{}")
    with pytest.raises(ModelError) as caught:
        ensure_onnx(broken, "fp32")
    assert "Could not make the ONNX embedder" in str(caught.value)
    assert "onnx/" in caught.value.hint
    with pytest.raises(ModelError, match="ASSISTANT_EMBED_PRECISION"):
        ensure_onnx(broken, "fp16")


@pytest.mark.slow
def test_an_int8_index_is_not_read_with_fp32_vectors(tmp_path):
    from assistant.index.vector_store import ChromaStore

    settings = Settings.from_env(data_dir=tmp_path / "index")
    ChromaStore(settings, make_embedder(settings.with_(embed_precision="fp32")).name)
    with pytest.raises(IndexMismatchError, match="ingest --reset") as caught:
        ChromaStore(settings, make_embedder(settings.with_(embed_precision="int8")).name)
    assert "ASSISTANT_EMBED_PRECISION=fp32" in caught.value.hint
    shutil.rmtree(tmp_path / "index")


def test_idle_threads_do_not_spin_where_another_session_runs_next(default_settings):
    """The query vector is made just before the reader runs; spinning embedder threads slowed the reader by
    about a quarter on 2 cores. Likewise the shipped reader's two members run one after the other, so none of
    their threads spins either."""
    from assistant.answer.reader import OnnxReader

    embedder = make_embedder(default_settings)
    embedder.embed_query("dental checks")
    options = embedder._session.get_session_options()
    assert options.get_session_config_entry("session.intra_op.allow_spinning") == "0"
    reader = OnnxReader()
    reader.read("dental checks", ["Dental checks were done for 92% of children in care."])
    assert len(reader._sessions) == 2
    for session in reader._sessions:
        assert session.get_session_options().get_session_config_entry("session.intra_op.allow_spinning") == "0"
