"""Load test: N concurrent gradio_client clients asking the running app's /ask endpoint.

    python scripts/load_test.py http://127.0.0.1:7860/ [--clients 8] [--questions 10]

Prints the error count and the latency median and 95th percentile. Run it against an app on
this machine only.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import threading
import time

QUESTIONS = [
    "How many children were discharged from care in Rotherham in 2018?",
    "What percentage of reports were available 3 days before child protection conferences in Sefton?",
    "What did scrutiny say about dental checks for children in care?",
    "What was agreed about the Children's Social Care Improvement Plan in Sefton?",
    "How many Early Help Co-ordinators were in post in Bradford?",
    "What did Blackpool's committee say about caseloads?",
    "What was resolved about apprenticeships for care leavers in Rotherham?",
    "Who introduced the performance report in Barnsley?",
    "How much did Bradford spend on agency staff in 2021/22?",
    "What did the committee say about the front door in Barnsley?",
]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("url")
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--questions", type=int, default=10)
    args = parser.parse_args(argv)
    host = args.url.split("//", 1)[-1].split(":", 1)[0].split("/", 1)[0]
    if host not in ("127.0.0.1", "localhost", "::1", "[::1]"):
        parser.error("load tests run against this machine only (127.0.0.1 or localhost)")

    from gradio_client import Client

    latencies: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()

    def client_run(number: int) -> None:
        try:
            client = Client(args.url, verbose=False)
        except Exception as exc:  # a client that cannot connect counts every question as failed
            with lock:
                errors.extend([f"client {number}: {exc}"] * args.questions)
            return
        for i in range(args.questions):
            question = QUESTIONS[(number + i) % len(QUESTIONS)]
            started = time.perf_counter()
            try:
                text = client.predict(question, "", "", "", "", api_name="/ask")
                ok = isinstance(text, str) and text.strip() != ""
            except Exception as exc:
                ok, text = False, str(exc)
            elapsed = time.perf_counter() - started
            with lock:
                if ok:
                    latencies.append(elapsed)
                else:
                    errors.append(f"client {number} question {i}: {text[:200]}")

    started = time.perf_counter()
    threads = [threading.Thread(target=client_run, args=(n,)) for n in range(args.clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - started
    latencies.sort()
    total = args.clients * args.questions
    print(f"{args.clients} clients x {args.questions} questions = {total} requests in {wall:.1f} s")
    print(f"errors: {len(errors)}")
    for error in errors[:10]:
        print(f"  {error}")
    if latencies:
        p95 = latencies[max(0, int(round(0.95 * len(latencies))) - 1)]
        print(f"latency median {statistics.median(latencies) * 1000:.0f} ms, 95th percentile {p95 * 1000:.0f} ms")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
