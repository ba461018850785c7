"""One fetched meeting into index items: every public agenda item with published minutes text becomes
exactly one MinuteItem, whatever its title; restricted items keep nothing but their identity."""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace

from assistant.ingest.moderngov.parse import AgendaItem, Meeting
from assistant.ingest.readers.common import (MAX_ITEM_CHARS_VAR, document_marked_not_public, title_marked_not_public,
                                             too_long)
from assistant.ingest.readers.html import fragment_text
from assistant.records import ITEM_PAGE, InputProblem, MinuteItem, content_hash
from assistant.text import one_printed_line

# The version of the rules that read a meeting's reply into items (decoding, parsing, the text and names taken):
# raised with any change that would give an item already indexed other text or metadata. A meeting recorded as read
# by older rules is read again once, in full, without its validators: the site's bytes did not change, so, asked
# with its ETag or Last-Modified, it answers 304, and its items would keep what the old rules made of them for good.
#   1: a reply in UTF-8 labelled ISO-8859-1 or windows-1252 is read as UTF-8 (e48c649: 'Children’s' had gone in
#      as 'Childrenâ€™s')
READING_RULES = 1


@dataclass
class MeetingItems:
    """What one meeting gives the index, and what it held back."""

    public: list[MinuteItem] = field(default_factory=list)
    # Identity only (no title, no text): lets the ingest withdraw an item that was public before.
    restricted: list[MinuteItem] = field(default_factory=list)
    without_minutes: int = 0
    problems: list[InputProblem] = field(default_factory=list)
    # The public linked documents of public items: where a council that writes no minutes text in ModernGov
    # publishes its minutes instead (as PDFs).
    documents: list[str] = field(default_factory=list)
    too_long: list[str] = field(default_factory=list)  # public items left out for their length: not withdrawn

    def accounted_for(self) -> set[str]:
        """The items this meeting still says something about: public ones (even those too long to keep), and
        restricted ones, which the ingest withdraws as such. An item it held before and is not among these has
        been deleted, emptied or unpublished."""
        return {i.source_id for i in self.public + self.restricted} | set(self.too_long)

    def digest(self) -> str:
        """Changes when anything the index would get from this meeting changes; restricted text plays no part."""
        return content_hash(*(i.item_hash for i in self.public), *(i.source_id for i in self.restricted),
                            str(self.without_minutes), *(p.describe() for p in self.problems))


def item_url(base_url: str, agenda_item_id: str) -> str:
    """The public page of one agenda item: the item's source identity and its citation link."""
    return f"{base_url}{ITEM_PAGE}{agenda_item_id}"


def meeting_items(meeting: Meeting, *, base_url: str, council: str, committee: str,
                  max_item_chars: int) -> MeetingItems:
    made = MeetingItems()
    meeting_date = meeting.date.isoformat() if meeting.date else ""
    attendees = json.dumps([{"name": a.name, "role": a.role, "attendance": a.attendance} for a in meeting.attendees],
                           ensure_ascii=False)
    seen_ids: set[str] = set()
    seen_contents: set[str] = set()
    for agenda_item in meeting.items:
        url = item_url(base_url, agenda_item.id)
        content = content_hash(agenda_item.title, agenda_item.agenda_html, agenda_item.minutes_html,
                               str(agenda_item.restricted))
        if agenda_item.id in seen_ids:
            # One agenda item id given to two items of the meeting (seen in sites' data): the same item twice is
            # taken once, and another keeps an identity of its own, from its content, so neither is lost.
            if content in seen_contents:
                continue
            url = f"{url}#{content[:12]}"
        seen_ids.add(agenda_item.id)
        seen_contents.add(content)
        if agenda_item.restricted or not meeting.display_allowed:
            made.restricted.append(MinuteItem(source_id=url, text="", origin=url, restricted=True))
            continue
        made.documents.extend(agenda_item.documents)
        text = fragment_text(_html(agenda_item.minutes_html)) if agenda_item.minutes_html else ""
        if not text or not _published(agenda_item, meeting):
            made.without_minutes += 1
            continue
        origin = f"{url} ({committee}, {meeting_date or 'undated'}, item {agenda_item.display_number or '?'})"
        if marking := _marked_not_public(agenda_item.title, text):
            # Withheld as a saved meeting page's or a PDF's item so marked is: a site that left the item's flags
            # unset must not put exempt minutes in the index.
            made.restricted.append(MinuteItem(source_id=url, text="", origin=url, restricted=True))
            made.problems.append(InputProblem(origin, "restricted", f"{marking}: not indexed", _MARKED_HINT))
            continue
        if problem := too_long(text, max_item_chars, f"the minutes of {agenda_item.title or 'an item'}"):
            made.problems.append(replace(problem.at(origin), hint=_too_long_hint(max_item_chars)))
            made.too_long.append(url)
            continue
        made.public.append(MinuteItem(
            source_id=url, text=text, council=council, committee=committee, meeting_date=meeting_date,
            item_title=agenda_item.title, source_url=url, origin=origin,
            details=_details(meeting, agenda_item, attendees),
        ))
    return made


_MARKED_HINT = ("the site does not flag it restricted: if it is public after all, ask the council's web team to take "
               "the marking out of its title or minutes: a fetch that reads its meeting again then indexes it")


def _too_long_hint(max_item_chars: int) -> str:
    """Not a file's hint (to split it): the item is the site's, and its meeting is read again on every run."""
    return (f"Raise the cap by setting {MAX_ITEM_CHARS_VAR} (now {max_item_chars:,}) above its length and run the "
            "fetch again: its meeting is read again in full on every run until the item is in.")


def _marked_not_public(title: str, text: str) -> str:
    """How an item's title or the opening of its minutes marks it not for publication, or ''."""
    if title_marked_not_public(title):
        return f"its title marks it not for publication ({title!r})"
    if marking := document_marked_not_public(text):
        return f"its minutes open with a marking not for publication ({one_printed_line(marking)!r})"
    return ""


def _published(agenda_item: AgendaItem, meeting: Meeting) -> bool:
    flag = agenda_item.minutes_published
    if flag is None:
        flag = meeting.minutes_published
    return flag is not False


def _details(meeting: Meeting, agenda_item: AgendaItem, attendees: str) -> dict[str, str]:
    agenda_text = fragment_text(_html(agenda_item.agenda_html)) if agenda_item.agenda_html else ""
    return {
        "meeting_id": meeting.id,
        "agenda_item_id": agenda_item.id,
        "item_number": agenda_item.display_number,
        "agenda_item_number": agenda_item.agenda_number,
        "minutes_item_number": agenda_item.minutes_number,
        "agenda_text": agenda_text,
        "attendees": attendees,
    }


def _html(markup: str) -> str:
    """The body as HTML, even where a server escaped it a second time ('&lt;p&gt;' with no tag in sight)."""
    if "<" not in markup and "&lt;" in markup:
        import html

        return html.unescape(markup)
    return markup
