"""python -m backend audit on a served model whose engine cannot be reached: the error names the server and the
items kept, says that running the same audit again resumes, and exits 4 without a traceback."""
from __future__ import annotations

from types import SimpleNamespace

import numpy as np

from backend.cli import main
from backend.cli.audit import EXIT_UNAVAILABLE
from backend.models import pool as pool_module

DEAD_URL = "http://127.0.0.1:9/v1"  # the discard port: nothing listens, a connection is refused at once


def test_an_unreachable_engine_is_a_clear_error_and_exit_4(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("UQLENS_TEXT_MODELS", f"gone=openai+{DEAD_URL}#m&vocab_size=100")
    monkeypatch.setenv("UQLENS_DATABASE_URL", f"sqlite:///{tmp_path}/audit.sqlite")
    monkeypatch.setitem(pool_module.LOADERS, "embedding", lambda spec, *_: SimpleNamespace(
        spec=spec, embed=lambda texts: np.ones((len(texts), 4), dtype=np.float32)))  # grading is not under test
    status = main(["audit", "--model", "gone", "--limit", "3", "--concurrency", "2"])
    err = capsys.readouterr().err
    assert status == EXIT_UNAVAILABLE == 4
    assert f"error: cannot reach the server of 'm' at {DEAD_URL} (ConnectError)" in err
    assert "The audit of 'gone' stopped: 0 of 3 items are kept" in err and "run the same audit again" in err
    assert "Traceback" not in err
