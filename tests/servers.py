"""Starting real servers on loopback for integration tests."""

from __future__ import annotations

import socket
import subprocess
import time
from typing import Callable


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until_listening(process: subprocess.Popen, port: int, timeout: float, describe: Callable[[], str]) -> None:
    """Return once the port accepts connections; fail with the server's own output if it dies or stalls."""
    import pytest

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"the server exited with {process.returncode} before listening:\n{describe()}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.3)
    process.kill()
    pytest.fail(f"the server did not listen on port {port} within {timeout:.0f} s:\n{describe()}")
