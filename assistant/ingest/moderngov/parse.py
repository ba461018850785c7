"""ModernGov web-service XML (already checked and normalised by the client) into typed records.

Shapes relied on, from real replies: <committees><committee> with committeeid, committeetitle, committeedeleted,
committeeexpired; <getmeetings><committee><committeemeetings><meeting> with meetingid, meetingdate (dd/mm/yyyy),
meetingstatus; <meeting> with minutepublished, isdisplayallowed, <agendaitems><agendaitem> (with
<linkeddocuments><linkeddoc> holding url and isrestricted) and <attendees>.
Booleans are 'True'/'False', counts may carry spaces, titles and names may be escaped twice, titles may hold HTML.
"""

from __future__ import annotations

import datetime as dt
import html
import re
from dataclasses import dataclass
from xml.etree.ElementTree import Element

from assistant.ingest.moderngov.client import ServiceError

_DMY = re.compile(r"^\s*(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})(?!\d)")
# "15 Sep 2026", "Tuesday, 15th September 2026", "15-Sep-2026": a month by name, the day before it.
_DAY_MONTH_NAME = re.compile(r"^\s*(?:[A-Za-z]+,?\s+)?(\d{1,2})(?:st|nd|rd|th)?[\s.-]+([A-Za-z]{3,9})\.?[\s,.-]+(\d{4})"
                             r"(?!\d)")
_ISO = re.compile(r"^\s*(\d{4})-(\d{2})-(\d{2})(?!\d)")
_SPACES = re.compile(r"\s+")
# An HTML tag written into a title ('<b>Budget</b> Monitoring<br />Quarter 2'), once unescaped.
_TAG = re.compile(r"</?[a-z][a-z0-9]*(?:\s[^<>]*)?/?>", re.IGNORECASE)
# Between an item's number and its sub-number when the display format does not show one: 6 and 1 make 6.1, not 61.
SUB_NUMBER_SEPARATOR = "."


@dataclass(frozen=True)
class Committee:
    id: str
    title: str
    deleted: bool
    expired: bool
    category: str = ""

    @property
    def current(self) -> bool:
        return not self.deleted and not self.expired


@dataclass(frozen=True)
class MeetingRef:
    """A meeting as GetMeetings lists it."""

    id: str
    committee_id: str
    date: dt.date | None
    raw_date: str
    status: str

    @property
    def cancelled(self) -> bool:
        return is_cancelled(self.status)


@dataclass(frozen=True)
class Attendee:
    name: str
    role: str
    attendance: str


@dataclass(frozen=True)
class AgendaItem:
    id: str
    title: str
    display_number: str  # as the public sees it: "5.", "7a"
    agenda_number: str  # agendaitemnumber and agendaitemsubnumber: "6.1"
    minutes_number: str
    agenda_html: str
    minutes_html: str
    restricted: bool
    minutes_published: bool | None  # None when the reply does not say
    documents: tuple[str, ...] = ()  # the URLs of its public linked documents (reports, PDF minutes)


@dataclass(frozen=True)
class Meeting:
    id: str
    date: dt.date | None
    status: str
    display_allowed: bool
    minutes_published: bool | None
    items: tuple[AgendaItem, ...]
    attendees: tuple[Attendee, ...]
    # Whether the reply holds <agendaitems>, as every meeting record ModernGov sends does (a cancelled one's empty).
    lists_items: bool = True

    @property
    def cancelled(self) -> bool:
        return is_cancelled(self.status)


def is_cancelled(status: str) -> bool:
    return status.strip().lower().startswith(("cancel", "postpone"))


def parse_committees(root: Element) -> list[Committee]:
    if root.tag not in ("committees", "getcommittees") and root.find(".//committee") is None:
        raise _unexpected("GetCommittees", root, "committees")
    committees = []
    for element in root.iter("committee"):
        committee_id = _text(element, "committeeid")
        if committee_id:
            committees.append(Committee(
                committee_id, unescape_title(_text(element, "committeetitle")),
                _bool(_text(element, "committeedeleted")) is True, _bool(_text(element, "committeeexpired")) is True,
                unescape_title(_text(element, "committeecategory"))))
    return committees


def parse_meetings(root: Element, committee_id: str) -> list[MeetingRef]:
    """The committee's meetings; meetings listed under another committee are left out."""
    if root.tag not in ("getmeetings", "meetings") and root.find(".//meeting") is None and \
            root.find(".//committee") is None:
        raise _unexpected("GetMeetings", root, "getmeetings")
    parents = {child: parent for parent in root.iter() for child in parent}
    found: dict[str, MeetingRef] = {}
    for element in root.iter("meeting"):
        meeting_id = _text(element, "meetingid")
        owner = _owning_committee(element, parents)
        if not meeting_id or (owner and owner != committee_id) or meeting_id in found:
            continue
        raw = _text(element, "meetingdate")
        found[meeting_id] = MeetingRef(meeting_id, committee_id, service_date(raw), raw,
                                       _text(element, "meetingstatus"))
    return list(found.values())


def lists_committee_in_full(root: Element, committee_id: str) -> bool:
    """Whether a GetMeetings reply is the whole list of this committee's meetings in the window asked for: it names
    this committee (or no committee at all), and holds as many rows of its meetings as its own count says. A reply about
    other committees only (a cache that ignores the query string), one short of its count, or one listing nothing
    is not."""
    committees = list(root.iter("committee"))
    ours = [c for c in committees if _text(c, "committeeid") == committee_id]
    if committees and len(ours) != 1:
        return False
    scope = ours[0] if ours else root
    count = (_text(scope, "committeemeetingcount") if ours else "") or (
        _text(root, "meetingscount") if len(committees) <= 1 else "")
    # Its rows, not its meetings: a listing that names a meeting twice counts it twice, and had been taken for one
    # cut short, so that a meeting deleted from the site was never withdrawn.
    rows = [meeting_id for m in scope.iter("meeting") if (meeting_id := _text(m, "meetingid"))]
    if not rows:  # a glitch that lists nothing must not withdraw a committee's minutes
        return False
    return not count or (count.isdigit() and len(rows) >= int(count))


def _owning_committee(element: Element, parents: dict) -> str:
    """The id of the <committee> a meeting is listed under, if any (a server may list every committee's)."""
    node = parents.get(element)
    while node is not None:
        if node.tag == "committee":
            return _text(node, "committeeid")
        node = parents.get(node)
    return ""


def parse_meeting(root: Element) -> Meeting:
    if root.tag != "meeting":
        inner = root.find(".//meeting")
        if inner is None:
            raise _unexpected("GetMeeting", root, "meeting")
        root = inner
    meeting_published = _bool(_text(root, "minutepublished"))
    items = []
    for element in root.iter("agendaitem"):
        item_id = _text(element, "agendaitemid")
        if not item_id:
            continue
        restricted = _bool(_text(element, "isrestricted")) is True or _bool(_text(element, "isdisplayallowed")) is False
        display = _text(element, "fulldisplaynumberformat").rstrip(".")
        number = item_number(_text(element, "agendaitemnumber"), _text(element, "agendaitemsubnumber"), display)
        minutes_number = item_number(_text(element, "minutesitemnumber"), _text(element, "minutesitemsubnumber"),
                                     display)
        items.append(AgendaItem(
            item_id, unescape_title(_text(element, "agendaitemtitle")), display or number, number, minutes_number,
            _raw(element, "agendatext"), _raw(element, "minutesnonemptyhtmlbody"), restricted,
            _bool(_text(element, "isminutepublished")), _public_documents(element)))
    attendees = []
    for element in root.iter("attendee"):
        name, role, attendance = (unescape_title(element.get(field) or _text(element, field))
                                  for field in ("name", "roledescription", "attendance"))
        if name:
            attendees.append(Attendee(name, role, attendance))
    return Meeting(_text(root, "meetingid"), service_date(_text(root, "meetingdate")), _text(root, "meetingstatus"),
                   _bool(_text(root, "isdisplayallowed")) is not False, meeting_published, tuple(items),
                   tuple(attendees), bool(items) or root.find(".//agendaitems") is not None)


def _public_documents(agenda_item: Element) -> tuple[str, ...]:
    return tuple(url for doc in agenda_item.iter("linkeddoc")
                 if (url := _text(doc, "url")) and _bool(_text(doc, "isrestricted")) is not True)


def service_date(text: str) -> dt.date | None:
    """'10/02/2026' (day first, as ModernGov sends it; '10-02-2026' and '10.02.2026' too), '2026-02-10', or with
    the month by name ('10 Feb 2026', 'Tuesday, 10th February 2026'); None when unreadable."""
    from assistant.text import MONTH_NUMBERS

    if match := _DAY_MONTH_NAME.match(text or ""):
        month = MONTH_NUMBERS.get(match.group(2).lower())
        return _date(int(match.group(3)), month, int(match.group(1))) if month else None
    for pattern, order in ((_DMY, (2, 1, 0)), (_ISO, (0, 1, 2))):
        if match := pattern.match(text or ""):
            year, month, day = (int(match.group(i + 1)) for i in order)
            return _date(year, month, day)
    return None


def _date(year: int, month: int, day: int) -> dt.date | None:
    try:
        return dt.date(year, month, day)
    except ValueError:
        return None


def item_number(number: str, sub_number: str, display: str = "") -> str:
    """'6' and '1' -> '6.1': joined as the display format joins them ('6.1', '6a', '6(a)'), else with a dot. The
    display's own numbers may differ (a council renumbers items for the public): only its punctuation is taken."""
    if not sub_number:
        return number
    if not number:
        return sub_number
    shown = re.fullmatch(rf".*?[^\W_]([\W_]*){re.escape(sub_number)}([)\]]?)", display)
    if shown:
        return number + shown.group(1) + sub_number + shown.group(2)
    return number + SUB_NUMBER_SEPARATOR + sub_number


def unescape_title(text: str) -> str:
    """Undo escaping applied once or twice ('Children&amp;#39;s' -> "Children's"), take out HTML tags
    ('<b>Budget</b> Monitoring<br />Quarter 2' -> 'Budget Monitoring Quarter 2') and tidy white space."""
    for _ in range(3):
        unescaped = html.unescape(text)
        if unescaped == text:
            break
        text = unescaped
    if _TAG.search(text):
        from assistant.ingest.readers.html import fragment_text

        text = fragment_text(text)
    return _SPACES.sub(" ", text).strip()


def _text(element: Element, name: str) -> str:
    return _SPACES.sub(" ", element.findtext(name) or "").strip()


def _raw(element: Element, name: str) -> str:
    return (element.findtext(name) or "").strip()


def _bool(text: str) -> bool | None:
    value = text.strip().lower()
    if value in ("true", "1", "yes", "y"):
        return True
    if value in ("false", "0", "no", "n"):
        return False
    return None


def _unexpected(operation: str, root: Element, wanted: str) -> ServiceError:
    return ServiceError(
        f"{operation} answered XML whose root is <{root.tag}>, not <{wanted}>: this does not look like a ModernGov "
        "web service.",
        "Check the base URL in a browser: the address before /mgListCommittees.aspx is the one to give.")
