"""Running commands that may only read a folder, as a serving process given a read-only data folder does.

chmod does not stop root, who runs some CI jobs (and this suite, on some machines), so where it can, a command runs
in a mount namespace of its own, where the folder is bind-mounted read-only: that stops root too, as a read-only
mount or a container image layer does, and it is gone with the command. Where no namespace can be made, a user
other than root gets the folder chmod-ed read-only instead. Otherwise the test is skipped (a failure under CI=true).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import pytest

# Inside the namespace: mount the folder ($1) read-only over itself, then run the command.
_MOUNT_READ_ONLY = 'mount --bind -o ro "$1" "$1" && shift && exec "$@"'


def _namespace_problem(folder: Path) -> str:
    if not shutil.which("unshare"):
        return "needs `unshare` (util-linux)"
    probe = subprocess.run(["unshare", "-rm", "sh", "-c", _MOUNT_READ_ONLY, "sh", str(folder), "sh", "-c",
                            'touch "$0/.probe" 2>/dev/null && exit 1 || exit 0', str(folder)],
                           capture_output=True, text=True, timeout=60)
    (folder / ".probe").unlink(missing_ok=True)
    return "" if probe.returncode == 0 else f"cannot mount a folder read-only in a namespace ({probe.stderr.strip()})"


class ReadOnlyFolder:
    """Commands that see `folder` read-only; the test itself may still write it, inside `writable()`."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._in_namespace = not _namespace_problem(folder)
        if not self._in_namespace:
            if os.geteuid() == 0:
                pytest.skip(f"root, and {_namespace_problem(folder)}: no way to make a folder read-only to root here")
            self._chmod(writable=False)

    @property
    def mounted(self) -> bool:
        """Whether commands see the folder on a read-only mount (else only without write permission)."""
        return self._in_namespace

    def argv(self, *command: str) -> list[str]:
        if self._in_namespace:
            return ["unshare", "-rm", "sh", "-c", _MOUNT_READ_ONLY, "sh", str(self.folder), *command]
        return list(command)

    def run(self, *command: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
        return subprocess.run(self.argv(*command), env=env, capture_output=True, text=True, timeout=600)

    def cli(self, *args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
        return self.run(sys.executable, "-m", "assistant", *args, env=env)

    @contextmanager
    def writable(self) -> Iterator[None]:
        """Let the test write the folder for the block (it is read-only to the commands only, in a namespace)."""
        if not self._in_namespace:
            self._chmod(writable=True)
        try:
            yield
        finally:
            if not self._in_namespace:
                self._chmod(writable=False)

    def restore(self) -> None:
        if not self._in_namespace:
            self._chmod(writable=True)

    def _chmod(self, writable: bool) -> None:
        for path in [self.folder, *self.folder.rglob("*")]:
            if not path.is_symlink():
                mode = path.stat().st_mode
                path.chmod(mode | 0o200 if writable else mode & ~0o222)


@pytest.fixture
def read_only_folder():
    """Call with a folder: returns its ReadOnlyFolder, and makes it writable again after the test."""
    made: list[ReadOnlyFolder] = []

    def make(folder: Path) -> ReadOnlyFolder:
        made.append(ReadOnlyFolder(folder))
        return made[-1]

    yield make
    for folder in made:
        folder.restore()


def snapshot(folder: Path) -> dict[str, str]:
    """Every file under the folder with a hash of its bytes: what "nothing changed" compares."""
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}
