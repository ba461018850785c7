"""The vector store: Chroma in the data folder, or a Chroma server when CHROMA_HOST is set."""

from __future__ import annotations

import os
import shlex
import threading
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Iterable, Protocol, Sequence

from assistant.errors import (AssistantError, IndexMismatchError, IndexMissingError, IndexStaleError,
                              NotWritableError, causes_of)
from assistant.files import may_write, on_read_only_mount
from assistant.index.purge import purge_chroma_file
from assistant.records import Chunk, content_hash
from assistant.settings import Settings

if TYPE_CHECKING:
    import numpy as np

# Unless ASSISTANT_EXACT_SEARCH says otherwise, a local index of at most this many chunks is searched exactly: every
# vector read once (0.6 s and 31 MB at 20,000 chunks here) and each query a product with all of them, so that two
# builds of the same minutes answer alike (Chroma's approximate graph differs from one build to the next), and no
# right item is missed: at 30,561 chunks the graph did not return the two nearest chunks of the one item that
# answered a question (asked for 100), and the question was refused. A query costs more than the graph's above about
# 20,000 chunks (18 ms against 6 at 40,000), which a wrong refusal outweighs.
EXACT_SEARCH_MAX_CHUNKS = 50_000

# The metadata key of what a chunk's vector was embedded from (`vector_key`): a chunk written again with the same key
# keeps its vector rather than being embedded again.
VECTOR_KEY = "embedded_from"


def vector_key(model: str, embed_text: str) -> str:
    """What a vector is made from, as a short hash: the model's name and the text it was given."""
    return content_hash(model, embed_text)[:24]


def _drop_empty_chroma_variables() -> None:
    """Chroma reads its own variables from the environment when it is imported and when a client is made, and an
    empty one fails its validation with a traceback; the project's rule is that an empty variable counts as unset."""
    for name in [name for name, value in os.environ.items()
                 if (name.startswith("CHROMA_") or name == "ANONYMIZED_TELEMETRY") and not value.strip()]:
        del os.environ[name]
    os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")


_drop_empty_chroma_variables()


@dataclass(frozen=True)
class StoredChunk:
    chunk_id: str
    text: str
    metadata: dict
    score: float = 0.0  # cosine similarity for query results


@dataclass(frozen=True)
class WriterRecord:
    """Which index writes to a store, and how many of its ingests have: kept with the vectors (a Chroma collection's
    metadata) and in the manifest. Two data folders sharing a server's collection would each take the other's chunks
    for orphans and delete them, and an old copy of a data folder would undo what the newer one wrote."""

    index_id: str | None = None  # None: a store no index has claimed yet (new, or written before this was kept)
    generation: int = 0


@dataclass(frozen=True)
class ManifestSide:
    """What an index's manifest says of its store: its id (None: a new index, or one from before ids were kept), and
    whether it holds finished items, whose vectors the store must have."""

    index_id: str | None
    holds_items: bool
    # `ingest --rebuild-collection`: its operator says that the server lost the collection, to be made again there
    rebuilding: bool = False


class VectorStore(Protocol):
    """What ingestion and retrieval need from a vector store."""

    searches_exactly: bool  # whether query() compares every vector (the same hits on every build) or walks a graph

    def writer(self) -> WriterRecord: ...

    def record_writer(self, record: WriterRecord) -> None: ...

    def upsert(self, chunks: Sequence[Chunk], vectors: Sequence[Sequence[float]]) -> None: ...

    def ids_for_source(self, source_id: str) -> set[str]: ...

    def delete(self, ids: Iterable[str]) -> None: ...

    def all_ids(self) -> set[str]: ...

    def count(self) -> int: ...

    def query(self, vector: Sequence[float], k: int, where: dict | None = None) -> list[StoredChunk]: ...

    def query_among(self, vector: Sequence[float], k: int, ids: Sequence[str]) -> list[StoredChunk]:
        """The k nearest of the given chunks, exactly."""
        ...

    def get(self, ids: Sequence[str] | None = None, where: dict | None = None) -> list[StoredChunk]: ...

    def vectors_of(self, ids: Sequence[str]) -> dict[str, tuple[str, list[float]]]:
        """For each of these chunks the store holds, what its vector was embedded from (its `VECTOR_KEY`, '' for a
        chunk written before that was kept) and the vector."""
        ...

    def purge_removed_text(self) -> str | None:
        """Leave no copy of removed chunks in the store's files: None when done or nothing to do (a server's data is
        its operator's), else a note saying what is left and what to do."""
        ...

    def unreadable(self, every_vector: bool = False) -> str | None:
        """Why the store's vectors cannot be read (its files damaged), or None when they can: one read, or with
        `every_vector` all of them."""
        ...

    def readable_chunks(self) -> dict[str, tuple[str, dict]]:
        """Each chunk's text and metadata, as far as a damaged store still gives them (empty when it gives none)."""
        ...


class ChromaStore:
    """One Chroma collection (cosine space) holding every chunk of one index."""

    def __init__(self, settings: Settings, embedding_model: str, manifest_side: "ManifestSide | None" = None,
                 create: bool = True) -> None:
        """The collection of the settings' name. Opened for an index (`manifest_side`), a collection another index
        writes to is refused before anything reads it, and a server without the collection of an index that holds
        items is refused rather than given an empty one, unless it is `rebuilding` (which refuses a collection of
        chunks that are not the index's). Without `create` (to answer questions) a missing collection
        is refused, not made: a reader that made one while `ingest --reset` made it anew had two processes writing
        one vector store, which damaged it (and once grew a file of it to 73 GB)."""
        self._settings = settings
        self._reading = not create
        self._client = _client(settings)
        existing = _existing_collection(self._client, settings.collection)
        if existing is not None and manifest_side is not None:
            theirs = writer_of(existing.metadata or {})
            check_writer(theirs, WriterRecord(manifest_side.index_id), settings, writing=False)
            if manifest_side.rebuilding and theirs.index_id is None and existing.count():
                raise _not_the_lost_collection(settings)
        elif existing is None and manifest_side is not None and manifest_side.holds_items \
                and settings.uses_chroma_server and not manifest_side.rebuilding:
            raise _no_collection_on_server(settings)
        if existing is None and not create:
            raise IndexStaleError(
                f"The vector store {store_location(settings)} holds no collection {settings.collection!r} for this "
                "index: an `ingest --reset` is making it anew, or it was removed.",
                "Ask again once the ingest has finished. If none is running, run `assistant ingest` (or `assistant "
                "fetch`) into the index: it embeds the items again from the copy of their text the index keeps.")
        self._collection = existing or self._client.get_or_create_collection(
            settings.collection,
            configuration={"hnsw": {"space": "cosine", "sync_threshold": _SYNC_EVERY_WRITE}},
            metadata={"embedding_model": embedding_model},
            embedding_function=None,
        )
        if settings.uses_chroma_server:
            self._collection = _ServerCollection(self._collection, settings)
        stored_model = (self._collection.metadata or {}).get("embedding_model")
        if stored_model and stored_model != embedding_model:
            reset = reset_command(settings)
            raise IndexMismatchError(
                f"The index was built with the embedding model {stored_model!r}, not {embedding_model!r}.",
                f"Run {reset} to rebuild it with the current model, or "
                + _setting_for(stored_model, settings.embedding_model) + ".",
            )
        self._max_batch = max(1, min(self._client.get_max_batch_size(), 1000))
        self._every_vector: tuple | None = None  # exact search: every chunk's vector, read once
        self._searches_exactly: bool | None = None  # decided at the first query, from the settings and the size
        self._reading_vectors = threading.Lock()  # questions answered together read the vectors once

    def writer(self) -> WriterRecord:
        return writer_of(self._collection.metadata or {})

    def unreadable(self, every_vector: bool = False) -> str | None:
        """Why the vectors cannot be read, or None: a run killed while Chroma rewrote its vector files (it rewrites
        them at every write, see _SYNC_EVERY_WRITE) can leave one empty or cut short, and then Chroma fails on every
        count and read of the collection. The collection is counted and one vector read (with `every_vector`, all of
        them, as an ingest does: one unreadable vector fails every exact search); Chroma's InternalError, twice over
        (a passing fault is not damage), is the answer. No search is tried: on a vector file cut short, Chroma's
        native search can end the process (a segmentation fault, now and then), so what a read does not show is not
        found here."""
        from chromadb.errors import InternalError

        for attempt in range(2):
            try:
                if self._collection.count():
                    if every_vector:
                        ids = self._collection.get(include=[])["ids"]
                        for start in range(0, len(ids), self._max_batch):
                            self._collection.get(ids=ids[start:start + self._max_batch], include=["embeddings"])
                    else:
                        self._collection.get(limit=1, include=["embeddings"])
                return None
            except InternalError as exc:
                if attempt:
                    return str(exc)
        return None

    def readable_chunks(self) -> dict[str, tuple[str, dict]]:
        from chromadb.errors import InternalError

        try:
            got = self._collection.get(include=["documents", "metadatas"])
        except InternalError:
            return {}
        return {cid: (text, dict(metadata or {}))
                for cid, text, metadata in zip(got["ids"], got["documents"], got["metadatas"]) if text is not None}

    @property
    def searches_exactly(self) -> bool:
        """Whether dense queries read every vector rather than Chroma's approximate graph: as ASSISTANT_EXACT_SEARCH
        says, or when it is unset (auto), for a local index of at most EXACT_SEARCH_MAX_CHUNKS chunks. A Chroma
        server's vectors would come over the network, so auto leaves a server's index to its graph."""
        if self._settings.exact_search is not None:
            return self._settings.exact_search
        if self._searches_exactly is None:
            if self._settings.uses_chroma_server:
                self._searches_exactly = False
            else:
                with self._still_there():
                    self._searches_exactly = self.count() <= EXACT_SEARCH_MAX_CHUNKS
        return self._searches_exactly

    def _forget_vectors(self) -> None:
        self._every_vector = self._searches_exactly = None

    def record_writer(self, record: WriterRecord) -> None:
        # Chroma replaces a collection's metadata whole: what else it holds (the embedding model) is kept.
        metadata = {**(self._collection.metadata or {}), _WRITER_KEY: record.index_id,
                    _GENERATION_KEY: record.generation}
        self._collection.modify(metadata=metadata)

    def upsert(self, chunks: Sequence[Chunk], vectors: Sequence[Sequence[float]]) -> None:
        for start in range(0, len(chunks), self._max_batch):
            part = chunks[start:start + self._max_batch]
            self._collection.upsert(
                ids=[c.chunk_id for c in part],
                embeddings=[list(v) for v in vectors[start:start + self._max_batch]],
                documents=[c.text for c in part],
                metadatas=[c.metadata for c in part],
            )
        self._forget_vectors()

    def ids_for_source(self, source_id: str) -> set[str]:
        return set(self._collection.get(where={"source_id": source_id}, include=[])["ids"])

    def all_ids(self) -> set[str]:
        return set(self._collection.get(include=[])["ids"])

    def delete(self, ids: Iterable[str]) -> None:
        ids = list(ids)
        for start in range(0, len(ids), self._max_batch):
            self._collection.delete(ids=ids[start:start + self._max_batch])
        self._forget_vectors()

    def count(self) -> int:
        return self._collection.count()

    def purge_removed_text(self) -> str | None:
        """Leave no copy of removed or replaced chunks in a local store's files; None when done, else a note saying
        what is left and what to do. The data on a Chroma server is its operator's to purge."""
        if self._settings.uses_chroma_server:
            return None
        hnsw = (getattr(self._collection, "configuration_json", None) or {}).get("hnsw") or {}
        if hnsw.get("sync_threshold", _SYNC_EVERY_WRITE) != _SYNC_EVERY_WRITE:
            # A collection made before its threshold was set: Chroma reads the threshold when it opens the collection,
            # and applies its log to the vectors (then persists them, and purges the log) at the first read after.
            self._collection.modify(configuration={"hnsw": {"sync_threshold": _SYNC_EVERY_WRITE}})
            self._reopen()
            self._collection.count()
        return purge_chroma_file(self._settings.chroma_dir / "chroma.sqlite3")

    def _reopen(self) -> None:
        self._client = self._collection = None
        forget_local_clients()
        self._client = _client(self._settings)
        self._collection = self._client.get_collection(self._settings.collection, embedding_function=None)
        self._forget_vectors()

    def query(self, vector: Sequence[float], k: int, where: dict | None = None) -> list[StoredChunk]:
        if k <= 0:
            return []
        if self.searches_exactly:
            if not where:
                return self._exact(vector, k, None)
            with self._still_there():
                allowed = self._collection.get(where=where, include=[])["ids"]
            return self._exact(vector, k, allowed)
        with self._still_there():
            result = self._collection.query(
                query_embeddings=[list(vector)], n_results=k, where=where or None,
                include=["documents", "metadatas", "distances"],
            )
        # A chunk another process has deleted can still come back from this process's copy of the graph,
        # without its text: it is not there to quote.
        return [
            StoredChunk(i, d, m or {}, 1.0 - dist)
            for i, d, m, dist in zip(result["ids"][0], result["documents"][0], result["metadatas"][0],
                                     result["distances"][0]) if d is not None
        ]

    @contextmanager
    def _still_there(self):
        """Reads of a collection that another process removed (`ingest --reset`) end in a message, not
        Chroma's NotFoundError; so do reads of vectors that cannot be read (Chroma's InternalError)."""
        from chromadb.errors import InternalError, NotFoundError

        try:
            yield
        except NotFoundError:
            from assistant.index.write_lock import writer_at_work

            if self._settings.uses_chroma_server or writer_at_work(self._settings):
                raise IndexStaleError("The index is being rebuilt (`ingest --reset`) by another process.",
                                      "Ask again once it has finished.") from None
            # Said of a rebuild when none was at work, an app had told members for hours to ask again in a minute.
            raise AssistantError(f"The vector store in {self._settings.data_dir} no longer holds the collection "
                                 "this index was read from, and no ingest or fetch is at work on it (an `ingest "
                                 "--reset` stopped part way leaves it so).",
                                 "Run `assistant ingest`, which finishes it; a running app then answers from it "
                                 "at the next question.") from None
        except InternalError as exc:
            from assistant.files import held_here
            from assistant.index.write_lock import write_lock_path, writer_at_work

            # A reader meets one now and then while another process writes ('Error finding id'): not damage, and the
            # advice for damage, to run an ingest or fetch, would be refused while the writer holds the lock.
            # A reader refreshing the keyword index holds the lock itself: it is no writer of the store, and what
            # it meets is damage.
            if self._reading and not self._settings.uses_chroma_server and writer_at_work(self._settings) \
                    and not held_here(write_lock_path(self._settings)):
                raise IndexStaleError(f"An ingest (or fetch) is writing to the index in {self._settings.data_dir} "
                                      "now, and its vector store could not be read meanwhile.",
                                      "Wait for it to finish, then ask again.") from None
            raise damaged_store_error(self._settings, str(exc)) from None

    def query_among(self, vector: Sequence[float], k: int, ids: Sequence[str]) -> list[StoredChunk]:
        """Exact search among a few chunks, by reading their vectors.

        Chroma's own filtered search took about 100 ms at 100,000 chunks whatever the filter, against 5 ms
        unfiltered; reading a few hundred vectors by id takes a few milliseconds.
        """
        if k <= 0 or not ids:
            return []
        if self.searches_exactly:
            return self._exact(vector, k, ids)
        return _nearest(vector, k, *self._read_vectors(list(ids)))

    def _read_vectors(self, ids: list[str], with_text: bool = True
                      ) -> tuple[list[str], list[str], list[dict], "np.ndarray"]:
        """The chunks' ids, texts, metadata and vectors (without `with_text`, the ids and vectors alone)."""
        import numpy as np

        found, documents, metadatas, vectors = [], [], [], []
        include = ["embeddings", "documents", "metadatas"] if with_text else ["embeddings"]
        for start in range(0, len(ids), self._max_batch):
            with self._still_there():
                part = self._collection.get(ids=ids[start:start + self._max_batch], include=include)
            if not part["ids"]:  # every one removed by another process since this one read its ids
                continue
            found += part["ids"]
            if with_text:
                documents += part["documents"]
                metadatas += [m or {} for m in part["metadatas"]]
            vectors.append(np.asarray(part["embeddings"], dtype=np.float32).reshape(len(part["ids"]), -1))
        if not found:
            return [], [], [], np.zeros((0, 0), dtype=np.float32)
        return found, documents, metadatas, np.concatenate(vectors)

    def _exact(self, vector: Sequence[float], k: int, allowed: Sequence[str] | None) -> list[StoredChunk]:
        """The k nearest chunks (of `allowed`, when given), against every vector, read once and kept in memory; their
        text and metadata are read for the chunks found."""
        ids, matrix, row_of = self._vectors_read_once()
        if allowed is not None:
            rows = sorted({row_of[chunk_id] for chunk_id in allowed if chunk_id in row_of})
            ids, matrix = [ids[row] for row in rows], matrix[rows]
        best = _nearest_rows(vector, k, matrix)
        if not best:
            return []
        # Read by id: a chunk another process removed since is left out (the next question reads the index anew).
        stored = {c.chunk_id: c for c in self.get([ids[row] for row, _ in best])}
        return [StoredChunk(ids[row], stored[ids[row]].text, stored[ids[row]].metadata, score)
                for row, score in best if ids[row] in stored]

    def _vectors_read_once(self) -> tuple[list[str], "np.ndarray", dict[str, int]]:
        """Every chunk's id (in id order, so that equal scores rank alike on every build), its vector of unit length,
        and each id's row: read at the first exact query, once however many questions come together."""
        with self._reading_vectors:
            if self._every_vector is not None:
                return self._every_vector
            with self._still_there():
                ids = list(self.all_ids())
            found, _, _, vectors = self._read_vectors(ids, with_text=False)
            order = sorted(range(len(found)), key=found.__getitem__)
            found = [found[i] for i in order]
            row_of = {chunk_id: row for row, chunk_id in enumerate(found)}
            self._every_vector = (found, _unit_rows(vectors[order]), row_of)
            return self._every_vector

    def get(self, ids: Sequence[str] | None = None, where: dict | None = None) -> list[StoredChunk]:
        if ids is not None and len(ids) > self._max_batch:  # large id lists go in batches Chroma accepts
            ids = list(ids)
            return [c for start in range(0, len(ids), self._max_batch)
                    for c in self.get(ids[start:start + self._max_batch], where)]
        with self._still_there():
            result = self._collection.get(ids=list(ids) if ids is not None else None, where=where or None,
                                          include=["documents", "metadatas"])
        return [StoredChunk(i, d, m or {}) for i, d, m in zip(result["ids"], result["documents"], result["metadatas"])]

    def vectors_of(self, ids: Sequence[str]) -> dict[str, tuple[str, list[float]]]:
        found, _, metadatas, vectors = self._read_vectors(list(ids))
        return {chunk_id: (str(metadata.get(VECTOR_KEY, "")), vector.tolist())
                for chunk_id, metadata, vector in zip(found, metadatas, vectors)}


def _nearest(vector: Sequence[float], k: int, ids: list[str], documents: list[str], metadatas: list[dict],
             matrix) -> list[StoredChunk]:
    """The k rows of `matrix` nearest `vector` by cosine (the earlier row on ties)."""
    return [StoredChunk(ids[row], documents[row], metadatas[row], score)
            for row, score in _nearest_rows(vector, k, _unit_rows(matrix))]


def _unit_rows(matrix):
    import numpy as np

    if not matrix.size:
        return matrix
    return matrix / np.maximum(np.linalg.norm(matrix, axis=1, keepdims=True), 1e-12)


def _nearest_rows(vector: Sequence[float], k: int, unit_rows) -> list[tuple[int, float]]:
    """The k rows nearest `vector` by cosine, with their cosines, the earlier row first on ties (unit-length rows)."""
    import numpy as np

    if k <= 0 or not unit_rows.size:
        return []
    query = np.asarray(vector, dtype=np.float32)
    cosine = unit_rows @ (query / max(float(np.linalg.norm(query)), 1e-12))
    candidates = np.arange(len(cosine))
    if k < len(cosine):  # every row at least as near as the k-th: ties at the edge are all kept, then ranked by row
        candidates = np.flatnonzero(cosine >= np.partition(cosine, len(cosine) - k)[len(cosine) - k])
    best = candidates[np.argsort(-cosine[candidates], kind="stable")][:k]
    return [(int(row), float(cosine[row])) for row in best]


def reset_command(settings: Settings) -> str:
    """The command that rebuilds this index, as a hint gives it: the folder named unless it is the default one
    (followed as written, the command would reset that one instead), quoted for a shell, and always the minutes'
    PATH, since `ingest` without one reads the project's corpus/ and would rebuild the index of the demo minutes."""
    index = "" if settings.data_dir == Settings.data_dir else f" --index {shlex.quote(str(settings.data_dir))}"
    return f"`assistant ingest --reset{index} PATH` with the minutes it was built from"


def _setting_for(stored_model: str, embedding_model: str) -> str:
    """What to set to read an index with the model it was built with, given the model set now: an index of the bundled
    model, opened with another (a mistyped ASSISTANT_EMBEDDING_MODEL), wants that variable unset, and its precision
    only when it is not the default."""
    from assistant.index.embedder import PRECISION_MARK
    from assistant.settings import BUNDLED_EMBEDDING_MODEL, Settings

    if stored_model == BUNDLED_EMBEDDING_MODEL:
        precision = "fp32 (an index built before int8 became the default)"
    elif stored_model.startswith(BUNDLED_EMBEDDING_MODEL + PRECISION_MARK):
        precision = stored_model.split(PRECISION_MARK, 1)[1]
    else:
        return f"set ASSISTANT_EMBEDDING_MODEL={stored_model}"
    if embedding_model == BUNDLED_EMBEDDING_MODEL:
        return f"set ASSISTANT_EMBED_PRECISION={precision}"
    unset = "unset ASSISTANT_EMBEDDING_MODEL (the index is of the bundled model)"
    return unset if precision == Settings.embed_precision else f"{unset} and set ASSISTANT_EMBED_PRECISION={precision}"


def _client(settings: Settings):
    _drop_empty_chroma_variables()
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    chroma_settings = ChromaSettings(anonymized_telemetry=False)
    if settings.uses_chroma_server:
        try:
            client = chromadb.HttpClient(host=settings.chroma_host, port=settings.chroma_port, ssl=settings.chroma_ssl,
                                         settings=chroma_settings)
            client.heartbeat()
        except Exception as exc:
            raise _server_unusable(settings, exc) from exc
        return client
    # Chroma writes to its database whenever it opens it, even only to be read (chroma-core/chroma#1438): a folder
    # this user may not write is refused here, before Chroma keeps a failed client of it for the rest of the process.
    if not (may_write(settings.chroma_dir) and may_write(settings.chroma_dir / "chroma.sqlite3")):
        raise _read_only_store(settings, "the file system is mounted read-only" if on_read_only_mount(
            settings.chroma_dir) else "this user may not write there")
    settings.chroma_dir.mkdir(parents=True, exist_ok=True)
    try:
        return chromadb.PersistentClient(path=str(settings.chroma_dir), settings=chroma_settings)
    except Exception as exc:
        if "readonly database" in str(exc):  # permissions the kernel's check does not foresee (root on NFS, say)
            raise _read_only_store(settings, str(exc)) from exc
        raise


def _server_unusable(settings: Settings, exc: Exception) -> AssistantError:
    """Why no client of the Chroma server could be made: nothing answering at its address, or something answering
    that is not a Chroma server this client can use (another web server on the port, a Chroma before 1.0, whose API
    is another, or credentials refused), which starting a server would not mend."""
    import chromadb
    import httpx
    from chromadb.errors import ChromaAuthError

    address = f"{settings.chroma_host}:{settings.chroma_port}"
    causes = causes_of(exc)
    if any(isinstance(cause, (httpx.TransportError, OSError)) for cause in causes):
        return AssistantError(
            f"Cannot reach the Chroma server at {address} ({_first_line(str(causes[0]))}).",
            "Start it with `chroma run --path DIR --port PORT`, and check CHROMA_HOST and CHROMA_PORT (an index "
            "kept in its data folder needs CHROMA_HOST unset).")
    if any(isinstance(cause, ChromaAuthError) for cause in causes):
        return AssistantError(
            f"The Chroma server at {address} refused this client ({_first_line(str(causes[0]))}).",
            "Give it the server's credentials in Chroma's own variables, CHROMA_CLIENT_AUTH_PROVIDER and "
            "CHROMA_CLIENT_AUTH_CREDENTIALS.")
    status = next((f"HTTP {cause.response.status_code}: " for cause in causes
                   if isinstance(cause, httpx.HTTPStatusError)), "")
    return AssistantError(
        f"Something answers at {address}, but not as a Chroma server this assistant can use "
        f"({status}{_first_line(str(causes[0]))}).",
        "Check that CHROMA_HOST and CHROMA_PORT name the Chroma server, not another web service on that machine, and "
        f"that it runs Chroma 1.0 or later, as this client does (chromadb {chromadb.__version__}): an older server "
        "speaks another API.")


# How long `stats` waits for a Chroma server to answer. chromadb's client waits for ever, and a scheduled
# `assistant stats > /dev/null || alert` that hangs on a server that stopped answering (paused, overloaded) never
# alerts.
SERVER_CHECK_SECONDS = 30.0


def server_problem(settings: Settings, chunks_listed: int = 0) -> str | None:
    """What keeps questions from an index whose vectors are on a Chroma server, in the words `ask` says it: the
    server not answering (within SERVER_CHECK_SECONDS), or answering without the index's collection, or with fewer
    chunks than the `chunks_listed` by its manifest (None when it answers with them all)."""
    said: list[str | None] = []
    # A thread of its own, left behind if the server never answers: the process ends without it (daemon).
    asking = threading.Thread(target=lambda: said.append(_asked_server_problem(settings, chunks_listed)), daemon=True,
                              name="chroma-server-check")
    asking.start()
    asking.join(SERVER_CHECK_SECONDS)
    if not said:
        return str(AssistantError(
            f"The Chroma server at {settings.chroma_host}:{settings.chroma_port} did not answer within "
            f"{SERVER_CHECK_SECONDS:g} s.",
            "Check that it is running and not paused or overloaded, and that nothing between drops the connection; "
            "meanwhile `ask` and the app wait for it."))
    return said[0]


def _asked_server_problem(settings: Settings, chunks_listed: int) -> str | None:
    try:
        client = _client(settings)
        collection = _existing_collection(client, settings.collection)
        if collection is None:
            return str(_no_collection_on_server(settings))
        # A server folder put back from an older copy lacks the chunks ingested since: every question is refused.
        return str(lost_chunks_error(settings)) if collection.count() < chunks_listed else None
    except AssistantError as exc:
        return str(exc)
    except Exception as exc:  # the server went away between the calls
        return str(_server_lost(settings, exc))


def lost_chunks_error(settings: Settings) -> IndexStaleError:
    """What a reader is told of a store holding fewer chunks than the manifest lists."""
    return IndexStaleError(f"The vector store {store_location(settings)} has lost chunks that the manifest lists (was "
                           "it deleted or replaced?).",
                           "Run `assistant ingest` (or `assistant fetch`) into the index: it embeds the lost items "
                           "again from the copy of their text the index keeps, or from its inputs, and names any it "
                           "cannot, to be ingested or fetched again.")


def _no_collection_on_server(settings: Settings) -> IndexMismatchError:
    return IndexMismatchError(
        f"The Chroma server at {settings.chroma_host}:{settings.chroma_port} has no collection "
        f"{settings.collection!r}, which holds this index's vectors.",
        "Point CHROMA_HOST and CHROMA_PORT at the server the index was built on (the manifest records it: see the "
        "message when CHROMA_HOST is unset). If that server lost its data (restarted empty), run `assistant ingest "
        "--rebuild-collection`: it makes the collection there again, embedding every item again from the copy of its "
        "text the index keeps, reading and fetching nothing again.")


def _not_the_lost_collection(settings: Settings) -> IndexMismatchError:
    """What `ingest --rebuild-collection` is told of a collection of its name that holds chunks no index claims."""
    return IndexMismatchError(
        f"The Chroma server at {settings.chroma_host}:{settings.chroma_port} has a collection "
        f"{settings.collection!r} that holds chunks that are not this index's (no index claims them), so it was not "
        "lost: this run changed nothing.",
        "Check that CHROMA_HOST and CHROMA_PORT name the server that lost this index's collection. If that collection "
        "is not wanted, have the server's operator delete it, then run this again.")


def store_location(settings: Settings) -> str:
    """Where the index's vectors are, as messages say it: 'on the Chroma server at HOST:PORT' or 'in FOLDER'."""
    return (f"on the Chroma server at {settings.chroma_host}:{settings.chroma_port}" if settings.uses_chroma_server
            else f"in {settings.chroma_dir}")


def damaged_store_error(settings: Settings, problem: str, first: str = "") -> IndexMissingError:
    """What a reader is told of a store whose vectors cannot be read, found as it is opened or by a question;
    `first` is said before the fix (a disk nearly full, when it is)."""
    return IndexMissingError(
        f"The vector store {store_location(settings)} cannot be read ({_first_line(problem)}): its files may be "
        "damaged, as when a run is killed while it writes them, or its disk is full.",
        "Ask its operator to mend it." if settings.uses_chroma_server else
        f"{first}Run `assistant ingest` or `assistant fetch` into this index, as you do to bring it up to date: "
        "either checks every vector, and builds the store again first, from the index's copy of the text, if it "
        "must.")


def _first_line(text: str, limit: int = 200) -> str:
    """The start of an error: another web server on that port answers with a whole HTML page."""
    line = text.strip().splitlines()[0] if text.strip() else text
    return line if len(line) <= limit else line[:limit] + "..."


def _read_only_store(settings: Settings, why: str) -> NotWritableError:
    problem = (f"Chroma cannot open the vector store in {settings.chroma_dir} ({why}): it writes to its folder "
               "whenever it opens it, even only to answer questions.")
    if on_read_only_mount(settings.chroma_dir):
        return NotWritableError(problem, f"Remount {settings.data_dir} read-write, or serve a copy of the folder on a "
                                "disk that may be written (ASSISTANT_DATA_DIR naming the copy). `assistant stats` "
                                "works on a read-only index.")
    return NotWritableError(
        problem,
        f"Make {settings.data_dir} writable by the user that runs `ask` or the app (give that user the folder, or "
        "a group that may write it), or serve a copy of the folder that it may write. `assistant stats` works on a "
        "read-only index.")


# Chroma's local store keeps every write, documents and metadata included, in its log (the `embeddings_queue` table of
# chroma.sqlite3) until the collection's vectors are persisted, which by default happens once 1,000 writes have
# gathered; only then does it purge the log. Persisting at every write lets the log hold only the last one, so that a
# removed chunk's text leaves it with the next write (the removal itself). Persisting writes only the vectors changed
# since the last time, and the list of ids. Measured on 2,584 items (9,452 chunks, the hashing embedder, so that
# nothing but the writes counts), an ingest into a new index took 1.07 times as long (median of 3 pairs, 0.96-1.22)
# as with the default; with a real embedder the share is smaller still.
_SYNC_EVERY_WRITE = 1


def forget_local_clients() -> None:
    """Make the next client of a local folder read it afresh. Chroma keeps one system per folder for the life of
    the process, holding the vector graph it read first, so vectors another process (an ingest) has since added
    or deleted stay unseen. Clients already open keep working as they were."""
    from chromadb.api.shared_system_client import SharedSystemClient

    SharedSystemClient.clear_system_cache()


def reset_store(settings: Settings, ours: WriterRecord) -> None:
    """Remove the collection of the index whose manifest says `ours`, wherever it lives; a missing one is fine. A
    collection another index writes to, or that a newer copy of this index has written to since, is refused, never
    removed."""
    client = _client(settings)
    existing = _existing_collection(client, settings.collection)
    if existing is None:
        return
    check_writer(writer_of(existing.metadata or {}), ours, settings, writing=True)
    try:
        client.delete_collection(settings.collection)
    except Exception as exc:
        # Removed meanwhile is fine (chromadb's error for "does not exist" differs across versions, so ask again). Any
        # other failure, a server lost or a full disk, must stop the reset here: going on would empty the manifest of
        # the index id that still claims the collection, and every later ingest would be refused as another index's.
        try:
            gone = _existing_collection(client, settings.collection) is None
        except Exception:
            gone = False
        if gone:
            return
        if type(exc).__module__.startswith(("httpx", "httpcore")):
            raise _server_lost(settings, exc) from exc
        raise


_WRITER_KEY, _GENERATION_KEY = "index_id", "generation"


def writer_of(metadata: dict) -> WriterRecord:
    generation = metadata.get(_GENERATION_KEY)
    return WriterRecord(metadata.get(_WRITER_KEY) or None, generation if isinstance(generation, int) else 0)


def check_writer(theirs: WriterRecord, ours: WriterRecord, settings: Settings, *, writing: bool) -> None:
    """Refuse a store that another index writes to (its chunks would be taken for this one's orphans) and, to write,
    one that a newer copy of this index's folder has written to since (this run would undo what it wrote). An
    unclaimed store is anyone's."""
    if theirs.index_id is None:
        return
    if theirs.index_id != ours.index_id:
        raise IndexMismatchError(
            f"The collection {settings.collection!r} {store_location(settings)} holds the vectors of another index, "
            f"not of the one in {settings.data_dir}: writing to it, or reading it as this index's, would damage both.",
            "Give this index a collection of its own with ASSISTANT_COLLECTION (a new name makes a new collection, "
            "such as minutes-barnsley), or use --index with the data folder that built this one.")
    if writing and theirs.generation > ours.generation:
        raise IndexMismatchError(
            f"The index in {settings.data_dir} is an older copy of the one whose vectors are in the collection "
            f"{settings.collection!r}: another copy of its folder has ingested since this one was made (its "
            f"ingest {theirs.generation}, this folder's {ours.generation}), and this run would undo what it wrote.",
            "Ingest and fetch from one data folder only. To answer questions elsewhere, copy that folder again and "
            "run `assistant ask` or `assistant serve --no-corpus` there, which do not write. If this folder was put "
            "back from a backup (the newer one lost), put back the copy of the server's folder made with it, or "
            "build the index anew in a collection of its own: " + reset_command(settings).replace(
                "`assistant", "`ASSISTANT_COLLECTION=NEW-NAME assistant", 1) + ", with ASSISTANT_COLLECTION set "
            "so on every command after.")


class _ServerCollection:
    """A collection on a Chroma server whose calls, when the server is lost (stopped, restarted, the network down),
    fail with a message saying so: they raised httpx's own errors, a traceback to `ingest` and "the assistant failed"
    to a member in the app."""

    def __init__(self, collection, settings: Settings) -> None:
        self._collection = collection
        self._settings = settings

    def __getattr__(self, name: str):
        attribute = getattr(self._collection, name)
        if not callable(attribute):
            return attribute

        def call(*args, **kwargs):
            try:
                return attribute(*args, **kwargs)
            except Exception as exc:
                if not type(exc).__module__.startswith(("httpx", "httpcore")):
                    raise
                raise _server_lost(self._settings, exc) from exc
        return call


def _server_lost(settings: Settings, exc: Exception) -> AssistantError:
    return AssistantError(
        f"Lost the Chroma server at {settings.chroma_host}:{settings.chroma_port} ({type(exc).__name__}: {exc}).",
        "Start it again (`chroma run --path DIR --port PORT`) and run the command again, or ask again: nothing indexed "
        "is lost, and an ingest cut short finishes when run again.")


def _existing_collection(client, name: str):
    from chromadb.errors import NotFoundError

    try:
        return client.get_collection(name, embedding_function=None)
    except NotFoundError:
        return None
