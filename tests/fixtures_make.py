"""Builders for reader fixtures: saved ModernGov pages, PDFs and Word files, made in tmp_path.

The HTML mirrors the markup ModernGov serves (class names as on live council sites),
wrapped in a council site template whose navigation must not leak into the minutes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from html import escape
from pathlib import Path

SITE = "https://democracy.example.gov.uk"


@dataclass
class Row:
    """One agenda row of a meeting page."""

    number: str
    title: str
    description: str = ""
    minutes: list[str] = field(default_factory=list)
    bullets: list[str] = field(default_factory=list)
    extra_title_html: str = ""  # markup ModernGov adds beside the title (links, icons)
    number_html: str = ""  # replaces the plain number cell content
    row_class: str = ""


def _template(body: str, title: str, head: str = "") -> str:
    return f"""<!DOCTYPE html>
<html lang="en"><head>
<meta charset="utf-8">
<title>{escape(title)}</title>
{head}
<script>var mgLoaded = true; document.write("not minutes");</script>
<style>.mgContent {{ font-family: Arial; }}</style>
</head><body>
<nav class="site-nav"><a href="/">Home</a> &gt; <a href="/council">Council and Democracy</a></nav>
<div id="modgov"><div class="mgContent">
{body}
</div></div>
<footer>Example Council, Town Hall. Cookie settings.</footer>
</body></html>"""


def _head(url: str | None, council: str | None) -> str:
    head = ""
    if url:
        head += f'<link rel="canonical" href="{escape(url)}">\n'
    if council:
        head += f'<meta name="DC.publisher" content="{escape(council)}">\n'
    return head


def _row_html(row: Row) -> str:
    number = row.number_html or f'<p class="mgAiTitleTxt">{escape(row.number)}</p>'
    minutes = "".join(f"<p>{escape(p)}</p>\n" for p in row.minutes)
    bullets = "".join(f"<li>{escape(b)}</li>" for b in row.bullets)
    bullets = f"<ul>{bullets}</ul>" if bullets else ""
    description = f'<div class="mgWordPara"><p>{escape(row.description)}</p></div>' if row.description else ""
    minutes_block = (
        f'<p class="mgSubItemTitleTxt">Minutes:</p>\n<div class="mgWordPara">{minutes}{bullets}</div>'
        if minutes or bullets
        else ""
    )
    css = f' class="{row.row_class}"' if row.row_class else ""
    return f"""<tr{css}>
<td class="mgItemNumberCell">{number}</td>
<td><p class="mgAiTitleTxt"><a class="mgAiTitleLnk" href="documents/s1/report.pdf">{escape(row.title)}</a>
<a href="documents/s1/report.pdf"><img alt="pdf icon" src="mgLoadIcon.gif"></a> PDF 60 KB</p>
{row.extra_title_html}
{description}
{minutes_block}
</td>
</tr>"""


def meeting_page(
    rows: list[Row],
    *,
    url: str | None = f"{SITE}/ieListDocuments.aspx?CId=130&MId=6439&Ver=4",
    council: str | None = "Example Borough Council",
    committee: str = "Children's Services Scrutiny Committee",
    when: str = "Tuesday, 20th September, 2022 6.00 pm",
) -> str:
    """An ieListDocuments.aspx page: the meeting heading and one table row per agenda item."""
    body = f"""<h1 class="mgMainTitleTxt">Agenda and minutes</h1>
<h2 class="mgSubTitleTxt">{escape(committee)} - {escape(when)}</h2>
<p><span class="mgLabel">Venue: </span>Council Chamber, Town Hall.</p>
<p><span class="mgLabel">Contact: </span>Democratic Services</p>
<table class="mgItemTable" id="mgItemTable" summary="Agenda items">
<tr><th class="mgTableHeader">No.</th><th class="mgTableHeader">Item</th></tr>
{"".join(_row_html(row) for row in rows)}
</table>"""
    return _template(body, f"Agenda for {committee} on {when}", _head(url, council))


def item_page(
    *,
    title: str,
    description: str,
    minutes: list[str],
    meeting: str = "20/09/2022 - Children's Services Scrutiny Committee (Item 7.)",
    url: str | None = f"{SITE}/mgAi.aspx?ID=23547",
    council: str | None = "Example Borough Council",
    title_extra: str = "",
) -> str:
    """An mgAi.aspx page: one agenda item with its meeting, description and minutes."""
    paragraphs = "".join(f"<p>{escape(p)}</p>\n" for p in minutes)
    body = f"""<h1 class="mgMainTitleTxt">Agenda item</h1>
<p class="mgAiTitleTxt">{escape(title)}{title_extra}</p>
<p><span class="mgLabel">Meeting: </span><a href="ieListDocuments.aspx?MId=1">{escape(meeting)}</a></p>
<div class="mgWordPara"><p>{escape(description)}</p></div>
<p class="mgSubItemTitleTxt">Minutes:</p>
<div class="mgWordPara">{paragraphs}</div>
<p class="mgSubItemTitleTxt">Supporting documents:</p>
<ul class="mgBulletList"><li><a href="documents/s2/report.pdf">Report PDF 120 KB</a></li></ul>"""
    return _template(body, f"Agenda item - {title}", _head(url, council))


def issue_page(
    *,
    title: str,
    meetings: list[tuple[str, str, list[str]]],
    url: str | None = f"{SITE}/ieIssueDetails.aspx?IId=53893&Opt=3",
    council: str | None = "Example Borough Council",
) -> str:
    """An ieIssueDetails.aspx (Opt=3) page: one issue and the meetings that considered it."""
    blocks = []
    for meeting, number, minutes in meetings:
        paragraphs = "".join(f"<p>{escape(p)}</p>" for p in minutes)
        blocks.append(
            f"""<p><span class="mgLabel">Meeting: </span>{escape(meeting)}</p>
<table class="mgSubTbl"><tr><td class="mgItemNumberCell"><p class="mgAiTitleTxt">{escape(number)}</p></td>
<td><p class="mgAiTitleTxt">{escape(title)} PDF 60 KB</p>
<p class="mgSubItemTitleTxt">Decision:</p><div class="mgWordPara">{paragraphs}</div></td></tr></table>"""
        )
    body = f"""<h1 class="mgMainTitleTxt">Issue - meetings</h1>
<h2 class="mgSubTitleTxt">{escape(title)}</h2>
{"".join(blocks)}"""
    return _template(body, f"Issue - meetings - {title}", _head(url, council))


def make_pdf(
    path: Path, lines: list[str], title: str | None = None, user_password: str | None = None,
    aes_owner_password: str | None = None,
) -> Path:
    """A text PDF (core fonts: keep the text Latin-1), optionally password protected.

    `aes_owner_password` encrypts it with AES but no password to open it, as councils do to stop
    printing or copying.
    """
    from fpdf import FPDF

    pdf = FPDF()
    if title:
        pdf.set_title(title)
    if user_password:
        pdf.set_encryption(owner_password="owner-secret", user_password=user_password)
    if aes_owner_password:
        from fpdf.enums import AccessPermission, EncryptionMethod

        pdf.set_encryption(owner_password=aes_owner_password, encryption_method=EncryptionMethod.AES_128,
                           permissions=AccessPermission.none())
    pdf.add_page()
    pdf.set_font("Helvetica", size=11)
    for line in lines:
        pdf.multi_cell(0, 6, line, new_x="LMARGIN", new_y="NEXT")
    pdf.output(str(path))
    return path


def make_paged_pdf(path: Path, pages: list[list[str]], header: str = "", footer: str = "") -> Path:
    """A PDF of the given pages, each line set on a line of its own, with a running header and
    footer on every page; '{page}' in either is replaced by the page number."""
    from fpdf import FPDF

    class WithRunningLines(FPDF):
        def header(self) -> None:
            if header:
                self.set_font("Helvetica", size=9)
                self.cell(0, 5, header.format(page=self.page_no()), new_x="LMARGIN", new_y="NEXT")

        def footer(self) -> None:
            if footer:
                self.set_y(-15)
                self.set_font("Helvetica", size=9)
                self.cell(0, 5, footer.format(page=self.page_no()), align="C")

    pdf = WithRunningLines()
    for lines in pages:
        pdf.add_page()
        pdf.set_font("Helvetica", size=11)
        for line in lines:
            pdf.cell(0, 6, line, new_x="LMARGIN", new_y="NEXT")
    pdf.output(str(path))
    return path


def make_wrapped_pdf(path: Path, pages: list[list[str]], width: int = 90, header: str = "", footer: str = "") -> Path:
    """A PDF whose paragraphs are set as a word processor sets them: each wrapped onto lines of at most `width`
    characters, breaking between words wherever the margin falls (before a capital or a figure as well). A paragraph
    shorter than `width`, a heading, stays one line."""
    import textwrap

    lines = [[line for paragraph in page for line in textwrap.wrap(paragraph, width, break_on_hyphens=False)]
             for page in pages]
    return make_paged_pdf(path, lines, header=header, footer=footer)


def make_image_only_pdf(path: Path) -> Path:
    """A PDF whose page holds only drawing, as a scan would: no text layer."""
    from fpdf import FPDF

    pdf = FPDF()
    pdf.add_page()
    pdf.rect(20, 20, 100, 60, style="F")
    pdf.output(str(path))
    return path


def make_docx(
    path: Path,
    *,
    heading: str,
    paragraphs: list[str],
    bullets: list[str] = (),
    numbered: list[str] = (),
    table: list[list[str]] = (),
    core_title: str | None = None,
) -> Path:
    import docx

    document = docx.Document()
    if core_title:
        document.core_properties.title = core_title
    document.add_heading(heading, level=1)
    for paragraph in paragraphs:
        document.add_paragraph(paragraph)
    for bullet in bullets:
        document.add_paragraph(bullet, style="List Bullet")
    for line in numbered:  # Word numbers these itself: the digits are not in the text
        document.add_paragraph(line, style="List Number")
    if table:
        grid = document.add_table(rows=len(table), cols=len(table[0]))
        for r, cells in enumerate(table):
            for c, value in enumerate(cells):
                grid.cell(r, c).text = value
    document.save(str(path))
    return path


def make_docx_paragraphs(path: Path, paragraphs: list[tuple[str, str]], core_title: str | None = None) -> Path:
    """A Word document of the given (style name, text) paragraphs, in order: '' for the normal style, 'Heading 2' or
    'List Number' (Word numbers these itself: the digits are not in the text) for an item's heading."""
    import docx

    document = docx.Document()
    if core_title:
        document.core_properties.title = core_title
    for style, text in paragraphs:
        document.add_paragraph(text, style=style or None)
    document.save(str(path))
    return path


def make_docx_with_body(path: Path, body_xml: str, heading: str = "Minutes", numbering_xml: str = "") -> Path:
    """A Word document whose body, after a heading, holds the given WordprocessingML as written.

    python-docx cannot make content controls, tracked changes, text boxes or list definitions
    itself; `w:`, `mc:`, `v:` and `wps:` prefixes may be used in the XML. `numbering_xml` is
    added to the numbering part (w:abstractNum and w:num elements).
    """
    import docx
    from docx.oxml import parse_xml

    namespaces = (
        'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main" '
        'xmlns:mc="http://schemas.openxmlformats.org/markup-compatibility/2006" '
        'xmlns:v="urn:schemas-microsoft-com:vml" '
        'xmlns:wps="http://schemas.microsoft.com/office/word/2010/wordprocessingShape"'
    )
    document = docx.Document()
    document.add_heading(heading, level=1)
    body = document.element.body
    for element in parse_xml(f"<w:body {namespaces}>{body_xml}</w:body>"):
        body.insert(len(body) - 1, element)  # before the closing section properties
    if numbering_xml:
        numbering = document.part.numbering_part.element
        for element in parse_xml(f"<w:numbering {namespaces}>{numbering_xml}</w:numbering>"):
            numbering.append(element)
    document.save(str(path))
    return path
