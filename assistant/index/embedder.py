"""Embedders: the protocol, the sentence-transformers one, and a deterministic fake for tests."""

from __future__ import annotations

import hashlib
import math
import re
import threading
from pathlib import Path
from typing import Protocol, Sequence, runtime_checkable

from assistant.errors import ModelError
from assistant.settings import BUNDLED_EMBEDDING_MODEL, Settings

HASHING_MODEL = "fake:hashing"


@runtime_checkable
class Embedder(Protocol):
    """What the index and the retriever need from an embedding model."""

    name: str

    def embed_documents(self, texts: Sequence[str]) -> list[list[float]]: ...

    def embed_query(self, text: str) -> list[float]: ...

    def fits(self, text: str) -> bool:
        """True when the model sees the whole text, without truncating it."""
        ...


class SentenceTransformerEmbedder:
    """A sentence-transformers model on the CPU, loaded on first use, vectors L2-normalised."""

    def __init__(self, model: str, settings: Settings, batch_size: int = 64) -> None:
        self.name = model
        self._settings = settings
        self._batch_size = batch_size
        self._model = None
        self._lock = threading.Lock()

    @property
    def model(self):
        with self._lock:
            if self._model is None:
                self._model = _load_sentence_transformer(self.name, self._settings)
            return self._model

    def embed_documents(self, texts: Sequence[str]) -> list[list[float]]:
        if not texts:
            return []
        vectors = self.model.encode(
            list(texts), batch_size=self._batch_size, normalize_embeddings=True,
            convert_to_numpy=True, show_progress_bar=False,
        )
        return vectors.tolist()

    def embed_query(self, text: str) -> list[float]:
        return self.embed_documents([text])[0]

    def fits(self, text: str) -> bool:
        model = self.model
        ids = model.tokenizer(text, add_special_tokens=True, truncation=False)["input_ids"]
        return len(ids) <= model.max_seq_length

    def count_model_tokens(self, text: str) -> int:
        return len(self.model.tokenizer(text, add_special_tokens=True, truncation=False)["input_ids"])


def _load_sentence_transformer(name: str, settings: Settings):
    if name == BUNDLED_EMBEDDING_MODEL:
        from assistant.index.models import ensure_bundled_model

        path = str(ensure_bundled_model(settings.model_dir))
    else:
        path = name
        if not Path(name).exists():
            raise ModelError(
                f"The embedding model {name!r} is not a local folder.",
                "Models are never downloaded: point ASSISTANT_EMBEDDING_MODEL at a sentence-transformers "
                f"folder on disk, or unset it to use the bundled {BUNDLED_EMBEDDING_MODEL}.",
            )
    import logging
    import os

    # The model is on disk: make sure no library even asks a hub about it.
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    logging.getLogger("sentence_transformers").setLevel(logging.WARNING)
    import transformers
    from sentence_transformers import SentenceTransformer

    transformers.logging.set_verbosity_error()
    transformers.logging.disable_progress_bar()

    try:
        return SentenceTransformer(path, device="cpu", local_files_only=True)
    except Exception as exc:  # a broken folder: say which one and how to recover
        raise ModelError(f"Could not load the embedding model from {path}: {exc}",
                         "Check the folder, or delete it from ASSISTANT_MODEL_DIR to extract it again.") from exc


class HashingEmbedder:
    """Deterministic, fast and offline: hashed word and word-pair counts, L2-normalised.

    Texts sharing words get similar vectors, which is enough for tests of the pipeline.
    """

    def __init__(self, dimension: int = 256, max_words: int | None = None) -> None:
        self.name = HASHING_MODEL
        self.dimension = dimension
        self.max_words = max_words

    def embed_documents(self, texts: Sequence[str]) -> list[list[float]]:
        return [self._vector(t) for t in texts]

    def embed_query(self, text: str) -> list[float]:
        return self._vector(text)

    def fits(self, text: str) -> bool:
        return self.max_words is None or len(text.split()) <= self.max_words

    def _vector(self, text: str) -> list[float]:
        words = re.findall(r"[a-z0-9%.]+", text.lower())
        vector = [0.0] * self.dimension
        for feature in words + [f"{a} {b}" for a, b in zip(words, words[1:])]:
            h = int.from_bytes(hashlib.blake2b(feature.encode(), digest_size=8).digest(), "big")
            vector[h % self.dimension] += 1.0 if (h >> 32) & 1 else -1.0
        norm = math.sqrt(sum(v * v for v in vector)) or 1.0
        return [v / norm for v in vector]


def make_embedder(settings: Settings) -> Embedder:
    """The embedder the settings name: the bundled MiniLM by default."""
    if settings.embedding_model == HASHING_MODEL:
        return HashingEmbedder()
    return SentenceTransformerEmbedder(settings.embedding_model, settings, batch_size=settings.embed_batch)

