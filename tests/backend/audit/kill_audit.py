"""Run a digits audit one item per batch, printing each finished count, slowly enough to be killed mid-way.

Usage: python -m tests.backend.audit.kill_audit DATABASE_URL LIMIT
"""
from __future__ import annotations

import sys
import time

from backend.audit.runner import run_audit
from backend.audit.store import AuditStore
from backend.engine import Engine
from backend.schemas.audit import AuditRequest


def main() -> None:
    url, limit = sys.argv[1], int(sys.argv[2])
    request = AuditRequest(dataset="builtin-digits", methods=["softmax", "margin"], limit=limit, batch_size=1)

    def progress(done: int, total: int, _eta) -> None:
        print(done, flush=True)
        time.sleep(0.3)

    run_audit(request, Engine(device="cpu"), AuditStore(url), progress=progress)


if __name__ == "__main__":
    main()
