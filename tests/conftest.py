"""Shared fixtures. The suite is offline: pytest-socket (see pyproject) lets tests reach loopback only."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

# The suite starts from none of the settings of the shell it is run from: a CHROMA_HOST, ASSISTANT_* or
# OPENAI_BASE_URL there would point tests at a real server, or at the developer's own folders and models. Removed
# here, before any test module is imported; a test that needs one sets it itself (cli_env, monkeypatch.setenv).
DEVELOPER_SETTINGS = ("ASSISTANT_", "CHROMA_", "OPENAI_", "GRADIO_")
for _setting in [n for n in os.environ if n.startswith(DEVELOPER_SETTINGS)]:
    del os.environ[_setting]

# Set before anything imports huggingface_hub, chromadb or gradio.
os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"
os.environ["ANONYMIZED_TELEMETRY"] = "False"
os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT / "corpus"
SHARED = ROOT.parent / "shared"
DEV_CORPUS = SHARED / "corpus" / "dev_minutes.jsonl"
IN_CI = os.environ.get("CI") == "true"


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """Under CI=true a skipped test fails: the real-parts tests must really run there."""
    outcome = yield
    report = outcome.get_result()
    if IN_CI and report.skipped and not hasattr(report, "wasxfail"):
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        report.outcome = "failed"
        report.longrepr = f"skipped under CI=true, where every test must run: {reason}"


def need_shared() -> Path:
    if not DEV_CORPUS.is_file():
        pytest.skip(f"needs ../shared beside the checkout ({DEV_CORPUS} not found)")
    return DEV_CORPUS


@pytest.fixture
def settings(tmp_path):
    """Settings with every path in a temporary folder except the shared model cache."""
    from assistant.settings import Settings

    return Settings.from_env(data_dir=tmp_path / "index")


@pytest.fixture
def fake_settings(settings):
    """Settings that use the deterministic hashing embedder: fast, for pipeline tests."""
    from assistant.index.embedder import HASHING_MODEL

    return settings.with_(embedding_model=HASHING_MODEL)


@pytest.fixture
def quick(fake_settings):
    """For fetch tests: no waiting between requests or before retries, and every 2024 meeting still due a look."""
    return fake_settings.with_(fetch_rate=0.0, fetch_backoff=0.0, refetch_weeks=5000)


@pytest.fixture
def hashing_assistant(fake_settings):
    """An assistant over corpus/, indexed with the hashing embedder."""
    from assistant.answer.service import Assistant
    from assistant.ingest.run import ingest

    ingest([CORPUS], fake_settings, progress=False)
    opened = Assistant(fake_settings)
    yield opened
    opened.close()


@pytest.fixture(scope="session")
def minilm():
    """The real bundled embedding model, loaded once per test session."""
    from assistant.index.embedder import make_embedder
    from assistant.settings import Settings

    embedder = make_embedder(Settings.from_env())
    embedder.embed_query("warm up")
    return embedder


@pytest.fixture
def corpus_copy(tmp_path) -> Path:
    target = tmp_path / "corpus"
    shutil.copytree(CORPUS, target)
    return target


@pytest.fixture(scope="session")
def seed_index(tmp_path_factory, minilm):
    """Settings of an index of corpus/ built once per session with the real embedding model."""
    from assistant.ingest.run import Index, ingest
    from assistant.settings import Settings

    settings = Settings.from_env(data_dir=tmp_path_factory.mktemp("seed") / "index")
    index = Index(settings, embedder=minilm)
    ingest([CORPUS], settings, index=index)
    index.close()
    return settings


@pytest.fixture(scope="session")
def hashing_seed_index(tmp_path_factory):
    """Settings of an index of corpus/ made once per session with the hashing embedder, for tests that ask
    questions of it (each counts what it adds, so sharing it is safe)."""
    from assistant.index.embedder import HASHING_MODEL
    from assistant.ingest.run import ingest
    from assistant.settings import Settings

    settings = Settings.from_env(data_dir=tmp_path_factory.mktemp("seed-hashing") / "index")
    settings = settings.with_(embedding_model=HASHING_MODEL)
    ingest([CORPUS], settings, progress=False)
    return settings
