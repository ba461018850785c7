"""Under CI=true a skipped test fails the run; elsewhere it is a plain skip."""

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
