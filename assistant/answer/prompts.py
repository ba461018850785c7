"""Prompt files, loaded from the package and rendered strictly.

The files live in the top-level `prompts/` folder, which installs as the data package
`assistant.prompt_files`. A source checkout without an install reads the folder directly. Placeholders are `$name` or `${name}`; `$$` is a literal dollar sign.
"""

from __future__ import annotations

import hashlib
import string
from functools import lru_cache
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path

from assistant.errors import AssistantError

DATA_PACKAGE = "assistant.prompt_files"
_REPO_FOLDER = Path(__file__).resolve().parents[2] / "prompts"


class PromptError(AssistantError):
    """A prompt file is missing, malformed, or rendered with the wrong variables."""


def prompt_folder() -> Traversable:
    """The installed prompt files, else the checkout's `prompts/` folder."""
    try:
        folder = resources.files(DATA_PACKAGE)
        if folder.joinpath("system.txt").is_file():
            return folder
    except ModuleNotFoundError:
        pass
    return _REPO_FOLDER


def prompt_names() -> list[str]:
    """Every prompt's name: the `.txt` files, without the suffix (README.md documents them)."""
    return sorted(p.name.rsplit(".", 1)[0] for p in prompt_folder().iterdir()
                  if p.name.endswith(".txt"))


@lru_cache(maxsize=None)
def load(name: str) -> str:
    path = prompt_folder().joinpath(f"{name}.txt")
    if not path.is_file():
        raise PromptError(f"There is no prompt file {name}.txt in {prompt_folder()}.",
                          "Reinstall the package, or restore the file from the repository.")
    return path.read_text(encoding="utf-8")


def variables(name: str) -> set[str]:
    """The placeholders a prompt file expects."""
    template = string.Template(load(name))
    if not template.is_valid():
        raise PromptError(f"The prompt {name}.txt has a malformed placeholder.",
                          "Write placeholders as $name or ${name}, and a literal dollar sign as $$.")
    return set(template.get_identifiers())


def render(name: str, /, **values: str) -> str:
    """The prompt with every placeholder filled; a missing or an unused value raises PromptError."""
    expected = variables(name)
    missing = expected - values.keys()
    unused = values.keys() - expected
    if missing:
        raise PromptError(f"The prompt {name}.txt needs {', '.join(sorted(missing))}, which were not given.")
    if unused:
        raise PromptError(f"The prompt {name}.txt has no placeholder for {', '.join(sorted(unused))}.")
    return string.Template(load(name)).substitute(values)


def prompt_version() -> str:
    """A short hash of every prompt file, so a logged answer says which prompts produced it."""
    digest = hashlib.sha256()
    for name in prompt_names():
        digest.update(f"{name}\0{load(name)}\0".encode("utf-8"))
    return digest.hexdigest()[:12]
