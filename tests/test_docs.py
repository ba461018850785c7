"""What the README, CONTRIBUTING.md and eval/README.md tell a maintainer to open or run is there."""

import re

from conftest import ROOT

DOCS = ("README.md", "CONTRIBUTING.md", "eval/README.md")


def test_every_test_script_and_module_file_the_docs_name_exists():
    """eval/README.md sent a maintainer to tests/test_eval_data.py, which had moved to tests/present/ when the tests
    were laid out by stage."""
    named = {(doc, path) for doc in DOCS
             for path in re.findall(r"\b((?:tests|scripts|assistant)/[\w/.-]+\.(?:py|sh|json|tsv|txt))\b",
                                    (ROOT / doc).read_text(encoding="utf-8"))}
    assert named
    assert sorted((doc, path) for doc, path in named if not (ROOT / path).is_file()) == []


def test_every_script_the_set_up_and_test_commands_run_is_named_in_the_readme():
    """Under CI=true, ./test.sh (and .ci/run) ran scripts/ci-system-deps.sh, which as root installs system packages
    with apt-get (Chromium among them): the README's account of those commands did not say so."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    run = {script for command in ("run.sh", "test.sh", ".ci/run")
           for script in re.findall(r"scripts/[\w.-]+\.sh", (ROOT / command).read_text(encoding="utf-8"))}
    assert "scripts/bootstrap.sh" in run
    assert sorted(script for script in run if f"`{script}`" not in readme) == []
