"""A ModernGov-shaped web service on loopback, for `assistant fetch` tests.

It answers `{base}/mgWebService.asmx/GetCommittees`, `GetMeetings` and `GetMeeting` with XML in the shape of the
real recorded replies in ../shared/moderngov (counts with leading spaces, escaped Word HTML, True/False), from
committees and meetings the test describes, or replays recorded files. Tests can queue odd replies (503 with
Retry-After, 500, HTML with status 200, malformed XML, a body trickled a byte at a time), turn on ETags, and read
every request it got.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit
from xml.sax.saxutils import escape

from conftest import CORPUS

HTML_PAGE = (b"<!DOCTYPE html>\n<html><head><title>Sign in</title></head><body><h1>Please sign in</h1>"
             b"<form action='/login'><input name='user'></form></body></html>")


@dataclass
class FakeItem:
    id: str
    title: str
    minutes: str = ""  # HTML, as a council writes it in ModernGov
    agenda: str = ""
    restricted: bool = False
    published: bool = True
    number: str = "1"
    raw_title: str = ""  # put into the XML as it is (already escaped, perhaps twice)
    documents: list[str] = field(default_factory=list)  # linked documents (PDFs), by title


@dataclass
class FakeMeeting:
    id: str
    committee_id: str
    date: dt.date
    items: list[FakeItem] = field(default_factory=list)
    status: str = "Confirmed"
    minutes_published: bool = True
    attendees: list[tuple[str, str, str]] = field(default_factory=list)  # name, role, attendance
    also_listed_by: tuple[str, ...] = ()  # other committees whose listings name it too (a joint meeting)


@dataclass
class FakeCommittee:
    id: str
    title: str = ""
    raw_title: str = ""
    expired: bool = False
    deleted: bool = False


@dataclass
class Canned:
    """A reply to send instead of the real one."""

    status: int
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    trickle: float = 0.0  # seconds between the body's bytes, sent one at a time: a reply that never quite stalls


@dataclass(frozen=True)
class Seen:
    operation: str
    params: dict[str, str]  # names lower-cased
    headers: dict[str, str]  # names lower-cased
    at: float


def paragraphs_html(text: str) -> str:
    """Word-style HTML from plain text, one <p class="MsoNormal"> a paragraph."""
    paragraphs = [p.strip() for p in text.split("\n\n") if p.strip()]
    body = "\n".join(f'<p class="MsoNormal"><span style="">{escape(p)}</span></p>' for p in paragraphs)
    return f'<div class="WordSection1">\n{body}\n</div>\n'


def corpus_minutes(stem: str, paragraphs: int = 6) -> str:
    """Minute text of one of the project's own corpus items, without its front matter."""
    text = (CORPUS / f"{stem}.md").read_text(encoding="utf-8").split("---", 2)[2]
    kept = [p.strip() for p in text.split("\n\n") if len(p.strip()) > 40][:paragraphs]
    return "\n\n".join(kept)


class ModernGovSite:
    def __init__(self, committees: list[FakeCommittee], meetings: list[FakeMeeting], *, base_path: str = "/moderngov",
                 crlf: bool = False, etags: bool = False, last_modified: bool = False, ignore_dates: bool = False,
                 recorded: dict[tuple[str, str], Path] | None = None) -> None:
        self.committees = committees
        self.meetings = {m.id: m for m in meetings}
        self.base_path = base_path.rstrip("/")
        self.crlf, self.etags, self.last_modified, self.ignore_dates = crlf, etags, last_modified, ignore_dates
        self.recorded = recorded or {}
        self.queued: dict[tuple[str, str], list[Canned]] = {}
        self.always: dict[tuple[str, str], Canned] = {}
        self.delays: dict[tuple[str, str], float] = {}  # seconds to sit on a request before answering it
        self.html_everywhere = False
        self.relative_documents = False  # linked documents' <url> relative to the site, as some sites write them
        self.requests: list[Seen] = []
        self.request_arrived = threading.Event()
        self._server: ThreadingHTTPServer | None = None

    # ------------------------------------------------------------ control

    def start(self) -> str:
        site = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 (http.server's name)
                site._answer(self)

            def log_message(self, *args):
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self.base_url

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    @property
    def base_url(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_address[1]}{self.base_path}"

    def queue(self, operation: str, key: str, *replies: Canned) -> None:
        self.queued.setdefault((operation.lower(), key), []).extend(replies)

    def seen(self, operation: str) -> list[Seen]:
        return [r for r in self.requests if r.operation == operation.lower()]

    # ------------------------------------------------------------ serving

    def _answer(self, handler: BaseHTTPRequestHandler) -> None:
        parts = urlsplit(handler.path)
        prefix = f"{self.base_path}/mgWebService.asmx/".lower()
        if not parts.path.lower().startswith(prefix):
            return self._send(handler, Canned(404, b"<html><body>Not found</body></html>",
                                              {"Content-Type": "text/html"}))
        operation = parts.path[len(prefix):].strip("/").lower()
        params = {k.lower(): v for k, v in parse_qsl(parts.query, keep_blank_values=True)}
        headers = {k.lower(): v for k, v in handler.headers.items()}
        self.requests.append(Seen(operation, params, headers, time.monotonic()))
        self.request_arrived.set()
        key = params.get("lmeetingid") or params.get("lcommitteeid") or ""
        if (operation, key) in self.delays:
            time.sleep(self.delays[(operation, key)])
        if self.html_everywhere:
            return self._send(handler, Canned(200, HTML_PAGE, {"Content-Type": "text/html; charset=utf-8"}))
        waiting = self.queued.get((operation, key)) or self.queued.get((operation, "*"))
        if waiting:
            return self._send(handler, waiting.pop(0))
        if (operation, key) in self.always:
            return self._send(handler, self.always[(operation, key)])
        body = self._body(operation, params, key)
        if body is None:
            return self._send(handler, Canned(500, b"<html><body>Server Error</body></html>",
                                              {"Content-Type": "text/html"}))
        reply_headers = {"Content-Type": "text/xml; charset=utf-8"}
        if operation == "getmeeting":
            tag = '"' + hashlib.sha256(body).hexdigest()[:16] + '"'
            stamp = "Mon, 01 Jul 2024 10:00:00 GMT"
            if self.etags:
                reply_headers["ETag"] = tag
                if headers.get("if-none-match") == tag:
                    return self._send(handler, Canned(304, b"", {"ETag": tag}))
            if self.last_modified:
                reply_headers["Last-Modified"] = stamp
                if headers.get("if-modified-since") == stamp:
                    return self._send(handler, Canned(304, b""))
        self._send(handler, Canned(200, body, reply_headers))

    def _send(self, handler: BaseHTTPRequestHandler, canned: Canned) -> None:
        if canned.delay:
            time.sleep(canned.delay)
        try:
            handler.send_response(canned.status)
            for name, value in canned.headers.items():
                handler.send_header(name, value)
            if "Content-Length" not in canned.headers:  # one given says more than is sent: a reply cut off
                handler.send_header("Content-Length", str(len(canned.body)))
            handler.end_headers()
            if canned.trickle:
                for byte in canned.body:
                    handler.wfile.write(bytes([byte]))
                    handler.wfile.flush()
                    time.sleep(canned.trickle)
            elif canned.body:
                handler.wfile.write(canned.body)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client was killed mid-reply: that is what some tests do

    def _body(self, operation: str, params: dict[str, str], key: str) -> bytes | None:
        if (operation, key) in self.recorded:
            return self.recorded[(operation, key)].read_bytes()
        if operation == "getcommittees":
            text = self._committees()
        elif operation == "getmeetings":
            text = self._meetings(key, params.get("sfromdate", ""), params.get("stodate", ""))
        elif operation == "getmeeting" and key in self.meetings:
            text = self._meeting(self.meetings[key])
        elif operation == "getmeeting":  # as ModernGov answers for a meeting it does not have: an empty one, id 0
            text = ('<?xml version="1.0" encoding="utf-8"?>\n<meeting>\n  <meetingid>0</meetingid>\n'
                    "  <meetingdate>\n  </meetingdate>\n  <agendaitems>\n  </agendaitems>\n</meeting>\n")
        else:
            return None
        if self.crlf:
            text = text.replace("\n", "\r\n")
        return text.encode("utf-8")

    def _committees(self) -> str:
        rows = "".join(
            f"  <committee>\n    <committeeid>{c.id}</committeeid>\n"
            f"    <committeetitle>{c.raw_title or escape(c.title)}</committeetitle>\n"
            f"    <committeedeleted>{c.deleted}</committeedeleted>\n"
            f"    <committeeexpired>{c.expired}</committeeexpired>\n"
            f"    <committeecategory>Committees</committeecategory>\n  </committee>\n"
            for c in self.committees)
        return (f'<?xml version="1.0" encoding="utf-8"?>\n<committees>\n'
                f"  <committeescount> {len(self.committees)}</committeescount>\n{rows}</committees>\n")

    def _meetings(self, committee_id: str, since: str, until: str) -> str:
        def day(text: str) -> dt.date | None:
            try:
                return dt.datetime.strptime(text, "%d/%m/%Y").date()
            except ValueError:
                return None

        start, end = day(since), day(until)
        chosen = [m for m in self.meetings.values() if committee_id in (m.committee_id, *m.also_listed_by) and (
            self.ignore_dates or ((start is None or m.date >= start) and (end is None or m.date <= end)))]
        committee = next((c for c in self.committees if c.id == committee_id), FakeCommittee(committee_id, "?"))
        rows = "".join(
            f"      <meeting>\n        <meetingid>{m.id}</meetingid>\n"
            f"        <meetingdate>{m.date:%d/%m/%Y}</meetingdate>\n"
            f"        <meetingstatus>{m.status}</meetingstatus>\n        <meetingtime>10.00 am</meetingtime>\n"
            f"        <iswebcast>False</iswebcast>\n      </meeting>\n" for m in chosen)
        return (f'<?xml version="1.0" encoding="utf-8"?>\n<getmeetings>\n'
                f"  <meetingscount> {len(chosen)}</meetingscount>\n  <committeescount> 1</committeescount>\n"
                f"  <committee>\n    <committeeid>{committee.id}</committeeid>\n"
                f"    <committeetitle>{committee.raw_title or escape(committee.title)}</committeetitle>\n"
                f"    <committeemeetingcount> {len(chosen)}</committeemeetingcount>\n"
                f"    <committeemeetings>\n{rows}    </committeemeetings>\n  </committee>\n</getmeetings>\n")

    def _meeting(self, m: FakeMeeting) -> str:
        items = "".join(self._item(m, item) for item in m.items)
        attendees = "".join(
            f'    <attendee membertype="U" memberid="{n}" name="{escape(name)}" roledescription="{escape(role)}" '
            f'attendance="{escape(attendance)}">\n      <url>https://example.invalid/mgUserInfo.aspx?UID={n}</url>\n'
            f"    </attendee>\n" for n, (name, role, attendance) in enumerate(m.attendees, start=1))
        return (f'<?xml version="1.0" encoding="utf-8"?>\n<meeting>\n  <meetingid>{m.id}</meetingid>\n'
                f"  <meetingdate>{m.date:%d/%m/%Y}</meetingdate>\n  <meetingstatus>{m.status}</meetingstatus>\n"
                f"  <isdisplayallowed>True</isdisplayallowed>\n  <meetingtime>10.00 am</meetingtime>\n"
                f"  <meetinglocation>Town Hall</meetinglocation>\n  <agendaid>{m.id}</agendaid>\n"
                f"  <agendapublished>True</agendapublished>\n  <decisionpublished>False</decisionpublished>\n"
                f"  <minutepublished>{m.minutes_published}</minutepublished>\n"
                f"  <agendaitems>\n{items}  </agendaitems>\n  <attendees>\n{attendees}  </attendees>\n</meeting>\n")

    def _item(self, m: FakeMeeting, item: FakeItem) -> str:
        return (f"    <agendaitem>\n      <agendaitemid>{item.id}</agendaitemid>\n"
                f"      <agendaitemtitle>{item.raw_title or escape(item.title)}</agendaitemtitle>\n"
                f"      <agendatext>{escape(item.agenda)}</agendatext>\n"
                f"      <agendaitemnumber>{item.number}</agendaitemnumber>\n"
                f"      <agendaitemsubnumber>\n      </agendaitemsubnumber>\n"
                f"      <fulldisplaynumberformat>{item.number}.</fulldisplaynumberformat>\n"
                f"      <minutesnonemptyhtmlbody>{escape(item.minutes)}</minutesnonemptyhtmlbody>\n"
                f"      <declarationcount> 0</declarationcount>\n"
                f"      <isminutepublished>{item.published and m.minutes_published}</isminutepublished>\n"
                f"      <isrestricted>{item.restricted}</isrestricted>\n"
                f"      <isdisplayallowed>{not item.restricted}</isdisplayallowed>\n"
                f"      <meetingdate>{m.date:%d/%m/%Y}</meetingdate>\n"
                f"      <minutesitemnumber>{item.number}</minutesitemnumber>\n"
                f"      <minutesitemsubnumber>\n      </minutesitemsubnumber>\n"
                f"      <linkeddocuments>\n{self._documents(item)}      </linkeddocuments>\n    </agendaitem>\n")

    def _documents(self, item: FakeItem) -> str:
        return "".join(
            f"        <linkeddoc>\n          <attachmentid>{item.id}{n}</attachmentid>\n"
            f"          <title>{escape(title)}</title>\n          <isurl>False</isurl>\n"
            f"          <url>{self._document_link(item, n)}</url>\n"
            f"          <isrestricted>{item.restricted}</isrestricted>\n        </linkeddoc>\n"
            for n, title in enumerate(item.documents))

    def document_url(self, item: FakeItem, n: int = 0) -> str:
        return f"{self.base_url}/mgConvert2PDF.aspx?ID={item.id}{n}"

    def _document_link(self, item: FakeItem, n: int) -> str:
        return f"mgConvert2PDF.aspx?ID={item.id}{n}" if self.relative_documents else self.document_url(item, n)


# ---------------------------------------------------------------- the project's own fixture site

RESTRICTED_SECRET = "Quillfeather tender scored 87 points and the Harrowgate bid was rejected"
RESTRICTED_TITLE = "Zanzibar Residential Placement Contract (Exempt)"
WINDOW = ("2024-01-01", "2024-12-31")


def own_site(*, restricted_text: str = RESTRICTED_SECRET, **options) -> ModernGovSite:
    """Several committees and meetings built from the project's own corpus, with every awkward case."""
    committees = [
        FakeCommittee("101", raw_title="Children&amp;#39;s Services Scrutiny Committee"),
        FakeCommittee("102", "Corporate Parenting Panel"),
        FakeCommittee("103", "Audit Committee", expired=True),
        FakeCommittee("104", "Children in Care Council", deleted=True),
    ]
    meetings = [
        FakeMeeting("1001", "101", dt.date(2024, 3, 5), items=[
            FakeItem("5001", "Apologies for Absence", paragraphs_html("Apologies for absence were received from "
                                                                      "Councillor Ann Hartley."), number="1"),
            FakeItem("5002", "", paragraphs_html(corpus_minutes("barnsley-2018-csc-performance")),
                     agenda=paragraphs_html("To receive the performance report."), number="2",
                     raw_title="Children&amp;#39;s Social Care Performance"),
            FakeItem("5003", RESTRICTED_TITLE, paragraphs_html(restricted_text + "."), restricted=True, number="3"),
            FakeItem("5004", "Work Programme", "", number="4"),
        ], attendees=[("Councillor Ann Hartley", "Chair", "Apologies"), ("Councillor Ben Okoro", "Committee Member",
                                                                         "Present")]),
        FakeMeeting("1002", "101", dt.date(2024, 6, 11), status="Cancelled"),
        FakeMeeting("1003", "102", dt.date(2024, 6, 3), items=[
            FakeItem("5010", "Declarations of Interest", paragraphs_html(
                "Councillor Ben Okoro declared a personal interest as a foster carer."), number="1"),
            FakeItem("5011", "Performance Feedback", paragraphs_html(
                corpus_minutes("rotherham-2018-ilsc-performance-feedback")), number="2"),
        ], attendees=[("Councillor Carol Dunne", "Chair", "Present"), ("Councillor Ben Okoro", "Vice-Chair",
                                                                       "Present")]),
        FakeMeeting("1004", "102", dt.date(2024, 9, 2), minutes_published=False, items=[
            FakeItem("5020", "Fostering Service Annual Report", "", published=False, number="1"),
            FakeItem("5021", "Sufficiency Strategy", "", published=False, number="2"),
        ]),
        FakeMeeting("1005", "102", dt.date(2023, 1, 10), items=[
            FakeItem("5030", "Old Minutes", paragraphs_html("Members noted the old report on leaving care."))]),
        FakeMeeting("1006", "103", dt.date(2024, 5, 1), items=[
            FakeItem("5040", "Internal Audit Plan", paragraphs_html("The internal audit plan was approved."))]),
    ]
    return ModernGovSite(committees, meetings, **options)


OWN_PUBLIC_ITEMS = {"5001", "5002", "5010", "5011"}


# ---------------------------------------------------------------- the fixture site in a process of its own

SECRET_REFERENCE = "under tender reference "


class SiteProcess:
    """`own_site` served by another process, as a real council's site is: what it sends never sits in the test
    process's memory unless the code under test fetched it. Its restricted text ends in a reference made up by
    that process; the test learns only the reference's sha256, so it can look for it without holding it."""

    def __init__(self) -> None:
        import subprocess
        import sys

        self._process = subprocess.Popen([sys.executable, __file__], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                         text=True)
        self.base_url, self.reference_sha256 = self._process.stdout.readline().split()

    def stop(self) -> None:
        self._process.stdin.close()  # the site stops when its stdin closes
        self._process.wait(timeout=30)


def _serve_own_site_until_stdin_closes() -> None:
    import secrets
    import sys

    reference = secrets.token_hex(16)
    served = own_site(crlf=True, restricted_text=f"{RESTRICTED_SECRET} {SECRET_REFERENCE}{reference}")
    served.start()
    print(served.base_url, hashlib.sha256(reference.encode()).hexdigest(), flush=True)
    sys.stdin.read()
    served.stop()


if __name__ == "__main__":
    _serve_own_site_until_stdin_closes()
