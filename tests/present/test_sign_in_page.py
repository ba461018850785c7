"""auth.SignInPageHead: Gradio's sign-in page gets the head it is given, and nothing else the app serves changes."""

from __future__ import annotations

import asyncio

from assistant.present.auth import SignInPageHead

SIGN_IN_PAGE = b'<html><head><meta charset="utf-8"></head><body><script>window.gradio_config = {"auth_required":true};'\
               b'</script></body></html>'
APP_PAGE = b'<html><head></head><body><script>window.gradio_config = {"components":[]};</script></body></html>'


def served(page: bytes, path: str = "/", method: str = "GET", headers: list | None = None, pieces: int = 1,
           root_path: str = ""):
    """What the wrapper sends for `page`, which the app beneath sends in `pieces` body messages."""
    headers = headers if headers is not None else [(b"content-type", b"text/html; charset=utf-8"),
                                                   (b"content-length", str(len(page)).encode())]

    async def app(scope, receive, send):
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        size = -(-len(page) // pieces)
        for n in range(pieces):
            await send({"type": "http.response.body", "body": page[n * size:(n + 1) * size],
                        "more_body": n < pieces - 1})

    sent: list[dict] = []

    async def send(message):
        sent.append(message)

    wrapped = SignInPageHead(app, "<title>Sign in</title>")
    asyncio.run(wrapped({"type": "http", "method": method, "path": path, "root_path": root_path}, None, send))
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return dict(sent[0]["headers"]), body


def test_the_sign_in_page_gets_the_head_with_its_length_counted_again():
    headers, body = served(SIGN_IN_PAGE, pieces=3)
    assert body == SIGN_IN_PAGE.replace(b"</head>", b"<title>Sign in</title></head>")
    assert headers[b"content-length"] == str(len(body)).encode()


def test_every_other_response_passes_unchanged():
    assert served(APP_PAGE)[1] == APP_PAGE  # the signed-in app has its own head
    assert served(SIGN_IN_PAGE, path="/gradio_api/info")[1] == SIGN_IN_PAGE
    assert served(SIGN_IN_PAGE, method="POST")[1] == SIGN_IN_PAGE
    zipped = [(b"content-type", b"text/html"), (b"content-encoding", b"gzip")]
    assert served(SIGN_IN_PAGE, headers=zipped)[1] == SIGN_IN_PAGE  # compressed: its bytes are not the page's
    assert served(SIGN_IN_PAGE, headers=[(b"content-type", b"application/json")])[1] == SIGN_IN_PAGE


def test_a_head_request_is_told_the_length_that_get_sends():
    """HEAD answers with the headers GET does (RFC 9110, 9.3.2): it had said the length of the page without its
    head. A server that sends HEAD no body is told the length it gave."""
    assert served(SIGN_IN_PAGE, method="HEAD")[0] == served(SIGN_IN_PAGE)[0]
    told = [(b"content-type", b"text/html; charset=utf-8"), (b"content-length", str(len(SIGN_IN_PAGE)).encode())]
    assert served(b"", method="HEAD", headers=told)[0][b"content-length"] == str(len(SIGN_IN_PAGE)).encode()


def test_the_sign_in_page_behind_a_proxy_that_keeps_the_app_s_prefix_gets_the_head():
    """With GRADIO_ROOT_PATH=/minutes and a proxy that passes /minutes/ on as it is, Gradio (as Starlette routes)
    serves its sign-in page at /minutes/: it had no head there."""
    assert served(SIGN_IN_PAGE, path="/minutes/", root_path="/minutes")[1] == served(SIGN_IN_PAGE)[1] != SIGN_IN_PAGE
    assert served(SIGN_IN_PAGE, path="/minutes/info", root_path="/minutes")[1] == SIGN_IN_PAGE
    assert served(SIGN_IN_PAGE, path="/minutesx/", root_path="/minutes")[1] == SIGN_IN_PAGE


def test_setting_up_sign_in_twice_adds_the_head_once():
    """set_up_sign_in called again on the same app wrapped it again: two titles and two scripts on the page."""
    from types import SimpleNamespace

    from assistant.present.app import SIGN_IN_PAGE_HEAD, set_up_sign_in

    async def app(scope, receive, send):
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/html")]})
        await send({"type": "http.response.body", "body": SIGN_IN_PAGE})

    sent: list[dict] = []

    async def send(message):
        sent.append(message)

    demo = SimpleNamespace(server_app=SimpleNamespace(tokens={}, middleware_stack=app))
    for _ in range(2):
        set_up_sign_in(demo, SimpleNamespace(as_signed_in=lambda name: name), 3600)
    asyncio.run(demo.server_app.middleware_stack({"type": "http", "method": "GET", "path": "/"}, None, send))
    assert sent[-1]["body"].count(SIGN_IN_PAGE_HEAD.encode()) == 1
