"""Count the regular-expression patterns in the package, outside ingest/ (where parsing HTML and the
structure of minutes legitimately needs patterns).

Usage: python scripts/count_regexes.py [--list]

Every call of a `re` function that takes a pattern (compile, search, match, fullmatch, findall, finditer,
sub, subn, split) counts once, whatever its pattern is made of: a literal, an f-string built from word
lists, or a variable. Calls on an already compiled pattern do not count again.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "assistant"
PATTERN_FUNCTIONS = {"compile", "search", "match", "fullmatch", "findall", "finditer", "sub", "subn", "split"}
EXCLUDED = ("ingest",)


def pattern_calls(path: Path) -> list[int]:
    """Line numbers of the calls in one file that hand `re` a pattern."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    lines = []
    for node in ast.walk(tree):
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                and isinstance(node.func.value, ast.Name) and node.func.value.id == "re"
                and node.func.attr in PATTERN_FUNCTIONS):
            lines.append(node.lineno)
    return sorted(lines)


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
    print(f"{sum(len(v) for v in found.values()):4d}  in all, outside assistant/ingest/")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
