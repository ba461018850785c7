"""The same ingest and query code against a real `chroma run` server on loopback."""

import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from assistant.ingest.run import Index, ingest
from assistant.index.stats import index_stats

from servers import free_port, wait_until_listening

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def chroma_server(tmp_path_factory):
    chroma = Path(sys.executable).parent / "chroma"
    if not chroma.exists():
        chroma = shutil.which("chroma")
    if not chroma:
        pytest.skip("the `chroma` command (installed with chromadb) was not found")
    port = free_port()
    data = tmp_path_factory.mktemp("chroma-server")
    env = {**os.environ, "ANONYMIZED_TELEMETRY": "False"}
    process = subprocess.Popen([str(chroma), "run", "--path", str(data), "--host", "127.0.0.1", "--port", str(port)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT, env=env)
    wait_until_listening(process, port, 60, lambda: "(chroma run's output is not captured)")
    yield port
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        raise


def test_ingest_and_query_through_a_chroma_server(chroma_server, fake_settings, corpus_copy, tmp_path):
    settings = fake_settings.with_(chroma_host="127.0.0.1", chroma_port=chroma_server)
    summary = ingest([corpus_copy], settings)
    assert summary.new == 5
    assert not (settings.data_dir / "chroma").exists()  # vectors went to the server, not the data folder
    assert settings.manifest_path.is_file()  # the manifest stays local
    index = Index(settings)
    try:
        assert index.store.count() == summary.chunks_added
        hits = index.store.query(index.embedder.embed_query("148 children discharged from care Rotherham"), k=3,
                                 where={"council_key": "rotherham"})
        assert hits and all(h.metadata["source_id"] == "rotherham-2018-ilsc-performance-feedback" for h in hits)
    finally:
        index.close()
    assert ingest([corpus_copy], settings).tokens_embedded == 0
    assert index_stats(settings).items == 5


def test_an_unreachable_server_gives_a_clear_message(fake_settings):
    from assistant.errors import AssistantError

    with pytest.raises(AssistantError, match="Cannot reach the Chroma server") as info:
        Index(fake_settings.with_(chroma_host="127.0.0.1", chroma_port=free_port()))
    assert "CHROMA_HOST" in info.value.hint
