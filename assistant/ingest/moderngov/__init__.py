"""Fetch minutes straight from a council's ModernGov web service (`mgWebService.asmx`) into the index.

    summary = fetch_minutes(FetchRequest("barnsley", committees=("children",)), settings)

Every public agenda item with published minutes becomes one item, identified by its public page
`{base}/mgAi.aspx?ID=…`, and goes through the same ingest as files.
"""

from __future__ import annotations

import importlib

# Each name by the module that defines it, imported on first use: the directory of councils is read at question time
# (the guard knows every council a claim may name), and needs none of the fetch's HTTP machinery.
_FROM = {
    "ServiceError": "client", "Council": "directory", "Site": "directory", "load_directory": "directory",
    "resolve_site": "directory", "FetchFailure": "fetch", "FetchRequest": "fetch", "FetchSummary": "fetch",
    "fetch_minutes": "fetch", "list_committees": "fetch", "select_committees": "fetch", "Committee": "parse",
    "FetchStateError": "state",
}

__all__ = sorted(_FROM)


def __getattr__(name: str):
    if name not in _FROM:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{_FROM[name]}"), name)


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_FROM))
