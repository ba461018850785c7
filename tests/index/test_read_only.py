"""An index served from a folder the serving user may only read (a read-only mount, another user's folder, an image
layer): what only reads it works and writes nothing, and what must write fails at once, saying what to do."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pytest

from assistant.errors import IndexMissingError, NotWritableError
from assistant.index.manifest import Manifest, ManifestRow
from cli_helpers import cli_env, run_cli
from conftest import CORPUS
from read_only_folder import read_only_folder, snapshot  # noqa: F401  (a fixture)

QUESTION = "How many children were discharged from care in Rotherham in 2018?"


def row(source_id: str) -> ManifestRow:
    return ManifestRow(source_id, "fp-" + source_id, "done", (f"{source_id}-0",), "Council", "Committee", "2018")


@pytest.fixture
def index(fake_settings):
    """Settings of an index of corpus/, built with the hashing embedder by `assistant ingest`, which has exited: no
    process has its databases open, so SQLite's WAL files beside them are gone, as on a folder handed to a server."""
    built = run_cli("ingest", str(CORPUS), "--no-progress", env=cli_env(fake_settings.data_dir))
    assert built.returncode == 0, built.stderr
    assert not list(fake_settings.data_dir.glob("manifest.sqlite-*"))
    return fake_settings


def test_a_manifest_opened_to_read_reads_and_refuses_every_write(tmp_path):
    path = tmp_path / "manifest.sqlite"
    writer = Manifest(path)
    writer.write([row("a"), row("b")])
    writer.set_meta("embedding_model", "fake:hashing")
    writer.close()
    before = path.read_bytes()

    reader = Manifest(path, read_only=True)
    try:
        assert reader.read_only
        assert sorted(reader.rows()) == ["a", "b"] and reader.get_meta("embedding_model") == "fake:hashing"
        assert reader.indexed_chunk_ids() == {"a-0", "b-0"}
        for write in (lambda: reader.write([row("c")]), lambda: reader.remove(["a"]), reader.clear,
                      lambda: reader.set_meta("embedding_model", "other")):
            with pytest.raises(NotWritableError, match="open for reading only") as refused:
                write()
            assert str(tmp_path) in refused.value.message and "ingest" in refused.value.hint
        assert sorted(reader.rows()) == ["a", "b"]
    finally:
        reader.close()
    assert path.read_bytes() == before
    assert not Manifest(path).read_only  # a folder this user may write opens to be written, as ever


def test_a_missing_manifest_cannot_be_opened_to_read(tmp_path):
    with pytest.raises(IndexMissingError, match="no index"):
        Manifest(tmp_path / "manifest.sqlite", read_only=True)
    assert not (tmp_path / "manifest.sqlite").exists()


@pytest.mark.integration
def test_stats_reads_a_read_only_index_and_writes_nothing(index, read_only_folder):
    folder = read_only_folder(index.data_dir)
    before = snapshot(index.data_dir)
    result = folder.cli("stats", "--json", env=cli_env(index.data_dir))
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["items"] == 5
    assert snapshot(index.data_dir) == before


@pytest.mark.integration
def test_ask_with_a_local_vector_store_fails_at_once_saying_what_to_do(index, read_only_folder):
    folder = read_only_folder(index.data_dir)
    before = snapshot(index.data_dir)
    result = folder.cli("ask", QUESTION, env=cli_env(index.data_dir))
    assert result.returncode == 2
    assert "Chroma cannot open the vector store in " + str(index.chroma_dir) in result.stderr
    if folder.mounted:  # no permission would help: the user is not told to change any
        assert "(the file system is mounted read-only)" in result.stderr, result.stderr
        assert f"Remount {index.data_dir} read-write, or serve a copy" in result.stderr, result.stderr
        assert "writable by the user" not in result.stderr
    else:
        assert "(this user may not write there)" in result.stderr, result.stderr
        assert f"Make {index.data_dir} writable by the user" in result.stderr
    assert "Traceback" not in result.stderr
    assert snapshot(index.data_dir) == before


@pytest.mark.integration
@pytest.mark.parametrize("flags", [[], ["--reset"], ["--prune"]])
def test_ingest_into_a_read_only_index_fails_before_changing_anything(index, read_only_folder, flags, corpus_copy):
    (corpus_copy / "sefton-csc-annual-report-2017-18.md").unlink()  # work it would do, if it could
    folder = read_only_folder(index.data_dir)
    before = snapshot(index.data_dir)
    result = folder.cli("ingest", str(corpus_copy), "--no-progress", *flags, env=cli_env(index.data_dir))
    assert result.returncode == 2
    if folder.mounted:
        assert f"The index in {index.data_dir} is on a file system mounted read-only" in result.stderr, result.stderr
        assert "Remount it read-write, or copy the folder" in result.stderr and "This user may" not in result.stderr
    else:
        assert f"This user may not write to the index in {index.data_dir}" in result.stderr
    assert "so this run changed nothing" in result.stderr and "how to fix:" in result.stderr
    assert snapshot(index.data_dir) == before


# Opens the manifest as `ask` and `stats` do, then reads it again at each line on standard input.
_READER = textwrap.dedent("""
    import json, sys
    from pathlib import Path
    from assistant.index.manifest import Manifest
    manifest = Manifest(Path(sys.argv[1]))
    print(json.dumps([manifest.read_only, sorted(manifest.rows())]), flush=True)
    for _ in sys.stdin:
        print(json.dumps([manifest.read_only, sorted(manifest.rows())]), flush=True)
""")


@pytest.mark.integration
def test_a_reader_of_a_read_only_manifest_sees_what_its_owner_writes_since(tmp_path, read_only_folder):
    """Read without SQLite's WAL index, which the reader may not make, the manifest would look unchanged while its
    owner writes (in the WAL file) and after (to the file): the reader must see both."""
    data = tmp_path / "index"
    data.mkdir()
    writer = Manifest(data / "manifest.sqlite")
    writer.write([row("a")])
    writer.close()  # the last connection removes the WAL index: no process has the manifest open
    folder = read_only_folder(data)
    reader = subprocess.Popen(folder.argv(sys.executable, "-c", _READER, str(data / "manifest.sqlite")),
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

    def seen() -> list:
        line = reader.stdout.readline()
        assert line, reader.stderr.read()
        return json.loads(line)

    try:
        assert seen() == [True, ["a"]]
        with folder.writable():
            writer = Manifest(data / "manifest.sqlite")
            writer.write([row("b")])
        reader.stdin.write("\n")
        reader.stdin.flush()
        assert seen() == [True, ["a", "b"]]  # while the owner has it open: through the owner's WAL index
        with folder.writable():
            writer.write([row("c")])
            writer.close()  # folded into the file
        reader.stdin.write("\n")
        reader.stdin.flush()
        assert seen() == [True, ["a", "b", "c"]]
    finally:
        reader.stdin.close()
        assert reader.wait(timeout=60) == 0, reader.stderr.read()
