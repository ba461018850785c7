"""Files written whole or not at all: user lists, model records, fusion weights, caches, briefings, reports."""

import os
import signal
import stat
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from conftest import ROOT

from assistant.files import write_atomically


def test_text_is_written_as_utf8_and_bytes_as_given(tmp_path):
    write_atomically(tmp_path / "a.md", "Café – £5\n")
    write_atomically(tmp_path / "b.bin", b"\x00\xff")
    assert (tmp_path / "a.md").read_bytes() == "Café – £5\n".encode("utf-8")
    assert (tmp_path / "b.bin").read_bytes() == b"\x00\xff"


def test_a_new_folder_is_made_and_an_old_file_replaced(tmp_path):
    target = tmp_path / "new" / "folder" / "metrics.json"
    write_atomically(target, "old")
    assert write_atomically(target, "new") == target
    assert target.read_text() == "new"
    assert sorted(p.name for p in target.parent.iterdir()) == ["metrics.json"]


def test_mode_keeps_a_secret_to_its_owner_and_the_default_follows_the_umask(tmp_path):
    write_atomically(tmp_path / "users", "x", mode=0o600)
    assert stat.S_IMODE((tmp_path / "users").stat().st_mode) == 0o600
    umask = os.umask(0o022)
    try:
        write_atomically(tmp_path / "report.md", "x")
    finally:
        os.umask(umask)
    assert stat.S_IMODE((tmp_path / "report.md").stat().st_mode) == 0o644


def test_a_folder_in_the_way_is_named_and_left_alone(tmp_path):
    target = tmp_path / "taken"
    target.mkdir()
    (target / "inside").write_text("kept")
    with pytest.raises(IsADirectoryError) as caught:
        write_atomically(target, "text")
    assert caught.value.filename == str(target)
    assert (target / "inside").read_text() == "kept"
    assert [p.name for p in tmp_path.iterdir()] == ["taken"]


def test_a_failed_rename_leaves_the_old_file_and_no_staging_file(tmp_path, monkeypatch):
    from assistant import files

    target = write_atomically(tmp_path / "metrics.json", "old")

    def refuse(source, destination):
        raise PermissionError(13, "Permission denied", str(destination))

    monkeypatch.setattr(files.os, "replace", refuse)
    with pytest.raises(PermissionError):
        write_atomically(target, "new")
    assert target.read_text() == "old" and [p.name for p in tmp_path.iterdir()] == ["metrics.json"]


def test_a_writer_killed_before_its_rename_leaves_the_old_file_whole(tmp_path):
    target = tmp_path / "fusion.json"
    write_atomically(target, "the old weights")
    # The child dies by SIGKILL at the last moment it could: its staging file fully written, the rename not done.
    child = (
        "import os, signal, sys\n"
        "from pathlib import Path\n"
        "from assistant import files\n"
        "files.os.replace = lambda *a: os.kill(os.getpid(), signal.SIGKILL)\n"
        "files.write_atomically(Path(sys.argv[1]), 'x' * 5_000_000)\n"
    )
    run = subprocess.run([sys.executable, "-c", child, str(target)], cwd=ROOT, timeout=60)
    assert run.returncode == -signal.SIGKILL
    assert target.read_text() == "the old weights"
    write_atomically(target, "the new weights")  # the killed writer's leftover is no obstacle
    assert target.read_text() == "the new weights"


def test_writers_at_once_each_leave_a_whole_file(tmp_path):
    target = tmp_path / "calibration.json"
    payloads = [str(n) * 200_000 for n in range(8)]
    failures = []

    def write(payload):
        try:
            write_atomically(target, payload)
        except Exception as exc:  # a thread's exception is otherwise printed and lost
            failures.append(exc)

    threads = [threading.Thread(target=write, args=(p,)) for p in payloads]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == [] and target.read_text() in payloads
    assert [p.name for p in tmp_path.iterdir()] == ["calibration.json"]


def test_a_symlink_is_written_through_and_a_device_written_to(tmp_path):
    real = write_atomically(tmp_path / "real.md", "old")
    link = tmp_path / "link.md"
    link.symlink_to(real)
    write_atomically(link, "new")
    assert link.is_symlink() and real.read_text() == "new"
    assert write_atomically(Path(os.devnull), "discarded") == Path(os.devnull)
    assert Path(os.devnull).exists() and not Path(os.devnull).is_file()  # still the device


def test_a_byte_order_mark_is_not_read_as_part_of_the_text(tmp_path):
    from assistant.files import read_utf8

    saved_by_notepad = tmp_path / "questions.txt"
    saved_by_notepad.write_bytes("\ufeffHow many children left care?\n".encode("utf-8"))
    assert read_utf8(saved_by_notepad, "the questions file") == "How many children left care?\n"


def test_a_write_that_fails_names_the_file_asked_for_not_the_staging_file(tmp_path, monkeypatch):
    from assistant import files

    def no_space(*args, **kwargs):
        raise OSError(28, "No space left on device", args[0])

    monkeypatch.setattr(files.os, "open", no_space)  # the staging file cannot be made
    with pytest.raises(OSError) as caught:
        write_atomically(tmp_path / "briefing.md", "text")
    assert caught.value.filename == str(tmp_path / "briefing.md") and caught.value.errno == 28
    assert list(tmp_path.iterdir()) == []


def test_the_place_to_write_is_checked_beforehand_with_the_path_given_and_nothing_left(tmp_path):
    from assistant.errors import AssistantError
    from assistant.files import check_writable

    check_writable(tmp_path / "new" / "briefing.md", "the briefing")
    assert [p.name for p in tmp_path.rglob("*")] == ["new"]  # the folder is made, as the write would; no file
    a_file = tmp_path / "a-file"
    a_file.write_text("kept")
    for target, reason in [(tmp_path, "Is a directory"), (a_file / "briefing.md", f"{a_file} is a file, not a folder"),
                           (a_file / "deeper" / "briefing.md", f"{a_file} is a file, not a folder")]:
        with pytest.raises(AssistantError) as caught:
            check_writable(target, "the briefing")
        assert caught.value.message == f"Cannot write the briefing to {target}: {reason}."
        assert "folder you may write to" in caught.value.hint
    if Path("/proc/self").is_dir():  # a folder no one may make files in, whatever the permissions say (even root)
        with pytest.raises(AssistantError, match=r"Cannot write the briefing to /proc/briefing\.md: ") as caught:
            check_writable(Path("/proc/briefing.md"), "the briefing")
        assert ".tmp" not in caught.value.message
