"""Gathering the claim evidence with stand-in NLI and embedding models: which alternatives are judged and how,
lm-polygraph's rule combining the two NLI directions, and the support matrix."""
from types import SimpleNamespace

import numpy as np
import pytest

from backend.analyses.evidence import Evidence
from backend.claims.evidence import (alternative_pairs, combine_nli, gather_claim_alternatives, gather_claim_support,
                                     gather_claims)
from backend.errors import UserInputError


def token(text, tid, prob, alternatives):
    alts = [SimpleNamespace(text=t, id=i, prob=p) for t, i, p in alternatives]
    return SimpleNamespace(text=text, id=tid, prob=prob, top_k=alts)


TOKENS = [token("Paris", 1, 0.7, [("Paris", 1, 0.7), ("paris", 2, 0.1), ("Lyon", 3, 0.2)]),
          token(".", 4, 0.9, [(".", 4, 0.9), ("!", 5, 0.1)]),
          token("<end>", 9, 1.0, [])]


def make_run(kind, claims=None, nli=None, embedder=None, samples=None):
    evidence = Evidence(logprobs=[-0.3, -0.1, 0.0], entropies=[0.5, 0.2, 0.0], special=[False, False, True],
                        vocab_size=10, sample_texts=samples)
    return SimpleNamespace(
        text=SimpleNamespace(generated_text="Paris.", tokens=TOKENS), evidence=evidence,
        request=SimpleNamespace(claims=claims, text=SimpleNamespace(prompt="Capital of France?")),
        models=SimpleNamespace(meaning=SimpleNamespace(kind=kind, threshold=0.75), nli=nli, embedder=embedder))


def test_combine_nli_follows_lm_polygraph():
    assert combine_nli("entail", "entail") == "entail"
    assert combine_nli("entail", "contra") == "neutral"
    assert combine_nli("neutral", "contra") == "contra" and combine_nli("entail", "neutral") == "entail"
    assert combine_nli("neutral", "neutral") == "neutral"


def test_only_alternatives_that_differ_beyond_case_and_punctuation_are_judged():
    run = make_run("nli")
    gather_claims(run)
    assert [(c.text, c.token_start, c.token_end) for c in run.evidence.claims] == [("Paris.", 0, 2)]  # the end token lies past the text
    per_token, pairs = alternative_pairs(run)
    assert per_token[0] == [(0.7, "Paris"), (0.1, "paris"), (0.2, "Lyon")] and per_token[2] is None
    assert pairs == [(0, 2, "Paris", "Lyon")]  # "paris" and "!" keep the meaning without a model


class Nli:
    """Entailment index 0, contradiction 2: "Lyon" and "Paris" contradict each other one way, neutral the other."""

    entailment, contradiction = 0, 2

    def __init__(self):
        self.asked = []

    def probabilities(self, premises, hypotheses):
        self.asked += list(zip(premises, hypotheses))
        rows = {("Paris", "Lyon"): [0.1, 0.3, 0.6], ("Lyon", "Paris"): [0.1, 0.6, 0.3],
                ("Paris is in France.", "Paris."): [0.9, 0.05, 0.05], ("Lyon.", "Paris."): [0.1, 0.1, 0.8]}
        return np.array([rows[p] for p in zip(premises, hypotheses)])


def test_ccp_evidence_by_nli_both_directions():
    nli = Nli()
    run = make_run("nli", nli=nli)
    gather_claims(run)
    gather_claim_alternatives(run)
    assert nli.asked == [("Paris", "Lyon"), ("Lyon", "Paris")]
    assert run.evidence.claim_alternatives == [[(0.7, "entail"), (0.1, "entail"), (0.2, "contra")],
                                               [(0.9, "entail"), (0.1, "entail")], None]


def test_luq_support_by_nli_has_the_sample_as_premise():
    run = make_run("nli", nli=Nli(), samples=["Paris is in France.", "Lyon."])
    gather_claims(run)
    gather_claim_support(run)
    np.testing.assert_allclose(run.evidence.claim_support, [[0.9 / 0.95, 0.1 / 0.9]])


class Embedder:
    """Unit vectors by the first letter: P* and L* are orthogonal."""

    def embed(self, texts):
        return np.array([[1.0, 0.0] if t.startswith("P") else [0.0, 1.0] for t in texts])


def test_ccp_and_luq_evidence_by_the_embedding_claim_rule():
    run = make_run("embedding", embedder=Embedder(), samples=["Lyon. Paris!", "Lyon."])
    gather_claims(run)
    gather_claim_alternatives(run)
    assert run.evidence.claim_alternatives[0][2] == (0.2, "contra")
    gather_claim_support(run)
    np.testing.assert_allclose(run.evidence.claim_support, [[1.0, 0.0]])  # the closest sentence of each sample


def test_a_given_claim_not_in_the_answer_is_refused():
    with pytest.raises(UserInputError, match="not found in the answer"):
        gather_claims(make_run("nli", claims=["Lyon."]))


def test_the_alternatives_of_a_function_word_keep_the_meaning_without_a_model():
    run = make_run("nli")
    run.text = SimpleNamespace(generated_text="The end", tokens=[
        token("The", 1, 0.5, [("The", 1, 0.5), ("A", 2, 0.4)]),
        token(" end", 3, 0.6, [(" end", 3, 0.6), (" start", 4, 0.3)])])
    run.evidence.special = [False, False]
    gather_claims(run)
    per_token, pairs = alternative_pairs(run)
    assert per_token[0] == [(0.5, "The"), (0.4, "A")]
    assert pairs == [(1, 1, "The end", "The start")]  # "The" -> "A" is not asked
