"""The 1m size: a `chroma run` server on loopback, and the client that fills it with synthetic vectors and times
queries (run by bench.py as a child process of its own, `--step million-client`)."""

from __future__ import annotations

import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Callable

from bench_report import p50, p95

DIMENSIONS = 384  # MiniLM's, so the synthetic index weighs what a real one would


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_chroma(folder: Path, port: int, log: Path, env: dict) -> subprocess.Popen:
    """`chroma run` on loopback; returns once it listens, or stops the benchmark with its log."""
    chroma = Path(sys.executable).parent / "chroma"
    command = [str(chroma if chroma.exists() else shutil.which("chroma") or "chroma"), "run", "--path", str(folder),
               "--host", "127.0.0.1", "--port", str(port)]
    with log.open("wb") as handle:
        server = subprocess.Popen(command, stdout=handle, stderr=subprocess.STDOUT, env=env)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and server.poll() is None:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return server
        except OSError:
            time.sleep(0.3)
    stop_chroma(server)
    print(f"the Chroma server did not start on port {port}:\n{log.read_text(errors='replace')[-3000:]}", file=sys.stderr)
    raise SystemExit(1)


def stop_chroma(server: subprocess.Popen) -> None:
    if server.poll() is None:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=60)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def folder_mb(folder: Path) -> float:
    return round(sum(p.stat().st_size for p in folder.rglob("*") if p.is_file()) / 2**20, 1)


def synthetic_rows(start: int, count: int) -> tuple[list[str], list[dict], list[str]]:
    """Ids, metadata like our chunks' (council, source, date) and short documents for rows start..start+count."""
    ids, metas, docs = [], [], []
    for i in range(start, start + count):
        council, year, month = i % 50, 2010 + (i // 7) % 15, 1 + (i // 3) % 12
        ids.append(f"syn-{i:07d}")
        metas.append({"council": f"Synthetic Council {council:02d}", "council_key": f"synthetic {council:02d}",
                      "source_id": f"synthetic://item/{i // 4}", "meeting_date": f"{year}-{month:02d}-15",
                      "meeting_year": year})
        docs.append(f"Synthetic chunk {i} of item {i // 4}: minutes of a children's services committee.")
    return ids, metas, docs


def unit_vectors(rng, count: int):
    vectors = rng.standard_normal((count, DIMENSIONS), dtype="float32")
    return vectors / (vectors ** 2).sum(axis=1, keepdims=True) ** 0.5


def time_queries(collection, vectors, where_for: Callable[[int], dict | None]) -> list[float]:
    """Top-20 queries one at a time, as the assistant makes them, in milliseconds."""
    times = []
    for i, vector in enumerate(vectors):
        started = time.perf_counter()
        collection.query(query_embeddings=[vector.tolist()], n_results=20, where=where_for(i),
                         include=["documents", "metadatas", "distances"])
        times.append((time.perf_counter() - started) * 1000)
    return times


def million_client(port: int, count: int, n_queries: int) -> dict:
    """Fill the server with `count` seeded random unit vectors in its largest batches, then time queries."""
    import chromadb
    import numpy as np
    from chromadb.config import Settings as ChromaSettings

    client = chromadb.HttpClient(host="127.0.0.1", port=port, settings=ChromaSettings(anonymized_telemetry=False))
    collection = client.create_collection("synthetic", configuration={"hnsw": {"space": "cosine"}},
                                          embedding_function=None)
    batch = client.get_max_batch_size()
    rng = np.random.default_rng(20261122)
    started = time.perf_counter()
    for start in range(0, count, batch):
        n = min(batch, count - start)
        ids, metas, docs = synthetic_rows(start, n)
        collection.add(ids=ids, embeddings=unit_vectors(rng, n), metadatas=metas, documents=docs)
        if (start // batch) % 20 == 0:
            print(f"   1m: {start + n} of {count} added, {time.perf_counter() - started:.0f} s", file=sys.stderr,
                  flush=True)
    build_seconds = time.perf_counter() - started
    stored = collection.count()
    queries = unit_vectors(np.random.default_rng(7), n_queries)
    first = time_queries(collection, queries[:1], lambda i: None)[0]
    plain = time_queries(collection, queries, lambda i: None)
    filtered = time_queries(collection, queries, lambda i: {"council": f"Synthetic Council {i % 50:02d}"})
    return {"vectors": stored, "dimensions": DIMENSIONS, "batch": batch, "build_seconds": round(build_seconds, 1),
            "adds_per_s": round(stored / build_seconds), "first_query_ms": round(first, 1), "queries": n_queries,
            "query_ms_p50": p50(plain), "query_ms_p95": p95(plain),
            "filtered_ms_p50": p50(filtered), "filtered_ms_p95": p95(filtered),
            "chromadb": chromadb.__version__}
