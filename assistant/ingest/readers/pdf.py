"""PDF minutes: the text layer of every page, as one item."""

from __future__ import annotations

import logging
import re

from assistant.ingest.readers.common import (
    CORRUPT_HINT,
    RICH_FILE_BYTES_PER_CHAR,
    FileSource,
    Problem,
    ReadResult,
    check_file_size,
    first_line_title,
    too_long,
)
from assistant.records import MinuteItem

# Word's "Save as PDF" often leaves its own window title as the document title.
_WORD_TITLE = re.compile(r"^Microsoft (?:Word|PowerPoint) - (.+?)(?:\.docx?|\.rtf)?$", re.IGNORECASE)


def read_pdf_file(source: FileSource) -> ReadResult:
    """One item per PDF; its title from the PDF's metadata, else its first line."""
    check_file_size(source, RICH_FILE_BYTES_PER_CHAR)
    from pypdf import PdfReader
    from pypdf.errors import PyPdfError

    # pypdf reports every repairable blemish through logging; a damaged file still
    # ends up here as a Problem, so the noise only hides the message that matters.
    logging.getLogger("pypdf").setLevel(logging.ERROR)
    try:
        reader = PdfReader(source.path)
        if reader.is_encrypted and not reader.decrypt(""):
            raise Problem(
                "failed",
                "the PDF is encrypted with a password",
                "Save an unprotected copy (or export its text to a .txt file) and ingest that.",
            )
        pages = [page.extract_text() or "" for page in reader.pages]
        title = _metadata_title(reader)
    except Problem:
        raise
    except (PyPdfError, ValueError, KeyError, TypeError, OSError, AssertionError) as exc:
        raise Problem("failed", f"not a readable PDF ({type(exc).__name__}: {exc})", CORRUPT_HINT) from None
    except NotImplementedError as exc:  # e.g. an encryption scheme pypdf does not know
        raise Problem("failed", f"PDF uses a feature that cannot be read: {exc}", CORRUPT_HINT) from None
    text = "\n\n".join(page.strip("\n") for page in pages if page.strip())
    if not text.strip():
        raise Problem(
            "skipped",
            "the PDF has no text layer (a scan or an image)",
            "It needs OCR; export the text to a .txt file and ingest that.",
        )
    if problem := too_long(text, source.max_item_chars):
        raise problem
    yield MinuteItem(
        source_id=source.file_id,
        text=text,
        item_title=title or first_line_title(text),
        origin=source.origin,
    )


def _metadata_title(reader) -> str:
    try:
        title = (reader.metadata or {}).get("/Title") or ""
    except Exception:  # a broken info dictionary should not cost us the text
        return ""
    title = " ".join(str(title).split())
    if match := _WORD_TITLE.match(title):
        title = match.group(1).strip()
    return title
