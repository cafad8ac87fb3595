"""Start a real ``mlexpert serve`` process on loopback for a test (not a test module).

Typical use::

    with running_server(model_dir, "--api-key", KEY) as server:
        httpx.post(server.url + "/predict", json=record)

The server runs in its own process group on a free 127.0.0.1 port; the context waits
until ``/v2/health/ready`` answers, and on exit sends SIGTERM (then SIGKILL) to the
group. Its output goes to a log file whose tail is shown if it fails to start.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

START_TIMEOUT = 120.0


@dataclass
class Server:
    url: str
    process: subprocess.Popen
    log: Path

    def output(self) -> str:
        return self.log.read_text(errors="replace")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def serve_command(model_dir, *args: str, port: int) -> list[str]:
    return [sys.executable, "-m", "mlexpert", "serve", str(model_dir), "--port", str(port), *args]


@contextmanager
def running_server(model_dir, *args: str, env: dict | None = None):
    port = free_port()
    log = Path(tempfile.mkstemp(prefix="mlexpert-serve-", suffix=".log")[1])
    with open(log, "wb") as out:
        process = subprocess.Popen(serve_command(model_dir, *args, port=port), stdout=out,
                                   stderr=subprocess.STDOUT, env={**os.environ, **(env or {})},
                                   start_new_session=True)
    server = Server(f"http://127.0.0.1:{port}", process, log)
    try:
        _wait_ready(server)
        yield server
    finally:
        stop(server.process)
        log.unlink(missing_ok=True)


def stop(process: subprocess.Popen, timeout: float = 15.0) -> None:
    if process.poll() is not None:
        return
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def _wait_ready(server: Server) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(f"the server exited with {server.process.returncode}:\n"
                               f"{server.output()[-3000:]}")
        try:
            if httpx.get(server.url + "/v2/health/ready", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"the server did not become ready in {START_TIMEOUT:.0f} s:\n"
                       f"{server.output()[-3000:]}")
