"""Meaning by NLI and by embeddings, and the texts SAR embeds; hand-made NLI decisions and a tiny random NLI
classifier checked against a direct transformers forward."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from transformers import AutoModelForSequenceClassification, AutoTokenizer

from backend.analyses.meaning_graph import greedy_meaning_clusters
from backend.models.nli_loader import load_nli_model
from backend.models.registry import ModelSpec
from backend.sequence.evidence import (answer_similarity_by_embedding, answer_similarity_by_nli, meaning_by_embedding,
                                       meaning_by_nli, removal_similarities, removal_texts, removal_texts_from_pieces)

ENTAIL, NEUTRAL, CONTRA = 0, 1, 2


class TableNli:
    """An NLI stand-in answering from a table {(premise, hypothesis): entailment probability}; the rest neutral."""

    entailment = ENTAIL

    def __init__(self, table: dict[tuple[str, str], float]) -> None:
        self.table = table
        self.asked: list[tuple[str, str]] = []

    def probabilities(self, premises, hypotheses) -> np.ndarray:
        rows = []
        for pair in zip(premises, hypotheses):
            self.asked.append(pair)
            p = self.table.get(pair, 0.0)
            rows.append([p, 1 - p, 0.0] if p > 0.5 else [p, 0.0, 1 - p])
        return np.array(rows)


def test_removal_texts_drop_one_token_each(default_tokenizer):
    ids = default_tokenizer("Paris is big", add_special_tokens=False)["input_ids"]
    texts = removal_texts(default_tokenizer, "Q?", ids)
    assert texts[0] == "Q? Paris is big"
    assert texts[1:] == ["Q?  is big", "Q? Paris big", "Q? Paris is"]


def test_removal_texts_from_an_engines_token_pieces_equal_those_from_the_tokenizer(default_tokenizer):
    ids = default_tokenizer("Paris is big", add_special_tokens=False)["input_ids"] + [default_tokenizer.eos_token_id]
    pieces = [default_tokenizer.decode([i]) for i in ids]  # what a served model returns as each token's text
    texts = removal_texts_from_pieces("Q?", pieces, [False] * (len(ids) - 1) + [True])
    assert texts == removal_texts(default_tokenizer, "Q?", ids)
    assert texts[-1] == texts[0] == "Q? Paris is big"  # the end token is left out, as decoding skips it
    assert removal_texts_from_pieces("Q?", ["A", "B"], [False, False]) == ["Q? AB", "Q? B", "Q? A"]


def test_removal_similarities_one_list_per_answer(tiny_embedder, default_tokenizer):
    answers = [default_tokenizer(t, add_special_tokens=False)["input_ids"] for t in ("Paris is big", "Lyon")]
    similarities = removal_similarities(tiny_embedder, default_tokenizer, "Q?", answers)
    assert [len(s) for s in similarities] == [len(ids) for ids in answers]
    assert all(-1.0 <= v <= 1.0 + 1e-6 for s in similarities for v in s)


def test_nli_meaning_needs_entailment_both_ways_and_skips_identical_pairs():
    texts = ["Paris", "It is Paris", "Paris", "Lyon"]
    nli = TableNli({("Paris", "It is Paris"): 0.9, ("It is Paris", "Paris"): 0.8,
                    ("Paris", "Lyon"): 0.7, ("Lyon", "Paris"): 0.2})
    same, affinity = meaning_by_nli(nli, texts)
    assert greedy_meaning_clusters(same) == [[0, 1, 2], [3]]
    assert affinity[0, 1] == pytest.approx((0.9 + 0.8) / 2)
    assert affinity[0, 3] == pytest.approx((0.7 + 0.2) / 2)
    assert affinity[0, 2] == 1.0 and np.all(np.diag(affinity) == 1.0)
    assert ("Paris", "Paris") not in nli.asked
    assert len(nli.asked) == 3 * 2  # each ordered pair of the 3 distinct texts, once


class TableEmbedder:
    """An embedding stand-in answering from a table {text: vector}, recording what it was asked to embed."""

    def __init__(self, table: dict[str, list[float]]) -> None:
        self.table, self.asked = table, []

    def embed(self, texts) -> np.ndarray:
        self.asked.append(list(texts))
        return np.array([self.table[t] for t in texts])


def test_embedding_meaning_compares_what_answers_add_to_the_question_at_the_threshold():
    embedder = TableEmbedder({"Paris": [1.0, 0.0], "Lutetia": [0.8, 0.6], "Lyon": [0.0, 1.0]})  # cosines 0.8, 0, 0.6
    texts = ["The capital of France is Paris.", "The capital of France is Lutetia.", "Lyon"]
    same, affinity = meaning_by_embedding(embedder, texts, "What is the capital of France?", 0.75)
    assert embedder.asked == [["Paris", "Lutetia", "Lyon"]]  # the question's words removed, one batched call
    assert greedy_meaning_clusters(same) == [[0, 1], [2]]
    same, _ = meaning_by_embedding(embedder, texts, "What is the capital of France?", 0.85)
    assert greedy_meaning_clusters(same) == [[0], [1], [2]]
    assert affinity[0, 1] == pytest.approx(0.8)


@pytest.fixture(scope="module")
def tiny_nli(tiny_nli_folder):
    return load_nli_model(ModelSpec("tiny-nli", "nli", "hf-sequence-classification", str(tiny_nli_folder),
                                    "tiny random NLI"), "cpu")


def test_tiny_nli_probabilities_equal_a_direct_transformers_forward(tiny_nli, tiny_nli_folder):
    premises, hypotheses = ["Paris is the capital.", "It is Lyon."], ["The capital is Paris.", "Paris."]
    model = AutoModelForSequenceClassification.from_pretrained(tiny_nli_folder).eval()
    batch = AutoTokenizer.from_pretrained(tiny_nli_folder)(premises, hypotheses, padding=True, return_tensors="pt")
    with torch.inference_mode():
        expected = torch.softmax(model(**batch).logits.double(), -1).numpy()
    assert tiny_nli.probabilities(premises, hypotheses) == pytest.approx(expected, abs=1e-6)


@pytest.mark.parametrize("favoured, clusters", [(ENTAIL, [[0, 1, 2]]), (CONTRA, [[0], [1], [2]])])
def test_an_nli_model_that_always_says_x_gives_the_expected_clusters(tiny_nli, favoured, clusters):
    original = tiny_nli.model.classifier.bias.detach().clone()
    with torch.no_grad():
        tiny_nli.model.classifier.bias[favoured] += 50.0
    try:
        same, affinity = meaning_by_nli(tiny_nli, ["Paris", "It is Paris", "Rome"])
    finally:
        with torch.no_grad():
            tiny_nli.model.classifier.bias.copy_(original)
    assert greedy_meaning_clusters(same) == clusters
    assert affinity == pytest.approx(np.ones((3, 3)) if favoured == ENTAIL else np.eye(3), abs=1e-6)


def test_the_answer_against_each_sample_by_nli_is_the_graphs_affinity_asked_once_both_ways():
    texts = ["It is Paris", "Paris", "Lyon", "It is Paris"]
    nli = TableNli({("Paris", "It is Paris"): 0.9, ("It is Paris", "Paris"): 0.8,
                    ("Paris", "Lyon"): 0.7, ("Lyon", "Paris"): 0.2})
    similarity = answer_similarity_by_nli(nli, "Paris", texts)
    assert similarity == pytest.approx([0.85, 1.0, 0.45, 0.85])
    assert sorted(nli.asked) == sorted([("Paris", "It is Paris"), ("It is Paris", "Paris"), ("Paris", "Lyon"),
                                        ("Lyon", "Paris")])  # distinct others only, never the answer with itself
    _same, affinity = meaning_by_nli(nli, ["Paris", *texts])
    assert similarity == pytest.approx(affinity[0, 1:].tolist())  # the same rule as the graph's
    assert answer_similarity_by_nli(TableNli({}), "Paris", ["Paris"]) == [1.0]


def test_the_answer_against_each_sample_by_embeddings_uses_the_claim_rule_in_one_call():
    embedder = TableEmbedder({"Paris": [1.0, 0.0], "Lutetia": [0.8, 0.6], "Lyon": [0.0, 1.0],
                              "Paris a big city": [0.0, 1.0]})
    question = "What is the capital of France?"
    samples = ["The capital of France is Lutetia.", "Lyon", "Paris, a big city"]
    similarity = answer_similarity_by_embedding(embedder, "The capital of France is Paris.", samples, question)
    assert embedder.asked == [["Paris", "Lutetia", "Lyon", "Paris a big city"]]
    assert similarity == pytest.approx([0.8, 0.0, 1.0])  # cosine; orthogonal; only adds words -> 1
    _same, affinity = meaning_by_embedding(embedder, ["The capital of France is Paris.", *samples], question, 0.5)
    assert similarity == pytest.approx(affinity[0, 1:].tolist())
