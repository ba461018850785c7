"""Optional sign-in for the app: a file of `name:hash` lines, PBKDF2-SHA256 with a random salt."""

from __future__ import annotations

import hashlib
import hmac
import logging
import os
import string
import secrets
import threading
import time
from pathlib import Path

from assistant.errors import AssistantError, ConfigError
from assistant.files import exclusive_lock, read_utf8, write_atomically
from assistant.text import one_printed_line

ITERATIONS = 600_000
_SCHEME = "pbkdf2_sha256"
_DIGEST_HEX_DIGITS = 2 * hashlib.sha256().digest_size
_HEX_DIGITS = frozenset(string.hexdigits)
_NAME_CHARACTERS = frozenset(string.ascii_letters + string.digits + "._@-")

log = logging.getLogger(__name__)

# After this many wrong passwords for one name within HELD_BACK_S, that name is refused unchecked (its right password
# too) for HELD_BACK_S from the last of them, as Grafana does: a guesser gets a handful of tries every few minutes. A
# right password clears the count. Someone who knows a member's name can keep it held back by failing as often; the
# log says so. No limit holds back every name: a flood of names would keep every member out. (Gradio gives a sign-in
# check no address to limit by.)
FAILURES_PER_NAME, HELD_BACK_S = 5, 5 * 60


def hash_password(password: str, iterations: int = ITERATIONS) -> str:
    salt = secrets.token_hex(16)
    digest = hashlib.pbkdf2_hmac("sha256", password.encode(), bytes.fromhex(salt), iterations).hex()
    return f"{_SCHEME}${iterations}${salt}${digest}"


def verify_password(password: str, stored: str) -> bool:
    """Whether the password matches the stored hash; False, not an error, for a hash that is damaged."""
    try:
        iterations, salt, digest = _parse_hash(stored)
    except ValueError:
        return False
    actual = hashlib.pbkdf2_hmac("sha256", password.encode(), salt, iterations).hex()
    return hmac.compare_digest(actual, digest)


def _parse_hash(stored: str) -> tuple[int, bytes, str]:
    """(iterations, salt, hex digest) of a stored hash; a ValueError that says which part is wrong."""
    parts = stored.split("$")
    if len(parts) != 4 or parts[0] != _SCHEME:
        raise ValueError(f"is not {_SCHEME}$ITERATIONS$SALT$DIGEST")
    _, iterations, salt, digest = parts
    if not (iterations.isascii() and iterations.isdigit() and int(iterations) >= 1):
        raise ValueError(f"has {iterations!r} for its iterations, not a whole number of at least 1")
    if not salt or not _is_hex(salt):
        raise ValueError("has a salt that is not hexadecimal bytes")
    if len(digest) != _DIGEST_HEX_DIGITS or not _is_hex(digest):
        raise ValueError(f"has a digest that is not {_DIGEST_HEX_DIGITS} hexadecimal digits")
    return int(iterations), bytes.fromhex(salt), digest.lower()


def _is_hex(text: str) -> bool:
    # bytes.fromhex would also take spaces between the bytes; a stored hash never has them.
    return len(text) % 2 == 0 and set(text) <= _HEX_DIGITS


def read_users(path: Path) -> dict[str, str]:
    """The users the app lets in. A file every account may write is refused, as ssh refuses such keys: any of them
    could add a line of their own and sign in (`user add` writes it for its owner alone). A group's write, as a
    umask of 002 gives a user's own group, is left to the operator."""
    if path.is_file() and path.stat().st_mode & 0o002:
        mode = path.stat().st_mode & 0o777
        raise ConfigError(f"The users file {path} may be written by every account on this machine (mode {mode:03o}): "
                          "any of them could add a user of their own and sign in.",
                          f"Run `chmod 600 {path}`, as `assistant user add` leaves it.")
    return _read_users(path)


def readable_by_others(path: Path) -> str:
    """A warning when accounts other than the owner may read the users file ("" when none may): its hashes are slow
    to guess at, not impossible, and a weak password among them falls to an offline guesser."""
    try:
        mode = path.stat().st_mode & 0o777
    except OSError:
        return ""
    if not mode & 0o044:
        return ""
    return (f"the users file {path} may be read by other accounts on this machine (mode {mode:03o}), who could "
            f"guess at its password hashes offline; run `chmod 600 {path}`, as `assistant user add` leaves it.")


def _read_users(path: Path, mending: str = "") -> dict[str, str]:
    """The users in the file; a damaged hash is an error unless it is `mending`'s, which is about to be replaced."""
    if path.is_dir():
        raise ConfigError(f"ASSISTANT_AUTH names {path}, which is a folder, not a users file.",
                          f"Name a file in it, such as {path / 'users.txt'}, made with `assistant user add NAME`.")
    if not path.is_file():
        raise ConfigError(f"ASSISTANT_AUTH names {path}, which does not exist.",
                          "Create it with `assistant user add NAME`, or unset ASSISTANT_AUTH.")
    users = {}
    for number, line in enumerate(read_utf8(path, "the users file").splitlines(), start=1):
        if not line.strip() or line.startswith("#"):
            continue
        name, sep, stored = line.strip().partition(":")
        if not sep or not stored.startswith(f"{_SCHEME}$"):
            raise ConfigError(f"{path}:{number} is not a `name:hash` line.",
                              f"Delete or correct line {number} (a password typed in where its hash belongs, "
                              "perhaps), then set that user's password with `assistant user add NAME`: users are "
                              "written by `user add` and taken out by `user remove`, not by hand.")
        if name != mending:
            try:
                _parse_hash(stored)
            except ValueError as problem:
                raise ConfigError(f"{path}:{number}: the password hash of {name!r} {problem}.",
                                  f"Set that password again with `assistant user add {name}`, which replaces "
                                  "the line, or delete the line.") from None
        users[name] = stored
    return users


# What a new password must be, as the NCSC and NIST advise: long, and not one that guessers try first (the user's
# own name, a keyboard run, a word that says it is a password), with no rules about kinds of characters.
MIN_PASSWORD_CHARS = 12
STRONG_PASSWORD_HINT = (f"Use at least {MIN_PASSWORD_CHARS} characters; three random words make a strong password "
                        "that is easy to type (\"lamp orbit ferry\").")
_KEYBOARD_RUNS = ("0123456789" * 3, "abcdefghijklmnopqrstuvwxyz" * 2, "qwertyuiop" * 3, "asdfghjkl" * 3,
                  "zxcvbnm" * 4)
_SAYS_PASSWORD = ("password", "passw0rd", "letmein")


def password_problem(name: str, password: str) -> str:
    """Why this password may not be given to this user ('is too short'), or ""."""
    folded = password.casefold()
    if len(password) < MIN_PASSWORD_CHARS:
        return "is too short"
    if len(name) >= 3 and name.casefold() in folded:
        return "holds the user name"
    if len(set(folded)) < 5:
        return "repeats too few characters"
    if any(folded in run or folded in run[::-1] for run in _KEYBOARD_RUNS):
        return "is a run of keys"
    if any(word in folded for word in _SAYS_PASSWORD):
        return "says that it is a password"
    return ""


def add_user(path: Path, name: str, password: str) -> None:
    """Add or replace one user, keeping the others; the file is written readable by its owner only."""
    if not (1 <= len(name) <= 64 and set(name) <= _NAME_CHARACTERS):
        raise ConfigError(f"{name!r} is not a usable user name.", "Use letters, digits and . _ @ - only.")
    if problem := password_problem(name, password):
        raise ConfigError(f"The password {problem}.", STRONG_PASSWORD_HINT)
    stored = hash_password(password)  # the slow part, done before taking the lock so others wait less
    with _locked(path):
        users = _read_users(path, mending=name) if path.is_file() else {}
        if alike := [n for n in users if n != name and n.casefold() == name.casefold()]:
            raise ConfigError(f"{path} has the user {alike[0]!r}, and names are signed in with whatever their case "
                              f"(a phone's keyboard writes {name[:1].upper() + name[1:]!r}), so {name!r} would be "
                              "the same member.", f"Run `assistant user add {alike[0]}` to set that user's password, "
                              "or choose another name.")
        users[name] = stored
        write_atomically(path, "".join(f"{n}:{h}\n" for n, h in users.items()), mode=0o600)


def remove_user(path: Path, name: str) -> None:
    """Take one user out, keeping the others: their open sessions end at their next request."""
    with _locked(path):
        users = _read_users(path, mending=name)  # a damaged line of the user taken out is no obstacle
        if name not in users:
            raise ConfigError(f"{path} has no user {name!r}.",
                              f"The users are: {', '.join(sorted(users)) or 'none'}.")
        del users[name]
        write_atomically(path, "".join(f"{n}:{h}\n" for n, h in users.items()), mode=0o600)


def _locked(path: Path):
    """Hold an exclusive lock on a file beside the users file, waiting for it, so that two `user add` at once keep
    both users. The users file itself cannot carry the lock: it is replaced by a rename on every write."""
    target = Path(os.path.realpath(path))  # a symlink and its target share one lock
    return exclusive_lock(target.with_name(f"{target.name}.lock"), mode=0o600)


def checker(path: Path) -> "SignIn":
    """A function for Gradio's `auth=`: (name, password) -> bool, over the users file (see SignIn)."""
    return SignIn(path)


class SignIn:
    """Gradio's `auth=`: (name, password) -> bool, over a users file.

    The file is read again whenever it changes, so a new password or a removed user counts without restarting the
    app: at the next sign-in, and for a member already signed in, at their next request (`still_allowed`), whose
    sessions `on_ended` is told to end. A file that is damaged or gone lets nobody in until it is mended.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._seen = _file_stamp(path)  # taken before reading, so that a change made meanwhile is read at once
        self._users = read_users(path)  # a bad file at start stops the app with the message, before it serves anyone
        if not self._users:
            raise ConfigError(f"The users file {path} holds no users, so nobody could sign in to the app.",
                              "Add one with `assistant user add NAME`.")
        self._reading = threading.Lock()  # Gradio checks sign-ins on several threads
        self._failures: dict[str, list[float]] = {}  # name: when its recent wrong passwords were given (monotonic)
        self._limiter = None  # one check at a time (`check_in_thread`), made in the server's event loop
        self._counting = threading.Lock()
        # A name not in the file is checked against this (no password's hash, at the users' iterations), so that it
        # takes as long as a real one: the time taken had said which names exist.
        self._stand_in = (f"{_SCHEME}${_usual_iterations(self._users)}${secrets.token_hex(16)}"
                          f"${'0' * _DIGEST_HEX_DIGITS}")
        # Called with the names whose sessions must end (removed, or a new password): the app drops their tokens.
        self.on_ended: list = []

    def current_users(self) -> dict[str, str]:
        return self._read()[0]

    def _read(self) -> tuple[dict[str, str], set[str]]:
        """The users, and the names whose sessions this read ended (removed, or given a new password)."""
        ended: set[str] = set()
        with self._reading:
            stamp = _file_stamp(self.path)
            if stamp != self._seen:
                self._seen = stamp
                before = self._users
                try:
                    self._users = read_users(self.path)
                except (AssistantError, OSError) as exc:
                    self._users = {}
                    log.error("Nobody can sign in until the users file is mended: %s", exc)
                ended = {name for name, stored in before.items() if self._users.get(name) != stored}
            users = self._users
        # Ended before this returns, so before the sign-in that asked is let through (a session of the old password
        # must not outlive it), and outside the reading lock: ending takes the sessions' lock, which a sign-in
        # being stored holds while it asks for its user's name.
        if ended:
            for end in self.on_ended:
                end(ended)
        return users, ended

    def user_named(self, name: str) -> str | None:
        """The user a typed name signs in as: the name itself, else the one user whose name differs from it in case
        alone (a phone's keyboard starts a name with a capital); None for no user."""
        return _user_named(self.current_users(), name)

    def as_signed_in(self, name: str) -> str:
        """The name a session is kept, and its answers audited, under: the user's own, however it was typed."""
        return self.user_named(name) or name

    def still_allowed(self, name: str) -> bool:
        """Whether a signed-in member is still in the users file, by the exact name their session is kept under
        (`as_signed_in`): a member removed and another added as 'Bob' does not carry bob's session on. Nor does the
        request that finds a new password given: its session, begun with the old one, ends with it, and had been
        answered once more."""
        users, ended = self._read()
        return name in users and name not in ended

    def __call__(self, name: str, password: str) -> bool:
        """Whether this name and password sign in: refused unchecked while the name is held back (FAILURES_PER_NAME
        wrong passwords within HELD_BACK_S, the last less than HELD_BACK_S ago)."""
        if self._held_back(name):
            return False
        users = self.current_users()
        user = _user_named(users, name)
        stored = users.get(user) if user else None
        if verify_password(password, stored or self._stand_in) and stored:
            with self._counting:
                self._failures.pop(name.casefold(), None)
            return True
        self._count_failure(name)
        return False

    async def check_in_thread(self, name: str, password: str) -> bool:
        """The check, for Gradio: on a thread of its own, one at a time, so that the server goes on serving members
        meanwhile (Gradio calls a plain function on the thread that serves every request)."""
        import anyio

        return await anyio.to_thread.run_sync(self, name, password, limiter=self._one_at_a_time())

    def _one_at_a_time(self):
        import anyio

        if self._limiter is None:
            self._limiter = anyio.CapacityLimiter(1)
        return self._limiter

    def _held_back(self, name: str) -> bool:
        now = time.monotonic()
        with self._counting:
            mine = self._failures.get(name.casefold(), [])  # a name's tries count together, whatever their case
            if len(mine) < FAILURES_PER_NAME:
                return False
            if now - mine[-1] >= HELD_BACK_S:
                del self._failures[name.casefold()]  # its time is up: a fresh handful of tries
                return False
        log.warning("A sign-in as %s was refused unchecked: %d wrong passwords for it, the last %d s ago.",
                    one_printed_line(repr(name[:40])), len(mine), now - mine[-1])
        return True

    def _count_failure(self, name: str) -> None:
        now = time.monotonic()
        with self._counting:
            key = name.casefold()
            recent = [t for t in self._failures.get(key, []) if now - t < HELD_BACK_S]  # older ones are forgiven
            self._failures[key] = recent + [now]
            if len(self._failures) > 10_000:  # names that are guessed at: the oldest forgotten, so memory is bounded
                for stale in sorted(self._failures, key=lambda n: self._failures[n][-1])[:5_000]:
                    del self._failures[stale]


def _user_named(users: dict[str, str], name: str) -> str | None:
    if name in users:
        return name
    alike = [user for user in users if user.casefold() == name.casefold()]
    return alike[0] if len(alike) == 1 else None


class ExpiringSessions(dict):
    """Gradio's signed-in sessions (token: user name), each ended `lifetime_s` after its sign-in (inf: never): a
    session left open on a shared or lost device does not last until the app restarts. Each is kept under its user's
    own name, however the member typed it. Gradio keeps its sessions in the server
    app's `tokens` dict, so a dict that forgets old tokens ends them: the next request of such a session is refused
    like a signed-out one, and the page asks its member to sign in again."""

    def __init__(self, lifetime_s: float, sessions: dict | None = None, clock=time.monotonic,
                 name_of=None) -> None:
        super().__init__()
        self.lifetime_s = lifetime_s
        self._clock = clock
        self._name_of = name_of or (lambda name: name)  # the name a session is kept under (SignIn.as_signed_in)
        self._began: dict[str, float] = {}
        self._changing = threading.RLock()  # sign-ins come on the server's loop, removed members' ends on threads
        for token, name in (sessions or {}).items():
            self[token] = name  # sessions begun before this took over: their time counts from now

    def __setitem__(self, token, name) -> None:
        # Outside the lock: the name is looked up in the users file, whose reader may be ending sessions (which
        # takes this lock) as it reads a change; taken inside, the two waited on each other for good.
        name = self._name_of(name)
        with self._changing:
            self._forget_ended()  # as sessions begin, ended ones go, so a server up for months holds few
            self._began[token] = self._clock()
            super().__setitem__(token, name)

    def __delitem__(self, token) -> None:
        with self._changing:  # one forgotten meanwhile (ended, or its member removed) is no error
            self._began.pop(token, None)
            super().pop(token, None)

    # `[]` finds an ended session that is not yet forgotten, and a forgotten one is no user: Gradio's sign-out walks
    # the sessions, then looks each up, and one ending in between had made that a server error. A session is let in
    # only through `get` and `in`.
    def __missing__(self, token):
        return None

    def pop(self, token, *default):
        with self._changing:
            self._began.pop(token, None)
            return super().pop(token, *default)

    def get(self, token, default=None):
        with self._changing:
            self._forget_ended()
            return super().get(token, default)

    def __contains__(self, token) -> bool:
        with self._changing:
            self._forget_ended()
            return super().__contains__(token)

    # Whatever walks the sessions (Gradio's sign-out of every session of a member) sees live ones alone, each of
    # which `[]` then finds.
    def __iter__(self):
        with self._changing:
            self._forget_ended()
            return iter(list(super().keys()))

    def __len__(self) -> int:
        with self._changing:
            self._forget_ended()
            return super().__len__()

    def keys(self):
        return list(iter(self))

    def items(self):
        with self._changing:
            self._forget_ended()
            return list(super().items())

    def values(self):
        return [name for _, name in self.items()]

    def _forget_ended(self) -> None:
        now = self._clock()
        for token in [t for t, began in self._began.items() if now - began >= self.lifetime_s]:
            self._began.pop(token, None)
            super().pop(token, None)


def _usual_iterations(users: dict[str, str]) -> int:
    """The iterations most of the users' hashes have (ITERATIONS when none can be read)."""
    from collections import Counter

    counts = Counter()
    for stored in users.values():
        try:
            counts[_parse_hash(stored)[0]] += 1
        except ValueError:
            continue
    return counts.most_common(1)[0][0] if counts else ITERATIONS


def _file_stamp(path: Path) -> tuple[int, int, int, int, int] | None:
    """What changes when the file is edited or replaced; None when it is gone."""
    try:
        stat = path.stat()
    except OSError:
        return None
    return stat.st_dev, stat.st_ino, stat.st_mtime_ns, stat.st_size, stat.st_mode  # a chmod that mends it too


class SignInPageHead:
    """An ASGI wrapper around the launched app that adds `head` to Gradio's sign-in page (the page at "/" whose
    config says sign-in is required), before its `</head>`. Why: that page gets none of the app's own head (Gradio
    gives it a bare config), so it had no title and its "Incorrect Credentials" was never announced. Every other
    response passes through untouched; a compressed one is never rewritten. HEAD is told the length GET is sent."""

    _MARK = b'"auth_required":true'

    def __init__(self, app, head: str) -> None:
        self.app = app
        self._head = head.encode("utf-8")

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http" or scope.get("method") not in ("GET", "HEAD") or _route_path(scope) not in ("", "/"):
            await self.app(scope, receive, send)
            return
        start: dict | None = None
        body: list[bytes] = []

        async def rewritten(message) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                start = message
                return
            if start is None or message["type"] != "http.response.body":
                await send(message)
                return
            body.append(message.get("body", b""))
            if message.get("more_body"):
                return
            page = b"".join(body)
            headed = self._with_head(start, page)
            if headed != page:  # a page left as it is keeps its length (HEAD's, where a server sends it no body)
                headers = [(k, v) for k, v in start.get("headers", []) if k.lower() != b"content-length"]
                start = {**start, "headers": headers + [(b"content-length", str(len(headed)).encode())]}
            await send(start)
            await send({"type": "http.response.body", "body": headed})

        await self.app(scope, receive, rewritten)

    def _with_head(self, start: dict, page: bytes) -> bytes:
        headers = {k.lower(): v for k, v in start.get("headers", [])}
        if (start.get("status") != 200 or b"content-encoding" in headers
                or not headers.get(b"content-type", b"").startswith(b"text/html") or self._MARK not in page):
            return page
        return page.replace(b"</head>", self._head + b"</head>", 1)


class OwnSiteOnly:
    """An ASGI wrapper around the launched app that takes out of every response the CORS headers that give another
    web site leave to read it. Why: Gradio gives that leave to any site, with the member's cookies, whenever the
    request's Host is not this machine's own name, as behind a proxy that passes it on; and its sign-in cookie is
    SameSite=None, so a page on any site a signed-in member visited could read the app as them, /gradio_api/token
    (the session's token) included. The app's own page asks on its own origin, which needs no leave, and
    gradio_client is no browser.

    A request another site's page makes (its browser says so in Sec-Fetch-Site) is refused too, but for a link
    followed to the app (not to its sign-out): an image or a frame there pointing at /logout signed the member out of
    every session, and a form could sign them in as someone else."""

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if _from_another_site(scope):
            await send({"type": "http.response.start", "status": 403,
                        "headers": [(b"content-type", b"text/plain; charset=utf-8")]})
            await send({"type": "http.response.body", "body": b"Refused: asked by another web site's page."})
            return

        async def without_leave(message) -> None:
            if message["type"] == "http.response.start":
                headers = [(k, v) for k, v in message.get("headers", [])
                           if not k.lower().startswith(b"access-control-allow-")]
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, without_leave)


# Gradio's sign-out: a GET that ends every session of the member, so no other site's page may lead there, even as a
# link or a frame (a hidden frame signed the member out as silently as an image had).
_SIGN_OUT_PATH = "/logout"


def _from_another_site(scope) -> bool:
    """Whether a browser sent this request for another site's page, other than by following a link to the app (the
    resource isolation policy web.dev describes; a browser too old to say, and gradio_client, say nothing)."""
    headers = dict(scope.get("headers", []))
    if headers.get(b"sec-fetch-site") != b"cross-site":
        return False
    followed = (scope.get("method") in ("GET", "HEAD") and headers.get(b"sec-fetch-mode") == b"navigate"
                and headers.get(b"sec-fetch-dest") not in (b"object", b"embed")
                and _route_path(scope).rstrip("/") != _SIGN_OUT_PATH)
    return not followed


def _route_path(scope) -> str:
    """The request's path as Starlette routes it: without the app's root path (GRADIO_ROOT_PATH), which a proxy that
    passes the public path on as it is leaves in it."""
    path, root = scope.get("path", ""), scope.get("root_path", "")
    return path[len(root):] if root and (path == root or path.startswith(root.rstrip("/") + "/")) else path
