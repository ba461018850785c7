"""Where a language model's reply stops being read: its length, how it ended, how long it took; and what a failed
request or a damaged local model tells the user to do."""

from __future__ import annotations

import threading
import time

import pytest
from langchain_core.language_models import GenericFakeChatModel
from langchain_core.messages import AIMessageChunk
from langchain_core.outputs import ChatGenerationChunk

from assistant.answer.generate import MAX_REPLY_CHARS
from assistant.errors import ModelError

from servers import SlowChatServer, at_endpoint

from test_generate import (DISCHARGES, ask_with, evidence_number, hashing_index, model_error_of,  # noqa: F401
                           open_assistant)


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
def test_a_reply_that_never_ends_is_given_up(hashing_index, monkeypatch, settings, mode, deadline, message):
    from assistant.answer import llm

    server = SlowChatServer(mode)
    try:
        monkeypatch.setattr(llm, deadline, 0.5)
        assistant = open_assistant(hashing_index, chat_model=llm.make_chat_model("openai:fake", at_endpoint(settings, server.url)))
        started = time.monotonic()
        try:
            with pytest.raises(ModelError) as info:
                assistant.ask(DISCHARGES)
        finally:
            assistant.close()
        assert time.monotonic() - started < 5
        assert message in info.value.message and "did not answer in time" in info.value.hint
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
        started = time.monotonic()
        try:
            events = list(assistant.stream(DISCHARGES, stopped=lambda: time.monotonic() - started > 0.5))
        finally:
            assistant.close()
        took = time.monotonic() - started
        closed_at = server.closed_within(3)
        assert took < 3 and closed_at is not None and closed_at - started < 3
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
        started = time.monotonic()
        try:
            events = list(assistant.stream(DISCHARGES, stopped=lambda: time.monotonic() - started > 0.5))
            requests_before = server.requests
            list(assistant.stream(DISCHARGES, stopped=lambda: True))  # stopped before the model was asked
            asked_after_stop = server.requests - requests_before
        finally:
            assistant.close()
        closed_at = server.closed_within(3)
        assert events and time.monotonic() - started < 4  # no ModelFailure raised, no minute's wait
        assert closed_at is not None and closed_at - started < 3
        assert asked_after_stop == 0
    finally:
        server.shutdown()
        server.server_close()
