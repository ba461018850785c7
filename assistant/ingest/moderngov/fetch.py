"""The fetch run: committees, then their meetings in the window, then each meeting due a look, into the
same ingest as files. Incremental (conditional requests, a rolling refetch window) and safe to kill."""

from __future__ import annotations

import datetime as dt
import shlex
import time
from dataclasses import dataclass, field, fields, replace
from typing import Callable, Sequence
from urllib.parse import urljoin

from assistant.errors import AssistantError, ConfigError
from assistant.index.manifest import Manifest
from assistant.index.purge import finish_owed_purge, purge_owed
from assistant.ingest.moderngov.client import (ServiceClient, ServiceError, SiteAskedToWait, SiteRefused,
                                               SiteUnavailable, on_stderr)
from assistant.ingest.moderngov.directory import Site, council_name_note, resolve_site
from assistant.ingest.moderngov.items import READING_RULES
from assistant.ingest.moderngov.meetings import MeetingRead, MeetingReader, MeetingRequest
from assistant.ingest.moderngov.parse import (
    Committee,
    MeetingRef,
    lists_committee_in_full,
    parse_committees,
    parse_meetings,
)
from assistant.ingest.identities import given_name
from assistant.ingest.moderngov.state import MeetingState, SiteState
from assistant.index.write_lock import writing_index
from assistant.ingest.run import (WITHHELD_NOTE, CrashPoints, Index, IngestSummary, check_index_fits, ingest_items,
                                  progress_bar)
from assistant.records import InputProblem, MinuteItem, fetched_from
from assistant.settings import Settings
from assistant.text import committee_key, council_key, counted, first_few, fold, name_matches


@dataclass(frozen=True)
class FetchRequest:
    """What `assistant fetch` was asked for; an empty window means the last 12 months."""

    site: str
    council: str | None = None
    committees: tuple[str, ...] = ()
    since: dt.date | None = None
    until: dt.date | None = None
    # Ask again for every meeting in the window, however old: to see at once an item restricted or withdrawn long
    # after its meeting, which a run otherwise finds only when it re-checks that meeting in turn.
    check_all: bool = False


@dataclass(frozen=True)
class FetchFailure:
    what: str
    reason: str
    hint: str = ""

    def describe(self) -> str:
        return f"{self.what}: {self.reason}" + (f" ({self.hint})" if self.hint else "")


@dataclass
class FetchSummary:
    council: str
    base_url: str
    since: dt.date
    until: dt.date
    committees: int = 0
    meetings: int = 0  # in the window, cancelled ones included
    meetings_fetched: int = 0
    meetings_not_modified: int = 0  # 304, or the same content as last time
    meetings_not_due: int = 0  # fetched before, minutes out, older than the refetch window: not asked again
    meetings_rechecked: int = 0  # older than the refetch window, asked again this run in turn (or --check-all)
    meetings_cancelled: int = 0
    meetings_private: int = 0  # every item restricted: read, and nothing of it stored
    meetings_gone: int = 0  # recorded before, no longer listed by their committee in the window
    items_new: int = 0
    items_changed: int = 0
    items_unchanged: int = 0
    items_not_checked: int = 0  # in the index from meetings not due a look: neither known unchanged nor changed
    items_restricted: int = 0
    items_without_minutes: int = 0
    items_withdrawn: int = 0  # indexed before, since deleted, emptied, unpublished, cancelled or no longer listed
    items_restricted_since: int = 0  # indexed before, now marked restricted by the site: removed from the index
    meetings_without_minutes_text: int = 0  # minutes published, but not as text in the web service (PDFs only)
    # Those meetings' pages and linked documents, every one of them (the note names the first few), to download.
    without_minutes_text: list[dict] = field(default_factory=list)
    failed: list[FetchFailure] = field(default_factory=list)
    skipped: list[InputProblem] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    ingest: IngestSummary | None = None
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return not self.failed

    def as_dict(self) -> dict:
        ingest = self.ingest or IngestSummary()
        return {
            "council": self.council, "base_url": self.base_url,
            "since": self.since.isoformat(), "until": self.until.isoformat(),
            "committees": self.committees,
            "meetings": {"in_window": self.meetings, "fetched": self.meetings_fetched,
                         "not_modified": self.meetings_not_modified, "not_due": self.meetings_not_due,
                         "rechecked": self.meetings_rechecked,
                         "cancelled": self.meetings_cancelled, "private": self.meetings_private,
                         "no_longer_listed": self.meetings_gone,
                         "without_minutes_text": self.meetings_without_minutes_text},
            "items": {"new": self.items_new, "changed": self.items_changed, "unchanged": self.items_unchanged,
                      "not_checked": self.items_not_checked,
                      "restricted": self.items_restricted, "without_minutes": self.items_without_minutes,
                      "withdrawn": self.items_withdrawn, "restricted_since": self.items_restricted_since},
            "chunks_added": ingest.chunks_added, "chunks_removed": ingest.chunks_removed,
            "tokens_embedded": ingest.tokens_embedded,
            "failed": [f.__dict__ for f in self.failed],
            "skipped": [p.__dict__ for p in self.skipped],
            "without_minutes_text": self.without_minutes_text,
            "notes": self.notes, "seconds": round(self.seconds, 3),
        }


def default_window(today: dt.date, since: dt.date | None, until: dt.date | None) -> tuple[dt.date, dt.date]:
    """The last 12 months up to `until` (today when not given)."""
    for flag, day in (("--since", since), ("--until", until)):
        if day is not None and day < EARLIEST_MEETING:
            raise ConfigError(f"{flag} {day} is before any minutes ModernGov holds.",
                              f"Give a date from {EARLIEST_MEETING} on, or leave {flag} out for the last 12 months.")
    if since is not None and since > today:
        raise ConfigError(f"--since {since} is in the future (today is {today}): no meeting has minutes yet.",
                          "Give a date up to today, or leave --since out for the last 12 months.")
    given_until = until
    until = until or today
    if since is None:
        since = _year_before(until) + dt.timedelta(days=1)
    if since > until:
        raise ConfigError(f"--since {since} is after --until {until}.", "Swap them, or leave one out.")
    if since > today:
        # An --until years ahead alone: its 12 months hold no meeting yet, which must not pass for "nothing new".
        raise ConfigError(f"--until {given_until} leaves a window ({since} to {until}) wholly in the future (today "
                          f"is {today}): no meeting in it has minutes yet.",
                          "Give --since too (meetings from then to --until), or leave --until out for the last 12 "
                          "months.")
    return since, until


# No council's minutes in ModernGov go back this far; a date before it is a slip (0201 for 2021), and a year
# before 1000 would also be sent to the site in a form it cannot read.
EARLIEST_MEETING = dt.date(1990, 1, 1)


def list_committees(site: str, settings: Settings, council: str | None = None) -> tuple[Site, list[Committee]]:
    """Every committee the site lists, current or not; raises ServiceError when the site cannot say."""
    council = given_name(council, "--council")
    resolved = resolve_site(site, council) if council else _site_for_listing(site)
    with ServiceClient(resolved.base_url, settings, waiting=on_stderr) as client:
        return resolved, parse_committees(client.call("GetCommittees").root)


def select_committees(committees: Sequence[Committee], selectors: Sequence[str], site: str) -> list[Committee]:
    """By id, or by part of the title as the app's committee filter matches names (any case, "children's" or
    "childrens", "&" or "and"); by default every current committee."""
    return [c for c, _ in _selected(committees, selectors, site)]


def _selected(committees: Sequence[Committee], selectors: Sequence[str],
              site: str) -> list[tuple[Committee, list[str]]]:
    """The chosen committees in the site's order, each with the selectors that chose it."""
    if not selectors:
        return [(c, []) for c in committees if c.current]
    chosen: dict[str, list[str]] = {}
    for selector in selectors:
        wanted = selector.strip()
        matches = [c for c in committees if c.id == wanted] or [
            c for c in committees if not c.deleted and _title_matches(wanted, c.title)]
        if not matches:
            parts = [part.strip() for part in selector.split(",") if part.strip()]
            several = (" To fetch several, repeat the flag, one committee each: "
                       + " ".join(f"--committee {shlex.quote(part)}" for part in parts) + "." if len(parts) > 1 else "")
            raise ConfigError(f"No committee of {site} has the id or a title containing {selector!r}.",
                              f"List them with `assistant fetch {site} --list-committees`.{several}")
        for c in matches:
            chosen.setdefault(c.id, []).append(selector)
    return [(c, chosen[c.id]) for c in committees if c.id in chosen]


def _title_matches(wanted: str, title: str) -> bool:
    """Part of the title once both are folded, or every word of it among the title's words (the app's match)."""
    folded = fold(wanted)
    return bool(folded) and (folded in fold(title) or name_matches(committee_key(wanted), committee_key(title)))


def _chosen_note(chosen: list[tuple[Committee, list[str]]]) -> list[str]:
    """Which committees a --committee that matched several of them chose, so a loose match is seen."""
    by_selector: dict[str, list[Committee]] = {}
    for committee, selectors in chosen:
        for selector in selectors:
            by_selector.setdefault(selector, []).append(committee)
    return [f"--committee {selector!r} matched {len(found)} committees: "
            + "; ".join(f"{c.title} ({c.id}{', expired' if c.expired else ''})" for c in found)
            for selector, found in by_selector.items() if len(found) > 1]


def fetch_minutes(request: FetchRequest, settings: Settings, *, progress: bool | None = None,
                  index: Index | None = None, today: dt.date | None = None) -> FetchSummary:
    """Fetch a council's minutes in the window into the index; failures are in the summary, not raised (but
    another process writing the index is: AssistantError)."""
    started = time.perf_counter()
    today = today or dt.date.today()
    request = replace(request, committees=tuple(given_name(selector, "--committee") for selector in request.committees))
    site = resolve_site(request.site, given_name(request.council, "--council") or None)
    since, until = default_window(today, request.since, request.until)
    summary = FetchSummary(site.council, site.base_url, since, until)
    if request.council and (slip := council_name_note(site)):
        summary.notes.append(slip)
    crash = CrashPoints(settings.crash_at)
    # Held for the whole run, not batch by batch: the site state is written outside the ingest, another writer
    # must not slip in between two batches and end this run halfway, and a second fetch learns before asking the
    # site anything that it cannot run.
    with writing_index(settings):
        if index is None:
            check_index_fits(settings)  # an index this run could not write stops it before any request too
        state = SiteState(settings, site.base_url)  # a damaged state file stops the run before any request
        try:
            client = ServiceClient(site.base_url, settings, waiting=on_stderr)
            try:
                plan = _plan(client, request, site, summary, since, until)
                if plan is not None:
                    _fetch_and_ingest(client, plan, site, state, settings, summary, crash, today, progress, index)
                else:
                    _purge_owed_anyway(settings, summary, index)
            finally:
                client.close()
        finally:
            state.close()
        summary.notes.extend(_same_council_elsewhere(site, settings))
    summary.seconds = time.perf_counter() - started
    return summary


def _same_council_elsewhere(site: Site, settings: Settings) -> list[str]:
    """A note for each other address from which the index holds items of the council it also holds from this site:
    one ModernGov site under two addresses (democracy.x.gov.uk and x.moderngov.co.uk) gives each meeting twice,
    under two identities, and answers would cite both copies. Read from the index as it now stands, so that the
    note goes once only one copy is left."""
    from assistant.ingest.moderngov.directory import site_key
    from assistant.ingest.moderngov.state import fetched_sites
    from assistant.records import ITEM_PAGE

    held = {site_key(sid.rsplit(ITEM_PAGE, 1)[0]) for sid in _indexed_ids(settings) if ITEM_PAGE in sid}
    this = site_key(site.base_url)
    if this not in held:
        return []
    return [f"this index also holds {other.council}'s minutes fetched from {other.base_url}: if that is the same "
            f"ModernGov site as {site.base_url} under another address, each meeting is indexed twice, and answers "
            "may cite both copies; fetch from one address only (to drop the other copy, rebuild the index with "
            "`assistant ingest --reset` and any minutes files it holds, then fetch from the one address)"
            for other in fetched_sites(settings)
            if other.council and council_key(other.council) == council_key(site.council)
            and site_key(other.base_url) != this and site_key(other.base_url) in held]


@dataclass
class _Plan:
    meetings: list[tuple[MeetingRef, Committee]]
    # What the site lists, to tell a meeting deleted from it: the committees whose listing was read in full, every
    # meeting any listing named (in the window or not), and every committee by title.
    listed_in_full: set[str] = field(default_factory=set)
    listed: set[str] = field(default_factory=set)
    listed_none: set[str] = field(default_factory=set)  # committees whose listing was read and named no meeting
    committees_by_title: dict[str, list[str]] = field(default_factory=dict)
    # Every committee the site has, by id; the committees whose listing was read this run; and, for each meeting in
    # the window, the committees whose listing named it (a joint meeting is named by two).
    committees: dict[str, Committee] = field(default_factory=dict)
    read_listings: set[str] = field(default_factory=set)
    listed_by: dict[str, set[str]] = field(default_factory=dict)
    # Committees not fetched by default although the site has (or had) them: expired, deleted or no longer listed.
    not_current: dict[str, Committee] = field(default_factory=dict)
    chose_by_default: bool = False
    check_all: bool = False


# What to do when a site's web service lists no committees at all.
NO_COMMITTEES_HINT = ("Check that the base URL is the council's own ModernGov site (the address its committee pages "
                      "are under), or ask its web team whether the web service is switched off.")


def _plan(client: ServiceClient, request: FetchRequest, site: Site, summary: FetchSummary, since: dt.date,
          until: dt.date) -> _Plan | None:
    try:
        committees = parse_committees(client.call("GetCommittees").root)
    except ServiceError as exc:
        summary.failed.append(FetchFailure("GetCommittees", exc.message, exc.hint))
        return None
    if not committees:
        summary.failed.append(FetchFailure("GetCommittees", "the web service answers but lists no committees",
                                           NO_COMMITTEES_HINT))
        return None
    selected = _selected(committees, request.committees, request.site)
    if not selected:  # every committee expired or deleted: fetching nothing must not pass for finding nothing new
        summary.failed.append(FetchFailure(
            "GetCommittees", f"none of the site's {counted(len(committees), 'committee')} is current (each is "
            "expired or deleted), so none was chosen",
            f"Name the committees to fetch with --committee (see `assistant fetch {request.site} "
            "--list-committees`)."))
        return None
    summary.notes.extend(_chosen_note(selected))
    chosen = [c for c, _ in selected]
    summary.committees = len(chosen)
    window = {"sFromDate": _site_date(since), "sToDate": _site_date(until)}
    meetings: dict[str, tuple[MeetingRef, Committee]] = {}
    plan = _Plan([], chose_by_default=not request.committees, check_all=request.check_all,
                 not_current={c.id: c for c in committees if not c.current},
                 committees={c.id: c for c in committees})
    for c in committees:
        plan.committees_by_title.setdefault(c.title, []).append(c.id)
    failing = _SiteFailing(answers=_site_answers(client))
    for position, committee in enumerate(chosen):
        try:
            root = client.call("GetMeetings", {"lCommitteeId": committee.id, **window}).root
            refs = parse_meetings(root, committee.id)
        except ServiceError as exc:
            summary.failed.append(FetchFailure(f"GetMeetings for {committee.title} ({committee.id})", exc.message,
                                               exc.hint))
            if failing.stops(isinstance(exc, SiteUnavailable), isinstance(exc, SiteAskedToWait),
                             isinstance(exc, SiteRefused)):
                summary.failed.append(failing.stopped(len(chosen) - position - 1, "committee listing"))
                return None
            continue
        failing.stops(False, False)
        plan.read_listings.add(committee.id)
        plan.listed.update(ref.id for ref in refs)
        if lists_committee_in_full(root, committee.id):
            plan.listed_in_full.add(committee.id)
        elif root.find(".//meeting") is None:  # not a reply about another committee's meetings
            plan.listed_none.add(committee.id)
        if undated := [ref for ref in refs if ref.date is None]:
            # A failure, not a note: a run that leaves every meeting out must not look like one that found none.
            summary.failed.append(FetchFailure(
                f"GetMeetings for {committee.title} ({committee.id})",
                f"{counted(len(undated), 'meeting')} listed with a date that cannot be read, so left out: "
                + first_few([f"{ref.id} ({ref.raw_date!r})" for ref in undated]),
                "The site writes its dates in a form this version does not read: tell us the form shown (an issue "
                "on the project's tracker), or fetch from the site's pages and add them with `assistant ingest`."))
        for ref in refs:
            # Some servers ignore dates they cannot read and send every meeting.
            if ref.date is not None and since <= ref.date <= until:
                meetings.setdefault(ref.id, (ref, committee))
                plan.listed_by.setdefault(ref.id, set()).add(committee.id)
    plan.meetings = sorted(meetings.values(), key=lambda pair: (pair[0].date, pair[0].id))
    summary.meetings = len(plan.meetings)
    return plan


# After this many meetings (or committee listings) in a row failed with the site busy or down through every retry,
# the run stops: a site that is down would otherwise get every meeting's retries, however many there are.
SITE_FAILURES_BEFORE_STOPPING = 3


def _site_answers(client: ServiceClient) -> Callable[[], bool]:
    """Whether the site answers now, at once: it lists its committees, as it did at the start of the run."""
    def answers() -> bool:
        try:
            client.call("GetCommittees", tries=1)
        except ServiceError:
            return False
        return True
    return answers


@dataclass
class _SiteFailing:
    """Counts the site's failures in a row, to stop a run against a site that asked for a pause, is down, or has
    started refusing the fetch (a firewall or a bot check blocking it part-way).

    `answers` asks the site something it answered earlier in the run (its committees). When it answers again at the
    end of a streak, the requests failed, not the site (a meeting whose record the server always fails on): the run
    goes on to the rest, once until a request succeeds again. Else three such meetings, asked for first on every
    run, stopped every run before the newest minutes."""

    in_a_row: int = 0  # since the streak began, or since the site last answered at the end of one
    asked_to_wait: bool = False
    answers: Callable[[], bool] | None = None
    went_on: bool = False  # the site answered at the end of a streak, and no request has succeeded since
    failed_in_a_row: int = 0  # the whole streak, as the message gives it
    refused_in_a_row: int = 0  # how many of the streak's requests the site refused, as the message gives it

    def stops(self, site_failing: bool, asked_to_wait: bool, refused: bool = False) -> bool:
        """Whether the run stops after this request, which failed with the site busy or down, or refusing it, or
        did not."""
        site_failing = site_failing or refused
        self.in_a_row = self.in_a_row + 1 if site_failing else 0
        self.failed_in_a_row = self.failed_in_a_row + 1 if site_failing else 0
        if not site_failing:
            self.refused_in_a_row = 0
        elif refused:
            self.refused_in_a_row += 1
        self.went_on = self.went_on and site_failing
        self.asked_to_wait = asked_to_wait
        if asked_to_wait or self.in_a_row < SITE_FAILURES_BEFORE_STOPPING:
            return asked_to_wait
        if self.answers is not None and not self.went_on and self.answers():
            self.in_a_row, self.went_on = 0, True
            return False
        return True

    def stopped(self, not_asked: int, what: str) -> FetchFailure:
        streak = counted(self.failed_in_a_row, "request")
        refused = self.refused_in_a_row == self.failed_in_a_row
        why = ("the site asked for a longer pause than ASSISTANT_FETCH_MAX_WAIT allows" if self.asked_to_wait else
               f"the site refused {streak} in a row (HTTP 401 or 403, or a web page in place of the web service's "
               "reply: it may have started blocking automated requests)" if refused else
               f"the site was busy or down for {streak} in a row" if not self.refused_in_a_row else
               f"the site was busy, down or refusing the fetch for {streak} in a row")
        return FetchFailure(
            "the fetch", f"stopped, as {why}: {counted(not_asked, what)} not asked for this run",
            ("Run the fetch again after the time the site gave (in the failures above)" if self.asked_to_wait
             else "Run the fetch again later, once the site answers in a browser")
            + ": what was fetched so far is kept, and what was not asked for is asked for then"
            + (". If it goes on refusing, set ASSISTANT_FETCH_CONTACT to an address the council can reach you at, "
               "and ask its web team to allow the fetch." if self.refused_in_a_row and not self.asked_to_wait
               else "."))


# Meetings read before their items go into the index and their state is recorded: an interrupted run (Ctrl-C)
# keeps every batch done before it.
MEETINGS_PER_BATCH = 20


@dataclass
class _Batch:
    """Meetings read since the last ingest: their items, the items they no longer hold, and their state."""

    items: list[MinuteItem | InputProblem] = field(default_factory=list)
    withdrawn: list[str] = field(default_factory=list)
    states: list[MeetingState] = field(default_factory=list)
    forgotten: list[str] = field(default_factory=list)  # meetings to drop from the state once their items are out


@dataclass
class _Run:
    """What the meetings of one run share: the index as it stands, and what the closing notes need."""

    indexed: set[str]
    public: set[str] = field(default_factory=set)  # every item given as public this run: never withdrawn
    withdrawn: list[str] = field(default_factory=list)
    restricted_since: list[str] = field(default_factory=list)  # indexed, now marked restricted: removed this run
    # Meeting id, linked documents, date and committee.
    without_text: list[tuple[str, list[str], str, str]] = field(default_factory=list)
    gone: list[str] = field(default_factory=list)  # meetings no longer listed, dropped from the state
    withheld: list[str] = field(default_factory=list)  # items `assistant withhold` keeps out, left out this run


def _purge_owed_anyway(settings: Settings, summary: FetchSummary, index: Index | None) -> None:
    """A run that reached no meeting still finishes a purge an earlier run left owed (it stopped, or its purge
    could not run): the purge needs nothing from the site, and removed minutes must not stay readable while the
    site is down."""
    if not settings.manifest_path.is_file():
        return
    manifest = index.manifest if index is not None else Manifest(settings.manifest_path)
    try:
        if not purge_owed(manifest):
            return
        try:
            opened = index or Index(settings)
        except AssistantError as exc:  # the site's failures stay what the run reports; this one is a note
            summary.notes.append(f"the text of minutes removed earlier may still be readable in {settings.data_dir}: "
                                 f"its purge could not run ({exc.message} {exc.hint})")
            return
        try:
            summary.notes += finish_owed_purge(opened.manifest, opened.store, settings)
        finally:
            if index is None:
                opened.close()
    finally:
        if index is None:
            manifest.close()


def _fetch_and_ingest(client: ServiceClient, plan: _Plan, site: Site, state: SiteState, settings: Settings,
                      summary: FetchSummary, crash: CrashPoints, today: dt.date, progress: bool | None,
                      index: Index | None) -> None:
    opened: Index | None = None
    try:
        run = _Run(_indexed_ids(settings))
        identity_base = state.identity_base(site.base_url, run.indexed)
        if identity_base != site.base_url:
            summary.notes.append(f"this site was first fetched as {identity_base}, so its items keep identities and "
                                 f"links under that address, although it was given as {site.base_url} this time")
        known = state.meetings()
        summary.notes.extend(_committees_left(plan, known) + (_expired_left_out(plan) if not known else []))
        refetch_from = today - dt.timedelta(weeks=settings.refetch_weeks)
        batch = _Batch()
        due: list[tuple[MeetingRef, Committee, MeetingState | None, MeetingState | None]] = []
        older: list[tuple[MeetingRef, Committee, MeetingState | None, MeetingState]] = []
        for ref, committee in plan.meetings:
            previous = known.get(ref.id)
            committee = _committee_kept(plan, ref, committee, previous)
            if ref.cancelled:
                summary.meetings_cancelled += 1
                _withdraw_cancelled(batch, previous, ref)
                continue
            # Trust what was recorded only while the index still holds every item it names, under the names and on
            # the day this run would give them, as this version reads them: otherwise the meeting is read again in
            # full and its items replaced.
            # (A meeting the listing now gives another day, an old one above all, kept its old date on every item
            # until its turn to be checked again came, ten runs or so later.)
            trusted = previous if (previous and all(i in run.indexed for i in previous.item_ids)
                                   and previous.stored_under(site.council, committee.title)
                                   and previous.read_by_current_rules()
                                   and previous.meeting_date == ref.date.isoformat()) else None
            if trusted and trusted.minutes_published and ref.date < refetch_from:
                older.append((ref, committee, previous, trusted))
                continue
            due.append((ref, committee, previous, trusted))
        # With --check-all too, those asked for longest ago first: a run the site stops goes on from there next time.
        rechecked = _in_turn(older, share=len(older) if plan.check_all else None)
        checked_again = {ref.id for ref, *_ in rechecked}
        for ref, committee, previous, trusted in older:
            if ref.id not in checked_again:
                summary.meetings_not_due += 1
                _count_as_before(summary, trusted, checked=False)
        due = due + rechecked  # after the new and recent ones, which a run the site stops must reach first

        def ingest_batch(last: bool = False) -> None:
            nonlocal batch, index, opened
            if index is None:
                index = opened = Index(settings)
            _ingest_and_record(batch, run, state, settings, summary, crash, index, progress, purge=last)
            batch = _Batch()

        unlisted = _unlisted(plan, known, summary.since, summary.until)
        summary.notes.extend(_listed_none(plan, known, summary.since, summary.until, run.indexed))
        bar = progress_bar(len(due), progress, unit="meeting", desc="Fetching")
        reader = MeetingReader(site.base_url, site.council, settings, client.last_request,
                               identity_base=identity_base) if due or unlisted else None
        failing, stopped = _SiteFailing(answers=_site_answers(client)), False
        try:
            for position, (ref, committee, previous, trusted) in enumerate(due, start=1):
                what = f"GetMeeting {ref.id} ({committee.title}, {ref.date.isoformat()})"
                try:
                    read = reader.read(MeetingRequest(ref.id, committee.title, trusted.etag if trusted else "",
                                                      trusted.last_modified if trusted else ""))
                except ServiceError as exc:
                    read = MeetingRead(failure=(exc.message, exc.hint))
                if bar is not None:
                    bar.update(1)
                if failing.stops(bool(read.failure) and read.site_failing, read.stop_run,
                                 bool(read.failure) and read.site_refused):
                    summary.failed.append(FetchFailure(what, *read.failure))
                    summary.failed.append(failing.stopped(len(due) - position, "meeting"))
                    stopped = True
                    break
                if read.failure:
                    summary.failed.append(FetchFailure(what, *read.failure))
                else:
                    crash.reached("during_fetch")
                    _take_meeting(read, ref, committee, site.council, previous, trusted, batch, run, summary)
                    summary.meetings_rechecked += ref.id in checked_again
                if position % MEETINGS_PER_BATCH == 0 and position < len(due):
                    ingest_batch()
            # The site is not asked anything more once it asked for a pause: meetings no longer listed wait.
            unlisted = [] if stopped else _confirmed_gone(reader, unlisted, summary)
        finally:
            if reader is not None:
                reader.close()
        if bar is not None:
            bar.close()
        # Last, once every meeting read has said which items it holds: an item moved to another meeting stays.
        gone_ids = {gone.meeting_id for gone in unlisted}
        held_elsewhere = {i for recorded in known.values() if recorded.meeting_id not in gone_ids
                          for i in recorded.item_ids}
        for gone in unlisted:
            batch.withdrawn.extend(i for i in gone.item_ids if i not in held_elsewhere)
            batch.forgotten.append(gone.meeting_id)
        ingest_batch(last=True)
        summary.meetings_gone = len(unlisted)
        run.gone = [gone.meeting_id for gone in unlisted]
        _closing_notes(run, site.base_url, summary, settings.refetch_weeks,
                       _days_of_minutes_from_files(settings, site.council) if run.without_text else set())
    finally:
        if opened is not None:
            opened.close()


def _committee_kept(plan: _Plan, ref: MeetingRef, listing: Committee,
                    previous: MeetingState | None) -> Committee:
    """The committee a meeting's items go under: the one they were stored under while that committee still lists
    it, or was not asked this run and is still on the site; else the committee whose listing named it. A joint
    meeting, named by two committees' listings, was stored under whichever committee the run fetched (or came first
    on the site): runs fetching one committee, then the other, stored its items under each in turn, embedding them
    again every time."""
    if previous is None or not previous.item_ids or previous.committee_id in (None, listing.id):
        return listing
    stored = plan.committees.get(previous.committee_id)
    if stored is None or stored.deleted:
        return listing
    still_listed = previous.committee_id in plan.listed_by.get(ref.id, ())
    # Moved off a committee whose listing this run did not read is seen by the next run that reads it.
    return stored if still_listed or previous.committee_id not in plan.read_listings else listing


def _take_meeting(read: MeetingRead, ref: MeetingRef, committee: Committee, council: str,
                  previous: MeetingState | None, trusted: MeetingState | None, batch: _Batch, run: _Run,
                  summary: FetchSummary) -> None:
    """One meeting read from the site into the batch: its items, what it no longer holds, its state."""
    summary.meetings_fetched += 1
    if read.not_modified:
        summary.meetings_not_modified += 1
        _count_as_before(summary, trusted, checked=True)
        batch.states.append(trusted)  # recorded again, as asked for now: older meetings are re-checked in turn
        return
    if read.cancelled:
        summary.meetings_cancelled += 1
        _withdraw_cancelled(batch, previous, ref)
        return
    made = read.items
    summary.items_restricted += len(made.restricted)
    summary.items_without_minutes += made.without_minutes
    summary.skipped.extend(made.problems)
    run.public |= {i.source_id for i in made.public}
    if previous:
        batch.withdrawn.extend(i for i in previous.item_ids if i not in made.accounted_for())
    # Held wholly in private: there is nothing public to wait for, in text or in documents.
    private = bool(made.restricted) and not (made.public or made.without_minutes or made.too_long
                                             or any(p.kind != "restricted" for p in made.problems))
    summary.meetings_private += private
    if not made.public and not private and read.minutes_published:
        run.without_text.append((ref.id, made.documents, (read.date or ref.date).isoformat(), committee.title))
    digest = made.digest()
    # Recorded as done only when an item gave text, or none could: a meeting whose minutes are out only as PDFs, or
    # not yet written into ModernGov, is asked again on later runs.
    published = private or (bool(made.public) and read.minutes_published is not False)
    # One with an item left out for its length is asked for again on every run, and in full, without the validators
    # that had the site answer 304 once the cap was raised (as the note says to): the item goes in then.
    whole = not made.too_long
    # The listing's day, not the meeting record's, which some sites give otherwise on every run: compared with the
    # listing's on the next run, it had such a meeting read again in full every time, as if moved.
    batch.states.append(MeetingState(ref.id, ref.date.isoformat(), read.etag if whole else "",
                                     read.last_modified if whole else "", digest, published and whole,
                                     tuple(i.source_id for i in made.public),
                                     len(made.restricted), made.without_minutes, council, committee.title,
                                     committee.id, read_by=READING_RULES))
    if trusted and trusted.digest == digest:
        summary.meetings_not_modified += 1
        summary.items_unchanged += len(made.public)
        return
    batch.items.extend(made.public)
    batch.items.extend(made.restricted)


# Each run asks again for this share of the meetings older than the refetch window, those asked for longest ago
# first, so that every one is checked in turn every so many runs (an item restricted or withdrawn years after its
# meeting: a data-protection request, legal advice) at a tenth more requests, nearly all of them answered 304.
RECHECK_ONE_IN = 10


def _in_turn(older: list[tuple[MeetingRef, Committee, MeetingState | None, MeetingState]], share: int | None = None
             ) -> list[tuple[MeetingRef, Committee, MeetingState | None, MeetingState]]:
    """The older meetings this run checks again, those asked for longest ago first: `share` of them, by default a
    tenth (at least one)."""
    if share is None:
        share = -(-len(older) // RECHECK_ONE_IN)
    return sorted(older, key=lambda due: (due[3].fetched_at, due[0].date, due[0].id))[:share]


def _withdraw_cancelled(batch: _Batch, previous: MeetingState | None, ref: MeetingRef) -> None:
    """A meeting cancelled after its items were indexed takes them out again; it is recorded as holding none."""
    if previous and previous.item_ids:
        batch.withdrawn.extend(previous.item_ids)
        batch.states.append(MeetingState(ref.id, previous.meeting_date, "", "", "", False, (),
                                         committee_id=ref.committee_id))


def _committees_left(plan: _Plan, known: dict[str, MeetingState]) -> list[str]:
    """A note for each committee fetched before that a default run no longer fetches, as the site now has it
    expired or deleted, or lists it no more: its items stay (they are still the minutes of meetings held), but the
    officer is told, since the site will not correct them any longer."""
    if not plan.chose_by_default:
        return []  # committees chosen by name: the others are left out on purpose
    fetched = {c for ids in plan.committees_by_title.values() for c in ids} - set(plan.not_current)
    items: dict[str, int] = {}
    titles: dict[str, str] = {}
    for recorded in known.values():
        committee_id = recorded.committee_id
        if committee_id and committee_id not in fetched and recorded.item_ids:
            items[committee_id] = items.get(committee_id, 0) + len(recorded.item_ids)
            titles.setdefault(committee_id, recorded.committee or committee_id)
    notes = []
    for committee_id, count in items.items():
        found = plan.not_current.get(committee_id)
        state = ("no longer listed" if found is None else "deleted" if found.deleted else "expired")
        again = f" (fetch it by name with --committee {committee_id} to check them again)" if found else ""
        notes.append(f"{titles[committee_id]} ({committee_id}), fetched before, is {state} on the site, so it was not "
                     f"fetched: its {counted(count, 'item')} stay in the index as they were{again}")
    return notes


def _expired_left_out(plan: _Plan) -> list[str]:
    """On a site's first fetch by default, that committees the site marks expired were left out: one restructured
    or renamed during the year may have met in the window, and its minutes would be missing unseen."""
    expired = [c for c in plan.not_current.values() if c.expired and not c.deleted]
    if not plan.chose_by_default or not expired:
        return []
    return [f"{counted(len(expired), 'committee')} the site marks as expired {'was' if len(expired) == 1 else 'were'} "
            "not fetched; any that met in the window has its minutes left out: see them with --list-committees, and "
            "name one with --committee to fetch it too"]


def _unlisted(plan: _Plan, known: dict[str, MeetingState], since: dt.date, until: dt.date,
              committees: set[str] | None = None) -> list[MeetingState]:
    """Recorded meetings dated in the window whose committee's listing of it was read in full this run (or is among
    `committees`), and that no listing names any more: deleted from the site, or moved to a committee or a date not
    fetched. A committee whose listing failed or fell short, or that was not fetched, has none."""
    committees = plan.listed_in_full if committees is None else committees
    gone = []
    for meeting_id, recorded in known.items():
        committee_id = recorded.committee_id or _only(plan.committees_by_title.get(recorded.committee or "", []))
        if (committee_id in committees and meeting_id not in plan.listed
                and since <= dt.date.fromisoformat(recorded.meeting_date) <= until):
            gone.append(recorded)
    return sorted(gone, key=lambda recorded: (recorded.meeting_date, recorded.meeting_id))


def _listed_none(plan: _Plan, known: dict[str, MeetingState], since: dt.date, until: dt.date,
                 indexed: set[str]) -> list[str]:
    """A note for the meetings with items in the index that a committee's listing, naming no meeting at all, left
    out: such a listing is not trusted to withdraw them (a glitch would empty the committee), but it is said."""
    kept = [recorded for recorded in _unlisted(plan, known, since, until, plan.listed_none)
            if any(i in indexed for i in recorded.item_ids)]
    if not kept:
        return []
    return [f"{counted(len(kept), 'meeting')} fetched before ("
            + first_few([f"{r.meeting_id}, {r.committee or 'committee unknown'} ({r.committee_id or '?'}), "
                         f"{r.meeting_date}" for r in kept])
            + f") {'is' if len(kept) == 1 else 'are'} in the window, but {'its' if len(kept) == 1 else 'their'} "
            "committee's listing named no meeting at all, so nothing was withdrawn: a listing that names none is not "
            "trusted to. If the site has deleted them, take their items out with `assistant withhold`"]


def _confirmed_gone(reader: MeetingReader | None, unlisted: list[MeetingState],
                    summary: FetchSummary) -> list[MeetingState]:
    """The meetings no listing names any more that the site, asked for each, confirms gone: it has no such
    meeting, or has it on a date outside the window, or on a date inside it away from its edges (so under another
    committee, the listing having been read in full). One on the window's first or last day stays: some servers
    take the window's dates as exclusive. So does one the site could not be asked about."""
    gone = []
    failing = _SiteFailing()
    for position, recorded in enumerate(unlisted):
        try:
            read = reader.read(MeetingRequest(recorded.meeting_id, recorded.committee or ""))
        except ServiceError as exc:
            read = MeetingRead(failure=(exc.message, exc.hint))
        what = f"meeting {recorded.meeting_id} ({recorded.committee or 'committee unknown'}, {recorded.meeting_date})"
        if failing.stops(bool(read.failure) and read.site_failing, read.stop_run,
                         bool(read.failure) and read.site_refused):
            # A site down or asking for a pause is not asked about the rest: their items stay, as for any failure.
            summary.notes.append(f"{counted(len(unlisted) - position, 'meeting')} no longer listed by their "
                                 "committee were not asked about, as the site was busy or down: their items stay "
                                 "until a later fetch can ask")
            break
        if read.no_such_meeting:
            gone.append(recorded)
        elif read.failure:
            summary.notes.append(f"{what} is no longer listed by its committee, but asking the site for it failed "
                                 f"({read.failure[0]}): its items stay until a later fetch can ask")
        elif read.not_modified or read.date is None or read.date in (summary.since, summary.until):
            summary.notes.append(f"{what} is no longer listed by its committee, but the site still has it, on the "
                                 "window's first or last day (which some sites leave out of a listing): its items "
                                 "stay")
        else:
            gone.append(recorded)
            if recorded.item_ids:
                summary.notes.append(_moved_note(what, read.date, summary))
    return gone


def _moved_note(what: str, day: dt.date, summary: FetchSummary) -> str:
    """Where the site has a meeting its committee no longer lists: the closing note can say only 'deleted, or moved
    to a committee or a date not fetched', and the officer, told that minutes the site still publishes left the
    index, is told where they went and how to have them back."""
    if summary.since <= day <= summary.until:
        return (f"{what} is still on the site, on {day}, but no longer listed by its committee, so it is under a "
                "committee not fetched: its items were withdrawn; fetch that committee too (see "
                "--list-committees) to index them under it")
    flag = "--since" if day < summary.since else "--until"
    return (f"{what} is still on the site, but dated {day} now, outside this window ({summary.since} to "
            f"{summary.until}): its items were withdrawn; fetch with {flag} {day} to index them under that date")


def _only(ids: list[str]) -> str | None:
    """A recorded committee title names its committee only when no other committee of the site has that title."""
    return ids[0] if len(ids) == 1 else None


def _ingest_and_record(batch: _Batch, run: _Run, state: SiteState, settings: Settings, summary: FetchSummary,
                       crash: CrashPoints, index: Index, progress: bool | None, *, purge: bool) -> None:
    # Identity only, as for restricted items: the ingest takes them out of the index.
    withdrawn = sorted({i for i in batch.withdrawn if i in run.indexed and i not in run.public})
    gone = [MinuteItem(source_id=i, text="", origin=i, restricted=True) for i in withdrawn]
    restricted_since = sorted({i.source_id for i in batch.items
                               if isinstance(i, MinuteItem) and i.restricted and i.source_id in run.indexed})
    # The purge rewrites chroma.sqlite3 whole: once a run, with its last batch, rather than after each batch.
    ingested = ingest_items([*batch.items, *gone], settings, index=index, progress=progress, purge=purge)
    if summary.ingest is None:
        summary.ingest = IngestSummary()
    for name in (f.name for f in fields(IngestSummary)):
        setattr(summary.ingest, name, getattr(summary.ingest, name) + getattr(ingested, name))
    summary.items_new += ingested.new
    summary.items_changed += ingested.replaced
    summary.items_unchanged += ingested.unchanged
    summary.items_withdrawn += len(withdrawn)
    run.withdrawn.extend(withdrawn)
    summary.items_restricted_since += len(restricted_since)
    run.restricted_since.extend(restricted_since)
    summary.skipped.extend(p for p in ingested.skipped if p.kind != "restricted")
    run.withheld.extend(p.origin for p in ingested.skipped if p.reason == WITHHELD_NOTE)
    summary.failed.extend(FetchFailure(p.origin, p.reason, p.hint) for p in ingested.failed)
    # Items a stopped run left unfinished are finished by this fetch's later batches, if they are its site's.
    summary.notes.extend(n for n in ingested.notes
                         if n not in summary.notes and (purge or n not in ingested.unfinished))
    crash.reached("before_state_commit")
    # Only now is every item of these meetings done in the manifest; items the ingest skipped
    # (no text after headings) are left out, so the state never names an item the index lacks.
    run.indexed = _indexed_ids(settings)
    # A meeting one of whose items failed to go in is not recorded as done, or its digest would call it unchanged
    # next time and the item would never be indexed: it is read again, in full, on the next run.
    by_origin = {i.origin: i.source_id for i in batch.items}
    failed = {by_origin[p.origin] for p in ingested.failed if p.origin in by_origin}
    not_done = {"digest": "", "etag": "", "last_modified": "", "minutes_published": False}
    state.record(replace(s, item_ids=tuple(i for i in s.item_ids if i in run.indexed),
                         **(not_done if failed & set(s.item_ids) else {}))
                 for s in batch.states)
    state.forget(batch.forgotten)


def _closing_notes(run: _Run, base_url: str, summary: FetchSummary, refetch_weeks: int,
                   from_files: set[tuple[str, str]]) -> None:
    if run.gone:
        one = len(run.gone) == 1
        summary.notes.append(
            f"{counted(len(run.gone), 'meeting')} fetched before {'is' if one else 'are'} no longer listed by "
            f"{'its' if one else 'their'} committee in this window (deleted from the site, or moved to a committee "
            f"or a date not fetched), so {'it was' if one else 'they were'} dropped, with any of "
            f"{'its' if one else 'their'} items in the index: {first_few(run.gone)}")
    if run.withdrawn:
        summary.notes.append(
            f"withdrew {counted(len(run.withdrawn), 'item')} no longer public on the site (deleted, emptied or "
            f"unpublished, or their meeting cancelled or no longer listed): {first_few(run.withdrawn)}")
    if run.restricted_since:
        summary.notes.append(
            f"removed {counted(len(run.restricted_since), 'item')} the site now marks restricted (exempt or "
            f"confidential), so no answer quotes {'it' if len(run.restricted_since) == 1 else 'them'} any more: "
            f"{first_few(run.restricted_since)}")
    if run.withheld:
        one = len(run.withheld) == 1
        summary.notes.append(
            f"left out {counted(len(run.withheld), 'item')} withheld by `assistant withhold` "
            f"({first_few(run.withheld)}): `assistant withhold --list` shows what is withheld, `--release ID` lets "
            f"{'it' if one else 'them'} in again")
    if summary.meetings_not_due:
        one, items = summary.meetings_not_due == 1, summary.items_not_checked
        summary.notes.append(
            f"{counted(summary.meetings_not_due, 'meeting')} older than {refetch_weeks} weeks, fetched before with "
            f"{'its' if one else 'their'} minutes, {'was' if one else 'were'} not asked for again "
            f"(ASSISTANT_REFETCH_WEEKS): {'its' if one else 'their'} {counted(items, 'item')} "
            f"{'is' if items == 1 else 'are'} counted as not checked, not as unchanged. Each run checks a tenth of "
            f"the older meetings in its window again, in turn ({summary.meetings_rechecked} this time), so an item "
            "restricted or withdrawn since is found within about ten runs while its meeting is in the window; "
            "--check-all asks for every one now, and with an earlier --since reaches older meetings")
    if run.without_text:
        summary.meetings_without_minutes_text = len(run.without_text)
        # A linked document's address may be relative to the site ('documents/s7100/Minutes.pdf').
        summary.without_minutes_text = [
            {"meeting_id": meeting_id, "page": f"{base_url}/ieListDocuments.aspx?MId={meeting_id}",
             "documents": [urljoin(f"{base_url}/", url) for url in urls]} for meeting_id, urls, *_ in run.without_text]
        # Those whose minutes the officer has added from files since, as the note below asks, are said apart: told
        # again to download and add them, the officer would take them for not indexed.
        added = [meeting for meeting, (_, _, day, committee) in zip(summary.without_minutes_text, run.without_text)
                 if _added_from_files(day, committee, from_files)]
        still = [meeting for meeting in summary.without_minutes_text if meeting not in added]
        if added:
            one = len(added) == 1
            summary.notes.append(
                f"{counted(len(added), 'meeting')} whose minutes the site publishes only as documents "
                f"{'has' if one else 'have'} minutes of {'its' if one else 'their'} committee and day indexed from "
                f"your files ({first_few([meeting['page'] for meeting in added])}): nothing to do for "
                f"{'it' if one else 'them'}")
        if still:
            pages = [meeting["page"] for meeting in still]
            documents = [url for meeting in still for url in meeting["documents"]]
            attached = f"; linked documents: {first_few(documents)}" if documents else ""
            summary.notes.append(
                f"the web service gave no minutes text for {counted(len(pages), 'meeting')} whose minutes are "
                f"published, so nothing of theirs was indexed: this council may publish its minutes only as "
                f"documents (PDFs). Meeting pages: {first_few(pages)}{attached} (every one with --json). Download "
                f"the minutes into a folder and add them with `assistant ingest FOLDER` (with the same --index), "
                f"which reads PDFs; later fetches ask for these meetings again")


def _days_of_minutes_from_files(settings: Settings, council: str) -> set[tuple[str, str]]:
    """The meeting dates and committees (keyed) of this council's minutes indexed from files, not fetched."""
    if not settings.manifest_path.is_file():
        return set()
    manifest = Manifest(settings.manifest_path)
    try:
        rows = manifest.rows().values()
    finally:
        manifest.close()
    wanted = council_key(council)
    return {(row.meeting_date, committee_key(row.committee)) for row in rows
            if row.status == "done" and row.committee and not fetched_from(row.origin)
            and council_key(row.council) == wanted}


def _added_from_files(day: str, committee: str, from_files: set[tuple[str, str]]) -> bool:
    """Whether minutes of this committee's meeting on this day are indexed from files (the committee named as the
    officer gave it: every word of the one among the other's)."""
    key = committee_key(committee)
    return any(on == day and (name_matches(given, key) or name_matches(key, given)) for on, given in from_files)


def _count_as_before(summary: FetchSummary, before: MeetingState, *, checked: bool) -> None:
    """A meeting answered 304, or not asked for again, counts as it did when it was last fetched; the items of one
    not asked for are not known to be unchanged, only not checked."""
    if checked:
        summary.items_unchanged += len(before.item_ids)
    else:
        summary.items_not_checked += len(before.item_ids)
    summary.items_restricted += before.restricted
    summary.items_without_minutes += before.without_minutes


def _indexed_ids(settings: Settings) -> set[str]:
    if not settings.manifest_path.is_file():
        return set()
    manifest = Manifest(settings.manifest_path)
    try:
        return manifest.finished_ids()
    finally:
        manifest.close()


def _site_for_listing(site: str) -> Site:
    """Listing committees needs no council name: a root outside the directory is fine here."""
    from assistant.ingest.moderngov.directory import looks_like_url, root_url

    if looks_like_url(site):
        base_url = root_url(site)  # a login in it is refused here too: it would be sent, and printed
        try:
            return resolve_site(site)
        except ConfigError:  # not in the directory
            return Site(base_url, "")
    return resolve_site(site)


def _site_date(day: dt.date) -> str:
    """A date as the web service reads it: dd/mm/yyyy."""
    return f"{day.day:02d}/{day.month:02d}/{day.year:04d}"


def _year_before(day: dt.date) -> dt.date:
    try:
        return day.replace(year=day.year - 1)
    except ValueError:  # 29 February
        return day.replace(year=day.year - 1, day=28)

