"""A real language model end to end: the bundled SmolLM2 in-process, and behind an OpenAI-compatible server.

The 135M model answers badly (it mostly repeats the evidence); these tests check the plumbing, not
its wisdom: raw output arrives, every generated sentence gets a verdict, and nothing unsupported,
and nothing an injected instruction asked for, reaches the final answer.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from langchain_core.callbacks import BaseCallbackHandler

from assistant.answer.generate import SentenceCutter
from assistant.verify.guard import strip_markers
from assistant.ingest.run import Index, ingest
from assistant.answer.llm import bundled_smollm2, load_local, make_chat_model
from assistant.records import Answer
from assistant.text import strip_bullet
from assistant.answer.service import Assistant
from assistant.records import SentenceEvent
from assistant.settings import Settings

from conftest import CORPUS
from servers import at_endpoint, free_port
from test_generate import CANARY, INJECTION_ITEM

# The reader decides first and refuses before any model is asked, so these tests of the model's plumbing
# ask a question the shipped reader answers confidently on the seed corpus.
LEFT_CARE = "In Rotherham, what number of children left care during 2018?"

pytestmark = pytest.mark.slow
SERVER_START_TIMEOUT_S = 240
HTTP_MAX_TOKENS = 64  # the plumbing needs a few sentences, not a long answer; keeps the test quick on 2 cores


class RawOutput(BaseCallbackHandler):
    """Records the chunks a chat model streams, through LangChain's own callback hook."""

    def __init__(self) -> None:
        self.chunks: list[str] = []

    def on_llm_new_token(self, token: str, **kwargs) -> None:
        if token:
            self.chunks.append(token)

    @property
    def text(self) -> str:
        return "".join(self.chunks)


@pytest.fixture(scope="module")
def seed_index(tmp_path_factory, minilm) -> Settings:
    """The seed corpus plus an item carrying an injected instruction, with the real embedder."""
    folder = tmp_path_factory.mktemp("llm-real")
    corpus = folder / "corpus"
    shutil.copytree(CORPUS, corpus)
    (corpus / "rotherham-2018-placements-injection.md").write_text(INJECTION_ITEM, encoding="utf-8")
    settings = Settings.from_env(data_dir=folder / "index")
    index = Index(settings, embedder=minilm)
    ingest([corpus], settings, index=index)
    index.close()
    return settings


def ask_through(settings: Settings, spec: str, minilm, question: str, **model_options):
    raw = RawOutput()
    model = make_chat_model(spec, settings, **model_options).with_config(callbacks=[raw])
    assistant = Assistant(settings.with_(llm=spec), embedder=minilm, chat_model=model)
    try:
        hits = assistant.retriever.search(_analyse(assistant, question)).hits
        events = list(assistant.stream(question))
    finally:
        assistant.close()
    assert isinstance(events[-1], Answer) and all(isinstance(e, SentenceEvent) for e in events[:-1])
    return events[-1], raw, hits


def _analyse(assistant, question):
    from assistant.retrieve.question import analyse

    return analyse(question, assistant.retriever.council_keys)


def assert_every_generated_sentence_was_judged(answer: Answer, raw_text: str) -> None:
    cutter = SentenceCutter()
    generated = [strip_markers(strip_bullet(s))[0] for s in cutter.feed(raw_text) + cutter.finish()]
    generated = [claim for claim in generated if re.search(r"\w", claim)]
    assert generated, f"the model wrote no sentence: {raw_text!r}"
    judged = [strip_markers(s.text)[0] for s in answer.sentences[:len(generated)]]
    assert judged == generated


def assert_nothing_unsupported_was_shown(answer: Answer) -> None:
    shown = [s for s in answer.sentences if s.shown]
    assert all(s.supported for s in shown)
    if answer.refused:
        assert not shown and not answer.citations
        return
    rest = answer.answer
    for sentence in shown:
        assert sentence.text in rest
        rest = rest.replace(sentence.text, "", 1)
    assert not rest.strip(), f"text in the answer that no shown verdict covers: {rest!r}"
    assert shown and answer.citations


def report(record_property, answer: Answer, raw: RawOutput) -> None:
    record_property("raw_output", raw.text)
    record_property("answer", json.dumps(answer.to_json(), ensure_ascii=False))
    print(f"\nraw model output ({len(raw.chunks)} chunks): {raw.text!r}\nanswer: {answer.answer!r}")
    for s in answer.sentences:
        print(f"  shown={s.shown!s:5} supported={s.supported!s:5} {s.score:.2f} {s.text!r} ({s.reason})")


@pytest.fixture(scope="module")
def local_answer(seed_index, minilm):
    try:
        bundled_smollm2()
    except Exception as exc:
        pytest.skip(f"{exc} (the test set-up installs it: scripts/bootstrap.sh llm,test)")
    return ask_through(seed_index, "local", minilm, LEFT_CARE)


def test_the_bundled_smollm2_answers_in_process_and_every_sentence_is_checked(local_answer, record_property):
    answer, raw, _ = local_answer
    report(record_property, answer, raw)
    assert raw.text.strip() and len(raw.chunks) > 1  # raw output arrived, streamed
    assert answer.mode == "llm:local"
    assert_every_generated_sentence_was_judged(answer, raw.text)
    assert_nothing_unsupported_was_shown(answer)
    assert {"retrieve", "answer", "verify", "total"} <= set(answer.timings_ms)


def test_the_injected_instruction_never_reaches_the_in_process_answer(local_answer):
    answer, raw, hits = local_answer
    assert any(CANARY in h.text for h in hits[:5]), "the injected item must be retrieved (it is never evidence)"
    assert CANARY not in answer.answer
    assert all(CANARY not in c.quote for c in answer.citations)


# The same model behind a real OpenAI-compatible HTTP server on loopback

@pytest.fixture(scope="session")
def smollm2_folder(tmp_path_factory) -> Path:
    """The bundled GGUF converted to a Hugging Face folder, which `transformers serve` can load.

    Saving the GGUF-loaded model with save_pretrained fails, so the state dict is written with
    safetensors, without lm_head.weight (tied to the embeddings), beside its config and tokenizer.
    """
    from safetensors.torch import save_file

    try:
        folder, name = bundled_smollm2()
    except Exception as exc:
        pytest.skip(f"{exc} (the test set-up installs it: scripts/bootstrap.sh llm,test)")
    model, tokenizer, _ = load_local(str(folder), name)  # shared with the in-process test: loaded once
    target = tmp_path_factory.mktemp("smollm2-hf")
    state = {k: v.detach().contiguous() for k, v in model.state_dict().items() if k != "lm_head.weight"}
    save_file(state, str(target / "model.safetensors"), metadata={"format": "pt"})
    config = model.config.to_dict()
    config.pop("quantization_config", None)  # the weights are plain tensors now
    config["architectures"] = ["LlamaForCausalLM"]
    (target / "config.json").write_text(json.dumps(config, indent=2), encoding="utf-8")
    model.generation_config.save_pretrained(target)
    tokenizer.save_pretrained(target)
    return target


def test_local_also_loads_a_hugging_face_folder_and_honours_stop_sequences(smollm2_folder, settings):
    model = make_chat_model(f"local:{smollm2_folder}", settings, max_tokens=24)
    assert model.gguf_file is None
    reply = model.invoke("Count from one to ten, in words, separated by commas.").text
    assert reply.strip(), "the model folder produced no text"
    stopped = model.invoke("Count from one to ten, in words, separated by commas.", stop=[","]).text
    assert "," not in stopped and reply.startswith(stopped)


@pytest.fixture(scope="session")
def openai_server(smollm2_folder, tmp_path_factory):
    """`transformers serve` on 127.0.0.1, serving the converted model; stopped at the end of the session."""
    executable = Path(sys.executable).parent / "transformers"
    if not executable.exists():
        pytest.skip(f"{executable} not found: install the llm extra (transformers)")
    for module in ("fastapi", "uvicorn"):
        try:
            __import__(module)
        except ImportError:
            pytest.skip(f"`transformers serve` needs {module} (gradio brings it)")
    port = free_port()
    log_path = tmp_path_factory.mktemp("serve") / "serve.log"
    log = log_path.open("w")
    process = subprocess.Popen(
        [str(executable), "serve", str(smollm2_folder), "--device", "cpu", "--host", "127.0.0.1",
         "--port", str(port), "--log-level", "info"],
        stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + SERVER_START_TIMEOUT_S
        while True:
            if process.poll() is not None:
                pytest.fail(f"`transformers serve` exited with {process.returncode}:\n{log_path.read_text()[-3000:]}")
            try:
                with urllib.request.urlopen(f"{base}/health", timeout=2) as response:
                    if response.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"`transformers serve` did not answer /health in {SERVER_START_TIMEOUT_S} s:\n"
                            f"{log_path.read_text()[-3000:]}")
            time.sleep(0.5)
        yield f"{base}/v1", str(smollm2_folder), log_path
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=20)
        log.close()


def test_the_same_model_behind_an_openai_compatible_server_streams_checked_sentences(
        openai_server, seed_index, minilm, monkeypatch, record_property):
    base_url, model_id, log_path = openai_server
    answer, raw, hits = ask_through(at_endpoint(seed_index, base_url), f"openai:{model_id}", minilm, LEFT_CARE,
                                    max_tokens=HTTP_MAX_TOKENS)
    report(record_property, answer, raw)
    assert len(raw.chunks) > 1, "the answer did not arrive as streamed chunks"
    assert "POST /v1/chat/completions" in log_path.read_text()  # it really came over HTTP
    assert answer.mode == f"llm:openai:{model_id}"
    assert_every_generated_sentence_was_judged(answer, raw.text)
    assert_nothing_unsupported_was_shown(answer)
    assert CANARY not in answer.answer
