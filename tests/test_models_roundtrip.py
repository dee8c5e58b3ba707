"""Every arch survives ganstudio.checkpoint save/load with identical outputs."""

import pytest
import torch

import ganstudio.models  # noqa: F401  (fills ARCHS)
from ganstudio import checkpoint
from ganstudio.registry import ARCHS

GENERATORS = [
    ("stylegan", dict(resolution=16, z_dim=8, w_dim=8, mapping_layers=2, channel_base=256, channel_max=16)),
    ("stylegan", dict(resolution=32, z_dim=8, w_dim=8, c_dim=3, mapping_layers=1, channel_base=256, channel_max=16)),
    ("dcgan", dict(resolution=16, z_dim=8, ngf=8)),
    ("dcgan", dict(resolution=32, z_dim=8, ngf=4, c_dim=3, c_embed_dim=5)),
]
DISCRIMINATORS = [
    ("stylegan_d", dict(resolution=16, channel_base=256, channel_max=16)),
    ("stylegan_d", dict(resolution=16, channel_base=256, channel_max=16, c_dim=3, conditioning="projection",
                        spectral_norm=True, n_classes=3, q_categorical=[4, 2], q_continuous=2)),
    ("dcgan_d", dict(resolution=16, ndf=8, c_dim=3, conditioning="concat", n_classes=3)),
    ("dcgan_d", dict(resolution=32, ndf=4, c_dim=3, conditioning="projection", spectral_norm=True,
                     q_categorical=[5], q_continuous=1)),
]


def _build(arch, config):
    torch.manual_seed(0)
    module = ARCHS.get(arch).from_config(config)
    module.train()
    c = torch.eye(3)[[0, 1, 2, 0]] if config.get("c_dim") else None
    r = config["resolution"]
    with torch.no_grad():  # move buffers off their initial values (BN stats, w_avg, SN vectors)
        for _ in range(2):
            module(torch.randn(4, module.z_dim) if hasattr(module, "mapping") else torch.randn(4, 3, r, r), c=c)
        for p in module.parameters():
            p.add_(torch.randn_like(p) * 0.01)
    return module.eval()


@pytest.mark.parametrize("arch, config", GENERATORS, ids=lambda v: v if isinstance(v, str) else "")
def test_generator_round_trip(tmp_path, arch, config):
    G = _build(arch, config)
    path = checkpoint.save(tmp_path / "g.safetensors", {"G_ema": G}, step=7)
    loaded = checkpoint.load(path)["G_ema"]
    assert type(loaded) is type(G) and loaded.config == G.config
    z = torch.randn(2, G.z_dim)
    c = torch.eye(3)[[1, 2]] if G.c_dim else None
    with torch.no_grad():
        assert torch.equal(loaded.w_avg, G.w_avg)
        assert torch.equal(loaded(z, c=c, psi=0.7), G(z, c=c, psi=0.7))


@pytest.mark.parametrize("arch, config", DISCRIMINATORS, ids=lambda v: v if isinstance(v, str) else "")
def test_discriminator_round_trip(tmp_path, arch, config):
    D = _build(arch, config)
    path = checkpoint.save(tmp_path / "d.safetensors", {"D": D})
    loaded = checkpoint.load(path)["D"]
    assert loaded.config == D.config
    r = config["resolution"]
    x, c = torch.randn(4, 3, r, r), (torch.eye(3)[[0, 1, 2, 2]] if config.get("c_dim") else None)
    with torch.no_grad():
        expected, got = D.heads(x, c), loaded.heads(x, c)
    assert set(got) == set(expected)
    for key in expected:
        assert torch.equal(got[key], expected[key]), key


@pytest.mark.parametrize("arch, config", [GENERATORS[0], GENERATORS[2]], ids=["stylegan", "dcgan"])
def test_studio_samples_each_generator_arch(tmp_path, arch, config):
    from ganstudio.imaging import to_pils
    from ganstudio.latents import z_from_seeds
    from ganstudio.studio import Studio

    G = _build(arch, config)
    checkpoint.save(tmp_path / f"{arch}.safetensors", {"G_ema": G})
    samples = Studio(tmp_path, device="cpu").sample(arch, "3, 4", psi=0.5, cutoff=1)
    with torch.no_grad():
        expected = to_pils(G(z_from_seeds([3, 4], G.z_dim), psi=0.5, cutoff=1))
    assert [s.ws.shape for s in samples] == [(G.num_ws, G.w_dim)] * 2
    assert [s.image.tobytes() for s in samples] == [im.tobytes() for im in expected]
