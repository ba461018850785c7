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
