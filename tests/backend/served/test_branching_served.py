"""Branching on a served model against the real vLLM: a branch of the served analysis (prefix_ids) continues
through /v1/completions after the forced ids, its forced token gets the probability the parent's served analysis
listed for that alternative, and the whole branch equals the in-process analysis of the same request; a text
prefix works too; a generic OpenAI server is refused with a clear message."""
from __future__ import annotations

import pytest

from backend.errors import UserInputError
from backend.schemas import TextRequest
from backend.schemas.branches import branch_request, fork_at, new_tree
from backend.served.calls import continue_ids
from backend.served.config import ServedModel
from backend.served.http import OpenAIClient
from tests.backend.served.test_against_vllm import LOGPROB_TOL
from tests.backend.served.test_text_pipeline import SERVED_ID, served_engine  # noqa: F401  (the fixture)

pytestmark = [pytest.mark.vllm, pytest.mark.slow]
PROMPT = "What is the capital of France?"
STEP = 4


def test_a_served_branch_forces_the_alternative_with_the_parent_probability(served_engine, engine):  # noqa: F811
    request = TextRequest(model=SERVED_ID, prompt=PROMPT, max_new_tokens=10)
    parent = served_engine.analyze_text(request)
    tree = new_tree(request, parent)
    alternative = next(a for a in parent.tokens[STEP].top_k if a.id != parent.tokens[STEP].id)
    child = branch_request(tree.nodes[0], fork_at(tree.nodes[0], STEP, alternative))
    assert child.prefix_ids == [t.id for t in parent.tokens[:STEP]] + [alternative.id]
    branch = served_engine.analyze_text(child)
    forced = branch.tokens[STEP]
    assert (forced.id, forced.forced, branch.engine) == (alternative.id, True, "vllm")
    assert forced.prob == pytest.approx(alternative.prob, abs=LOGPROB_TOL)
    assert [t.forced for t in branch.tokens] == [True] * (STEP + 1) + [False] * (len(branch.tokens) - STEP - 1)
    local = engine.analyze_text(child.model_copy(update={"model": "smollm2-135m-instruct"}))
    assert [t.id for t in branch.tokens] == [t.id for t in local.tokens[:len(branch.tokens)]]
    assert [t.logprob for t in branch.tokens] == pytest.approx([t.logprob for t in local.tokens[:len(branch.tokens)]],
                                                               abs=LOGPROB_TOL)
    assert branch.generated_text == local.generated_text
    assert branch.ids[:branch.answer_start] == parent.ids[:parent.answer_start]


def test_a_served_text_prefix_is_tokenised_by_the_engine(served_engine, engine):  # noqa: F811
    served = served_engine.analyze_text(TextRequest(model=SERVED_ID, prompt=PROMPT, max_new_tokens=4,
                                                    prefix="The capital is Lyon"))
    local = engine.analyze_text(TextRequest(prompt=PROMPT, max_new_tokens=4, prefix="The capital is Lyon"))
    assert [t.id for t in served.tokens] == [t.id for t in local.tokens]
    assert [t.forced for t in served.tokens] == [t.forced for t in local.tokens]
    assert served.generated_text.startswith("The capital is Lyon")


def test_a_generic_server_cannot_continue_and_says_so():
    client = OpenAIClient(ServedModel(location="http://127.0.0.1:9/v1", model="m", vocab_size=10, engine="openai"))
    with pytest.raises(UserInputError, match="cannot continue an answer from a prefix"):
        continue_ids(client, [1, 2], max_tokens=2, temperature=0.0, top_p=1.0, seed=0)
