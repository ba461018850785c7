"""Nothing downloads at run time: the guard inside the suite, and the CLI in a network namespace."""

import json
import os
import shutil
import socket
import subprocess
import sys

import pytest

from conftest import CORPUS


def test_the_suite_cannot_reach_beyond_loopback():
    from pytest_socket import SocketConnectBlockedError

    with pytest.raises(SocketConnectBlockedError):
        socket.create_connection(("192.0.2.1", 443), timeout=1)  # TEST-NET-1: never routed
    assert os.environ["HF_HUB_OFFLINE"] == "1"


def _namespace_works() -> str:
    if not shutil.which("unshare") or not shutil.which("ip"):
        return "needs `unshare` (util-linux) and `ip` (iproute2)"
    probe = subprocess.run(["unshare", "-rn", "sh", "-c", "ip link set lo up"], capture_output=True, text=True)
    if probe.returncode != 0:
        return f"cannot create a network namespace here ({probe.stderr.strip()})"
    return ""


@pytest.mark.slow
@pytest.mark.integration
def test_ingest_and_ask_work_in_a_namespace_with_only_loopback(tmp_path):
    reason = _namespace_works()
    if reason:
        pytest.skip(f"{reason}; run as root on Linux to enable this test")
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("ASSISTANT_", "HF_", "TRANSFORMERS_", "OPENAI_", "CHROMA_"))}
    env.update(ASSISTANT_DATA_DIR=str(tmp_path / "index"), ASSISTANT_MODEL_DIR=str(tmp_path / "models"))

    def in_namespace(*args: str) -> subprocess.CompletedProcess:
        script = 'ip link set lo up && exec "$@"'
        return subprocess.run(["unshare", "-rn", "sh", "-c", script, "sh", sys.executable, "-m", "assistant", *args],
                              env=env, capture_output=True, text=True, timeout=600)

    probe = subprocess.run(["unshare", "-rn", "sh", "-c", "ip link set lo up && " + sys.executable +
                            " -c \"import socket; s=socket.socket(); s.settimeout(3); print(s.connect_ex(('192.0.2.1', 443)))\""],
                           capture_output=True, text=True, timeout=60)
    assert probe.stdout.strip() not in ("", "0"), "the namespace can reach the outside: the test proves nothing"

    ingested = in_namespace("ingest", str(CORPUS), "--no-progress", "--json")
    assert ingested.returncode == 0, ingested.stderr
    assert json.loads(ingested.stdout)["new"] == 5
    asked = in_namespace("ask", "How many children were discharged from care in 2018?", "--json")
    assert asked.returncode == 0, asked.stderr
    answer = json.loads(asked.stdout)
    assert "148" in answer["answer"] and not answer["refused"]
    assert answer["citations"][0]["source_url"] == "rotherham-2018-ilsc-performance-feedback"
