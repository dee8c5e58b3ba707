"""Every arch survives ganstudio.checkpoint save/load with identical outputs."""

import inspect

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


def _project_archs() -> list[str]:
    """Every arch ganstudio itself registers (tests register stand-ins of their own)."""
    return [n for n in ARCHS.names() if ARCHS.get(n).__module__.startswith("ganstudio.")]


def _example_inputs(module) -> tuple:
    """What the arch's forward takes, for a batch of 2: z (and c) for a generator, 2-D points for
    a network without a resolution, else images (and labels where the config has c_dim)."""
    torch.manual_seed(1)
    c_dim = getattr(module.config, "c_dim", 0) or 0
    c = torch.eye(c_dim)[[0, c_dim - 1]] if c_dim else None
    if hasattr(module, "mapping"):
        return (torch.randn(2, module.z_dim), c)
    if not hasattr(module.config, "resolution"):
        size = getattr(module.config, "in_dim", None)
        if size:
            return (torch.randn(2, size),)
        return (torch.rand(2, 3, 32, 32) * 2 - 1,)  # a fully convolutional net (PatchGAN)
    r = module.config.resolution
    images = torch.rand(2, 3, r, r) * 2 - 1
    needs_c = "c" in inspect.signature(module.forward).parameters and \
        inspect.signature(module.forward).parameters["c"].default is inspect.Parameter.empty
    return (images, c) if needs_c else (images,)  # (a StarGAN D's c_dim is its classifier's, not an input)


@pytest.mark.parametrize("arch", _project_archs())
def test_every_arch_builds_small_round_trips_and_runs(tmp_path, arch):
    """One test for every registered arch (a new arch needs only its file and `tiny_config`):
    it builds, survives save/load bit for bit, and its forward gives the same finite output."""
    cls = ARCHS.get(arch)
    assert cls.tiny_config, f"{arch} declares no tiny_config"
    torch.manual_seed(0)
    module = cls.from_config(cls.tiny_config).eval()
    loaded = checkpoint.load(checkpoint.save(tmp_path / "net.safetensors", {"net": module}))["net"]
    assert type(loaded) is cls and loaded.config == module.config
    assert all(torch.equal(a, b) for a, b in zip(module.state_dict().values(), loaded.state_dict().values()))
    inputs = _example_inputs(module)
    with torch.no_grad():
        out, again = module(*inputs), loaded(*inputs)
    assert out.shape[0] == 2 and torch.isfinite(out).all() and torch.equal(out, again)
    if cls.discriminator:  # a generator's usual discriminator is itself registered
        assert cls.discriminator in ARCHS
