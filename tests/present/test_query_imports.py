"""The question path runs on onnxruntime alone: asking, the app's handler and the evaluation never import
torch, transformers or sentence-transformers (they stay dependencies, for training and making ONNX files)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from conftest import ROOT

pytestmark = [pytest.mark.slow, pytest.mark.integration]

HEAVY = ("torch", "transformers", "sentence_transformers")

# Run in a child process, then report which heavy modules that process imported.
_REPORT = """
import json, sys
{body}
print("MODULES " + json.dumps(sorted(m for m in {heavy!r} if m in sys.modules)))
"""


def _run(body: str, settings) -> list[str]:
    env = {**os.environ, "ASSISTANT_DATA_DIR": str(settings.data_dir), "PYTHONPATH": str(ROOT)}
    code = _REPORT.format(body=body, heavy=HEAVY)
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    line = next(l for l in done.stdout.splitlines() if l.startswith("MODULES "))
    return json.loads(line[len("MODULES "):])


def test_cli_ask_imports_no_torch(seed_index):
    body = """
from assistant.present.cli import main
try:
    main(["ask", "How many foster carers were approved?", "--json"])
except SystemExit:
    pass
"""
    assert _run(body, seed_index) == []


def test_app_question_handler_imports_no_torch(seed_index):
    body = """
from assistant.answer.service import Assistant
from assistant.present.app import ChatHandlers, build_app
from assistant.settings import Settings
assistant = Assistant(Settings.from_env())
handlers = ChatHandlers(assistant)
for _ in handlers.stream_answer("What did the committee say about dental checks?"):
    pass
build_app(assistant)
assistant.close()
"""
    assert _run(body, seed_index) == []


def test_eval_imports_no_torch(seed_index, tmp_path):
    questions = tmp_path / "questions.jsonl"
    questions.write_text(json.dumps({"id": "q1", "question": "How many foster carers were approved?",
                                     "kind": "fact", "gold_urls": [], "must_include": [],
                                     "notes": "unknown keys are allowed"}) + "\n")
    body = f"""
from assistant.present.cli import main
try:
    main(["eval", "--questions", {str(questions)!r}, "--index", {str(seed_index.data_dir)!r},
          "--out", {str(tmp_path / "out")!r}])
except SystemExit:
    pass
"""
    assert _run(body, seed_index) == []
    assert (tmp_path / "out" / "answers.jsonl").is_file()


def test_the_check_can_fail(seed_index):
    """The same harness sees torch when something does import it."""
    assert _run("import torch", seed_index) == ["torch"]


def test_importtime_of_an_ask_shows_no_torch(seed_index):
    """What a reader of `python -X importtime` sees: no torch, transformers or sentence_transformers line."""
    env = {**os.environ, "ASSISTANT_DATA_DIR": str(seed_index.data_dir), "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-X", "importtime", "-m", "assistant", "ask", "How many foster carers "
                           "were approved?", "--json"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    imported = {line.split("|")[-1].strip() for line in done.stderr.splitlines() if line.startswith("import time:")}
    assert "assistant.answer.service" in imported  # the trace is real
    assert not {name for name in imported if name.split(".")[0] in HEAVY}


@pytest.mark.parametrize("module, absent", [
    ("assistant.present.cli", ("assistant.ingest.run", "chromadb", "scipy", "gradio")),
    ("assistant.answer.service", ("scipy", "bm25s", "chromadb", "gradio")),
])
def test_importing_the_cli_or_the_service_loads_nothing_heavy(module, absent):
    """Every command starts by importing the CLI, which had loaded the whole ingest pipeline to read one default
    path; the service loaded bm25s and scipy for a list of filler words (habit 8: nothing heavy at import)."""
    code = f"import json, sys, {module}; print(json.dumps([m for m in {absent!r} if m in sys.modules]))"
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)},
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    assert json.loads(done.stdout.strip().splitlines()[-1]) == []
