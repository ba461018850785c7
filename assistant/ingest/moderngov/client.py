"""HTTP to a ModernGov web service: a polite User-Agent, a per-host rate limit, retries with backoff
(honouring Retry-After), conditional requests, and replies checked to be XML before anyone parses them."""

from __future__ import annotations

import codecs
import email.utils
import html.entities
import re
import ssl
import time
from dataclasses import dataclass
from typing import Callable
from urllib.parse import urlsplit
from xml.etree.ElementTree import Element, ParseError

from assistant.errors import AssistantError
from assistant.errors import ConfigError
from assistant.settings import Settings

SERVICE_PATH = "mgWebService.asmx"
PROJECT_NAME = "minutes-assistant"
_UTF8_BOM = b"\xef\xbb\xbf"
_UTF16_BOMS = (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)
_RETRY_STATUSES = {429, 500, 502, 503, 504, 507, 509, 520, 521, 522, 523, 524}
# The most a reply may hold, decompressed. A reply is held whole and parsed into a tree, so a site that sends without
# end (a broken server, a wrong base URL streaming something else) would otherwise take all the memory. Real replies
# are a few KB to a few MB; this leaves room for a meeting of dozens of items each near the item cap.
MAX_REPLY_BYTES = 64 * 2 ** 20


class ServiceError(AssistantError):
    """One request to the web service failed in a way retrying will not fix; the message says what to do."""


@dataclass(frozen=True)
class Reply:
    """A web-service answer: its XML root (None when the site said 304 Not Modified) and its validators."""

    root: Element | None
    etag: str = ""
    last_modified: str = ""

    @property
    def not_modified(self) -> bool:
        return self.root is None


def user_agent(contact: str) -> str:
    from assistant import __version__

    if not contact.isascii():
        raise ConfigError(f"ASSISTANT_FETCH_CONTACT ({contact!r}) has characters an HTTP header cannot carry.",
                          "Give a plain URL or e-mail address, in ASCII.")

    about = f"council minutes assistant; contact {contact}" if contact else "council minutes assistant"
    return f"{PROJECT_NAME}/{__version__} ({about})"


class ServiceClient:
    """Calls `{base}/mgWebService.asmx/{Operation}` with GET, one host at a time and at a polite rate."""

    def __init__(self, base_url: str, settings: Settings, *, sleep: Callable[[float], None] = time.sleep,
                 last_request: dict[str, float] | None = None, max_reply_bytes: int = MAX_REPLY_BYTES) -> None:
        import httpx

        self.base_url = base_url.rstrip("/")
        self.settings = settings
        self.max_reply_bytes = max_reply_bytes
        self._sleep = sleep
        # When each host was last asked (time.monotonic, which one machine's processes share), so a client
        # that takes over from another keeps to the same rate.
        self.last_request: dict[str, float] = dict(last_request or {})
        self._http = httpx.Client(
            timeout=settings.fetch_timeout, follow_redirects=True,
            headers={"User-Agent": user_agent(settings.fetch_contact), "Accept": "text/xml, application/xml"},
            # Every request sent waits its turn, the ones a redirect leads to included: a site that redirects
            # each call (http to https, an old path) would otherwise get two requests at once.
            event_hooks={"request": [lambda request: self._wait_turn(str(request.url))]},
        )

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> "ServiceClient":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def url(self, operation: str) -> str:
        return f"{self.base_url}/{SERVICE_PATH}/{operation}"

    def call(self, operation: str, params: dict[str, str] | None = None, *, etag: str = "",
             last_modified: str = "") -> Reply:
        """One operation's XML; raises ServiceError with what went wrong and what to do about it."""
        import httpx

        url = self.url(operation)
        headers = {}
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        attempts = self.settings.fetch_retries + 1
        for attempt in range(attempts):
            last_try = attempt == attempts - 1
            try:
                response, body = self._get(url, params, headers)
            except httpx.TimeoutException:
                problem = f"did not send its whole reply within {self.settings.fetch_timeout:g} s"
                if last_try:
                    raise ServiceError(f"{operation} at {url} {problem} ({attempts} tries).",
                                       "The site may be slow or down: run the fetch again later; nothing fetched "
                                       "so far is lost. ASSISTANT_FETCH_TIMEOUT sets the wait.") from None
                self._back_off(attempt, None)
                continue
            except httpx.TransportError as exc:
                if _is_tls_failure(exc):
                    raise ServiceError(
                        f"{operation} at {url} failed: the secure connection (TLS) could not be set up ({exc}).",
                        f"The site's certificate may be broken or expired: open {self.base_url} in a browser to "
                        "check, and tell the council's web team if the browser warns too.") from None
                if last_try:
                    raise ServiceError(f"{operation} at {url} could not be reached ({exc}).",
                                       "Check the base URL and your network connection, then run the fetch "
                                       "again.") from None
                self._back_off(attempt, None)
                continue
            except (httpx.RequestError, httpx.InvalidURL) as exc:  # redirect loops, undecodable bodies, bad URLs
                raise ServiceError(f"{operation} at {url} failed: {exc}.",
                                   f"Open {self.base_url} in a browser to check the base URL (a login page or a "
                                   "redirect loop means the web service is not public).") from None
            if response.status_code == 304:
                if not (etag or last_modified):
                    raise ServiceError(f"{operation} at {url} answered 304 Not Modified to a plain request.",
                                       "The site is misbehaving: run the fetch again later.")
                return Reply(None, etag, last_modified)
            if response.status_code in _RETRY_STATUSES:
                if last_try:
                    said = _fault_in(body)
                    raise ServiceError(
                        f"{operation} at {response.url} answered HTTP {response.status_code} "
                        f"{response.reason_phrase} after {attempts} tries"
                        + (f", with the SOAP fault: {said}".rstrip(".") + "." if said else "."),
                        "The site is busy or failing: run the fetch again later; nothing fetched so far is lost.")
                self._back_off(attempt, response.headers.get("Retry-After"))
                continue
            if response.status_code >= 400:
                raise _client_error(operation, str(response.url), self.base_url, response.status_code,
                                    response.reason_phrase)
            root = parse_reply(body, response.headers.get("Content-Type", ""), operation, str(response.url),
                               self.base_url)
            return Reply(root, response.headers.get("ETag", ""), response.headers.get("Last-Modified", ""))
        raise AssertionError("unreachable: the last try returns or raises")

    def _get(self, url: str, params: dict[str, str] | None, headers: dict[str, str]):
        """The response and its whole body, read by the deadline and within the size cap.

        httpx's timeout bounds each socket read, so a site sending a byte a second would never time out: the
        deadline is checked as the body arrives. A site that falls silent is still given up on after one read
        timeout, so a reply takes at most twice ASSISTANT_FETCH_TIMEOUT in the worst case."""
        import httpx

        deadline = time.monotonic() + self.settings.fetch_timeout
        with self._http.stream("GET", url, params=params, headers=headers) as response:
            body = bytearray()
            for chunk in response.iter_bytes():
                body += chunk
                if len(body) > self.max_reply_bytes:
                    raise _too_large(str(response.url), self.base_url, self.max_reply_bytes)
                if time.monotonic() > deadline:
                    raise httpx.ReadTimeout("the reply did not arrive in time", request=response.request)
        return response, bytes(body)

    def _wait_turn(self, url: str) -> None:
        """At most `fetch_rate` requests a second to one host."""
        rate = self.settings.fetch_rate
        host = urlsplit(url).netloc
        if rate > 0 and host in self.last_request:
            wait = self.last_request[host] + 1.0 / rate - time.monotonic()
            if wait > 0:
                self._sleep(wait)
        self.last_request[host] = time.monotonic()

    def _back_off(self, attempt: int, retry_after: str | None) -> None:
        wait = _retry_after_seconds(retry_after)
        if wait is None:
            wait = self.settings.fetch_backoff * 2 ** attempt
        self._sleep(max(0.0, min(wait, self.settings.fetch_max_wait)))


def parse_reply(body: bytes, content_type: str, operation: str, url: str, base_url: str) -> Element:
    """The XML root of a reply, with namespaces dropped and names lower-cased; HTML pages are refused."""
    from defusedxml import DefusedXmlException

    if (text := _utf16_text(body, operation, url)) is not None:
        # Decoded here, not by the parser, which cannot read past a line break before a UTF-16 declaration.
        return parse_reply(_undeclared(text).encode("utf-8"), "", operation, url, base_url)
    # Some servers put a line break (after a UTF-8 byte order mark or not) before the XML declaration, which XML
    # allows nowhere but at the very start.
    had_bom = body.startswith(_UTF8_BOM)
    body = body.removeprefix(_UTF8_BOM).lstrip(b" \t\r\n")
    if not body:
        raise ServiceError(f"{operation} at {url} answered an empty reply instead of XML.",
                           "Run the fetch again later; if it persists, check the base URL in a browser.")
    if not had_bom and not body.startswith(b"<?xml"):
        body = _in_utf8(body, content_type)
    try:
        root = _parsed(body)
    except (ParseError, DefusedXmlException) as exc:
        if _looks_like_html(body, content_type):
            raise _html_error(operation, url, base_url, body) from None
        raise ServiceError(f"{operation} at {url} answered malformed XML ({exc}).", _BROKEN_REPLY) from None
    _normalise(root)
    if root.tag == "html":
        raise _html_error(operation, url, base_url, body)
    if root.tag == "envelope" and (fault := root.find(".//fault")) is not None:
        raise _soap_fault(operation, url, fault)
    if root.tag == "string" and (root.text or "").lstrip().startswith("<"):
        # Some ASP.NET services wrap the document as escaped text inside <string>.
        return parse_reply(_undeclared(root.text or "").encode("utf-8"), "", operation, url, base_url)
    return root


_BROKEN_REPLY = ("The site sent a broken reply: run the fetch again later, and if it persists, tell the council's web "
                 "team. Nothing already indexed is lost.")


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
                           f"at byte {exc.start}), so it cannot be read.", _BROKEN_REPLY) from None


def _undeclared(text: str) -> str:
    """Decoded XML without its declaration, whose encoding named the bytes the text came in (.NET writes "utf-16"
    into a document it hands over as a string), not the UTF-8 it is parsed from next."""
    text = text.lstrip("\ufeff \t\r\n")
    return text.partition("?>")[2] if text.startswith("<?xml") and text[5:6].isspace() else text


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


def _in_utf8(body: bytes, content_type: str) -> bytes:
    """A body with no XML declaration, re-encoded from the charset its Content-Type names.

    Without a declaration or a byte order mark the XML parser assumes UTF-8, so a reply in windows-1252 (as some
    ASP.NET servers send, saying so only in the header) would fail on its first curly quote. A declaration is left
    to the parser, since XML says it wins over the header."""
    import email.message

    header = email.message.Message()
    header["Content-Type"] = content_type
    charset = header.get_param("charset")
    if not isinstance(charset, str) or not charset.strip():
        return body
    try:
        text = body.decode(charset.strip())
    except (LookupError, UnicodeDecodeError):  # an unknown charset, or one the body does not match: parse as sent
        return body
    if text.lstrip("\ufeff").startswith("<?xml"):  # a declaration in an encoding wider than ASCII (UTF-16 replies
        return body                                # are decoded before this): the parser reads it
    return text.encode("utf-8")


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
    return ServiceError(
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
    elif status == 404:
        hint = (f"Check the base URL: {base_url}/{SERVICE_PATH} should exist. Some councils serve ModernGov under a "
                "path (e.g. https://example.gov.uk/moderngov); copy the address before /mgListCommittees.aspx.")
    else:
        hint = "Check the base URL in a browser; if the site works there, run the fetch again later."
    return ServiceError(f"{operation} at {url} answered HTTP {status} {reason}.", hint)


def _retry_after_seconds(value: str | None) -> float | None:
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def _is_tls_failure(exc: BaseException) -> bool:
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, ssl.SSLError) or "SSL" in str(current) or "CERTIFICATE" in str(current).upper():
            return True
        current = current.__cause__ or current.__context__
    return False
