"""DCGAN generator/discriminator and their conditional, ACGAN and InfoGAN variants."""

import pytest
import torch
from torch import nn
from torch.nn.utils import parametrize

from ganstudio.models.dcgan import DCGANConfig, DCGANDConfig, DCGANDiscriminator, DCGANGenerator


def gen(seed=0, **overrides):
    torch.manual_seed(seed)
    return DCGANGenerator(DCGANConfig(**{"resolution": 16, "z_dim": 8, "ngf": 8, **overrides})).eval()


def disc(seed=0, **overrides):
    torch.manual_seed(seed)
    return DCGANDiscriminator(DCGANDConfig(**{"resolution": 16, "ndf": 8, **overrides})).eval()


@pytest.mark.parametrize("resolution", [16, 32, 64])
def test_generator_and_discriminator_shapes(resolution):
    G, D = gen(resolution=resolution), disc(resolution=resolution)
    assert (G.num_ws, G.w_dim, G.c_dim, G.resolution) == (1, 8, 0, resolution)
    img = G(torch.randn(3, 8))
    assert img.shape == (3, 3, resolution, resolution)
    assert img.abs().max() <= 1.0
    assert D(img).shape == (3,)
    assert D.features(img).shape == (3, 16 * 8 * min(resolution // 8, 8))


def test_generator_contract_w_is_z_and_psi_pulls_towards_zero():
    G = gen()
    z = torch.randn(2, 8)
    assert torch.equal(G.w_avg, torch.zeros(8))
    assert torch.equal(G.mapping(z), z.unsqueeze(1))
    assert torch.equal(G.mapping(z, psi=0.0), torch.zeros(2, 1, 8))
    assert torch.allclose(G.mapping(z, psi=0.5), z.unsqueeze(1) / 2)
    assert torch.equal(G.mapping(z, psi=0.5, cutoff=0), z.unsqueeze(1))
    assert torch.equal(G(z, psi=0.5), G.synthesis(G.mapping(z, psi=0.5)))
    assert torch.equal(G.synthesis(G.mapping(z), noise_mode="random"), G.synthesis(G.mapping(z), noise_mode="none"))
    z_before = z.clone()
    G.mapping(z).add_(1.0)  # editing ws in place must not write into z
    assert torch.equal(z, z_before)


def test_label_conditioned_generator():
    G = gen(c_dim=4, c_embed_dim=6)
    z = torch.randn(2, 8)
    c0, c1 = torch.eye(4)[[0, 0]], torch.eye(4)[[3, 3]]
    assert G.w_dim == 14
    ws = G.mapping(z, c=c0)
    assert ws.shape == (2, 1, 14) and torch.equal(ws[:, 0, :8], z)
    assert not torch.allclose(G(z, c=c0), G(z, c=c1))
    truncated = G.mapping(z, psi=0.0, c=c0)
    assert torch.equal(truncated[..., :8], torch.zeros(2, 1, 8))
    assert torch.equal(truncated[..., 8:], ws[..., 8:])  # the label part is never truncated
    with pytest.raises(ValueError, match="conditional"):
        G(z)


@pytest.mark.parametrize("mode", ["projection", "concat"])
def test_conditional_discriminator(mode):
    D = disc(c_dim=3, conditioning=mode)
    x = torch.randn(2, 3, 16, 16)
    c0, c1 = torch.eye(3)[[0, 0]], torch.eye(3)[[1, 1]]
    assert D(x, c0).shape == (2,)
    assert not torch.allclose(D(x, c0), D(x, c1))
    with pytest.raises(ValueError, match="conditional"):
        D(x)
    if mode == "concat":
        assert D.net[0].in_channels == 6
        assert not torch.allclose(D.features(x, c0), D.features(x, c1))
    else:
        assert torch.equal(D.features(x), D.heads(x, c1)["features"])


def test_acgan_and_infogan_heads():
    D = disc(n_classes=10, q_categorical=(10,), q_continuous=2)
    h = D.heads(torch.randn(4, 3, 16, 16))
    assert set(h) == {"logits", "features", "class_logits", "q_cat_logits", "q_cont_mean", "q_cont_logvar"}
    assert h["class_logits"].shape == (4, 10) and h["q_cat_logits"].shape == (4, 10)
    assert h["q_cont_mean"].shape == h["q_cont_logvar"].shape == (4, 2)


def test_normalisation_options():
    assert any(isinstance(m, nn.BatchNorm2d) for m in disc().modules())
    plain = disc(batch_norm=False)
    assert not any(isinstance(m, nn.BatchNorm2d) for m in plain.modules())
    sn = disc(spectral_norm=True).train()
    convs = [m for m in sn.net if isinstance(m, nn.Conv2d)]
    assert convs and all(parametrize.is_parametrized(m, "weight") for m in convs)
    for _ in range(3):
        sn(torch.randn(4, 3, 16, 16))
    for m in convs:
        assert torch.linalg.matrix_norm(m.weight.detach().flatten(1), ord=2) == pytest.approx(1.0, rel=0.05)


def test_gradient_penalty_works_without_batch_norm():
    D = disc(batch_norm=False)
    x = torch.randn(2, 3, 16, 16, requires_grad=True)
    (grad,) = torch.autograd.grad(D(x).sum(), x, create_graph=True)
    grad.square().sum().backward()
    assert D.net[0].weight.grad.abs().sum() > 0


@pytest.mark.parametrize(
    "cls, bad, message",
    [
        (DCGANConfig, dict(resolution=48), "power of two"),
        (DCGANDConfig, dict(resolution=8), "power of two"),
        (DCGANDConfig, dict(conditioning="projection"), "c_dim"),
        (DCGANDConfig, dict(c_dim=2), "needs one"),
        (DCGANDConfig, dict(c_dim=2, conditioning="film"), "conditioning must be one of"),
    ],
)
def test_bad_configs_are_refused(cls, bad, message):
    with pytest.raises(ValueError, match=message):
        cls(**bad)
