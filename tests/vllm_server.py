"""A real vLLM OpenAI-compatible server for tests: vLLM's CPU build from .venv-vllm (`make vllm`), serving a
local model folder on a free loopback port, started once and stopped (its whole process group) at the end.

UQLENS_TEST_VLLM_URL=http://127.0.0.1:PORT/v1 reuses a server already running (started with server_command),
so a developer pays vLLM's start-up once across test runs.

Start-up, measured on the 2-core machine with other work running (same load for each row, ready = /v1/models
answers): --enforce-eager 77 s, against 289 s without it (torch.compile of the model at start); the same
log-probabilities to 1.5e-6. VLLM_ENABLE_V1_MULTIPROCESSING=0 (engine and worker in the API server's process)
starts in 69 s but then answers 5x slower (vLLM's CPU build sets its OpenMP threads only in a worker process),
so it is not used. A first start after installing (cold disk cache) took 215 s.
"""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import httpx

ROOT = Path(__file__).resolve().parents[1]
VLLM_VENV = ROOT / ".venv-vllm"
VLLM_PYTHON = VLLM_VENV / "bin" / "python"
VLLM_INSTALLED = VLLM_VENV / ".installed"
SERVED_NAME = "smollm2"
REUSE_ENV = "UQLENS_TEST_VLLM_URL"
START_TIMEOUT_S = 600.0
STOP_TIMEOUT_S = 20.0
MAX_MODEL_LEN = 2048
# vLLM's CPU build sizes its key-value cache from this (GiB); the default (4) is more than a 135M model needs.
SERVER_ENV = {"VLLM_CPU_KVCACHE_SPACE": "1"}


class VllmMissingError(RuntimeError):
    """.venv-vllm is not there: the served-model tests cannot run (they are never skipped)."""


def require_vllm() -> Path:
    """The venv's python, or VllmMissingError saying to run `make vllm`."""
    if not VLLM_INSTALLED.is_file() or not VLLM_PYTHON.is_file():
        raise VllmMissingError(f"vLLM's CPU build is not installed in {VLLM_VENV} (no {VLLM_INSTALLED.name}); run "
                               f"`make vllm` once (about 5 minutes) before the served-model tests")
    return VLLM_PYTHON


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def server_command(model_dir: Path, port: int, python: Path = VLLM_PYTHON) -> list[str]:
    """The command that serves model_dir as SERVED_NAME on 127.0.0.1:port (CPU, fp32, eager: no compile)."""
    return [str(python), "-m", "vllm.entrypoints.openai.api_server", "--model", str(model_dir),
            "--served-model-name", SERVED_NAME, "--host", "127.0.0.1", "--port", str(port),
            "--dtype", "float32", "--max-model-len", str(MAX_MODEL_LEN), "--enforce-eager",
            "--max-logprobs", "20", "--disable-log-stats"]


def wait_ready(base_url: str, process: subprocess.Popen, log_path: Path, timeout_s: float) -> float:
    """Poll base_url/models until it answers 200; the seconds it took. RuntimeError with the log's tail when
    the server exits or the time runs out."""
    started = time.monotonic()
    while time.monotonic() - started < timeout_s:
        if process.poll() is not None:
            raise RuntimeError(f"vLLM exited with {process.returncode} while starting:\n{tail(log_path)}")
        try:
            if httpx.get(f"{base_url}/models", timeout=2.0).status_code == 200:
                return time.monotonic() - started
        except httpx.HTTPError:
            pass
        time.sleep(1.0)
    raise RuntimeError(f"vLLM did not answer {base_url}/models within {timeout_s:g} s:\n{tail(log_path)}")


def tail(path: Path, lines: int = 40) -> str:
    """The last lines of a log file."""
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:]) if path.is_file() else "(no log)"


def stop(process: subprocess.Popen) -> None:
    """SIGTERM the server's process group (vLLM forks an engine core), SIGKILL what is left after a while."""
    if process.poll() is not None:
        return
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(STOP_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(STOP_TIMEOUT_S)
    except ProcessLookupError:
        pass


@contextmanager
def vllm_server(model_dir: Path, timeout_s: float = START_TIMEOUT_S) -> Iterator[str]:
    """Serve model_dir with vLLM for the duration of the block; yields the base URL (ending /v1)."""
    if os.environ.get(REUSE_ENV):
        yield os.environ[REUSE_ENV].rstrip("/")
        return
    python = require_vllm()
    port = free_port()
    base_url = f"http://127.0.0.1:{port}/v1"
    log_path = Path(tempfile.mkdtemp(prefix="uqlens-vllm-")) / "server.log"
    with log_path.open("w") as log:
        process = subprocess.Popen(server_command(model_dir, port, python), stdout=log, stderr=subprocess.STDOUT,
                                   stdin=subprocess.DEVNULL, start_new_session=True,
                                   env={**os.environ, **SERVER_ENV})
    try:
        wait_ready(base_url, process, log_path, timeout_s)
        yield base_url
    finally:
        stop(process)
