"""bench/bench_ig_chat.py's captum side: the positional TextTokenInput replaces exactly the user's words, and
captum's LLMGradientAttribution on it equals UQ Lens's prompt_space integrated gradients (same path, same nodes,
so the same scores and the same convergence delta)."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))

import bench_ig_chat  # noqa: E402  (bench/ must be importable first, as when the scripts run)
import captum.attr as captum_attr  # noqa: E402
from backend.schemas import TextRequest  # noqa: E402
from backend.schemas.text_saliency import TextSaliencyRequest  # noqa: E402
from backend.text.generation import analyze_text  # noqa: E402
from backend.text.saliency import text_saliency  # noqa: E402


@pytest.fixture(scope="module")
def chat(tiny_lm):
    return analyze_text(tiny_lm, TextRequest(model="tiny-random", prompt="Tell me a story about a fox.",
                                             answer=" A fox ran.", chat_template=True))


def test_the_positional_input_replaces_only_the_marked_positions(tiny_lm, chat):
    prompt = chat.ids[:chat.answer_start]
    text = tiny_lm.tokenizer.decode(prompt)
    replaced = [p % 3 == 1 for p in range(len(prompt))]
    given = bench_ig_chat.positional_input(captum_attr, text, tiny_lm.tokenizer, 7, replaced)
    off = torch.zeros(1, given.n_itp_features)
    assert given.to_model_input(off)[0].tolist() == [7 if r else i for r, i in zip(replaced, prompt)]
    with pytest.raises(ValueError, match="prompt tokens"):
        bench_ig_chat.positional_input(captum_attr, text, tiny_lm.tokenizer, 7, replaced[:-1])


def test_captum_on_the_same_path_gives_uq_lens_scores_and_delta(tiny_lm, chat):
    uq = text_saliency(tiny_lm, TextSaliencyRequest(
        model=chat.model, ids=chat.ids, answer_start=chat.answer_start, method="integrated_gradients",
        parameters={"steps": 8, "baseline": "prompt_space"}, normalisation="none"))
    replaced = bench_ig_chat.users_words(chat, uq.tokens)
    assert any(replaced) and not all(replaced)
    space = tiny_lm.tokenizer(" ", add_special_tokens=False)["input_ids"][-1]
    given = bench_ig_chat.positional_input(captum_attr, tiny_lm.tokenizer.decode(chat.ids[:chat.answer_start]),
                                           tiny_lm.tokenizer, space, replaced)
    attribution = captum_attr.LLMGradientAttribution(
        captum_attr.LayerIntegratedGradients(tiny_lm.model, tiny_lm.model.get_input_embeddings()), tiny_lm.tokenizer)
    result = attribution.attribute(given, target=torch.tensor(chat.ids[chat.answer_start:]), n_steps=8)
    agreement = bench_ig_chat.prompt_columns(chat, replaced)(uq, result)
    assert agreement.max_abs_difference < 1e-5
    uq_deltas = [abs(r.convergence_delta) / abs(r.target_value - r.baseline_value) for r in uq.rows]
    assert bench_ig_chat.captum_deltas(uq, result) == pytest.approx(uq_deltas, rel=1e-3, abs=1e-5)
