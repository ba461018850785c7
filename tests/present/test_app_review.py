"""The chat app against the defects a review found in a real browser: answers waiting for a slot, Ask while an
answer comes, feedback changed back, an ingest while an answer is on screen, and members whose sign-in ended."""

import asyncio
import threading
import time
from pathlib import Path

import pytest

from assistant.answer.service import Assistant
from assistant.present.app import ChatHandlers, build_app

from test_app import ROTHERHAM_Q, handlers  # noqa: F401  (the chat's handlers over the seed index, per module)


def _listener(demo, name):
    return next(f for f in demo.fns.values() if f.name == name)


def _component(demo, elem_id):
    return next(b for b in demo.blocks.values() if getattr(b, "elem_id", None) == elem_id)


# -- (1) a question waiting for a free slot -------------------------------------------------------------------------
def test_a_question_that_must_wait_for_a_slot_shows_itself_and_says_it_waits(handlers, monkeypatch):
    """With every slot answering (here one, held by a stalled model), the next question showed nothing at all, not
    even the member's own words, until a slot was free."""
    go = threading.Event()
    quick = handlers.assistant.stream

    def stalled(question, filters, stopped=None):
        if "stall" in question:
            go.wait(30)
        yield from quick(question, filters)

    monkeypatch.setattr(handlers.assistant, "settings", handlers.assistant.settings.with_(concurrency=1))
    monkeypatch.setattr(handlers.assistant, "stream", stalled)
    demo = build_app(handlers.assistant)
    respond = _listener(demo, "respond")
    chat = respond.outputs.index(_component(demo, "chat"))

    async def two_members():
        first = respond.fn("Does this stall? " + ROTHERHAM_Q, [], [], "", "", "", "", None)
        await first.__anext__()  # its question shown; its answer now holds the one slot
        holder = asyncio.create_task(first.__anext__())  # waiting on the stalled model
        await asyncio.sleep(0.3)
        second = respond.fn(ROTHERHAM_Q, [], [], "", "", "", "", None)
        shown = [await asyncio.wait_for(second.__anext__(), 2), await asyncio.wait_for(second.__anext__(), 2)]
        go.set()
        await asyncio.gather(holder, return_exceptions=True)
        async for _ in first:  # the first answer ends, and gives its slot back
            pass
        rest = [update async for update in second]
        return shown, rest

    try:
        shown, rest = asyncio.run(two_members())
    finally:
        go.set()
    assert shown[0][chat][-2]["content"] == ROTHERHAM_Q  # the member's question, at once
    assert "Waiting for a free slot" in shown[1][chat][-1]["content"]
    assert "148" in rest[-1][chat][-1]["content"]  # and answered once the slot is free


def test_a_chat_answer_is_not_held_in_gradio_s_queue_and_an_api_answer_takes_a_slot(handlers, monkeypatch):
    """Held in Gradio's queue (its limit was the app's), a question never reached the handler that says it waits: a
    member saw "Answering..." for seconds (from a load review). The chat's answers now start at once and wait for the
    app's own slots, which the API's answers take too, so no more are made at once than the app allows."""
    go, started = threading.Event(), threading.Event()
    quick = handlers.assistant.stream

    def stalled(question, filters, stopped=None):
        started.set()
        go.wait(30)
        yield from quick(question, filters)

    monkeypatch.setattr(handlers.assistant, "settings", handlers.assistant.settings.with_(concurrency=1))
    demo = build_app(handlers.assistant)
    assert _listener(demo, "respond").concurrency_limit == 4  # answers start at once, up to 4 a slot
    monkeypatch.setattr(handlers.assistant, "stream", stalled)
    respond, ask_api = _listener(demo, "respond"), _listener(demo, "ask_api")
    answered = []

    async def a_chat_answer_holds_the_slot():
        chat = respond.fn("Does this stall? " + ROTHERHAM_Q, [], [], "", "", "", "", None)
        await chat.__anext__()
        holder = asyncio.create_task(chat.__anext__())
        await asyncio.to_thread(started.wait, 10)
        api = threading.Thread(target=lambda: answered.append(ask_api.fn(ROTHERHAM_Q, request=None)))
        api.start()
        await asyncio.sleep(0.5)
        waited = not answered  # the API answer waits for the slot
        go.set()
        await asyncio.gather(holder, return_exceptions=True)
        async for _ in chat:
            pass
        await asyncio.to_thread(api.join, 30)
        return waited

    try:
        assert asyncio.run(a_chat_answer_holds_the_slot())
    finally:
        go.set()
    assert answered and "148" in answered[0]


def test_an_api_answer_that_gets_no_slot_in_time_is_told_to_ask_again(handlers, monkeypatch):
    """It had waited for a slot for ever, and answered (and audited) for a caller long gone (from a code review)."""
    from assistant.present import app

    monkeypatch.setattr(handlers.assistant, "settings", handlers.assistant.settings.with_(concurrency=1))
    monkeypatch.setattr(app, "API_SLOT_WAIT_S", 0.2)
    go = threading.Event()
    quick = handlers.assistant.stream

    def stalled(question, filters, stopped=None):
        go.wait(30)
        yield from quick(question, filters)

    demo = build_app(handlers.assistant)
    monkeypatch.setattr(handlers.assistant, "stream", stalled)
    respond, ask_api = _listener(demo, "respond"), _listener(demo, "ask_api")

    async def while_the_slot_is_held():
        chat = respond.fn("Does this stall? " + ROTHERHAM_Q, [], [], "", "", "", "", None)
        await chat.__anext__()
        holder = asyncio.create_task(chat.__anext__())
        await asyncio.sleep(0.3)
        said = await asyncio.to_thread(ask_api.fn, ROTHERHAM_Q, request=None)
        go.set()
        await asyncio.gather(holder, return_exceptions=True)
        async for _ in chat:
            pass
        return said

    try:
        assert asyncio.run(while_the_slot_is_held()) == app.API_BUSY
    finally:
        go.set()


def test_a_stopped_answer_gives_its_slot_to_the_next_question_at_once():
    """Cleared while the model was still writing a sentence, the answer kept the slot until the model finished it;
    the next question waited meanwhile. It now finishes in a draining slot, and the next one starts at once."""
    from assistant.present.app import WAITING_FOR_A_SLOT, in_a_thread_of_its_own

    model_replies = threading.Event()

    def stalled_answer():
        yield "question"
        model_replies.wait(30)  # a model stalled mid-sentence
        yield "first sentence"

    def quick_answer():
        yield "question"
        yield "answer"

    slots, draining = threading.BoundedSemaphore(1), threading.BoundedSemaphore(1)

    async def ask_clear_ask():
        async def take_all(steps, into):
            async for item in in_a_thread_of_its_own(steps, slots, draining):
                into.append(item)

        first: list = []
        task = asyncio.create_task(take_all(stalled_answer(), first))
        while not first:
            await asyncio.sleep(0.01)
        await asyncio.sleep(0.2)  # the thread waits on the model, holding the slot
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        second: list = []
        started = time.monotonic()
        await asyncio.wait_for(take_all(quick_answer(), second), 5)
        return second, time.monotonic() - started

    try:
        second, took = asyncio.run(ask_clear_ask())
    finally:
        model_replies.set()
    assert second == ["question", "answer"] and WAITING_FOR_A_SLOT not in second and took < 2


def test_a_question_waiting_for_a_slot_hears_so_first():
    from assistant.present.app import WAITING_FOR_A_SLOT, in_a_thread_of_its_own

    slots = threading.BoundedSemaphore(1)
    slots.acquire()  # another answer has it

    async def first_two():
        items = in_a_thread_of_its_own(iter(["question", "answer"]), slots)
        waiting = await asyncio.wait_for(items.__anext__(), 2)
        slots.release()
        rest = [item async for item in items]
        return waiting, rest

    assert asyncio.run(first_two()) == (WAITING_FOR_A_SLOT, ["question", "answer"])


# -- (8) Ask or Enter while an answer comes ----------------------------------------------------------------------
def test_while_an_answer_comes_ask_says_to_wait_and_comes_back_after(handlers):
    """Ask (or Enter) while an answer streamed was silently ignored; now Ask reads "Answering..." and a note under
    the box says to wait or press Clear, until the answer is complete (or cleared)."""
    demo = build_app(handlers.assistant)
    respond = _listener(demo, "respond")
    ask = respond.outputs.index(_component(demo, "ask"))
    note = respond.outputs.index(_component(demo, "asking-note"))

    async def every_update():
        return [update async for update in respond.fn(ROTHERHAM_Q, [], [], "", "", "", "", None)]

    updates = asyncio.run(every_update())
    assert updates[0][ask]["interactive"] is False and "wait for it to finish" in updates[0][note]
    assert "Clear" in updates[0][note]
    # Ready again only once the answer has ended (its audit record written after its last step), by the listener
    # that follows it: Gradio drops a question asked before then.
    assert all(update[ask] == {"__type__": "update"} for update in updates[1:])
    ready = next(f for f in demo.fns.values() if f.name == "ask_ready")
    assert ready.trigger_after == respond._id and not ready.trigger_only_on_success
    assert ready.fn()[0]["interactive"] is True and ready.fn()[1] == ""
    clear = _listener(demo, "clear_conversation")
    cleared = clear.fn([], [])
    assert cleared[clear.outputs.index(_component(demo, "ask"))]["interactive"] is True
    assert cleared[clear.outputs.index(_component(demo, "asking-note"))] == ""


# -- (7) feedback changed back --------------------------------------------------------------------------------------
def test_feedback_changed_back_to_an_earlier_rating_is_recorded(handlers):
    *_, last = handlers.replies(ROTHERHAM_Q)
    turn = last.turn
    for rating in ("helpful", "not_helpful", "helpful", "helpful"):  # the last a double click
        assert "recorded" in handlers.feedback(turn, rating, user="cllr.b")
    rows = [f["rating"] for f in handlers.recorder.log.feedback() if f["answer_id"] == turn.answer_id]
    assert rows == ["helpful", "not_helpful", "helpful"]


# -- (4) and (5) an ingest while an answer is on screen ------------------------------------------------------------
def _change_and_ingest(settings, corpus, old: str, new: str) -> None:
    from assistant.ingest.run import Index, ingest

    item = corpus / "rotherham-2018-ilsc-performance-feedback.md"
    item.write_text(item.read_text(encoding="utf-8").replace(old, new), encoding="utf-8")
    index = Index(settings)
    try:
        ingest([corpus], settings, index=index)
    finally:
        index.close()


@pytest.fixture()
def changing(fake_settings, corpus_copy, tmp_path):
    from assistant.ingest.run import Index, ingest

    settings = fake_settings.with_(reader="fake:overlap")
    index = Index(settings)
    try:
        ingest([corpus_copy], settings, index=index)
    finally:
        index.close()
    assistant = Assistant(settings)
    yield settings, corpus_copy, ChatHandlers(assistant, tmp_path / "briefings")
    assistant.close()


def test_an_ingest_while_an_answer_is_made_keeps_the_hash_of_the_chunk_it_quotes(changing):
    """The review's s11: the item an answer quotes changes, and another member's question reads the index again,
    before the answer ends; the audit record had no hash for the chunk it quoted."""
    settings, corpus, handlers = changing
    replies = handlers.replies(ROTHERHAM_Q)
    first = next(replies)
    assert "148" in first.markdown
    _change_and_ingest(settings, corpus, "In 2018 148 children", "In 2018 152 children")
    assert handlers.assistant.follow_index()  # as any other member's question or page load does
    *_, last = replies
    record = handlers.recorder.log.get(last.turn.answer_id).record
    hashes = record["cited_content_hashes"]
    assert hashes and all(hashes.values()), hashes
    assert all(r["content_hash"] for r in record["retrieved"])


def test_a_source_whose_item_changed_since_the_answer_says_so(changing):
    """The review's s10: after an ingest, the panel showed the item's new text beside an answer quoting the old,
    and no word that it had changed."""
    settings, corpus, handlers = changing
    *_, last = handlers.replies(ROTHERHAM_Q)
    assert "148" in handlers.source_panel(last.turn, 1)
    _change_and_ingest(settings, corpus, "In 2018 148 children", "In 2018 151 children")
    assert handlers.assistant.follow_index()
    panel = handlers.source_panel(last.turn, 1)
    assert "has changed since the answer was given; the quoted words are no longer in it" in panel
    assert "<mark>In 2018 148 children" in panel  # the words the answer quoted
    assert "151 children" in panel  # and the item as it now reads, said to be so



def test_a_source_withheld_since_the_answer_is_not_shown_though_nobody_asked_since(changing):
    """An item withheld (a takedown) while an answer citing it was on screen was shown whole in the source panel, to
    any member who opened it, until someone asked a question or loaded the page: only those read the index again.
    The panel reads it as it stands, as they do."""
    from assistant.ingest.withhold import withhold

    settings, corpus, handlers = changing
    *_, last = handlers.replies(ROTHERHAM_Q)
    assert "The Chair reported" in handlers.source_panel(last.turn, 1)  # the item's text beyond the quote
    withhold(settings, ["rotherham-2018-ilsc-performance-feedback"])
    panel = handlers.source_panel(last.turn, 1)
    assert "The item is no longer in the index." in panel and "The Chair reported" not in panel
    assert "<mark>In 2018 148 children" in panel  # the words the answer quoted, as the chat shows them


def test_a_briefing_says_what_its_answers_were_searched_from_though_the_index_changed_since(changing):
    """A briefing exported after an ingest or a takedown said the index as it then stood had been searched ('Searched:
    4 items of minutes from 4 councils'), beside an answer given before, which quoted the fifth (or, made before newer
    minutes came, said the minutes do not say what those say). It says what each answer was searched from."""
    from assistant.ingest.withhold import withhold

    settings, corpus, handlers = changing
    handlers.briefing_dir.mkdir()  # as the app's own private folder is
    *_, first = handlers.replies(ROTHERHAM_Q)
    withhold(settings, ["rotherham-2018-ilsc-performance-feedback"])
    path, _ = handlers.export([first.turn], [first.turn.label], "md")
    text = Path(path).read_text(encoding="utf-8")
    assert "\nSearched: 5 items of minutes from 5 councils, of meetings from " in text
    *_, second = handlers.replies("What percentage of reports were available 3 days before child protection "
                                  "conferences in Sefton?")
    turns = [first.turn, second.turn]
    path, _ = handlers.export(turns, [t.label for t in turns], "md")
    text = Path(path).read_text(encoding="utf-8")
    assert "\nSearched: answer 1 in 5 items of minutes from 5 councils, " in text
    assert "; answer 2 in 4 items of minutes from 4 councils, " in text

# -- (3) a member removed from the users file ------------------------------------------------------------------------
def test_a_member_removed_from_the_users_file_is_signed_out_of_open_sessions(handlers, tmp_path):
    """Removed from the users file, a member's open page went on answering, and a new tab opened without a
    sign-in: their sessions now end at the next request of anyone (and theirs is refused, saying why)."""
    import os
    from types import SimpleNamespace

    import httpx

    from assistant.present.app import SIGNED_OUT
    from assistant.present.auth import SignIn, hash_password

    users = tmp_path / "users.txt"
    users.write_text("".join(f"{n}:{hash_password(pw, 1_000)}\n" for n, pw in
                             (("alice", "alices password"), ("bob", "bobs password"))))
    sign_in = SignIn(users)
    demo = build_app(handlers.assistant, sign_out=True, sign_in=sign_in)
    demo.launch(auth=sign_in, prevent_thread_lock=True, quiet=True)
    try:
        base = demo.local_url.rstrip("/")
        bob = httpx.post(f"{base}/login", data={"username": "bob", "password": "bobs password"}).cookies
        assert httpx.get(f"{base}/gradio_api/login_check", cookies=bob).status_code == 200
        users.write_text(users.read_text().splitlines(keepends=True)[0])  # bob's line removed
        stamp = users.stat()
        os.utime(users, ns=(stamp.st_atime_ns, stamp.st_mtime_ns + 2_000_000_000))
        feedback = _listener(demo, "give_feedback")
        assert feedback.fn(None, "helpful", "", SimpleNamespace(username="bob")) == SIGNED_OUT
        assert httpx.get(f"{base}/gradio_api/login_check", cookies=bob).status_code == 401  # a new tab signs in
        assert "no answer to rate" in feedback.fn(None, "helpful", "", SimpleNamespace(username="alice"))
    finally:
        demo.close()


def test_a_new_password_ends_the_sessions_signed_in_with_the_old(tmp_path):
    import os

    from assistant.present.auth import SignIn, hash_password

    users = tmp_path / "users.txt"
    users.write_text(f"alice:{hash_password('old password', 1_000)}\n")
    sign_in = SignIn(users)
    ended = []
    sign_in.on_ended.append(ended.append)
    assert sign_in("alice", "old password")
    users.write_text(f"alice:{hash_password('new password', 1_000)}\n")
    stamp = users.stat()
    os.utime(users, ns=(stamp.st_atime_ns, stamp.st_mtime_ns + 2_000_000_000))
    assert sign_in("alice", "new password") and ended == [{"alice"}]
    assert sign_in.still_allowed("alice") and ended == [{"alice"}]  # once, for the change


# -- (9) a stopped answer's model call ------------------------------------------------------------------------------
def test_clearing_an_answer_closes_the_model_s_reply_at_once(handlers, minilm, monkeypatch):
    """Cleared (or the page gone) while a model wrote, the answer's thread went on reading the reply to its end,
    and the model went on writing for nobody. Now the reply is read no further and its connection closes."""
    from dataclasses import replace

    from assistant.answer.extractive import Calibration
    from assistant.answer.llm import make_chat_model
    from assistant.answer.reader import READER_DIR

    from servers import SlowChatServer, at_endpoint

    server = SlowChatServer("trickle", for_s=10.0)  # a word every 0.05 s, and no sentence ever ends
    settings = at_endpoint(handlers.assistant.settings.with_(llm="openai:fake"), server.url)
    assistant = Assistant(settings, embedder=minilm,
                          chat_model=make_chat_model(settings.llm, settings),
                          calibration=replace(Calibration.load(READER_DIR), refusal_threshold=0.0))
    respond = _listener(build_app(assistant), "respond")

    async def ask_then_clear():
        steps = respond.fn(ROTHERHAM_Q, [], [], "", "", "", "", None)
        await steps.__anext__()  # the question shown
        waiting = asyncio.create_task(steps.__anext__())
        # On a loaded machine retrieval and the reader can take longer than any fixed wait; clear only once the
        # model has been asked and is writing, or there is no connection for the clearing to close.
        assert await asyncio.to_thread(server.requested_within, 60), "the model was never asked"
        await asyncio.sleep(0.3)
        waiting.cancel()  # as Gradio stops a listener when the chat is cleared
        await asyncio.gather(waiting, return_exceptions=True)
        await steps.aclose()
        return time.monotonic()

    try:
        cleared = asyncio.run(ask_then_clear())
        closed_at = server.closed_within(5)
        assert closed_at is not None and closed_at - cleared < 2
    finally:
        server.shutdown()
        server.server_close()
        assistant.close()


# -- (6) feedback the audit log cannot take ----------------------------------------------------------------------------
def test_feedback_the_audit_log_cannot_take_says_so_and_is_recorded_when_sent_again(handlers):
    """With the log locked by another program, Send feedback raised, and Gradio showed a bare "Error" where the
    "Thank you" goes: the member could not tell whether it was kept, nor what to do."""
    import sqlite3

    from assistant.present.app import FEEDBACK_UNRECORDED

    turn = list(handlers.replies(ROTHERHAM_Q))[-1].turn
    other = sqlite3.connect(handlers.assistant.settings.audit_path, isolation_level=None, timeout=0)
    other.execute("BEGIN EXCLUSIVE")
    try:
        said = handlers.feedback(turn, "helpful", "clear", user="cllr.locked")
    finally:
        other.execute("ROLLBACK")
        other.close()
    assert said == FEEDBACK_UNRECORDED
    assert "recorded" in handlers.feedback(turn, "helpful", "clear", user="cllr.locked")  # sent again: kept now
    assert [f["rating"] for f in handlers.recorder.log.feedback() if f["user"] == "cllr.locked"] == ["helpful"]


def test_feedback_on_an_answer_whose_record_failed_says_it_cannot_be_kept(handlers, monkeypatch):
    """An answer shown but not audited (a full disk at its commit) had its feedback raise a KeyError: "Error"."""
    from assistant.present.app import FEEDBACK_ANSWER_UNRECORDED

    def disk_full(*args, **kwargs):
        raise OSError("database or disk is full")

    own = ChatHandlers(handlers.assistant)  # its failed record leaves the module's handlers as they were
    monkeypatch.setattr(own.recorder, "record", disk_full)
    turn = list(own.replies(ROTHERHAM_Q))[-1].turn
    monkeypatch.undo()
    assert turn is not None and own.feedback(turn, "not_helpful") == FEEDBACK_ANSWER_UNRECORDED


def test_the_request_that_finds_a_new_password_is_not_answered_for_the_old_session(tmp_path):
    # From the security review: the first request after `assistant user add bob` (a new password) ended bob's
    # sessions, but was itself answered, under bob, for the session begun with the old password.
    import os

    from assistant.present.auth import SignIn, hash_password

    users = tmp_path / "users.txt"
    alice = f"alice:{hash_password('alices password', 1_000)}\n"
    users.write_text(f"{alice}bob:{hash_password('old password', 1_000)}\n")
    sign_in = SignIn(users)
    ended = []
    sign_in.on_ended.append(ended.append)
    assert sign_in("bob", "old password") and sign_in.still_allowed("bob")
    users.write_text(f"{alice}bob:{hash_password('new password', 1_000)}\n")
    stamp = users.stat()
    os.utime(users, ns=(stamp.st_atime_ns, stamp.st_mtime_ns + 2_000_000_000))
    assert not sign_in.still_allowed("bob") and ended == [{"bob"}]
    assert sign_in.still_allowed("alice")  # her password is unchanged
    assert sign_in("bob", "new password") and sign_in.still_allowed("bob")  # signed in again, with the new one
