"""Prompt files: every one renders, strictly; they ship with the package; their version is a content hash."""

from __future__ import annotations

import hashlib
import tomllib

import pytest

from assistant.answer import prompts
from assistant.answer.prompts import PromptError

from conftest import ROOT


@pytest.fixture
def prompt_dir(tmp_path, monkeypatch):
    """A private prompt folder, so the strictness tests can use malformed files."""
    monkeypatch.setattr(prompts, "prompt_folder", lambda: tmp_path)
    prompts.load.cache_clear()
    yield tmp_path
    prompts.load.cache_clear()


def test_the_prompt_files_are_the_ones_the_answerer_uses():
    assert set(prompts.prompt_names()) >= {"system", "answer"}
    assert prompts.variables("system") == {"refusal"}
    assert prompts.variables("answer") == {"evidence", "question"}


@pytest.mark.parametrize("name", prompts.prompt_names())
def test_every_prompt_file_renders_with_its_variables(name):
    values = {v: f"<value of {v}>" for v in prompts.variables(name)}
    text = prompts.render(name, **values)
    assert all(value in text for value in values.values())
    assert "$" not in text.replace("$$", "")


def test_the_answerer_renders_both_prompts_into_one_chat_prompt():
    from assistant.answer.generate import REFUSAL, answer_prompt

    template = answer_prompt()
    assert set(template.input_variables) == {"evidence", "question"}
    system, human = template.invoke({"evidence": "EVIDENCE", "question": "QUESTION"}).to_messages()
    assert REFUSAL in system.content and "EVIDENCE" in human.content and "QUESTION" in human.content


def test_a_missing_variable_fails_loudly():
    with pytest.raises(PromptError, match="needs question"):
        prompts.render("answer", evidence="x")


def test_an_unused_variable_fails_loudly():
    with pytest.raises(PromptError, match="no placeholder for extra"):
        prompts.render("answer", evidence="x", question="y", extra="z")


def test_a_malformed_placeholder_fails_loudly(prompt_dir):
    (prompt_dir / "bad.txt").write_text("Costs $5 and $name", encoding="utf-8")
    with pytest.raises(PromptError, match="malformed placeholder"):
        prompts.render("bad", name="x")
    (prompt_dir / "good.txt").write_text("Costs $$5 for ${name}s", encoding="utf-8")
    assert prompts.render("good", name="x") == "Costs $5 for xs"


def test_a_missing_prompt_file_names_itself(prompt_dir):
    with pytest.raises(PromptError, match="nope.txt"):
        prompts.load("nope")


def test_the_prompt_version_is_a_short_hash_of_the_files(prompt_dir):
    (prompt_dir / "a.txt").write_text("one $x", encoding="utf-8")
    first = prompts.prompt_version()
    assert len(first) == 12 and int(first, 16) >= 0
    prompts.load.cache_clear()
    assert prompts.prompt_version() == first
    (prompt_dir / "a.txt").write_text("two $x", encoding="utf-8")
    prompts.load.cache_clear()
    assert prompts.prompt_version() != first


def test_the_real_prompt_version_is_the_hash_of_the_checkouts_prompt_files():
    """Read afresh, the prompts in use hash to the version of the files in `prompts/`: an answer's logged
    version names the prompts a reader of the repository sees."""
    prompts.load.cache_clear()
    digest = hashlib.sha256()
    for path in sorted((ROOT / "prompts").glob("*.txt")):
        digest.update(f"{path.stem}\0{path.read_text(encoding='utf-8')}\0".encode("utf-8"))
    assert prompts.prompt_version() == digest.hexdigest()[:12]


def test_prompts_ship_as_package_data_under_a_name_that_does_not_shadow_the_loader():
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"]
    assert prompts.DATA_PACKAGE in config["packages"]
    assert config["package-dir"][prompts.DATA_PACKAGE] == "prompts"
    assert "*.txt" in config["package-data"][prompts.DATA_PACKAGE]
    assert "assistant.answer.prompts" not in config["packages"]  # a package there would hide the loader module
    assert (ROOT / "prompts" / "system.txt").is_file()
    assert prompts.prompt_folder().joinpath("system.txt").is_file() and prompts.load("system")
