"""Starting real servers on loopback for integration tests."""

from __future__ import annotations

import json
import socket
import subprocess
import threading
import time
import zlib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Callable


def at_endpoint(settings, url: str, key: str = ""):
    """These settings with the `openai:` backend sent to `url`, as OPENAI_BASE_URL (and OPENAI_API_KEY) would."""
    return settings.with_(openai_base_urls=(("OPENAI_BASE_URL", url),), openai_api_key=key or None)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until_listening(process: subprocess.Popen, port: int, timeout: float, describe: Callable[[], str]) -> None:
    """Return once the port accepts connections; fail with the server's own output if it dies or stalls."""
    import pytest

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"the server exited with {process.returncode} before listening:\n{describe()}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.3)
    process.kill()
    pytest.fail(f"the server did not listen on port {port} within {timeout:.0f} s:\n{describe()}")


class SlowChatServer(ThreadingHTTPServer):
    """An OpenAI-compatible chat endpoint on loopback that sends SSE keep-alive comments (`ping`) or the words of
    a reply one at a time (`trickle`), every `every` seconds, for at most `for_s` seconds."""

    def __init__(self, mode: str, every: float = 0.05, for_s: float = 8.0) -> None:
        self.mode, self.every, self.for_s = mode, every, for_s
        self.closed_at: float | None = None  # when the client was seen to close the connection mid-reply
        self.requests = 0  # how many chat requests came
        self.asked_at: float | None = None  # when the first came
        super().__init__(("127.0.0.1", 0), _SlowChatHandler)
        threading.Thread(target=self.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/v1"

    def asked_over(self, seconds: float) -> bool:
        """Whether a chat request came more than `seconds` ago: a stop timed from it, not from the question, holds
        on a loaded machine, where finding and reading the evidence may take longer than any fixed wait."""
        return self.asked_at is not None and time.monotonic() - self.asked_at > seconds

    def requested_within(self, seconds: float) -> bool:
        """Whether a chat request has come, waiting up to `seconds` for one."""
        deadline = time.monotonic() + seconds
        while not self.requests and time.monotonic() < deadline:
            time.sleep(0.02)
        return bool(self.requests)

    def closed_within(self, seconds: float) -> float | None:
        """When the client was seen to close the connection, waiting up to `seconds` for it; None if it did not."""
        deadline = time.monotonic() + seconds
        while self.closed_at is None and time.monotonic() < deadline:
            time.sleep(0.05)
        return self.closed_at


class _SlowChatHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args) -> None:
        pass

    def do_POST(self) -> None:
        self.server.requests += 1
        if self.server.asked_at is None:
            self.server.asked_at = time.monotonic()
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Transfer-Encoding", "chunked")
        gzipped = self.server.mode == "gzip"  # as a proxy that compresses event streams sends them
        if gzipped:
            self.send_header("Content-Encoding", "gzip")
            compressor = zlib.compressobj(wbits=31)
        self.end_headers()
        chunk = {"id": "x", "object": "chat.completion.chunk", "created": 0, "model": "fake",
                 "choices": [{"index": 0, "delta": {"content": "In "}, "finish_reason": None}]}
        piece = b": ping\n\n" if self.server.mode == "ping" else f"data: {json.dumps(chunk)}\n\n".encode()
        ends = time.monotonic() + self.server.for_s
        try:
            while time.monotonic() < ends:
                sent = compressor.compress(piece) + compressor.flush(zlib.Z_SYNC_FLUSH) if gzipped else piece
                self.wfile.write(b"%x\r\n%s\r\n" % (len(sent), sent))
                self.wfile.flush()
                time.sleep(self.server.every)
        except OSError:  # the client gave up and closed the connection, as it should
            self.server.closed_at = time.monotonic()
            return
        if gzipped:
            rest = compressor.flush()
            self.wfile.write(b"%x\r\n%s\r\n" % (len(rest), rest))
        self.wfile.write(b"0\r\n\r\n")


class JsonServer(ThreadingHTTPServer):
    """A loopback HTTP server that answers every request with `reply(method, path, headers)`: a status and a body,
    sent as JSON unless it is bytes already. Its `requests` lists each (method, path, headers) it was sent, and
    `bodies` each request's body."""

    def __init__(self, reply: Callable[[str, str, dict], tuple[int, object]]) -> None:
        self.reply, self.requests, self.bodies = reply, [], []
        super().__init__(("127.0.0.1", 0), _JsonHandler)
        threading.Thread(target=self.serve_forever, daemon=True).start()

    @property
    def root(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def close(self) -> None:
        self.shutdown()
        self.server_close()


class _JsonHandler(BaseHTTPRequestHandler):
    def log_message(self, *args) -> None:
        pass

    def _answer(self, method: str) -> None:
        self.server.bodies.append(self.rfile.read(int(self.headers.get("Content-Length", 0))))
        headers = dict(self.headers.items())
        self.server.requests.append((method, self.path, headers))
        status, body = self.server.reply(method, self.path, headers)
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:
        self._answer("GET")

    def do_POST(self) -> None:
        self._answer("POST")
