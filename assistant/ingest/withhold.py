"""`assistant withhold`: items an operator takes out of the index and keeps out (a takedown), and lets in again.

What is withheld is kept in the manifest (index.manifest.WITHHELD); every ingest and fetch honours it
(ingest.run), by identity and by a signature of the text, so that a copy under another name is kept out too.
"""

from __future__ import annotations

from dataclasses import dataclass

from assistant.errors import no_index_yet
from assistant.index.manifest import Manifest
from assistant.index.stats import index_exists
from assistant.index.write_lock import writing_index
from assistant.ingest.run import IngestSummary, ingest_items, withheld_by_operator
from assistant.settings import Settings


@dataclass(frozen=True)
class Withheld:
    identity: str
    taken_out: int  # items of the index it named, taken out now


def withhold(settings: Settings, identities: list[str]) -> tuple[list[Withheld], IngestSummary]:
    """Withhold these identities: the items they name go now (their text purged), and stay out."""
    indexed = set(_read(settings, Manifest.rows)) if index_exists(settings) else set()
    summary = ingest_items([], settings, withhold=identities)
    return [Withheld(identity, sum(withheld_by_operator(sid, {identity}) for sid in indexed))
            for identity in identities], summary


def release(settings: Settings, identities: list[str]) -> list[str]:
    """Let these identities in again; returns those that were withheld. The ModernGov meetings their items came
    from are forgotten by their sites' fetch state, so that the next fetch reads them again (it would otherwise
    skip them as unchanged)."""
    from assistant.ingest.moderngov.state import SiteState, fetched_sites

    if not index_exists(settings):
        raise no_index_yet(settings.data_dir)
    with writing_index(settings):
        manifest = Manifest(settings.manifest_path)
        try:
            withheld = manifest.withheld()
            manifest.set_withheld({identity: known for identity, known in withheld.items()
                                   if identity not in identities})
        finally:
            manifest.close()
        released = [identity for identity in identities if identity in withheld]
        fetched = [(item, meeting) for identity in released for item, meeting in withheld[identity].get("fetched", [])]
        for site in fetched_sites(settings):
            within = f"{site.base_url.rstrip('/')}/"
            # Only the site the item came from: another council's meeting may have the same number. An item of the
            # site withheld before it was ever indexed has no meeting recorded: every meeting is read again (only
            # what changed is embedded again).
            meetings = {meeting for item, meeting in fetched if item.startswith(within)}
            unknown = any(identity.startswith(within) and not withheld[identity].get("fetched")
                          for identity in released)
            if meetings or unknown:
                state = SiteState(settings, site.base_url)
                try:
                    state.forget(set(state.meetings()) if unknown else meetings)
                finally:
                    state.close()
    return released


def withheld_identities(settings: Settings) -> list[str]:
    return list(_read(settings, Manifest.withheld)) if index_exists(settings) else []


def _read(settings: Settings, read):
    """What `read` (a Manifest method) gives of the index's manifest, opened to read alone."""
    manifest = Manifest(settings.manifest_path, read_only=True)
    try:
        return read(manifest)
    finally:
        manifest.close()
