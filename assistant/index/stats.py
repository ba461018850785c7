"""What is in the index: items and chunks by council, committee and year."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from assistant.index.manifest import Manifest
from assistant.settings import Settings
from assistant.errors import AssistantError, no_index_yet


@dataclass(frozen=True)
class IndexStats:
    items: int
    chunks: int
    pending: int
    by_council: dict[str, tuple[int, int]]
    by_committee: dict[str, tuple[int, int]]
    by_year: dict[str, tuple[int, int]]
    embedding_model: str

    def as_dict(self) -> dict:
        return {
            "items": self.items, "chunks": self.chunks, "pending": self.pending,
            "embedding_model": self.embedding_model,
            "by_council": {k: {"items": i, "chunks": c} for k, (i, c) in self.by_council.items()},
            "by_committee": {k: {"items": i, "chunks": c} for k, (i, c) in self.by_committee.items()},
            "by_year": {k: {"items": i, "chunks": c} for k, (i, c) in self.by_year.items()},
        }


def index_exists(settings: Settings) -> bool:
    return settings.manifest_path.is_file()


def index_stats(settings: Settings) -> IndexStats:
    """Read from the manifest alone, so it is cheap and needs no model."""
    if settings.data_dir.exists() and not settings.data_dir.is_dir():
        raise AssistantError(f"{settings.data_dir} is a file, not an index folder.",
                             "Give --index (or ASSISTANT_DATA_DIR) the folder `assistant ingest` wrote the index to, "
                             "such as .assistant (the default).")
    if not index_exists(settings):
        raise no_index_yet(settings.data_dir)
    import sqlite3

    # Read only: stats must never write, least of all a schema into a manifest that was emptied or cut short.
    manifest = Manifest(settings.manifest_path, read_only=True)
    try:
        rows = [r for r in manifest.rows().values()]
        model = manifest.get_meta("embedding_model") or ""
    except sqlite3.OperationalError as exc:
        if "no such table" not in str(exc):
            raise
        raise AssistantError(f"The manifest {settings.manifest_path} is empty or damaged: it holds no record of "
                             "what is indexed.", f"Move {settings.data_dir} aside and run `assistant ingest` with "
                             "your minutes to rebuild the index (keep its audit.sqlite if its records matter).") \
            from None
    finally:
        manifest.close()
    done = [r for r in rows if r.status == "done"]

    def group(key) -> dict[str, tuple[int, int]]:
        items: Counter = Counter()
        chunks: Counter = Counter()
        for r in done:
            items[key(r)] += 1
            chunks[key(r)] += len(r.chunk_ids)
        return {k: (items[k], chunks[k]) for k in sorted(items)}

    return IndexStats(
        items=len(done), chunks=sum(len(r.chunk_ids) for r in done), pending=len(rows) - len(done),
        by_council=group(lambda r: r.council or "(unknown)"),
        by_committee=group(lambda r: r.committee or "(unknown)"),
        by_year=group(lambda r: r.meeting_date[:4] or "(undated)"),
        embedding_model=model,
    )
