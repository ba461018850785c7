"""One settings object, read from ASSISTANT_* variables (and the standard ones of the tools we use)."""

from __future__ import annotations

import ipaddress
import os
import string
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Mapping

from assistant.errors import ConfigError

BUNDLED_EMBEDDING_MODEL = "all-MiniLM-L6-v2"
# The data folder's parts, by name: the vector store's folder (local Chroma) and the keyword index's.
CHROMA_FOLDER, LEXICAL_FOLDER = "chroma", "bm25"
# The minutes `assistant ingest` reads, and `serve` and run.sh index, when no path is given: the project's demo seeds.
DEFAULT_CORPUS = Path("corpus")
EMBED_PRECISIONS = ("fp32", "int8", "torch")
FUSIONS = ("reciprocal-rank", "fitted")
# A short cited answer takes well under this many tokens; a model that thinks aloud first needs more (the tiny local
# model rambles on if allowed).
DEFAULT_LLM_MAX_TOKENS = 160
SLOWEST_FETCH_RATE = 0.01  # requests a second: one every 100 s; slower, and a fetch seems to hang
# Chroma's rule for a collection name (chromadb 1.x): 3-512 of these, a letter or digit at each end, no "..",
# and not an IP address.
COLLECTION_CHARACTERS = frozenset(string.ascii_letters + string.digits + "._-")
COLLECTION_ENDS = frozenset(string.ascii_letters + string.digits)
# The answering modes make_chat_model (answer/llm.py) and the service accept: `extractive` or `local` alone,
# `local:PATH`, `openai:MODEL`.
LLM_SPECS = "extractive, local, local:PATH or openai:MODEL"
OPENAI_BASE_URL_VARIABLES = ("OPENAI_BASE_URL", "OPENAI_API_BASE")


# Variables of the project that the shell scripts read, not the Python package (scripts/bootstrap.sh, run.sh).
SCRIPT_VARIABLES = ("ASSISTANT_PYTHON", "ASSISTANT_TORCH_VERSION", "ASSISTANT_EXTRAS")


class _Asked(dict):
    """An environment that notes every name asked of it."""

    def __init__(self) -> None:
        super().__init__()
        self.asked: set[str] = set()

    def get(self, name, default=None):
        self.asked.add(name)
        return default

    def __contains__(self, name) -> bool:
        self.asked.add(name)
        return False


def unknown_settings(env: Mapping[str, str]) -> list[tuple[str, str]]:
    """The ASSISTANT_ variables set that nothing reads, each with the setting it most looks like ('' for none): a
    misspelt ASSISTANT_AUTHH leaves the app open to anyone, ASSISTANT_AUDIT_FILE the log where it was."""
    import difflib

    prefix = "ASSISTANT_"
    known = setting_variables()
    # Likeness judged on the words after the prefix, which every name shares.
    suffixes = [name.removeprefix(prefix) for name in known]
    return [(name, next((prefix + match for match in difflib.get_close_matches(name.removeprefix(prefix), suffixes,
                                                                               n=1, cutoff=0.55)), ""))
            for name in sorted(env) if name.startswith(prefix) and name not in known and env[name].strip()]


def setting_variables() -> list[str]:
    """Every ASSISTANT_ variable the assistant or its scripts read, sorted: what `from_env` asks for, and
    SCRIPT_VARIABLES."""
    asked = _Asked()
    Settings.from_env(asked)
    return sorted(name for name in asked.asked | set(SCRIPT_VARIABLES) if name.startswith("ASSISTANT_"))


def _default_model_dir(env: Mapping[str, str]) -> Path:
    cache = _path_text(env, "XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(cache) / "minutes-assistant" / "models"


@dataclass(frozen=True)
class Settings:
    """Every knob in one place. Documented in the README's Configuration section."""

    data_dir: Path = Path(".assistant")
    # As from_env gives it with no ASSISTANT_MODEL_DIR: Path() would unpack the bundled model into the folder the
    # process runs in, for anyone who makes Settings() in code.
    model_dir: Path = field(default_factory=lambda: _default_model_dir(os.environ))
    embedding_model: str = BUNDLED_EMBEDDING_MODEL
    chunk_tokens: int = 180
    max_item_chars: int = 1_000_000
    embed_batch: int = 64
    # How the bundled model runs: "int8" or "fp32" on onnxruntime, or "torch" (sentence-transformers).
    embed_precision: str = "int8"
    collection: str = "minutes"
    llm: str = "extractive"
    # The most tokens a language model may write for one answer (its reasoning, if it shows any, included).
    llm_max_tokens: int = DEFAULT_LLM_MAX_TOKENS
    chroma_host: str = ""
    chroma_port: int = 8000
    chroma_ssl: bool = False  # CHROMA_HOST given as https://...
    # Dense search by reading every vector instead of Chroma's approximate (HNSW) graph: slower on a large index,
    # but two builds of the same chunks answer alike (the graph's build order varies from run to run). None (auto):
    # exact for a local index of at most vector_store.EXACT_SEARCH_MAX_CHUNKS chunks.
    exact_search: bool | None = None
    # How the dense and BM25 lists are ranked together: reciprocal rank, or the fusion fitted on the training
    # questions (assistant/retrieve/fusion.json; it applies only to an index of the bundled model).
    fusion: str = "reciprocal-rank"
    crash_at: str = ""  # test-only: kill the process at this named point of an ingest
    nli_model: str = ""
    auth_file: str = ""
    session_hours: float = 12.0  # how long a sign-in to the app lasts; 0: until the app stops
    audit_file: str = ""  # "" keeps the audit log in the data folder
    concurrency: int = 2
    reader: str = ""  # the reader model folder; "" is the shipped one, "fake:overlap" a deterministic fake
    # `assistant fetch` (ModernGov): politeness and how often recent meetings are looked at again
    fetch_contact: str = ""  # a URL or address for the User-Agent, so a council can reach whoever fetches
    fetch_rate: float = 1.0  # requests per second per host; 0 means no limit (tests)
    fetch_timeout: float = 60.0
    fetch_retries: int = 3
    fetch_backoff: float = 2.0  # seconds before the first retry, doubled each time
    fetch_max_wait: float = 120.0  # the longest wait for one retry, Retry-After included
    refetch_weeks: int = 26
    # The `openai:` backend's endpoint, read from the variables OpenAI's own tools read. Both names are taken:
    # langchain-openai reads OPENAI_API_BASE (the older name), the openai client OPENAI_BASE_URL.
    # (variable name, address) for each one set; out of the repr, as the key is, since an address may carry a
    # password or an api-key parameter
    openai_base_urls: tuple[tuple[str, str], ...] = field(default=(), repr=False)
    openai_api_key: str = field(default="", repr=False)

    def __post_init__(self) -> None:
        # The model name as the server knows it: 'openai: llama3 ' (a space after the colon, or one left at the end
        # of a .env line) was sent as ' llama3 ', which no server serves, and the start's check said it was not listed.
        kind, colon, name = self.llm.partition(":")
        if kind == "openai" and name != name.strip():
            object.__setattr__(self, "llm", f"{kind}{colon}{name.strip()}")

    @property
    def openai_base_url(self) -> str:
        """The address the `openai:` backend sends to ("" for OpenAI itself); check_openai_endpoint has seen that
        the two variables, when both are set, agree."""
        return self.openai_base_urls[0][1] if self.openai_base_urls else ""

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **overrides) -> "Settings":
        env = os.environ if env is None else env
        values = dict(
            data_dir=Path(_path_text(env, "ASSISTANT_DATA_DIR") or ".assistant"),
            model_dir=Path(_path_text(env, "ASSISTANT_MODEL_DIR") or _default_model_dir(env)),
            embedding_model=_path_text(env, "ASSISTANT_EMBEDDING_MODEL") or BUNDLED_EMBEDDING_MODEL,
            chunk_tokens=_int(env, "ASSISTANT_CHUNK_TOKENS", 180, minimum=40),
            max_item_chars=_int(env, "ASSISTANT_MAX_ITEM_CHARS", 1_000_000, minimum=1),
            embed_batch=_int(env, "ASSISTANT_EMBED_BATCH", 64, minimum=1),
            embed_precision=_text(env, "ASSISTANT_EMBED_PRECISION", "int8"),
            collection=_text(env, "ASSISTANT_COLLECTION", "minutes"),
            llm=_text(env, "ASSISTANT_LLM", "extractive"),
            # The bound keeps a server's whole reply within the reply deadline (answer/llm.py) at a slow pace. A local
            # model has no whole-reply deadline, and on a CPU writes a few tokens a second: a high limit holds an app
            # worker for minutes (the README says so).
            llm_max_tokens=_int(env, "ASSISTANT_LLM_MAX_TOKENS", DEFAULT_LLM_MAX_TOKENS, minimum=16, maximum=4096),
            **_chroma_address(env),
            exact_search=_flag_or_auto(env, "ASSISTANT_EXACT_SEARCH"),
            fusion=_text(env, "ASSISTANT_FUSION", "reciprocal-rank"),
            crash_at=_text(env, "ASSISTANT_CRASH_AT"),
            nli_model=_path_text(env, "ASSISTANT_NLI_MODEL"),
            auth_file=_path_text(env, "ASSISTANT_AUTH"),
            session_hours=_float(env, "ASSISTANT_SESSION_HOURS", 12.0, maximum=24 * 366),
            audit_file=_path_text(env, "ASSISTANT_AUDIT_PATH"),
            # Each answer under way holds a thread, a database connection and CPU time, and past a few per core
            # they only slow one another: a bound catches a typo (200 for 20) before the app starts.
            concurrency=_int(env, "ASSISTANT_CONCURRENCY", 2, minimum=1, maximum=32),
            reader=_path_text(env, "ASSISTANT_READER"),
            fetch_contact=_text(env, "ASSISTANT_FETCH_CONTACT"),
            fetch_rate=_float(env, "ASSISTANT_FETCH_RATE", 1.0),
            fetch_timeout=_float(env, "ASSISTANT_FETCH_TIMEOUT", 60.0, minimum=0.1, maximum=_A_DAY),
            fetch_retries=_int(env, "ASSISTANT_FETCH_RETRIES", 3, minimum=0),
            fetch_backoff=_float(env, "ASSISTANT_FETCH_BACKOFF", 2.0, maximum=_A_DAY),
            fetch_max_wait=_float(env, "ASSISTANT_FETCH_MAX_WAIT", 120.0, maximum=_A_DAY),
            refetch_weeks=_int(env, "ASSISTANT_REFETCH_WEEKS", 26, minimum=0),
            openai_base_urls=tuple((name, _text(env, name).strip()) for name in OPENAI_BASE_URL_VARIABLES
                                   if _text(env, name)),
            openai_api_key=_text(env, "OPENAI_API_KEY").strip(),
        )
        known = {f.name for f in fields(cls)}
        if unknown := sorted(set(overrides) - known):  # a misspelt override would be dropped unseen, as with_ never does
            raise TypeError(f"Settings.from_env() got unknown settings: {', '.join(unknown)}")
        values.update({k: v for k, v in overrides.items() if v is not None})
        for name in ("data_dir", "model_dir"):  # `--index '~/minutes'`, quoted in a script, as the variables are
            values[name] = Path(os.path.expanduser(values[name]))
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
        if problem := _collection_name_problem(self.collection):
            raise ConfigError(f"ASSISTANT_COLLECTION {problem}, so Chroma refuses {self.collection!r}.",
                              "Use letters, digits, '.', '_' and '-', with a letter or digit at each end, "
                              "such as minutes-barnsley; unset it to use minutes.")
        if not _is_llm_spec(self.llm):
            raise ConfigError(f"ASSISTANT_LLM (or --llm) must be {LLM_SPECS}, not {self.llm!r}.",
                              "For example openai:gpt-4o-mini for a model behind OPENAI_BASE_URL or OPENAI_API_KEY; "
                              "unset it to answer with quotes from the minutes (extractive).")

    @property
    def fetch_state_dir(self) -> Path:
        """Per-site state of `assistant fetch`: what was fetched, with ETags, so re-runs stay cheap."""
        return self.data_dir / "moderngov"

    @property
    def chroma_dir(self) -> Path:
        return self.data_dir / CHROMA_FOLDER

    @property
    def lexical_dir(self) -> Path:
        return self.data_dir / LEXICAL_FOLDER

    @property
    def audit_path(self) -> Path:
        """The audit log: in the data folder, unless ASSISTANT_AUDIT_PATH puts it elsewhere (a machine that answers
        from a read-only copy of the data folder, its vectors on a Chroma server, still records every answer)."""
        return Path(self.audit_file) if self.audit_file else self.data_dir / "audit.sqlite"

    @property
    def manifest_path(self) -> Path:
        return self.data_dir / "manifest.sqlite"

    @property
    def uses_chroma_server(self) -> bool:
        return bool(self.chroma_host)


def _text(env: Mapping[str, str], name: str, default: str = "") -> str:
    """A setting as given; the default when it is unset, empty or only spaces (as a shell's `VAR= cmd` leaves it)."""
    raw = env.get(name, "")
    return raw if raw.strip() else default


def _path_text(env: Mapping[str, str], name: str) -> str:
    """A path setting with a leading `~` expanded; "" when unset, empty or only spaces."""
    return os.path.expanduser(_text(env, name))


def _collection_name_problem(name: str) -> str:
    """What Chroma would find wrong with a collection name ("" when nothing)."""
    if not 3 <= len(name) <= 512:
        return "must be 3 to 512 characters long"
    if not set(name) <= COLLECTION_CHARACTERS:
        return "may hold only letters, digits, '.', '_' and '-'"
    if name[0] not in COLLECTION_ENDS or name[-1] not in COLLECTION_ENDS:
        return "must start and end with a letter or a digit"
    if ".." in name:
        return "may not hold two dots in a row"
    try:
        ipaddress.ip_address(name)
    except ValueError:
        return ""
    return "may not be an IP address"


def _is_llm_spec(spec: str) -> bool:
    kind, colon, rest = spec.partition(":")
    if kind in ("", "extractive"):
        return not colon  # "" is taken as extractive, as the service does
    if kind == "local":
        return True  # `local:` with no path is `local`; a path is checked when the model is made
    return kind == "openai" and bool(rest.strip())


def _int(env: Mapping[str, str], name: str, default: int, minimum: int, maximum: int | None = None) -> int:
    raw = _text(env, name)
    if raw == "":
        return default
    try:
        if "_" in raw:  # Python reads '1_80' as 180: a typo, not a number
            raise ValueError
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a whole number, not {raw!r}.", f"Unset it to use {default}.") from None
    if value < minimum:
        raise ConfigError(f"{name} must be at least {minimum}, not {value}.", f"Unset it to use {default}.")
    if maximum is not None and value > maximum:
        raise ConfigError(f"{name} must be at most {maximum}, not {value}.", f"Unset it to use {default}.")
    return value


def _chroma_address(env: Mapping[str, str]) -> dict:
    """CHROMA_HOST and CHROMA_PORT as Chroma's client takes them. The host may be given as a URL
    ('http://chroma.internal:8001/'), whose port wins over CHROMA_PORT: Chroma's own client would quietly drop
    CHROMA_PORT for a URL and knock on port 80."""
    from urllib.parse import urlsplit

    host = _text(env, "CHROMA_HOST").strip().rstrip("/")
    port = _int(env, "CHROMA_PORT", 8000, minimum=1, maximum=65535)
    ssl = False
    if "://" in host:
        parts = urlsplit(host)
        if parts.scheme not in ("http", "https") or not parts.hostname or parts.path.strip("/"):
            raise ConfigError(f"CHROMA_HOST must be a host name or address, or http(s)://HOST[:PORT], not {host!r}.",
                              "For example CHROMA_HOST=127.0.0.1 with CHROMA_PORT=8000.")
        try:
            given = parts.port  # None when the URL names none; ValueError when it is not a number up to 65535
        except ValueError:
            given = 0
        if given is not None and given < 1:
            raise ConfigError(f"CHROMA_HOST holds a port that is not one: {host!r}.",
                              "Give the port, from 1 to 65535, in CHROMA_PORT.")
        port = given or port
        host, ssl = parts.hostname, parts.scheme == "https"
    elif ":" in host and not _is_ipv6(host):  # 'chroma.internal:8001'
        host, _, given = host.rpartition(":")
        if not (given.isdigit() and 1 <= int(given) <= 65535) or not host:
            raise ConfigError(f"CHROMA_HOST holds a port that is not one: {host}:{given}.",
                              "Give the host in CHROMA_HOST and the port, from 1 to 65535, in CHROMA_PORT.")
        port = int(given)
    if "/" in host or not host and _text(env, "CHROMA_HOST"):
        raise ConfigError(f"CHROMA_HOST must be a host name or address, or http(s)://HOST[:PORT], not "
                          f"{_text(env, 'CHROMA_HOST')!r}.", "For example CHROMA_HOST=127.0.0.1 with CHROMA_PORT=8000.")
    return {"chroma_host": host, "chroma_port": port, "chroma_ssl": ssl}


def _is_ipv6(host: str) -> bool:
    try:
        return ipaddress.ip_address(host.strip("[]")).version == 6
    except ValueError:
        return False


def _flag(env: Mapping[str, str], name: str) -> bool:
    raw = env.get(name, "").strip().lower()
    if raw in ("", "0", "false", "no", "off"):
        return False
    if raw in ("1", "true", "yes", "on"):
        return True
    raise ConfigError(f"{name} must be 1 or 0 (true or false), not {env[name]!r}.", "Unset it to leave it off.")


def _flag_or_auto(env: Mapping[str, str], name: str) -> bool | None:
    """A flag that may be left to the assistant: None when unset or 'auto'."""
    if env.get(name, "").strip().lower() in ("", "auto"):
        return None
    try:
        return _flag(env, name)
    except ConfigError:
        raise ConfigError(f"{name} must be 1, 0 or auto, not {env[name]!r}.",
                          "Unset it (or set it to auto) to let the assistant decide.") from None


# The longest a fetch setting may make one wait: longer overflows the clocks that time it.
_A_DAY = 86_400


def _float(env: Mapping[str, str], name: str, default: float, minimum: float = 0.0,
           maximum: float = float("inf")) -> float:
    raw = _text(env, name)
    if raw == "":
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a number, not {raw!r}.", f"Unset it to use {default:g}.") from None
    if not value >= minimum or value == float("inf"):
        raise ConfigError(f"{name} must be a finite number of at least {minimum:g}, not {raw}.",
                          f"Unset it to use {default:g}.")
    if value > maximum:
        raise ConfigError(f"{name} must be at most {maximum:g}, not {raw}.", f"Unset it to use {default:g}.")
    return value
