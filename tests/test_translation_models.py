import pytest
import torch

from ganstudio import checkpoint
from ganstudio.models.translation import (
    PatchDiscriminator, PatchDiscriminatorConfig, ResnetGenerator, ResnetGeneratorConfig, StarDiscriminator,
    StarDiscriminatorConfig, StarGenerator, StarGeneratorConfig, _ResidualBlock, translation_meta,
)
from ganstudio.registry import ARCHS
from tests.tiny_translation import ATTRS, RES, cyclegan_nets, stargan_nets


def test_all_four_archs_are_registered():
    for name, cls in [("cyclegan_resnet", ResnetGenerator), ("patchgan", PatchDiscriminator),
                      ("stargan_generator", StarGenerator), ("stargan_discriminator", StarDiscriminator)]:
        assert ARCHS.get(name) is cls


@pytest.mark.parametrize("n_blocks", [0, 2])
def test_resnet_generator_keeps_shape_and_range_at_any_multiple_of_four(n_blocks):
    G = ResnetGenerator(ResnetGeneratorConfig(resolution=RES, width=4, n_blocks=n_blocks))
    assert sum(isinstance(m, _ResidualBlock) for m in G.modules()) == n_blocks
    for side in (RES, 24):
        y = G(torch.randn(2, 3, side, side))
        assert y.shape == (2, 3, side, side) and y.abs().max() <= 1
    with pytest.raises(ValueError, match="divisible by 4"):
        G(torch.randn(1, 3, 18, 18))


def test_width_sets_channels():
    G = ResnetGenerator(ResnetGeneratorConfig(resolution=RES, width=6, n_blocks=1))
    convs = [m for m in G.modules() if isinstance(m, torch.nn.Conv2d)]
    assert convs[0].out_channels == 6 and convs[1].out_channels == 12 and convs[2].out_channels == 24


def test_patchgan_outputs_a_patch_map_and_its_mean():
    D = PatchDiscriminator(PatchDiscriminatorConfig(width=4, n_layers=3))
    x = torch.randn(2, 3, 32, 32)
    patches = D.patches(x)
    assert patches.shape == (2, 1, 2, 2)
    assert torch.allclose(D(x), patches.flatten(1).mean(1))
    heads = D.heads(x)
    assert torch.allclose(heads["logits"], D(x)) and heads["patch_logits"].shape == (2, 1, 2, 2)
    assert D.features(x).shape == (2, 4 * 8) == heads["features"].shape
    with pytest.raises(ValueError, match="at least 24 px, got 16"):
        D(torch.randn(1, 3, 16, 16))
    with pytest.raises(ValueError, match="not conditioned"):
        D(x, c=torch.ones(2, 1))


def test_patchgan_with_three_layers_sees_70x70_patches():
    D = PatchDiscriminator(PatchDiscriminatorConfig(width=2, n_layers=3)).eval()
    for i, layer in enumerate(D.trunk):  # instance norm couples every pixel; the convs alone set the field
        if isinstance(layer, torch.nn.InstanceNorm2d):
            D.trunk[i] = torch.nn.Identity()
    x = torch.randn(1, 3, 128, 128, requires_grad=True)
    patches = D.patches(x)
    patches[0, 0, 7, 7].backward()
    rows = x.grad.abs().sum(dim=(0, 1, 3)).nonzero().flatten()
    cols = x.grad.abs().sum(dim=(0, 1, 2)).nonzero().flatten()
    assert rows.max() - rows.min() + 1 == 70 and cols.max() - cols.min() + 1 == 70


def test_stargan_generator_is_conditioned_on_target_labels():
    G = stargan_nets()["G"]
    x = torch.randn(2, 3, RES, RES)
    c1, c2 = torch.zeros(2, len(ATTRS)), torch.ones(2, len(ATTRS))
    y1, y2 = G(x, c1), G(x, c2)
    assert y1.shape == (2, 3, RES, RES) and y1.abs().max() <= 1
    # tiled labels are constant over the image: a norm right after the first conv would cancel them
    assert (y1 - y2).abs().mean() > 0.02
    with pytest.raises(ValueError, match=r"labels must be \[2, 5\]"):
        G(x, torch.zeros(2, 3))


RESIDUAL_GENERATORS = {
    "stargan": lambda: (StarGenerator(StarGeneratorConfig(resolution=RES, c_dim=2, width=4, n_blocks=1, residual=True)),
                        (torch.tensor([[1.0, 0.0], [0.0, 1.0]]),)),
    "cyclegan": lambda: (ResnetGenerator(ResnetGeneratorConfig(resolution=RES, width=4, n_blocks=1, residual=True)), ()),
}


@pytest.mark.parametrize("kind", sorted(RESIDUAL_GENERATORS))
def test_residual_generator_starts_as_the_identity_and_learns_a_change(kind):
    G, c = RESIDUAL_GENERATORS[kind]()
    x = torch.rand(2, 3, RES, RES) * 2 - 1
    assert torch.equal(G(x, *c), x)
    optimiser = torch.optim.Adam(G.parameters(), lr=1e-2)
    for _ in range(5):  # push towards a brighter image: the zero-initialised last conv must learn
        loss = -G(x * 0.5, *c).mean()
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
    assert G(x * 0.5, *c).mean() > (x * 0.5).mean() + 0.05


def test_stargan_discriminator_heads():
    D = stargan_nets()["D"]
    heads = D.heads(torch.randn(3, 3, RES, RES))
    assert heads["logits"].shape == (3,)
    assert heads["patch_logits"].shape == (3, 1, RES // 4, RES // 4)
    assert heads["class_logits"].shape == (3, len(ATTRS))
    assert heads["features"].shape == (3, 8)
    with pytest.raises(ValueError, match="takes 16x16 images"):
        D(torch.randn(1, 3, 32, 32))


@pytest.mark.parametrize("cls,config", [
    (ResnetGenerator, ResnetGeneratorConfig(resolution=18)),
    (StarGenerator, StarGeneratorConfig(c_dim=0)),
    (StarDiscriminator, StarDiscriminatorConfig(resolution=96, n_layers=6)),
    (PatchDiscriminator, PatchDiscriminatorConfig(n_layers=0)),
])
def test_bad_configs_are_refused(cls, config):
    with pytest.raises(ValueError):
        cls(config)


def test_translation_networks_round_trip_through_a_checkpoint(tmp_path):
    nets = {**cyclegan_nets(), "S_G": stargan_nets()["G"], "S_D": stargan_nets()["D"]}
    path = checkpoint.save(tmp_path / "all.safetensors", nets, meta=translation_meta("cyclegan"))
    loaded = checkpoint.load(path)
    x, c = torch.randn(2, 3, RES, RES), torch.rand(2, len(ATTRS))
    for role in ("G_AB", "G_BA"):
        assert torch.equal(loaded[role](x), nets[role].eval()(x))
    for role in ("D_A", "D_B"):
        assert torch.equal(loaded[role].patches(x), nets[role].eval().patches(x))
    assert torch.equal(loaded["S_G"](x, c), nets["S_G"].eval()(x, c))
    assert torch.equal(loaded["S_D"].heads(x)["class_logits"], nets["S_D"].eval().heads(x)["class_logits"])
    assert checkpoint.read_info(path).meta["translation"] == {"kind": "cyclegan", "exclusive_groups": []}


def test_translation_meta_validates():
    meta = translation_meta("stargan", [("A", "B")])
    assert meta == {"translation": {"kind": "stargan", "exclusive_groups": [["A", "B"]]}}
    with pytest.raises(ValueError, match="cyclegan, stargan"):
        translation_meta("pix2pix")
    with pytest.raises(ValueError, match="StarGAN"):
        translation_meta("cyclegan", [["A", "B"]])
