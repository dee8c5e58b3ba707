"""The residual (StyleGAN2-like) discriminator and its heads."""

import pytest
import torch
from torch.nn.utils import parametrize

from ganstudio.models.discriminator import ResNetDConfig, ResNetDiscriminator
from ganstudio.models.layers import minibatch_stddev

TINY = dict(resolution=16, channel_base=256, channel_max=16)


def make(seed=0, **overrides):
    torch.manual_seed(seed)
    return ResNetDiscriminator(ResNetDConfig(**{**TINY, **overrides}))


@pytest.mark.parametrize("resolution", [16, 32, 64, 128, 256])
def test_output_shapes_at_every_resolution(resolution):
    D = make(resolution=resolution)
    x = torch.randn(4, 3, resolution, resolution)
    logits = D(x)
    assert logits.shape == (4,)
    assert D.features(x).shape == (4, 16)
    assert set(D.heads(x)) == {"logits", "features"}
    assert torch.isfinite(logits).all()


def test_odd_batches_use_a_smaller_stddev_group():
    D = make()
    assert D(torch.randn(3, 3, 16, 16)).shape == (3,)
    assert D(torch.randn(6, 3, 16, 16)).shape == (6,)


def test_minibatch_stddev_measures_variety_within_groups():
    same = torch.randn(1, 2, 3, 3).repeat(4, 1, 1, 1)
    out = minibatch_stddev(same, group_size=4)
    assert out.shape == (4, 3, 3, 3)
    assert torch.allclose(out[:, 2], torch.full((4, 3, 3), 1e-4))
    varied = torch.arange(4.0).view(4, 1, 1, 1).expand(4, 2, 3, 3)
    std = torch.arange(4.0).std(unbiased=False)
    assert torch.allclose(minibatch_stddev(varied)[:, 2], std.expand(4, 3, 3), atol=1e-4)
    # with groups of 2, samples {0, 2} and {1, 3} are compared (strided like StyleGAN2)
    assert torch.allclose(minibatch_stddev(varied, group_size=2)[:, 2], torch.ones(4, 3, 3), atol=1e-4)


def test_projection_conditioning_changes_logits_not_features():
    D = make(c_dim=3, conditioning="projection")
    x = torch.randn(2, 3, 16, 16)
    c0, c1 = torch.eye(3)[[0, 0]], torch.eye(3)[[2, 2]]
    assert torch.equal(D.features(x), D.heads(x, c0)["features"])
    assert not torch.allclose(D(x, c0), D(x, c1))
    with pytest.raises(ValueError, match="conditional"):
        D(x)


@pytest.mark.parametrize(
    "bad, message",
    [
        (dict(c_dim=3), "projection"),
        (dict(conditioning="projection"), "c_dim"),
        (dict(conditioning="concat", c_dim=2), "conditioning must be one of"),
        (dict(resolution=24), "power of two"),
    ],
)
def test_bad_configs_are_refused(bad, message):
    with pytest.raises(ValueError, match=message):
        ResNetDConfig(**{**TINY, **bad})


def test_acgan_and_infogan_heads():
    D = make(n_classes=5, q_categorical=[10, 3], q_continuous=2)
    assert D.config.q_categorical == (10, 3)
    x = torch.randn(4, 3, 16, 16)
    h = D.heads(x)
    assert torch.equal(h["logits"], D(x))
    assert h["class_logits"].shape == (4, 5)
    assert h["q_cat_logits"].shape == (4, 13)
    assert h["q_cont_mean"].shape == (4, 2)
    assert h["q_cont_logvar"].shape == (4, 2)


def test_spectral_norm_bounds_every_weight():
    D = make(spectral_norm=True, n_classes=2, q_continuous=1).train()
    layers = [m for m in D.modules() if parametrize.is_parametrized(m, "weight")]
    plain = make(n_classes=2, q_continuous=1)
    assert len(layers) == sum(1 for n, _ in plain.named_parameters() if n.endswith("weight")) == 13
    for _ in range(5):  # power iterations happen in train-mode forwards
        D(torch.randn(4, 3, 16, 16))
    for m in layers:
        sigma = torch.linalg.matrix_norm(m.weight.detach().flatten(1), ord=2)
        assert sigma == pytest.approx(1.0, rel=0.05)
    assert not any(parametrize.is_parametrized(m) for m in make().modules())


def test_r1_double_backward_reaches_the_weights():
    D = make()
    x = torch.randn(2, 3, 16, 16, requires_grad=True)
    (grad,) = torch.autograd.grad(D(x).sum(), x, create_graph=True)
    grad.square().sum().backward()
    assert D.from_rgb.weight.grad is not None and D.from_rgb.weight.grad.abs().sum() > 0
