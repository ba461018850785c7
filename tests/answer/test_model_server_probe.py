"""At the app's start, an `openai:` model's server is asked which models it serves, so that the operator learns of a
server that is down, refuses the key or serves another model before a member's question fails (a real HTTP server
on loopback, answering as OpenAI-compatible servers do)."""

from __future__ import annotations

import pytest

from assistant.answer.llm import model_server_problem
from servers import JsonServer, at_endpoint, free_port

SERVED = {"object": "list", "data": [{"id": "smollm2", "object": "model"}, {"id": "qwen2.5-0.5b", "object": "model"}]}


@pytest.fixture
def serving():
    """Start a server answering GET /v1/models with (status, body), as OpenAI-compatible servers do; 404 elsewhere."""
    started = []

    def start(status: int = 200, body: object = SERVED) -> JsonServer:
        server = JsonServer(lambda method, path, headers: (status, body) if path == "/v1/models" else (404, {}))
        server.url = f"{server.root}/v1"
        started.append(server)
        return server

    yield start
    for server in started:
        server.close()


def test_a_server_that_serves_the_model_raises_nothing(settings, serving):
    server = serving()
    assert model_server_problem(at_endpoint(settings, server.url, "sk-test").with_(llm="openai:smollm2")) == ""
    assert [headers.get("Authorization") for _, _, headers in server.requests] == ["Bearer sk-test"]
    assert model_server_problem(settings.with_(llm="extractive")) == ""  # no server to ask


def test_a_server_that_does_not_list_the_model_names_what_it_serves(settings, serving):
    server = serving()
    problem = model_server_problem(at_endpoint(settings, server.url).with_(llm="openai:gpt-4o"))
    assert "does not list the model 'gpt-4o' (it serves smollm2, qwen2.5-0.5b)" in problem
    assert "--llm openai:NAME" in problem


def test_a_server_that_is_not_there_or_refuses_the_key_is_said_to_be(settings, serving):
    nowhere = f"http://127.0.0.1:{free_port()}/v1"
    problem = model_server_problem(at_endpoint(settings, nowhere).with_(llm="openai:smollm2"))
    assert problem.startswith(f"The model server at {nowhere} did not answer (ConnectError)")
    assert "OPENAI_BASE_URL" in problem
    refusing = serving(401, {"error": {"message": "bad key"}})
    problem = model_server_problem(at_endpoint(settings, refusing.url).with_(llm="openai:smollm2"))
    assert "refused the request (HTTP 401: OPENAI_API_KEY is not set)" in problem


@pytest.mark.parametrize("status, body", [(404, {"detail": "Not Found"}), (200, b"<html>a proxy's page</html>"),
                                          (200, {"object": "list"}), (200, {"data": [{"id": 7}, "x", None]}),
                                          (200, b"[" * 100_000 + b"]" * 100_000)])
def test_a_server_that_cannot_say_what_it_serves_is_not_taken_as_down(settings, serving, status, body):
    server = serving(status, body)
    assert model_server_problem(at_endpoint(settings, server.url).with_(llm="openai:smollm2")) == ""


def test_the_app_warns_at_start_of_a_model_server_that_does_not_answer(fake_settings, tmp_path, capsys):
    from assistant.present.app import launch_app
    from corpus_factory import write_markdown_corpus

    write_markdown_corpus(tmp_path / "minutes", 1)
    nowhere = f"http://127.0.0.1:{free_port()}/v1"
    remote = at_endpoint(fake_settings, nowhere).with_(llm="openai:smollm2")
    app = launch_app(remote, tmp_path / "minutes", port=free_port(), prevent_thread_lock=True)
    app.close()
    shown = capsys.readouterr()
    assert f"asked at {nowhere}" in shown.out
    assert f"warning: The model server at {nowhere} did not answer" in shown.err


def test_a_gateway_whose_server_is_down_is_said_to_be(settings, serving):
    server = serving(502, b"<html>Bad Gateway</html>")
    problem = model_server_problem(at_endpoint(settings, server.url).with_(llm="openai:smollm2"))
    assert "answered HTTP 502, as a gateway does whose server behind it is down" in problem


def test_a_model_ollama_lists_with_its_tag_is_served(settings, serving):
    server = serving(200, {"object": "list", "data": [{"id": "llama3:latest"}, {"id": "qwen2.5:0.5b"}]})
    assert model_server_problem(at_endpoint(settings, server.url).with_(llm="openai:llama3")) == ""
    assert "does not list the model 'qwen2.5'" in model_server_problem(
        at_endpoint(settings, server.url).with_(llm="openai:qwen2.5"))


def test_a_key_in_the_address_is_not_printed(settings):
    """Some gateways take the key in the address's path: the warning names the server without it."""
    from assistant.present.app import model_endpoint

    key = "sk-proj-abcdefgh12345678"
    remote = at_endpoint(settings, f"http://127.0.0.1:{free_port()}/{key}/v1", key).with_(llm="openai:gpt-4o")
    problem = model_server_problem(remote)
    assert "did not answer" in problem and key not in problem
    assert key not in model_endpoint(remote)  # nor the console's 'asked at' line


def test_a_server_that_trickles_its_reply_is_given_five_seconds_in_all(settings):
    """httpx's timeouts count each read apart: a byte every second would have held the app's start for as long
    as the server liked."""
    import threading
    import time
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    class Trickling(BaseHTTPRequestHandler):
        def log_message(self, *args) -> None:
            pass

        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Length", "100")
            self.end_headers()
            try:
                for _ in range(100):
                    self.wfile.write(b" ")
                    self.wfile.flush()
                    time.sleep(1)
            except OSError:
                pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Trickling)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        started = time.monotonic()
        problem = model_server_problem(
            at_endpoint(settings, f"http://127.0.0.1:{server.server_address[1]}/v1").with_(llm="openai:smollm2"))
        assert time.monotonic() - started < 7
        assert "did not answer within 5 seconds" in problem
    finally:
        server.shutdown()
        server.server_close()


def test_the_probe_and_a_failed_question_explain_a_refused_key_alike(settings, serving):
    """What the operator reads at start and what a member's failed question says of one refused key are the same
    words, the address as the variable gave it (without the key) in both."""
    from test_generate import _status_error

    from assistant.answer.generate import failure_hint

    refusing = serving(403, {"error": {"message": "bad key"}})
    for key, reason in (("", "OPENAI_API_KEY is not set"), ("sk-wrong-key-123", "it refused the key OPENAI_API_KEY gives")):
        at_server = at_endpoint(settings, refusing.url, key).with_(llm="openai:smollm2")
        problem = model_server_problem(at_server)
        assert f"The model server at {refusing.url} refused the request (HTTP 403: {reason})" in problem
        assert f"The server refused the request ({reason})" in failure_hint(_status_error(403), "openai:x", at_server)
        assert "sk-wrong" not in problem


def test_an_address_without_its_v1_is_warned_of_when_the_server_has_no_models_list_there(settings, serving):
    """OPENAI_BASE_URL=http://localhost:11434 (Ollama's address without /v1) started with no warning, and every member's
    question then failed with a 404."""
    server = serving()
    problem = model_server_problem(at_endpoint(settings, f"{server.root}/").with_(llm="openai:smollm2"))
    assert "does not end in /v1" in problem and "OPENAI_BASE_URL ends in /v1" in problem
    assert [path for _, path, _ in server.requests] == ["/models"]
    # Under /v1, a 404 is a server without the endpoint, which may still answer questions; so is another path's 200.
    assert model_server_problem(at_endpoint(settings, server.url + "/").with_(llm="openai:smollm2")) == ""
    elsewhere = JsonServer(lambda method, path, headers: (200, SERVED))
    try:
        assert model_server_problem(at_endpoint(settings, f"{elsewhere.root}/openai").with_(llm="openai:smollm2")) == ""
    finally:
        elsewhere.close()
