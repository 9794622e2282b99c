"""Audits graded claim by claim: each labelled claim's token statistics by hand and against a direct transformers
forward of the response, the item's verdict, the claim-level metrics against hand values and sklearn, the CLI's
and the report's claims parts."""
from __future__ import annotations

import json
import math

import numpy as np
import pytest
import torch
from sklearn.metrics import roc_auc_score

from backend.audit import runner
from backend.audit.claim_grading import claim_grades, claim_summary, claims_verdict
from backend.audit.claim_labels import ClaimLabel
from backend.audit.report import render_report
from backend.audit.store import AuditStore
from backend.cli import main
from backend.schemas import TextAnalysis
from backend.schemas.audit import AuditItem, AuditRequest, ClaimGrade
from backend.schemas.sequence import ClaimScore
from tests.components.factories import make_tokens

ANSWER = "Paris is big. It is old."
TEXTS = ["Paris", " is", " big", ".", " It", " is", " old", "."]  # probs 0.9 0.5 0.1 ..., entropies 0.2 1.0 2.5 ...


def analysis(texts: list[str], answer: str, special_last: bool = False) -> TextAnalysis:
    tokens = make_tokens(texts)
    if special_last:
        tokens[-1] = tokens[-1].model_copy(update={"special": True})
    return TextAnalysis(model="m", prompt="p", model_input="p", chat_template=True, mode="score",
                        generated_text=answer, stop_reason="scored", temperature=1.0, do_sample=False, top_p=1.0,
                        seed=0, max_new_tokens=8, device="cpu", ids=list(range(len(texts) + 1)), answer_start=1,
                        tokens=tokens, prompt_tokens=[], summaries=[], seconds=0.1)


def test_each_claim_gets_the_statistics_of_its_own_tokens_by_hand():
    labels = [ClaimLabel("Paris is big.", True), ClaimLabel("It is old.", False)]
    first, second = claim_grades(analysis(TEXTS, ANSWER), labels)
    assert (first.start, first.end, second.start, second.end) == (0, 13, 14, 24)
    assert (first.correct, second.correct) == (True, False)
    assert first.scores["mean_token_entropy"] == pytest.approx((0.2 + 1.0 + 2.5 + 0.2) / 4)
    assert first.scores["max_token_entropy"] == pytest.approx(2.5)
    assert first.scores["mean_neg_logprob"] == pytest.approx(-(2 * math.log(0.9) + math.log(0.5) + math.log(0.1)) / 4)
    assert second.scores["mean_token_entropy"] == pytest.approx((1.0 + 2.5 + 0.2 + 1.0) / 4)  # " It" is the claim's
    assert "ccp" not in first.scores


def test_special_tokens_are_left_out_and_the_analysed_claims_add_ccp_and_support():
    texts, answer = ["Paris", " is", " big", ".", "<|im_end|>"], "Paris is big."
    analysed = [ClaimScore(text="Paris is big.", start=0, end=13, token_start=0, token_end=5,
                           scores={"ccp": 0.25, "luq_support": 0.5, "mean_token_entropy": 9.0})]
    (grade,) = claim_grades(analysis(texts, answer, special_last=True), [ClaimLabel("Paris is big.", True)], analysed)
    assert grade.scores["max_token_entropy"] == pytest.approx(2.5)
    assert grade.scores["mean_token_entropy"] == pytest.approx(0.975)  # its own, not the analysed row's
    assert (grade.scores["ccp"], grade.scores["luq_support"]) == (0.25, 0.5)


def test_an_item_is_right_only_when_every_claim_is():
    right = ClaimGrade(text="a", start=0, end=1, correct=True, scores={})
    wrong = right.model_copy(update={"correct": False})
    assert claims_verdict([right, right]) == (True, "all 2 labelled claims are right")
    assert claims_verdict([right, wrong, wrong]) == (False, "2 of 3 labelled claims are wrong (claim 2, 3)")


def item_with(index: int, claims: list[tuple[bool, float, float]]) -> AuditItem:
    grades = [ClaimGrade(text=f"c{n}", start=n, end=n + 1, correct=c, scores={"ccp": p, "mean_token_entropy": h})
              for n, (c, p, h) in enumerate(claims)]
    return AuditItem(index=index, id=f"i{index}", question="q", answers=[], answer="x", correct=all(c for c, _, _ in
                     claims), grading="claims", scores={}, claims=grades)


def test_claim_metrics_treat_each_claim_as_one_unit():
    rows = [[(True, 0.9, 0.3), (False, 0.2, 2.0), (True, 0.7, 0.9)], [(True, 0.8, 1.2), (False, 0.6, 0.5)],
            [(True, 0.95, 0.1), (False, 0.1, 1.5), (True, 0.4, 1.1)]]
    n, accuracy, metrics = claim_summary([item_with(i, r) for i, r in enumerate(rows)], seed=0)
    flat = [c for r in rows for c in r]
    correct = np.array([c for c, _, _ in flat], dtype=float)
    ccp, entropy = np.array([p for _, p, _ in flat]), np.array([h for _, _, h in flat])
    assert (n, accuracy) == (8, pytest.approx(5 / 8))
    assert set(metrics) == {"ccp", "mean_token_entropy"}
    assert metrics["ccp"].auroc == pytest.approx(roc_auc_score(1 - correct, -ccp))
    assert metrics["mean_token_entropy"].auroc == pytest.approx(roc_auc_score(1 - correct, entropy))
    assert metrics["ccp"].brier == pytest.approx(np.mean((ccp - correct) ** 2))  # a probability: used as it is
    assert metrics["mean_token_entropy"].confidence_source.startswith("Platt")


def test_an_audit_without_claim_labels_has_no_claim_numbers():
    plain = item_with(0, []).model_copy(update={"claims": None, "grading": "alias"})
    assert claim_summary([plain], seed=0) == (0, None, {})


QUESTION = "Tell me about the Moon."
RESPONSE = "The Moon orbits the Earth. It is made of cheese, and it has no air."
ROWS = [
    {"id": "moon", "question": QUESTION, "response": RESPONSE,
     "claims": [{"text": "The Moon orbits the Earth.", "correct": True}, {"text": "It is made of cheese", "correct":
                False}, {"text": "it has no air.", "correct": True}]},
    {"id": "water", "question": "What is water?", "response": "Water is hydrogen and oxygen.",
     "claims": [{"text": "Water is hydrogen and oxygen.", "correct": True}]},
    {"id": "italy", "question": "What is the capital of Italy?", "answers": ["Rome"]},
]


def direct_claim_stats(lm, question: str, response: str, spans: list[tuple[int, int]]) -> list[dict]:
    """The claims' token statistics from one transformers forward of the chat-templated question and the
    response's tokens, the tokens of a claim found by the fast tokenizer's character offsets (float64 softmax)."""
    prompt = lm.tokenizer.apply_chat_template([{"role": "user", "content": question}], tokenize=False,
                                              add_generation_prompt=True)
    prompt_ids = lm.tokenizer(prompt, add_special_tokens=False)["input_ids"]
    encoded = lm.tokenizer(response, add_special_tokens=False, return_offsets_mapping=True)
    ids = prompt_ids + encoded["input_ids"]
    with torch.no_grad():
        logits = lm.model(torch.tensor([ids])).logits[0, len(prompt_ids) - 1:-1].double()
    logp = torch.log_softmax(logits, dim=-1)
    chosen = logp[torch.arange(len(encoded["input_ids"])), torch.tensor(encoded["input_ids"])]
    entropy = -(logp.exp() * logp).sum(-1)
    out = []
    for start, end in spans:
        inside = [i for i, (a, b) in enumerate(encoded["offset_mapping"]) if a < end and b > start]
        out.append({"mean_neg_logprob": float(-chosen[inside].mean()), "mean_token_entropy":
                    float(entropy[inside].mean()), "max_token_entropy": float(entropy[inside].max())})
    return out, float(chosen.mean())


@pytest.fixture(scope="module")
def claims_audit(engine, tmp_path_factory):
    folder = tmp_path_factory.mktemp("claims-audit")
    dataset = folder / "claims.jsonl"
    dataset.write_text("\n".join(json.dumps(row) for row in ROWS))
    request = AuditRequest(dataset=str(dataset), methods=["mean_logprob", "ccp"], max_new_tokens=8)
    return runner.run_audit(request, engine, AuditStore(f"sqlite:///{folder}/audit.sqlite"))


@pytest.mark.slow
def test_a_claims_audit_scores_each_claim_as_a_direct_forward_does(claims_audit, default_lm):
    moon, water, italy = claims_audit.items
    assert (moon.grading, moon.correct, water.grading, water.correct) == ("claims", False, "claims", True)
    assert moon.answer == RESPONSE and italy.claims is None and italy.grading in ("alias", "embedding", "no_match")
    spans = [(g.start, g.end) for g in moon.claims]
    assert [RESPONSE[a:b] for a, b in spans] == ["The Moon orbits the Earth.", "It is made of cheese",
                                                 "it has no air."]
    expected, mean_logprob = direct_claim_stats(default_lm, QUESTION, RESPONSE, spans)
    for grade, reference in zip(moon.claims, expected):
        for name, value in reference.items():
            assert grade.scores[name] == pytest.approx(value, rel=1e-4, abs=1e-5), name
    assert moon.scores["mean_logprob"] == pytest.approx(mean_logprob, rel=1e-4)
    ccps = [g.scores["ccp"] for g in moon.claims]
    assert all(0 <= c <= 1 for c in ccps) and moon.scores["ccp"] == pytest.approx(math.prod(ccps), rel=1e-9)
    assert [g.correct for g in moon.claims] == [True, False, True]


@pytest.mark.slow
def test_the_claims_audits_numbers_and_report_cover_every_claim(claims_audit):
    claims = [g for item in claims_audit.items for g in item.claims or ()]
    correct = np.array([g.correct for g in claims], dtype=float)
    assert (claims_audit.n_claims, claims_audit.claim_accuracy) == (4, pytest.approx(0.75))
    assert set(claims_audit.claim_metrics) == {"ccp", "mean_neg_logprob", "mean_token_entropy", "max_token_entropy"}
    entropy = np.array([g.scores["max_token_entropy"] for g in claims])
    assert claims_audit.claim_metrics["max_token_entropy"].auroc == pytest.approx(roc_auc_score(1 - correct, entropy))
    html = render_report(claims_audit)
    assert "<h2>Claims</h2>" in html and "4 labelled claims, 75.0% right" in html
    assert all(g.text in html for g in claims)


@pytest.mark.slow
def test_the_cli_prints_the_claim_numbers(claims_audit, engine, monkeypatch, capsys, tmp_path):
    monkeypatch.setattr("backend.engine.Engine", lambda: engine)
    dataset, out = tmp_path / "claims.jsonl", tmp_path / "out.json"
    dataset.write_text("\n".join(json.dumps(row) for row in ROWS[:2]))
    assert main(["audit", "--dataset", str(dataset), "--methods", "mean_logprob", "--json", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "claims: 4 labelled, 0.750 right" in printed and "mean_token_entropy" in printed
    data = json.loads(out.read_text())
    assert data["n_claims"] == 4 and "ccp" not in data["claim_metrics"]
    assert [g["correct"] for g in data["items"][0]["claims"]] == [True, False, True]


def test_claim_grades_survive_the_store_and_a_persons_override(database_url):
    store = AuditStore(database_url)
    store.start("0123456789abcdef", AuditRequest(), "claims.jsonl", 1)
    item = item_with(0, [(True, 0.9, 0.3), (False, 0.2, 2.0)])
    store.save_items("0123456789abcdef", [item])
    (kept,) = store.items("0123456789abcdef")
    assert kept == item and kept.claims[1].scores == {"ccp": 0.2, "mean_token_entropy": 2.0}
    overridden = store.set_override("0123456789abcdef", 0, True)
    assert overridden.is_correct and overridden.claims == item.claims  # the person's verdict; the claims' labels stay
    assert claim_summary([overridden], seed=0)[:2] == (2, 0.5)


def test_sample_methods_warn_when_a_given_response_outruns_the_samples():
    from types import SimpleNamespace

    from backend.audit.datasets import QAItem
    from backend.audit.methods import sequence_method, token_method
    from backend.audit.qa_items import short_sample_warnings

    qa = [QAItem("a", "q", ["x"], response="a long response"), QAItem("b", "q", ["x"]),
          QAItem("c", "q", ["x"], response="short")]
    plan = SimpleNamespace(dataset=SimpleNamespace(qa=qa), methods=[
        sequence_method("luq"), sequence_method("semantic_entropy"), sequence_method("ccp"),
        token_method("mean_logprob", "mean_token_probability")])
    items = [AuditItem(index=i, id=q.id, question="q", answers=["x"], answer="x", correct=True, grading="alias",
                       scores={}, token_logprobs=[-0.1] * n) for i, (q, n) in enumerate(zip(qa, (30, 40, 4)))]
    warned = short_sample_warnings(plan, AuditRequest(max_new_tokens=24), items)
    assert set(warned) == {"luq", "semantic_entropy"}  # ccp reads the response's own alternatives, not samples
    assert "1 given response(s) run longer (up to 30 tokens)" in warned["luq"]
    assert short_sample_warnings(plan, AuditRequest(max_new_tokens=32), items) == {}  # the 40-token one was asked
