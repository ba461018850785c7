"""One settings object, read from ASSISTANT_* variables (and the standard ones of the tools we use)."""

from __future__ import annotations

import os
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Mapping

from assistant.errors import ConfigError

BUNDLED_EMBEDDING_MODEL = "all-MiniLM-L6-v2"
EMBED_PRECISIONS = ("fp32", "int8", "torch")
FUSIONS = ("reciprocal-rank", "fitted")
SLOWEST_FETCH_RATE = 0.01  # requests a second: one every 100 s; slower, and a fetch seems to hang


def _default_model_dir(env: Mapping[str, str]) -> Path:
    cache = env.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(cache) / "minutes-assistant" / "models"


@dataclass(frozen=True)
class Settings:
    """Every knob in one place. Documented in the README's Configuration section."""

    data_dir: Path = Path(".assistant")
    model_dir: Path = Path()
    embedding_model: str = BUNDLED_EMBEDDING_MODEL
    chunk_tokens: int = 180
    max_item_chars: int = 1_000_000
    embed_batch: int = 64
    # How the bundled model runs: "int8" or "fp32" on onnxruntime, or "torch" (sentence-transformers).
    embed_precision: str = "int8"
    collection: str = "minutes"
    llm: str = "extractive"
    chroma_host: str = ""
    chroma_port: int = 8000
    # Dense search by reading every vector instead of Chroma's approximate (HNSW) graph: slower on a large index,
    # but two builds of the same chunks answer alike (the graph's build order varies from run to run).
    exact_search: bool = False
    # How the dense and BM25 lists are ranked together: reciprocal rank, or the fusion fitted on the training
    # questions (assistant/retrieve/fusion.json; it applies only to an index of the bundled model).
    fusion: str = "reciprocal-rank"
    crash_at: str = ""  # test-only: kill the process at this named point of an ingest
    nli_model: str = ""
    auth_file: str = ""
    concurrency: int = 2
    reader: str = ""  # the reader model folder; "" is the shipped one, "fake:overlap" a deterministic fake
    # `assistant fetch` (ModernGov): politeness and how often recent meetings are looked at again
    fetch_contact: str = ""  # a URL or address for the User-Agent, so a council can reach whoever fetches
    fetch_rate: float = 1.0  # requests per second per host; 0 means no limit (tests)
    fetch_timeout: float = 60.0
    fetch_retries: int = 3
    fetch_backoff: float = 2.0  # seconds before the first retry, doubled each time
    fetch_max_wait: float = 120.0  # the longest wait for one retry, Retry-After included
    refetch_weeks: int = 12

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **overrides) -> "Settings":
        env = os.environ if env is None else env
        values = dict(
            data_dir=Path(env.get("ASSISTANT_DATA_DIR", ".assistant")),
            model_dir=Path(env["ASSISTANT_MODEL_DIR"]) if env.get("ASSISTANT_MODEL_DIR") else _default_model_dir(env),
            embedding_model=env.get("ASSISTANT_EMBEDDING_MODEL", BUNDLED_EMBEDDING_MODEL),
            chunk_tokens=_int(env, "ASSISTANT_CHUNK_TOKENS", 180, minimum=40),
            max_item_chars=_int(env, "ASSISTANT_MAX_ITEM_CHARS", 1_000_000, minimum=1),
            embed_batch=_int(env, "ASSISTANT_EMBED_BATCH", 64, minimum=1),
            embed_precision=env.get("ASSISTANT_EMBED_PRECISION", "int8"),
            collection=env.get("ASSISTANT_COLLECTION", "minutes"),
            llm=env.get("ASSISTANT_LLM", "extractive"),
            chroma_host=env.get("CHROMA_HOST", ""),
            chroma_port=_int(env, "CHROMA_PORT", 8000, minimum=1),
            exact_search=_flag(env, "ASSISTANT_EXACT_SEARCH"),
            fusion=env.get("ASSISTANT_FUSION", "reciprocal-rank"),
            crash_at=env.get("ASSISTANT_CRASH_AT", ""),
            nli_model=env.get("ASSISTANT_NLI_MODEL", ""),
            auth_file=env.get("ASSISTANT_AUTH", ""),
            concurrency=_int(env, "ASSISTANT_CONCURRENCY", 2, minimum=1),
            reader=env.get("ASSISTANT_READER", ""),
            fetch_contact=env.get("ASSISTANT_FETCH_CONTACT", ""),
            fetch_rate=_float(env, "ASSISTANT_FETCH_RATE", 1.0),
            fetch_timeout=_float(env, "ASSISTANT_FETCH_TIMEOUT", 60.0, minimum=0.1),
            fetch_retries=_int(env, "ASSISTANT_FETCH_RETRIES", 3, minimum=0),
            fetch_backoff=_float(env, "ASSISTANT_FETCH_BACKOFF", 2.0),
            fetch_max_wait=_float(env, "ASSISTANT_FETCH_MAX_WAIT", 120.0),
            refetch_weeks=_int(env, "ASSISTANT_REFETCH_WEEKS", 12, minimum=0),
        )
        known = {f.name for f in fields(cls)}
        values.update({k: v for k, v in overrides.items() if k in known and v is not None})
        settings = cls(**values)
        settings.check()
        return settings

    def with_(self, **changes) -> "Settings":
        """These settings with some changed (None leaves one as it is), checked as `from_env` checks them."""
        settings = replace(self, **{k: v for k, v in changes.items() if v is not None})
        settings.check()
        return settings

    def check(self) -> None:
        if self.embed_precision not in EMBED_PRECISIONS:
            raise ConfigError(f"ASSISTANT_EMBED_PRECISION must be one of {', '.join(EMBED_PRECISIONS)}, "
                              f"not {self.embed_precision!r}.",
                              "int8 is the default; fp32 gives sentence-transformers' own vectors; torch needs no ONNX file.")
        if self.fusion not in FUSIONS:
            raise ConfigError(f"ASSISTANT_FUSION must be one of {', '.join(FUSIONS)}, not {self.fusion!r}.",
                              "reciprocal-rank (the default) ranks by the two lists' orders alone; fitted uses "
                              "the fusion fitted on the training questions.")
        if self.fetch_rate != 0 and not self.fetch_rate >= SLOWEST_FETCH_RATE:
            raise ConfigError(f"The fetch rate must be 0 (no limit) or at least {SLOWEST_FETCH_RATE:g} requests a "
                              f"second, not {self.fetch_rate:g}.",
                              "Set --rate or ASSISTANT_FETCH_RATE to 1 (the default) or another rate a site allows.")
        if not 3 <= len(self.collection) <= 512:
            raise ConfigError(
                f"ASSISTANT_COLLECTION must be 3 to 512 characters long, not {self.collection!r}.",
                "Chroma refuses shorter or longer collection names.",
            )

    @property
    def fetch_state_dir(self) -> Path:
        """Per-site state of `assistant fetch`: what was fetched, with ETags, so re-runs stay cheap."""
        return self.data_dir / "moderngov"

    @property
    def chroma_dir(self) -> Path:
        return self.data_dir / "chroma"

    @property
    def lexical_dir(self) -> Path:
        return self.data_dir / "bm25"

    @property
    def audit_path(self) -> Path:
        return self.data_dir / "audit.sqlite"

    @property
    def manifest_path(self) -> Path:
        return self.data_dir / "manifest.sqlite"

    @property
    def uses_chroma_server(self) -> bool:
        return bool(self.chroma_host)


def _int(env: Mapping[str, str], name: str, default: int, minimum: int) -> int:
    raw = env.get(name, "")
    if raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a whole number, not {raw!r}.", f"Unset it to use {default}.") from None
    if value < minimum:
        raise ConfigError(f"{name} must be at least {minimum}, not {value}.", f"Unset it to use {default}.")
    return value


def _flag(env: Mapping[str, str], name: str) -> bool:
    raw = env.get(name, "").strip().lower()
    if raw in ("", "0", "false", "no", "off"):
        return False
    if raw in ("1", "true", "yes", "on"):
        return True
    raise ConfigError(f"{name} must be 1 or 0 (true or false), not {env[name]!r}.", "Unset it to leave it off.")


def _float(env: Mapping[str, str], name: str, default: float, minimum: float = 0.0) -> float:
    raw = env.get(name, "")
    if raw == "":
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a number, not {raw!r}.", f"Unset it to use {default:g}.") from None
    if not value >= minimum or value == float("inf"):
        raise ConfigError(f"{name} must be a finite number of at least {minimum:g}, not {raw}.",
                          f"Unset it to use {default:g}.")
    return value
