"""ccp and luq on imported logs: the claims of the logged answer judged by the embedding model (the logged top-k
alternatives for CCP, the group's other answers as LUQ's samples)."""
from __future__ import annotations

import json

import pytest

from backend.imports.analysis import import_logs
from backend.schemas import TextRequest
from backend.schemas.imports import ImportRequest
from backend.text.generation import analyze_text
from tests.backend.imports.logs import response_from_analysis

pytestmark = pytest.mark.slow
PROMPT = "Name the capital of France and one fact about it."


def test_imported_answers_get_claims_ccp_and_luq(engine, default_lm):
    direct = analyze_text(default_lm, TextRequest(prompt=PROMPT, max_new_tokens=24, top_k=5))
    line = json.dumps({**response_from_analysis(direct), "prompt": PROMPT})
    vocab = int(default_lm.model.config.vocab_size)
    group = import_logs(engine, ImportRequest(content=line + "\n" + line, vocab_size=vocab, top_k=5,
                                              methods=["ccp", "luq"])).groups[0]
    analysis = group.analysis
    assert analysis.claims and "embedding model" in analysis.claims_rule
    values = {s.name: s for s in analysis.scores}
    assert 0 < values["ccp"].value <= 1 and values["ccp"].details["alternatives_judged"] > 0
    assert values["luq"].value == pytest.approx(0.0, abs=1e-9)  # the one other answer says the same
