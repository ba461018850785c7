"""Optional sign-in for the app: a file of `name:hash` lines, PBKDF2-SHA256 with a random salt."""

from __future__ import annotations

import hashlib
import hmac
import string
import secrets
from pathlib import Path

from assistant.errors import ConfigError
from assistant.files import read_utf8, write_atomically

ITERATIONS = 600_000
_NAME_CHARACTERS = frozenset(string.ascii_letters + string.digits + "._@-")


def hash_password(password: str, iterations: int = ITERATIONS) -> str:
    salt = secrets.token_hex(16)
    digest = hashlib.pbkdf2_hmac("sha256", password.encode(), bytes.fromhex(salt), iterations).hex()
    return f"pbkdf2_sha256${iterations}${salt}${digest}"


def verify_password(password: str, stored: str) -> bool:
    try:
        scheme, iterations, salt, digest = stored.split("$")
    except ValueError:
        return False
    if scheme != "pbkdf2_sha256":
        return False
    actual = hashlib.pbkdf2_hmac("sha256", password.encode(), bytes.fromhex(salt), int(iterations)).hex()
    return hmac.compare_digest(actual, digest)


def read_users(path: Path) -> dict[str, str]:
    if not path.is_file():
        raise ConfigError(f"ASSISTANT_AUTH names {path}, which does not exist.",
                          "Create it with `assistant user add NAME`, or unset ASSISTANT_AUTH.")
    users = {}
    for number, line in enumerate(read_utf8(path, "the users file").splitlines(), start=1):
        if not line.strip() or line.startswith("#"):
            continue
        name, sep, stored = line.strip().partition(":")
        if not sep or not stored.startswith("pbkdf2_sha256$"):
            raise ConfigError(f"{path}:{number} is not a `name:hash` line.",
                              "Write users with `assistant user add NAME` rather than by hand.")
        users[name] = stored
    return users


def add_user(path: Path, name: str, password: str) -> None:
    """Add or replace one user, keeping the others; the file is written readable by its owner only."""
    if not (1 <= len(name) <= 64 and set(name) <= _NAME_CHARACTERS):
        raise ConfigError(f"{name!r} is not a usable user name.", "Use letters, digits and . _ @ - only.")
    if len(password) < 8:
        raise ConfigError("The password is too short.", "Use at least 8 characters.")
    users = read_users(path) if path.is_file() else {}
    users[name] = hash_password(password)
    write_atomically(path, "".join(f"{n}:{h}\n" for n, h in users.items()), mode=0o600)


def checker(path: Path):
    """A function for Gradio's `auth=`: (name, password) -> bool."""
    users = read_users(path)

    def check(name: str, password: str) -> bool:
        stored = users.get(name)
        return bool(stored) and verify_password(password, stored)

    return check
