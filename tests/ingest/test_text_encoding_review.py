"""Windows-1252 text dense with '£' is read as Windows-1252, not as the Japanese its high bytes were guessed to be:
a guess of a multibyte encoding needs characters that took two bytes, not merely many bytes above ASCII."""

from __future__ import annotations

from pathlib import Path

from assistant.ingest.readers import read_inputs
from assistant.ingest.readers.text import decode_bytes

# Sixteen '£' and no other byte above ASCII: guessed as cp932, whose one-byte reading of 0xA3 is '｣'.
SAVINGS = ("Savings proposals 2023/24: \u00a30.5m, \u00a30.3m, \u00a31.2m, \u00a30.8m, \u00a30.4m, \u00a30.6m, "
           "\u00a30.2m, \u00a30.9m; 2024/25: \u00a30.7m, \u00a30.3m, \u00a31.1m, \u00a30.5m, \u00a30.4m, "
           "\u00a30.6m, \u00a30.2m, \u00a31.0m.\n")
JAPANESE = "\u5150\u7ae5\u4fdd\u8b77\u306b\u3064\u3044\u3066\u8a71\u3057\u5408\u3044\u307e\u3057\u305f\u3002" * 2


def test_a_line_of_figures_with_many_pound_signs_in_windows_1252_keeps_its_pound_signs():
    assert decode_bytes(SAVINGS.encode("cp1252")) == SAVINGS
    doubled = SAVINGS * 3
    assert decode_bytes(doubled.encode("cp1252")) == doubled


def test_such_a_minutes_file_is_indexed_with_its_pound_signs(tmp_path: Path):
    path = tmp_path / "savings.txt"
    path.write_bytes(SAVINGS.encode("cp1252"))  # a note of one line: a heading above it changes the guess
    (item,) = read_inputs([path], 1_000_000, cwd=tmp_path)
    assert "\u00a30.5m, \u00a30.3m" in item.text and "\uff63" not in item.text


def test_text_really_written_in_a_multibyte_encoding_is_still_read_so():
    for encoding in ("shift_jis", "euc_jp", "gb18030"):
        assert decode_bytes(JAPANESE.encode(encoding)) == JAPANESE, encoding
