"""The package is laid out by pipeline stage, and imports run one way down the pipeline with no cycles.

The import graph is read from the source with `ast`, so an import inside a function counts as much as
one at the top of a module; only imports under `if TYPE_CHECKING:` are left out.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from conftest import ROOT

PACKAGE = "assistant"
# The order of the stages: a module may import from its own stage or an earlier one, never a later one.
STAGES = ("core", "index", "ingest", "retrieve", "verify", "answer", "present")
CORE_MODULES = {"settings", "records", "errors", "text", "files"}


def module_names(package_dir: Path) -> dict[str, Path]:
    """Every module of the package by dotted name (a package by its own name, for its __init__)."""
    names = {}
    for path in package_dir.rglob("*.py"):
        parts = list(path.relative_to(package_dir.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        names[".".join(parts)] = path
    return names


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _imports(tree: ast.AST):
    """Import nodes anywhere in the tree (functions included), except under `if TYPE_CHECKING:`."""
    stack = [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            stack.extend(node.orelse)
            continue
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            yield node
        stack.extend(ast.iter_child_nodes(node))


def import_graph(package_dir: Path) -> dict[str, set[str]]:
    """Module -> the package's modules it imports. `from pkg import mod` is an edge to both pkg and pkg.mod."""
    modules = module_names(package_dir)
    graph: dict[str, set[str]] = {name: set() for name in modules}
    for name, path in modules.items():
        is_package = path.name == "__init__.py"
        for node in _imports(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            else:
                base = node.module or ""
                if node.level:
                    anchor = name.split(".") if is_package else name.split(".")[:-1]
                    anchor = anchor[:len(anchor) - node.level + 1]
                    base = ".".join(anchor + ([base] if base else []))
                targets = [base] + [f"{base}.{alias.name}" for alias in node.names]
            for target in targets:
                if target in modules:
                    graph[name].add(target)
    return graph


def stage_of(module: str) -> str:
    parts = module.split(".")
    if len(parts) == 1 or parts[1] in CORE_MODULES:
        return "core"
    if parts[1] == "__main__":
        return "present"  # `python -m assistant` is a shell, like the CLI it runs
    return parts[1]


def back_edges(graph: dict[str, set[str]]) -> list[str]:
    found = []
    for source, targets in graph.items():
        for target in targets:
            if STAGES.index(stage_of(target)) > STAGES.index(stage_of(source)):
                found.append(f"{source} ({stage_of(source)}) imports {target} ({stage_of(target)})")
    return sorted(found)


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected groups of more than one module, and modules importing themselves."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    groups: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(graph.get(node, ())):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == node:
                    break
            if len(group) > 1 or node in graph.get(node, ()):
                groups.append(sorted(group))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return groups


def test_the_package_has_one_subpackage_per_stage_and_only_shared_modules_at_the_top():
    package = ROOT / PACKAGE
    subpackages = {p.name for p in package.iterdir() if (p / "__init__.py").is_file()}
    assert subpackages == set(STAGES) - {"core"}
    top_level = {p.stem for p in package.glob("*.py")}
    assert top_level == CORE_MODULES | {"__init__", "__main__"}


def test_imports_run_one_way_down_the_pipeline():
    assert back_edges(import_graph(ROOT / PACKAGE)) == []


def test_there_are_no_import_cycles():
    assert cycles(import_graph(ROOT / PACKAGE)) == []


def test_the_package_itself_imports_no_stage():
    graph = import_graph(ROOT / PACKAGE)
    assert {stage_of(t) for t in graph[PACKAGE]} <= {"core"}


def test_every_subpackage_is_listed_in_pyproject():
    import tomllib

    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    listed = set(config["tool"]["setuptools"]["packages"])
    on_disk = {name for name, path in module_names(ROOT / PACKAGE).items() if path.name == "__init__.py"}
    assert on_disk <= listed


# The checks above must be able to fail: a made-up package with a back-edge hidden in a function, and a cycle.

def _write(root: Path, files: dict[str, str]) -> Path:
    for name, source in files.items():
        path = root / PACKAGE / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(source)
    return root / PACKAGE


@pytest.fixture
def made_up_package(tmp_path) -> dict[str, str]:
    return {"__init__.py": "", "records.py": "", "index/__init__.py": "", "answer/__init__.py": "",
            "index/store.py": "from assistant.records import x\n",
            "answer/service.py": "from assistant.index import store\n"}


def test_a_back_edge_inside_a_function_is_caught(tmp_path, made_up_package):
    made_up_package["index/store.py"] += "def later():\n    from assistant.answer.service import Assistant\n"
    graph = import_graph(_write(tmp_path, made_up_package))
    assert back_edges(graph) == ["assistant.index.store (index) imports assistant.answer.service (answer)"]


def test_an_import_under_type_checking_is_not_an_edge(tmp_path, made_up_package):
    made_up_package["index/store.py"] += ("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n"
                                          "    from assistant.answer.service import Assistant\n")
    assert back_edges(import_graph(_write(tmp_path, made_up_package))) == []


def test_from_package_import_module_is_an_edge_to_both(tmp_path, made_up_package):
    graph = import_graph(_write(tmp_path, made_up_package))
    assert graph["assistant.answer.service"] == {"assistant.index", "assistant.index.store"}


def test_a_cycle_within_one_stage_is_caught(tmp_path, made_up_package):
    made_up_package["answer/draft.py"] = "import assistant.answer.service\n"
    made_up_package["answer/service.py"] += "def f():\n    from . import draft\n"
    graph = import_graph(_write(tmp_path, made_up_package))
    assert back_edges(graph) == []
    assert cycles(graph) == [["assistant.answer.draft", "assistant.answer.service"]]


def test_the_package_holds_at_most_40_regex_patterns_outside_ingest():
    import importlib.util

    spec = importlib.util.spec_from_file_location("count_regexes", ROOT / "scripts" / "count_regexes.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    found = module.count(ROOT / PACKAGE)
    assert not module.over_budget(found), module.over_budget(found)
    assert module.LIMIT == 40


def test_the_regex_count_sees_every_way_re_is_imported_and_says_what_to_do_past_the_limit(tmp_path):
    """`import re as regex` and `from re import compile as c` had gone uncounted, and the failure had shown a dict
    cut short, with no word of what to do."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("count_regexes", ROOT / "scripts" / "count_regexes.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    source = tmp_path / "aliased.py"
    source.write_text("import re\nimport re as regex\nfrom re import compile as c, escape\n"
                      "re.compile('a')\nregex.search('b', 'x')\nc('d')\nescape('e')\nre.escape('f')\n"
                      "c('g').search('x')\n", encoding="utf-8")
    assert module.pattern_calls(source) == [4, 5, 6, 9]
    message = module.over_budget({"answer/x.py": [1, 2, 3]}, limit=2)
    assert message.startswith("3 regex patterns outside assistant/ingest/, over the limit of 2:\n"
                              "  assistant/answer/x.py: lines 1, 2, 3\n") and "assistant/text.py" in message
    assert module.over_budget({"answer/x.py": [1, 2]}, limit=2) == ""
