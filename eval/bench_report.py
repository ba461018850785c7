"""The bench.md report: the targets table and one section per measurement, rendered from bench.json's results.

Also the percentiles every figure is summarised with, so that bench.py and bench_million.py share them
without importing each other.
"""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass
from typing import Callable

MILLION = 1_000_000  # the 1m size; a run at a smaller count is a smoke test, not the 1M figure
COLD_QUESTION = "How many children were discharged from care in Rotherham in 2018?"
BEFORE_DATE = "2026-11-22"
OLD_METHOD = "old-method"  # entries carried over from bench.json files written before whole-process timing


def p50(values: list[float]) -> float:
    return round(statistics.median(values), 1)


def p95(values: list[float]) -> float:
    """Nearest-rank 95th percentile."""
    ordered = sorted(values)
    return round(ordered[max(0, math.ceil(0.95 * len(ordered)) - 1)], 1)


def dig(results: dict, *keys: str):
    """results[k1][k2]..., or None where any is missing."""
    for key in keys:
        if not isinstance(results, dict) or key not in results:
            return None
        results = results[key]
    return results


def _ingest_ratio(r: dict):
    ours, textbook = dig(r, "dev", "ingest", "ours", "seconds"), dig(r, "dev", "ingest", "textbook", "seconds")
    return (round(ours / textbook, 2),) if ours and textbook else None


def _million(results: dict):
    """Query p95 and server peak RSS, only from a run at the full size (a smoke test's smaller count is not it)."""
    m = results.get("1m") or {}
    return (m["query_ms_p95"], m["server_peak_rss_mb"]) if m.get("vectors", 0) >= MILLION else None


def _figures(*paths: tuple[str, ...]) -> Callable[[dict], tuple | None]:
    def read(results: dict):
        values = tuple(dig(results, *path) for path in paths)
        return None if None in values else values
    return read


@dataclass(frozen=True)
class Target:
    """One figure the speed issue asks for: how to read it from the results, and its ceilings (empty: reported)."""

    figure: str
    before: str
    ceilings: tuple[float, ...]
    read: Callable[[dict], tuple | None]
    entry: str  # the results entry whose measured date the figure carries


TARGETS = (
    Target("ingest time, ours / textbook, same docs (dev, median of whole processes)", "1.74", (1.0,),
           _ingest_ratio, "dev"),
    Target("warm ask, dev size, p50 / p95 ms (`timings_ms.total`)", "146 / 201", (80, 160),
           _figures(("dev", "ask", "ask_ms_p50"), ("dev", "ask", "ask_ms_p95")), "dev"),
    Target("cold `assistant ask`, new process, index present, median s", "10.8", (3,),
           _figures(("cold_ask", "seconds_median"),), "cold_ask"),
    Target("`assistant ask` peak RSS MB (median of the cold runs)", "about 1000", (400,),
           _figures(("cold_ask", "peak_rss_mb_median"),), "cold_ask"),
    Target("ask p95 at 100k chunks, ms", "478", (250,), _figures(("100k", "ask", "ask_ms_p95"),), "100k"),
    Target("retrieve p95 at 100k chunks, ms", "– (p50 136)", (100,),
           _figures(("100k", "ask", "retrieve_ms_p95"),), "100k"),
    Target("1M chunks on a Chroma server (synthetic vectors): query p95 ms / server peak RSS MB", "not run", (),
           _million, "1m"),
)


def target_row(target: Target, results: dict) -> str:
    values = target.read(results)
    now_text = " / ".join(f"{v:g}" for v in values) if values else "–"
    limit = "at most " + " / ".join(f"{c:g}" for c in target.ceilings) if target.ceilings else "measured and reported"
    if values is None:
        met = "–"
    else:
        met = "yes" if all(v <= c for v, c in zip(values, target.ceilings)) else "no"
    return f"| {target.figure} | {target.before} | {now_text} | {limit} | {met} | {measured(results, target.entry)} |"


def measured(results: dict, entry: str) -> str:
    """The date an entry was measured, starred when by the older method (see the note under the tables)."""
    e = results.get(entry) or {}
    return (e.get("measured") or "–") + (" *" if e.get(OLD_METHOD) else "")


def cell(value) -> str:
    return "–" if value is None else f"{value:g}" if isinstance(value, float) else str(value)


def render(results: dict) -> str:
    machine = results.get("machine", {})
    lines = ["# Benchmarks", "",
             f"Measured by `eval/bench.py` on this project's development machine ({machine.get('cpus')} CPUs, Python "
             f"{machine.get('python')}, no GPU). Shared machines are noisy: compare ratios within this file rather "
             "than absolute figures across runs. Sizes not run in the latest run keep their figures and date.", ""]
    lines += render_targets(results) + render_ingest(results) + render_ask(results)
    lines += render_textbook(results) + render_million(results)
    if any(isinstance(v, dict) and v.get(OLD_METHOD) for v in results.values()):
        lines += ["", "\\* Measured with the older method: ingest in-process with the model already loaded, "
                      "one run; ask by wall clock around `ask()`; the cold start once."]
    return "\n".join(lines) + "\n"


def render_targets(results: dict) -> list[str]:
    return ["## Targets", "",
            f"What the speed issue (ONNX inference, no torch on the query path) asks for; before = measured "
            f"{BEFORE_DATE}.", "",
            f"| figure | before ({BEFORE_DATE}) | now | target | met? | measured |",
            "| --- | --- | --- | --- | --- | --- |",
            *(target_row(t, results) for t in TARGETS), ""]


def render_ingest(results: dict) -> list[str]:
    lines = ["## Ingest, as whole processes", "",
             "`assistant ingest` (fresh data folder, default embedding model) and the textbook pipeline (a process "
             "that imports LangChain, reads the same documents, splits 1000/200, embeds with HuggingFaceEmbeddings "
             "and writes Chroma), each timed from spawn to exit, imports and model loading included. Each ran "
             "as many times as `runs` says, in turn, ours then the textbook's, in fresh folders; figures are medians. In-library: "
             "the time `ingest()` itself reports.", "",
             "| size | pipeline | runs | chunks | ingest s | each run s | in-library s | chunks/s | peak RSS MB | measured |",
             "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    for size in ("dev", "10k"):
        ingest = dig(results, size, "ingest")
        if not ingest:
            continue
        for name in ("ours", "textbook"):
            r = ingest[name]
            each = ", ".join(f"{s:g}" for s in r.get("seconds_each", []))
            lines.append(f"| {size} | {name} | {r['runs']} | {r['chunks']} | {r['seconds']:g} | {each or '–'} | "
                         f"{cell(r.get('library_seconds'))} | {r['chunks'] / r['seconds']:.1f} | "
                         f"{cell(r.get('peak_rss_mb'))} | {measured(results, size)} |")
        lines.append(f"| {size} | ratio ours / textbook | | | {ingest['ours']['seconds'] / ingest['textbook']['seconds']:.2f} "
                     "| | | | | |")
    lines += ["", "No-op re-ingest (a second `assistant ingest` of the same paths on the built index):", "",
              "| size | process s | in-library s | tokens embedded |", "| --- | --- | --- | --- |"]
    for size in ("dev", "10k"):
        noop = dig(results, size, "ingest", "noop")
        if noop:
            lines.append(f"| {size} | {cell(noop.get('seconds'))} | {noop['library_seconds']:g} | {noop['tokens']} |")
    return lines + [""]


def render_ask(results: dict) -> list[str]:
    lines = ["## Ask, ours", "",
             "Warm: one process opens the index, answers a warm-up question, then the questions one by one; "
             "the times are each answer's own `timings_ms` (total, retrieve, answer, verify). Peak RSS is that "
             "process's.", "",
             "| size | chunks | questions | ask p50 ms | ask p95 ms | retrieve p50 ms | retrieve p95 ms | answer p50 ms | "
             "verify p50 ms | gold in top 4 | peak RSS MB | measured |",
             "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    for size in ("dev", "10k", "100k"):
        a = dig(results, size, "ask")
        if a:
            lines.append(f"| {size} | {a['index_chunks']} | {a['questions']} | {cell(a['ask_ms_p50'])} | "
                         f"{cell(a['ask_ms_p95'])} | {cell(a['retrieve_ms_p50'])} | {cell(a.get('retrieve_ms_p95'))} | "
                         f"{cell(a['answer_ms_p50'])} | {cell(a['verify_ms_p50'])} | {cell(a['gold_in_top4_chunks'])} | "
                         f"{cell(a['peak_rss_mb'])} | {measured(results, size)} |")
    if "100k" in results:
        lines += ["", f"The 100k index reuses the 10k vectors under new ids, councils and sources (built in "
                      f"{results['100k']['build_seconds']} s, without embedding); its row measures query latency "
                      "and memory only."]
    cold = results.get("cold_ask")
    if cold:
        outcome = f"refused ({cold['refusal_reason']})" if cold.get("refusal_reason") else "answered"
        lines += ["", f"Cold: `assistant ask \"{cold.get('question', COLD_QUESTION)}\" --json` in a new process, "
                      "the dev index built, wall clock from spawn to exit and the process's own peak RSS"
                      + (f"; the assistant {outcome}." if "refusal_reason" in cold else "."), "",
                  "| runs | median s | min s | max s | peak RSS MB median | peak RSS MB max | measured |",
                  "| --- | --- | --- | --- | --- | --- | --- |",
                  f"| {cold['runs']} | {cold['seconds_median']:g} | {cell(cold.get('seconds_min'))} | "
                  f"{cell(cold.get('seconds_max'))} | {cell(cold.get('peak_rss_mb_median'))} | "
                  f"{cell(cold.get('peak_rss_mb_max'))} | {measured(results, 'cold_ask')} |"]
    return lines + [""]


def render_textbook(results: dict) -> list[str]:
    sizes = [s for s in ("dev", "10k") if dig(results, s, "textbook_query") and dig(results, s, "ingest")]
    if not sizes:
        return []
    lines = ["## Against the textbook LangChain pipeline", "",
             "RecursiveCharacterTextSplitter 1000/200, HuggingFaceEmbeddings with the same MiniLM model, Chroma, "
             f"dense top 4; the same documents and the same questions (the first {results[sizes[0]]['ask']['questions']} "
             "of eval/dev_questions.jsonl). Ingest is the median whole-process time above. Gold hit rate: share of "
             "answerable questions with a gold item among the first four chunks retrieved.", "",
             "Read the 10k row with care. The grown corpus repeats the dev texts under synthetic councils and "
             "dates. A pipeline that embeds the text alone, as the textbook one does, cannot tell the copies "
             "apart, so its 10k hit rate shows that weakness more than its retrieval quality on real minutes. "
             "Ours puts the council and date in each chunk's header and filters on the council a question "
             "names.", "",
             "| size | pipeline | chunks | ingest s | query p50 ms | gold in top 4 |", "| --- | --- | --- | --- | --- | --- |"]
    for size in sizes:
        ingest, ask, t = results[size]["ingest"], results[size]["ask"], results[size]["textbook_query"]
        ours_s, text_s = ingest["ours"]["seconds"], ingest["textbook"]["seconds"]
        lines += [
            f"| {size} | textbook | {ingest['textbook']['chunks']} | {text_s:g} | {t['query_ms_p50']:g} | "
            f"{cell(t['gold_in_top4_chunks'])} |",
            f"| {size} | ours (retrieval only, then the whole answer) | {ask['index_chunks']} | {ours_s:g} | "
            f"{ask['retrieve_ms_p50']:g} / {ask['ask_ms_p50']:g} | {cell(ask['gold_in_top4_chunks'])} |",
            f"| {size} | ratio ours / textbook | | {ours_s / text_s:.2f} | {ask['retrieve_ms_p50'] / t['query_ms_p50']:.2f} / "
            f"{ask['ask_ms_p50'] / t['query_ms_p50']:.2f} | {_ratio(ask['gold_in_top4_chunks'], t['gold_in_top4_chunks'])} |"]
    return lines + [""]


def _ratio(a, b) -> str:
    return f"{a / b:.2f}" if a is not None and b else "–"


def render_million(results: dict) -> list[str]:
    m = results.get("1m")
    if not m:
        return ["## 1M chunks on a Chroma server", "", "Not run yet: `python eval/bench.py --sizes 1m`.", ""]
    return ["## 1M chunks on a Chroma server", "",
            f"A `chroma run` server (chromadb {m['chromadb']}) on loopback, filled through `chromadb.HttpClient` with "
            f"{m['vectors']:,} **synthetic** vectors: seeded random {m['dimensions']}-d unit vectors (not embeddings "
            "of text), with metadata shaped like our chunks' (council out of 50, source, date) and one-line "
            f"documents, added in the server's largest batch ({m['batch']}). Then {m['queries']} random unit query "
            "vectors, top 20 with documents and metadata, one at a time: without a filter, and with a `where` on "
            "one council (1 in 50 of the chunks). Latency is the client's wall clock; the server's RSS is polled "
            "every 0.2 s for the whole run, the client's is its own peak."
            + ("" if m["vectors"] >= MILLION else " **A smoke run at a smaller count: not the 1M figure.**"), "",
            "| vectors | build s (all adds) | adds/s | first query ms | query p50 / p95 ms | filtered p50 / p95 ms | "
            "server peak RSS MB | server RSS at end MB | client peak RSS MB | disk MB | measured |",
            "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
            f"| {m['vectors']:,} | {m['build_seconds']:g} | {m['adds_per_s']} | {m['first_query_ms']:g} | "
            f"{m['query_ms_p50']:g} / {m['query_ms_p95']:g} | {m['filtered_ms_p50']:g} / {m['filtered_ms_p95']:g} | "
            f"{m['server_peak_rss_mb']:g} | {m['server_rss_at_end_mb']:g} | {m['client_peak_rss_mb']:g} | "
            f"{m['disk_mb']:g} | {measured(results, '1m')} |", ""]
