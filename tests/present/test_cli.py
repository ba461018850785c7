"""The `assistant` command as a user runs it."""

import json
import signal
import subprocess
import sys

import pytest

from cli_helpers import cli_env, run_cli
from conftest import CORPUS, ROOT


def test_help_lists_the_commands():
    result = run_cli("--help", env=cli_env(ROOT / ".unused"))
    assert result.returncode == 0
    for command in ("ingest", "ask", "stats"):
        assert command in result.stdout
    same = subprocess.run([sys.executable, "-m", "assistant", "ask", "--help"], capture_output=True, text=True)
    assert "--council" in same.stdout and "--since" in same.stdout and "--json" in same.stdout


def test_the_help_names_what_the_readme_says_is_taken(capsys):
    """`fetch --help` offered a council's slug or code, though its name is taken too ('Brighton and Hove'), and
    `brief --help` offered plain lines and JSONL, though a spreadsheet's CSV is taken too."""
    from assistant.present import cli

    for command, said in (("fetch", "slug, code or name"), ("brief", "CSV")):
        with pytest.raises(SystemExit):
            cli.main([command, "--help"])
        shown = " ".join(capsys.readouterr().out.split())
        assert said in shown, shown


def test_a_mistyped_command_or_flag_is_named_with_the_one_meant(capsys):
    """A mistyped flag of `ask` was refused under the usage of `assistant` alone, with no word of the flag meant, and
    --json's hint sent the user to `assistant --help`, which lists no flag of ask; a mistyped command was named
    among the eleven to choose from, unmatched."""
    from assistant.present import cli

    for argv, prog, said in (
            (["ask", "How many children?", "--councl", "Sefton"], "assistant ask", "did you mean --council?"),
            (["ingest", "corpus", "--no-pogress"], "assistant ingest", "did you mean --no-progress?"),
            (["injest", "corpus"], "assistant", "did you mean ingest?")):
        with pytest.raises(SystemExit) as stopped:
            cli.main(argv)
        err = capsys.readouterr().err
        assert stopped.value.code == 2 and said in err and f"usage: {prog} " in err, err
    with pytest.raises(SystemExit):
        cli.main(["ask", "How many children?", "--json", "--untill", "2020"])
    out, err = capsys.readouterr()
    assert json.loads(out) == {"error": "unrecognized arguments: --untill 2020 (did you mean --until?)",
                               "hint": "See `assistant ask --help`."}
    with pytest.raises(SystemExit):
        cli.main(["ask", "How many children?", "--frobnicate"])
    assert capsys.readouterr().err.endswith("unrecognized arguments: --frobnicate\n")  # nothing close: no guess


def test_asking_before_ingesting_says_what_to_do(tmp_path):
    result = run_cli("ask", "How many children?", env=cli_env(tmp_path / "nothing-here"))
    assert result.returncode == 2 and "Traceback" not in result.stderr
    # The hint names the folder: a bare `assistant ingest` would build the index in ./.assistant instead.
    assert f"Run `assistant ingest --index {tmp_path / 'nothing-here'} PATH` with your minutes first" in result.stderr
    assert f"`assistant fetch COUNCIL --index {tmp_path / 'nothing-here'}`" in result.stderr  # an officer's other way
    for command in (["stats"], ["eval", "--questions", str(tmp_path / "q.jsonl"), "--out", str(tmp_path / "out")]):
        if command[0] == "eval":
            (tmp_path / "q.jsonl").write_text('{"id": "1", "question": "How many children?", "kind": "numeric"}\n')
        result = run_cli(*command, env=cli_env(tmp_path / "nothing-here"))
        assert result.returncode == 2 and f"--index {tmp_path / 'nothing-here'}" in result.stderr, result.stderr


def test_with_json_an_error_is_one_json_object_on_standard_output_too(tmp_path):
    """A script reading `ask --json` had got nothing on standard output when the command failed."""
    result = run_cli("ask", "How many children?", "--json", env=cli_env(tmp_path / "nothing-here"))
    assert result.returncode == 2 and "error:" in result.stderr
    error = json.loads(result.stdout)
    assert set(error) == {"error", "hint"} and "assistant ingest" in error["hint"]
    plain = run_cli("ask", "How many children?", env=cli_env(tmp_path / "nothing-here"))
    assert plain.returncode == 2 and plain.stdout == ""


def test_a_missing_path_fails_with_a_clear_message(tmp_path):
    result = run_cli("ingest", str(tmp_path / "nope"), "--no-progress", env=cli_env(tmp_path / "i"))
    assert result.returncode == 1
    assert "no such file or folder" in result.stdout and "Traceback" not in result.stderr


def test_a_bad_setting_is_reported_not_raised(tmp_path):
    result = run_cli("stats", env=cli_env(tmp_path / "i", ASSISTANT_CHUNK_TOKENS="lots"))
    assert result.returncode == 2 and "ASSISTANT_CHUNK_TOKENS" in result.stderr and "Traceback" not in result.stderr


@pytest.mark.slow
def test_ingest_ask_and_stats_end_to_end(tmp_path):
    env = cli_env(tmp_path / "index", fake_embedder=False)
    first = run_cli("ingest", str(CORPUS), "--no-progress", "--json", env=env)
    assert first.returncode == 0, first.stderr
    summary = json.loads(first.stdout)
    assert summary["new"] == 5 and summary["failed"] == []
    again = json.loads(run_cli("ingest", str(CORPUS), "--no-progress", "--json", env=env).stdout)
    assert again["unchanged"] == 5 and again["tokens_embedded"] == 0 and again["chunks_added"] == 0

    stats = run_cli("stats", env=env)
    assert "5 items" in stats.stdout and "Sefton Council" in stats.stdout and "(undated)" in stats.stdout

    asked = run_cli("ask", "What percentage of reports were available 3 days before child protection conferences "
                    "in Sefton?", "--json", env=env)
    answer = json.loads(asked.stdout)
    assert "28.5%" in answer["answer"] and answer["citations"][0]["council"] == "Sefton Council"

    text = run_cli("ask", "How many children were discharged from care in 2018?", env=env).stdout
    assert "148" in text and "Sources:" in text and "[1]" in text and "Rotherham" in text

    refused = run_cli("ask", "How much did Bradford spend on agency staff in 2021/22?", env=env).stdout
    assert refused.startswith("The minutes in the index do not") and "Nearest items" in refused

    filtered = json.loads(run_cli("ask", "What was said about performance?", "--council", "Leeds", "--json",
                                  env=env).stdout)
    assert filtered["refusal_reason"] == "no_match_filters"

    bad = run_cli("ask", "   ", env=env)
    assert bad.returncode == 2 and "type a question" in bad.stdout

    bad_range = run_cli("ask", "Anything?", "--since", "2020-01-01", "--until", "2019-01-01", env=env)
    assert bad_range.returncode == 2 and "before it starts" in bad_range.stderr


def test_a_locked_database_is_told_apart_from_a_damaged_one(capsys):
    import sqlite3

    from chromadb.errors import InternalError

    from assistant.present import cli

    assert cli._database_problem(sqlite3.OperationalError("database is locked")) == "busy"
    assert cli._database_problem(sqlite3.DatabaseError("file is not a database")) == "damaged"
    assert cli._database_problem(InternalError("database disk image is malformed")) == "damaged"
    assert cli._database_problem(InternalError("Collection expecting embedding with dimension")) is None
    assert cli._database_problem(ValueError("malformed")) is None


def test_an_error_that_names_no_path_is_not_dressed_up_as_one(monkeypatch):
    from assistant.present import cli

    def no_network(args, settings):
        raise OSError(101, "Network is unreachable")

    monkeypatch.setattr(cli, "_stats", no_network)
    with pytest.raises(OSError, match="Network is unreachable"):
        cli.main(["stats"])


@pytest.mark.slow
def test_serving_on_a_port_another_program_holds_says_so(tmp_path):
    import socket

    from corpus_factory import write_markdown_corpus

    corpus = tmp_path / "minutes"
    write_markdown_corpus(corpus, 2)
    env = cli_env(tmp_path / "index", ASSISTANT_READER="fake:overlap")
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        result = run_cli("serve", "--corpus", str(corpus), "--port", str(port), env=env, timeout=300)
        # Named by the variable, the port is refused too: Gradio alone would have gone on to the next free one.
        by_variable = run_cli("serve", "--corpus", str(corpus), env={**env, "GRADIO_SERVER_PORT": str(port)},
                              timeout=300)
    for refused in (result, by_variable):
        assert refused.returncode == 2 and "Traceback" not in refused.stderr, refused.stderr
        assert f"error: Port {port} is already in use" in refused.stderr
        assert "--port or GRADIO_SERVER_PORT" in refused.stderr and "stop" in refused.stderr


def test_the_audit_table_keeps_each_answer_on_one_line_whatever_the_question_holds(tmp_path, capsys):
    from assistant.present import cli
    from assistant.present.audit import AuditLog
    from assistant.records import Answer

    log = AuditLog(tmp_path / "audit.sqlite")
    for question in ["Line one\nfake-id  2026-01-01 00:00  app   answered  extractive   forged row",
                     "Back to the start\rforged", "Red \x1b[31malert\x1b[0m and a bell\x07",
                     "A next line\x85and a separator\u2028too"]:
        log.record_answer(Answer(question, "The minutes do not say.", True, "not_stated", "extractive"), {}, "v1",
                          "app", user="alice")
    log.close()
    assert cli.main(["audit", "--index", str(tmp_path)]) == 0
    rows = capsys.readouterr().out.splitlines()
    assert len(rows) == 4 and not any(row.startswith("fake-id") for row in rows)
    assert all(" app   alice " in row for row in rows)  # who asked, in the table as in the exports
    assert all(ch.isprintable() for row in rows for ch in row)
    assert rows[0].endswith("Line one fake-id  2026-01-01 00:00  app   answered  extractive   forged row")
    assert rows[2].endswith("Red \\x1b[31malert\\x1b[0m and a bell\\x07")


def test_the_audit_table_written_to_a_file_ends_its_last_line(tmp_path, capsys):
    """`audit --out answers.txt` wrote the table with no line break after its last row, which standard output has:
    `wc -l` counted one row fewer, and `cat` ran the last into the prompt."""
    from assistant.present import cli
    from assistant.present.audit import AuditLog
    from assistant.records import Answer

    log = AuditLog(tmp_path / "index" / "audit.sqlite")
    log.record_answer(Answer("How many?", "The minutes do not say.", True, "not_stated", "extractive"), {}, "v1", "cli")
    log.close()
    out = tmp_path / "answers.txt"
    assert cli.main(["audit", "--index", str(tmp_path / "index"), "--out", str(out)]) == 0
    assert cli.main(["audit", "--index", str(tmp_path / "index")]) == 0
    written = out.read_text(encoding="utf-8")
    assert written.count("\n") == 1 and written.endswith("How many?\n"), repr(written)
    assert capsys.readouterr().out.endswith(written)  # as standard output shows it


@pytest.mark.parametrize("name, value, message", [
    ("GRADIO_SERVER_PORT", "ten", "GRADIO_SERVER_PORT must be a port number from 1 to 65535, not 'ten'"),
    ("GRADIO_SERVER_PORT", "0", "GRADIO_SERVER_PORT must be a port number from 1 to 65535, not '0'"),
    ("GRADIO_SERVER_PORT", "70000", "GRADIO_SERVER_PORT must be a port number from 1 to 65535, not '70000'"),
    ("GRADIO_SERVER_NAME", "not a host", "GRADIO_SERVER_NAME must be a host name or an IP address"),
    ("GRADIO_SERVER_NAME", "http://0.0.0.0", "GRADIO_SERVER_NAME must be a host name or an IP address"),
    ("GRADIO_SERVER_NAME", "192.0.2.1", "GRADIO_SERVER_NAME is '192.0.2.1', an address the app cannot listen on"),
])
def test_serve_refuses_a_gradio_setting_it_cannot_use_before_doing_anything(tmp_path, name, value, message):
    # Gradio reads these on import, with int() and no check, and takes an address it cannot bind for a port in use.
    result = run_cli("serve", "--corpus", str(tmp_path / "minutes"), env=cli_env(tmp_path / "index", **{name: value}))
    assert result.returncode == 2 and "Traceback" not in result.stderr, result.stderr
    assert f"error: {message}" in result.stderr and "how to fix" in result.stderr
    assert not (tmp_path / "index").exists()  # refused before the index was built


def test_a_gradio_port_given_by_flag_wins_over_a_bad_variable(tmp_path):
    result = run_cli("serve", "--no-corpus", "--port", "7861",
                     env=cli_env(tmp_path / "index", GRADIO_SERVER_PORT="ten"))
    assert result.returncode == 2 and "There is no index" in result.stderr and "GRADIO" not in result.stderr


@pytest.mark.parametrize("setting", [{"ASSISTANT_LLM": "gpt-4o-mini"}, {"ASSISTANT_LLM": "openai"}])
def test_a_malformed_answering_mode_is_refused_before_the_index_is_opened(tmp_path, setting):
    result = run_cli("ask", "How many children left care?", env=cli_env(tmp_path / "nothing-here", **setting))
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "ASSISTANT_LLM (or --llm) must be extractive, local, local:PATH or openai:MODEL" in result.stderr
    result = run_cli("ask", "How many children left care?", "--llm", "gpt-4o-mini", env=cli_env(tmp_path / "i"))
    assert result.returncode == 2 and "not 'gpt-4o-mini'" in result.stderr


def test_an_openai_address_without_a_scheme_is_refused_at_start(tmp_path):
    env = cli_env(tmp_path / "nothing-here", ASSISTANT_LLM="openai:llama3", OPENAI_BASE_URL="localhost:11434/v1")
    result = run_cli("ask", "How many children left care?", env=env)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "OPENAI_BASE_URL must be an http:// or https:// address, not 'localhost:11434/v1'" in result.stderr
    assert "OPENAI_BASE_URL=http://localhost:11434/v1" in result.stderr


def test_a_local_model_path_that_is_not_there_is_refused_at_start(tmp_path):
    # It was found only at the first question the reader would answer: a refused one was answered, and audited.
    for command in (["ask", "What did Rotherham say about the school bus contract?"], ["serve", "--no-corpus"]):
        result = run_cli(*command, "--llm", f"local:{tmp_path / 'no-such-model'}",
                         env=cli_env(tmp_path / "nothing-here"))
        assert result.returncode == 2 and "Traceback" not in result.stderr, result.stderr
        assert "is neither a Hugging Face model folder (with config.json) nor a .gguf file" in result.stderr


@pytest.mark.slow
def test_serve_says_where_it_listens_at_once_when_its_output_goes_to_a_file(tmp_path):
    """Empty Gradio variables are unset (Gradio's int("") used to fail on import), and the "Running on" line
    reaches a log file while the app runs, not when it stops."""
    import time

    from corpus_factory import write_markdown_corpus

    write_markdown_corpus(tmp_path / "minutes", 2)
    env = cli_env(tmp_path / "index", ASSISTANT_READER="fake:overlap", GRADIO_SERVER_PORT="", GRADIO_SERVER_NAME=" ")
    env.pop("PYTHONUNBUFFERED", None)  # as a user's shell has it: a file gets Python's output in blocks
    log = tmp_path / "serve.log"
    with log.open("w") as out:
        # Ctrl-C reaches it as at a terminal: a suite run in the background (nohup, a CI runner) ignores SIGINT, and
        # a child would inherit that.
        server = subprocess.Popen([sys.executable, "-m", "assistant", "serve", "--corpus", str(tmp_path / "minutes")],
                                  env=env, stdout=out, stderr=subprocess.STDOUT,
                                  preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    try:
        deadline = time.monotonic() + 120
        while "Running on" not in log.read_text() and server.poll() is None and time.monotonic() < deadline:
            time.sleep(0.3)
        running = server.poll() is None
        server.send_signal(signal.SIGINT)  # Ctrl-C
        stopped = server.wait(timeout=60)
    finally:
        if server.poll() is None:
            server.kill()
            server.wait(timeout=60)
    shown = log.read_text()
    assert running and "Running on local URL:  http://127.0.0.1:" in shown, shown
    assert "Open it in a web browser; Ctrl-C stops the app." in shown
    assert "Answering mode: extractive (verbatim quotes from the minutes, no language model)" in shown
    # The audit log is named, and said to be new: a mistyped ASSISTANT_AUDIT_PATH shows at start.
    assert f"Audit log: {tmp_path / 'index' / 'audit.sqlite'} (a new log: none was there)" in shown, shown
    # Gradio's suggestion of share=True would publish the app through a tunnel: not made.
    assert "share=True" not in shown and shown.count("ASSISTANT_AUTH is not set") == 1, shown
    assert stopped == 130 and "the app is closed" in shown, shown  # as every command stopped with Ctrl-C


@pytest.mark.slow
def test_serve_stopped_by_its_service_manager_exits_cleanly_and_leaves_no_exports_behind(tmp_path):
    """SIGTERM (systemd, docker stop) ended Python at once: nothing registered to run at exit ran, so the private
    folder of exported briefings stayed in the temporary folder."""
    import time

    from corpus_factory import write_markdown_corpus

    write_markdown_corpus(tmp_path / "minutes", 2)
    temporary = tmp_path / "tmp"
    temporary.mkdir()
    env = cli_env(tmp_path / "index", ASSISTANT_READER="fake:overlap", GRADIO_SERVER_PORT="", TMPDIR=str(temporary))
    env.pop("GRADIO_TEMP_DIR", None)
    log = tmp_path / "serve.log"
    with log.open("w") as out:
        server = subprocess.Popen([sys.executable, "-m", "assistant", "serve", "--corpus", str(tmp_path / "minutes")],
                                  env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 120
        while "Running on" not in log.read_text() and server.poll() is None and time.monotonic() < deadline:
            time.sleep(0.3)
        made = [p.name for p in temporary.iterdir() if p.name.startswith("minutes-assistant-app-")]
        server.terminate()  # SIGTERM
        stopped = server.wait(timeout=60)
    finally:
        if server.poll() is None:
            server.kill()
            server.wait(timeout=60)
    assert made, log.read_text()  # the private folder was there while it ran
    assert stopped == 0 and "stopped (SIGTERM): the app is closed" in log.read_text(), log.read_text()
    assert not [p for p in temporary.iterdir() if p.name.startswith("minutes-assistant-app-")]


def test_stats_given_a_file_for_the_index_says_so_and_what_to_give(tmp_path, capsys):
    from assistant.present import cli

    a_file = tmp_path / "questions.txt"
    a_file.write_text("How many children left care?\n")
    assert cli.main(["stats", "--index", str(a_file)]) == 2
    error = capsys.readouterr().err
    assert f"error: {a_file} is a file, not an index folder." in error and "no index" not in error
    assert "the folder `assistant ingest` wrote" in error


def test_no_audit_log_yet_names_where_it_is_kept(tmp_path):
    log = tmp_path / "logs" / "answers.sqlite"
    result = run_cli("audit", env=cli_env(tmp_path / "index", ASSISTANT_AUDIT_PATH=str(log)))
    assert result.returncode == 2 and f"No audit log at {log} yet." in result.stderr


def test_no_index_in_a_relative_folder_names_it_in_full(tmp_path, monkeypatch):
    """Run from another folder than the checkout, "There is no index in .assistant yet" did not say which
    .assistant was meant (./run.sh builds it in the checkout)."""
    from assistant.errors import no_index_yet

    monkeypatch.chdir(tmp_path)
    assert no_index_yet(".assistant").message == f"There is no index in .assistant ({tmp_path / '.assistant'}) yet."
    assert no_index_yet(tmp_path / "index").message == f"There is no index in {tmp_path / 'index'} yet."


def test_serve_with_no_index_says_to_build_it_in_the_folder_given(tmp_path):
    """serve's own copies of the message said `assistant ingest PATH`, which builds the index in ./.assistant, so
    the next `serve --index FOLDER` failed again."""
    folder = tmp_path / "council-index"
    for extra in (["--no-corpus"], ["--corpus", str(tmp_path / "no-minutes")]):
        result = run_cli("serve", "--index", str(folder), *extra, env=cli_env(tmp_path / "unused"))
        assert result.returncode == 2 and "Traceback" not in result.stderr, result.stderr
        assert f"There is no index in {folder} yet" in result.stderr
        assert f"assistant ingest --index {folder} PATH" in result.stderr, result.stderr
    assert f"and no {tmp_path / 'no-minutes'} folder to build it from." in result.stderr
    assert not folder.exists()


def test_a_misspelt_setting_is_warned_of_on_every_command(tmp_path):
    result = run_cli("stats", env=cli_env(tmp_path / "index", ASSISTANT_AUTHH="users.txt"))
    assert "warning: ASSISTANT_AUTHH is not a setting of the assistant, so it changes nothing: did you mean " \
           "ASSISTANT_AUTH?" in result.stderr


def test_user_remove_takes_a_user_out_of_the_users_file(tmp_path):
    users = tmp_path / "users.txt"
    for name in ("alice", "bob"):
        added = subprocess.run([sys.executable, "-m", "assistant", "user", "add", name, "--file", str(users)],
                               input="a long passphrase\n", capture_output=True, text=True,
                               env=cli_env(tmp_path / "index"), timeout=120)
        assert added.returncode == 0, added.stderr
    removed = run_cli("user", "remove", "bob", "--file", str(users), env=cli_env(tmp_path / "index"))
    assert removed.returncode == 0 and f"user bob removed from {users}" in removed.stdout
    assert [line.split(":")[0] for line in users.read_text().splitlines()] == ["alice"]
    # `user` offered --index, which changed nothing: the users file is not in the index.
    offered = run_cli("user", "remove", "alice", "--file", str(users), "--index", str(tmp_path / "index"),
                      env=cli_env(tmp_path / "index"))
    assert offered.returncode == 2 and "unrecognized arguments: --index" in offered.stderr
    assert "--index" not in run_cli("user", "--help", env=cli_env(tmp_path / "index")).stdout


def test_ask_turns_a_follow_up_with_no_topic_away_with_what_to_type(tmp_path):
    env = cli_env(tmp_path / "index", ASSISTANT_READER="fake:overlap")
    assert run_cli("ingest", str(CORPUS), "--no-progress", env=env).returncode == 0
    result = run_cli("ask", "What about 2019?", env=env)
    assert result.returncode == 2 and "Each question is answered on its own" in result.stderr
    assert 'Name the topic too, in quotes: assistant ask "How many children left care' in result.stderr
    small_talk = run_cli("ask", "Thanks!", env=env)
    assert small_talk.returncode == 2 and "Ask about the minutes in words" in small_talk.stderr


def test_a_full_disk_while_the_keyword_index_is_written_is_a_message_naming_it(tmp_path, capsys, monkeypatch):
    """numpy's write failed naming no file, and `ingest` ended in a traceback."""
    import errno

    import numpy as np

    from assistant.present import cli

    for name, value in cli_env(tmp_path / "index").items():
        if name.startswith("ASSISTANT_"):
            monkeypatch.setenv(name, value)

    def no_space(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")
    monkeypatch.setattr(np, "save", no_space)
    assert cli.main(["ingest", str(CORPUS), "--no-progress"]) == 2
    error = capsys.readouterr().err
    assert f"Could not read or write {tmp_path / 'index' / 'bm25'}: No space left on device" in error, error
    assert "the disk may be full" in error
    assert not [p for p in (tmp_path / "index").iterdir() if p.name.startswith("bm25.tmp")]


def test_stats_shows_a_council_or_committee_holding_terminal_escapes_escaped(tmp_path):
    """From the security review: a JSONL line (or front matter) may name its council or committee with control
    characters ("\\x1b[31m", an OSC title change), which `ingest` keeps; `stats` printed them raw, so the minutes drove
    the terminal of whoever ran it."""
    minutes = tmp_path / "minutes.jsonl"
    minutes.write_text(json.dumps({"id": "esc-1", "council": "Esc \x1b[31mRed\x1b[0m Council",
                                   "committee": "Panel \x1b]0;OWNED\x07 Committee", "title": "Adoption",
                                   "date": "2024-02-02", "text": "The number of adoptions in 2024 was 31."}) + "\n",
                       encoding="utf-8")
    env = cli_env(tmp_path / "index")
    assert run_cli("ingest", str(minutes), "--no-progress", env=env).returncode == 0
    result = run_cli("stats", env=env)
    assert result.returncode == 0, result.stderr
    assert "\x1b" not in result.stdout and "\x07" not in result.stdout
    assert "Esc \\x1b[31mRed\\x1b[0m Council" in result.stdout and "Panel \\x1b]0;OWNED\\x07 Committee" in result.stdout


def test_ingest_s_notes_show_a_file_name_holding_terminal_escapes_escaped(tmp_path):
    """From the security review: the failed and skipped lines of the summary escaped a file's name, but its notes
    (files with no committee or no meeting date, among others) printed it raw, so a file named with a terminal's
    escape codes drove the terminal of whoever ran `ingest` (or `serve`, which prints the same summary)."""
    minutes = tmp_path / "minutes"
    minutes.mkdir()
    (minutes / "care \x1b[31mleavers\x1b]0;OWNED\x07.txt").write_text(
        "Care leavers\n\nThe number of care leavers in education in 2024 was 140 young people.\n", encoding="utf-8")
    result = run_cli("ingest", str(minutes), "--no-progress", env=cli_env(tmp_path / "index"))
    assert result.returncode == 0, result.stderr
    assert "no council or committee" in result.stdout and "no meeting date" in result.stdout, result.stdout
    assert "\x1b" not in result.stdout and "\x07" not in result.stdout
    assert "care \\x1b[31mleavers\\x1b]0;OWNED\\x07.txt" in result.stdout


def test_fetch_s_summary_shows_a_site_s_names_holding_terminal_escapes_escaped():
    """From the security review: the ingest summary now escapes what the minutes name, but fetch's own summary printed
    its notes (which name the site's meetings, files and councils) raw."""
    import datetime as dt

    from assistant.ingest.moderngov.fetch import FetchSummary
    from assistant.present.cli import _fetch_report

    summary = FetchSummary("Esc \x1b[31mRed\x1b[0m Council", "https://example.gov.uk", dt.date(2024, 1, 1),
                           dt.date(2024, 12, 31), notes=["a meeting of the Panel \x1b]0;OWNED\x07 was cancelled"])
    report = _fetch_report(summary)
    assert "\x1b" not in report and "\x07" not in report
    assert "Esc \\x1b[31mRed\\x1b[0m Council" in report and "Panel \\x1b]0;OWNED\\x07 was" in report
