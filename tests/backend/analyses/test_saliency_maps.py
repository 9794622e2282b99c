"""Class-activation maps and map reductions on hand-computed cases; Grad-CAM against captum's LayerGradCam."""
from __future__ import annotations

import pytest
import torch
from captum.attr import LayerGradCam

from backend.analyses.saliency_maps import grad_cam, layer_cam, reduce_channels, summarize_map, upsample
from tests.backend.tiny_image_models import tiny_cnn

ACTIVATIONS = torch.tensor([[[1.0, 2.0], [3.0, 4.0]], [[0.0, 1.0], [1.0, 2.0]]])
GRADIENTS = torch.tensor([[[1.0, 1.0], [1.0, 1.0]], [[-2.0, 0.0], [0.0, 4.0]]])


def test_grad_cam_by_hand():
    # channel weights: mean gradients (1, 0.5) -> A0 + 0.5 A1
    assert grad_cam(ACTIVATIONS, GRADIENTS).tolist() == [[1.0, 2.5], [3.5, 5.0]]


def test_layer_cam_by_hand():
    # ReLU(G) * A summed: A0 * 1 + A1 * (0, 0; 0, 4)
    assert layer_cam(ACTIVATIONS, GRADIENTS).tolist() == [[1.0, 2.0], [3.0, 12.0]]


def test_negative_evidence_is_cut_to_zero():
    assert grad_cam(ACTIVATIONS, -GRADIENTS.abs()).tolist() == [[0.0, 0.0], [0.0, 0.0]]


def test_shapes_must_agree():
    with pytest.raises(ValueError, match="one shape"):
        grad_cam(ACTIVATIONS, GRADIENTS[:1])


def test_grad_cam_equals_captum_layer_grad_cam():
    lm = tiny_cnn()
    images = torch.rand(1, 3, 16, 16, generator=torch.Generator().manual_seed(0))
    features = lm.model.forward_features(images)
    score = lm.model.forward_head(features)[0, 2]
    gradients, = torch.autograd.grad(score, features)
    ours = grad_cam(features[0].detach(), gradients[0])
    reference = LayerGradCam(lm.model, lm.model.act).attribute(images, target=2, relu_attributions=True)
    assert ours.detach().numpy() == pytest.approx(reference[0, 0].detach().numpy(), abs=1e-6)


def test_upsample_keeps_a_constant_map_and_the_size():
    out = upsample(torch.full((2, 3), 0.7), (8, 12))
    assert out.shape == (8, 12) and torch.allclose(out, torch.full((8, 12), 0.7, dtype=torch.float64))


def test_reduce_channels():
    attribution = torch.tensor([[[1.0, -2.0]], [[-3.0, 1.0]], [[0.5, 0.5]]])
    assert reduce_channels(attribution, "sum").tolist() == [[-1.5, -0.5]]
    assert reduce_channels(attribution, "max_abs").tolist() == [[3.0, 2.0]]
    with pytest.raises(ValueError, match="unknown"):
        reduce_channels(attribution, "median")


def test_summary_by_hand():
    saliency = torch.zeros(4, 5)
    saliency[2, 3] = 3.0
    saliency[0, 0] = -1.0
    summary = summarize_map(saliency)
    assert (summary.minimum, summary.maximum, summary.mean) == (-1.0, 3.0, pytest.approx(0.1))
    assert (summary.peak_row, summary.peak_col) == (2, 3)
    assert summary.top10_share == pytest.approx(1.0)  # the 2 strongest of 20 pixels hold all |value|
    assert summarize_map(torch.ones(10, 10)).top10_share == pytest.approx(0.1)
