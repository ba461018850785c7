"""Benchmarks of ingest and ask as a user feels them, beside the textbook LangChain pipeline.

Ingest and cold ask run as whole processes, warm ask in one process; 1M synthetic chunks go on a Chroma
server when asked. Writes bench.md and bench.json to eval/results (or --out).

    .venv/bin/python eval/bench.py                       # dev, 10k, 100k: 45 min to 1.5 hours
    .venv/bin/python eval/bench.py --sizes dev           # the dev size and the cold ask: about 4 min
    .venv/bin/python eval/bench.py --sizes 1m            # 1M chunks on a Chroma server: about 1 to 2 hours
    .venv/bin/python eval/bench.py --sizes dev --questions 5 --runs 1 --out /tmp/bench   # a quick look

Rough times on 2 cores: dev 4 min (3 ingests a side, 5 cold asks); 10k 30 min on quiet cores, an hour when
they are shared (3 ingests a side of 3 to 10 min each; --runs 1 for a quicker look); 100k 6 min (it multiplies
the 10k index, so it needs 10k in the same run); 1m 1 to 2 hours (about 180 batched adds at 300 to 600 a second,
then 400 queries; only when named). Every measured step runs in a process of its own, so that its time and
peak memory are its own. Sizes not run keep their last figures and measured date.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

# eval/ is not a package: these siblings resolve because a script's own folder heads sys.path.
from bench_million import folder_mb, free_port, million_client, start_chroma, stop_chroma
from bench_report import COLD_QUESTION, MILLION, OLD_METHOD, p50, p95, render

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "eval" / "results"
SIZES = ("dev", "10k", "100k", "1m")
COPIES_FOR_10K = 23  # the dev corpus and seeds give about 430 chunks; 23 relabelled copies give about 10,000
FACTOR_FOR_100K = 10


# -- running and measuring a process ----------------------------------------------------------------

@dataclass(frozen=True)
class Finished:
    """A child process that has exited: wall clock from spawn to exit, and its own peak RSS."""

    command: tuple[str, ...]
    returncode: int
    seconds: float
    peak_rss_mb: float
    stdout: str
    stderr: str


# Linux carries a process's memory high-water mark across exec, and a child started by vfork or fork of a
# large parent starts from the parent's. So the command runs under this small launcher, whose own child's
# peak is the command's alone; the launcher writes it to the file named first.
_LAUNCHER = ("import resource, subprocess, sys; code = subprocess.call(sys.argv[2:]); "
             "open(sys.argv[1], 'w').write(str(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)); "
             "sys.exit(code)")


def run_process(command: list[str], env: dict | None = None, show_stderr: bool = False) -> Finished:
    """Run to exit: wall clock from spawn to exit, and the command's own peak RSS (see _LAUNCHER)."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err, \
            tempfile.NamedTemporaryFile(mode="r", suffix=".rss") as rss:
        started = time.perf_counter()
        process = subprocess.run([sys.executable, "-c", _LAUNCHER, rss.name, *command], stdout=out,
                                 stderr=None if show_stderr else err, env=env, cwd=ROOT)
        seconds = time.perf_counter() - started
        peak_kb = float(rss.read().strip() or 0)
        out.seek(0), err.seek(0)
        return Finished(tuple(command), process.returncode, seconds, round(peak_kb / 1024, 1),
                        out.read().decode(errors="replace"), err.read().decode(errors="replace"))


def run_checked(command: list[str], what: str, env: dict | None = None, show_stderr: bool = False) -> Finished:
    """run_process, stopping the benchmark with the child's own output when it fails."""
    finished = run_process(command, env, show_stderr)
    if finished.returncode != 0:
        print(f"{what} failed (exit {finished.returncode}): {' '.join(finished.command)}", file=sys.stderr)
        print(f"-- its stdout, last lines:\n{finished.stdout[-2000:]}", file=sys.stderr)
        print(f"-- its stderr, last lines:\n{finished.stderr[-5000:] or '(shown above)'}", file=sys.stderr)
        raise SystemExit(1)
    return finished


def child_env(**extra: str) -> dict:
    """The same environment for both pipelines: offline, no telemetry."""
    return {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "ANONYMIZED_TELEMETRY": "False",
            **extra}


def bench_command(*args: str) -> list[str]:
    """This script, run as a child for one measured step."""
    return [sys.executable, str(Path(__file__).resolve()), *args]


def result_of(finished: Finished) -> dict:
    """The RESULT line a child of this script prints last."""
    lines = [line for line in finished.stdout.splitlines() if line.startswith("RESULT ")]
    if not lines:
        print(f"no RESULT line from {' '.join(finished.command)}:\n{finished.stdout[-2000:]}", file=sys.stderr)
        raise SystemExit(1)
    return json.loads(lines[-1][len("RESULT "):])


def first_json_object(text: str) -> dict:
    """The JSON object a command printed, after anything a library printed before it."""
    start = text.find("{")
    if start < 0:
        raise ValueError(f"no JSON object in: {text[-500:]!r}")
    return json.JSONDecoder().raw_decode(text[start:])[0]


class PeakRss:
    """Polls the RSS of a process and its children in a thread; `peak_mb` is the highest sum seen."""

    def __init__(self, pid: int, every_seconds: float = 0.2) -> None:
        import psutil

        self._process = psutil.Process(pid)
        self._every = every_seconds
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._poll, daemon=True)
        self.peak_mb = self.last_mb = 0.0

    def __enter__(self) -> "PeakRss":
        self.sample()
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()

    def sample(self) -> None:
        import psutil

        try:
            tree = [self._process, *self._process.children(recursive=True)]
            self.last_mb = sum(p.memory_info().rss for p in tree) / 2**20
        except psutil.Error:  # a process came or went between the listing and the reading
            return
        self.peak_mb = max(self.peak_mb, self.last_mb)

    def _poll(self) -> None:
        while not self._stop.wait(self._every):
            self.sample()


def now() -> str:
    return time.strftime("%Y-%m-%d %H:%M")


# -- corpora and questions --------------------------------------------------------------------------

def grown_corpus(dev_corpus: Path, copies: int, folder: Path) -> Path:
    """The dev corpus plus relabelled copies: each copy gets its own council name, dates and URL."""
    rows = [json.loads(line) for line in dev_corpus.read_text(encoding="utf-8").splitlines() if line.strip()]
    folder.mkdir(parents=True, exist_ok=True)
    out = folder / f"grown-{copies}.jsonl"
    rng = random.Random(7)
    with out.open("w", encoding="utf-8") as handle:
        for row in rows:
            handle.write(json.dumps(row) + "\n")
        for k in range(1, copies + 1):
            for i, row in enumerate(rows):
                year = 2010 + rng.randrange(15)
                handle.write(json.dumps({
                    "url": f"{row['url']}#copy-{k}", "council": f"Synthetic Borough {k:02d}-{i % 9} Council",
                    "title": row["title"], "date": f"{year}-{rng.randrange(1, 13):02d}", "text": row["text"],
                }) + "\n")
    return out


def corpus_paths(size: str, dev_corpus: Path, workdir: Path) -> list[Path]:
    if size == "dev":
        return [ROOT / "corpus", dev_corpus]
    return [ROOT / "corpus", grown_corpus(dev_corpus, COPIES_FOR_10K, workdir)]


def questions(limit: int) -> list[dict]:
    rows = [json.loads(l) for l in (ROOT / "eval" / "dev_questions.jsonl").read_text().splitlines() if l.strip()]
    return rows[:limit]


def our_index(workdir: Path, size: str) -> Path:
    return workdir / f"ours-{size}"


def textbook_store(workdir: Path, size: str) -> Path:
    return workdir / f"textbook-{size}"


# -- ingest, both pipelines as whole processes ------------------------------------------------------

def ingest_ours(paths: list[Path], data_dir: Path) -> dict:
    """`assistant ingest` in a new process, into `data_dir`, with the default embedding model."""
    finished = run_checked([sys.executable, "-m", "assistant", "ingest", "--json", "--no-progress", *map(str, paths)],
                           "assistant ingest", child_env(ASSISTANT_DATA_DIR=str(data_dir)))
    summary = first_json_object(finished.stdout)
    return {"seconds": finished.seconds, "library_seconds": summary["seconds"], "chunks": summary["chunks_added"],
            "tokens": summary["tokens_embedded"], "items": summary["new"] + summary["replaced"],
            "peak_rss_mb": finished.peak_rss_mb}


def ingest_textbook(paths: list[Path], folder: Path) -> dict:
    finished = run_checked(bench_command("--step", "textbook-ingest", "--folder", str(folder), "--inputs",
                                         *map(str, paths)), "the textbook ingest", child_env())
    return {"seconds": finished.seconds, "chunks": result_of(finished)["chunks"], "peak_rss_mb": finished.peak_rss_mb}


def summarise_runs(runs: list[dict]) -> dict:
    """Medians of the timings and memory over the runs (counts are the first run's), and each run's time."""
    timed = ("seconds", "library_seconds", "peak_rss_mb")
    summary = {key: round(statistics.median(run[key] for run in runs), 2) if key in timed else runs[0][key]
               for key in runs[0]}
    return {**summary, "runs": len(runs), "seconds_each": [round(run["seconds"], 2) for run in runs]}


def ingest_both(paths: list[Path], workdir: Path, size: str, runs: int) -> dict:
    """Each pipeline `runs` times in turn, ours then the textbook's, so that the machine's moods fall on both."""
    ours, textbook = [], []
    for run in range(runs):
        our_dir = our_index(workdir, size) if run == 0 else workdir / f"ours-{size}.{run}"
        ours.append(ingest_ours(paths, our_dir))
        store = textbook_store(workdir, size) if run == 0 else workdir / f"textbook-{size}.{run}"
        textbook.append(ingest_textbook(paths, store))
        print(f"   ingest {run + 1}/{runs}: ours {ours[-1]['seconds']:.1f} s ({ours[-1]['chunks']} chunks), "
              f"textbook {textbook[-1]['seconds']:.1f} s ({textbook[-1]['chunks']} chunks)", flush=True)
        if run:  # only the first run's folders are queried later
            shutil.rmtree(our_dir)
            shutil.rmtree(store)
    noop = ingest_ours(paths, our_index(workdir, size))
    print(f"   no-op re-ingest: {noop['seconds']:.1f} s, {noop['tokens']} tokens embedded", flush=True)
    return {"ours": summarise_runs(ours), "textbook": summarise_runs(textbook),
            "noop": {"seconds": round(noop["seconds"], 2), "library_seconds": noop["library_seconds"],
                     "tokens": noop["tokens"]}}


def textbook_ingest(folder: Path, paths: list[Path]) -> dict:
    """The textbook pipeline's ingest, run as its own process: split 1000/200, HuggingFaceEmbeddings, Chroma."""
    from langchain_chroma import Chroma
    from langchain_core.documents import Document
    from langchain_text_splitters import RecursiveCharacterTextSplitter

    from assistant.ingest.readers import read_inputs
    from assistant.records import MinuteItem

    docs = [Document(page_content=item.text, metadata={"source_id": item.source_id})
            for item in read_inputs(paths, 1_000_000) if isinstance(item, MinuteItem) and item.text]
    splits = RecursiveCharacterTextSplitter(chunk_size=1000, chunk_overlap=200).split_documents(docs)
    store = Chroma(collection_name="textbook", embedding_function=textbook_embeddings(),
                   persist_directory=str(folder))
    for start in range(0, len(splits), 1000):
        store.add_documents(splits[start:start + 1000])
    return {"chunks": len(splits)}


def textbook_embeddings():
    """HuggingFaceEmbeddings over the same bundled MiniLM model that we use."""
    from langchain_huggingface import HuggingFaceEmbeddings

    from assistant.index.models import ensure_bundled_model
    from assistant.settings import Settings

    model_path = str(ensure_bundled_model(Settings.from_env().model_dir))
    return HuggingFaceEmbeddings(model_name=model_path, model_kwargs={"device": "cpu"})


# -- ask: warm in one process, cold in new ones -----------------------------------------------------

def warm_ask(data_dir: Path, qs: list[dict]) -> dict:
    """Open the index, answer a warm-up question, then each question; times are the answers' own timings_ms."""
    from assistant.answer.service import Assistant
    from assistant.retrieve.filters import Filters
    from assistant.settings import Settings

    started = time.perf_counter()
    assistant = Assistant(Settings.from_env(data_dir=data_dir))
    open_seconds = time.perf_counter() - started
    assistant.ask("warm-up question about looked after children")
    timings: dict[str, list[float]] = {"total": [], "retrieve": [], "answer": [], "verify": []}
    hits = []
    for q in qs:
        answer = assistant.ask(q["question"], Filters(**q.get("filters", {})))
        for key, values in timings.items():
            values.append(answer.timings_ms[key])
        if q["gold_urls"]:
            hits.append(bool({r["source_url"] for r in answer.retrieved[:4]} & set(q["gold_urls"])))
    chunks = assistant.chunk_count
    assistant.close()
    return {
        "index_chunks": chunks, "open_seconds": round(open_seconds, 2), "questions": len(qs),
        "ask_ms_p50": p50(timings["total"]), "ask_ms_p95": p95(timings["total"]),
        "retrieve_ms_p50": p50(timings["retrieve"]), "retrieve_ms_p95": p95(timings["retrieve"]),
        "answer_ms_p50": p50(timings["answer"]), "verify_ms_p50": p50(timings["verify"]),
        "gold_in_top4_chunks": round(sum(hits) / len(hits), 3) if hits else None,
    }


def textbook_query(folder: Path, qs: list[dict]) -> dict:
    """The textbook pipeline's dense top 4 over its stored index, warm, timed per question."""
    from langchain_chroma import Chroma

    store = Chroma(collection_name="textbook", embedding_function=textbook_embeddings(),
                   persist_directory=str(folder))
    retriever = store.as_retriever(search_kwargs={"k": 4})
    retriever.invoke("warm-up question about looked after children")
    times, hits = [], []
    for q in qs:
        started = time.perf_counter()
        found = retriever.invoke(q["question"])
        times.append((time.perf_counter() - started) * 1000)
        if q["gold_urls"]:
            hits.append(bool({d.metadata["source_id"] for d in found} & set(q["gold_urls"])))
    return {"query_ms_p50": p50(times), "query_ms_p95": p95(times),
            "gold_in_top4_chunks": round(sum(hits) / len(hits), 3) if hits else None}


def step_child(step: str, folder: Path, args: argparse.Namespace) -> dict:
    """One internal step of this script in a process of its own, so that its peak RSS is its own."""
    finished = run_checked(bench_command("--step", step, "--folder", str(folder), "--workdir", str(args.workdir),
                                         "--questions", str(args.questions)), f"the {step} step on {folder.name}",
                           child_env())
    return {**result_of(finished), "peak_rss_mb": finished.peak_rss_mb}


def cold_ask(data_dir: Path, runs: int) -> dict:
    """`assistant ask --json` in a new process each time, the index already built."""
    seconds, rss = [], []
    for _ in range(runs):
        finished = run_checked([sys.executable, "-m", "assistant", "ask", COLD_QUESTION, "--json"], "assistant ask",
                               child_env(ASSISTANT_DATA_DIR=str(data_dir)))
        answer = first_json_object(finished.stdout)
        seconds.append(finished.seconds)
        rss.append(finished.peak_rss_mb)
    print(f"   cold ask: median {statistics.median(seconds):.2f} s, peak RSS {statistics.median(rss):.0f} MB",
          flush=True)
    return {"runs": runs, "question": COLD_QUESTION, "refusal_reason": answer["refusal_reason"],
            "seconds_median": round(statistics.median(seconds), 2), "seconds_min": round(min(seconds), 2),
            "seconds_max": round(max(seconds), 2), "peak_rss_mb_median": round(statistics.median(rss), 1),
            "peak_rss_mb_max": max(rss)}


# -- 100k: the 10k index multiplied ---------------------------------------------------------------

def multiply_index(source_dir: Path, target_dir: Path, factor: int) -> float:
    """A 100k-chunk index from the 10k one: the same vectors under new ids, councils and dates (no re-embedding)."""
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    from assistant.ingest.run import Index, refresh_lexical
    from assistant.index.manifest import Manifest, ManifestRow
    from assistant.records import content_hash
    from assistant.settings import Settings

    started = time.perf_counter()
    shutil.copytree(source_dir, target_dir)
    client = chromadb.PersistentClient(path=str(target_dir / "chroma"), settings=ChromaSettings(anonymized_telemetry=False))
    collection = client.get_collection("minutes")
    stored = collection.get(include=["embeddings", "documents", "metadatas"])
    manifest = Manifest(target_dir / "manifest.sqlite")
    for k in range(1, factor):
        ids, vectors, docs, metas = [], [], [], []
        by_source: dict[str, list[str]] = {}
        for cid, vector, doc, meta in zip(stored["ids"], stored["embeddings"], stored["documents"], stored["metadatas"]):
            new_id = content_hash(cid, str(k))[:32]
            source = f"{meta['source_id']}#x{k}"
            meta = {**meta, "source_id": source, "council": f"{meta.get('council', '')} x{k}",
                    "council_key": f"{meta.get('council_key', '')} x{k}"}
            ids.append(new_id), vectors.append(vector), docs.append(doc), metas.append(meta)
            by_source.setdefault(source, []).append(new_id)
        for start in range(0, len(ids), 5000):
            collection.add(ids=ids[start:start + 5000], embeddings=vectors[start:start + 5000],
                           documents=docs[start:start + 5000], metadatas=metas[start:start + 5000])
        manifest.write(ManifestRow(source, f"copy-{k}", "done", tuple(chunk_ids), "", "", "", "", "bench", 0)
                       for source, chunk_ids in by_source.items())
    manifest.close()
    index = Index(Settings.from_env(data_dir=target_dir))
    refresh_lexical(index)
    index.close()
    return round(time.perf_counter() - started, 1)


# -- 1m: a client process fills a Chroma server, watched all along ----------------------------------
# The server and the client are in bench_million.py; this part stays here because it runs the client with
# this script's process tools (bench_million importing them back would be a cycle).

def million(args: argparse.Namespace) -> dict:
    """Start a server, fill and query it from a client process, and watch the server's memory all along."""
    folder, port = args.workdir / "chroma-1m", free_port()
    server = start_chroma(folder, port, args.workdir / "chroma-1m.log", child_env())
    try:
        with PeakRss(server.pid) as server_rss:
            finished = run_checked(bench_command("--step", "million-client", "--chroma-port", str(port),
                                                 "--million-count", str(args.million_count), "--queries",
                                                 str(args.queries)), "the 1m client", child_env(), show_stderr=True)
    finally:
        stop_chroma(server)
    return {**result_of(finished), "client_peak_rss_mb": finished.peak_rss_mb,
            "server_peak_rss_mb": round(server_rss.peak_mb, 1), "server_rss_at_end_mb": round(server_rss.last_mb, 1),
            "disk_mb": folder_mb(folder)}


# -- one size -------------------------------------------------------------------------------------

def measure_size(size: str, args: argparse.Namespace) -> dict:
    """The figures of one size; each measured step in a child process."""
    if size == "1m":
        return million(args)
    if size == "100k":
        build = step_child("build-100k", our_index(args.workdir, "100k"), args)
        return {"build_seconds": build["build_seconds"], "build_peak_rss_mb": build["peak_rss_mb"],
                "ask": step_child("warm-ask", our_index(args.workdir, "100k"), args)}
    paths = corpus_paths(size, args.dev_corpus, args.workdir)
    figures = {"ingest": ingest_both(paths, args.workdir, size, args.runs)}
    figures["ask"] = step_child("warm-ask", our_index(args.workdir, size), args)
    print(f"   warm ask: p50 {figures['ask']['ask_ms_p50']} ms, p95 {figures['ask']['ask_ms_p95']} ms", flush=True)
    figures["textbook_query"] = step_child("textbook-query", textbook_store(args.workdir, size), args)
    return figures


def build_100k(args: argparse.Namespace) -> dict:
    source = our_index(args.workdir, "10k")
    if not (source / "manifest.sqlite").is_file():
        raise SystemExit("the 100k size multiplies the 10k index: run 10k first, in the same run")
    return {"build_seconds": multiply_index(source, args.folder, FACTOR_FOR_100K)}


# The internal steps, each run by a child of this script (`--step NAME`) that prints one RESULT line.
STEPS: dict[str, Callable[[argparse.Namespace], dict]] = {
    "textbook-ingest": lambda a: textbook_ingest(a.folder, a.inputs),
    "textbook-query": lambda a: textbook_query(a.folder, questions(a.questions)),
    "warm-ask": lambda a: warm_ask(a.folder, questions(a.questions)),
    "build-100k": build_100k,
    "million-client": lambda a: million_client(a.chroma_port, a.million_count, a.queries),
}


# -- the whole run --------------------------------------------------------------------------------

def parse_sizes(text: str) -> list[str]:
    sizes = [s.strip() for s in text.split(",") if s.strip()]
    unknown = [s for s in sizes if s not in SIZES]
    if unknown:
        raise SystemExit(f"unknown size {', '.join(unknown)}: choose among {', '.join(SIZES)}")
    if "100k" in sizes and ("10k" not in sizes or sizes.index("10k") > sizes.index("100k")):
        raise SystemExit("100k multiplies the 10k index: give 10k before it, as in --sizes 10k,100k")
    return sizes


def load_previous(path: Path) -> dict:
    """Last run's results, so that sizes not run now keep their figures (older files are upgraded)."""
    results = json.loads(path.read_text()) if path.is_file() else {}
    for size in ("dev", "10k", "100k"):
        if size in results and "ask" not in results[size]:
            results[size] = upgrade_old_entry(results[size])
    if "cold_start" in results:
        old = results.pop("cold_start")
        results.setdefault("cold_ask", {"runs": 1, "seconds_median": old["cli_first_answer_seconds"],
                                        "measured": results.get("dev", {}).get("measured", ""), OLD_METHOD: True})
    return results


def upgrade_old_entry(e: dict) -> dict:
    """A flat entry of the older bench.json: ingest timed in-process with the model loaded, ask by wall clock."""
    entry = {"measured": e.get("measured", ""), OLD_METHOD: True, "ask": {
        "index_chunks": e["index_chunks"], "questions": e["questions"], "ask_ms_p50": e["ask_ms_median"],
        "ask_ms_p95": e["ask_ms_p95"], "retrieve_ms_p50": e["retrieve_ms_median"], "answer_ms_p50": e["answer_ms_median"],
        "verify_ms_p50": e["verify_ms_median"], "gold_in_top4_chunks": e["gold_in_top4_chunks"],
        "peak_rss_mb": e["peak_rss_mb"]}}
    if "build_seconds" in e:
        entry["build_seconds"] = e["build_seconds"]
    if "ingest_seconds" in e:
        entry["ingest"] = {"ours": {"runs": 1, "seconds": e["ingest_seconds"], "chunks": e["chunks"]},
                           "textbook": {"runs": 1, "seconds": e["textbook"]["ingest_seconds"],
                                        "chunks": e["textbook"]["chunks"]},
                           "noop": {"library_seconds": e["noop_reingest_seconds"], "tokens": e["noop_embedded_tokens"]}}
        entry["textbook_query"] = {"query_ms_p50": e["textbook"]["query_ms_median"],
                                   "query_ms_p95": e["textbook"]["query_ms_p95"],
                                   "gold_in_top4_chunks": e["textbook"]["gold_in_top4_chunks"]}
    return entry


def save(results: dict, out: Path) -> None:
    results["machine"] = {"cpus": os.cpu_count(), "python": platform.python_version(),
                          "processor": platform.processor() or platform.machine()}
    out.mkdir(parents=True, exist_ok=True)
    (out / "bench.json").write_text(json.dumps(results, indent=2))
    (out / "bench.md").write_text(render(results))


def run_benchmark(args: argparse.Namespace) -> int:
    sizes = parse_sizes(args.sizes)
    results = load_previous(args.out / "bench.json")
    with tempfile.TemporaryDirectory(prefix="bench-", dir=args.scratch) as scratch:
        args.workdir = Path(scratch)
        for size in sizes:
            print(f"== {size}", flush=True)
            started = time.perf_counter()
            results[size] = {**measure_size(size, args), "measured": now()}
            if size == "dev":
                results["cold_ask"] = {**cold_ask(our_index(args.workdir, "dev"), args.cold_runs), "measured": now()}
            save(results, args.out)  # after each size, so that a later failure keeps what was measured
            print(f"   done in {time.perf_counter() - started:.0f} s", flush=True)
    print((args.out / "bench.md").read_text())
    return 0


# -- command line ---------------------------------------------------------------------------------

def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shared", type=Path, default=ROOT.parent / "shared")
    parser.add_argument("--sizes", default="dev,10k,100k", help=f"among {', '.join(SIZES)} (1m only when named)")
    parser.add_argument("--questions", type=int, default=50, help="the first N of eval/dev_questions.jsonl")
    parser.add_argument("--runs", type=int, default=3, help="ingests per pipeline and size (medians reported)")
    parser.add_argument("--cold-runs", type=int, default=5, help="cold `assistant ask` processes")
    parser.add_argument("--queries", type=int, default=200, help="query vectors at the 1m size")
    parser.add_argument("--out", type=Path, default=RESULTS, help="where bench.md and bench.json go")
    parser.add_argument("--scratch", type=Path, default=None, help="where the temporary indexes go (default: $TMPDIR)")
    # Internal: one measured step in this process, and a smaller "1m" for a smoke test.
    parser.add_argument("--step", choices=sorted(STEPS), help=argparse.SUPPRESS)
    parser.add_argument("--folder", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--workdir", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--inputs", type=Path, nargs="+", help=argparse.SUPPRESS)
    parser.add_argument("--chroma-port", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--million-count", type=int, default=MILLION, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if min(args.runs, args.cold_runs, args.questions, args.queries, args.million_count) < 1:
        parser.error("--runs, --cold-runs, --questions and --queries must be at least 1")
    args.dev_corpus = args.shared / "corpus" / "dev_minutes.jsonl"
    return args


def main() -> int:
    args = parse_args()
    if args.step:
        print("RESULT " + json.dumps(STEPS[args.step](args)))
        return 0
    needs_corpus = {"dev", "10k"} & set(parse_sizes(args.sizes))
    if needs_corpus and not args.dev_corpus.is_file():
        print(f"needs the dev corpus at {args.dev_corpus} (give --shared)", file=sys.stderr)
        return 2
    return run_benchmark(args)


if __name__ == "__main__":
    sys.exit(main())
