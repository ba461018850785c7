"""What a file's identity must keep (the review of b16d8f7 and f533f45): an indexed folder that cannot be read now
keeps its file's identity, an input file taking another's is refused whole, items passed over this run keep their
indexed version (and a JSONL file's lines always do), and a file split at its item headings keeps, item by item, the
council given before when it comes back under another identity.

Meeting pages saved without a URL stand for every file split at its item headings: their items are
`file:meeting.html#item-N`, as a PDF's or a Word file's are."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from assistant.ingest.run import ingest

from cli_helpers import cli_env, manifest_rows
from fixtures_make import Row, meeting_page

BARNSLEY, SEFTON = "Barnsley Council", "Sefton Council"


def _rows(settings) -> dict:
    return manifest_rows(settings)


def _agenda(council: str, numbers: range, topic: str = "discussed") -> list[Row]:
    return [Row(f"{n}.", f"{council} Agenda Topic {n}", minutes=[f"The committee {topic} topic {n} of {council}."])
            for n in numbers]


def _save_page(path: Path, rows: list[Row]) -> Path:
    """A meeting page saved without its URL or council: its items are known by the file's identity."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(meeting_page(rows, url=None, council=None), encoding="utf-8")
    return path


# --- Finding 1: an indexed folder that cannot be read now keeps its file's identity -------------------------------


@pytest.mark.skipif(shutil.which("unshare") is None, reason="needs unshare to drop root's rights")
def test_a_file_cannot_take_the_identity_of_one_in_a_folder_that_cannot_be_read(fake_settings, tmp_path):
    """B/minutes.txt was taken as an update of A/minutes.txt, whose folder may not be searched: Barnsley's minutes left
    the index, and Sefton's took Barnsley's council."""
    first, second = tmp_path / "A" / "minutes.txt", tmp_path / "B" / "minutes.txt"
    for path, text in ((first, "The Barnsley panel approved 12 foster carers."),
                       (second, "The Sefton board noted the sufficiency plan.")):
        path.parent.mkdir()
        path.write_text(f"Held on 8 March 2023\n\n{text}\n", encoding="utf-8")
    ingest([first.parent], fake_settings, council=BARNSLEY)
    command = [sys.executable, "-m", "assistant", "ingest", str(second.parent), "--no-progress"]
    if os.geteuid() == 0:  # root may read any folder; in a user namespace of its own it is nobody to this one
        command = ["unshare", "--user", *command]
    first.parent.chmod(0o600)  # neither searched nor, so, checked
    try:
        run = subprocess.run(command, env=cli_env(fake_settings.data_dir), capture_output=True, text=True,
                             timeout=600)
    finally:
        first.parent.chmod(0o755)
    if run.returncode != 0 and "unshare" in run.stderr:
        pytest.skip(f"user namespaces are not available here: {run.stderr.strip()}")
    assert run.returncode == 1, run.stdout + run.stderr
    assert "replaced 0" in run.stdout and "failed 1" in run.stdout, run.stdout
    assert f"failed: {second}: has the source identity file:minutes.txt of {first}, which is indexed but could not " \
           "be checked now (Permission denied)" in run.stdout, run.stdout
    assert [(sid, row.origin, row.council) for sid, row in _rows(fake_settings).items()] == \
        [("file:minutes.txt", str(first), BARNSLEY)]


# --- Finding 2: what this run passed over keeps its indexed version -----------------------------------------------


@pytest.mark.parametrize("prune", [False, True])
def test_an_item_of_a_page_read_again_over_the_length_cap_keeps_its_indexed_version(fake_settings, tmp_path, prune):
    page = _save_page(tmp_path / "meeting.html", _agenda(BARNSLEY, range(5, 8)))
    ingest([page], fake_settings)
    indexed = _rows(fake_settings)
    grown = _agenda(BARNSLEY, range(5, 8))
    grown[1] = Row("6.", grown[1].title, minutes=["The committee noted that 14 households had been approved. " * 40])
    _save_page(page, grown)
    again = ingest([page], fake_settings.with_(max_item_chars=1500), prune=prune)
    [passed_over] = again.skipped
    assert passed_over.reason.startswith("item 6 (") and "over the cap of 1,500" in passed_over.reason
    assert again.removed == 0 and not any("no longer in" in note for note in again.notes), again.notes
    assert _rows(fake_settings) == indexed


def _export(path: Path, numbers: list[int], broken: int | None = None) -> Path:
    url = "https://democracy.example.gov.uk/ieListDocuments.aspx?CId=130&MId=6439"
    lines = [json.dumps({"url": f"{url}#item-{n}", "council": BARNSLEY, "title": f"Item {n}", "date": "2023-03-08",
                         "text": f"The committee discussed matter number {n} and noted the report."})
             for n in numbers]
    if broken is not None:
        lines[broken] = lines[broken][:-1]  # not valid JSON: its closing brace is gone
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.mark.parametrize("prune", [False, True])
def test_a_broken_jsonl_line_whose_url_names_an_item_keeps_its_indexed_version(fake_settings, tmp_path, prune):
    export = _export(tmp_path / "export.jsonl", [1, 2, 3])
    ingest([export], fake_settings)
    indexed = _rows(fake_settings)
    _export(export, [1, 2, 3], broken=1)
    again = ingest([export], fake_settings, prune=prune)
    assert [problem.origin for problem in again.failed] == [f"{export}:2"]
    assert again.removed == 0 and _rows(fake_settings) == indexed


def test_a_jsonl_line_removed_is_kept_until_prune_whatever_its_url(fake_settings, tmp_path):
    export = _export(tmp_path / "export.jsonl", [1, 2, 3])
    ingest([export], fake_settings)
    _export(export, [1, 3])
    again = ingest([export], fake_settings)
    assert again.removed == 0 and len(_rows(fake_settings)) == 3, again.notes
    assert ingest([export], fake_settings, prune=True).removed == 1


# --- Finding 3: a split file known again under another identity keeps its council on every item -------------------


def test_a_split_file_named_another_way_keeps_the_council_given_before_on_every_item(fake_settings, tmp_path):
    page = _save_page(tmp_path / "minutes" / "csc.html", _agenda(BARNSLEY, range(1, 5)))
    ingest([page.parent], fake_settings, council=BARNSLEY, cwd=tmp_path)
    assert {row.council for row in _rows(fake_settings).values()} == {BARNSLEY}
    for paths in ([page], [page.parent]):  # named on its own, then through its folder again
        again = ingest(paths, fake_settings, cwd=tmp_path)
        assert again.new == 4 and again.removed == 4, again.report()
        rows = _rows(fake_settings)
        assert len(rows) == 4 and {row.council for row in rows.values()} == {BARNSLEY}, rows


def test_a_split_file_moved_with_an_item_changed_keeps_the_council_given_before_on_every_item(fake_settings,
                                                                                               tmp_path):
    page = _save_page(tmp_path / "2023" / "csc.html", _agenda(BARNSLEY, range(1, 5)))
    ingest([page], fake_settings, council=BARNSLEY, cwd=tmp_path)
    page.unlink()
    edited = _agenda(BARNSLEY, range(1, 5))
    edited[3] = Row("4.", edited[3].title, minutes=["The committee agreed a further report in September."])
    moved = _save_page(tmp_path / "archive" / "csc-2023.html", edited)
    again = ingest([moved], fake_settings, cwd=tmp_path)
    councils = {sid: row.council for sid, row in _rows(fake_settings).items() if row.origin == str(moved)}
    assert len(councils) == 4 and set(councils.values()) == {BARNSLEY}, councils
    # One note for the file, not one for each of its items.
    assert any("1 file moved or renamed since last indexed" in note for note in again.notes), again.notes


# --- Finding 6: a file that would take another's identity is refused whole ----------------------------------------


def test_a_file_that_would_take_another_files_identity_is_refused_whole(fake_settings, tmp_path):
    """A's page has items 1-3, B's 1-5: only B's items 1-3 were refused, and its items 4 and 5 were indexed under A's
    page identity, beside A's items."""
    first = _save_page(tmp_path / "A" / "minutes.html", _agenda(BARNSLEY, range(1, 4)))
    second = _save_page(tmp_path / "B" / "minutes.html", _agenda(SEFTON, range(1, 6)))
    ingest([first.parent], fake_settings, council=BARNSLEY)
    indexed = _rows(fake_settings)
    again = ingest([second.parent], fake_settings, council=SEFTON)
    assert again.new == again.replaced == 0
    [failed] = again.failed
    assert failed.origin == str(second) and f"the source identity file:minutes.html of {first}" in failed.reason
    assert _rows(fake_settings) == indexed


def test_two_files_of_one_identity_in_one_run_the_second_is_refused_whole(fake_settings, tmp_path):
    first = _save_page(tmp_path / "A" / "minutes.html", _agenda(BARNSLEY, range(1, 4)))
    second = _save_page(tmp_path / "B" / "minutes.html", _agenda(SEFTON, range(1, 6)))
    both = ingest([first.parent, second.parent], fake_settings)
    assert both.new == 3 and {problem.origin for problem in both.failed} == {str(second)}
    assert {row.origin for row in _rows(fake_settings).values()} == {str(first)}


def test_a_renamed_page_whose_item_is_now_over_the_length_cap_keeps_that_items_indexed_version(fake_settings,
                                                                                              tmp_path):
    """A page renamed with item 6 grown over the length cap: the rename replaced every entry of the old path, item 6's
    too, and item 6 was in the index under neither name, where a page read in place keeps it."""
    old = _save_page(tmp_path / "minutes" / "meeting.html", _agenda(BARNSLEY, range(5, 9)))
    ingest([old.parent], fake_settings)
    old.unlink()
    grown = _agenda(BARNSLEY, range(5, 9))
    grown[1] = Row("6.", grown[1].title, minutes=["The committee noted that 14 households had been approved. " * 40])
    _save_page(old.parent / "meeting-approved.html", grown)
    again = ingest([old.parent], fake_settings.with_(max_item_chars=1500))
    [passed_over] = again.skipped
    assert passed_over.reason.startswith("item 6 (")
    assert sorted(_rows(fake_settings)) == ["file:meeting-approved.html#item-5", "file:meeting-approved.html#item-7",
                                            "file:meeting-approved.html#item-8", "file:meeting.html#item-6"]
    assert "replace the 3 indexed items of the old path" in " ".join(again.notes), again.notes
