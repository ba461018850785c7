"""What the data folder's files and folders are made as, whatever the umask: never writable by another account (from
a data-protection review)."""

from __future__ import annotations

import os
import stat

from assistant.index.embedder import HASHING_MODEL
from assistant.present import cli
from conftest import CORPUS


def test_under_an_open_umask_no_file_or_folder_of_the_data_folder_may_be_written_by_another_account(
        tmp_path, monkeypatch, capsys):
    # Under `umask 000` (a container's default, a service manager's setting) the keyword index, Chroma's files (its
    # index metadata is a pickle, which Chroma loads: code any account could put there) and the folders themselves
    # were made 0666 and 0777: any account could change the answers, or empty the audit log's folder.
    monkeypatch.setenv("ASSISTANT_EMBEDDING_MODEL", HASHING_MODEL)
    index = str(tmp_path / "index")
    umask = os.umask(0)
    try:
        assert cli.main(["ingest", "--index", index, str(CORPUS)]) == 0
        assert cli.main(["ask", "--index", index, "How many children left care in Rotherham in 2018?"]) == 0
        assert cli.main(["withhold", "--index", index, "file:barnsley-2018-csc-performance.md"]) == 0
        assert cli.main(["brief", "--index", index, "--questions", str(_questions(tmp_path)),
                         "--out", str(tmp_path / "briefing.md"), "--no-progress"]) == 0
        assert cli.main(["backup", "--index", index, str(tmp_path / "backup")]) == 0
    finally:
        os.umask(umask)
    capsys.readouterr()
    made = [tmp_path / "index", *(tmp_path / "index").rglob("*"), tmp_path / "briefing.md", tmp_path / "backup",
            *(tmp_path / "backup").rglob("*")]
    assert len(made) > 10 and (tmp_path / "index" / "bm25").is_dir() and (tmp_path / "index" / "chroma").is_dir()
    writable = {str(path.relative_to(tmp_path)): format(stat.S_IMODE(path.stat().st_mode), "o") for path in made
                if path.stat().st_mode & (stat.S_IWGRP | stat.S_IWOTH)}
    assert not writable, writable


def _questions(folder):
    path = folder / "questions.txt"
    path.write_text("How many children left care in Rotherham in 2018?\n", encoding="utf-8")
    return path
