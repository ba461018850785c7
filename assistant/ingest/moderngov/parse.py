"""ModernGov web-service XML (already checked and normalised by the client) into typed records.

Shapes relied on, from real replies: <committees><committee> with committeeid, committeetitle, committeedeleted,
committeeexpired; <getmeetings><committee><committeemeetings><meeting> with meetingid, meetingdate (dd/mm/yyyy),
meetingstatus; <meeting> with minutepublished, isdisplayallowed, <agendaitems><agendaitem> (with
<linkeddocuments><linkeddoc> holding url and isrestricted) and <attendees>.
Booleans are 'True'/'False', counts may carry spaces, titles may be escaped twice.
"""

from __future__ import annotations

import datetime as dt
import html
import re
from dataclasses import dataclass
from xml.etree.ElementTree import Element

from assistant.ingest.moderngov.client import ServiceError

_DMY = re.compile(r"^\s*(\d{1,2})/(\d{1,2})/(\d{4})(?!\d)")
_ISO = re.compile(r"^\s*(\d{4})-(\d{2})-(\d{2})(?!\d)")
_SPACES = re.compile(r"\s+")


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
    agenda_number: str  # agendaitemnumber + agendaitemsubnumber
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
        number = _text(element, "agendaitemnumber") + _text(element, "agendaitemsubnumber")
        minutes_number = _text(element, "minutesitemnumber") + _text(element, "minutesitemsubnumber")
        items.append(AgendaItem(
            item_id, unescape_title(_text(element, "agendaitemtitle")),
            _text(element, "fulldisplaynumberformat").rstrip(".") or number, number, minutes_number,
            _raw(element, "agendatext"), _raw(element, "minutesnonemptyhtmlbody"), restricted,
            _bool(_text(element, "isminutepublished")), _public_documents(element)))
    attendees = []
    for element in root.iter("attendee"):
        name = _SPACES.sub(" ", element.get("name") or _text(element, "name")).strip()
        if name:
            attendees.append(Attendee(name, (element.get("roledescription") or _text(element, "roledescription")).strip(),
                                      (element.get("attendance") or _text(element, "attendance")).strip()))
    return Meeting(_text(root, "meetingid"), service_date(_text(root, "meetingdate")), _text(root, "meetingstatus"),
                   _bool(_text(root, "isdisplayallowed")) is not False, meeting_published, tuple(items),
                   tuple(attendees))


def _public_documents(agenda_item: Element) -> tuple[str, ...]:
    return tuple(url for doc in agenda_item.iter("linkeddoc")
                 if (url := _text(doc, "url")) and _bool(_text(doc, "isrestricted")) is not True)


def service_date(text: str) -> dt.date | None:
    """'10/02/2026' (day first, as ModernGov sends it) or '2026-02-10'; None when unreadable."""
    for pattern, order in ((_DMY, (2, 1, 0)), (_ISO, (0, 1, 2))):
        if match := pattern.match(text or ""):
            year, month, day = (int(match.group(i + 1)) for i in order)
            try:
                return dt.date(year, month, day)
            except ValueError:
                return None
    return None


def unescape_title(text: str) -> str:
    """Undo escaping applied once or twice ('Children&amp;#39;s' -> "Children's") and tidy white space."""
    for _ in range(3):
        unescaped = html.unescape(text)
        if unescaped == text:
            break
        text = unescaped
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
