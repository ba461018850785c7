"""What the app's log says of a model server's error: enough for whoever runs the server, and none of the server's
own words, which may echo the member's question (from a data-protection review)."""

from __future__ import annotations

import json
import logging
from dataclasses import replace

import pytest

from assistant.answer.extractive import Calibration
from assistant.answer.llm import make_chat_model
from assistant.answer.reader import READER_DIR
from assistant.answer.service import Assistant
from assistant.present.app import ChatHandlers

from servers import JsonServer, at_endpoint

QUESTION = "How many children were discharged from care in Rotherham in 2018?"


@pytest.fixture
def echoing_server():
    """A server that refuses the request as some do, quoting what it was sent: the member's question with it."""
    def refuse(method, path, headers):
        sent = json.loads(server.bodies[-1] or b"{}")
        asked = sent.get("messages", [{}])[-1].get("content", "")
        return 400, {"error": {"message": f"Prompt rejected: {asked}", "type": "invalid_request_error",
                               "code": "invalid_prompt"}}

    server = JsonServer(refuse)
    yield server
    server.close()


def _app_asking(hashing_assistant, server, tmp_path) -> tuple[Assistant, ChatHandlers]:
    """The app's handlers over an assistant whose language model is the server's, asked rather than refused."""
    settings = at_endpoint(hashing_assistant.settings.with_(llm="openai:gpt-4o-mini"), f"{server.root}/v1")
    calibration = replace(Calibration.load(READER_DIR), refusal_threshold=0.0)  # the model is asked, not refused
    assistant = Assistant(settings, chat_model=make_chat_model("openai:gpt-4o-mini", settings),
                          calibration=calibration)
    return assistant, ChatHandlers(assistant, tmp_path / "briefings")


def test_a_model_server_s_error_reaches_the_log_without_the_words_it_echoed(hashing_assistant, echoing_server,
                                                                             caplog, tmp_path):
    assistant, handlers = _app_asking(hashing_assistant, echoing_server, tmp_path)
    try:
        with caplog.at_level(logging.WARNING):
            steps = list(handlers.stream_answer(QUESTION))
        record = json.loads(handlers.recorder.log.export("jsonl").splitlines()[-1])
    finally:
        handlers.recorder.close()
        assistant.close()
    assert echoing_server.bodies and "cannot answer right now" in steps[-1][0], steps[-1]
    logged = caplog.text
    assert "Answering question" in logged and "failed" in logged
    for words in ("discharged from care", "Prompt rejected"):
        assert words not in logged, logged
    # What the operator needs: the kind of error, the server's status and code, what to do, where its words are.
    assert "HTTP 400" in logged and "invalid_request_error" in logged and "invalid_prompt" in logged, logged
    assert "The server refused the request (HTTP 400): check the model name" in logged
    assert "assistant audit --show" in logged
    # The audit log, readable by its user alone, keeps the server's words whole.
    assert "Prompt rejected" in record["error"] and record["question"] == QUESTION


def test_an_audit_log_failing_beside_the_model_server_s_error_keeps_the_server_s_words_out_of_the_log(
        hashing_assistant, echoing_server, caplog, tmp_path):
    """The traceback of an audit record that failed (a full disk) was logged with the model's failure chained to it,
    whose message quotes the server's reply, and with it the member's question (a code review)."""
    assistant, handlers = _app_asking(hashing_assistant, echoing_server, tmp_path)

    def disk_full(*args, **kwargs):
        raise OSError(28, "No space left on device")

    handlers.recorder.record_failure = disk_full
    try:
        with caplog.at_level(logging.WARNING):
            steps = list(handlers.stream_answer(QUESTION))
    finally:
        handlers.recorder.close()
        assistant.close()
    assert "cannot answer right now" in steps[-1][0], steps[-1]
    logged = caplog.text
    assert "Recording the failed question" in logged and "No space left on device" in logged, logged
    assert "HTTP 400" in logged, logged
    for words in ("discharged from care", "Prompt rejected"):
        assert words not in logged, logged
