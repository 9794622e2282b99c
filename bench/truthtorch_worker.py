"""TruthTorchLM's side of bench/bench_vs_truthtorchlm.py, run under .venv-truthtorch (`make truthtorch-venv`):

    .venv-truthtorch/bin/python bench/truthtorch_worker.py EVIDENCE.json    (started by the bench; see peer_protocol)

The evidence file (written by the bench from UQ Lens's run) holds the question, UQ Lens's greedy answer, its K
samples with their token log-probabilities, UQ Lens's same-meaning matrix and affinity, and the local model folder.
Operations: TruthTorchLM's truth methods called as its generate_with_truth_value calls them, on the given samples
(sampled_generations_dict) and with an NLI stand-in giving UQ Lens's decisions (truthtorch_feed); P(True) and
verbalized confidence on the local model (their own prompts); its whole pipeline on the local model.
"""
from __future__ import annotations

import importlib.metadata
from types import SimpleNamespace
from typing import Any, Callable

import torch

import truthtorch_feed as feed
from peer_protocol import Operation, serve


class Pair(dict):
    """The 'tokenised' NLI input: the indices of the two answers, moved nowhere by .to(device)."""

    def to(self, _device: Any) -> "Pair":
        return self


class PairTokenizer:
    """Stands in for TruthTorchLM's NLI tokenizer: encode_plus(context + ' ' + a, context + ' ' + b) -> the pair
    of sample indices."""

    def __init__(self, texts: list[str], context: str):
        self.texts, self.context = texts, context

    def encode_plus(self, text: str, text_pair: str, **_: Any) -> Pair:
        return Pair(pair=(feed.pair_index(text, self.context, self.texts),
                          feed.pair_index(text_pair, self.context, self.texts)))


class DecisionModel:
    """Stands in for TruthTorchLM's NLI model: logits (1, 3) for a pair, from UQ Lens's decisions."""

    device = torch.device("cpu")
    config = SimpleNamespace(max_position_embeddings=1 << 20)

    def __init__(self, logits: Callable[[int, int], list[float]]):
        self.logits = logits

    def __call__(self, pair: tuple[int, int]) -> SimpleNamespace:
        return SimpleNamespace(logits=torch.tensor([self.logits(*pair)], dtype=torch.float64))


def build(evidence: dict[str, Any]) -> tuple[dict[str, Operation], dict[str, str], str]:
    """The operations on the evidence (see the module's docstring), no reason left out, and TruthTorchLM's version."""
    import TruthTorchLM as ttlm
    from transformers import AutoModelForCausalLM, AutoTokenizer

    if evidence["threads"]:
        torch.set_num_threads(evidence["threads"])
    tm, scoring = ttlm.truth_methods, ttlm.scoring_methods
    question, texts, k = evidence["question"], evidence["sample_texts"], len(evidence["sample_texts"])
    same, affinity, temperature = evidence["same_meaning"], evidence["affinity"], evidence["nli_temperature"]
    tokenizer = AutoTokenizer.from_pretrained(evidence["model_path"])
    model = AutoModelForCausalLM.from_pretrained(evidence["model_path"], dtype=torch.float32).eval()
    sampled = feed.sampled_generations(texts, evidence["sample_token_logprobs"])
    pairs = PairTokenizer(texts, question)
    clusters = {"model_for_entailment": DecisionModel(lambda i, j: feed.same_meaning_logits(same[i][j])),
                "tokenizer_for_entailment": pairs}
    graph = {"model_for_entailment": DecisionModel(lambda i, j: feed.affinity_logits(affinity[i][j], temperature)),
             "tokenizer_for_entailment": pairs, "temperature": temperature}
    messages = [{"role": "user", "content": question}]
    answer = evidence["answer"]

    def method(truth_method: Any, key: str) -> Operation:
        """One truth method on the given samples, as generate_with_truth_value calls it; its value under key."""
        return lambda: truth_method(model=model, input_text=evidence["model_input"], generated_text=answer,
                                    question=question, tokenizer=tokenizer, sampled_generations_dict=sampled,
                                    messages=messages)[key]

    def semantic_entropy() -> list[float]:
        found = tm.SemanticEntropy(scoring.LengthNormalizedScoring(), number_of_generations=k, **clusters)(
            model=model, input_text=evidence["model_input"], generated_text=answer, question=question,
            tokenizer=tokenizer, sampled_generations_dict=sampled, messages=messages)
        return [found["semantic_entropy"], len(found["clusters"])]

    def pipeline() -> list[float]:
        methods = [tm.Entropy(scoring.LogProbScoring(), number_of_generations=k), tm.PTrue(number_of_ideas=k),
                   tm.VerbalizedConfidence(max_new_tokens=evidence["verbalized_max_new_tokens"])]
        found = ttlm.generate_with_truth_value(model, messages, question=question, truth_methods=methods,
                                               tokenizer=tokenizer, generation_seed=evidence["seed"],
                                               max_new_tokens=evidence["max_new_tokens"], do_sample=False,
                                               temperature=evidence["sample_temperature"])
        return found["unnormalized_truth_values"]

    operations = {
        "semantic_entropy": semantic_entropy,
        "num_semantic_sets": method(tm.NumSemanticSetUncertainty(number_of_generations=k, **clusters), "U_num_set"),
        "eigv": method(tm.SumEigenUncertainty(number_of_generations=k, **graph), "U_eigv"),
        "degree": method(tm.MatrixDegreeUncertainty(number_of_generations=k, **graph), "U_deg"),
        "eccentricity": method(tm.EccentricityUncertainty(number_of_generations=k, eigen_threshold=evidence[
            "eccentricity_threshold"], **graph), "U_ecc"),
        "predictive_entropy": method(tm.Entropy(scoring.LogProbScoring(), number_of_generations=k), "entropy"),
        "p_true": method(tm.PTrue(number_of_ideas=k), "p_true"),
        "verbalized_confidence": method(tm.VerbalizedConfidence(
            max_new_tokens=evidence["verbalized_max_new_tokens"]), "truth_value"),
        "pipeline": pipeline,
    }
    return operations, {}, importlib.metadata.version("truthtorchlm")


if __name__ == "__main__":
    raise SystemExit(serve(build))
