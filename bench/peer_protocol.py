"""A peer that runs in its own virtual environment (its pins conflict with the app's), driven from the bench's
process over a pipe: one JSON object a line. Standard library only, so that both sides import it.

The bench (in .venv-bench) writes UQ Lens's evidence as JSON and starts `PEER_PYTHON bench/<peer>_worker.py FILE`;
the worker builds its operations from that evidence and answers on its standard output:
    {"ready": true, "version": "...", "unavailable": {operation: why}}       once, after loading
    request {"run": operation}  ->  {"seconds": s, "value": ...}            the operation timed once, in its process
    request {"quit": true}      ->  the worker exits
Times are read inside the worker (time.perf_counter around the call), so the pipe's round trip is not counted.
Everything the peer prints goes to standard error, so that it cannot break the protocol.
"""
from __future__ import annotations

import json
import math
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Callable, Mapping, Optional

Operation = Callable[[], Any]


def jsonable(value: Any) -> Any:
    """value with numpy scalars and arrays, tuples and non-finite floats made JSON-safe (lists, floats, None for
    NaN and +-inf: JSON has no such numbers)."""
    if hasattr(value, "tolist"):
        value = value.tolist()
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    return value


def timed(operation: Operation) -> dict[str, Any]:
    """{"seconds": wall seconds of one call, "value": its JSON-safe output}."""
    started = time.perf_counter()
    value = operation()
    return {"seconds": time.perf_counter() - started, "value": jsonable(value)}


def answer(request: Mapping[str, Any], operations: Mapping[str, Operation]) -> Optional[dict[str, Any]]:
    """The worker's reply to one request (None: quit). An operation that fails answers {"error": ...}."""
    if request.get("quit"):
        return None
    name = request.get("run")
    if name not in operations:
        return {"error": f"no operation {name!r} here; known: {sorted(operations)}"}
    try:
        return timed(operations[name])
    except Exception as exc:  # the peer's failure is reported to the bench, which shows it in the row
        return {"error": f"{type(exc).__name__}: {exc}"}


def serve(build: Callable[[dict[str, Any]], tuple[dict[str, Operation], dict[str, str], str]]) -> int:
    """The worker's main: build(evidence from the file in argv[1]) -> (operations, unavailable, peer version);
    then answer requests from standard input until quit or end of input."""
    protocol, sys.stdout = sys.stdout, sys.stderr  # the peer's own prints must not reach the protocol
    evidence = json.loads(Path(sys.argv[1]).read_text())
    operations, unavailable, version = build(evidence)
    protocol.write(json.dumps({"ready": True, "version": version, "unavailable": unavailable}) + "\n")
    protocol.flush()
    for line in sys.stdin:
        reply = answer(json.loads(line), operations)
        if reply is None:
            break
        protocol.write(json.dumps(reply) + "\n")
        protocol.flush()
    return 0


class PeerProcess:
    """The bench's side: a worker started under another venv's Python, asked to run operations one at a time."""

    def __init__(self, python: Path, script: Path, evidence_file: Path, env: Optional[Mapping[str, str]] = None):
        self.process = subprocess.Popen([str(python), str(script), str(evidence_file)], stdin=subprocess.PIPE,
                                        stdout=subprocess.PIPE, text=True, env=dict(env) if env else None)
        self.hello = self.read()
        if not self.hello.get("ready"):
            raise RuntimeError(f"{script.name} did not start: {self.hello}")

    def read(self) -> dict[str, Any]:
        """The worker's next reply line."""
        line = self.process.stdout.readline() if self.process.stdout else ""
        if not line:
            raise RuntimeError(f"the peer's worker ended (exit status {self.process.wait()}); its standard error "
                               "above says why")
        return json.loads(line)

    def run(self, operation: str) -> dict[str, Any]:
        """{"seconds", "value"} of one timed call of operation in the worker (RuntimeError with its error)."""
        self.process.stdin.write(json.dumps({"run": operation}) + "\n")
        self.process.stdin.flush()
        reply = self.read()
        if "error" in reply:
            raise RuntimeError(f"{operation}: {reply['error']}")
        return reply

    def close(self) -> None:
        """Ask the worker to quit and wait for it."""
        if self.process.poll() is None:
            self.process.stdin.write(json.dumps({"quit": True}) + "\n")
            self.process.stdin.close()
            self.process.wait(timeout=60)


def missing_venv(python: Path, target: str) -> str:
    """"" when the peer's venv Python exists, else the reason its rows are unavailable (how to build it)."""
    return "" if python.exists() else f"{python} is missing: `make {target}` builds that venv"

