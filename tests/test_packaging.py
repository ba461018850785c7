"""The package installs without the source tree: prompts and readers ship inside the wheel."""

import json
import subprocess
import sys
import zipfile

import pytest

from conftest import ROOT


@pytest.mark.slow
def test_a_wheel_carries_everything_the_cli_reads(tmp_path):
    build = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-w",
                            str(tmp_path), str(ROOT)], capture_output=True, text=True)
    if build.returncode != 0 and "setuptools" in build.stderr and "No module named" in build.stderr:
        pytest.skip("setuptools is not installed in this environment")
    assert build.returncode == 0, build.stderr
    (wheel,) = tmp_path.glob("*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    prompts = sorted(n for n in names if n.startswith("assistant/prompt_files/"))
    shipped = sorted(f"assistant/prompt_files/{p.name}" for p in (ROOT / "prompts").iterdir()
                     if p.suffix in (".txt", ".md", ".py"))
    assert prompts == shipped
    assert "assistant/ingest/readers/html.py" in names and "assistant/present/cli.py" in names
    shipped_reader = json.loads((ROOT / "assistant" / "answer" / "reader_model" / "manifest.json").read_text())
    reader = {"assistant/answer/reader_model/" + n for n in [*shipped_reader["sha256"], "manifest.json"]}
    assert reader <= set(names)
    assert "assistant/retrieve/fusion.json" in names
    assert any(n.endswith("entry_points.txt") for n in names)
    entry_points = zipfile.ZipFile(wheel).read(next(n for n in names if n.endswith("entry_points.txt"))).decode()
    assert "assistant = assistant.present.cli:main" in entry_points

    # Installed on its own (dependencies from this environment), outside the source tree:
    target = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "--target", str(target), str(wheel)],
                   check=True, capture_output=True)
    code = ("import assistant, importlib.resources as r; "
            "assert str(assistant.__file__).startswith(%r), assistant.__file__; "
            "print(sorted(p.name for p in r.files('assistant.prompt_files').iterdir()))" % str(target))
    out = subprocess.run([sys.executable, "-I", "-c", f"import sys; sys.path.insert(0, {str(target)!r}); {code}"],
                         capture_output=True, text=True, cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert "'system.txt'" in out.stdout and "'answer.txt'" in out.stdout, out.stdout


def test_the_gradio_bound_admits_no_release_without_what_the_app_calls():
    """The app passes css= and footer_links= to launch() and api_visibility= to its events: Gradio 6 brought them."""
    import tomllib

    from packaging.requirements import Requirement

    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    gradio = next(r for r in map(Requirement, project["dependencies"]) if r.name == "gradio")
    assert not gradio.specifier.contains("5.50.0") and gradio.specifier.contains("6.0.0")
