"""`assistant stats` as a scheduled check reads it: exit 0 for an index that answers as it should (or that a writer
is at work on), 1 for one that wants something run, with its notes saying what; `--json` says the same."""

from __future__ import annotations

import json
import shutil
import sqlite3

import pytest

from assistant.index.manifest import INDEX_FORMAT, INDEX_FORMAT_KEY, RESET_UNFINISHED
from cli_helpers import cli_env, run_cli, write_lock_held_elsewhere
from corpus_factory import write_markdown_corpus


@pytest.fixture
def built(tmp_path):
    folder = tmp_path / "minutes"
    write_markdown_corpus(folder, 3)
    env = cli_env(tmp_path / "index")
    assert run_cli("ingest", str(folder), "--no-progress", env=env).returncode == 0
    return tmp_path / "index", env


def _set(data_dir, sql: str, *params) -> None:
    connection = sqlite3.connect(data_dir / "manifest.sqlite")
    try:
        with connection:
            connection.execute(sql, params)
    finally:
        connection.close()


def _both(env) -> tuple[int, dict, int, str]:
    as_json = run_cli("stats", "--json", env=env)
    shown = run_cli("stats", env=env)
    return as_json.returncode, json.loads(as_json.stdout), shown.returncode, shown.stdout


def test_a_healthy_index_exits_0(built):
    _, env = built
    code, stats, shown_code, _ = _both(env)
    assert (code, shown_code) == (0, 0)
    assert stats["needs_action"] is False and stats["notes"] == [] and stats["items"] == 3


def test_an_index_with_unfinished_items_exits_1_and_says_what_to_run(built):
    data_dir, env = built
    _set(data_dir, "UPDATE items SET status = 'pending' WHERE rowid = (SELECT min(rowid) FROM items)")
    code, stats, shown_code, shown = _both(env)
    assert (code, shown_code) == (1, 1)
    assert stats["needs_action"] is True and "interrupted mid-ingest: run `assistant ingest` again" in shown


def test_a_reset_cut_short_exits_1(built):
    data_dir, env = built
    _set(data_dir, "INSERT OR REPLACE INTO meta (key, value) VALUES (?, '1')", RESET_UNFINISHED)
    code, stats, shown_code, shown = _both(env)
    assert (code, shown_code) == (1, 1) and stats["needs_action"] is True and "was cut short" in shown


def test_a_missing_vector_store_exits_1(built):
    data_dir, env = built
    (data_dir / "chroma" / "chroma.sqlite3").unlink()
    code, stats, shown_code, shown = _both(env)
    assert (code, shown_code) == (1, 1) and "the vector store" in shown and "is missing" in shown


def test_an_index_a_newer_version_wrote_exits_1_and_says_so_even_while_written(built):
    data_dir, env = built
    _set(data_dir, "INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", INDEX_FORMAT_KEY, str(INDEX_FORMAT + 1))
    code, stats, shown_code, shown = _both(env)
    assert (code, shown_code) == (1, 1)
    assert "written by a newer version of the assistant" in shown and stats["needs_action"] is True
    with write_lock_held_elsewhere(data_dir):
        code, stats, _, _ = _both(env)
    assert code == 1 and any("newer version" in note for note in stats["notes"])


def test_a_writer_at_work_is_not_a_fault(built):
    data_dir, env = built
    _set(data_dir, "UPDATE items SET status = 'pending' WHERE rowid = (SELECT min(rowid) FROM items)")
    with write_lock_held_elsewhere(data_dir):
        code, stats, shown_code, shown = _both(env)
    assert (code, shown_code) == (0, 0) and stats["writing"] is True and stats["needs_action"] is False
    assert shown.startswith("an ingest (or fetch) is writing to this index now")


@pytest.mark.parametrize("damage", ["deleted", "cut short", "an array cut short"])
def test_a_keyword_index_that_ask_refuses_exits_1_and_says_what_to_run(built, damage):
    data_dir, env = built
    entries = data_dir / "bm25" / "entries.jsonl"
    if damage == "deleted":
        shutil.rmtree(data_dir / "bm25")
    elif damage == "cut short":
        entries.write_bytes(entries.read_bytes()[:-40])
    else:
        array = data_dir / "bm25" / "data.csc.index.npy"
        array.write_bytes(array.read_bytes()[:-8])
    code, stats, shown_code, shown = _both(env)
    assert (code, shown_code) == (1, 1) and stats["needs_action"] is True
    assert "the keyword index" in shown and "Run `assistant ingest`" in shown
    assert run_cli("ask", "What was decided?", env=env).returncode == 2  # what the note warns of


@pytest.mark.parametrize("damage", ["cut short", "overwritten"])
def test_a_damaged_vector_store_database_exits_1_and_says_to_move_the_store_aside(built, damage):
    """`ask` and `ingest` failed on it while stats exited 0 with no note."""
    data_dir, env = built
    database = data_dir / "chroma" / "chroma.sqlite3"
    text = database.read_bytes()
    database.write_bytes(text[:len(text) // 2] if damage == "cut short" else b"\xff" * 4096 + text[4096:])
    code, stats, shown_code, shown = _both(env)
    assert (code, shown_code) == (1, 1) and stats["needs_action"] is True
    assert f"move {data_dir / 'chroma'} aside and run `assistant ingest`" in shown
    assert run_cli("ask", "What was decided?", env=env).returncode == 2  # what the note warns of


@pytest.mark.parametrize("damaged", ["data_level0.bin", "index_metadata.pickle"])
def test_vector_files_a_killed_run_cut_short_exit_1_and_say_to_run_ingest(built, damaged):
    """`ask` refused every question on them while stats exited 0 with no note."""
    data_dir, env = built
    [segment] = [folder for folder in (data_dir / "chroma").iterdir() if folder.is_dir()]
    (segment / damaged).write_bytes((segment / damaged).read_bytes()[:100 if damaged == "data_level0.bin" else 0])
    code, stats, shown_code, shown = _both(env)
    assert (code, shown_code) == (1, 1) and stats["needs_action"] is True
    assert "are cut short, as a run killed while it wrote them leaves them" in shown and "`assistant ingest`" in shown
    assert run_cli("ask", "What was decided?", env=env).returncode == 2  # what the note warns of
    assert run_cli("ingest", str(data_dir.parent / "minutes"), "--no-progress", env=env).returncode == 0
    assert _both(env)[0] == 0


def test_settings_that_point_away_from_the_index_s_vectors_are_said_in_ask_s_words(built):
    """CHROMA_HOST set for an index kept in its folder (or unset for one kept on a server): stats had said nothing, or
    that the local store was missing and every item was to be embedded again, where `ask` names the setting."""
    data_dir, env = built
    elsewhere = {**env, "CHROMA_HOST": "127.0.0.1", "CHROMA_PORT": "9"}
    result = run_cli("stats", env=elsewhere)
    assert result.returncode == 1 and "but CHROMA_HOST is set (127.0.0.1:9). Unset CHROMA_HOST" in result.stdout
    _set(data_dir, "UPDATE meta SET value = 'server 127.0.0.1:9' WHERE key = 'vectors_on'")
    shutil.rmtree(data_dir / "chroma")
    result = run_cli("stats", env=env)
    assert result.returncode == 1 and "on the Chroma server at 127.0.0.1:9, but CHROMA_HOST is not set" in result.stdout
    assert "is missing" not in result.stdout
