"""A resolution, or any line that ends a clause, repeated at the foot of three pages or more is the minutes' text,
not a running footer: each copy is kept where it is. Only two-page PDFs had been spared."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant.ingest.readers import read_inputs

from fixtures_make import make_paged_pdf

HEADER = "Corporate Parenting Panel - 8 March 2023"
RESOLVED = "RESOLVED that the report be noted."


def _text(path: Path) -> str:
    return "\n".join(item.text for item in read_inputs([path], 1_000_000, cwd=path.parent))


@pytest.mark.parametrize("pages", [3, 4, 6])
def test_a_resolution_at_the_foot_of_every_page_is_kept_on_each(tmp_path: Path, pages: int) -> None:
    content = [[f"Item title {chr(65 + n)}", f"The Panel considered report {chr(65 + n)} on fostering.", RESOLVED]
               for n in range(pages)]
    text = _text(make_paged_pdf(tmp_path / "minutes.pdf", content, header=HEADER))
    assert text.count(RESOLVED) == pages
    assert text.count(HEADER) == 1  # the running header is still kept once


def test_a_sentence_that_closes_every_page_in_another_place_is_kept_and_a_footer_is_not(tmp_path: Path) -> None:
    """A sentence the minutes repeat near the foot of page after page, a line more or less from it as the pages'
    text runs, is kept on each; a footer keeps its place, a sentence ('Minutes are subject to approval at the next
    meeting.') or not, and is kept once."""
    closing = "Members agreed to keep the matter under review."
    content = [[f"Item title {chr(65 + n)}", f"The Panel considered report {chr(65 + n)} on fostering."]
               + [f"Action {n} was noted by the Panel."] * (n % 2) + [closing]
               + [f"Action {n} was agreed by the Panel."] * ((n + 1) % 2) for n in range(4)]
    for footer in ("Barnsley Council minutes", "Minutes are subject to approval at the next meeting."):
        text = _text(make_paged_pdf(tmp_path / f"minutes-{len(footer)}.pdf", content, footer=footer))
        assert text.count(closing) == 4, footer
        assert text.count(footer) == 1
