"""Text that an ingest removes (an item marked restricted since, a redacted or corrected item's old chunks, an item
pruned) is left in no file of the data folder: not in a live row of Chroma's write-ahead log, not in the free pages
of its SQLite files or of the manifest. Read as raw bytes, with a real local Chroma store."""

from __future__ import annotations

from pathlib import Path

from assistant.ingest.run import Index, ingest, ingest_items
from assistant.records import MinuteItem

from corpus_factory import write_markdown_corpus

MARKER = "Quillerbrook"  # a placement area no other text names


def folders_holding(data_dir: Path, text: str) -> list[str]:
    """Every file under the data folder whose bytes hold the text, in UTF-8."""
    needle = text.encode("utf-8")
    return sorted(str(path.relative_to(data_dir)) for path in data_dir.rglob("*")
                  if path.is_file() and needle in path.read_bytes())


def write_case_review(folder: Path, restricted: bool = False, area: str = MARKER) -> Path:
    path = folder / "item-case.md"
    path.write_text(
        "---\nid: case-review-9\ncouncil: Wyvern Borough Council\ncommittee: Corporate Parenting Panel\n"
        f"meeting_date: 2024-04-10\nitem_title: Child A placed in {area}\n"
        + ("restricted: true\n" if restricted else "") +
        f"---\nThe panel discussed Child A, aged 9, placed with foster carers in {area} after a police protection "
        "order.\n\nRESOLVED that the review be noted.\n", encoding="utf-8")
    return path


def test_an_item_marked_restricted_since_leaves_no_trace_in_the_data_folder(fake_settings, tmp_path):
    folder = tmp_path / "minutes"
    write_markdown_corpus(folder, 3)
    write_case_review(folder)
    ingest([folder], fake_settings)
    assert folders_holding(fake_settings.data_dir, MARKER)  # the check can see it while it is indexed
    write_case_review(folder, restricted=True)
    summary = ingest([folder], fake_settings)
    assert summary.removed == 1, summary.report()
    assert folders_holding(fake_settings.data_dir, MARKER) == [], summary.report()
    assert folders_holding(folder, MARKER)  # the minutes themselves are the officer's
    # The index still answers, and takes more writes.
    write_markdown_corpus(folder, 2, start=10)
    assert ingest([folder], fake_settings).new == 2
    index = Index(fake_settings)
    try:
        assert len(index.store.all_ids()) == index.manifest.chunk_count()
    finally:
        index.close()


def test_a_redaction_and_a_prune_leave_no_trace_in_the_data_folder(fake_settings, tmp_path):
    folder = tmp_path / "minutes"
    write_markdown_corpus(folder, 2)
    case = write_case_review(folder)
    ingest([folder], fake_settings)
    write_case_review(folder, area="a neighbouring authority")
    summary = ingest([folder], fake_settings)
    assert summary.replaced == 1 and folders_holding(fake_settings.data_dir, MARKER) == [], summary.report()

    write_case_review(folder, area="Marrowgate")
    ingest([folder], fake_settings)
    case.unlink()
    summary = ingest([folder], fake_settings, prune=True)
    assert summary.removed == 1 and folders_holding(fake_settings.data_dir, "Marrowgate") == [], summary.report()


def test_a_reset_and_a_withdrawal_by_a_writer_of_many_batches_leave_no_trace(fake_settings, tmp_path):
    folder = tmp_path / "minutes"
    write_markdown_corpus(folder, 2)
    write_case_review(folder)
    ingest([folder], fake_settings)
    write_case_review(folder, area="Tarnhollow")
    ingest([folder], fake_settings, reset=True)
    assert folders_holding(fake_settings.data_dir, MARKER) == []

    # As `fetch` does: one Index, each batch of meetings ingested through it, a withdrawn item given by identity only.
    index = Index(fake_settings)
    try:
        ingest_items([MinuteItem(source_id="case-review-9", text="", origin="case-review-9", restricted=True)],
                     fake_settings, index=index)
        assert folders_holding(fake_settings.data_dir, "Tarnhollow") == []
        more = ingest_items([MinuteItem(source_id="later-item", text="The panel noted the annual report.",
                                        council="Wyvern Borough Council", origin="later-item")],
                            fake_settings, index=index)
        assert more.new == 1 and "later-item" in {c.metadata["source_id"] for c in index.store.get()}
    finally:
        index.close()
