"""Side by side on the real default model: two temperatures, with and without the chat template; the cross-scores
equal scoring the other answer directly; a served (vLLM) side beside the in-process one; the CLI and the route."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from backend.compare.alignment import text_logprob
from backend.engine import Engine
from backend.models.registry import build_registry
from backend.schemas import TextRequest
from backend.schemas.compare import TextComparison, TextComparisonRequest
from backend.service.cost import comparison_cost, text_cost
from tests.backend.served.test_against_vllm import LOGPROB_TOL
from tests.vllm_server import SERVED_NAME

ROOT = Path(__file__).resolve().parents[3]
PROMPT = "Name a colour."


def request(**second) -> TextComparisonRequest:
    return TextComparisonRequest(first=TextRequest(prompt=PROMPT, max_new_tokens=6),
                                 second=TextRequest(prompt=PROMPT, max_new_tokens=6, **second))


def test_each_side_scores_the_others_answer_exactly_as_scoring_it_directly(engine):
    compared = request(temperature=0.5, chat_template=False)
    result = engine.compare_text(compared)
    for side, scorer in ((result.first, compared.second), (result.second, compared.first)):
        direct = engine.analyze_text(scorer.model_copy(update={"answer": side.analysis.generated_text}))
        assert [t.logprob for t in side.scored_by_other.tokens] == [t.logprob for t in direct.tokens]
        assert side.scored_by_other.temperature == scorer.temperature
        assert side.other_logprob == pytest.approx(text_logprob(direct.tokens))
        assert side.alignment == "tokens"
        texts = [d for d in side.differences if not side.analysis.tokens[d.index].special]
        assert [d.other_logprob for d in texts] == pytest.approx([t.logprob for t in direct.tokens if not t.special])
        assert all(d.difference == pytest.approx(d.own_logprob - d.other_logprob) for d in texts)


def test_the_same_settings_on_both_sides_agree_token_for_token(engine):
    result = engine.compare_text(request())
    assert result.first.analysis.generated_text == result.second.analysis.generated_text
    assert all(abs(d.difference) < 1e-6 for d in result.first.differences if d.difference is not None)


def test_different_prompts_are_refused_with_what_to_change():
    with pytest.raises(ValueError, match="same prompt"):
        TextComparisonRequest(first=TextRequest(prompt="a"), second=TextRequest(prompt="b"))


def test_the_cost_counts_both_answers_and_both_cross_scores():
    compared = request()
    assert comparison_cost(compared) > text_cost(compared.first) + text_cost(compared.second)


@pytest.mark.slow
def test_the_cli_prints_the_comparison_as_json():
    done = subprocess.run([sys.executable, "-m", "backend", "compare", PROMPT, "--temperatures", "1", "0.7",
                           "--chat-template", "on", "off", "--max-new-tokens", "4", "--json"],
                          cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    result = TextComparison.model_validate(json.loads(done.stdout))
    assert (result.first.analysis.chat_template, result.second.analysis.chat_template) == (True, False)
    assert result.second.analysis.temperature == 0.7 and result.first.differences
    bad = subprocess.run([sys.executable, "-m", "backend", "compare", PROMPT, "--models", "a", "b", "c"],
                         cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert bad.returncode == 2 and "one value (both sides) or two" in bad.stderr


@pytest.mark.vllm
@pytest.mark.slow
def test_a_served_side_beside_the_in_process_one(vllm_url, default_vocab_size, engine):
    registry = build_registry({"UQLENS_TEXT_MODELS": f"served-smollm2=openai+{vllm_url}#{SERVED_NAME}"
                                                     f"&vocab_size={default_vocab_size}"})
    served_engine = Engine(registry, cache_dir=engine.cache_dir, device="cpu")
    result = served_engine.compare_text(TextComparisonRequest(
        first=TextRequest(prompt=PROMPT, max_new_tokens=6),
        second=TextRequest(model="served-smollm2", prompt=PROMPT, max_new_tokens=6)))
    assert result.second.analysis.engine == "vllm" and result.first.analysis.engine == "in-process"
    assert result.first.analysis.generated_text == result.second.analysis.generated_text
    assert all(abs(d.difference) < LOGPROB_TOL for side in (result.first, result.second)
               for d in side.differences if d.difference is not None)
