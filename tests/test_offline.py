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


def _onnxruntime_leaves_in(cache, first: str) -> list[str]:
    """The files onnxruntime leaves in a fresh cache folder when it starts a session on the shipped reader, after
    `first` has run, in an environment with none of the CI variables it keeps quiet for."""
    from assistant.answer.reader import READER_DIR

    model = sorted(READER_DIR.glob("*.onnx"))[0]
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(cache), "XDG_CACHE_HOME": str(cache)}
    script = (f"{first}\nimport time, onnxruntime\n"
              f"onnxruntime.InferenceSession({str(model)!r}, providers=['CPUExecutionProvider'])\ntime.sleep(1)")
    run = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    return sorted(str(path.relative_to(cache)) for path in cache.rglob("*") if path.is_file())


def test_onnxruntime_keeps_no_device_id_and_queues_no_usage_events(tmp_path):
    """onnxruntime 1.29 and later send usage events to Microsoft from Linux, and keep a device id in the cache
    folder, unless ORT_DISABLE_TELEMETRY is set before they start: the package sets it when imported."""
    bare = _onnxruntime_leaves_in(tmp_path / "bare", "pass")
    if not bare:
        pytest.skip("this onnxruntime writes nothing for telemetry even when left alone: nothing to turn off")
    assert _onnxruntime_leaves_in(tmp_path / "assistant", "import assistant") == []


def test_the_app_sends_no_usage_reports_even_when_the_environment_asks_for_them():
    """A GRADIO_ANALYTICS_ENABLED=True inherited from the environment had switched Gradio's reports back on (the
    app only defaulted it to False), as an ORT_DISABLE_TELEMETRY=0 would have onnxruntime's."""
    script = ("import os, assistant.present.app, gradio.analytics as a, huggingface_hub.constants as hub; "
              "print(a.analytics_enabled(), os.environ['ORT_DISABLE_TELEMETRY'], hub.HF_HUB_OFFLINE)")
    env = {**os.environ, "GRADIO_ANALYTICS_ENABLED": "True", "ORT_DISABLE_TELEMETRY": "0", "HF_HUB_OFFLINE": "0"}
    run = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == "False 1 True"
