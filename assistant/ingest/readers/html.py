"""Saved ModernGov pages: one agenda item (mgAi), one issue (ieIssueDetails), or a meeting
(ieListDocuments) split into one item per agenda row.

ModernGov markup this relies on, with fallbacks where a council's theme differs:
  h2.mgSubTitleTxt       "Committee - Tuesday, 20th September, 2022 6.00 pm" (meeting pages)
                         or the issue title (issue pages)
  table.mgItemTable      (also id="mgItemTable") one <tr> per agenda item
  td.mgItemNumberCell    the item number ("5.", "7a", "PEO/12/25")
  p.mgAiTitleTxt         the item title (also used for the number in some themes)
  p.mgSubItemTitleTxt    "Minutes:", "Decision:" sub-headings; div.mgWordPara the text
  "Meeting: 15/06/2023 - Cabinet (Item 8)"   on item and issue pages
  "Meeting of Cabinet, Thursday, 7th December, 2023 10.00 am (Item 32.)"   the same, in older themes
  mgReasonsRestricted.aspx                   the link ModernGov puts on restricted items
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass, replace
from urllib.parse import urljoin, urlparse

from assistant.text import COUNCIL_KIND_WORDS, COUNCIL_NAME_JOINERS, date_or_empty
from assistant.ingest.readers.common import (
    DOCUMENT_LABEL,
    FIRST_PAGE_CHARS,
    GENERIC_HEADINGS,
    HTML_FILE_BYTES_PER_CHAR,
    NOT_PUBLIC_MARK,
    UNTOLD_NOT_PUBLIC_HEADING,
    FileSource,
    Problem,
    ReadResult,
    check_file_size,
    first_line_title,
    item_number_slug,
    meeting_date_in,
    spelled_out_ligatures,
    title_marked_not_public,
    too_long,
    with_item,
)
from assistant.ingest.readers.docx import CELL_SEPARATOR
from assistant.ingest.readers.text import BINARY_HINT, decode_bytes
from assistant.ingest.structure import split_meeting
from assistant.records import MinuteItem

BULLET = "\u00b7 "
_SKIP_TAGS = {
    "script", "style", "noscript", "template", "iframe", "svg", "button", "input", "select", "textarea", "nav",
    "head", "title", "meta", "link",
    "del",  # text deleted (Word's tracked changes saved as HTML): not what the minutes say, and run into the new text
}
_BLOCK_TAGS = {
    "address", "article", "aside", "blockquote", "caption", "center", "dd", "details", "dialog", "div", "dl", "dt",
    "fieldset", "figcaption", "figure", "footer", "form", "h1", "h2", "h3", "h4", "h5", "h6", "header", "hr", "main",
    "p", "pre", "section", "summary", "table", "tbody", "tfoot", "thead", "tr",
}
# Page furniture of a council's site around the minutes, never minutes itself. header and footer
# count only as the page's own: inside article, main or section they are a part's heading.
_CHROME_TAGS = {"nav", "aside"}
_PAGE_CHROME_TAGS = {"header", "footer"}
_SECTIONING = ["article", "main", "section"]
_CHROME_ROLES = {"navigation", "banner", "contentinfo", "complementary"}
# An id or class naming a cookie or consent banner, a breadcrumb trail or a menu.
_CHROME_NAME = re.compile(r"cookie|consent|gdpr|breadcrumb|menu|navbar", re.IGNORECASE)
# A table that lays out a page rather than holding figures: ModernGov's own (mgItemTable, mgSubTbl...), or one
# marked as presentation. Its cells are read one after another, as blocks.
_LAYOUT_CLASS = re.compile(r"^mg", re.IGNORECASE)
_ROW_GROUPS = {"thead", "tbody", "tfoot"}
_SPACES = re.compile(r"[ \t\n\r\f\v]+")  # HTML white space; NBSP is content and stays
_DATE_WORDS = re.compile(
    r"(?:(?:mon|tues|wednes|thurs|fri|satur|sun)day,?\s+)?\d{1,2}(?:st|nd|rd|th)?,?\s+[a-z]+,?\s+\d{4}", re.IGNORECASE
)
_MEETING_LINE = re.compile(  # "Meeting: 15/06/2023 - Cabinet (Item 8)"
    r"Meeting:\s*(\d{1,2}/\d{1,2}/\d{4})\s*-\s*(.+?)\s*(?:\(\s*Item\s+([^)]*?)\s*\))?\s*$", re.MULTILINE
)
# Older ModernGov themes: "Meeting of Cabinet, Thursday, 7th December, 2023 10.00 am (Item 32.)"
_MEETING_OF_LINE = re.compile(r"^\s*Meeting of\s+(.+?)\s*\(\s*Item\s+[^)]*\)\s*$", re.MULTILINE | re.IGNORECASE)
_PAGE_NAMES = (
    ("meeting", re.compile(r"ieListDocuments", re.IGNORECASE)),
    ("issue", re.compile(r"ieIssueDetails|mgIssueHistoryHome", re.IGNORECASE)),
    ("item", re.compile(r"(?<![a-z])mgAi(?![a-z])", re.IGNORECASE)),
)
_SAVED_FROM = re.compile(r"saved from url=\(\d+\)(\S+)", re.IGNORECASE)
# Words of a page title's last part that say what kind of council, building or meeting it is, never
# where: 'Full Council', 'County Hall', 'Borough' name no council, while 'Sefton Council' does.
NOT_PLACE_WORDS = COUNCIL_KIND_WORDS | COUNCIL_NAME_JOINERS | {
    "hall", "civic", "centre", "center", "offices", "house", "chamber",
    "full", "extraordinary", "annual", "meeting", "meetings", "committee", "cabinet", "minutes", "agenda",
    "item", "democracy", "democratic", "services", "home", "&",
}
# Encodings a page may declare that browsers read as Windows-1252, which holds them (the WHATWG
# Encoding Standard): Word's HTML says iso-8859-1 yet uses cp1252's curly quotes and dashes.
_READ_AS_CP1252 = frozenset({"iso8859-1", "ascii", "cp1252"})
_HEADINGS = ["h1", "h2", "h3", "h4", "h5", "h6"]
# In place of a part of a page withheld as not for publication.
WITHHELD_LINE = "Withheld: not for publication."
_CLASS_MARK = re.compile(r"(?:restricted|exempt|confidential)(?!ion)", re.IGNORECASE)
_ALT_MARK = re.compile(rf"^\s*{NOT_PUBLIC_MARK}\b", re.IGNORECASE)


@dataclass(frozen=True)
class _Page:
    url: str
    kind: str  # "meeting", "item" or "issue"
    council: str
    committee: str
    meeting_date: str


def read_html_file(source: FileSource) -> ReadResult:
    """Items from one saved page; the page's own structure decides whether it is split."""
    check_file_size(source, HTML_FILE_BYTES_PER_CHAR)
    data = source.path.read_bytes()
    if b"\x00" in data[:8192] and not data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise Problem("failed", "binary data, not an HTML page", BINARY_HINT)
    from bs4 import BeautifulSoup

    # Decoded here, not by the parser: a page re-saved in another encoding keeps its old
    # declaration, and the parser would believe it ('Caf\ufffd', 'Â£999').
    soup = BeautifulSoup(spelled_out_ligatures(decode_bytes(data, _declared_encoding(data))), "lxml")
    _drop_page_chrome(soup)
    region = (
        soup.select_one("#modgov") or soup.select_one(".mgContent")  # ModernGov's own part of the page
        or soup.select_one("main, [role=main], #content") or soup.body or soup
    )
    rows = _item_rows(region)
    page = _page_facts(soup, region, source, has_rows=bool(rows))
    if page.kind == "meeting" and rows:
        yield from _meeting_items(rows, page, source)
        return
    if _from_moderngov(soup, page.url, source.path.name):
        yield _single_item(region, page, source, _page_restricted(region))
        return
    # Another system's page (CMIS, a council's own site) may hold a whole meeting's minutes, each item under a
    # heading: one heading marked not for publication withholds its part of the page, not the page, and the minutes
    # are split at their numbered headings as a PDF's are, an item headed '(Exempt)' withheld there too.
    if _title_restricted(region):
        yield _single_item(region, page, source, restricted=True)
        return
    if untold := _withheld_marked_parts(soup, region):
        item = _single_item(region, page, source, restricted=True)
        yield replace(item, details={**item.details, UNTOLD_NOT_PUBLIC_HEADING: _clean_title(untold.get_text(" "))})
        return
    yield from split_meeting(_single_item(region, page, source, restricted=False), title_in=_first_specific_line,
                             only_a_meeting=True)


def _declared_encoding(data: bytes) -> str | None:
    """The encoding the page's <meta> declares, as Python names it, or None if it declares none
    (or one that is no single-byte or multibyte encoding, such as UTF-16 on a page without a BOM)."""
    from bs4.dammit import EncodingDetector

    declared = EncodingDetector.find_declared_encoding(data, is_html=True)
    try:
        name = codecs.lookup(declared).name if declared else None
    except LookupError:
        return None
    if name is None or name.startswith(("utf-16", "utf-32")):  # browsers read these as UTF-8 too
        return None
    return "cp1252" if name in _READ_AS_CP1252 else name


def _drop_page_chrome(soup) -> None:
    """Take out the site's cookie banner, menus, breadcrumbs, header and footer, which other
    systems than ModernGov (CMIS, a council's CMS) save around the minutes."""
    from bs4 import Tag

    def is_chrome(element: Tag) -> bool:
        if element.name in _CHROME_TAGS or (element.get("role") or "").lower() in _CHROME_ROLES:
            return True
        if element.name in _PAGE_CHROME_TAGS and element.find_parent(_SECTIONING) is None:
            return True
        names = [element.get("id") or "", *(element.get("class") or [])]
        return any(_CHROME_NAME.search(name) for name in names if isinstance(name, str))

    for element in soup.find_all(is_chrome):
        if not element.decomposed:  # already gone with a chrome element around it
            element.decompose()


def _single_item(region, page: _Page, source: FileSource, restricted: bool) -> MinuteItem:
    title = _page_title(region, page.kind)
    text = "" if restricted else render(region)
    if not restricted:
        if not text.strip():
            raise Problem(
                "skipped",
                "no minutes text found in the page",
                "Save the page from the browser while it shows the minutes ('Webpage, HTML only').",
            )
        if problem := too_long(text, source.max_item_chars):
            raise problem
    return MinuteItem(
        source_id=page.url or source.file_id,
        text=text,
        council=page.council,
        committee=page.committee,
        # A page from another system than ModernGov (CMIS, a council's own site) states its date in its text.
        meeting_date=page.meeting_date or meeting_date_in(text[:FIRST_PAGE_CHARS]),
        item_title=title or _first_specific_line(text),
        source_url=page.url,
        origin=source.origin,
        restricted=restricted,
    )


def _meeting_items(rows: list, page: _Page, source: FileSource) -> ReadResult:
    numbers = [item_number_slug(number) for number, _, _ in rows]
    if "" in numbers or len(set(numbers)) < len(numbers):
        numbers = [str(position) for position in range(1, len(rows) + 1)]
    base = page.url or source.file_id
    for number, (_, row, content) in zip(numbers, rows):
        title_el = content.select_one(".mgAiTitleTxt")
        restricted = _row_restricted(row, title_el)
        text = "" if restricted else render(content)
        title = _clean_title(title_el.get_text(" ")) if title_el is not None else first_line_title(text)
        if not restricted and (problem := too_long(text, source.max_item_chars, f"item {number} ({title})")):
            yield problem.at(source.origin)
            continue
        yield MinuteItem(
            source_id=with_item(base, number),
            text=text,
            council=page.council,
            committee=page.committee,
            meeting_date=page.meeting_date,
            item_title=title,
            source_url=page.url,
            origin=source.origin,
            restricted=restricted,
        )


def _item_rows(region) -> list[tuple[str, object, object]]:
    """(number text, row, content cell) for each agenda-item row of the page's item table."""
    table = region.select_one("table.mgItemTable, table#mgItemTable")
    if table is None:
        cell = region.select_one("td.mgItemNumberCell")
        table = cell.find_parent("table") if cell is not None else None
    if table is None:
        return []
    rows = []
    for tr in table.find_all("tr"):
        if tr.find_parent("table") is not table:
            continue  # a table inside an item's minutes
        cells = tr.find_all("td", recursive=False)
        number_cell = tr.find("td", class_="mgItemNumberCell", recursive=False)
        if number_cell is None and len(cells) >= 2:
            number_cell = cells[0]
        content = next((c for c in reversed(cells) if c is not number_cell), None)
        if content is None:
            continue
        number = number_cell.get_text(" ", strip=True) if number_cell is not None else ""
        if number or content.select_one(".mgAiTitleTxt") is not None:
            rows.append((number, tr, content))
    return rows


def _page_facts(soup, region, source: FileSource, has_rows: bool) -> _Page:
    url = _canonical_url(soup)
    kind = _page_kind(url, source.path.name, has_rows)
    committee, meeting_date = _meeting_from_heading(region, soup) if kind == "meeting" else ("", "")
    text = region.get_text("\n") if not committee else ""
    if not committee and (match := _MEETING_LINE.search(text)):
        committee = _SPACES.sub(" ", match.group(2)).strip()
        meeting_date = meeting_date or date_or_empty(match.group(1))
    elif not committee and (match := _MEETING_OF_LINE.search(text)):
        named = _SPACES.sub(" ", match.group(1))
        if when := _DATE_WORDS.search(named):
            committee = named[:when.start()].strip(" ,-\u2013")
            meeting_date = meeting_date or date_or_empty(when.group(0))
    return _Page(url, kind, _council(soup), committee, meeting_date)


def _page_kind(url: str, file_name: str, has_rows: bool) -> str:
    """From the ModernGov page name in the URL or the saved file's name, else the markup."""
    for name in (urlparse(url).path if url else "", file_name):
        for kind, pattern in _PAGE_NAMES:
            if pattern.search(name):
                return kind
    return "meeting" if has_rows else "item"


def _canonical_url(soup) -> str:
    from bs4 import Comment

    saved_from = ""
    for comment in soup.find_all(string=lambda s: isinstance(s, Comment)):
        if match := _SAVED_FROM.search(comment):
            saved_from = match.group(1)
            break
    candidates = [
        _attr(soup.find("link", rel="canonical"), "href"),
        _attr(soup.find("meta", property="og:url"), "content"),
        saved_from,
    ]
    for candidate in candidates:
        absolute = urljoin(saved_from, candidate.strip()) if candidate else ""
        if re.match(r"https?://[^\s/]+", absolute):
            return absolute.split("#", 1)[0]
    return ""


def _attr(tag, name: str) -> str:
    value = tag.get(name) if tag is not None else None
    return value if isinstance(value, str) else ""


def _council(soup) -> str:
    for attrs in ({"name": "DC.publisher"}, {"property": "og:site_name"}, {"name": "DC.creator"}):
        if value := _attr(soup.find("meta", attrs=attrs), "content").strip():
            return value
    title = soup.title.get_text(" ", strip=True) if soup.title else ""
    parts = [p.strip() for p in re.split(r"\s[|\u2013-]\s", title)]
    # A site name goes last in a page title; the first part is the page's own name. The guess counts
    # as what the file says, over the council the user names, so none is better than a wrong one.
    if len(parts) >= 2 and re.search(r"\b(council|borough|county)\b", parts[-1], re.IGNORECASE):
        if any(word.strip(",.()'").lower() not in NOT_PLACE_WORDS for word in parts[-1].split()):
            return parts[-1]
    return ""


def _meeting_from_heading(region, soup) -> tuple[str, str]:
    """('Committee', ISO date) from 'Committee - Tuesday, 20th September, 2022 6.00 pm'."""
    headings = [h.get_text(" ", strip=True) for h in region.select("h2.mgSubTitleTxt, h1, h2")]
    if soup.title:
        title = soup.title.get_text(" ", strip=True)
        headings.append(re.sub(r"^agenda (?:and minutes )?for\s+(.+?)\s+on\s+", r"\1 - ", title, flags=re.IGNORECASE))
    for heading in headings:
        heading = _SPACES.sub(" ", heading)
        if match := _DATE_WORDS.search(heading):
            iso = date_or_empty(match.group(0))
            if iso:
                committee = re.sub(r"\s*[-\u2013]\s*$", "", heading[: match.start()]).strip()
                return committee, iso
    return "", ""


def _page_title(region, kind: str) -> str:
    # Some themes put the item number in an mgAiTitleTxt of its own.
    item_titles = [e for e in region.select(".mgAiTitleTxt") if not re.fullmatch(r"[\w()/]+\.?", e.get_text(strip=True))]
    subtitles = region.select("h2.mgSubTitleTxt")
    ordered = (subtitles + item_titles) if kind == "issue" else (item_titles + subtitles)
    # The page's own h1 before any other heading: a page names itself in its h1.
    for element in ordered + region.find_all("h1") + region.find_all(["h2", "h3"]):
        title = _clean_title(element.get_text(" "))
        if title and title.lower() not in GENERIC_HEADINGS:
            return title
    return ""


def _first_specific_line(text: str) -> str:
    for line in text.splitlines():
        line = " ".join(line.split())
        if line and line.lower() not in GENERIC_HEADINGS:
            return line[:200]
    return ""


def _clean_title(text: str) -> str:
    return DOCUMENT_LABEL.sub("", _SPACES.sub(" ", text)).strip()


def _row_restricted(row, title_el) -> bool:
    cells = row.find_all("td", recursive=False)
    marked = [row, *cells] + ([title_el] if title_el is not None else [])
    if any(_CLASS_MARK.search(" ".join(el.get("class") or [])) for el in marked):
        return True
    if title_el is not None and title_marked_not_public(_clean_title(title_el.get_text(" "))):
        return True
    # Icons sit in the number cell or beside the title, never inside the minutes text.
    icon_places = ([title_el] if title_el is not None else []) + cells[:1]
    return _marked_icon(icon_places) or _restricted_link(row)


def _page_restricted(region) -> bool:
    headings = region.select("h1, h2, .mgAiTitleTxt, .mgSubTitleTxt")
    return any(_heading_marked(heading) for heading in headings) or _restricted_link(region)


def _from_moderngov(soup, url: str, file_name: str) -> bool:
    """Is the page one of ModernGov's, by its markup or its page name: its item pages hold one item's minutes."""
    if soup.select_one("#modgov, .mgContent, .mgAiTitleTxt, .mgSubTitleTxt, .mgItemTable") is not None:
        return True
    return any(pattern.search(name) for name in (urlparse(url).path if url else "", file_name)
               for _, pattern in _PAGE_NAMES)


def _title_restricted(region) -> bool:
    """Is the page's own title (its first h1, or its first heading if it has none) marked not for publication?"""
    title = _own_title(region)
    return _restricted_link(region) or (title is not None and _heading_marked(title))


def _own_title(region):
    return region.find("h1") or region.find(_HEADINGS)


def _heading_marked(heading) -> bool:
    """Is the heading marked not for publication: by its words ('(Exempt)'), its class, or an icon in it?"""
    return (title_marked_not_public(_clean_title(heading.get_text(" ")))
            or bool(_CLASS_MARK.search(" ".join(heading.get("class") or []))) or _marked_icon([heading]))


def _withheld_marked_parts(soup, region):
    """Take out the part of the page under each heading marked not for publication ('8. Contract Award
    (Exempt)'), but for the page's own title: what follows the heading, elements and loose text alike, up to the next
    heading of its level or above. The heading stays, so that the item is seen withheld. Returns None when done, or,
    leaving the page as it was, the first marked heading whose part cannot be told: nothing follows it in its block
    (its text is outside it), or a block after it holds the next heading (the part would take in public items, or
    leave exempt ones in). The caller then withholds the whole page, naming that heading."""
    from bs4 import Tag

    title = _own_title(region)
    for heading in region.find_all(_HEADINGS):
        if heading is title or heading.decomposed or not _heading_marked(heading):
            continue
        level = int(heading.name[1])

        def ends_the_part(element) -> bool:
            return element.name in _HEADINGS and int(element.name[1]) <= level

        part = []
        for sibling in heading.next_siblings:
            if isinstance(sibling, Tag):
                if ends_the_part(sibling):
                    break
                if sibling.find(ends_the_part) is not None:
                    return heading
            part.append(sibling)
        if not any(str(piece).strip() for piece in part if not isinstance(piece, Tag)) and not any(
                isinstance(piece, Tag) and piece.get_text(strip=True) for piece in part):
            return heading
        # A line of its own in the part's place keeps the heading apart from the next, so that the minutes still
        # split there; split_meeting withholds the item, this line with it.
        note = soup.new_tag("p")
        note.string = WITHHELD_LINE
        heading.insert_after(note)
        for piece in part:
            piece.extract()
    return None


def _marked_icon(places: list) -> bool:
    return any(
        _ALT_MARK.search(img.get("alt") or "") or _ALT_MARK.search(img.get("title") or "")
        for place in places
        for img in place.find_all("img")
    )


def _restricted_link(scope) -> bool:
    """ModernGov links a restricted item to mgReasonsRestricted.aspx; a link about a
    restricted document (an appendix) leaves the item itself public."""
    for link in scope.find_all("a", href=re.compile("ReasonsRestricted", re.IGNORECASE)):
        about_document = "ot=d" in link["href"].lower() or "document" in link.get_text(" ").lower()
        if not about_document:
            return True
    return False


def fragment_text(markup: str) -> str:
    """Plain text of an HTML fragment (a web service's minutes or agenda body), laid out like a saved page."""
    from bs4 import BeautifulSoup

    return render(BeautifulSoup(markup, "lxml")).strip()


def render(node) -> str:
    """Block elements become paragraphs separated by blank lines; list items '· ' lines; a table row one line,
    its cells joined as the Word reader joins them ("Children looked after | 410 | 432")."""
    out = _Lines()
    _walk(node, out, [])
    return out.text()


def _walk(node, out: "_Lines", lists: list[list]) -> None:
    """Write the node's children to `out`. A loop over a stack of the elements open, not a call for each element:
    minutes pasted from Word can leave thousands of tags unclosed, nested deeper than Python's calls may go, and
    such a page had failed whole (RecursionError)."""
    from bs4 import NavigableString, Tag

    # Each open element's children still to write, with the kind of element it is, to be closed once they are.
    open_elements: list[tuple] = [(iter(node.children), "")]
    while open_elements:
        children, kind = open_elements[-1]
        child = next(children, None)
        if child is None:
            open_elements.pop()
            _close(kind, out, lists)
            continue
        if isinstance(child, NavigableString):
            if type(child) is NavigableString:  # not a comment, doctype or CDATA
                out.add(str(child))
            continue
        if not isinstance(child, Tag) or child.name in _SKIP_TAGS:
            continue
        name = child.name
        if name == "br":
            out.newline(1)
            continue
        if name == "table" and not _is_layout_table(child):
            out.newline(2, hard=True)
            _table(child, out, lists)
            out.newline(2, hard=True)
            continue
        if name in ("ul", "ol"):
            kind = "list"
            out.newline(1 if lists else 2)
            lists.append([name, 0])
        elif name == "li":
            kind = "item"
            out.newline(1)
            marker = BULLET
            if lists:
                lists[-1][1] += 1
                if lists[-1][0] == "ol":
                    marker = f"{lists[-1][1]}. "
            out.marker = marker
        elif name in ("td", "th"):
            kind = "cell"
            out.newline(1, hard=True)
        elif name in _BLOCK_TAGS:
            kind = "block"
            out.newline(2)
        else:
            kind = ""
        open_elements.append((iter(child.children), kind))


def _close(kind: str, out: "_Lines", lists: list[list]) -> None:
    """What ends an element of this kind (see _walk) once its children are written."""
    if kind == "list":
        lists.pop()
        out.newline(1 if lists else 2)
    elif kind == "item":
        out.marker = None  # an empty item leaves no bare bullet behind
        out.newline(1)
    elif kind == "cell":
        out.newline(1, hard=True)
    elif kind == "block":
        out.newline(2)


def _is_layout_table(table) -> bool:
    classes = table.get("class") or []
    return (table.get("role") or "").lower() == "presentation" or any(_LAYOUT_CLASS.search(c) for c in classes) \
        or (table.get("id") or "") == "mgItemTable"


def _table(table, out: "_Lines", lists: list[list]) -> None:
    """One line per row. A row with one cell (a box around text, a heading across the table) keeps that cell's
    paragraphs; a table inside a cell gives that cell one line per row of its own."""
    from bs4 import NavigableString, Tag

    for child in table.children:
        if isinstance(child, Tag) and child.name in _ROW_GROUPS:
            _table(child, out, lists)
        elif isinstance(child, Tag) and child.name == "tr":
            _row(child, out, lists)
        elif isinstance(child, Tag) and child.name not in _SKIP_TAGS:  # a caption, or markup out of place
            out.newline(1, hard=True)
            _walk(child, out, lists)
            out.newline(1, hard=True)
        elif type(child) is NavigableString and child.strip():
            out.add(str(child))


def _row(row, out: "_Lines", lists: list[list]) -> None:
    cells = row.find_all(["td", "th"], recursive=False)
    # Decided before any cell is rendered, so that tables nested in one-cell rows are each walked once.
    if sum(1 for cell in cells if cell.get_text(strip=True)) < 2:
        for cell in cells:
            out.newline(1, hard=True)
            _walk(cell, out, lists)
            out.newline(1, hard=True)
        return
    texts = [_cell_text(cell) for cell in cells]
    while texts and not texts[-1]:
        texts.pop()
    for line in CELL_SEPARATOR.join(texts).split("\n"):
        out.newline(1, hard=True)
        out.add(line)
    out.newline(1, hard=True)


def _cell_text(cell) -> str:
    """A cell on one line: its paragraphs joined by a space, but each row of a table inside it a line of its own."""
    inner = _Lines(flat=True)
    _walk(cell, inner, [])
    return "\n".join(line.strip() for line in inner.text().split("\n") if line.strip())


class _Lines:
    """Collects text and line breaks; collapses HTML white space the way a browser does.

    A flat one (a table cell's) turns every break into a space but the hard ones (a table's rows)."""

    def __init__(self, *, flat: bool = False) -> None:
        self.flat = flat
        self.parts: list[str] = []
        self.pending = 0
        self.pending_hard = False
        # A list item's bullet waits for its first text, so that "<li><p>text</p></li>"
        # gives "· text" and an empty item gives nothing.
        self.marker: str | None = None

    def add(self, text: str) -> None:
        text = _SPACES.sub(" ", text)
        if not self.parts or self.pending or self.marker or self.parts[-1].endswith(" "):
            text = text.lstrip(" ")
        if not text:
            return
        if self.parts and self.pending:
            self.parts[-1] = self.parts[-1].rstrip(" ")
            self.parts.append(("\n" if self.pending_hard else " ") if self.flat else "\n" * self.pending)
        self.pending = 0
        self.pending_hard = False
        if self.marker:
            self.parts.append(self.marker)
            self.marker = None
        self.parts.append(text)

    def newline(self, count: int, *, hard: bool = False) -> None:
        if self.parts and self.marker is None:
            self.pending = max(self.pending, count)
            self.pending_hard = self.pending_hard or hard

    def text(self) -> str:
        return "".join(self.parts).rstrip(" ")
