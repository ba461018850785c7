"""Count the regular-expression patterns in the package, outside ingest/ (where parsing HTML and the
structure of minutes legitimately needs patterns).

Usage: python scripts/count_regexes.py [--list]

Every call of a `re` function that takes a pattern (compile, search, match, fullmatch, findall, finditer,
sub, subn, split) counts once, whatever its pattern is made of: a literal, an f-string built from word
lists, or a variable, and whatever name `re` or the function was imported under (`import re as regex`, `from re
import compile as c`). Calls on an already compiled pattern do not count again. A pattern function held in a
variable or passed to another (`map(re.compile, ...)`), `from re import *` and the third-party `regex` module are
not seen: none is used, and a review would catch one.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "assistant"
PATTERN_FUNCTIONS = {"compile", "search", "match", "fullmatch", "findall", "finditer", "sub", "subn", "split"}
EXCLUDED = ("ingest",)
LIMIT = 40


def pattern_calls(path: Path) -> list[int]:
    """Line numbers of the calls in one file that hand `re` a pattern."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    modules, functions = {"re"}, set()  # the names `re` and its pattern functions go by in this file
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            modules.update(alias.asname or alias.name for alias in node.names if alias.name == "re")
        elif isinstance(node, ast.ImportFrom) and node.module == "re":
            functions.update(alias.asname or alias.name for alias in node.names if alias.name in PATTERN_FUNCTIONS)
    lines = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        call = node.func
        if (isinstance(call, ast.Attribute) and isinstance(call.value, ast.Name) and call.value.id in modules
                and call.attr in PATTERN_FUNCTIONS) or (isinstance(call, ast.Name) and call.id in functions):
            lines.append(node.lineno)
    return sorted(lines)


def over_budget(found: dict[str, list[int]], limit: int = LIMIT) -> str:
    """What to tell whoever took the package past its budget ('' when within it): every file's calls, and why."""
    total = sum(len(lines) for lines in found.values())
    if total <= limit:
        return ""
    listed = "\n".join(f"  assistant/{name}: lines {', '.join(map(str, lines))}" for name, lines in found.items())
    return (f"{total} regex patterns outside assistant/ingest/, over the limit of {limit}:\n{listed}\n"
            "A decision that depends on language is learned from labelled examples, not matched by patterns "
            "(CONTRIBUTING.md). Put a word list in assistant/text.py and test words with plain string operations, "
            "reuse a pattern text.py already has, or, for parsing files, keep it under assistant/ingest/.")


def count(package: Path = PACKAGE) -> dict[str, list[int]]:
    found = {}
    for path in sorted(package.rglob("*.py")):
        relative = path.relative_to(package)
        if relative.parts[0] in EXCLUDED:
            continue
        lines = pattern_calls(path)
        if lines:
            found[str(relative)] = lines
    return found


def main(argv: list[str]) -> int:
    found = count()
    for name, lines in found.items():
        print(f"{len(lines):4d}  assistant/{name}" + (f"  (lines {', '.join(map(str, lines))})" if "--list" in argv else ""))
    print(f"{sum(len(v) for v in found.values()):4d}  in all, outside assistant/ingest/ (limit {LIMIT})")
    if message := over_budget(found):
        print(message, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
