"""Where a language model's reply stops being read: its length, how it ended, how long it took; and what a failed
request or a damaged local model tells the user to do."""

from __future__ import annotations

import json
import logging
import re
import threading
import time

import pytest
from langchain_core.language_models import GenericFakeChatModel
from langchain_core.messages import AIMessageChunk
from langchain_core.outputs import ChatGenerationChunk

from assistant.answer.generate import MAX_REPLY_CHARS
from assistant.errors import ModelError
from assistant.text import question_in_log

from servers import JsonServer, SlowChatServer, at_endpoint

from test_generate import (DISCHARGES, ask_with, evidence_number, hashing_index, model_error_asking,  # noqa: F401
                           model_error_of, open_assistant)


class OneChunkChatModel(GenericFakeChatModel):
    """Sends its whole reply as one chunk, as a buffering proxy, or a server that ignores `stream`, does."""

    def _stream(self, messages, stop=None, run_manager=None, **kwargs):
        yield ChatGenerationChunk(message=AIMessageChunk(content=next(self.messages)),
                                  generation_info={"finish_reason": "stop"})


class EndingChatModel(GenericFakeChatModel):
    """Streams its reply word by word, then ends as an OpenAI-compatible server says it did (None: no word)."""

    finish_reason: str | None = "stop"

    def _stream(self, messages, stop=None, run_manager=None, **kwargs):
        yield from super()._stream(messages, stop, run_manager, **kwargs)
        if self.finish_reason is not None:
            yield ChatGenerationChunk(message=AIMessageChunk(content=""),
                                      generation_info={"finish_reason": self.finish_reason})


def test_a_huge_reply_sent_as_one_chunk_is_judged_only_up_to_the_limit(hashing_index):
    k = evidence_number(hashing_index, DISCHARGES, "148 children have been discharged")
    sentence = f"In 2018 148 children have been discharged [{k}]. "
    assistant = open_assistant(hashing_index, chat_model=OneChunkChatModel(
        messages=iter([sentence * (100 * MAX_REPLY_CHARS // len(sentence))])))
    try:
        answer = assistant.ask(DISCHARGES)
    finally:
        assistant.close()
    assert len(answer.sentences) <= MAX_REPLY_CHARS // len(sentence) + 2 and "148" in answer.answer
    assert len(answer.provenance.raw_reply) <= MAX_REPLY_CHARS  # the audit log keeps no more than was read


@pytest.mark.parametrize("finish_reason", ["content_filter", None, "length"])
def test_a_reply_that_did_not_end_on_its_own_never_shows_its_unfinished_last_sentence(hashing_index, finish_reason):
    k = evidence_number(hashing_index, DISCHARGES, "148 children have been discharged")
    reply = f"In 2018, 148 children [{k}] have been discharged from care in Rotherham, more than the"
    answer = ask_with(hashing_index, reply, model=lambda messages: EndingChatModel(messages=messages,
                                                                                    finish_reason=finish_reason))
    (unfinished,) = [v for v in answer.sentences if "more than the" in v.text]
    assert not unfinished.shown and "cut off" in unfinished.reason
    assert "more than the" not in answer.answer


def test_a_reply_that_ended_with_stop_has_its_last_sentence_judged_as_any_other(hashing_index):
    k = evidence_number(hashing_index, DISCHARGES, "148 children have been discharged")
    answer = ask_with(hashing_index, f"In 2018 148 children have been discharged [{k}]", model=EndingChatModel)
    assert [v.shown for v in answer.sentences] == [True]


def test_a_local_model_that_ends_on_its_own_says_so(monkeypatch):
    """A stand-in model and tokenizer that obey the calls the local backend makes: the reply ends with its
    end-of-turn token, so the stream says "stop", and its last sentence is judged, not hidden as cut off."""
    import torch
    from langchain_core.messages import HumanMessage

    from assistant.answer import llm

    class Streaming:
        def generate(self, *, streamer, **kwargs):
            streamer.put(torch.tensor([[1]]))  # the prompt, which the streamer skips
            streamer.put(torch.tensor([5]))
            streamer.end()
            return torch.tensor([[1, 5, 0]])

    class Tokenizer:
        pad_token_id = eos_token_id = 0

        def apply_chat_template(self, *args, **kwargs):
            return {"input_ids": torch.tensor([[1]])}

        def decode(self, ids, **kwargs):
            return "".join("In 2018 148 children left care" for i in ids if i == 5)

    monkeypatch.setattr(llm, "load_local", lambda folder, gguf: (Streaming(), Tokenizer(), threading.Lock()))
    chunks = list(llm.LocalChatModel(model_path="/nowhere").stream([HumanMessage("How many?")]))
    assert "".join(c.text for c in chunks) == "In 2018 148 children left care"
    assert [c.response_metadata["finish_reason"] for c in chunks if "finish_reason" in c.response_metadata] == ["stop"]


def _status_error(status: int, message: str):
    import httpx
    import openai

    request = httpx.Request("POST", "http://127.0.0.1:9/v1/chat/completions")
    kind = openai.BadRequestError if status == 400 else openai.InternalServerError
    return kind(message, response=httpx.Response(status, request=request), body=None)


@pytest.mark.parametrize("failure, hint", [
    (lambda: _status_error(400, "Error code: 400 - This model's maximum context length is 2048 tokens"),
     "longer context"),
    (lambda: _status_error(500, "Error code: 500"), "ask again in a while"),
    (lambda: _status_error(503, "Error code: 503 - overloaded"), "see the server's own log"),
    (lambda: b"data: \xff\xfe".decode("utf-8"), "did not answer as an OpenAI-compatible chat endpoint"),
])
def test_a_failed_request_gets_the_hint_for_its_own_cause(hashing_index, failure, hint):
    try:
        exc = failure()
    except UnicodeDecodeError as undecodable:
        exc = undecodable
    error = model_error_of(hashing_index, exc)
    assert hint in error.hint and "installed" not in error.hint


def test_a_local_model_failure_never_talks_of_openai_base_url():
    from assistant.answer.generate import failure_hint

    assert "OPENAI_BASE_URL" not in failure_hint(RuntimeError("boom"), "local:/models/x.gguf")
    assert "OPENAI_BASE_URL" in failure_hint(RuntimeError("boom"), "openai:gpt-4o-mini")


def test_a_truncated_gguf_file_is_named_as_damaged(tmp_path):
    pytest.importorskip("transformers")
    pytest.importorskip("gguf")
    pytest.importorskip("accelerate")
    from assistant.answer.llm import _load

    damaged = tmp_path / "model.gguf"
    damaged.write_bytes(b"GGUF\x03\x00\x00\x00" + b"\x00" * 8)  # a header cut off after its version
    with pytest.raises(ModelError) as info:
        _load(str(tmp_path), damaged.name)
    assert "model.gguf" in info.value.message
    assert "damaged or incomplete" in info.value.hint and "OPENAI_BASE_URL" not in str(info.value)


def test_a_compressed_reply_still_arriving_is_not_taken_for_keep_alives(hashing_index, monkeypatch, settings):
    from assistant.answer import llm

    server = SlowChatServer("gzip", for_s=1.5)
    try:
        monkeypatch.setattr(llm, "REQUEST_TIMEOUT_S", 0.5)  # its words come every 0.05 s, compressed
        assistant = open_assistant(hashing_index, chat_model=llm.make_chat_model("openai:fake", at_endpoint(settings, server.url)))
        try:
            answer = assistant.ask(DISCHARGES)
        finally:
            assistant.close()
        assert answer.sentences and "In In In" in answer.provenance.raw_reply  # read to its end, not given up
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.parametrize("mode, deadline, message", [
    ("ping", "REQUEST_TIMEOUT_S", "only keep-alive messages"),
    ("trickle", "REPLY_DEADLINE_S", "not finished after"),
])
def test_a_reply_that_never_ends_is_given_up_for_the_reader_s_answer(hashing_index, monkeypatch, settings, mode,
                                                                     deadline, message, caplog):
    """A reply given up for time had ended in an error and no answer, though the reader's answer was ready (a dropped
    connection fell back to it): now it falls back the same way, and the log and the audit keep what failed."""
    from assistant.answer import llm

    server = SlowChatServer(mode)
    try:
        monkeypatch.setattr(llm, deadline, 0.5)
        assistant = open_assistant(hashing_index, chat_model=llm.make_chat_model("openai:fake", at_endpoint(settings, server.url)))
        started = time.monotonic()
        try:
            answer = assistant.ask(DISCHARGES)
        finally:
            assistant.close()
        assert time.monotonic() - started < 5
        assert answer.fallback and not answer.refused and "148 children have been discharged" in answer.answer
        assert "The language model's reply was not used (it did not finish in time)" in " ".join(answer.notes)
        assert message in answer.provenance.error and "did not answer in time" in answer.provenance.error
        assert message in caplog.text and "empty reply" not in caplog.text
        # The log names the question by a digest, not by its words (a member's question may be about a child).
        assert question_in_log(DISCHARGES) in caplog.text and DISCHARGES not in caplog.text
        # ...with its length in brackets: 'Answering question 3f2a9c1b, 54 characters failed' had read as a list.
        assert re.search(rf"question [0-9a-f]{{8}} \({len(DISCHARGES)} characters\) ", caplog.text)
    finally:
        server.shutdown()
        server.server_close()


def test_a_stopped_answer_reads_the_model_s_reply_no_further_and_closes_its_connection(hashing_index, monkeypatch,
                                                                                        settings):
    """An answer stopped (the chat cleared, the page gone) went on reading the model's reply to its end, holding a
    model call nobody would read; now the reply is read no further and its connection closed."""
    from assistant.answer import llm

    server = SlowChatServer("trickle", for_s=8.0)  # one word every 0.05 s, and no sentence ever ends
    try:
        assistant = open_assistant(hashing_index, chat_model=llm.make_chat_model("openai:fake", at_endpoint(settings, server.url)))
        try:
            events = list(assistant.stream(DISCHARGES, stopped=lambda: server.asked_over(0.5)))
        finally:
            assistant.close()
        assert server.asked_at is not None, "the model was never asked"
        took = time.monotonic() - server.asked_at
        closed_at = server.closed_within(3)
        assert took < 3 and closed_at is not None and closed_at - server.asked_at < 3
        # The answer made of what was read before it stopped keeps that much of the reply, and no more.
        assert events and events[-1].provenance.raw_reply.startswith("In In ")
    finally:
        server.shutdown()
        server.server_close()


def test_an_answer_stopped_before_the_first_word_of_the_reply_ends_there_with_no_failure(hashing_index, monkeypatch,
                                                                                         settings):
    """Stopped while the server sent only keep-alives (a queue, a long prompt), the answer waited out the minute's
    timeout and was then recorded as the model failing; stopped before the request, it still asked the model."""
    from assistant.answer import llm

    server = SlowChatServer("ping", for_s=8.0)  # keep-alive comments only, every 0.05 s
    try:
        assistant = open_assistant(hashing_index, chat_model=llm.make_chat_model("openai:fake", at_endpoint(settings, server.url)))
        try:
            events = list(assistant.stream(DISCHARGES, stopped=lambda: server.asked_over(0.5)))
            stopped_at = time.monotonic()
            assert server.asked_at is not None, "the model was never asked"
            requests_before = server.requests
            list(assistant.stream(DISCHARGES, stopped=lambda: True))  # stopped before the model was asked
            asked_after_stop = server.requests - requests_before
        finally:
            assistant.close()
        closed_at = server.closed_within(3)
        assert events and stopped_at - server.asked_at < 4  # no ModelFailure raised, no minute's wait
        assert closed_at is not None and closed_at - server.asked_at < 3
        assert asked_after_stop == 0
    finally:
        server.shutdown()
        server.server_close()


def _refusing(method: str, path: str, headers: dict) -> tuple[int, dict]:
    """An OpenAI-compatible address that refuses as `transformers serve` does: HTTP 400 with FastAPI's `detail` for a
    model it does not serve, and 404 'Not Found' for any path but /v1's."""
    if path.startswith("/v1/"):
        return 400, {"detail": "Server is pinned to '/models/smollm2-hf'; requested 'gpt-4o-mini'."}
    return 404, {"detail": "Not Found"}


@pytest.fixture
def refusing_server():
    server = JsonServer(_refusing)
    yield server
    server.close()


def _asked_through(hashing_index, address: str, variable: str = "OPENAI_BASE_URL") -> ModelError:
    from assistant.answer.llm import make_chat_model

    settings = hashing_index.with_(openai_base_urls=((variable, address),), openai_api_key=None)
    return model_error_asking(settings, make_chat_model("openai:gpt-4o-mini", settings))


def test_a_server_refusing_the_model_name_says_why_and_the_hint_is_the_model_name(hashing_index, refusing_server):
    """A wrong model name on `transformers serve` had shown only 'Error code: 400', with a hint about reaching the
    server; the server's own explanation (FastAPI's `detail`) was lost."""
    error = _asked_through(hashing_index, f"{refusing_server.root}/v1")
    assert "Error code: 400 - Server is pinned to '/models/smollm2-hf'; requested 'gpt-4o-mini'." in error.message
    assert "refused the request (HTTP 400): check the model name after `openai:`" in error.hint
    assert f"GET {refusing_server.root}/v1/models" in error.hint and "can reach" not in error.hint


def test_an_address_without_v1_says_to_check_that_it_ends_in_v1(hashing_index, refusing_server):
    error = _asked_through(hashing_index, refusing_server.root, "OPENAI_API_BASE")
    assert "Not Found" in error.message
    assert f"check that OPENAI_API_BASE ({refusing_server.root}) ends in /v1" in error.hint
    assert "model name after `openai:`" in error.hint and "OPENAI_BASE_URL" not in error.hint


def test_the_reply_s_token_limit_is_a_setting_sent_to_the_server(hashing_index, refusing_server):
    """The limit had been fixed at 160 tokens, too few for a model that reasons before it answers, and sent under a
    name that many compatible servers ignore."""
    from assistant.answer.llm import make_chat_model
    from assistant.settings import Settings

    assert Settings.from_env({}).llm_max_tokens == 160
    settings = hashing_index.with_(openai_base_urls=(("OPENAI_BASE_URL", f"{refusing_server.root}/v1"),),
                                   llm_max_tokens=Settings.from_env({"ASSISTANT_LLM_MAX_TOKENS": "1024"}).llm_max_tokens)
    model_error_asking(settings, make_chat_model("openai:gpt-4o-mini", settings))
    asked = [json.loads(body) for body in refusing_server.bodies if body]
    # both names: servers that know only the older one (max_tokens) had written on to the deadline
    assert asked and all(request["max_tokens"] == request["max_completion_tokens"] == 1024 for request in asked)
    for own in ("https://api.openai.com/v1/", "https://eu.api.openai.com/v1", "https://API.OpenAI.com:443/v1",
                "https://myres.openai.azure.com/openai/v1/"):
        openai_itself = settings.with_(openai_base_urls=(("OPENAI_BASE_URL", own),), openai_api_key="sk-test")
        model = make_chat_model("openai:gpt-4o-mini", openai_itself)
        assert model.max_tokens == 1024 and not model.extra_body, own  # OpenAI refuses the two names together
    lookalike = settings.with_(openai_base_urls=(("OPENAI_BASE_URL", "http://notopenai.com.example/v1"),))
    assert make_chat_model("openai:gpt-4o-mini", lookalike).extra_body == {"max_tokens": 1024}


def test_the_hints_name_the_variable_the_address_came_from_with_its_address(settings):
    """With OPENAI_API_BASE set (the older name), the hints had sent the user to OPENAI_BASE_URL."""
    from assistant.answer.generate import failure_hint

    used = settings.with_(openai_base_urls=(("OPENAI_API_BASE", "http://user:pw@127.0.0.1:18499/v1"),))
    hint = failure_hint(ConnectionError("Connection refused"), "openai:some-model", used)
    assert "Check that OPENAI_API_BASE (http://127.0.0.1:18499/v1) points at a running server" in hint
    assert "OPENAI_BASE_URL" not in hint and "pw" not in hint
    not_openai = failure_hint(ValueError("No generation chunks were returned"), "openai:some-model", used)
    assert "The server at OPENAI_API_BASE (http://127.0.0.1:18499/v1) did not answer" in not_openai


def test_a_401_with_no_key_set_says_to_set_one(settings):
    from test_generate import _status_error

    from assistant.answer.generate import failure_hint

    without_key = settings.with_(openai_base_urls=(("OPENAI_BASE_URL", "http://127.0.0.1:9/v1"),), openai_api_key=None)
    with_key = without_key.with_(openai_api_key="sk-abcdefgh12345678")
    for status in (401, 403):
        assert "(OPENAI_API_KEY is not set): set it" in failure_hint(_status_error(status), "openai:x", without_key)
        assert "(it refused the key OPENAI_API_KEY gives): check OPENAI_API_KEY" in failure_hint(
            _status_error(status), "openai:x", with_key)


def test_a_server_s_explanation_is_shortened_and_read_from_each_kind_of_body():
    import httpx
    import openai

    from assistant.answer.generate import MAX_EXPLANATION_CHARS, server_explanation

    request = httpx.Request("POST", "http://127.0.0.1:9/v1/chat/completions")

    def refused(body):
        return openai.BadRequestError("Error code: 400", response=httpx.Response(400, request=request), body=body)

    assert server_explanation(refused({"message": "The model `x` does not exist", "type": "invalid"})) \
        == "The model `x` does not exist"
    assert server_explanation(refused({"detail": [{"loc": ["body", "model"], "msg": "field required"}]})) \
        == "field required"
    assert server_explanation(refused("<html><h1>400</h1></html>")) == ""
    long = server_explanation(refused({"detail": "word " * 200}))
    assert len(long) == MAX_EXPLANATION_CHARS and long.endswith("\u2026")


def test_an_error_the_server_sends_in_its_stream_is_not_taken_for_an_unreachable_server(hashing_index):
    """A server that answers 200 and then sends `data: {"error": ...}` (vLLM and OpenAI, when generation fails) had
    the operator told to check that the address points at a running server this machine can reach."""
    failing = JsonServer(lambda method, path, headers: (200, b'data: {"error": {"message": "model overloaded", '
                                                            b'"type": "server_error"}}\n\n'))
    try:
        error = _asked_through(hashing_index, f"{failing.root}/v1")
    finally:
        failing.close()
    assert "model overloaded" in error.message
    assert "reported an error in its reply" in error.hint and "running server" not in error.hint


def test_a_rate_limit_hint_says_how_long_the_server_asked_to_wait(settings):
    import httpx
    import openai

    from assistant.answer.generate import failure_hint

    request = httpx.Request("POST", "http://127.0.0.1:9/v1/chat/completions")

    def limited(headers):
        return openai.RateLimitError("Error code: 429", response=httpx.Response(429, headers=headers, request=request),
                                     body=None)

    assert failure_hint(limited({"Retry-After": "30"}), "openai:x", settings).endswith("(it asked for 30 seconds)")
    assert failure_hint(limited({}), "openai:x", settings) == "The server is rate-limiting: wait and ask again"
    dated = failure_hint(limited({"Retry-After": "Wed, 21 Oct 2026 07:28:00 GMT"}), "openai:x", settings)
    assert dated == "The server is rate-limiting: wait and ask again"


def test_an_error_sent_part_way_through_a_reply_reaches_the_log_without_the_words_it_echoed(hashing_index, caplog):
    """From a data-protection review: the log line of a reply stopped part-way carried the server's error whole, and a
    server's error may quote what it was sent, the member's question with it; the audit log keeps it, not the log."""
    k = evidence_number(hashing_index, DISCHARGES, "148 children have been discharged")
    chunk = {"id": "c1", "object": "chat.completion.chunk", "created": 0, "model": "m", "choices": [
        {"index": 0, "delta": {"content": f"In 2018 148 children have been discharged [{k}]. "},
         "finish_reason": None}]}
    echoed = {"error": {"message": f"generation failed for: {DISCHARGES}", "type": "server_error"}}
    failing = JsonServer(lambda method, path, headers: (
        200, f"data: {json.dumps(chunk)}\n\ndata: {json.dumps(echoed)}\n\n".encode()))
    try:
        from assistant.answer.llm import make_chat_model

        settings = hashing_index.with_(openai_base_urls=(("OPENAI_BASE_URL", f"{failing.root}/v1"),),
                                       openai_api_key=None)
        assistant = open_assistant(settings, chat_model=make_chat_model("openai:gpt-4o-mini", settings))
        try:
            with caplog.at_level("WARNING", logger="assistant.answer.service"):
                answer = assistant.ask(DISCHARGES)
        finally:
            assistant.close()
    finally:
        failing.close()
    assert "148" in answer.answer and "generation failed for" in answer.provenance.error  # kept for the audit log
    (line,) = [r.getMessage() for r in caplog.records if "stopped part-way" in r.getMessage()]
    assert "discharged from care" not in line and "generation failed" not in line, line
    assert "APIError, server_error" in line and "kept in the audit log" in line and "server's own log" in line


def test_the_model_s_reply_reaches_no_log_even_at_debug_level(hashing_index, caplog):
    """A reply may quote the member's question or name a child; the audit log keeps it, readable by its user alone.
    At DEBUG (an operator chasing a model's fault) the ordinary log had it word for word (from a data protection
    officer's review): it now gives the reply's length, and says where the words are kept."""
    n = evidence_number(hashing_index, DISCHARGES, "148 children have been discharged")
    reply = f"In 2018 148 children have been discharged, said the member asking about Jayden Okafor [{n}]."
    with caplog.at_level(logging.DEBUG, logger="assistant.answer.generate"):
        ask_with(hashing_index, reply)
    (line,) = [r.getMessage() for r in caplog.records if r.getMessage().startswith("The model's reply for")]
    assert "Jayden" not in caplog.text and "148" not in caplog.text, caplog.text
    assert f"{len(reply)} characters" in line and "audit log" in line, line
