"""Fetch minutes straight from a council's ModernGov web service (`mgWebService.asmx`) into the index.

    summary = fetch_minutes(FetchRequest("barnsley", committees=("children",)), settings)

Every public agenda item with published minutes becomes one item, identified by its public page
`{base}/mgAi.aspx?ID=…`, and goes through the same ingest as files.
"""

from assistant.ingest.moderngov.client import ServiceError
from assistant.ingest.moderngov.directory import Council, Site, load_directory, resolve_site
from assistant.ingest.moderngov.fetch import (
    FetchFailure,
    FetchRequest,
    FetchSummary,
    fetch_minutes,
    list_committees,
    select_committees,
)
from assistant.ingest.moderngov.parse import Committee
from assistant.ingest.moderngov.state import FetchStateError

__all__ = [
    "Committee", "Council", "FetchFailure", "FetchRequest", "FetchStateError", "FetchSummary", "ServiceError", "Site",
    "fetch_minutes", "list_committees", "load_directory", "resolve_site", "select_committees",
]
