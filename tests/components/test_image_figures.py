"""Image page figures, tested on the figure objects built from hand-made schema objects."""
from __future__ import annotations

import base64
import io

import numpy as np
import pytest
from PIL import Image

from backend.schemas.image import ClassScore, ClassSpread, ImageUncertainty, SaliencyMap, SaliencySummary
from components.class_probabilities import class_probabilities_figure, short_label
from components.pass_spread import entropy_split_figure, jitter_offsets, pass_spread_figure
from components.saliency_overlay import (SIGNED_SCALE, UNSIGNED_SCALE, colour_limit, map_caption,
                                         saliency_overlay_figure)

SCORES = [ClassScore(label="tabby, tabby cat", index=281, prob=0.6),
          ClassScore(label="<b>tiger</b> cat", index=282, prob=0.3), ClassScore(label="lynx", index=287, prob=0.1)]


def uncertainty(label: str = "MC dropout", expected: float = 0.5, mutual: float = 0.1) -> ImageUncertainty:
    classes = [ClassSpread(label="tabby, tabby cat", index=281, mean=0.6, std=0.1, per_pass=[0.5, 0.7]),
               ClassSpread(label="lynx", index=287, mean=0.2, std=0.05, per_pass=[0.25, 0.15])]
    return ImageUncertainty(model="m", device="cpu", method="mc_dropout", label=label, passes=2, seed=0,
                            stochastic_part="dropout", pass_labels=["mask 1", "<i>mask</i> 2"],
                            predictive_entropy=expected + mutual, expected_entropy=expected,
                            mutual_information=mutual, max_entropy=np.log(1000), agreement=1.0,
                            mean_top_k=[ClassScore(label=c.label, index=c.index, prob=c.mean) for c in classes],
                            classes=classes, seconds=0.1)


def saliency_map(values: list[list[float]], *, signed: bool = False, delta=None) -> SaliencyMap:
    array = np.asarray(values)
    peak = np.unravel_index(array.argmax(), array.shape)
    return SaliencyMap(method="grad_cam", label="Grad-CAM", shape=array.shape, values=values, signed=signed,
                       summary=SaliencySummary(minimum=array.min(), maximum=array.max(), mean=array.mean(),
                                               top10_share=0.5, peak_row=int(peak[0]), peak_col=int(peak[1])),
                       convergence_delta=delta, params={}, passes=1, seconds=0.2)


def png(width: int = 3, height: int = 2) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), (10, 20, 30)).save(buffer, "PNG")
    return buffer.getvalue()


def test_probability_bars_put_the_top_class_on_top_in_red_and_escape_labels():
    bar = class_probabilities_figure(SCORES).data[0]
    assert list(bar.x) == [0.1, 0.3, 0.6]
    assert bar.y[-1] == "tabby (281) " and "&lt;b&gt;tiger&lt;/b&gt; cat (282) " in bar.y
    assert bar.marker.color[-1] != bar.marker.color[0]
    assert list(bar.text) == ["0.100", "0.300", "0.600"]


def test_a_class_named_by_its_index_is_not_labelled_twice():
    digits = class_probabilities_figure([ClassScore(label="8", index=8, prob=0.9),
                                         ClassScore(label="9", index=9, prob=0.1)]).data[0]
    assert list(digits.y) == ["9 ", "8 "]


def test_short_label():
    assert short_label("tabby, tabby cat") == "tabby" and short_label("x" * 50).endswith("…")


def test_pass_spread_has_one_dot_per_pass_and_class_and_the_mean_with_its_std():
    figure = pass_spread_figure(uncertainty())
    dots, means = figure.data
    assert sorted(dots.x) == sorted([0.25, 0.15, 0.5, 0.7])
    assert list(means.x) == [0.2, 0.6] and list(means.error_x.array) == [0.05, 0.1]  # most likely on top
    assert any("&lt;i&gt;mask&lt;/i&gt; 2" in c[1] for c in dots.customdata)
    assert list(figure.layout.yaxis.ticktext) == ["lynx ", "tabby "]


def test_jitter_is_symmetric():
    assert jitter_offsets(1) == [0.0]
    offsets = jitter_offsets(5)
    assert offsets[0] == -offsets[-1] and offsets[2] == 0.0


def test_entropy_split_stacks_expected_entropy_and_mutual_information():
    figure = entropy_split_figure([uncertainty("MC dropout", 0.5, 0.1), uncertainty("Test-time augmentation", 0.3,
                                                                                      0.4)])
    expected, mutual = figure.data
    assert figure.layout.barmode == "stack"
    assert list(expected.x) == [0.5, 0.3] and list(mutual.x) == [0.1, 0.4]
    assert list(expected.y) == ["MC dropout ", "Test-time augmentation "]


def test_overlay_has_the_photo_below_and_the_map_above_with_the_opacity():
    figure = saliency_overlay_figure(png(), saliency_map([[0.0, 1.0, 2.0], [3.0, 4.0, 5.0]]), opacity=0.4,
                                     title="<script>x</script>")
    photo, heat = figure.data
    assert photo.type == "image" and photo.source.startswith("data:image/png;base64,")
    assert base64.b64decode(photo.source.split(",", 1)[1]) == png()
    assert heat.type == "heatmap" and heat.opacity == 0.4 and heat.zmin == 0.0
    assert heat.colorscale[0][1].endswith(", 0)")  # lowest values transparent: the photo shows through
    assert list(figure.layout.yaxis.range) == [1.5, -0.5]  # row 0 at the top, like the image
    assert "<script>" not in figure.layout.title.text


def test_signed_maps_are_centred_on_zero():
    heat = saliency_overlay_figure(png(), saliency_map([[-1.0, 0.0, 2.0], [0.5, 0.5, 0.5]], signed=True),
                                   opacity=1.0).data[1]
    assert heat.zmin == -heat.zmax and heat.zmax > 0
    assert [list(s) for s in heat.colorscale] == [list(s) for s in SIGNED_SCALE]
    assert [list(s) for s in saliency_overlay_figure(png(), saliency_map([[1.0, 2.0, 3.0], [0.0, 0.0, 0.0]]),
                                                     opacity=1.0).data[1].colorscale] == \
        [list(s) for s in UNSIGNED_SCALE]


def test_colour_limit_is_a_high_percentile_of_magnitudes():
    values = np.concatenate([np.ones(999), [1000.0]])
    assert colour_limit(values) < 10  # one hot pixel does not wash out the rest
    assert colour_limit(np.zeros(4)) == 1.0


def test_a_map_that_is_zero_but_for_a_few_pixels_is_scaled_to_its_own_max():
    values = np.zeros((224, 224))
    values[100:104, 50:54] = 0.0034  # 16 pixels, 0.03 % of the map: its 99.5th percentile is 0
    assert colour_limit(values) == pytest.approx(0.0034)
    sparse = saliency_map(values.tolist())
    assert saliency_overlay_figure(png(), sparse, opacity=1.0).data[1].zmax == pytest.approx(0.0034)
    assert "colours scaled to the map's max |value|, which is 0.0034, in units of the predictive entropy (nats)" \
        in map_caption(sparse, "the predictive entropy (nats)")


def test_captions_say_what_the_colours_are_scaled_to():
    values = np.concatenate([np.ones(999), [1000.0]]).reshape(1, -1)
    caption = map_caption(saliency_map(values.tolist(), signed=True), "the logit of tabby")
    assert "colours scaled to ±1, the map's 99.5th-percentile |value|, in units of the logit of tabby" in caption
    assert "its max, 1e+03" in caption
    assert "colours scaled" not in map_caption(saliency_map([[0.0, 0.0]]))


def test_captions_explain_colours_cost_and_convergence():
    assert "red = strongest influence" in map_caption(saliency_map([[1.0, 2.0]]))
    caption = map_caption(saliency_map([[1.0, -2.0], [3.0, 0.25]], signed=True, delta=0.25))
    # attributions sum to 2.25, so f(image) - f(black) = 2.25 - 0.25 = 2 and the delta is 12% of it
    assert "blue = lowers it" in caption and "convergence delta 0.25, 12% of f(image) - f(black) = 2 " in caption
    assert "zero everywhere" in map_caption(saliency_map([[0.0, 0.0]]))


@pytest.mark.parametrize("count", [2, 5])
def test_dots_match_passes_times_classes(count):
    result = uncertainty()
    result = result.model_copy(update={"passes": count, "pass_labels": [f"p{i}" for i in range(count)],
                                       "classes": [c.model_copy(update={"per_pass": [0.1] * count})
                                                   for c in result.classes]})
    assert len(pass_spread_figure(result).data[0].x) == 2 * count
