"""The peak memory of a long request stays within its bound: linear in tokens, not (T, V) logits in float64."""
from __future__ import annotations

import pytest

from backend.schemas import TextRequest
from bench.bench_request_budget import prompt_of
from bench.harness import call

pytestmark = pytest.mark.slow
PROMPT_TOKENS = 2048
# Measured 2026-12-02 (bench/bench_request_budget.py): 449 MiB for this request, 1,427 MiB by the unchunked pass.
# The bound: key-value cache (46 KiB a token), one 256-position chunk's logits and attention rows, the statistics'
# float64 buffers (a few MiB: backend.memory's budget), the answer's objects, and allocator slack.
PEAK_BOUND_MIB = 800


def test_a_2048_token_prompt_peaks_under_its_bound(engine, default_lm):
    prompt = prompt_of(default_lm, PROMPT_TOKENS)
    engine.analyze_text(TextRequest(prompt=prompt[:2000], max_new_tokens=1))  # pages the weights in
    _seconds, analysis, peak_mib = call(lambda: engine.analyze_text(TextRequest(prompt=prompt, max_new_tokens=1)),
                                        "cpu", memory=True)
    assert len(analysis.ids) > 1900
    assert peak_mib < PEAK_BOUND_MIB, f"peak {peak_mib:.0f} MiB"
