"""Meetings are fetched and read in a child process, so a restricted item's text never enters the process that
writes the index.

A meeting's reply carries the text of its restricted (exempt) items along with the public ones. Dropping that
text after parsing is not enough: freed memory is not cleared, and the vector store's native code has been seen
writing such memory into its index file. So the child does the request and the parsing, and hands back only what
`meeting_items` makes of the meeting: public items, and restricted ones as bare identities. Its memory goes when
it exits.

The parent talks to it over its stdin and stdout, one pickled request and one pickled answer at a time; the child
stops when its stdin closes, and, while it waits on the site or between retries, as soon as it finds its parent
gone, so it never goes on asking the site for a parent that was killed.
"""

from __future__ import annotations

import datetime as dt
import os
import pickle
import subprocess
import sys
from dataclasses import dataclass, replace
from typing import BinaryIO

from assistant.ingest.moderngov.client import (Abandoned, NotFound, ServiceError, SiteAskedToWait, SiteRefused,
                                               SiteUnavailable)
from assistant.ingest.moderngov.items import MeetingItems
from assistant.settings import Settings


@dataclass(frozen=True)
class MeetingRequest:
    meeting_id: str
    committee: str  # the committee's title, as its items will carry it
    etag: str = ""
    last_modified: str = ""


@dataclass(frozen=True)
class MeetingRead:
    """One GetMeeting, as the parent may see it: validators, the meeting's state, its public items."""

    etag: str = ""
    last_modified: str = ""
    not_modified: bool = False
    failure: tuple[str, str] | None = None  # (what went wrong, what to do): the meeting could not be read
    site_failing: bool = False  # the failure was the site's being busy or down through every retry
    site_refused: bool = False  # the failure was the site's refusing it (401, 403, a web page in place of XML)
    stop_run: bool = False  # the site asked for a pause longer than the cap: ask it nothing more this run
    no_such_meeting: bool = False  # the site says it has no such meeting: 404, 410, or an empty meeting of id 0
    date: dt.date | None = None
    cancelled: bool = False
    minutes_published: bool | None = None
    items: MeetingItems | None = None


@dataclass(frozen=True)
class _Start:
    base_url: str  # where requests go
    council: str
    settings: Settings
    last_request: dict[str, float]
    identity_base: str  # what item identities are built from (see SiteState.identity_base)


class MeetingReader:
    """The parent's end: `read` sends one meeting to the child and returns what it made of it."""

    def __init__(self, base_url: str, council: str, settings: Settings, last_request: dict[str, float], *,
                 identity_base: str = "") -> None:
        # Started through the module's name, not as __main__, so what is pickled names this module. Ctrl-C at a
        # terminal reaches the whole process group: the parent handles it, and the child, which would only print
        # a traceback, ignores it from its first line on and is stopped by the parent instead.
        self._process = subprocess.Popen(
            [sys.executable, "-c", "import signal; signal.signal(signal.SIGINT, signal.SIG_IGN); "
                                   f"from {__name__} import serve_parent; serve_parent()"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        self._answer_due = False
        self._send(_Start(base_url, council, settings, dict(last_request), identity_base or base_url))

    def read(self, request: MeetingRequest) -> MeetingRead:
        self._send(request)
        self._answer_due = True
        try:
            answer = pickle.load(self._process.stdout)
        except (EOFError, pickle.UnpicklingError):
            answer = None
        self._answer_due = False
        if not isinstance(answer, MeetingRead):
            raise ServiceError(f"The process that reads meetings stopped (exit code {self._process.poll()}).",
                               "Run the fetch again: the meetings already done are kept. If it stops again, "
                               "the message printed above it says why.")
        return answer

    def close(self) -> None:
        if self._answer_due:  # the parent was interrupted while the child waits on the site: nothing to wait for
            self._process.kill()
        try:
            self._process.stdin.close()
        except OSError:
            pass
        try:
            self._process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
        self._process.stdout.close()

    def _send(self, message: object) -> None:
        try:
            pickle.dump(message, self._process.stdin)
            self._process.stdin.flush()
        except OSError:
            pass  # the child has gone; `read` says so


def _read_one(client, request: MeetingRequest, start: _Start) -> MeetingRead:
    from assistant.ingest.moderngov.items import meeting_items
    from assistant.ingest.moderngov.parse import parse_meeting

    try:
        reply = client.call("GetMeeting", {"lMeetingId": request.meeting_id}, etag=request.etag,
                            last_modified=request.last_modified)
        if reply.not_modified:
            return MeetingRead(reply.etag, reply.last_modified, not_modified=True)
        meeting = parse_meeting(reply.root)
    except Abandoned:
        raise
    except ServiceError as exc:
        return MeetingRead(failure=(exc.message, exc.hint), site_failing=isinstance(exc, SiteUnavailable),
                           site_refused=isinstance(exc, SiteRefused),
                           stop_run=isinstance(exc, SiteAskedToWait), no_such_meeting=isinstance(exc, NotFound))
    except Exception as exc:  # XML of a shape no ModernGov reply was seen to have: one meeting lost, not all
        return MeetingRead(failure=_unreadable(client, request, exc))
    # A reply naming no meeting (`<meeting/>`, an empty shell) fails the meeting asked for: like one about another
    # meeting, it is not taken as that meeting having no items, which would withdraw them all. It is marked
    # no_such_meeting, which counts only where the meeting's committee had already stopped listing it (fetch.
    # _confirmed_gone): ModernGov answers such a shell for a meeting it no longer has.
    if meeting.id.lstrip("0") != request.meeting_id.lstrip("0"):
        return MeetingRead(failure=_other_meeting(client, request.meeting_id, meeting),
                           no_such_meeting=not meeting.id.strip("0") and not meeting.items)
    if not meeting.lists_items and not meeting.cancelled:
        # A record cut short (no <agendaitems> at all) taken as a meeting with no items withdrew them all.
        return MeetingRead(failure=_no_items_list(client, request.meeting_id))
    read = MeetingRead(reply.etag, reply.last_modified, date=meeting.date, cancelled=meeting.cancelled,
                       minutes_published=meeting.minutes_published)
    if meeting.cancelled:
        return read
    try:
        items = meeting_items(meeting, base_url=start.identity_base, council=start.council,
                              committee=request.committee, max_item_chars=start.settings.max_item_chars)
    except Exception as exc:  # minutes whose markup cannot be read (tags left open, nested past Python's limit)
        # Raised here, it stopped this process, and so every later meeting of the run, on every run.
        return MeetingRead(failure=_unreadable(client, request, exc))
    return replace(read, items=items)


def _unreadable(client, request: MeetingRequest, exc: Exception) -> tuple[str, str]:
    return (f"the reply could not be read ({type(exc).__name__}: {exc})",
            f"Open {client.url('GetMeeting')}?lMeetingId={request.meeting_id} in a browser to check it; the other "
            "meetings were fetched.")


def _no_items_list(client, asked: str) -> tuple[str, str]:
    return (f"the reply for meeting {asked} held no list of agenda items, which every meeting record has, so it was "
            f"not used (nothing of meeting {asked} was changed)",
            f"The site may have sent its record cut short: open {client.url('GetMeeting')}?lMeetingId={asked} in a "
            "browser to check, and run the fetch again later. The other meetings were fetched.")


def _other_meeting(client, asked: str, meeting) -> tuple[str, str]:
    """A reply about another meeting than the one asked for (a cache in front of the site that ignores the query
    string), or about none (id 0): taken as nothing, so the asked meeting's items stay as they are."""
    if not meeting.id:
        what = (f"the reply for meeting {asked} named no meeting (no meeting id"
                + (")" if meeting.items else ", no items)"))
    elif meeting.id.strip("0") == "" and not meeting.items:
        what = f"the reply for meeting {asked} was an empty meeting with id {meeting.id}"
    else:
        what = f"the reply for meeting {asked} was meeting {meeting.id}'s"
    return (f"{what}, so it was not used (nothing of meeting {asked} was changed)",
            f"A cache or proxy in front of the site may be answering from the wrong page: open "
            f"{client.url('GetMeeting')}?lMeetingId={asked} in a browser to check, and run the fetch again later. "
            "The other meetings were fetched.")


def _serve(requests: BinaryIO, answers: BinaryIO) -> None:
    from assistant.ingest.moderngov.client import ServiceClient, on_stderr

    try:
        start = pickle.load(requests)
    except EOFError:
        return
    parent = os.getppid()
    with ServiceClient(start.base_url, start.settings, last_request=start.last_request,
                       abandoned=lambda: os.getppid() != parent, waiting=on_stderr) as client:
        while True:
            try:
                request = pickle.load(requests)
            except EOFError:
                return
            try:
                pickle.dump(_read_one(client, request, start), answers)
                answers.flush()
            except (BrokenPipeError, Abandoned):  # the parent has gone: nobody wants the answer
                return


def serve_parent() -> None:
    """The child's side: answer the parent until it closes our stdin."""
    # Answers go down the pipe that was stdout; anything printed by accident, from Python or native code, goes to
    # stderr instead of corrupting them.
    answers = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)
    _serve(sys.stdin.buffer, answers)

