"""A file indexed whole, then split at its agenda item headings with no opening text before item 1, is said to be
split now: its whole-file entry is replaced by its items. It had been said to be "named another way", which it was
not."""

from __future__ import annotations

from pathlib import Path

from assistant.ingest.run import ingest

from cli_helpers import manifest_rows
from fixtures_make import make_docx_paragraphs

ITEMS = [("Apologies for Absence", "Apologies were received from Councillor McCarthy."),
         ("Declarations of Interest", "There were no declarations."),
         ("Fostering Recruitment Update", "The service had recruited 14 new fostering households."),
         ("Date of Next Meeting", "The next meeting is on 5 April 2023.")]


def _minutes(path: Path, *, numbered: bool) -> Path:
    paragraphs = [("", line) for n, (title, body) in enumerate(ITEMS, start=1)
                  for line in (f"{n}. {title}" if numbered else title, body)]
    return make_docx_paragraphs(path, paragraphs)


def test_a_file_indexed_whole_and_now_split_at_its_item_headings_is_said_to_be_split(fake_settings, tmp_path):
    folder = tmp_path / "minutes"
    folder.mkdir()
    _minutes(folder / "cpp.docx", numbered=False)
    ingest([folder], fake_settings, council="Barnsley Council", cwd=tmp_path)
    assert list(manifest_rows(fake_settings)) == ["file:cpp.docx"]  # indexed whole, as before the split

    _minutes(folder / "cpp.docx", numbered=True)
    again = ingest([folder], fake_settings, cwd=tmp_path)
    assert sorted(manifest_rows(fake_settings)) == [f"file:cpp.docx#item-{n}" for n in range(1, 5)]
    assert f"{folder / 'cpp.docx'} is now split at its agenda item headings: its items replace the whole-file " \
           "entry (file:cpp.docx)" in again.notes, again.notes
    assert not any("named another way" in note for note in again.notes), again.notes
    assert {row.council for row in manifest_rows(fake_settings).values()} == {"Barnsley Council"}
