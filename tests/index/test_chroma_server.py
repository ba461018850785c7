"""The same ingest and query code against a real `chroma run` server on loopback."""

import json
import os
import shutil
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from assistant.ingest.run import Index, ingest
from assistant.index.stats import index_stats

from cli_helpers import cli_env
from read_only_folder import read_only_folder, snapshot  # noqa: F401  (a fixture)
from servers import free_port, wait_until_listening

pytestmark = pytest.mark.integration


def start_chroma(data: Path, port: int | None = None) -> tuple[subprocess.Popen, int]:
    """A `chroma run` server of the folder, on the port given or a free one."""
    chroma = Path(sys.executable).parent / "chroma"
    if not chroma.exists():
        chroma = shutil.which("chroma")
    if not chroma:
        pytest.skip("the `chroma` command (installed with chromadb) was not found")
    port = port or free_port()
    env = {**os.environ, "ANONYMIZED_TELEMETRY": "False"}
    process = subprocess.Popen([str(chroma), "run", "--path", str(data), "--host", "127.0.0.1", "--port", str(port)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT, env=env)
    wait_until_listening(process, port, 60, lambda: "(chroma run's output is not captured)")
    return process, port


def stop(process: subprocess.Popen) -> None:
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        raise


@pytest.fixture(scope="module")
def chroma_server(tmp_path_factory):
    process, port = start_chroma(tmp_path_factory.mktemp("chroma-server"))
    yield port
    stop(process)


def test_ingest_and_query_through_a_chroma_server(chroma_server, fake_settings, corpus_copy, tmp_path):
    settings = fake_settings.with_(chroma_host="127.0.0.1", chroma_port=chroma_server)
    summary = ingest([corpus_copy], settings)
    assert summary.new == 5
    assert not (settings.data_dir / "chroma").exists()  # vectors went to the server, not the data folder
    assert settings.manifest_path.is_file()  # the manifest stays local
    index = Index(settings)
    try:
        assert index.store.count() == summary.chunks_added
        hits = index.store.query(index.embedder.embed_query("148 children discharged from care Rotherham"), k=3,
                                 where={"council_key": "rotherham"})
        assert hits and all(h.metadata["source_id"] == "rotherham-2018-ilsc-performance-feedback" for h in hits)
    finally:
        index.close()
    assert ingest([corpus_copy], settings).tokens_embedded == 0
    assert index_stats(settings).items == 5


def test_an_unreachable_server_gives_a_clear_message(fake_settings):
    from assistant.errors import AssistantError

    with pytest.raises(AssistantError, match="Cannot reach the Chroma server") as info:
        Index(fake_settings.with_(chroma_host="127.0.0.1", chroma_port=free_port()))
    assert "CHROMA_HOST" in info.value.hint


@pytest.mark.parametrize("status, body, said, hint", [
    (404, b"<!DOCTYPE HTML>\n<html><body>404 Not Found</body></html>", "HTTP 404", "not another web service"),
    (404, {"detail": "Not Found"}, "HTTP 404", "Chroma 1.0 or later"),  # a Chroma before 1.0: no /api/v2
    (200, {"hello": "world"}, "not as a Chroma server", "CHROMA_PORT"),
    (401, {"error": "AuthError", "message": "Unauthorized"}, "refused this client", "CHROMA_CLIENT_AUTH_CREDENTIALS"),
])
def test_a_server_that_answers_but_not_as_chroma_is_named_as_such(fake_settings, status, body, said, hint):
    """Another web server on the port, a Chroma older than 1.0, or one refusing the client's credentials, were all
    'Cannot reach the Chroma server (<!DOCTYPE HTML>)', and the operator was told to start a server that was
    running."""
    from assistant.errors import AssistantError

    from servers import JsonServer

    server = JsonServer(lambda method, path, headers: (status, body))
    try:
        with pytest.raises(AssistantError) as info:
            Index(fake_settings.with_(chroma_host="127.0.0.1", chroma_port=server.server_address[1]))
    finally:
        server.close()
    assert "Cannot reach" not in str(info.value) and said in str(info.value)
    assert hint in info.value.hint and "chroma run" not in info.value.hint


_ASK_AND_SERVE = textwrap.dedent("""
    import json, sys
    from assistant.answer.service import Assistant
    from assistant.ingest.run import Index, refresh_lexical
    from assistant.settings import Settings
    settings = Settings.from_env()
    index = Index(settings)
    refreshed = refresh_lexical(index)  # what `serve --no-corpus` does first
    index.close()
    assistant = Assistant(settings)
    answer = assistant.ask(sys.argv[1])
    assistant.close()
    print(json.dumps({"refreshed": refreshed, "answer": answer.answer}))
""")


def test_a_read_only_index_with_its_vectors_on_a_server_answers(chroma_server, fake_settings, corpus_copy,
                                                                  read_only_folder, tmp_path):
    """Only Chroma's local store must write to open: with the vectors on a server, the data folder (manifest and
    keyword index) can be read-only to the process that answers."""
    # A collection of its own: another test's index writes to the server's "minutes".
    settings = fake_settings.with_(chroma_host="127.0.0.1", chroma_port=chroma_server, collection="minutes-read-only")
    index = Index(settings)
    ingest([corpus_copy], settings, index=index)
    index.close()
    assert not list(settings.data_dir.glob("manifest.sqlite-*"))  # closed: as `assistant ingest` leaves it
    folder = read_only_folder(settings.data_dir)
    before = snapshot(settings.data_dir)
    env = cli_env(settings.data_dir, CHROMA_HOST="127.0.0.1", CHROMA_PORT=str(chroma_server),
                  ASSISTANT_COLLECTION=settings.collection)
    question = "How many children were discharged from care in Rotherham in 2018?"

    asked = folder.run(sys.executable, "-c", _ASK_AND_SERVE, question, env=env)
    assert asked.returncode == 0, asked.stderr
    result = json.loads(asked.stdout)
    assert result["refreshed"] is False and "148" in result["answer"]
    stats = folder.cli("stats", "--json", env=env)
    assert stats.returncode == 0 and json.loads(stats.stdout)["items"] == 5, stats.stderr
    # `ask` also records the answer in the audit log, in the data folder: it may not be lost without a word.
    cli = folder.cli("ask", question, env=env)
    assert cli.returncode == 0 or (cli.returncode == 2 and "audit.sqlite" in cli.stderr and "how to fix" in cli.stderr
                                   and "ASSISTANT_AUDIT_PATH" in cli.stderr and "Traceback" not in cli.stderr), \
        cli.stderr
    assert snapshot(settings.data_dir) == before
    # Kept elsewhere, the audit log records the answers of a machine that answers from a read-only folder.
    elsewhere = {**env, "ASSISTANT_AUDIT_PATH": str(tmp_path / "audit" / "answers.sqlite")}
    cli = folder.cli("ask", question, env=elsewhere)
    assert cli.returncode == 0 and "148" in cli.stdout, cli.stderr
    listing = folder.cli("audit", env=elsewhere)
    assert listing.returncode == 0 and "How many children were discharged" in listing.stdout, listing.stderr
    assert snapshot(settings.data_dir) == before


def _on_server(settings, port, data_dir, collection):
    return settings.with_(chroma_host="127.0.0.1", chroma_port=port, data_dir=data_dir, collection=collection)


def _chunk_count(settings) -> int:
    index = Index(settings)
    try:
        return index.store.count()
    finally:
        index.close()


def test_two_data_folders_never_share_one_collection(chroma_server, fake_settings, corpus_copy, tmp_path):
    """A second folder's ingest took the first's chunks for orphans and deleted them; its --reset, which the model
    mismatch message suggested, deleted the first's collection whole."""
    from assistant.errors import IndexMismatchError

    first = _on_server(fake_settings, chroma_server, tmp_path / "first", "minutes-shared")
    second = _on_server(fake_settings, chroma_server, tmp_path / "second", "minutes-shared")
    held = ingest([corpus_copy], first).chunks_added
    one_file = sorted(corpus_copy.iterdir())[0]
    for reset in (False, True):
        with pytest.raises(IndexMismatchError, match="holds the vectors of another index") as refused:
            ingest([one_file], second, reset=reset)
        assert "ASSISTANT_COLLECTION" in refused.value.hint
    with pytest.raises(IndexMismatchError, match="holds the vectors of another index"):
        Index(second.with_(embedding_model="all-MiniLM-L6-v2"))  # refused before the model is compared
    assert _chunk_count(first) == held and index_stats(first).items == 5
    assert ingest([one_file], second.with_(collection="minutes-second")).new == 1  # a collection of its own


def test_an_older_copy_of_a_data_folder_may_not_write(chroma_server, fake_settings, corpus_copy, tmp_path):
    """A copy given to an answering machine, whose `serve` ingests corpus/ at start, undid what the folder it was
    copied from had ingested since: it deleted the newer chunks as orphans."""
    from assistant.errors import IndexMismatchError

    files = sorted(corpus_copy.iterdir())
    original = _on_server(fake_settings, chroma_server, tmp_path / "original", "minutes-copied")
    ingest(files[:3], original)
    shutil.copytree(original.data_dir, tmp_path / "copy")
    copy = original.with_(data_dir=tmp_path / "copy")
    assert ingest(files, original).new == 2  # the original goes on ingesting
    held = _chunk_count(original)
    with pytest.raises(IndexMismatchError, match="is an older copy of the one whose vectors") as refused:
        ingest(files[:3], copy)
    assert "serve --no-corpus" in refused.value.hint
    assert _chunk_count(original) == held and index_stats(original).items == 5
    assert ingest(files, original).tokens_embedded == 0  # the original itself is never refused
    # A copy put back from a backup, the newer folder lost, was told only to ingest from that folder: the way out
    # that the hint now gives, a collection of its own, works.
    assert "put back from a backup" in refused.value.hint and "ASSISTANT_COLLECTION" in refused.value.hint
    assert ingest(files, copy.with_(collection="minutes-copied-anew"), reset=True).new == 5


def test_a_server_without_the_index_collection_is_named_not_given_an_empty_one(chroma_server, fake_settings,
                                                                               corpus_copy, tmp_path):
    """Another CHROMA_PORT, or a server that lost its data, read as an index that had lost every chunk, and the
    ingest that message suggested dropped from the index what it could not embed again."""
    import chromadb

    from assistant.errors import IndexMismatchError

    settings = _on_server(fake_settings, chroma_server, tmp_path / "index", "minutes-moved")
    ingest([corpus_copy], settings)
    client = chromadb.HttpClient(host="127.0.0.1", port=chroma_server)
    client.delete_collection("minutes-moved")  # as a server without it would be
    with pytest.raises(IndexMismatchError, match=f"127.0.0.1:{chroma_server} has no collection 'minutes-moved'"):
        Index(settings)
    assert "minutes-moved" not in [c.name for c in client.list_collections()]  # none made in its place
    assert index_stats(settings).items == 5


def test_a_server_lost_while_answering_or_ingesting_gets_a_message(fake_settings, corpus_copy, tmp_path):
    """httpx's own errors reached `ingest` as a traceback and the app's members as "the assistant failed"."""
    from assistant.answer.service import Assistant
    from assistant.errors import AssistantError

    process, port = start_chroma(tmp_path / "server")
    settings = _on_server(fake_settings, port, tmp_path / "index", "minutes")
    try:
        ingest(sorted(corpus_copy.iterdir())[:2], settings)
        assistant = Assistant(settings)
    finally:
        stop(process)
    try:
        with pytest.raises(AssistantError, match=f"Lost the Chroma server at 127.0.0.1:{port}") as lost:
            assistant.ask("How many children were discharged from care in Rotherham in 2018?")
        assert "nothing indexed is lost" in lost.value.hint
    finally:
        assistant.close()


def test_an_older_copy_may_not_write_after_the_original_was_killed_mid_ingest_nor_reset(chroma_server, fake_settings,
                                                                                         corpus_copy, tmp_path):
    """The ingest was counted only at its end: a copy that wrote while the original ran, or after it was killed,
    took the original's new chunks for orphans. And a copy's --reset deleted the newer collection."""
    from assistant.errors import IndexMismatchError

    from cli_helpers import run_cli

    files = sorted(corpus_copy.iterdir())
    original = _on_server(fake_settings, chroma_server, tmp_path / "original", "minutes-killed")
    env = cli_env(original.data_dir, CHROMA_HOST="127.0.0.1", CHROMA_PORT=str(chroma_server),
                  ASSISTANT_COLLECTION=original.collection)
    assert run_cli("ingest", *map(str, files[:3]), "--no-progress", env=env).returncode == 0
    shutil.copytree(original.data_dir, tmp_path / "copy")
    copy = original.with_(data_dir=tmp_path / "copy")
    killed = run_cli("ingest", *map(str, files), "--no-progress",
                     env={**env, "ASSISTANT_CRASH_AT": "after_chroma_write:1"})
    assert killed.returncode != 0  # killed after writing vectors, before its manifest knew of them
    held = _chunk_count(copy.with_(data_dir=original.data_dir))
    for reset in (False, True):
        with pytest.raises(IndexMismatchError, match="is an older copy"):
            ingest(files[:3], copy, reset=reset)
    assert _chunk_count(copy.with_(data_dir=original.data_dir)) == held
    again = ingest(files, original)  # the original, run again, finishes what it was killed in
    assert again.new + again.replaced == 2 and index_stats(original).items == 5


def test_a_reset_whose_server_is_lost_as_it_deletes_the_collection_stops_there_and_can_run_again(
        fake_settings, corpus_copy, tmp_path, monkeypatch):
    """Every failure of the deletion was taken for "removed meanwhile": the reset went on, emptied the manifest of the
    index id that claimed the collection, and once the server was back, every ingest, --reset too, was refused as
    writing to another index's collection."""
    from assistant.errors import AssistantError
    from assistant.index import vector_store

    data = tmp_path / "server"
    process, port = start_chroma(data)
    try:
        settings = _on_server(fake_settings, port, tmp_path / "index", "minutes-lost-at-reset")
        assert ingest([corpus_copy], settings).new == 5
        real_client = vector_store._client

        def client_whose_server_stops_at_the_deletion(settings_):
            client = real_client(settings_)

            def delete_collection(name):
                stop(process)
                return type(client).delete_collection(client, name)
            client.delete_collection = delete_collection
            return client
        monkeypatch.setattr(vector_store, "_client", client_whose_server_stops_at_the_deletion)
        with pytest.raises(AssistantError, match="Chroma server"):
            ingest([corpus_copy], settings, reset=True)
        monkeypatch.setattr(vector_store, "_client", real_client)
        process, _ = start_chroma(data, port)  # back, on its port
        assert index_stats(settings).items == 5  # the reset stopped before the manifest was emptied
        again = ingest([corpus_copy], settings, reset=True)
        assert again.new == 5 and index_stats(settings).items == 5
    finally:
        stop(process)


def test_stats_says_when_the_server_does_not_answer_or_lacks_the_collection(fake_settings, corpus_copy, tmp_path):
    """`stats` had exited 0 with no note while `ask` and the app refused every question, so the README's scheduled
    check (`assistant stats > /dev/null || alert`) missed a dead Chroma server."""
    import chromadb

    process, port = start_chroma(tmp_path / "server")
    settings = _on_server(fake_settings, port, tmp_path / "index", "minutes")
    try:
        ingest(sorted(corpus_copy.iterdir())[:2], settings)
        well = index_stats(settings)
        assert well.notes == () and not well.needs_action and well.items == 2
        chromadb.HttpClient(host="127.0.0.1", port=port).delete_collection("minutes")
        lacking = index_stats(settings)
        assert lacking.needs_action and f"127.0.0.1:{port} has no collection 'minutes'" in lacking.notes[0]
    finally:
        stop(process)
    down = index_stats(settings)
    assert down.needs_action and f"Cannot reach the Chroma server at 127.0.0.1:{port}" in down.notes[0]
    assert down.items == 2  # the counts are still the manifest's


def test_stats_says_when_the_server_has_lost_chunks_the_manifest_lists(chroma_server, fake_settings, corpus_copy,
                                                                      tmp_path):
    """A server whose folder was put back from an older copy holds the collection without the chunks ingested since:
    `ask` and the app refused every question, while `stats` exited 0 with no note."""
    import chromadb

    settings = _on_server(fake_settings, chroma_server, tmp_path / "index", "minutes-lost-chunks")
    ingest(sorted(corpus_copy.iterdir())[:2], settings)
    collection = chromadb.HttpClient(host="127.0.0.1", port=chroma_server).get_collection("minutes-lost-chunks")
    collection.delete(ids=collection.get(limit=3, include=[])["ids"])  # as an older copy of the server's folder
    lost = index_stats(settings)
    assert lost.needs_action and "has lost chunks that the manifest lists" in lost.notes[0], lost.notes
    assert "assistant ingest" in lost.notes[0]
    ingest(sorted(corpus_copy.iterdir())[:2], settings)  # embeds them again from the keyword index's copy
    assert index_stats(settings).notes == ()


def test_stats_ends_saying_so_when_the_server_takes_the_connection_but_never_answers(fake_settings, corpus_copy,
                                                                                     tmp_path, monkeypatch):
    """chromadb's client waits for ever: `stats` hung on a server that had stopped answering (a paused `chroma run`,
    one overloaded), so the README's scheduled check (`assistant stats > /dev/null || alert`) never alerted."""
    import socket
    import threading

    from assistant.index import vector_store

    process, port = start_chroma(tmp_path / "server")
    settings = _on_server(fake_settings, port, tmp_path / "index", "minutes")
    try:
        ingest(sorted(corpus_copy.iterdir())[:2], settings)
    finally:
        stop(process)
    silent = socket.socket()  # takes connections, as a paused server's socket does, and answers none
    silent.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    silent.bind(("127.0.0.1", port))
    silent.listen(16)
    monkeypatch.setattr(vector_store, "SERVER_CHECK_SECONDS", 1.0, raising=False)
    said = []
    try:
        asking = threading.Thread(target=lambda: said.append(index_stats(settings)), daemon=True)
        asking.start()
        asking.join(30)
    finally:
        silent.close()
    assert said, "stats was still waiting for the server after 30 s"
    assert said[0].needs_action and said[0].items == 2
    assert f"The Chroma server at 127.0.0.1:{port} did not answer within 1 s" in said[0].notes[0], said[0].notes


def _answered(settings, question: str):
    """The answer and its citations (where each quote is from), from an assistant opened for this question alone."""
    from assistant.answer.service import Assistant

    assistant = Assistant(settings)
    try:
        answer = assistant.ask(question)
    finally:
        assistant.close()
    return answer.answer, [(c.source_url, c.chunk_id, c.quote) for c in answer.citations]


def _restarted_empty(process: subprocess.Popen, data: Path, port: int) -> subprocess.Popen:
    """The server stopped, its data lost, and started again on its port."""
    stop(process)
    shutil.rmtree(data)
    return start_chroma(data, port)[0]


def _a_council_site():
    """A ModernGov site with one meeting of two items, started."""
    import datetime as dt

    from corpus_factory import minute_text
    from moderngov_site import FakeCommittee, FakeItem, FakeMeeting, ModernGovSite, paragraphs_html

    site = ModernGovSite([FakeCommittee("301", "Children and Young People Scrutiny Panel")], [
        FakeMeeting("3000", "301", dt.date(2024, 3, 1), items=[
            FakeItem(str(30000 + n), f"Item {n}", paragraphs_html(minute_text(n)), number=str(n + 1))
            for n in range(2)])])
    site.start()
    return site


def test_a_server_restarted_empty_is_given_the_collection_again_from_the_text_the_index_keeps(
        fake_settings, corpus_copy, tmp_path):
    """A server that lost its data was refused for every command, rightly (it may be the wrong server), and the only
    way offered was `ingest --reset`, after which minutes fetched from a site had to be fetched again: those the
    council no longer publishes were lost, though the index's keyword store still held their text."""
    from assistant.errors import IndexMismatchError

    from cli_helpers import run_cli

    data = tmp_path / "server"
    process, port = start_chroma(data)
    settings = _on_server(fake_settings, port, tmp_path / "index", "minutes-restarted")
    env = cli_env(settings.data_dir, CHROMA_HOST="127.0.0.1", CHROMA_PORT=str(port),
                  ASSISTANT_COLLECTION=settings.collection)
    question = "How many children were discharged from care in Rotherham in 2018?"
    site = _a_council_site()
    try:
        ingest([corpus_copy], settings)
        fetched = run_cli("fetch", site.base_url, "--council", "Testshire County Council", "--since", "2024-01-01",
                          "--until", "2024-12-31", "--no-progress", env={**env, "ASSISTANT_FETCH_RATE": "0"})
        assert fetched.returncode == 0, fetched.stderr
        site.stop()  # the council no longer publishes them
        held, items = _chunk_count(settings), index_stats(settings).items
        assert items == 7
        before = _answered(settings, question)
        assert "148" in before[0] and before[1]
        process = _restarted_empty(process, data, port)
        with pytest.raises(IndexMismatchError, match="has no collection") as refused:
            Index(settings)
        assert "--rebuild-collection" in refused.value.hint
        shutil.rmtree(corpus_copy)  # nothing is read again: the minutes' files may be gone too
        rebuilt = run_cli("ingest", "--rebuild-collection", "--no-progress", "--json", env=env, cwd=tmp_path)
        assert rebuilt.returncode == 0, rebuilt.stderr
        summary = json.loads(rebuilt.stdout)
        assert summary["new"] == summary["replaced"] == summary["removed"] == 0
        assert any("embedded again from the copy of their text" in note for note in summary["notes"])
        assert _chunk_count(settings) == held and index_stats(settings).notes == ()
        assert index_stats(settings).items == items  # the fetched minutes too
        assert _answered(settings, question) == before
        # Run again, on a server that has the collection, it changes nothing.
        again = run_cli("ingest", "--rebuild-collection", "--no-progress", "--json", env=env, cwd=tmp_path)
        assert again.returncode == 0 and json.loads(again.stdout)["notes"] == [], again.stderr
    finally:
        site.stop()
        stop(process)


def test_a_rebuild_of_the_collection_killed_part_way_is_said_and_finished_by_the_next_run(
        fake_settings, corpus_copy, tmp_path):
    from cli_helpers import run_cli

    data = tmp_path / "server"
    process, port = start_chroma(data)
    settings = _on_server(fake_settings, port, tmp_path / "index", "minutes-killed-rebuild")
    env = cli_env(settings.data_dir, CHROMA_HOST="127.0.0.1", CHROMA_PORT=str(port),
                  ASSISTANT_COLLECTION=settings.collection, ASSISTANT_EMBED_BATCH="4")
    question = "How many children were discharged from care in Rotherham in 2018?"
    try:
        held = ingest([corpus_copy], settings).chunks_added
        before = _answered(settings, question)
        process = _restarted_empty(process, data, port)
        killed = run_cli("ingest", "--rebuild-collection", "--no-progress", cwd=tmp_path,
                         env={**env, "ASSISTANT_CRASH_AT": "during_restore:2"})
        assert killed.returncode != 0
        assert 0 < _chunk_count(settings) < held  # killed with part of the chunks written
        stats = index_stats(settings)
        assert stats.needs_action and "has lost chunks that the manifest lists" in stats.notes[0], stats.notes
        asked = run_cli("ask", question, env=env, cwd=tmp_path)
        assert asked.returncode == 2 and "has lost chunks" in asked.stderr, asked.stderr
        finished = run_cli("ingest", "--rebuild-collection", "--no-progress", env=env, cwd=tmp_path)
        assert finished.returncode == 0, finished.stderr
        assert _chunk_count(settings) == held and index_stats(settings).notes == ()
        assert _answered(settings, question) == before
    finally:
        stop(process)


def test_a_rebuild_of_the_collection_never_writes_into_one_holding_other_content(chroma_server, fake_settings,
                                                                                 corpus_copy, tmp_path):
    """The collection is made again only where the server has none of its name, or an empty one, or this index's."""
    import chromadb

    from assistant.errors import IndexMismatchError

    settings = _on_server(fake_settings, chroma_server, tmp_path / "index", "minutes-taken")
    ingest([corpus_copy], settings)
    client = chromadb.HttpClient(host="127.0.0.1", port=chroma_server)
    client.delete_collection(settings.collection)
    other = client.create_collection(settings.collection, embedding_function=None)
    other.add(ids=["someone-else"], documents=["Other minutes."], embeddings=[[0.5] * 256])
    with pytest.raises(IndexMismatchError, match="holds chunks that are not this index's") as refused:
        ingest([], settings, rebuild_collection=True)
    assert "--rebuild-collection" not in refused.value.hint
    assert client.get_collection(settings.collection).get()["ids"] == ["someone-else"]
    # One that another index writes to is refused as ever.
    client.delete_collection(settings.collection)
    ingest([sorted(corpus_copy.iterdir())[0]], settings.with_(data_dir=tmp_path / "another"))
    with pytest.raises(IndexMismatchError, match="holds the vectors of another index"):
        ingest([], settings, rebuild_collection=True)
    assert index_stats(settings).items == 5


def test_a_rebuild_of_the_collection_needs_the_index_it_rebuilds(chroma_server, fake_settings, tmp_path):
    """Run with the wrong data folder (a mistyped --index, ASSISTANT_DATA_DIR unset in a cron job), it made an empty
    index there and a collection of the name on the server, which that empty index claimed: the real index's own
    rebuild was then refused as another index's (from a code review)."""
    import chromadb

    from assistant.errors import IndexMissingError

    settings = _on_server(fake_settings, chroma_server, tmp_path / "mistyped", "minutes-no-index-here")
    with pytest.raises(IndexMissingError, match="no index"):
        ingest([], settings, rebuild_collection=True)
    client = chromadb.HttpClient(host="127.0.0.1", port=chroma_server)
    assert settings.collection not in [c.name for c in client.list_collections()]
    assert not settings.manifest_path.exists()


def test_a_rebuild_of_the_collection_is_for_vectors_on_a_server(fake_settings, corpus_copy):
    """A local store that lost its folder is made again by any ingest; the option says so rather than pass unseen."""
    from assistant.errors import ConfigError

    from cli_helpers import run_cli

    ingest([corpus_copy], fake_settings)
    with pytest.raises(ConfigError, match="CHROMA_HOST") as refused:
        ingest([], fake_settings, rebuild_collection=True)
    assert "assistant ingest" in refused.value.hint
    both = run_cli("ingest", "--rebuild-collection", "--reset", env=cli_env(fake_settings.data_dir))
    assert both.returncode == 2 and "--reset" in both.stderr
