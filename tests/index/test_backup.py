"""`assistant backup`: a checked copy of the index folder, made while the app may go on recording answers, that
answers as the index did once put in its place; refused while a writer is at work, and never left half made."""

from __future__ import annotations

import errno
import json
import shutil
import sqlite3
import stat
import struct
import threading

import pytest

from assistant.errors import AssistantError
from assistant.index.backup import OUTSIDE_AUDIT_NAME, back_up
from cli_helpers import cli_env, run_cli
from conftest import CORPUS

QUESTION = "How many children were discharged from care in Rotherham in 2018?"


def answers_in(log) -> int:
    connection = sqlite3.connect(log)
    try:
        return connection.execute("SELECT COUNT(*) FROM answers").fetchone()[0]
    finally:
        connection.close()


def asked(env) -> dict:
    result = run_cli("ask", QUESTION, "--json", env=env)
    assert result.returncode == 0, result.stderr
    answer = json.loads(result.stdout)
    return {key: answer[key] for key in ("answer", "refused", "citations", "short_answer")}


@pytest.fixture
def index(tmp_path):
    """An index of corpus/ built by the CLI, with one answer in its audit log."""
    env = cli_env(tmp_path / "index", ASSISTANT_READER="fake:overlap")
    assert run_cli("ingest", str(CORPUS), "--no-progress", env=env).returncode == 0
    return env


def test_a_backup_put_in_place_answers_as_the_index_did_and_embeds_nothing_again(index, tmp_path):
    before = asked(index)
    copy = tmp_path / "backups" / "2026-12-05"
    result = run_cli("backup", str(copy), env=index)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"Backed up the index in {index['ASSISTANT_DATA_DIR']} to {copy}: 5 items, ")
    assert "1 answer in the audit log; every database checked" in result.stdout and "To put it back:" in result.stdout
    assert not [p for p in copy.parent.iterdir() if p.name.startswith(".")]  # no staging folder left
    assert not (copy / "ingest.lock").exists() and not list(copy.glob("*-wal"))
    # The audit log keeps its owner-only mode in the copy.
    assert stat.S_IMODE((copy / "audit.sqlite").stat().st_mode) == 0o600

    restored = {**index, "ASSISTANT_DATA_DIR": str(copy)}
    assert asked(restored) == before
    assert answers_in(copy / "audit.sqlite") == 2  # the one copied, and the one just asked of the copy
    again = run_cli("ingest", str(CORPUS), "--no-progress", env=restored)
    assert again.returncode == 0 and "unchanged 5" in again.stdout and "0 tokens embedded" in again.stdout, \
        again.stdout


def test_answers_recorded_while_the_backup_copies_leave_it_whole(index, tmp_path):
    from assistant.answer.service import Assistant
    from assistant.present.audit import AnswerRecorder
    from assistant.settings import Settings

    settings = Settings.from_env(index)
    assistant = Assistant(settings)
    recorder = AnswerRecorder(assistant)
    answer = assistant.ask(QUESTION)
    stop, recorded = threading.Event(), []

    def keep_recording() -> None:
        while not stop.is_set():
            recorded.append(recorder.record(answer, channel="app"))

    writer = threading.Thread(target=keep_recording)
    writer.start()
    try:
        while len(recorded) < 20:
            pass
        summary = back_up(settings, tmp_path / "copy")
    finally:
        stop.set()
        writer.join()
        recorder.close()
        assistant.close()
    copied = answers_in(tmp_path / "copy" / "audit.sqlite")
    assert 20 <= copied <= len(recorded) + 1 and summary.answers == copied


def test_a_backup_put_back_under_a_running_app_takes_the_answers_given_after(index, tmp_path):
    """Put back without stopping the app, the app answered from the restored index, but recorded every answer in the
    log it had opened, moved aside with the old folder, and left an empty file where `assistant audit` looks."""
    from assistant.answer.service import Assistant
    from assistant.present.audit import AnswerRecorder
    from assistant.settings import Settings

    settings = Settings.from_env(index)
    assistant = Assistant(settings)
    recorder = AnswerRecorder(assistant)
    try:
        answer = assistant.ask(QUESTION)
        recorder.record(answer, channel="app")
        back_up(settings, tmp_path / "copy")
        recorder.record(answer, channel="app")  # undone by putting the backup back
        settings.data_dir.rename(tmp_path / "aside")
        (tmp_path / "copy").rename(settings.data_dir)
        answer_id = recorder.new_id()
        recorder.check_writable()
        recorder.record(answer, channel="app", answer_id=answer_id)
    finally:
        recorder.close()
        assistant.close()
    assert answers_in(settings.audit_path) == 2  # the one backed up, and the one given since it was put back
    assert answers_in(tmp_path / "aside" / "audit.sqlite") == 2
    assert stat.S_IMODE(settings.audit_path.stat().st_mode) == 0o600


def test_an_index_folder_deleted_under_a_running_app_is_not_made_again_for_its_audit_log(index):
    """The folder deleted to empty the index (as the README says), a member's feedback, or a briefing's check of its
    answers' records, made the folder again, holding a new audit log alone: a backup then moved into its place went
    inside it instead, and the app went on refusing every question."""
    from assistant.answer.service import Assistant
    from assistant.present.audit import AnswerRecorder
    from assistant.settings import Settings

    settings = Settings.from_env(index)
    assistant = Assistant(settings)
    recorder = AnswerRecorder(assistant)
    try:
        answer_id = recorder.record(assistant.ask(QUESTION), channel="app")
        shutil.rmtree(settings.data_dir)
        with pytest.raises(AssistantError, match="no longer there"):
            recorder.log.record_feedback(answer_id, "helpful", "")
    finally:
        recorder.close()
        assistant.close()
    assert not settings.data_dir.exists()


def test_a_backup_is_refused_while_a_writer_is_at_work_and_a_writer_while_a_backup_copies(index, tmp_path,
                                                                                          monkeypatch):
    from assistant.index import backup
    from assistant.index.write_lock import writing_index
    from assistant.settings import Settings

    settings = Settings.from_env(index)
    with writing_index(settings):
        refused = run_cli("backup", str(tmp_path / "copy"), env=index)
    assert refused.returncode == 2 and "An ingest or fetch is writing to" in refused.stderr
    assert not (tmp_path / "copy").exists()

    held = []

    def copy_slowly(source, staging):
        held.append(run_cli("ingest", str(CORPUS), "--no-progress", env=index))
        return original(source, staging)

    original = backup._copy_folder
    monkeypatch.setattr(backup, "_copy_folder", copy_slowly)
    back_up(settings, tmp_path / "copy")
    assert held[0].returncode == 2 and "or a backup is copying it, so this run changed nothing" in held[0].stderr


@pytest.mark.parametrize("where", ["exists", "inside", "holds"])
def test_a_destination_that_would_overwrite_or_nest_is_refused(index, tmp_path, where):
    data = tmp_path / "index"
    destination = {"exists": tmp_path / "taken", "inside": data / "backup", "holds": tmp_path}[where]
    if where == "exists":
        destination.mkdir()
        (destination / "notes.txt").write_text("mine")
    result = run_cli("backup", str(destination), env=index)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    # It had said "taken exists: a backup is written to a new folder", though an empty folder (a disk mounted there)
    # is taken: what is refused is a folder that holds files.
    said = ("taken holds files: a backup is written to a new or empty folder" if where == "exists"
            else "one inside the other")
    assert said in result.stderr, result.stderr
    assert not (data / "backup").exists()
    if where == "exists":
        assert [p.name for p in destination.iterdir()] == ["notes.txt"]


def test_no_index_and_an_index_on_a_chroma_server_are_refused(tmp_path):
    from assistant.settings import Settings

    result = run_cli("backup", str(tmp_path / "copy"), env=cli_env(tmp_path / "nothing"))
    assert result.returncode == 2 and "There is no index in" in result.stderr
    on_server = Settings.from_env({"CHROMA_HOST": "127.0.0.1", "CHROMA_PORT": "9"}, data_dir=tmp_path / "index")
    on_server.manifest_path.parent.mkdir(parents=True)
    on_server.manifest_path.write_bytes(b"")
    with pytest.raises(AssistantError, match="are on the Chroma server at 127.0.0.1:9") as refused:
        back_up(on_server, tmp_path / "copy")
    assert "chroma run" in refused.value.hint and not (tmp_path / "copy").exists()


def test_a_full_disk_or_ctrl_c_midway_leaves_nothing_and_says_so(index, tmp_path, monkeypatch):
    from assistant.index import backup
    from assistant.settings import Settings

    settings = Settings.from_env(index)
    copied = []

    def fail_after_two(path, copy):
        if len(copied) == 2:
            raise failure
        copied.append(path)
        return real(path, copy)

    real = backup._copy_file
    monkeypatch.setattr(backup, "_copy_file", fail_after_two)
    for failure in (OSError(errno.ENOSPC, "No space left on device"), KeyboardInterrupt()):
        copied.clear()
        if isinstance(failure, KeyboardInterrupt):
            with pytest.raises(KeyboardInterrupt):
                back_up(settings, tmp_path / "copy")
        else:
            with pytest.raises(AssistantError, match="is full: no backup was made"):
                back_up(settings, tmp_path / "copy")
        assert list(tmp_path.iterdir()) == [tmp_path / "index"], list(tmp_path.iterdir())


def test_an_audit_log_kept_outside_the_folder_and_an_owed_purge_are_said(tmp_path):
    from assistant.index.manifest import Manifest
    from assistant.index.purge import owe_purge

    log = tmp_path / "logs" / "audit.sqlite"
    env = cli_env(tmp_path / "index", ASSISTANT_READER="fake:overlap", ASSISTANT_AUDIT_PATH=str(log))
    assert run_cli("ingest", str(CORPUS), "--no-progress", env=env).returncode == 0
    asked(env)
    manifest = Manifest(tmp_path / "index" / "manifest.sqlite")
    owe_purge(manifest)
    manifest.close()
    result = run_cli("backup", str(tmp_path / "copy"), env=env)
    assert result.returncode == 0, result.stderr
    assert f"the audit log {log} (ASSISTANT_AUDIT_PATH) is kept outside the index folder" in result.stdout
    assert answers_in(tmp_path / "copy" / OUTSIDE_AUDIT_NAME) == 1 and "1 answer in the audit log" in result.stdout
    assert "may still be readable in this copy" in result.stdout


def test_links_in_the_index_folder_are_copied_as_what_they_name_and_an_empty_destination_is_filled(index, tmp_path):
    """A linked manifest was copied as a link to the live file (reported checked), a linked chroma/ folder was left
    out, a linked audit log ended in a traceback; an empty destination (a disk mounted there) was replaced by a copy
    staged on the disk above it."""
    data = tmp_path / "index"
    before = asked(index)  # which makes the audit log
    elsewhere = tmp_path / "bigdisk"
    elsewhere.mkdir()
    for part in ("chroma", "manifest.sqlite", "audit.sqlite"):
        (data / part).rename(elsewhere / part)
        (data / part).symlink_to(elsewhere / part)
    (data / "ingest.lock").unlink()
    destination = tmp_path / "mounted"
    destination.mkdir()
    result = run_cli("backup", str(destination), env=index)
    assert result.returncode == 0, result.stderr
    assert not any(p.is_symlink() for p in destination.rglob("*")) and (destination / "chroma").is_dir()
    assert sorted(p.name for p in destination.iterdir()) == ["audit.sqlite", "bm25", "chroma", "manifest.sqlite"]
    assert asked({**index, "ASSISTANT_DATA_DIR": str(destination)}) == before
    # The lock the backup made is one the index's owner may take, whoever ran the backup.
    assert stat.S_IMODE((data / "ingest.lock").stat().st_mode) == 0o666


def test_a_backup_says_what_putting_it_back_undoes_and_when_an_unfinished_ingest_leaves_it_unable_to_answer(
        index, tmp_path):
    """From an operator's review: a restore put a takedown back in and took the answers audited since out of the
    log, and nothing said so where the restore is explained; and a copy taken after a killed ingest, which cannot
    answer, was reported as any other."""
    import signal

    from corpus_factory import write_markdown_corpus

    asked(index)  # an answer in the folder's audit log
    result = run_cli("backup", str(tmp_path / "first"), env=index)
    assert result.returncode == 0, result.stderr
    assert "That undoes what was done since: an item withheld since is let in again" in result.stdout
    assert "answers audited since leave it, and records erased since come back" in result.stdout
    assert "left unfinished" not in result.stdout
    outside = {**index, "ASSISTANT_AUDIT_PATH": str(tmp_path / "elsewhere" / "audit.sqlite")}
    result = run_cli("backup", str(tmp_path / "log-elsewhere"), env=outside)
    assert "let in again (compare" in result.stdout and "records erased since" not in result.stdout

    more = tmp_path / "more"
    write_markdown_corpus(more, 20)
    killed = run_cli("ingest", str(more), "--no-progress",
                     env={**index, "ASSISTANT_EMBED_BATCH": "8", "ASSISTANT_CRASH_AT": "after_chroma_write:2"})
    assert killed.returncode == -signal.SIGKILL
    result = run_cli("backup", str(tmp_path / "second"), env=index)
    assert result.returncode == 0, result.stderr
    assert "an ingest or fetch left unfinished (killed, or stopped by a full disk): if asking the index says" in \
        result.stdout


def test_a_store_whose_vector_file_was_cut_short_is_not_backed_up_as_checked(index, tmp_path):
    """One vector read had passed a copy whose vectors' file had lost its second half: it answered no question."""
    data_dir = tmp_path / "index"
    [vectors] = data_dir.glob("chroma/*/data_level0.bin")
    # hnswlib's header (as test_vector_slots reads it): its version, then the vectors held and each one's size.
    _, _, _, held, size = struct.unpack_from("<iQQQQ", (vectors.parent / "header.bin").read_bytes())
    vectors.write_bytes(vectors.read_bytes()[:held // 2 * size])  # the first vector whole, the last gone
    copy = tmp_path / "copy"
    result = run_cli("backup", str(copy), env=index)
    assert result.returncode == 2 and "Traceback" not in result.stderr, result.stderr
    assert "The copy of the vector store cannot be read" in result.stderr and "Run `assistant ingest`" in result.stderr
    assert not copy.exists() and not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


def test_a_copy_whose_keyword_index_ask_would_refuse_says_so(index, tmp_path):
    """A keyword index deleted or cut short had been copied without a word, the copy reported as any other."""
    sound = run_cli("backup", str(tmp_path / "sound"), env=index)
    assert sound.returncode == 0 and "keyword index" not in sound.stdout, sound.stderr
    shutil.rmtree(tmp_path / "index" / "bm25")
    result = run_cli("backup", str(tmp_path / "copy"), env=index)
    assert result.returncode == 0, result.stderr
    assert "note: the index's keyword index (bm25/) does not hold what its manifest lists" in result.stdout
    assert run_cli("ask", QUESTION, env={**index, "ASSISTANT_DATA_DIR": str(tmp_path / "copy")}).returncode == 2


def test_what_a_killed_backup_left_is_removed_by_the_next_one_into_the_same_place(index, tmp_path):
    """A backup killed part way left its unfinished copy (the minutes' text in it) for good, and one left inside an
    empty folder (a disk mounted there) had every later backup into it refused, as into a folder holding files."""
    import subprocess
    import sys

    ended = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    dead = int(ended.stdout)
    disk, named = tmp_path / "disk", tmp_path / "backups" / "monday"
    for left in (disk / f".partial-{dead}", named.parent / f".monday.partial-{dead}",
                 disk / ".partial-99999999999999999999"):  # no process has such an id: os.kill overflows
        (left / "bm25").mkdir(parents=True)
        (left / "manifest.sqlite").write_bytes(b"half a copy")
    for destination, left, copies in ((disk, disk / f".partial-{dead}", "2 unfinished copies"),
                                      (named, named.parent / f".monday.partial-{dead}", "1 unfinished copy")):
        result = run_cli("backup", str(destination), env=index)
        assert result.returncode == 0, result.stderr
        assert f"{copies} left by a backup to the same place that was stopped" in result.stdout
        assert not left.exists() and (destination / "manifest.sqlite").is_file()
    assert not (disk / ".partial-99999999999999999999").exists()
