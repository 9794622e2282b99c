"""Relative confidence: the seeded pairing, the Bradley-Terry fit (hand-computed cases and scipy.optimize on the
same log-likelihood), reading a preference from a constructed first-token distribution (in-process) and from a
served top-k, the refusals, and audits that rank their items by it (stand-in and real default models)."""
from __future__ import annotations

import math
from collections import Counter
from types import SimpleNamespace

import numpy as np
import pytest
import torch
from scipy.optimize import minimize
from scipy.special import expit, log_expit

from backend.audit import qa_items, runner
from backend.audit.grading import Verdict
from backend.audit.methods import audit_method_catalog, cannot_run, relative_method
from backend.audit.store import AuditStore
from backend.decisions import relative_asking as asking
from backend.decisions import relative_confidence as rel
from backend.decisions.relative_cost import count_passes, estimate_relative_cost, format_cost
from backend.engine import Engine
from backend.errors import UserInputError
from backend.models import pool as pool_module
from backend.models.registry import ModelSpec
from backend.models.text_loader import LoadedTextModel
from backend.schemas.audit import AuditItem, AuditRequest
from backend.served.evidence import Alternative

METHODS = ["mean_logprob", "relative_confidence"]


# --- pairing -------------------------------------------------------------------------------------------------------

def test_each_question_asks_its_successor_in_each_seeded_cycle_and_takes_part_about_m_times():
    total, seed = 30, 7
    orders = rel.cyclic_orders(total, seed, rel.rounds_for(rel.COMPARISONS))
    assert len(orders) == 2 and all(sorted(order) == list(range(total)) for order in orders)
    taking_part = Counter()
    for index in range(total):
        partners = rel.partner_indices(index, total, seed)
        successors = [order[(order.index(index) + 1) % total] for order in orders]
        assert partners == list(dict.fromkeys(successors)) and index not in partners
        taking_part.update([index] * len(partners) + partners)
    assert all(count <= rel.COMPARISONS for count in taking_part.values())
    assert np.mean(list(taking_part.values())) >= rel.COMPARISONS - 0.5  # a repeated pair is asked once


def test_the_pairing_is_deterministic_and_depends_only_on_seed_and_total():
    first = [rel.partner_indices(i, 12, 3) for i in range(12)]
    assert first == [rel.partner_indices(i, 12, 3) for i in reversed(range(12))][::-1]
    rel.cyclic_orders.cache_clear()
    assert first == [rel.partner_indices(i, 12, 3) for i in range(12)]
    assert first != [rel.partner_indices(i, 12, 4) for i in range(12)]
    assert [rel.partner_indices(i, 2, 0) for i in range(2)] == [[1], [0]]
    with pytest.raises(ValueError, match="at least 2"):
        rel.partner_indices(0, 1, 0)


def test_passes_are_counted_from_the_pairing():
    comparisons, passes = count_passes(list(range(10)), 10, 0)
    assert comparisons == sum(len(rel.partner_indices(i, 10, 0)) for i in range(10))
    assert passes == 2 * comparisons and 10 <= comparisons <= 20


# --- the Bradley-Terry fit -----------------------------------------------------------------------------------------

def penalized_negative_log_likelihood(theta, first, second, wins, prior_draws):
    """The objective the MM fit maximises, written out independently: the comparisons' Bradley-Terry
    log-likelihood plus prior_draws draws of every node against a reference of strength 0."""
    diff = theta[first] - theta[second]
    data = np.sum(wins * log_expit(diff) + (1 - wins) * log_expit(-diff))
    prior = prior_draws * np.sum(0.5 * log_expit(theta) + 0.5 * log_expit(-theta))
    return -(data + prior)


def penalized_gradient(theta, first, second, wins, prior_draws):
    """Its gradient (n,), written out: each comparison pushes its winner up by w - sigmoid(theta_a - theta_b)."""
    push = wins - expit(theta[first] - theta[second])
    gradient = np.bincount(first, push, len(theta)) - np.bincount(second, push, len(theta))
    return -(gradient + prior_draws * (0.5 - expit(theta)))


def test_two_questions_one_comparison_give_its_log_odds():
    theta = rel.fit_bradley_terry(np.array([0]), np.array([1]), np.array([0.8]), 2, prior_draws=0)
    assert theta == pytest.approx([math.log(2), -math.log(2)], abs=1e-9)  # theta_0 - theta_1 = logit(0.8) = ln 4


def test_consistent_win_probabilities_are_recovered_exactly():
    truth = np.array([0.7, 0.0, -0.7])
    first, second = np.array([0, 0, 1]), np.array([1, 2, 2])
    wins = expit(truth[first] - truth[second])  # 0.668, 0.802, 0.668
    theta = rel.fit_bradley_terry(first, second, wins, 3, prior_draws=0)
    assert theta == pytest.approx(truth, abs=1e-8)


def test_the_fit_with_prior_draws_is_the_maximum_scipy_finds():
    rng = np.random.default_rng(0)
    n = 12
    first = np.concatenate([np.arange(n), rng.integers(0, n, 20)])
    second = np.concatenate([(np.arange(n) + 1) % n, rng.integers(0, n, 20)])
    keep = first != second
    first, second = first[keep], second[keep]
    wins = rng.uniform(0, 1, len(first))
    wins[:3] = [1.0, 1.0, 0.0]  # hard outcomes too
    theta = rel.fit_bradley_terry(first, second, wins, n, prior_draws=1.0)
    reference = minimize(penalized_negative_log_likelihood, np.zeros(n), args=(first, second, wins, 1.0),
                         jac=penalized_gradient, method="BFGS", options={"gtol": 1e-12}).x
    assert theta == pytest.approx(reference, abs=1e-6)


def test_an_unbeaten_question_stays_finite_with_the_prior_and_is_refused_without():
    theta = rel.fit_bradley_terry(np.array([0, 0]), np.array([1, 2]), np.array([1.0, 1.0]), 3)
    assert np.all(np.isfinite(theta)) and theta[0] > 0 > theta[1] and theta[1] == pytest.approx(theta[2])
    with pytest.raises(ValueError, match="must win some share"):
        rel.fit_bradley_terry(np.array([0]), np.array([1]), np.array([1.0]), 2, prior_draws=0)


def item(index, comparisons=None, correct=True, **scores):
    return AuditItem(index=index, id=f"q{index}", question=f"question {index}", answers=["x"], answer="x",
                     correct=correct, grading="alias", scores=scores, comparisons=comparisons)


def test_scores_come_from_every_kept_comparison_partners_included():
    items = [item(0, {"1": 0.9, "5": 0.6}), item(1, {"0": 0.3}), item(2), item(3, None)]
    scores = rel.relative_scores(items)
    # nodes 0, 1, 5 (question 5 is a partner only; 2 and 3 took part in nothing)
    theta = rel.fit_bradley_terry(np.array([0, 0, 1]), np.array([1, 2, 0]), np.array([0.9, 0.6, 0.3]), 3)
    assert scores == {0: pytest.approx(theta[0]), 1: pytest.approx(theta[1]), 2: None, 3: None}
    ranked = rel.with_relative_scores(items)
    assert [i.scores["relative_confidence"] for i in ranked] == [scores[i.index] for i in items]
    assert items[0].scores == {}  # copies: the kept items are not changed
    assert rel.relative_scores([item(0), item(1)]) == {0: None, 1: None}


def test_an_item_kept_before_comparisons_existed_is_still_read():
    payload = item(0).model_dump()
    del payload["comparisons"]
    assert AuditItem.model_validate(payload).comparisons is None


# --- reading a preference ------------------------------------------------------------------------------------------

def test_preferences_from_two_letters_and_both_orders():
    assert rel.preference(0.3, 0.1) == pytest.approx(0.75) and rel.preference(0.0, 0.0) is None
    assert rel.debiased(0.9, 0.8) == pytest.approx(0.55)  # picked 0.9 as A, 0.2 as B
    assert rel.debiased(0.9, 0.9) == pytest.approx(0.5)  # a model that always says A prefers neither
    assert rel.debiased(0.9, None) is None


def test_letters_from_a_served_top_k():
    top = [("A", 0.5), (" B", 0.2), ("B", 0.1), ("A", 0.06), ("The", 0.05)]
    assert rel.letters_from_top(top) == (pytest.approx(0.5), pytest.approx(0.3))
    only_a = [("A", 0.6), ("The", 0.3), ("x", 0.05)]  # B is at most min(0.05, 1 - 0.95)
    assert rel.letters_from_top(only_a) == (pytest.approx(0.6), pytest.approx(0.05))
    with pytest.raises(ValueError, match="neither A nor B"):
        rel.letters_from_top([("The", 0.9)])


class FixedLogits(torch.nn.Module):
    """A stand-in causal LM whose next-token logits are always `last` (V,)."""

    def __init__(self, last: torch.Tensor):
        super().__init__()
        self.last, self.config = last, SimpleNamespace(max_position_embeddings=2048)

    def forward(self, input_ids, attention_mask=None, position_ids=None):
        return SimpleNamespace(logits=self.last.expand(input_ids.shape[0], input_ids.shape[1], -1))


def test_the_in_process_reading_sums_the_letters_spellings_over_the_full_softmax(default_tokenizer):
    ids = {word: default_tokenizer(word, add_special_tokens=False)["input_ids"] for word in ("A", " A", "B", "The")}
    assert all(len(v) == 1 for v in ids.values())
    last = torch.full((len(default_tokenizer),), -1e9)
    for word, mass in (("A", 3.0), (" A", 1.0), ("B", 1.0), ("The", 5.0)):
        last[ids[word][0]] = math.log(mass)  # softmax: A 4/10, B 1/10, The 5/10
    lm = LoadedTextModel(ModelSpec("fixed", "text", "hf", "(in memory)", "fixed logits", chat=True),
                         FixedLogits(last), default_tokenizer, "cpu")
    assert asking.ask_in_process(lm, ["Question A: x\nQuestion B: y", "short"]) == [pytest.approx(0.8)] * 2


def test_a_batch_of_prompts_reads_what_each_prompt_reads_alone(tiny_lm):
    prompts = asking.pair_prompts(["What is the capital of France?", "Who wrote Hamlet?"], 0, [1])
    together = asking.first_token_probs(tiny_lm, prompts)
    for row, prompt in zip(together, prompts):
        assert torch.allclose(row, asking.first_token_probs(tiny_lm, [prompt])[0], atol=1e-6)


def test_the_served_reading_uses_the_first_reply_tokens_top_20(monkeypatch):
    asked = []

    def generate(client, messages, **options):
        asked.append((messages[0]["content"], options))
        first = "A" if messages[0]["content"].startswith("Question A: who") else "B"
        top = (Alternative(first, math.log(0.6)), Alternative("B" if first == "A" else "A", math.log(0.2)))
        return SimpleNamespace(samples=[SimpleNamespace(tokens=[SimpleNamespace(top=top)])])

    monkeypatch.setattr(asking, "generate", generate)
    shares = asking.item_comparisons(lambda prompts: asking.ask_served(SimpleNamespace(client=None), prompts),
                                     ["who", "what", "where"], 0, seed=0)
    assert shares and all(share == pytest.approx(0.75) for share in shares.values())  # 0.6 / 0.8 in both orders
    assert all(options == dict(max_tokens=1, temperature=0.0, top_logprobs=20) for _, options in asked)
    assert len(asked) == 2 * len(shares)


# --- refusals and the catalog --------------------------------------------------------------------------------------

def test_relative_confidence_is_refused_where_the_data_or_model_cannot_give_it():
    with pytest.raises(UserInputError, match="needs a question audit"):
        runner.plan_audit(AuditRequest(dataset="builtin-digits", methods=["softmax", "relative_confidence"]))
    with pytest.raises(UserInputError, match="at least 2 questions"):
        runner.plan_audit(AuditRequest(methods=METHODS, limit=1))
    assert "token log-probabilities" in cannot_run(relative_method(), ["score_given_answer"])
    assert cannot_run(relative_method(), ["token_logprobs"]) == ""


def test_a_precomputed_column_of_that_name_is_just_a_column(tmp_path):
    path = tmp_path / "scores.csv"
    path.write_text("id,correct,relative_confidence\n" + "".join(f"r{i},{i % 2},{i / 10}\n" for i in range(6)))
    request = AuditRequest(dataset=str(path), methods=["relative_confidence"])
    result = runner.run_audit(request, None, AuditStore(f"sqlite:///{tmp_path}/given.sqlite"))
    assert [i.scores["relative_confidence"] for i in result.items] == [i / 10 for i in range(6)]
    assert "relative_confidence" not in result.extra


def test_the_catalog_offers_it_for_questions():
    entry = next(m for m in audit_method_catalog().methods if m.name == "relative_confidence")
    assert (entry.kind, entry.default, entry.higher_is, entry.is_probability) == ("text", False, "confident", False)
    assert entry.requires == ["token_logprobs"] and "Shrivastava" in entry.paper


# --- audits --------------------------------------------------------------------------------------------------------

def stand_in_grade(answer, aliases, embed, threshold, question):
    """Right on the capital questions (the tiny model's answers are noise): 4 right and 2 wrong of the first 6."""
    return Verdict(correct="capital" in question, grading="alias", similarity=None, reason="stand-in")


def stopping_after(batches: int):
    calls = []
    return lambda: calls.append(1) or len(calls) > batches


@pytest.fixture
def tiny_engine(tmp_path, monkeypatch, tiny_lm, tiny_embedder) -> Engine:
    """An engine whose text and embedding models are the session's tiny random ones, grading a stand-in."""
    monkeypatch.setitem(pool_module.LOADERS, "text", lambda spec, *_: tiny_lm)
    monkeypatch.setitem(pool_module.LOADERS, "embedding", lambda spec, *_: tiny_embedder)
    monkeypatch.setattr(qa_items, "grade", stand_in_grade)
    return Engine(cache_dir=tmp_path, device="cpu")


def audit_twice(engine: Engine, request: AuditRequest, folder) -> tuple:
    """(straight through, stopped after one batch then resumed) results, each in a store of its own."""
    straight = runner.run_audit(request, engine, AuditStore(f"sqlite:///{folder}/straight.sqlite"))
    store = AuditStore(f"sqlite:///{folder}/resumed.sqlite")
    partial = runner.run_audit(request, engine, store, should_stop=stopping_after(1))
    assert partial.n == request.batch_size and not partial.extra["complete"]
    assert all(i.scores["relative_confidence"] is not None for i in partial.items)  # partners need not be done
    return straight, runner.run_audit(request, engine, store), store


def assert_ranked(result, total: int) -> None:
    assert result.n == total and set(result.metrics) == set(METHODS)
    metrics = result.metrics["relative_confidence"]
    assert metrics.n == total and metrics.higher_is == "confident" and metrics.aurc is not None
    assert metrics.confidence_source.startswith("Platt")
    for each in result.items:
        assert set(each.comparisons) == {str(p) for p in rel.partner_indices(each.index, total, 0)}
        assert all(0.0 <= share <= 1.0 for share in each.comparisons.values())
        assert each.scores["relative_confidence"] is not None
    note = result.extra["relative_confidence"]
    assert note["comparisons"] == sum(len(i.comparisons) for i in result.items) and note["questions_compared"] == total
    assert "Bradley-Terry" in note["assumes"] and "both orders" in note["assumes"]


def test_an_audit_ranks_its_items_and_resumes_to_the_same_scores(tiny_engine, tmp_path):
    request = AuditRequest(methods=METHODS, limit=6, batch_size=3, max_new_tokens=4)
    straight, resumed, store = audit_twice(tiny_engine, request, tmp_path)
    assert_ranked(straight, 6)
    assert straight.metrics["relative_confidence"].auroc is not None
    assert [i.comparisons for i in resumed.items] == [i.comparisons for i in straight.items]
    assert [i.scores for i in resumed.items] == [i.scores for i in straight.items]
    assert all("relative_confidence" not in i.scores for i in store.items(resumed.audit_id))  # ranked, not kept
    cost = estimate_relative_cost(request, tiny_engine, store)
    assert (cost.items, cost.passes) == (0, 0)
    fresh = estimate_relative_cost(request, tiny_engine)
    assert (fresh.items, fresh.passes) == (6, count_passes(list(range(6)), 6, 0)[1]) and fresh.seconds > 0
    assert f"= {fresh.passes} asking passes" in format_cost(fresh)


@pytest.mark.slow
def test_an_audit_of_the_default_model_ranks_its_items_and_resumes(engine, tmp_path):
    request = AuditRequest(methods=METHODS, limit=6, batch_size=3, max_new_tokens=8)
    straight, resumed, _store = audit_twice(engine, request, tmp_path)
    assert_ranked(straight, 6)
    assert [i.scores for i in resumed.items] == [i.scores for i in straight.items]
    cost = estimate_relative_cost(request, engine)
    assert cost.items == 6 and cost.passes == count_passes(list(range(6)), 6, 0)[1] and cost.seconds > 0


@pytest.mark.vllm
@pytest.mark.slow
def test_a_served_audit_compares_as_the_in_process_model_does(vllm_url, default_vocab_size, engine, default_lm,
                                                               tmp_path):
    """The session's vLLM serves the default model: its top-20 readings of each pair equal the in-process full
    softmax's (both letters are among the top 20 here), so the comparisons and the ranking agree."""
    from tests.backend.audit.test_served_audit import SERVED_ID, served_engine

    served = served_engine(vllm_url, default_vocab_size, engine.cache_dir)
    request = AuditRequest(model=SERVED_ID, methods=METHODS, limit=4, concurrency=4, max_new_tokens=8)
    result = runner.run_audit(request, served, AuditStore(f"sqlite:///{tmp_path}/served.sqlite"))
    assert_ranked(result, 4)
    questions = [q.question for q in runner.plan_audit(request).dataset.qa]
    with engine.pool.using("text", default_lm.spec.id) as lm:
        local = [asking.item_comparisons(asking.asker_for(lm), questions, i, 0, 4) for i in range(4)]
    for each, mine in zip(result.items, local):
        assert each.comparisons == pytest.approx(mine, abs=1e-3)
    cost = estimate_relative_cost(request, served)
    assert cost.items == 4 and cost.seconds > 0 and "served: 4 questions in flight" in cost.note
