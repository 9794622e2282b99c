"""An imported OpenAI-format response whose numbers came from the embedded model gives the same tokens,
probabilities and heatmap as analysing the answer directly (issue 17's check)."""
from __future__ import annotations

import json

import pytest

from backend.imports.analysis import import_logs
from backend.schemas.imports import ImportRequest
from backend.schemas import TextRequest
from backend.text.generation import analyze_text
from components.token_heatmap import token_heatmap_figure
from tests.backend.imports.logs import response_from_analysis

PROMPT = "Name the largest planet of the solar system in one word."
SAME_MEASURES = ("prob", "surprisal", "margin", "rank")


@pytest.fixture(scope="module")
def direct_and_imported(default_lm):
    direct = analyze_text(default_lm, TextRequest(prompt=PROMPT, max_new_tokens=12, top_k=20))
    log = json.dumps({**response_from_analysis(direct), "prompt": PROMPT})
    vocab = int(default_lm.model.config.vocab_size)
    imported = import_logs(None, ImportRequest(content=log, vocab_size=vocab, top_k=20)).groups[0].analysis.text
    return direct, imported


def test_the_same_tokens_probabilities_and_end_token(direct_and_imported):
    direct, imported = direct_and_imported
    assert len(direct.tokens) >= 3 and imported.generated_text == direct.generated_text
    assert [t.text for t in imported.tokens] == [t.text for t in direct.tokens]
    assert [t.special for t in imported.tokens] == [t.special for t in direct.tokens]
    assert [t.prob for t in imported.tokens] == pytest.approx([t.prob for t in direct.tokens], abs=1e-6)
    assert [t.logprob for t in imported.tokens] == [t.logprob for t in direct.tokens]
    assert [t.margin for t in imported.tokens] == pytest.approx([t.margin for t in direct.tokens], abs=1e-6)
    assert [[a.text for a in t.top_k] for t in imported.tokens] == [[a.text for a in t.top_k] for t in direct.tokens]


def test_every_exact_entropy_lies_within_the_imported_bounds(direct_and_imported):
    direct, imported = direct_and_imported
    for exact, bounded in zip(direct.tokens, imported.tokens):
        lower, upper = bounded.entropy_bounds
        assert lower - 1e-9 <= exact.entropy <= upper + 1e-9
    assert "midpoint of entropy_bounds" in imported.exactness_note


@pytest.mark.parametrize("measure", SAME_MEASURES)
def test_the_same_heatmap(direct_and_imported, measure):
    direct, imported = direct_and_imported
    assert all(t.rank is not None for t in imported.tokens)
    ours, theirs = (token_heatmap_figure(r.tokens, measure=measure).data[0] for r in (imported, direct))
    assert list(ours.marker.color) == pytest.approx(list(theirs.marker.color), abs=1e-6)
    assert list(ours.text) == list(theirs.text) and list(ours.base) == list(theirs.base)
