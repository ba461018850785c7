"""Other web sites and the app (from a security review): behind a proxy that passes the browser's Host on, Gradio let
any site a signed-in member visited read the app with the member's session, its session token included."""

from __future__ import annotations

import pytest

from assistant.present.auth import hash_password

EVIL = "https://evil.example"
HOST = "minutes.council.example"  # as a proxy that passes the browser's Host header on sends it


@pytest.fixture(autouse=True)
def _quiet_gradio(monkeypatch):
    monkeypatch.setenv("GRADIO_ANALYTICS_ENABLED", "False")


@pytest.fixture
def signed_in_app(fake_settings, tmp_path):
    import httpx

    from assistant.present.app import launch_app
    from corpus_factory import write_markdown_corpus
    from servers import free_port

    corpus = tmp_path / "minutes"
    write_markdown_corpus(corpus, 1)
    users = tmp_path / "users.txt"
    users.write_text(f"alice:{hash_password('alices password', 1_000)}\n")
    users.chmod(0o600)
    app = launch_app(fake_settings.with_(auth_file=str(users)), corpus, port=free_port(), prevent_thread_lock=True)
    try:
        base = app.local_url.rstrip("/")
        signed_in = httpx.post(f"{base}/login", data={"username": "alice", "password": "alices password"},
                               headers={"Host": HOST}, timeout=30)
        assert signed_in.status_code == 200
        yield base, dict(signed_in.cookies)
    finally:
        app.close()


def test_another_site_may_not_read_the_app_with_a_member_s_session(signed_in_app):
    """A page on another site fetching /gradio_api/token with the member's cookies (SameSite=None: a browser that
    allows third-party cookies sends them) was let read it, the session's token with it."""
    import httpx

    base, cookies = signed_in_app
    read = httpx.get(f"{base}/gradio_api/token", cookies=cookies, headers={"Host": HOST, "Origin": EVIL}, timeout=30)
    assert read.json()["user"] == "alice"  # what the page would have read
    assert "access-control-allow-origin" not in read.headers
    assert "access-control-allow-credentials" not in read.headers
    # Nor may it send the app a question of its own: the browser asks first, and is told no site may.
    asked = httpx.options(f"{base}/gradio_api/call/ask", timeout=30,
                          headers={"Host": HOST, "Origin": EVIL, "Access-Control-Request-Method": "POST",
                                   "Access-Control-Request-Headers": "content-type"})
    assert "access-control-allow-origin" not in asked.headers


def test_the_app_s_own_page_and_scripts_are_served_as_before(signed_in_app):
    """The page asks the app on its own origin, which needs no leave; gradio_client sends no Origin at all."""
    import httpx

    base, cookies = signed_in_app
    own = {"Host": HOST, "Origin": f"https://{HOST}"}
    assert httpx.get(f"{base}/", cookies=cookies, headers={"Host": HOST}, timeout=30).status_code == 200
    assert httpx.get(f"{base}/config", cookies=cookies, headers=own, timeout=30).status_code == 200
    called = httpx.post(f"{base}/gradio_api/call/ask", cookies=cookies, headers=own, timeout=30,
                        json={"data": ["How many children left care?", "", "", "", ""]})
    assert called.status_code == 200 and called.json()["event_id"]


def test_another_site_may_not_sign_a_member_out_nor_in(signed_in_app):
    """An image on any site a signed-in member visited, pointing at /logout, signed them out of every session (the
    cookie is SameSite=None), and a form there could sign them in as someone else. A link from another site to the
    app still opens it."""
    import httpx

    base, cookies = signed_in_app
    image = {"Host": HOST, "Sec-Fetch-Site": "cross-site", "Sec-Fetch-Mode": "no-cors", "Sec-Fetch-Dest": "image"}
    assert httpx.get(f"{base}/logout", cookies=cookies, headers=image, timeout=30).status_code == 403
    assert httpx.get(f"{base}/gradio_api/login_check", cookies=cookies, timeout=30).status_code == 200
    form = {"Host": HOST, "Origin": EVIL, "Sec-Fetch-Site": "cross-site", "Sec-Fetch-Mode": "navigate",
            "Sec-Fetch-Dest": "document"}
    assert httpx.post(f"{base}/login", data={"username": "alice", "password": "alices password"}, headers=form,
                      timeout=30).status_code == 403
    link = {"Host": HOST, "Sec-Fetch-Site": "cross-site", "Sec-Fetch-Mode": "navigate", "Sec-Fetch-Dest": "document"}
    assert httpx.get(f"{base}/", cookies=cookies, headers=link, timeout=30).status_code == 200
    own = {"Host": HOST, "Sec-Fetch-Site": "same-origin", "Sec-Fetch-Mode": "navigate", "Sec-Fetch-Dest": "document"}
    assert httpx.get(f"{base}/logout", cookies=cookies, headers=own, timeout=30).status_code in (200, 302)
    assert httpx.get(f"{base}/gradio_api/login_check", cookies=cookies, timeout=30).status_code == 401


@pytest.mark.parametrize("dest", ["iframe", "document"])
def test_another_site_may_not_sign_a_member_out_by_a_frame_or_a_link_to_logout(signed_in_app, dest):
    """A hidden frame on another site's page pointing at /logout (a navigation, which the browser sends with the
    member's cookie as it did the image's request) signed the member out of every session as the image had; a link
    there to /logout, or a script sending the page to it, did too. A frame or link to the app itself still opens it."""
    import httpx

    base, cookies = signed_in_app
    navigation = {"Host": HOST, "Sec-Fetch-Site": "cross-site", "Sec-Fetch-Mode": "navigate", "Sec-Fetch-Dest": dest}
    assert httpx.get(f"{base}/logout", cookies=cookies, headers=navigation, timeout=30).status_code == 403
    assert httpx.get(f"{base}/gradio_api/login_check", cookies=cookies, timeout=30).status_code == 200
    assert httpx.get(f"{base}/", cookies=cookies, headers=navigation, timeout=30).status_code == 200
