"""The KLE kernel and spectrum figures and CoCoA's similarity figure and sentence, on hand-made scores."""
from __future__ import annotations

import math

import pytest

from backend.schemas import SequenceScore
from components.kernel_consistency import (answer_similarity_figure, cocoa_sentence, kernel_figure,
                                           kernel_spectrum_figure)

LABELS = ["Paris", "<b>Lyon</b>"]


def test_kernel_figure_shows_rho_on_a_zero_to_one_over_k_scale_with_escaped_hover():
    figure = kernel_figure([[0.5, 0.2], [0.2, 0.5]], LABELS)
    heatmap = figure.data[0]
    assert heatmap.zmin == 0 and heatmap.zmax == 0.5
    assert [list(row) for row in heatmap.text] == [["0.500", "0.200"], ["0.200", "0.500"]]
    assert "&lt;b&gt;Lyon&lt;/b&gt;" in heatmap.customdata[0][1] and "<b>" not in heatmap.customdata[0][1]


def test_spectrum_figure_pairs_each_eigenvalue_with_its_entropy_term():
    eigenvalues = [0.7, 0.3]
    terms = [-v * math.log(v) for v in eigenvalues]
    figure = kernel_spectrum_figure(eigenvalues, terms)
    assert list(figure.data[0].y) == eigenvalues and list(figure.data[1].y) == pytest.approx(terms)
    assert list(figure.data[0].x) == ["λ1", "λ2"]


def test_answer_similarity_figure_has_a_bar_per_sample_and_the_mean():
    figure = answer_similarity_figure([1.0, 0.5], LABELS)
    assert list(figure.data[0].y) == [1.0, 0.5] and list(figure.data[0].x) == ["1", "2"]
    assert figure.layout.shapes[0].y0 == pytest.approx(0.75) and "mean similarity 0.750" in figure.layout.title.text
    assert "&lt;b&gt;" in figure.data[0].customdata[1]


def test_cocoa_sentence_reads_the_product_and_the_variants():
    score = SequenceScore(name="cocoa", label="CoCoA", value=math.log(10) / 2, normalized=0.68, higher_is="uncertain",
                          value_range="[0, inf) nats", normalization="1 - exp(-value)", description="CoCoA.",
                          details={"uncertainty": math.log(10), "sequence_probability": 0.1, "mean_dissimilarity": 0.5,
                                   "variants": {"cocoa_msp": math.log(10) / 2, "cocoa_ppl": 0.3838, "cocoa_mte": 0.2}})
    sentence = cocoa_sentence(score)
    assert "2.303 nats (p = 0.1)" in sentence and "1 − s = 0.500 → 1.151" in sentence
    assert "CoCoA-PPL): 0.3838" in sentence and "CoCoA-MTE" in sentence
