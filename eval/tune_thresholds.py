"""Choose the extractive answerer's refusal thresholds on the tuning questions only.

Tuning questions: eval/questions.jsonl (the seed corpus), eval/dev_questions.jsonl and
eval/tuning_questions.jsonl. eval/holdout_questions.jsonl is held out: the script prints its figures
for the chosen thresholds but never uses them to choose (eval/README.md tells the history).

    python eval/tune_thresholds.py [--shared ../shared]

Needs ../shared (the dev corpus). Prints a table; copy the chosen values into
assistant/extractive.py's Thresholds and record them in eval/README.md.
"""

from __future__ import annotations

import argparse
import itertools
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shared", type=Path, default=ROOT.parent / "shared")
    parser.add_argument("--max-wrongly-refused", type=float, default=0.05)
    args = parser.parse_args()

    from assistant.present.evaluate import load_questions
    from assistant.ingest.run import Index, ingest
    from assistant.retrieve.question import analyse
    from assistant.retrieve.filters import Filters
    from assistant.settings import Settings
    from assistant.answer.service import Assistant
    from assistant.answer.evidence import QuestionTerms, score_sentences

    seed = load_questions(ROOT / "eval" / "questions.jsonl")
    dev = load_questions(ROOT / "eval" / "dev_questions.jsonl")
    tuning_file = load_questions(ROOT / "eval" / "tuning_questions.jsonl")
    holdout = load_questions(ROOT / "eval" / "holdout_questions.jsonl")
    tuning = [("seed", q) for q in seed] + [("dev", q) for q in dev + tuning_file]
    held_out = [("dev", q) for q in holdout]

    with tempfile.TemporaryDirectory() as scratch:
        prepared = {}
        for name, paths in (("seed", [ROOT / "corpus"]),
                            ("dev", [ROOT / "corpus", args.shared / "corpus" / "dev_minutes.jsonl"])):
            settings = Settings.from_env(data_dir=Path(scratch) / name)
            index = Index(settings)
            ingest(paths, settings, index=index, progress=False)
            index.close()
            assistant = Assistant(settings)
            prepared[name] = (assistant, [])
        cases = []
        for name, q in tuning + held_out:
            assistant, _ = prepared[name]
            question = analyse(q.question, assistant.retriever.council_keys)
            retrieval = assistant.retriever.search(question, Filters(**q.filters))
            terms = QuestionTerms(question, assistant.lexical)
            scored = score_sentences(question, retrieval.hits, terms, assistant.index.embedder,
                                     retrieval.query_vector, passages=assistant.passages) if retrieval.hits else []
            cases.append((name, q, question, retrieval, scored))
        tuning_cases = cases[:len(tuning)]
        held_cases = cases[len(tuning):]

        grid = {
            "min_relevance": [0.2, 0.25, 0.3, 0.35, 0.4],
            "min_support": [0.2, 0.25, 0.3, 0.35, 0.4, 0.45],
            "typed_min_coverage": [0.1, 0.15, 0.2, 0.25, 0.3],
            "typed_min_similarity": [0.5, 0.55, 0.6, 0.65, 0.7],
        }
        from assistant.answer.extractive import Thresholds

        results = []
        for values in itertools.product(*grid.values()):
            thresholds = Thresholds(*values)
            stats = measure(prepared, tuning_cases, thresholds)
            results.append((stats, thresholds))
        allowed = [r for r in results if r[0]["wrongly_refused"] <= args.max_wrongly_refused] or results
        allowed.sort(key=lambda r: -(r[0]["correct"] + r[0]["refused"]))
        print("best on the tuning questions (answer correctness + unanswerable refused; wrongly refused "
              f"<= {args.max_wrongly_refused}):")
        for stats, thresholds in allowed[:8]:
            print(f"  {thresholds}: {stats}")
        chosen = allowed[0][1]
        print(f"\nchosen: {chosen}")
        print(f"tuning:   {measure(prepared, tuning_cases, chosen)}")
        print(f"held out: {measure(prepared, held_cases, chosen)}")
        for assistant, _ in prepared.values():
            assistant.close()


def measure(prepared, cases, thresholds) -> dict:
    from assistant.answer.extractive import draft_answer
    from assistant.text import strip_bullet

    correct = refused = wrongly = answerable = unanswerable = 0
    for name, q, question, retrieval, scored in cases:
        assistant, _ = prepared[name]
        if not retrieval.hits:
            draft_refused, text, councils = True, "", ""
        else:
            draft = draft_answer(question, retrieval.hits, assistant.passages, assistant.index.embedder,
                                 retrieval.query_vector, assistant.place_words, thresholds, scored=scored)
            draft_refused = draft.refusal is not None
            text = " ".join(strip_bullet(s.text) for s in draft.quotes).lower()
            councils = " ".join(s.hit.metadata.get("council", "") for s in draft.quotes).lower()
        if q.answerable:
            answerable += 1
            wrongly += draft_refused
            correct += (not draft_refused) and all(
                m.lower() in text or (q.kind == "multi" and m.lower() in councils) for m in q.must_include)
        else:
            unanswerable += 1
            refused += draft_refused
    return {"correct": round(correct / answerable, 3), "refused": round(refused / max(unanswerable, 1), 3),
            "wrongly_refused": round(wrongly / answerable, 3)}


if __name__ == "__main__":
    main()
