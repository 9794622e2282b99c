"""Figure and table builders of the Sequence uncertainty page, on hand-made schema objects."""
from __future__ import annotations

import math

import pytest

from backend.schemas import MeaningCluster, MethodCost, SampledAnswer, SequenceScore, TokenRelevance
from components.meaning_clusters import cluster_mass_figure, sample_lines, short_label
from components.sar_weights import sar_weights_figure
from components.sequence_costs import cost_rows, passes_text, total_seconds
from components.sequence_scores import (format_number, score_overview_figure, score_rows, uncertainty_share)
from components.similarity_graph import eigenvalue_figure, similarity_matrix_figure


def score(name: str, value, normalized, higher_is: str = "uncertain", **details) -> SequenceScore:
    return SequenceScore(name=name, label=name.title(), value=value, normalized=normalized, higher_is=higher_is,
                         value_range="[0, 1]", normalization="as is", description=f"What {name} measures.",
                         details=details)


def sample(index: int, text: str, logprob: float, cluster: int, weight: float) -> SampledAnswer:
    return SampledAnswer(index=index, text=text, ids=[1, 2], token_logprobs=[logprob / 2] * 2, logprob=logprob,
                         stop_reason="eos", cluster=cluster, weight=weight)


SCORES = [score("entropy", 0.4, 0.2), score("probability", 0.9, 0.9, "confident"),
          score("verbal", None, None, "confident", error="the reply contains no number")]
SAMPLES = [sample(0, "Paris", -0.5, 0, 0.6), sample(1, "<b>Lyon</b>", -2.0, 1, 0.1), sample(2, "Paris.", -0.7, 0, 0.3)]
CLUSTERS = [MeaningCluster(id=0, members=[0, 2], mass=0.9, share=2 / 3),
            MeaningCluster(id=1, members=[1], mass=0.1, share=1 / 3)]


def test_uncertainty_share_turns_confident_scores_around():
    assert uncertainty_share(SCORES[0]) == 0.2
    assert uncertainty_share(SCORES[1]) == pytest.approx(0.1)
    assert uncertainty_share(SCORES[2]) is None


def test_overview_has_one_bar_per_computed_score_in_table_order():
    bar = score_overview_figure(SCORES).data[0]
    assert list(bar.y) == ["Probability", "Entropy"]  # reversed so the first score is on top; failed one left out
    assert list(bar.x) == pytest.approx([0.1, 0.2])
    assert list(bar.text) == ["raw 0.9", "raw 0.4"]
    assert bar.marker.color == ("#2b6cb0", "#d7301f")


def test_score_rows_carry_raw_normalised_direction_and_failure():
    rows = score_rows(SCORES)
    assert rows[0]["Value"] == "0.4" and rows[0]["Normalised"] == "0.2" and rows[0]["Higher is"] == "more uncertain"
    assert rows[2]["Value"] == "—" and "Not computed: the reply contains no number" in rows[2]["What it measures"]


def test_an_estimated_score_shows_its_bounds_and_says_it_is_an_estimate():
    estimated = score("mean_token_entropy", 0.888, 0.0822, value_bounds=[0.759, 1.017],
                      normalized_bounds=[0.0703, 0.0942], estimate="an estimate: midpoints of valid bounds")
    row = score_rows([estimated])[0]
    assert row["Score"] == "Mean_Token_Entropy (estimate)"
    assert row["Value"] == "≈ 0.888 (0.759 to 1.017)" and row["Normalised"] == "≈ 0.0822 (0.0703 to 0.0942)"
    assert row["What it measures"].endswith("the exact value lies within the bounds shown.")
    assert list(score_overview_figure([estimated]).data[0].y) == ["Mean_Token_Entropy (estimate)"]


@pytest.mark.parametrize("value, text", [(None, "—"), (0.0, "0"), (41480.9, "4.15e+04"), (0.0001234, "0.000123"),
                                         (-0.35461, "-0.3546"), (7.0, "7")])
def test_format_number(value, text):
    assert format_number(value) == text


def test_cluster_figure_shows_mass_and_share_with_escaped_labels():
    figure = cluster_mass_figure(CLUSTERS, SAMPLES)
    mass, share = figure.data
    assert list(mass.y) == ["#2: &lt;b&gt;Lyon&lt;/b&gt;", "#1: Paris"]
    assert list(mass.x) == [0.1, 0.9] and list(share.x) == pytest.approx([1 / 3, 2 / 3])
    assert list(share.text) == ["1/3", "2/3"]


def test_sample_lines_escape_markdown_and_show_probabilities():
    lines = sample_lines(CLUSTERS[1], SAMPLES)
    assert lines == ["- sample 2 · log p = -2.00 · weight 0.100 · 2 tokens: \\<b\\>Lyon\\</b\\>"]


def test_short_label_cuts_long_and_marks_empty_answers():
    assert short_label("a " * 50).endswith("…") and len(short_label("a " * 50)) == 40
    assert short_label("  \n") == "(empty)"


def test_similarity_matrix_figure_values_and_escaped_hover():
    figure = similarity_matrix_figure([[1.0, 0.2], [0.2, 1.0]], ["<i>x</i>", "y"])
    heat = figure.data[0]
    assert [list(row) for row in heat.z] == [[1.0, 0.2], [0.2, 1.0]]
    assert heat.zmin == 0 and heat.zmax == 1
    assert heat.customdata[0][1] == "&lt;i&gt;x&lt;/i&gt;<br>vs y"


def test_eigenvalue_figure_shows_each_eigv_contribution():
    eigenvalue, contribution = eigenvalue_figure([0.0, 0.4, 1.3]).data
    assert list(eigenvalue.y) == [0.0, 0.4, 1.3]
    assert list(contribution.y) == pytest.approx([1.0, 0.6, 0.0])  # they sum to EigV = 1.6


def test_sar_figure_pairs_weights_with_entropies():
    tokens = [TokenRelevance(text=t, logprob=math.log(0.5), entropy=e, similarity_without=s, relevance=1 - s,
                             weight=w) for t, e, s, w in [("Paris", 0.3, 0.8, 0.8), ("<end>", 1.2, 0.95, 0.2)]]
    bars, line = sar_weights_figure(tokens).data
    assert list(bars.y) == [0.8, 0.2] and list(line.y) == [0.3, 1.2]
    assert line.yaxis == "y2"
    assert list(line.customdata) == ["'Paris'", "'&lt;end&gt;'"]


def test_cost_rows_and_total():
    costs = [MethodCost(evidence="samples", label="K sampled answers", lm_passes=32, lm_batch=8, embedding_texts=0,
                        nli_pairs=0, seconds=12.5, methods=["semantic_entropy", "eigv"]),
             MethodCost(evidence="meaning", label="Meaning", lm_passes=0, lm_batch=1, embedding_texts=0,
                        nli_pairs=56, seconds=3.0, methods=["semantic_entropy"])]
    rows = cost_rows(costs, {"semantic_entropy": "Semantic entropy", "eigv": "EigV"})
    assert rows[0] == {"Step": "K sampled answers", "Passes": "32 LM passes × 8 sequences", "Estimated s": "12.5",
                       "Used by": "Semantic entropy, EigV"}
    assert rows[1]["Passes"] == "56 NLI pairs"
    assert total_seconds(costs) == 15.5
    assert passes_text(costs[0].model_copy(update={"lm_passes": 0})) == "nothing extra"
