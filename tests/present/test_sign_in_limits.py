"""Sign-in against guessing and floods (from a security review): each check of a password costs a third of a second
of a core, Gradio ran it on the thread that serves every request, no number of wrong passwords was too many, and a
name that does not exist was refused at once, which said which names do."""

from __future__ import annotations

import threading
import time

import pytest

from assistant.present import auth
from assistant.present.auth import FAILURES_PER_NAME, HELD_BACK_S, SignIn, hash_password


def _users(tmp_path, iterations: int = 1_000):
    users = tmp_path / "users.txt"
    users.write_text("".join(f"{name}:{hash_password(password, iterations)}\n"
                             for name, password in (("alice", "alices password"), ("bob", "bobs password"))))
    return users


def test_wrong_passwords_for_a_name_hold_it_back_for_a_while_and_no_other(tmp_path, monkeypatch, caplog):
    clock = [1_000.0]
    monkeypatch.setattr(auth.time, "monotonic", lambda: clock[0])
    sign_in = SignIn(_users(tmp_path))
    for guess in range(FAILURES_PER_NAME):
        assert not sign_in("alice", f"guess {guess}")
    assert not sign_in("alice", "alices password")  # the right one too, while held back: else guessing goes on
    assert "A sign-in as 'alice' was refused unchecked" in caplog.text
    assert sign_in("bob", "bobs password")
    clock[0] += HELD_BACK_S - 1
    assert not sign_in("alice", "alices password")  # refused attempts do not hold it back longer...
    clock[0] += 2
    assert sign_in("alice", "alices password")  # ...and it is let go from the last wrong password
    for guess in range(FAILURES_PER_NAME - 1):  # a right password clears the count
        assert not sign_in("alice", f"guess {guess}")
    assert sign_in("alice", "alices password")
    assert not sign_in("alice", "one more slip") and sign_in("alice", "alices password")


def test_wrong_passwords_spread_out_and_a_flood_of_names_hold_nobody_back(tmp_path, monkeypatch, caplog):
    """A limit on every name at once had let 30 wrong sign-ins a minute, under any names, keep every member out; and
    a member's slips days apart added up (from a code review)."""
    clock = [1_000.0]
    monkeypatch.setattr(auth.time, "monotonic", lambda: clock[0])
    sign_in = SignIn(_users(tmp_path))
    for n in range(100):
        assert not sign_in(f"name{n}", "a guess")
    assert sign_in("bob", "bobs password")
    for slip in range(2 * FAILURES_PER_NAME):
        clock[0] += HELD_BACK_S
        assert not sign_in("alice", f"slip {slip}")
    assert sign_in("alice", "alices password")
    long_name = "x" * 10_000 + "\x1b[2J"
    for _ in range(FAILURES_PER_NAME + 1):
        sign_in(long_name, "a guess")
    assert max(len(r.getMessage()) for r in caplog.records) < 300 and "\x1b" not in caplog.text


def test_a_name_that_does_not_exist_takes_as_long_to_refuse_as_one_that_does(tmp_path):
    sign_in = SignIn(_users(tmp_path, iterations=100_000))

    times: dict[str, list[float]] = {"alice": [], "nosuchname": []}
    for _ in range(4):  # taken in turn, and the fastest of each compared: a busy machine slows one or the other
        for name, taken in times.items():
            started = time.perf_counter()
            assert not sign_in(name, "a wrong password")
            taken.append(time.perf_counter() - started)
    known, unknown = min(times["alice"]), min(times["nosuchname"])
    assert unknown > 0.5 * known, (known, unknown)


def test_a_flood_of_sign_ins_does_not_hold_up_the_app_and_run_history_is_off(fake_settings, tmp_path):
    """Served as `serve` serves it: the checks run on a thread of their own, one at a time."""
    import httpx

    from assistant.present.app import launch_app
    from corpus_factory import write_markdown_corpus
    from servers import free_port

    corpus = tmp_path / "minutes"
    write_markdown_corpus(corpus, 1)
    users = _users(tmp_path, iterations=400_000)  # about a quarter of a second a check here
    app = launch_app(fake_settings.with_(auth_file=str(users)), corpus, port=free_port(), prevent_thread_lock=True)
    try:
        base = app.local_url.rstrip("/")
        httpx.get(f"{base}/gradio_api/app_id", timeout=30)
        # Under many names, so that every one is checked: none is held back.
        flood = [threading.Thread(target=httpx.post, args=(f"{base}/login",),
                                  kwargs={"data": {"username": f"guesser{n}", "password": f"guess {n}"}, "timeout": 60})
                 for n in range(24)]
        for thread in flood:
            thread.start()
        time.sleep(0.3)
        started = time.perf_counter()
        assert httpx.get(f"{base}/gradio_api/app_id", timeout=30).status_code == 200
        waited = time.perf_counter() - started
        for thread in flood:
            thread.join()
        assert waited < 1.0, waited
        assert httpx.get(f"{base}/gradio_api/run-history/buckets", timeout=30).status_code == 404
        signed_in = httpx.post(f"{base}/login", data={"username": "bob", "password": "bobs password"}, timeout=30)
        assert signed_in.status_code == 200
    finally:
        app.close()


@pytest.fixture(autouse=True)
def _quiet_gradio(monkeypatch):
    monkeypatch.setenv("GRADIO_ANALYTICS_ENABLED", "False")
