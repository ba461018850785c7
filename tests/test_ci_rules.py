"""How the suite runs: under CI=true a skipped test fails the run (elsewhere it is a plain skip), and no setting of
the shell it is started from reaches the tests."""

import os
import subprocess
import sys

from conftest import ROOT


def run_skipping_test(tmp_path, ci: str) -> subprocess.CompletedProcess:
    test_file = tmp_path / "test_skips.py"
    test_file.write_text("import pytest\n\ndef test_needs_something():\n    pytest.skip('needs a thing')\n")
    (tmp_path / "conftest.py").write_text((ROOT / "tests" / "conftest.py").read_text())
    env = {**os.environ, "CI": ci}
    return subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:randomly",
                           str(test_file)], capture_output=True, text=True, env=env, cwd=tmp_path)


def test_skips_fail_under_ci(tmp_path):
    result = run_skipping_test(tmp_path, "true")
    assert result.returncode == 1 and "skipped under CI=true" in result.stdout


def test_skips_are_skips_elsewhere(tmp_path):
    result = run_skipping_test(tmp_path, "")
    assert result.returncode == 0 and "1 skipped" in result.stdout


def test_the_suite_starts_from_none_of_the_shells_settings(tmp_path):
    test_file = tmp_path / "test_clean.py"
    test_file.write_text(
        "import os\n\n"
        "def test_settings(settings):\n"
        "    leaked = sorted(n for n in os.environ if n.startswith(('ASSISTANT_', 'CHROMA_', 'OPENAI_', 'GRADIO_'))\n"
        "                    and n != 'GRADIO_ANALYTICS_ENABLED')\n"
        "    assert leaked == []\n"
        "    assert not settings.uses_chroma_server and settings.llm == 'extractive'\n"
        "    assert settings.data_dir.name == 'index' and settings.collection == 'minutes'\n")
    (tmp_path / "conftest.py").write_text((ROOT / "tests" / "conftest.py").read_text())
    env = {**os.environ, "CHROMA_HOST": "chroma.example", "CHROMA_PORT": "8001", "ASSISTANT_LLM": "openai:gpt-4o",
           "ASSISTANT_COLLECTION": "mine", "ASSISTANT_MODEL_DIR": str(tmp_path / "models"),
           "OPENAI_BASE_URL": "http://127.0.0.1:9/v1", "GRADIO_SERVER_PORT": "ten"}
    result = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:randomly",
                             str(test_file)], capture_output=True, text=True, env=env, cwd=tmp_path)
    assert result.returncode == 0, result.stdout


def test_every_test_that_needs_shared_is_marked_so():
    """`-m "not shared"` (a checkout without ../shared) had still selected ten tests that then skipped: only four of
    fourteen carried the mark. A test that calls need_shared(), skips when SHARED or DEV_CORPUS is missing, or takes
    the shared indexes carries it; one that merely reads more when they are there need not."""
    import ast

    unmarked = []
    for path in sorted((ROOT / "tests").rglob("test_*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not (isinstance(node, ast.FunctionDef) and node.name.startswith("test_")):
                continue
            names = {name.id for name in ast.walk(node) if isinstance(name, ast.Name)}
            skips = any(isinstance(call, ast.Call) and ast.unparse(call.func) == "pytest.skip" for call in ast.walk(node))
            needs = "need_shared" in names or (skips and bool({"SHARED", "DEV_CORPUS"} & names)) or any(
                argument.arg == "shared_indexes" for argument in node.args.args)
            marked = any(ast.unparse(decorator) == "pytest.mark.shared" for decorator in node.decorator_list)
            if needs and not marked:
                unmarked.append(f"{path.relative_to(ROOT)}::{node.name}")
    assert unmarked == []


def stand_in_checkout(tmp_path):
    """A folder with the real .ci/run and test.sh, whose set-up scripts do nothing and whose .venv python prints
    the arguments it was given: what CI's command hands to pytest, without running the suite."""
    (tmp_path / ".ci").mkdir()
    (tmp_path / ".ci" / "run").write_text((ROOT / ".ci" / "run").read_text())
    (tmp_path / "test.sh").write_text((ROOT / "test.sh").read_text())
    (tmp_path / "scripts").mkdir()
    (tmp_path / ".venv" / "bin").mkdir(parents=True)
    for stub, body in [("scripts/bootstrap.sh", "exit 0"), ("scripts/ci-system-deps.sh", "exit 0"),
                       (".venv/bin/python", 'echo "$@"')]:
        (tmp_path / stub).write_text(f"#!/usr/bin/env bash\n{body}\n")
    for runnable in [".ci/run", "test.sh", "scripts/bootstrap.sh", "scripts/ci-system-deps.sh", ".venv/bin/python"]:
        (tmp_path / runnable).chmod(0o755)
    return tmp_path


def test_ci_passes_its_arguments_to_pytest_and_lists_the_slowest_tests(tmp_path):
    checkout = stand_in_checkout(tmp_path)
    ci = subprocess.run(["bash", ".ci/run", "-q", "-k", "gate"], capture_output=True, text=True, cwd=checkout,
                        env={**os.environ, "CI": "true"})
    assert ci.returncode == 0, ci.stderr
    assert ci.stdout.split() == ["-m", "pytest", "--durations=25", "-q", "-k", "gate"]
    # Elsewhere the suite's output is as pytest makes it.
    local = subprocess.run(["./test.sh", "-q"], capture_output=True, text=True, cwd=checkout,
                           env={**os.environ, "CI": ""})
    assert local.returncode == 0 and local.stdout.split() == ["-m", "pytest", "-q"]
