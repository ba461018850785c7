"""What the app's ordinary log and the audit command give away about a question, from a data protection officer's
review: a question may name a child, and the log and the shell are read by more people than the audit log is."""

from __future__ import annotations

import hashlib
import io
import json
import subprocess
import sys

import pytest

from assistant.present import cli
from assistant.present.audit import AuditLog
from assistant.text import question_in_log
from test_audit_mentioning import _log_naming_a_child
from test_audit_review import _bytes_of_log

CHILD = "Where was Jayden O'Brien placed in 2019?"


def test_a_question_in_the_log_cannot_be_confirmed_by_hashing_a_guess():
    # 'question 3f2a9c1b' was the first 8 hex digits of the question's sha256: whoever reads the log could hash a
    # question naming a child they guess at, and find it there.
    tag = question_in_log(CHILD)
    assert hashlib.sha256(CHILD.encode("utf-8")).hexdigest()[:8] not in tag
    assert tag == question_in_log(CHILD) != question_in_log(CHILD + " ")  # lines about one question still correlate
    assert CHILD not in tag and f"({len(CHILD)} characters)" in tag


def test_the_key_is_the_process_own():
    # Nor may a tag be worked out by running the assistant elsewhere: each process keys its tags afresh.
    code = f"from assistant.text import question_in_log; print(question_in_log({CHILD!r}))"
    tags = {subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
            for _ in range(2)}
    assert len(tags) == 2


class _Typed(io.StringIO):
    """A terminal's standard input, where the member types the words at a prompt."""

    def isatty(self) -> bool:
        return True


def test_words_to_erase_can_be_given_on_standard_input_and_kept_out_of_history(tmp_path, capsys, monkeypatch):
    # `--erase-mentioning "Jayden O'Brien"` put the child's name in the shell's history and in `ps` for as long as it
    # ran. Given without words (or with -), they are read from standard input: a file, a pipe, or a prompt.
    ids = _log_naming_a_child(tmp_path / "index")
    index = str(tmp_path / "index")
    monkeypatch.setattr(sys, "stdin", io.StringIO("Jayden O'Brien\n"))
    assert cli.main(["audit", "--index", index, "--mentioning", "--format", "jsonl"]) == 0
    listed = [json.loads(line)["answer_id"] for line in capsys.readouterr().out.splitlines()]
    assert listed == [ids[key] for key in ("asked", "typed", "quoted", "other")]

    # At a terminal they are typed at a prompt that does not show them (a code review: echoed, they stayed in its
    # scrollback), as a password is typed.
    import getpass

    prompted = []

    def typed_unseen(prompt: str, stream=None) -> str:
        prompted.append((prompt, stream))
        return "Jayden O'Brien"

    monkeypatch.setattr(getpass, "getpass", typed_unseen)
    monkeypatch.setattr(sys, "stdin", _Typed(""))
    assert cli.main(["audit", "--index", index, "--erase-mentioning"]) == 1
    said = capsys.readouterr()
    assert "Would erase 3 answers and 2 pieces of feedback mentioning the words given" in said.out, said
    assert prompted == [("Words to look for (a name, say; not shown as you type), then Enter: ", sys.stderr)]
    # Nor are they printed back, for a terminal's scrollback or a scheduler's mail to keep.
    assert "Jayden" not in said.out + said.err

    monkeypatch.setattr(sys, "stdin", io.StringIO("\ufeffJayden O'Brien\r\n\n"))
    assert cli.main(["audit", "--index", index, "--erase-mentioning", "-", "--yes"]) == 0
    out = capsys.readouterr().out
    assert "Erased 3 answers and 2 pieces of feedback mentioning the words given" in out and "Jayden" not in out
    assert b"Jayden" not in _bytes_of_log(tmp_path / "index")


@pytest.mark.parametrize("given, said", [
    ("", "--erase-mentioning needs the words to look for"),
    ("Jayden O'Brien\nAmy Smith\n", "--erase-mentioning reads one line of words from standard input; it was given 2"),
])
def test_words_on_standard_input_that_cannot_be_used_erase_nothing(tmp_path, capsys, monkeypatch, given, said):
    _log_naming_a_child(tmp_path / "index")
    monkeypatch.setattr(sys, "stdin", io.StringIO(given))
    assert cli.main(["audit", "--index", str(tmp_path / "index"), "--erase-mentioning", "--yes"]) == 2
    err = capsys.readouterr().err
    assert said in err and "O'Brien" not in err
    log = AuditLog(tmp_path / "index" / "audit.sqlite", read_only=True)
    try:
        assert len(list(log.entries())) == 4 and not log.erasures()
    finally:
        log.close()


def test_the_help_says_how_to_keep_the_words_off_the_command_line(capsys):
    with pytest.raises(SystemExit):
        cli.main(["audit", "--help"])
    assert "standard input" in " ".join(capsys.readouterr().out.split())


@pytest.mark.parametrize("chosen", [True, False])
def test_briefings_a_killed_app_left_are_removed_at_the_next_start_once_their_hour_is_up(tmp_path, monkeypatch,
                                                                                         chosen):
    # A killed app (SIGKILL, out of memory, power lost) runs no exit handler: the briefings it exported, which hold
    # members' questions and quotes, stayed in its private folder for good, beyond every retention period, where
    # `assistant audit --erase-*` does not reach. The next start removes those over the hour every export is kept.
    import os
    import tempfile
    import time

    from assistant.present import app

    if chosen:
        monkeypatch.setenv("GRADIO_TEMP_DIR", str(tmp_path / "gradio"))
        left = tmp_path / "gradio" / "briefings-killed"
    else:
        monkeypatch.delenv("GRADIO_TEMP_DIR", raising=False)
        monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
        left = tmp_path / "minutes-assistant-app-killed" / "briefings"
    old, recent = left / "old", left / "recent"
    for export in (old, recent):
        export.mkdir(parents=True)
        (export / "Briefing-from-committee-minutes-2026-01-01.md").write_text("Where was Jayden O'Brien placed?")
    long_ago = time.time() - app.EXPORTS_KEPT_SECONDS - 60
    os.utime(old, (long_ago, long_ago))
    made = app.private_files_folder()
    assert made.is_dir() and made != left
    assert not old.exists() and recent.exists(), "an export still within its hour may be another app's, downloading"


def test_the_start_removes_nothing_through_a_folder_another_account_linked_into_the_temporary_folder(tmp_path,
                                                                                                       monkeypatch):
    # The system's temporary folder is every account's to write in: a link named like an app's private folder
    # ('minutes-assistant-app-x' leading to a member's documents) had the start remove what lay in its 'briefings'.
    import os
    import tempfile
    import time

    from assistant.present import app

    monkeypatch.delenv("GRADIO_TEMP_DIR", raising=False)
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "tmp"))
    kept = tmp_path / "documents" / "briefings" / "2025 committee papers"
    kept.mkdir(parents=True)
    long_ago = time.time() - app.EXPORTS_KEPT_SECONDS - 60
    os.utime(kept, (long_ago, long_ago))
    (tmp_path / "tmp").mkdir()
    (tmp_path / "tmp" / "minutes-assistant-app-planted").symlink_to(tmp_path / "documents")
    app.private_files_folder()
    assert kept.is_dir()
