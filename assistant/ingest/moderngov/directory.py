"""The shipped directory of councils' ModernGov sites, and turning what the user typed into a site.

The codes, slugs and base URLs come from DemocracyClub's LGSF (MIT licence, Copyright (c) 2018 Democracy
Club; see councils.LICENSE beside councils.tsv); the official names are the project's own.
"""

from __future__ import annotations

import csv
import difflib
import re
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from urllib.parse import urlsplit, urlunsplit

from assistant.errors import ConfigError
from assistant.text import (COUNCIL_NAME_JOINERS, WELSH_COUNCIL_NAME_WORDS, council_key, fold, place_name,
                            short_council_name)

DIRECTORY_FILE = "councils.tsv"
# UK councils the directory lacks, by name alone: a text may name them too.
COUNCILS_ELSEWHERE_FILE = "councils_elsewhere.txt"
# A page or the web service itself pasted in place of the site's root: everything from it on is dropped.
_PAGE_TAIL = re.compile(r"/(?:mgWebService\.asmx|[^/]+\.aspx)(?:/.*)?$", re.IGNORECASE)


@dataclass(frozen=True)
class Council:
    """One directory entry: the council's code and slug, its official name, and its ModernGov root."""

    code: str
    slug: str
    name: str
    base_url: str


@dataclass(frozen=True)
class Site:
    """A ModernGov root to fetch from, and the council name stored on every item fetched from it."""

    base_url: str
    council: str


@lru_cache(maxsize=1)
def load_directory() -> tuple[Council, ...]:
    """Every council in the shipped directory, in file order."""
    text = resources.files(__package__).joinpath(DIRECTORY_FILE).read_text(encoding="utf-8")
    lines = [line for line in text.splitlines() if line.strip() and not line.startswith("#")]
    rows = csv.DictReader(lines, delimiter="\t")
    return tuple(Council(r["code"], r["slug"], r["name"], normalise_base_url(r["base_url"])) for r in rows)


@lru_cache(maxsize=1)
def councils_elsewhere() -> tuple[str, ...]:
    """The names of the UK councils the directory lacks (Essex, Nottinghamshire, Glasgow): their minutes are not
    fetched through ModernGov, but a question may name them."""
    text = resources.files(__package__).joinpath(COUNCILS_ELSEWHERE_FILE).read_text(encoding="utf-8")
    return tuple(line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#"))


@lru_cache(maxsize=1)
def directory_place_names() -> dict[str, str]:
    """The directory's councils, and those it lacks, by key, each with its place name ('isle anglesey': 'Isle of
    Anglesey'): the UK councils a text may name, indexed here or not. A question about Essex, whose minutes are not
    indexed, is then known to name a council, though other councils' minutes mention Essex Police."""
    names = [c.name for c in load_directory()] + list(councils_elsewhere())
    return {council_key(name): place_name(name) for name in names}


def directory_council_keys() -> frozenset[str]:
    """The keys of the directory's councils."""
    return frozenset(directory_place_names())


@lru_cache(maxsize=1)
def directory_short_names() -> dict[str, str]:
    """Short names that name one UK council alone, each with the council's key: 'redcar' (Redcar and Cleveland),
    'windsor' (Windsor and Maidenhead), 'stockton' (Stockton-on-Tees), read from the names of the directory's
    councils and those it lacks (text.short_council_name). Not one that two councils share ('kingston', of Kingston
    upon Thames and Kingston upon Hull), nor one that is another council's whole name ('newcastle')."""
    keys = directory_council_keys()
    councils: dict[str, set[str]] = {}
    for name in [c.name for c in load_directory()] + list(councils_elsewhere()):
        if short := short_council_name(name):
            councils.setdefault(short, set()).add(council_key(name))
    return {short: next(iter(owners)) for short, owners in councils.items() if len(owners) == 1 and short not in keys}


@lru_cache(maxsize=1)
def directory_initialisms() -> dict[str, str]:
    """Initialisms of four letters or more that name one council of the directory and no other, each with the
    council's key, read from its name with and without its joining words and a closing 'Council': 'rbwm' (Royal
    Borough of Windsor and Maidenhead), 'banes' and 'bnes' (Bath and North East Somerset Council), 'lbbd'."""
    councils: dict[str, set[str]] = {}
    for council in load_directory():
        words = fold(council.name).split()
        for named in (words, words[:-1] if words[-1] == "council" else words):
            for kept in (named, [word for word in named if word not in COUNCIL_NAME_JOINERS]):
                if len(kept) >= 4:
                    councils.setdefault("".join(word[0] for word in kept), set()).add(council_key(council.name))
    return {initials: next(iter(keys)) for initials, keys in councils.items() if len(keys) == 1}


def normalise_base_url(url: str) -> str:
    """'democracy.x.gov.uk/mgListCommittees.aspx?x=1' -> 'https://democracy.x.gov.uk' (path kept, no trailing /)."""
    url = url.strip()
    if "://" not in url:
        url = "https://" + url
    parts = urlsplit(url)
    path = _PAGE_TAIL.sub("", parts.path).rstrip("/")
    return urlunsplit((parts.scheme.lower(), parts.netloc.lower(), path, "", ""))


def site_key(base_url: str) -> str:
    """The same site whatever the scheme or a leading www.: 'democracy.x.gov.uk/moderngov'."""
    parts = urlsplit(normalise_base_url(base_url))
    host = parts.netloc.removeprefix("www.")
    return host + parts.path.lower()


def looks_like_url(target: str) -> bool:
    return "://" in target or ("." in target and " " not in target.strip())


def resolve_site(target: str, council: str | None = None) -> Site:
    """A ModernGov root or a directory entry (slug, code or name), with the council name to store."""
    target = target.strip()
    if not target:
        raise ConfigError("No site given.", "Give a ModernGov base URL, or a council's slug or code (e.g. barnsley, BNS).")
    if looks_like_url(target):
        base_url = root_url(target)
        if council and council.strip():
            return Site(base_url, council.strip())
        return Site(base_url, _name_for_root(base_url))
    entry = _entry_named(target)
    return Site(entry.base_url, council.strip() if council and council.strip() else entry.name)


def root_url(target: str) -> str:
    """A ModernGov root as typed, normalised; refused (ConfigError) when it carries a login or is no web address."""
    base_url = normalise_base_url(target)
    parts = urlsplit(base_url)
    if "@" in parts.netloc:
        # They would end up in every item's identity and citation, and in the summary.
        raise ConfigError(f"The base URL carries a user name or password ({parts.scheme}://…@{parts.hostname}).",
                          "Give the address without them: fetch reads only public ModernGov web services, "
                          "which need no login.")
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ConfigError(f"{target.strip()} is not a web address a ModernGov site answers on.",
                          "Give its https:// root, e.g. https://democracy.example.gov.uk, or a council's slug.")
    return base_url


def names_in_directory(base_url: str) -> list[str]:
    """The names of the councils the directory gives this site (several for a site they share), or none."""
    key = site_key(base_url)
    return sorted({c.name for c in load_directory() if site_key(c.base_url) == key})


def council_name_note(site: Site) -> str:
    """A note when the council name stored on the site's items (given with --council) names another council than
    the directory gives the site: a slip ('Barnsely Council') or another council's name would be stored on every
    item, cited in every answer, and missed by a filter naming the council. '' when it is the directory's council,
    however written ('Barnsley Council', 'Cyngor Gwynedd', an initialism the directory knows: 'RBWM'), or when the
    site is not in the directory."""
    import shlex

    names = names_in_directory(site.base_url)
    keys = {council_key(name) for name in names}
    given = council_key(site.council)
    if not names or given in keys or directory_initialisms().get(given.replace(" ", "")) in keys:
        return ""
    right = (f"--council {shlex.quote(names[0])} (or without --council)" if len(names) == 1 else
             "--council naming one of them")
    return (f"--council {site.council!r} is not the name the directory gives {site.base_url} "
            f"({' or '.join(names)}), so every item fetched is stored, and cited, as {site.council!r}: if that is "
            f"a slip, run the same fetch with {right}, which puts the name right on the items of every meeting in "
            "the window")


def _name_for_root(base_url: str) -> str:
    names = names_in_directory(base_url)
    if len(names) == 1:
        return names[0]
    if not names:
        raise ConfigError(
            f"{base_url} is not in the directory of councils, so the council's name is unknown.",
            'Give it with --council, e.g. --council "Example Borough Council"; it is stored on every item.',
        )
    raise ConfigError(
        f"{base_url} is shared by several councils in the directory: {'; '.join(names)}.",
        "Say which one the minutes belong to with --council NAME.",
    )


def _council_elsewhere(key: str) -> str:
    """The name of the UK council the directory lacks that a council key names ('essex', 'hull'), or ''."""
    names = {council_key(name): name for name in councils_elsewhere()}
    return names.get(key) or names.get(directory_short_names().get(key, ""), "")


def _entry_named(target: str) -> Council:
    wanted = target.casefold()
    directory = load_directory()
    matches = [c for c in directory if wanted in (c.code.casefold(), c.slug.casefold(), c.name.casefold())]
    key = council_key(target)
    words = set(key.split())
    if not matches and key:
        # The name as people write it, without its kind: 'Brighton and Hove' for Brighton and Hove City Council,
        # 'St Helens' for St Helens Council. A kind that is written must be the entry's ('Chichester City Council'
        # is not Chichester District Council), and a name that another entry's name also holds ('Newcastle', and
        # Newcastle-under-Lyme) is suggested below, not guessed.
        # A Welsh name's kind ('Cyngor Sir', county council) is no English kind to be matched.
        kinds = set(fold(target).split()) - words - COUNCIL_NAME_JOINERS - {"council"} - WELSH_COUNCIL_NAME_WORDS
        matches = [c for c in directory if council_key(c.name) == key and kinds <= set(fold(c.name).split())]
        if any(words < set(council_key(c.name).split()) for c in directory):
            matches = []
    if len(matches) == 1:
        return matches[0]
    if len(matches) > 1:
        listed = "; ".join(f"{c.code} ({c.name}, {c.base_url})" for c in matches)
        raise ConfigError(f"{target!r} names {len(matches)} entries of the directory: {listed}.",
                          "Name one by its code, or give its base URL.")
    if elsewhere := _council_elsewhere(key):
        # Not a slip to suggest other councils for ('Nottinghamshire' had been offered Nottingham's site).
        raise ConfigError(
            f"{elsewhere} is not in the directory of councils' ModernGov sites: it publishes its minutes some other "
            "way, or on a ModernGov site the directory lacks.",
            f"Download its minutes (PDF or Word) into a folder and add them with `assistant ingest FOLDER --council "
            f"\"{elsewhere}\"`; or, if it has a ModernGov site (its committee pages' addresses end in "
            f"mgListCommittees.aspx), give the address before that with --council \"{elsewhere}\".")
    close = difflib.get_close_matches(wanted, [c.slug for c in directory] + [c.name.casefold() for c in directory],
                                      n=3, cutoff=0.75)
    # A name the directory's names hold every word of ('brighton', 'newcastle'): a spelling check cannot see those.
    containing = [c.slug for c in directory if words and words <= set(council_key(c.name).split())]
    close = list(dict.fromkeys(close + containing))[:5]
    suggestion = f" Did you mean {', '.join(close)}?" if close else ""
    raise ConfigError(
        f"{target!r} is neither a URL nor a council in the directory.{suggestion}",
        "Give the council's ModernGov base URL (the address before /mgListCommittees.aspx) with --council NAME, "
        "or its slug or code as listed in assistant/ingest/moderngov/councils.tsv.",
    )
