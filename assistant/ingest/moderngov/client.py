"""HTTP to a ModernGov web service: a polite User-Agent, a per-host rate limit, retries with backoff
(honouring Retry-After), conditional requests, and replies checked to be XML before anyone parses them."""

from __future__ import annotations

import codecs
import email.utils
import html.entities
import re
import ssl
import sys
import time
from dataclasses import dataclass
from typing import Callable
from urllib.parse import urlsplit
from xml.etree.ElementTree import Element, ParseError

from assistant.errors import AssistantError, causes_of
from assistant.errors import ConfigError
from assistant.settings import Settings
from assistant.text import NOT_IN_XML, allowed_in_xml

SERVICE_PATH = "mgWebService.asmx"
PROJECT_NAME = "minutes-assistant"
_UTF8_BOM = b"\xef\xbb\xbf"
_UTF16_BOMS = (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)
_RETRY_STATUSES = {429, 500, 502, 503, 504, 507, 509, 520, 521, 522, 523, 524}
# The most a reply may hold, decompressed. A reply is held whole and parsed into a tree, so a site that sends without
# end (a broken server, a wrong base URL streaming something else) would otherwise take all the memory. Real replies
# are a few KB to a few MB; this leaves room for a meeting of dozens of items each near the item cap.
MAX_REPLY_BYTES = 64 * 2 ** 20
MAX_FETCH_RATE = 100.0  # requests a second: above it, a rate is a mistake, not a setting


class ServiceError(AssistantError):
    """One request to the web service failed in a way retrying will not fix; the message says what to do."""


class NotFound(ServiceError):
    """The site answered 404 Not Found or 410 Gone."""


class SiteUnavailable(ServiceError):
    """The site stayed busy or down through every retry (429, 5xx, timeouts, dropped connections): a few of these
    in a row stop the run rather than have it try every meeting."""


class SiteAskedToWait(SiteUnavailable):
    """The site asked for a pause (Retry-After) longer than ASSISTANT_FETCH_MAX_WAIT: the run stops at once."""


class SiteRefused(ServiceError):
    """The site refused the request (401, 403) or sent a web page in place of the web service's XML (a login or a
    bot check): a few of these in a row stop the run too, as a site that has started blocking the fetch would
    otherwise be asked for every meeting left, and each refusal be a failure of its own."""


class Abandoned(Exception):
    """The process that wanted this request has gone (the meeting reader's parent was killed): stop asking."""


@dataclass(frozen=True)
class Reply:
    """A web-service answer: its XML root (None when the site said 304 Not Modified) and its validators."""

    root: Element | None
    etag: str = ""
    last_modified: str = ""

    @property
    def not_modified(self) -> bool:
        return self.root is None


def on_stderr(line: str) -> None:
    """Tell the user a line while a fetch waits on its site (the child that reads meetings shares this stream)."""
    print(line, file=sys.stderr, flush=True)


def user_agent(contact: str) -> str:
    from assistant import __version__

    contact = contact.strip()  # the '\r' a settings file saved on Windows leaves at a value's end is no part of it
    if not (contact.isascii() and contact.isprintable()):
        # A line break or a tab left in had every request fail as if the site could not be reached.
        raise ConfigError(f"ASSISTANT_FETCH_CONTACT ({contact!r}) has characters an HTTP header cannot carry (a "
                          "letter outside ASCII, a line break, a tab or another control character).",
                          "Give a plain URL or e-mail address, in ASCII, on one line.")

    about = f"council minutes assistant; contact {contact}" if contact else "council minutes assistant"
    return f"{PROJECT_NAME}/{__version__} ({about})"


# How long after a reply's deadline its request is given up from outside, when httpx has not given up on it itself
# (headers sent a line at a time): the checks inside, at the deadline, come first wherever they can.
_DEADLINE_GRACE_S = 0.5


class ServiceClient:
    """Calls `{base}/mgWebService.asmx/{Operation}` with GET, one host at a time and at a polite rate."""

    def __init__(self, base_url: str, settings: Settings, *, sleep: Callable[[float], None] = time.sleep,
                 last_request: dict[str, float] | None = None, max_reply_bytes: int = MAX_REPLY_BYTES,
                 abandoned: Callable[[], bool] | None = None, waiting: Callable[[str], None] | None = None) -> None:
        """`waiting` is told, a line at a time, of each request tried again, so that a site that stalls (every try
        may take ASSISTANT_FETCH_TIMEOUT) does not leave the user looking at minutes of silence."""
        import math

        if not (math.isfinite(settings.fetch_rate) and settings.fetch_rate <= MAX_FETCH_RATE):
            # 'inf' or 1e308 would pass for "no limit" unsaid; 0 says it.
            raise ConfigError(f"The fetch rate is {settings.fetch_rate:g} requests a second: more than any site "
                              f"would take ({MAX_FETCH_RATE:g} at most).",
                              "Give --rate (or ASSISTANT_FETCH_RATE) from 0.01 to 100, or 0 for no limit (for tests).")
        self.base_url = base_url.rstrip("/")
        self.settings = settings
        self.max_reply_bytes = max_reply_bytes
        self._sleep = sleep
        # Asked before each request and during every wait, so that a client whose caller is gone stops asking.
        self._abandoned = abandoned or _never
        self._waiting = waiting
        # When each host was last asked (time.monotonic, which one machine's processes share), so a client
        # that takes over from another keeps to the same rate.
        self.last_request: dict[str, float] = dict(last_request or {})
        self._base_depth: int | None = None  # how far inside this network the site's own address is, once looked up
        self._sent_at = 0.0  # when the request under way was sent, once it had waited its turn
        self._http = self._new_http()

    def _new_http(self):
        """An httpx client whose every request first waits its turn. Once _get has given it up (_give_up), it sends
        nothing more: a request given up as its headers ended would otherwise follow their redirect, one request
        more beside the next client's."""
        import threading

        import httpx

        given_up = threading.Event()

        def may_send(request) -> None:
            def refuse_if_given_up() -> None:
                if given_up.is_set():
                    raise httpx.ReadTimeout("the request was given up", request=request)

            refuse_if_given_up()
            self._may_go_to(str(request.url))
            self._wait_turn(str(request.url), refuse_if_given_up)

        try:
            client = httpx.Client(
                timeout=self.settings.fetch_timeout, follow_redirects=True,
                headers={"User-Agent": user_agent(self.settings.fetch_contact),
                         "Accept": "text/xml, application/xml"},
                # Every request sent waits its turn, the ones a redirect leads to included: a site that redirects
                # each call (http to https, an old path) would otherwise get two requests at once.
                event_hooks={"request": [may_send]},
            )
            self._given_up = given_up
            return client
        except (ImportError, ValueError) as exc:  # httpx reads the proxy settings here, and refuses some
            if problem := _unusable_proxy(exc):
                raise problem from None
            raise

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> "ServiceClient":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def url(self, operation: str) -> str:
        return f"{self.base_url}/{SERVICE_PATH}/{operation}"

    def call(self, operation: str, params: dict[str, str] | None = None, *, etag: str = "",
             last_modified: str = "", tries: int | None = None) -> Reply:
        """One operation's XML; raises ServiceError with what went wrong and what to do about it (SiteUnavailable
        when the site stayed busy or down through every retry, SiteAskedToWait when it asked for a longer pause
        than the cap). `tries` in place of the settings' retries and one."""
        import httpx

        url = self.url(operation)
        shown = str(httpx.URL(url, params=params)) if params else url  # messages name the whole request
        headers = {}
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        attempts = tries or self.settings.fetch_retries + 1
        for attempt in range(attempts):
            last_try = attempt == attempts - 1
            if self._abandoned():
                raise Abandoned(shown)
            try:
                response, body = self._get(url, params, headers)
            except _CutOff as exc:
                if last_try:
                    raise SiteUnavailable(
                        f"{operation} at {shown} was cut off: the site answered HTTP {exc.status}, but the connection "
                        f"closed before the whole reply arrived ({exc.cause}; {attempts} tries).",
                        "The site (or a proxy in front of it) dropped the reply part-way: run the fetch again later; "
                        "if it keeps happening, tell the council's web team. Nothing fetched so far is lost.") from None
                self._tell_waiting(operation, attempt, attempts, "its reply was cut off")
                self._back_off(attempt, None)
                continue
            except httpx.TimeoutException:
                problem = f"did not send its whole reply within {self.settings.fetch_timeout:g} s"
                if last_try:
                    raise SiteUnavailable(f"{operation} at {shown} {problem} ({attempts} tries).",
                                          "The site may be slow or down: run the fetch again later; nothing fetched "
                                          "so far is lost. ASSISTANT_FETCH_TIMEOUT sets the wait.") from None
                self._tell_waiting(operation, attempt, attempts,
                                   f"no whole reply within {self.settings.fetch_timeout:g} s")
                self._back_off(attempt, None)
                continue
            except httpx.TransportError as exc:
                if _is_tls_failure(exc):
                    raise ServiceError(
                        f"{operation} at {shown} failed: the secure connection (TLS) could not be set up ({exc}).",
                        f"The site's certificate may be broken or expired: open {self.base_url} in a browser to "
                        "check, and tell the council's web team if the browser warns too. If it does not, this "
                        "network may inspect secure connections (an office proxy), or the site may leave out a "
                        "certificate browsers fetch for themselves: set SSL_CERT_FILE to your organisation's "
                        "certificate bundle, or ask your IT team for it.") from None
                if last_try:
                    raise SiteUnavailable(f"{operation} at {shown} could not be reached ({exc}; {attempts} tries).",
                                          "Check the base URL and your network connection, then run the fetch "
                                          "again.") from None
                self._tell_waiting(operation, attempt, attempts, "it could not be reached")
                self._back_off(attempt, None)
                continue
            except httpx.TooManyRedirects:
                raise ServiceError(
                    f"{operation} at {shown} was redirected again and again without reaching a reply (a redirect "
                    "loop).",
                    f"Open {shown} in a browser: a loop or a login page there means the site sends automated "
                    "requests round in circles or the web service is not public (ask the council's web team); "
                    "a page that works means the base URL should be the address it ends at.") from None
            except httpx.DecodingError as exc:
                raise ServiceError(
                    f"{operation} at {shown} answered a reply that could not be decompressed ({exc}): its "
                    "Content-Encoding names a compression its body is not in.",
                    "The site's server (or a proxy in front of it) is misconfigured: tell the council's web team, "
                    "and run the fetch again later. Nothing already indexed is lost.") from None
            except (httpx.RequestError, httpx.InvalidURL) as exc:  # bad URLs, and what else httpx refuses
                raise ServiceError(f"{operation} at {shown} failed: {str(exc).rstrip('.')}.",
                                   f"Open {self.base_url} in a browser to check the base URL.") from None
            if response.status_code == 304:
                if not (etag or last_modified):
                    raise ServiceError(f"{operation} at {shown} answered 304 Not Modified to a plain request.",
                                       "The site is misbehaving: run the fetch again later.")
                return Reply(None, etag, last_modified)
            if response.status_code in _RETRY_STATUSES:
                status = f"HTTP {response.status_code} {response.reason_phrase}"
                retry_after = response.headers.get("Retry-After")
                wait = _retry_after_seconds(retry_after)
                if wait is not None and wait > self.settings.fetch_max_wait:
                    raise _asked_to_wait(operation, shown, status, retry_after, wait, self.settings.fetch_max_wait)
                if last_try:
                    said = _fault_in(body)
                    raise SiteUnavailable(
                        f"{operation} at {shown} answered {status} after {attempts} tries"
                        + (f", with the SOAP fault: {said}".rstrip(".") + "." if said else "."),
                        "The site is busy or failing: run the fetch again later; nothing fetched so far is lost.")
                self._tell_waiting(operation, attempt, attempts, f"it answered {status}")
                self._back_off(attempt, retry_after)
                continue
            if response.status_code >= 400:
                raise _client_error(operation, shown, self.base_url, response.status_code,
                                    response.reason_phrase)
            root = parse_reply(body, response.headers.get("Content-Type", ""), operation, shown, self.base_url)
            return Reply(root, response.headers.get("ETag", ""), response.headers.get("Last-Modified", ""))
        raise AssertionError("unreachable: the last try returns or raises")

    def _get(self, url: str, params: dict[str, str] | None, headers: dict[str, str]):
        """The response and its whole body, read by the deadline and within the size cap.

        httpx's timeout bounds each socket read, so a site sending a byte a second would never time out: the
        deadline is checked as the body arrives (_read_reply). The status line and headers are read inside httpx,
        out of reach of that check: a site sending a header line every few hundred milliseconds held a request for
        good. So the request is made in a thread of its own, given up a moment after the deadline, its connections
        closed (the thread then ends at its next read) and a new client made for the requests after it."""
        import threading

        import httpx

        outcome: dict[str, object] = {}

        def read() -> None:
            try:
                outcome["reply"] = self._read_reply(url, params, headers)
            except BaseException as exc:  # raised again in the caller's thread
                outcome["error"] = exc

        asked = time.monotonic()
        reader = threading.Thread(target=read, name="moderngov-request", daemon=True)
        reader.start()
        while reader.is_alive():
            reader.join(0.1)
            sent = self._sent_at  # set once the request has waited its turn (_wait_turn)
            if reader.is_alive() and sent >= asked \
                    and time.monotonic() > sent + self.settings.fetch_timeout + _DEADLINE_GRACE_S:
                self._give_up()
                raise httpx.ReadTimeout("the reply's headers did not arrive in time")
        if "error" in outcome:
            raise outcome["error"]  # type: ignore[misc]
        return outcome["reply"]

    def _give_up(self) -> None:
        """Close the client of a request given up, and make a new one for the requests after it."""
        stuck, given_up = self._http, self._given_up
        given_up.set()
        self._http = self._new_http()
        stuck.close()

    def _read_reply(self, url: str, params: dict[str, str] | None, headers: dict[str, str]):
        """_get's request, in its thread: the deadline checked as the body arrives. A site that falls silent is given
        up on after one read timeout."""
        import httpx

        with self._http.stream("GET", url, params=params, headers=headers) as response:
            # From when the request (or the redirect's last hop) was sent, after waiting its turn: a --rate slower
            # than one request per timeout had every reply after the first 'not arrive in time'.
            deadline = self._sent_at + self.settings.fetch_timeout
            self._check_connected_to(response)
            body = bytearray()
            try:
                for chunk in response.iter_bytes():
                    body += chunk
                    if len(body) > self.max_reply_bytes:
                        raise _too_large(str(response.url), self.base_url, self.max_reply_bytes)
                    if time.monotonic() > deadline:
                        raise httpx.ReadTimeout("the reply did not arrive in time", request=response.request)
            except (httpx.TimeoutException, httpx.DecodingError):
                raise
            except httpx.TransportError as exc:  # the site was reached and answered: its reply broke off
                raise _CutOff(response.status_code, str(exc) or type(exc).__name__) from exc
        return response, bytes(body)

    def _check_connected_to(self, response) -> None:
        """Refuse a reply from an address further inside this network than the site's own, read from the connection
        itself: a name looked up once to check a redirect can be answered otherwise when the request looks it up
        again (DNS rebinding)."""
        stream = response.extensions.get("network_stream")
        server = stream.get_extra_info("server_addr") if stream is not None else None
        # Through a proxy (HTTP_PROXY and the like, as council networks use), the connection is to the proxy, on this
        # network, which looks the site's name up itself: its address says nothing of the site's, and every fetch
        # behind one had been refused at its first request.
        if not server or self._through_a_proxy(str(response.url)):
            return
        if self._base_depth is None:
            self._base_depth = _deepest(_addresses_of(urlsplit(self.base_url).hostname or ""))
        if _where(str(server[0])) > self._base_depth:
            raise ServiceError(
                f"{response.url} was answered from {server[0]}, an address further inside this network than "
                f"{self.base_url}'s own: refused, so that a site cannot make the fetch read what only this network "
                "can reach.", _MOVED_HINT)

    def _through_a_proxy(self, url: str) -> bool:
        """Whether httpx sent the request for the URL through a proxy: its own choice, by the environment's
        HTTP_PROXY, HTTPS_PROXY, ALL_PROXY and NO_PROXY as it reads them (rules re-derived here had disagreed with it
        on a NO_PROXY entry with a port, skipping the check on a direct connection). Where this httpx does not say,
        the reply's address is checked."""
        import httpx

        choose = getattr(self._http, "_transport_for_url", None)
        direct = getattr(self._http, "_transport", None)
        return choose is not None and direct is not None and choose(httpx.URL(url)) is not direct

    def _may_go_to(self, url: str) -> None:
        """Refuse a redirect that would make the fetch ask this network's own services, leave https, or read
        another site's minutes as this one's."""
        problem = redirect_problem(self.base_url, url)
        if problem.startswith(ANOTHER_HOST):
            raise ServiceError(
                f"{self.base_url} redirected the fetch to {url}, {problem}: refused, as what it answers would be "
                "stored as the minutes of the council asked for, and an abolished council's old address often leads "
                "to its successor's site.",
                f"If {urlsplit(url).hostname} is this council's own site now, give its address as the base URL; if "
                "it is another council's, fetch that council under its own name.")
        if problem:
            raise ServiceError(
                f"{self.base_url} redirected the fetch to {url}, {problem}: refused, so that a site cannot make the "
                "fetch ask for what only this network can reach, nor read minutes sent unprotected.", _MOVED_HINT)

    def _wait_turn(self, url: str, refuse_if_given_up: Callable[[], None] = lambda: None) -> None:
        """At most `fetch_rate` requests a second to one host. A request its client gave up while it waited is
        refused before it takes a turn, or says when it went: those are the next client's."""
        rate = self.settings.fetch_rate
        host = urlsplit(url).netloc
        # Not sent while it waits: _get gives a request up only a timeout after it went (a redirect's hop included).
        self._sent_at = 0.0
        if rate > 0 and host in self.last_request:
            wait = self.last_request[host] + 1.0 / rate - time.monotonic()
            if wait > 0:
                self._pause(wait)
        if self._abandoned():
            raise Abandoned(url)
        refuse_if_given_up()
        self.last_request[host] = self._sent_at = time.monotonic()

    def _tell_waiting(self, operation: str, attempt: int, attempts: int, problem: str) -> None:
        if self._waiting is not None:
            self._waiting(f"waiting for {self.base_url} {operation} ({problem}): try {attempt + 2} of {attempts}, "
                          f"up to {self.settings.fetch_timeout:g} s each")

    def _back_off(self, attempt: int, retry_after: str | None) -> None:
        wait = _retry_after_seconds(retry_after)
        if wait is None:
            wait = self.settings.fetch_backoff * 2 ** attempt
        self._pause(max(0.0, min(wait, self.settings.fetch_max_wait)))

    def _pause(self, seconds: float) -> None:
        """Sleep, in short steps when someone may give up on this client meanwhile."""
        left = seconds
        while True:
            if self._abandoned():
                raise Abandoned(self.base_url)
            if left <= 0:
                return
            step = left if self._abandoned is _never else min(left, _PAUSE_STEP)
            self._sleep(step)
            left -= step


# Where an address is, from the open internet inwards: a redirect may not lead further in than the site it came from
# (a council's public site to a private, loopback or link-local address such as cloud metadata's 169.254.169.254).
_PUBLIC, _PRIVATE, _LOOPBACK, _LINK_LOCAL = range(4)
_MOVED_HINT = ("If the council's site has moved, give its new address as the base URL (open the old one in a browser "
               "to see where it leads); otherwise tell the council's web team.")


ANOTHER_HOST = "another host"


def redirect_problem(base_url: str, url: str, resolve: Callable[[str], list[str]] | None = None) -> str:
    """Why the fetch of the site at `base_url` may not follow a redirect to `url` ('' when it may): from https to
    plain http, to a host whose address lies further inside this network than the site's own, or to another host
    at all. A request to the site's own host, or to it with 'www.' or without, is never refused, nor looked up."""
    base, target = urlsplit(base_url), urlsplit(url)
    if base.scheme == "https" and target.scheme == "http":
        return "from https to plain http"
    base_host, target_host = (base.hostname or "").lower(), (target.hostname or "").lower()
    if target_host.removeprefix("www.") == base_host.removeprefix("www."):
        return ""
    resolve = resolve or _addresses_of
    target_addresses = resolve(target_host)
    deepest = _deepest(target_addresses)
    if deepest > _deepest(resolve(base_host)):
        inside = {_PRIVATE: "a private", _LOOPBACK: "a loopback", _LINK_LOCAL: "a link-local"}[deepest]
        return f"{inside} address of this network ({', '.join(target_addresses)})"
    return f"{ANOTHER_HOST} ({target_host})"


def _addresses_of(host: str) -> list[str]:
    import socket

    try:
        return sorted({info[4][0] for info in socket.getaddrinfo(host, None)})
    except (OSError, UnicodeError):
        return []  # not found: the request itself fails, and says so


def _deepest(addresses: list[str]) -> int:
    """How far inside this network the furthest in of a host's addresses lies (_PUBLIC for none)."""
    return max(map(_where, addresses), default=_PUBLIC)


def _where(address: str) -> int:
    import ipaddress

    try:
        ip = ipaddress.ip_address(address.split("%")[0])
    except ValueError:
        return _PUBLIC
    if getattr(ip, "ipv4_mapped", None) is not None:  # ::ffff:127.0.0.1 reaches 127.0.0.1
        ip = ip.ipv4_mapped
    if ip.is_link_local:
        return _LINK_LOCAL
    if ip.is_loopback or ip.is_unspecified:  # 0.0.0.0 and :: reach this machine
        return _LOOPBACK
    if not ip.is_global:  # private ranges, shared address space (100.64/10: a cloud's metadata), reserved ones
        return _PRIVATE
    return _PUBLIC


def _never() -> bool:
    return False


# How often a long wait looks whether it is still wanted.
_PAUSE_STEP = 0.25


class _CutOff(Exception):
    """A reply whose headers came but whose body broke off (the connection closed or was reset part-way)."""

    def __init__(self, status: int, cause: str) -> None:
        super().__init__(cause)
        self.status, self.cause = status, cause


def _asked_to_wait(operation: str, url: str, status: str, retry_after: str | None, wait: float,
                   cap: float) -> SiteAskedToWait:
    import datetime as dt

    when = dt.datetime.now().astimezone() + dt.timedelta(seconds=min(wait, 366 * 86400))
    return SiteAskedToWait(
        f"{operation} at {url} answered {status} asking the fetch to wait {_duration(wait)} (Retry-After: "
        f"{(retry_after or '').strip()}), longer than the {cap:g} s ASSISTANT_FETCH_MAX_WAIT allows, so the fetch "
        "stopped asking this site.",
        f"Run the fetch again after {when:%Y-%m-%d %H:%M} ({when:%Z}): what was fetched before is kept, and the rest "
        "is asked for then.")


def _duration(seconds: float) -> str:
    if seconds > 366 * 86400:
        return "more than a year"
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 2 * 3600:
        return f"{seconds / 60:.0f} minutes"
    if seconds < 2 * 86400:
        return f"{seconds / 3600:.1f} hours"
    return f"{seconds / 86400:.0f} days"


_PROXY_SETTINGS = ("HTTPS_PROXY", "HTTP_PROXY", "ALL_PROXY")


def _unusable_proxy(exc: Exception) -> ConfigError | None:
    """What to do about a proxy the environment names that httpx cannot use (a SOCKS one without its extra, another
    scheme); None when no proxy is named, and the error is something else."""
    import os

    named = [f"{name}={value}" for name in _PROXY_SETTINGS
             if (value := os.environ.get(name.lower()) or os.environ.get(name))]
    if not named:
        return None
    return ConfigError(
        f"The proxy settings {', '.join(named)} cannot be used by the fetch ({str(exc).rstrip('.')}).",
        "Install SOCKS support into the assistant's environment (.venv/bin/pip install 'httpx[socks]'), or name an "
        "http:// proxy instead."
        if isinstance(exc, ImportError) else
        "Give the proxy as http://HOST:PORT (or https://), or unset the setting if the site needs no proxy.")


def parse_reply(body: bytes, content_type: str, operation: str, url: str, base_url: str) -> Element:
    """The XML root of a reply, with namespaces dropped and names lower-cased; HTML pages are refused."""
    from defusedxml import DefusedXmlException

    # Decoded here, as a browser would, not by the parser: it cannot read past a line break before a declaration,
    # knows nothing of the header's charset, and stops at the first byte a mislabelled reply gets wrong.
    text = _undeclared(_decoded(body, content_type, operation, url))
    if not text.strip():
        raise ServiceError(f"{operation} at {url} answered an empty reply instead of XML.",
                           "Run the fetch again later; if it persists, check the base URL in a browser.")
    data = _xml_characters_only(text).encode("utf-8")
    try:
        root = _parsed(data)
    except (ParseError, DefusedXmlException) as exc:
        if _looks_like_html(data, content_type):
            raise _html_error(operation, url, base_url, data) from None
        raise ServiceError(f"{operation} at {url} answered malformed XML ({exc}).", _broken_reply(operation)) from None
    _normalise(root)
    if root.tag == "html":
        raise _html_error(operation, url, base_url, data)
    if root.tag == "envelope" and (fault := root.find(".//fault")) is not None:
        raise _soap_fault(operation, url, fault)
    if root.tag == "string" and (root.text or "").lstrip().startswith("<"):
        # Some ASP.NET services wrap the document as escaped text inside <string>.
        return parse_reply(_undeclared(root.text or "").encode("utf-8"), "", operation, url, base_url)
    return root


# Not "run the fetch again later": a reply that is not XML is as a rule sent the same way on every run.
def _broken_reply(operation: str) -> str:
    """What to do about a reply that is not XML, and what the run did besides: the committee list comes before any
    meeting is asked for, and one committee's listing before its meetings."""
    besides = {"GetCommittees": "No meeting was asked for", "GetMeetings": "The other committees' meetings were "
               "fetched"}.get(operation, "The other meetings were fetched")
    return ("The site sent a reply that is not well-formed XML, and will most likely send it again on the next run: "
            f"tell the council's web team, quoting this message. {besides}, and nothing already indexed is lost.")


def _utf16_text(body: bytes, operation: str, url: str) -> str | None:
    """The text of a reply in UTF-16, known by its byte order mark or by a NUL byte beside its first character
    (which XML in UTF-8 never has); None for a reply in any other encoding."""
    if body.startswith(_UTF16_BOMS):
        codec = "utf-16"  # reads the byte order from the mark, and drops it
    elif body[:1] == b"\x00":
        codec = "utf-16-be"
    elif body[1:2] == b"\x00":
        codec = "utf-16-le"
    else:
        return None
    try:
        return body.decode(codec)
    except UnicodeDecodeError as exc:
        raise ServiceError(f"{operation} at {url} answered a reply in UTF-16 that is not valid UTF-16 ({exc.reason} "
                           f"at byte {exc.start}), so it cannot be read.", _broken_reply(operation)) from None


_DECLARED_ENCODING = re.compile(rb"""^<\?xml\s[^>]*?\bencoding\s*=\s*["']([A-Za-z0-9._:-]{1,40})["']""")
# As browsers do (the WHATWG Encoding standard): these labels are read as windows-1252, a superset.
_AS_WINDOWS_1252 = {"latin_1", "ascii", "cp1252"}


def _decoded(body: bytes, content_type: str, operation: str, url: str) -> str:
    """The text of a reply: by its byte order mark, else as UTF-8 when it is valid UTF-8, else by its XML
    declaration's encoding, else by the charset its Content-Type names; and as windows-1252 when it is not valid in
    the encoding so found (ASP.NET servers send windows-1252 labelled UTF-8, or labelled nothing)."""
    if (text := _utf16_text(body, operation, url)) is not None:
        return text
    if body.startswith(_UTF8_BOM):
        return body[len(_UTF8_BOM):].decode("utf-8", "replace")
    try:
        # Before any label, as ingest reads a text file: sites declare ISO-8859-1 or windows-1252 over UTF-8, which
        # read by the label came out as 'Childrenâ€™s'; text really in a single-byte encoding is almost never valid
        # UTF-8 beyond ASCII ('Ã©' would have to stand for 'é').
        return body.decode("utf-8")
    except UnicodeDecodeError:
        pass
    declared = _DECLARED_ENCODING.match(body.lstrip(b" \t\r\n"))
    codec = _codec(declared.group(1).decode("ascii") if declared else "") or _codec(_header_charset(content_type))
    if codec and codec not in ("utf-8", "cp1252"):
        try:
            return body.decode(codec)
        except UnicodeDecodeError:
            pass  # labelled wrongly: read as if unlabelled
    return _windows_1252(body)


def _codec(label: str) -> str:
    """Python's name for an encoding label, '' for none, an unknown one, or UTF-16/32 named over 8-bit bytes (.NET
    writes "utf-16" into documents it then sends in UTF-8)."""
    try:
        name = codecs.lookup(label.strip()).name if label.strip() else ""
    except LookupError:
        return ""
    if name.startswith(("utf-16", "utf-32")):
        return ""
    return "cp1252" if name.replace("-", "_") in _AS_WINDOWS_1252 or name == "iso8859-1" else name


def _header_charset(content_type: str) -> str:
    import email.message

    header = email.message.Message()
    header["Content-Type"] = content_type
    charset = header.get_param("charset")
    return charset if isinstance(charset, str) else ""


# The five bytes windows-1252 leaves undefined are read, as browsers read them, as the C1 controls of Latin-1.
_CP1252_OR_LATIN1 = {byte: bytes([byte]).decode("cp1252", "ignore") or chr(byte) for byte in range(0x80, 0xA0)}


def _windows_1252(body: bytes) -> str:
    return body.decode("latin-1").translate(_CP1252_OR_LATIN1)


def _undeclared(text: str) -> str:
    """Decoded XML without its declaration, whose encoding named the bytes the text came in (.NET writes "utf-16"
    into a document it hands over as a string), not the UTF-8 it is parsed from next."""
    text = text.lstrip("\ufeff \t\r\n")
    return text.partition("?>")[2] if text.startswith("<?xml") and text[5:6].isspace() else text


# Characters XML 1.0 allows nowhere, which .NET writes all the same (raw, or as '&#xB;') when minutes pasted from
# Word carry them: Word's manual line break (11), page break (12), non-breaking (30) and optional (31) hyphens.
_CHARACTER_REFERENCE = re.compile(r"&#(?:x([0-9A-Fa-f]{1,8})|([0-9]{1,10}));")
_WORD_CHARACTERS = {0x0B: "\n", 0x0C: "\n", 0x1E: "-", 0x1F: ""}
_AS_WORD_MEANT = {point: _WORD_CHARACTERS.get(point, " ") for point in NOT_IN_XML}


def _xml_characters_only(text: str) -> str:
    """The text with every character XML 1.0 does not allow, raw or as a character reference, replaced by what Word
    meant by it, or a space."""
    def referenced(match: re.Match) -> str:
        point = int(match.group(1), 16) if match.group(1) else int(match.group(2))
        return _WORD_CHARACTERS.get(point, " ") if not allowed_in_xml(point) else match.group(0)

    return _CHARACTER_REFERENCE.sub(referenced, text).translate(_AS_WORD_MEANT)


def _parsed(body: bytes) -> Element:
    """The XML tree of a reply. Some servers write HTML's named entities ('&nbsp;', '&rsquo;') straight into the
    XML, which knows only five; such a reply is read with them as the characters they name."""
    import defusedxml.ElementTree as SafeTree

    try:
        return SafeTree.fromstring(body)
    except ParseError as exc:
        if "undefined entity" not in str(exc):
            raise
        return SafeTree.fromstring(_HTML_ENTITY.sub(_as_character_reference, body))


_HTML_ENTITY = re.compile(rb"&([A-Za-z][A-Za-z0-9]{1,31});")
_XML_ENTITIES = {b"amp", b"lt", b"gt", b"quot", b"apos"}


def _as_character_reference(match: re.Match) -> bytes:
    name = match.group(1)
    point = None if name in _XML_ENTITIES else html.entities.name2codepoint.get(name.decode("ascii"))
    return b"&#%d;" % point if point else match.group(0)


def _normalise(root: Element) -> None:
    for element in root.iter():
        if isinstance(element.tag, str):
            element.tag = element.tag.rsplit("}", 1)[-1].lower()
        if element.attrib:
            element.attrib = {key.rsplit("}", 1)[-1].lower(): value for key, value in element.attrib.items()}


def _looks_like_html(body: bytes, content_type: str) -> bool:
    head = body[:2048].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    return "html" in content_type.lower() or head.startswith((b"<!doctype html", b"<html")) or b"<html" in head


def _html_error(operation: str, url: str, base_url: str, body: bytes = b"") -> ServiceError:
    if error := _aspnet_error(body):
        return ServiceError(
            f"{operation} at {url} answered an ASP.NET error page ({error}) instead of XML: the site's server failed "
            "on this request.",
            "This is the site's fault, not a wrong base URL: run the fetch again later, and if it keeps failing, tell "
            "the council's web team. Nothing already indexed is lost.")
    return SiteRefused(
        f"{operation} at {url} answered HTML rather than XML: a web page came back instead of the ModernGov web "
        f"service's reply, so {SERVICE_PATH} is switched off at this site, the base URL is wrong, or a login or "
        "Cloudflare check page stood in the way.",
        f"Open {base_url}/{SERVICE_PATH}/GetCommittees in a browser: it should show XML. If it shows a page, "
        "check the base URL (the address before /mgListCommittees.aspx), or ask the council whether its web "
        "service is public.",
    )


# ASP.NET's own error page, which some servers send with status 200: "Server Error in '/' Application."
_ASPNET_ERROR = re.compile(rb"<h1>\s*(Server Error in [^<]{0,200}?Application\.?)\s*</h1>"
                           rb"(?:\s*<h2>\s*(?:<i>)?\s*([^<]{1,200}?)\s*(?:</i>)?\s*</h2>)?", re.IGNORECASE)


def _aspnet_error(body: bytes) -> str:
    """'Server Error in '/' Application. Runtime Error' when the page is ASP.NET's error page, else ''."""
    if match := _ASPNET_ERROR.search(body[:65536]):
        parts = (part.decode("utf-8", "replace").strip() for part in match.groups() if part)
        return " ".join(" ".join(parts).split())
    return ""


def _soap_fault(operation: str, url: str, fault: Element) -> ServiceError:
    """A SOAP fault: the service failed on this request, and its faultstring says how."""
    return ServiceError(
        f"{operation} at {url} answered a SOAP fault: {_fault_text(fault) or 'it gave no faultstring'}"
        .rstrip(".") + ".",
        "The site's web service failed on this request: run the fetch again later, and if it keeps failing, tell "
        "the council's web team, quoting the fault. Nothing already indexed is lost.")


def _fault_text(fault: Element) -> str:
    return " ".join((fault.findtext("faultstring") or fault.findtext(".//text") or "").split())


def _fault_in(body: bytes) -> str:
    """The faultstring of a SOAP fault sent with an error status, else ''."""
    if b"Fault" not in body[:65536]:
        return ""
    try:
        root = _parsed(body.removeprefix(_UTF8_BOM).lstrip())
    except Exception:  # not XML after all: the status says enough
        return ""
    _normalise(root)
    fault = root.find(".//fault") if root.tag == "envelope" else None
    return _fault_text(fault) if fault is not None else ""


def _too_large(url: str, base_url: str, cap: int) -> ServiceError:
    size = f"{cap // 2 ** 20} MiB" if cap >= 2 ** 20 else f"{cap} bytes"
    return ServiceError(
        f"{url} sent more than {size}, far more than any ModernGov reply, so the fetch stopped reading it.",
        f"Open {base_url}/{SERVICE_PATH}/GetCommittees in a browser to check the base URL. If the site is right, "
        "fetch a shorter window (--since, --until) or fewer committees (--committee); if one meeting is that "
        "large, tell the council's web team. Nothing already indexed is lost.")


def _client_error(operation: str, url: str, base_url: str, status: int, reason: str) -> ServiceError:
    if status == 401:
        hint = (f"The web service at {base_url} asks for a login: this council does not publish it openly, and this "
                "tool reads only public pages. Ask the council's web team to make it public, or download the "
                "minutes from its public pages and add them with `assistant ingest`.")
    elif status == 403:
        hint = ("The site refuses this client: it may block automated requests or sit behind a firewall. Set "
                "ASSISTANT_FETCH_CONTACT to a URL or address the council can reach you at, and ask its web team to "
                "allow the fetch.")
    elif operation == "GetMeeting" and status in (400, 404, 410):
        # The service answered the listings that named this meeting: the base URL is right.
        hint = (f"The web service answers, so this is about this meeting alone: it may have been deleted or "
                f"withdrawn from the site since it was listed. Open {url} in a browser to check; the other "
                "meetings were fetched, and its items already indexed stay.")
    elif status == 404:
        hint = (f"Check the base URL: {base_url}/{SERVICE_PATH} should exist. Some councils serve ModernGov under a "
                "path (e.g. https://example.gov.uk/moderngov); copy the address before /mgListCommittees.aspx.")
    else:
        hint = "Check the base URL in a browser; if the site works there, run the fetch again later."
    error = NotFound if status in (404, 410) else SiteRefused if status in (401, 403) else ServiceError
    return error(f"{operation} at {url} answered HTTP {status} {reason}.", hint)


def _retry_after_seconds(value: str | None) -> float | None:
    """Seconds from a Retry-After (a count of seconds or an HTTP date); None when absent or unreadable ('nan',
    '-5', 'soon'), as if the site had not said."""
    if not value:
        return None
    value = value.strip()
    if re.fullmatch(r"\d+(?:\.\d+)?", value):
        return float(value)  # a count too long for a float is inf: longer than any cap
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    return max(0.0, when.timestamp() - time.time())


def _is_tls_failure(exc: BaseException) -> bool:
    return any(isinstance(cause, ssl.SSLError) or "SSL" in str(cause) or "CERTIFICATE" in str(cause).upper()
               for cause in causes_of(exc))

