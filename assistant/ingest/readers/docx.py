"""Word (.docx) minutes: paragraphs and table cells in document order, as one item."""

from __future__ import annotations

from typing import Iterator

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

BULLET = "\u00b7 "  # the bullet ModernGov pages and the seed texts use


def read_docx_file(source: FileSource) -> ReadResult:
    """One item per document; its title from the core properties, else its first heading."""
    check_file_size(source, RICH_FILE_BYTES_PER_CHAR)
    import zipfile

    import docx
    from docx.opc.exceptions import PackageNotFoundError

    try:
        document = docx.Document(str(source.path))
        blocks = list(_blocks(document))
        title = (document.core_properties.title or "").strip()
    except (PackageNotFoundError, zipfile.BadZipFile):
        raise Problem(
            "failed",
            "not a readable Word document: it is damaged, or another format named .docx",
            "If it is an old .doc file, open it in Word and save it as .docx; "
            "if it is damaged, export its text to a .txt file.",
        ) from None
    except (KeyError, ValueError, AttributeError, OSError) as exc:
        raise Problem("failed", f"not a readable Word document ({type(exc).__name__}: {exc})", CORRUPT_HINT) from None
    except Exception as exc:  # lxml raises its own tree of errors for damaged XML parts
        if type(exc).__module__.startswith("lxml"):
            raise Problem("failed", f"not a readable Word document ({exc})", CORRUPT_HINT) from None
        raise
    text = "\n\n".join(text for _, text in blocks if text.strip())
    if not text.strip():
        raise Problem("skipped", "the document has no text", "Add the minutes, or remove the file from the inputs.")
    if problem := too_long(text, source.max_item_chars):
        raise problem
    heading = next((text for style, text in blocks if _is_heading(style) and text.strip()), "")
    yield MinuteItem(
        source_id=source.file_id,
        text=text,
        item_title=title or heading.strip() or first_line_title(text),
        origin=source.origin,
    )


def _blocks(document) -> Iterator[tuple[str, str]]:
    """(style name, text) for each paragraph, and each table cell, in document order."""
    from docx.table import Table

    for block in document.iter_inner_content():
        if isinstance(block, Table):
            yield from _table_cells(block)
        else:
            yield _paragraph(block)


def _paragraph(paragraph) -> tuple[str, str]:
    style = paragraph.style.name if paragraph.style is not None else ""
    text = paragraph.text
    if style.lower().startswith("list bullet") and text.strip():
        text = BULLET + text.strip()
    return style, text


def _table_cells(table) -> Iterator[tuple[str, str]]:
    seen: set = set()  # holding the elements keeps their identity stable
    for row in table.rows:
        for cell in row.cells:
            # python-docx repeats a merged cell once for each grid column it spans
            if cell._tc in seen:
                continue
            seen.add(cell._tc)
            yield "", "\n".join(p.text for p in cell.paragraphs if p.text.strip())


def _is_heading(style: str) -> bool:
    return style.startswith("Heading") or style == "Title"
