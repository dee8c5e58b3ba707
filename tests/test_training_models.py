"""The tiny test networks the trainer's recipes run on, and the minibatch discrimination layer."""

import pytest
import torch

from ganstudio import checkpoint
from ganstudio.models.minibatch import MinibatchDiscrimination
from ganstudio.models.tiny import TinyConfig, TinyDConfig, TinyDiscriminator, TinyGenerator
from ganstudio.registry import ARCHS


def test_unconditional_tiny_generator_is_unchanged_by_c_dim(tmp_path):
    torch.manual_seed(0)
    G = TinyGenerator(TinyConfig())
    assert G.c_dim == 0 and G.mapping_net[0].in_features == G.z_dim
    # A checkpoint written before c_dim existed (no such key in its config) still loads.
    path = checkpoint.save(tmp_path / "g.safetensors", {"G": G})
    info = checkpoint.read_info(path)
    old_config = {k: v for k, v in info.networks["G"].config.items() if k != "c_dim"}
    G2 = TinyGenerator.from_config(old_config)
    G2.load_state_dict(G.state_dict(), strict=True)
    z = torch.randn(3, 8)
    assert torch.equal(G2(z), G(z)) and torch.equal(G(z), G.synthesis(G.mapping(z)))


def test_conditional_tiny_generator_uses_c():
    torch.manual_seed(0)
    G = TinyGenerator(TinyConfig(c_dim=3)).eval()
    z = torch.randn(2, 8)
    a, b = torch.eye(3)[[0, 0]], torch.eye(3)[[1, 1]]
    assert not torch.allclose(G(z, a), G(z, b))
    assert torch.equal(G(z), G(z, torch.zeros(2, 3)))  # no condition = the zero condition
    assert torch.equal(G(z, a), G.synthesis(G.mapping(z, c=a)))


def test_tiny_discriminator_heads_follow_the_contract():
    assert ARCHS.get("tiny_d") is TinyDiscriminator
    x = torch.randn(4, 3, 16, 16)
    plain = TinyDiscriminator(TinyDConfig())
    assert plain(x).shape == (4,) and plain.features(x).shape == (4, 32)
    assert set(plain.heads(x)) == {"logits", "features"}
    torch.manual_seed(0)
    multi = TinyDiscriminator(TinyDConfig(n_classes=5, q_categorical=(10, 3), q_continuous=2))
    heads = multi.heads(x)
    assert heads["class_logits"].shape == (4, 5) and heads["q_cat_logits"].shape == (4, 13)
    assert heads["q_cont_mean"].shape == heads["q_cont_logvar"].shape == (4, 2)
    assert torch.equal(heads["logits"], multi(x))


def test_projection_discriminator_needs_and_uses_c():
    torch.manual_seed(0)
    D = TinyDiscriminator(TinyDConfig(c_dim=3))
    x = torch.randn(2, 3, 16, 16)
    with pytest.raises(ValueError, match="needs a condition"):
        D(x)
    assert not torch.allclose(D(x, torch.eye(3)[[0, 0]]), D(x, torch.eye(3)[[1, 1]]))


def test_minibatch_discrimination_compares_samples_within_the_batch():
    torch.manual_seed(0)
    layer = MinibatchDiscrimination(6, kernels=4)
    f = torch.randn(5, 6)
    out = layer(f)
    assert out.shape == (5, 10) and torch.equal(out[:, :6], f)
    # Identical samples are maximally close to each other: each sees N - 1 = 4 twins.
    same = layer(f[:1].repeat(5, 1))
    assert torch.allclose(same[:, 6:], torch.full((5, 4), 4.0))
    # Changing another sample changes this sample's minibatch features, not its own features.
    g = f.clone()
    g[3] += 5
    assert not torch.allclose(layer(g)[0, 6:], out[0, 6:])
    # ... and a D can include it
    D = TinyDiscriminator(TinyDConfig(minibatch_kernels=4))
    assert D.features(torch.randn(3, 3, 16, 16)).shape == (3, 36)
