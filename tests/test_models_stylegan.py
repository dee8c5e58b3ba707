"""The style-based generator: mapping/synthesis contract, truncation, mixing, noise, resolutions."""

import pytest
import torch

from ganstudio.models.stylegan import StyleGANConfig, StyleGANGenerator

TINY = dict(resolution=16, z_dim=8, w_dim=8, mapping_layers=2, channel_base=256, channel_max=16)


def make(seed=0, **overrides):
    torch.manual_seed(seed)
    G = StyleGANGenerator(StyleGANConfig(**{**TINY, **overrides}))
    with torch.no_grad():
        G.w_avg.normal_()
        for name, p in G.named_parameters():
            if name.endswith("noise_strength"):
                p.fill_(0.5)  # zero at init; nonzero so noise modes are observable
    return G.eval()


def test_shapes_and_num_ws():
    G = make()
    assert (G.z_dim, G.w_dim, G.num_ws, G.resolution, G.c_dim) == (8, 8, 6, 16, 0)
    ws = G.mapping(torch.randn(3, 8))
    assert ws.shape == (3, 6, 8)
    assert G.synthesis(ws).shape == (3, 3, 16, 16)


def test_psi_one_is_identity_and_rows_repeat():
    G = make()
    z = torch.randn(2, 8)
    ws = G.mapping(z)
    assert torch.equal(ws, G.mapping(z, psi=1.0, cutoff=2))
    assert torch.equal(ws, G.mapping_net(z).unsqueeze(1).expand(-1, G.num_ws, -1))


def test_psi_zero_gives_w_avg_and_cutoff_limits_rows():
    G = make()
    z = torch.randn(2, 8)
    full = G.mapping(z)
    assert torch.allclose(G.mapping(z, psi=0.0), G.w_avg.expand(2, G.num_ws, -1))
    cut = G.mapping(z, psi=0.0, cutoff=2)
    assert torch.allclose(cut[:, :2], G.w_avg.expand(2, 2, -1))
    assert torch.equal(cut[:, 2:], full[:, 2:])
    half = G.mapping(z, psi=0.5)
    assert torch.allclose(half, (full + G.w_avg) / 2, atol=1e-6)


def test_forward_equals_synthesis_of_mapping():
    G = make()
    z = torch.randn(2, 8)
    assert torch.equal(G(z, psi=0.7, cutoff=3), G.synthesis(G.mapping(z, psi=0.7, cutoff=3)))


def test_mixing_changes_only_the_layers_reading_the_changed_rows():
    G = make()
    ws_a, ws_b = G.mapping(torch.randn(1, 8)), G.mapping(torch.randn(1, 8))
    mixed = torch.cat([ws_a[:, :3], ws_b[:, 3:]], dim=1)  # rows 0-2: a, 3-5: b
    seen = {}
    hooks = [
        G.synthesis_net.blocks[1].conv1.register_forward_hook(lambda m, i, o: seen.setdefault("8px", []).append(o)),
        G.synthesis_net.blocks[2].conv0.register_forward_hook(lambda m, i, o: seen.setdefault("16px", []).append(o)),
    ]
    img_a, img_mixed = G.synthesis(ws_a), G.synthesis(mixed)
    for h in hooks:
        h.remove()
    assert torch.equal(seen["8px"][0], seen["8px"][1])  # reads rows 0-2 only
    assert not torch.allclose(seen["16px"][0], seen["16px"][1])  # reads row 3
    assert not torch.allclose(img_a, img_mixed)


@pytest.mark.parametrize("row", range(6))
def test_every_row_of_ws_is_used(row):
    G = make()
    ws = G.mapping(torch.randn(1, 8))
    other = ws.clone()
    other[:, row] += 1.0
    assert not torch.allclose(G.synthesis(ws), G.synthesis(other))


def test_noise_modes():
    G = make()
    ws = G.mapping(torch.randn(2, 8))
    const1, const2 = G.synthesis(ws, noise_mode="const"), G.synthesis(ws, noise_mode="const")
    assert torch.equal(const1, const2)
    assert torch.equal(G.synthesis(ws, "none"), G.synthesis(ws, "none"))
    assert not torch.allclose(G.synthesis(ws, "random"), G.synthesis(ws, "random"))
    assert not torch.allclose(G.synthesis(ws, "none"), const1)
    with torch.no_grad():
        for name, p in G.named_parameters():
            if name.endswith("noise_strength"):
                p.zero_()
    assert torch.allclose(G.synthesis(ws, "none"), G.synthesis(ws, "random"))
    with pytest.raises(ValueError, match="noise_mode"):
        G.synthesis(ws, noise_mode="fixed")


def test_mapping_never_moves_w_avg_itself():
    G = make()
    z = torch.randn(16, 8)
    before = G.w_avg.clone()
    G.train()
    G.mapping(z)
    assert torch.equal(G.w_avg, before)  # the trainer owns the running mean


@pytest.mark.parametrize("resolution", [16, 32, 64, 128, 256])
def test_every_resolution_builds_and_renders(resolution):
    G = make(resolution=resolution, channel_base=16 * 16, channel_max=16)
    ws = G.mapping(torch.randn(1, 8))
    assert ws.shape == (1, 2 * resolution.bit_length() - 4, 8)
    img = G.synthesis(ws)
    assert img.shape == (1, 3, resolution, resolution)
    assert torch.isfinite(img).all()


def test_largest_resolution_builds_with_a_halving_channel_schedule():
    cfg = StyleGANConfig(resolution=1024, channel_base=32768, channel_max=512)
    assert [cfg.channels(2**i) for i in range(2, 11)] == [512, 512, 512, 512, 512, 256, 128, 64, 32]
    assert cfg.num_ws == 18


@pytest.mark.parametrize("resolution", [8, 48, 2048, "64"])
def test_bad_resolution_is_refused(resolution):
    with pytest.raises(ValueError, match="power of two from 16 to 1024"):
        StyleGANConfig(resolution=resolution)


def test_conditional_mapping_uses_c():
    G = make(c_dim=3)
    z = torch.randn(2, 8)
    c0, c1 = torch.eye(3)[[0, 0]], torch.eye(3)[[1, 1]]
    assert G.c_dim == 3
    assert not torch.allclose(G.mapping(z, c=c0), G.mapping(z, c=c1))
    assert torch.equal(G(z, c=c0), G.synthesis(G.mapping(z, c=c0)))
    with pytest.raises(ValueError, match="conditional"):
        G.mapping(z)


def test_every_parameter_gets_a_gradient():
    G = make(c_dim=2).train()
    img = G(torch.randn(2, 8), c=torch.eye(2), noise_mode="random")
    img.square().mean().backward()
    missing = [n for n, p in G.named_parameters() if p.grad is None or not p.grad.abs().sum() > 0]
    assert missing == []


def test_wrong_ws_shape_is_a_clear_error():
    G = make()
    with pytest.raises(ValueError, match=r"ws must be \[B, 6, 8\]"):
        G.synthesis(torch.randn(2, 8))


def test_style_affines_read_each_row_and_feed_sefa():
    from ganstudio.editing.directions import sefa

    G = make()
    affines = G.style_affines()
    assert len(affines) == G.num_ws and all(a.shape[1] == G.w_dim for a in affines)
    widths = [a.shape[0] for a in affines]
    assert widths[0] == G.synthesis_net.blocks[0].conv1.conv.affine.weight.shape[0]
    names, vectors = sefa(G=G, n_components=3)
    assert names == ["SeFa0", "SeFa1", "SeFa2"] and vectors.shape == (3, G.w_dim)
    _, coarse = sefa(G=G, n_components=3, layers=(0, 2))
    assert not torch.allclose(torch.as_tensor(coarse), torch.as_tensor(vectors))


def test_noise_max_res_leaves_the_finer_levels_without_noise_inputs():
    G = make(noise_max_res=8)
    noisy = {name.split(".noise")[0] for name in G.state_dict() if "noise" in name}
    assert noisy == {"synthesis_net.blocks.0.conv1", "synthesis_net.blocks.1.conv0", "synthesis_net.blocks.1.conv1"}
    # with no noise input anywhere, every noise mode renders the same image
    quiet = make(noise_max_res=0)
    ws = quiet.mapping(torch.randn(2, 8))
    images = [quiet.synthesis(ws, noise_mode=m) for m in ("random", "const", "none")]
    assert torch.equal(images[0], images[2]) and torch.equal(images[1], images[2])
    assert not any("noise" in name for name in quiet.state_dict())
    with pytest.raises(ValueError, match="noise_max_res"):
        StyleGANConfig(**{**TINY, "noise_max_res": -1})


def test_a_preview_is_the_skip_sum_at_a_lower_level():
    G = make(resolution=32)
    ws = G.mapping(torch.randn(2, G.z_dim))
    assert G.preview_resolutions == (4, 8, 16)
    last = {}
    G.synthesis_net.blocks[-1].torgb.register_forward_hook(lambda module, args, out: last.update(rgb=out))
    with torch.no_grad():
        full = G.synthesis(ws)
        preview = G.synthesis(ws, resolution=16)
        both = G.synthesis_and_coarse(ws, 16)
    assert preview.shape == (2, 3, 16, 16)
    # the full frame is the preview lifted by the skip path's upsampling plus the last level's own RGB
    assert torch.allclose(full, G.lift(preview) + last["rgb"], atol=1e-6)
    assert torch.equal(both[0], full) and torch.equal(both[1], preview)
    assert torch.equal(G.synthesis(ws, resolution=32), full)
    with pytest.raises(ValueError, match="resolution must be one of 4, 8, 16 or 32, got 12"):
        G.synthesis(ws, resolution=12)


def test_level_costs_count_every_convolution_at_its_size():
    G = make(resolution=16)
    costs = G.level_costs()
    assert list(costs) == [4, 8, 16] and costs[4] < costs[8] < costs[16]
    block = G.synthesis_net.blocks[2]  # 16 px: the upsampling conv reads 8 px, the others 16 px
    added = (block.conv0.conv.weight.numel() * 8 * 8 + block.conv1.conv.weight.numel() * 16 * 16
             + block.torgb.conv.weight.numel() * 16 * 16)
    assert costs[16] - costs[8] == added


@pytest.mark.parametrize("clamp", [None, 0.5])
def test_one_image_at_a_time_draws_what_the_batch_draws(clamp):
    """A single image takes another code path (styles, demodulation, gain and bias folded into the
    convolution; in place without autograd): it must draw the same pixels as the batched path."""
    torch.manual_seed(0)
    G = StyleGANGenerator(StyleGANConfig(resolution=32, z_dim=16, w_dim=16, channel_base=128, channel_max=32,
                                         conv_clamp=clamp)).eval()
    with torch.no_grad():
        for p in G.parameters():  # nonzero biases and noise strengths, so their folding is exercised
            p.add_(torch.randn_like(p) * 0.1)
    ws = G.mapping(torch.randn(3, 16))
    batch = G.synthesis(ws, noise_mode="const")
    for i in range(3):
        with torch.no_grad():
            single = G.synthesis(ws[i:i + 1], noise_mode="const")
        with torch.enable_grad():
            tracked = G.synthesis(ws[i:i + 1].detach().requires_grad_(True), noise_mode="const")
        assert torch.allclose(single[0], batch[i], atol=1e-5)
        assert torch.allclose(tracked[0], single[0], atol=1e-6) and tracked.requires_grad
