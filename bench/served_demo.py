"""The class-demo case of bench/bench_served.py: U users of the Text page at once, through the HTTP service.

`python -m backend serve` runs as a subprocess with the environment of one side (its own database, its admission
limits); U client threads (each its own backend.clients.http.HttpClient, as each browser session has) start
together and each sends its own prompts one after another, each a greedy TextRequest as the Text page sends it.
A refused request (429, the service busy) waits the Retry-After (at most 1 s) and is sent again, as a user would
click again; its latency counts from the first click, and the refusals are reported.
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, Mapping, Sequence

import httpx

from served_measure import Latency, latency_summary

ROOT = Path(__file__).resolve().parent.parent
READY_TIMEOUT_S = 600.0
STOP_TIMEOUT_S = 20.0
MAX_RETRY_WAIT_S = 1.0


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now."""
    import socket

    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def log_tail(path: Path, lines: int = 30) -> str:
    """The last lines of a log file."""
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:]) if path.is_file() else "(no log)"


@contextmanager
def service(env: Mapping[str, str], python: str = sys.executable) -> Iterator[str]:
    """`python -m backend serve` on a free loopback port with os.environ updated by env, for the block; yields its
    base URL once /readyz answers 200 (RuntimeError with the log's tail when it exits or takes too long)."""
    port = free_port()
    log_path = Path(tempfile.mkdtemp(prefix="uqlens-bench-serve-")) / "serve.log"
    with log_path.open("w") as log:
        process = subprocess.Popen([python, "-m", "backend", "serve", "--port", str(port)], cwd=ROOT,
                                   stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                   start_new_session=True, env={**os.environ, **env})
    base_url = f"http://127.0.0.1:{port}"
    try:
        started = time.monotonic()
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"the service exited with {process.returncode}:\n{log_tail(log_path)}")
            try:
                if httpx.get(f"{base_url}/readyz", timeout=2.0).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() - started > READY_TIMEOUT_S:
                raise RuntimeError(f"the service was not ready within {READY_TIMEOUT_S:g} s:\n{log_tail(log_path)}")
            time.sleep(0.5)
        yield base_url
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(STOP_TIMEOUT_S)


@dataclass(frozen=True)
class DemoRun:
    """One load run: its Latency figures, the 429 refusals retried, and the first error a user hit ("" if none)."""

    latency: Latency
    refusals: int
    error: str


def user_prompts(prompts: Sequence[str], users: int, per_user: int) -> list[list[str]]:
    """Distinct prompts for each user (user u's j-th is prompts[(u * per_user + j) % len(prompts)])."""
    return [[prompts[(u * per_user + j) % len(prompts)] for j in range(per_user)] for u in range(users)]


def run_users(base_url: str, model: str, prompts: list[list[str]], max_new_tokens: int) -> DemoRun:
    """len(prompts) users at once, each sending its prompts in turn (greedy TextRequests of max_new_tokens);
    the DemoRun of the whole run, from the moment all users start to the last answer."""
    from backend.clients.http import HttpClient
    from backend.errors import BackendBusyError
    from backend.schemas import TextRequest

    latencies: list[float] = []
    refusals, errors = [0], []
    lock = threading.Lock()
    start = threading.Barrier(len(prompts) + 1)

    def user(own: list[str]) -> None:
        client = HttpClient(base_url)
        start.wait()
        for prompt in own:
            request = TextRequest(model=model, prompt=prompt, max_new_tokens=max_new_tokens)
            clicked = time.perf_counter()
            while True:
                try:
                    client.analyze_text(request)
                    break
                except BackendBusyError as busy:
                    with lock:
                        refusals[0] += 1
                    time.sleep(min(busy.retry_after_s, MAX_RETRY_WAIT_S))
                except Exception as exc:  # a failed user is reported, not hidden behind the other users' figures
                    with lock:
                        errors.append(f"{type(exc).__name__}: {exc}")
                    return
            with lock:
                latencies.append(time.perf_counter() - clicked)

    threads = [threading.Thread(target=user, args=(own,), daemon=True) for own in prompts]
    for thread in threads:
        thread.start()
    start.wait()
    began = time.perf_counter()
    for thread in threads:
        thread.join()
    seconds = time.perf_counter() - began
    if not latencies:
        raise RuntimeError(f"no user got an answer: {errors[0] if errors else 'unknown'}")
    return DemoRun(latency_summary(latencies, seconds), refusals[0], errors[0] if errors else "")
