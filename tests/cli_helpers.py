"""Running the real `assistant` command in a subprocess, as a user would."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
from pathlib import Path

from assistant.index.embedder import HASHING_MODEL


def cli_env(data_dir: Path, fake_embedder: bool = True, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ASSISTANT_")}
    env["ASSISTANT_DATA_DIR"] = str(data_dir)
    if fake_embedder:
        env["ASSISTANT_EMBEDDING_MODEL"] = HASHING_MODEL
    env.update(extra)
    return env


def run_cli(*args: str, env: dict[str, str], cwd: Path | None = None, timeout: int = 600,
            input_text: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "assistant", *args], env=env, cwd=cwd, capture_output=True,
                          text=True, timeout=timeout, input=input_text if input_text is not None else "")


def index_snapshot(data_dir: Path):
    """What an index holds (Chroma's chunks and the manifest's rows), for comparing two runs exactly."""
    from assistant.ingest.run import Index
    from assistant.settings import Settings

    settings = Settings.from_env({"ASSISTANT_EMBEDDING_MODEL": HASHING_MODEL}, data_dir=data_dir)
    index = Index(settings)
    try:
        stored = index.store.get()
        rows = index.manifest.rows()
    finally:
        index.close()
    chroma = sorted((c.chunk_id, c.metadata["source_id"], c.text) for c in stored)
    manifest = sorted((r.source_id, r.fingerprint, r.status, r.chunk_ids) for r in rows.values())
    return chroma, manifest


def manifest_rows(settings) -> dict:
    """The index's manifest rows, by source id, read and closed again."""
    from assistant.index.manifest import Manifest

    manifest = Manifest(settings.manifest_path)
    try:
        return manifest.rows()
    finally:
        manifest.close()


@contextlib.contextmanager
def write_lock_held_elsewhere(data_dir: Path):
    """Another process holding the index's write lock for the block, as an ingest or fetch at work does (a lock
    held by this process would not stand for another's)."""
    hold = ("import sys, time\nfrom assistant.index.write_lock import writing_index\n"
            "from assistant.settings import Settings\n"
            "with writing_index(Settings.from_env({'ASSISTANT_DATA_DIR': sys.argv[1]})):\n"
            "    print('held', flush=True)\n    time.sleep(300)\n")
    holder = subprocess.Popen([sys.executable, "-c", hold, str(data_dir)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        yield
    finally:
        holder.kill()
        holder.wait()
        holder.stdout.close()
