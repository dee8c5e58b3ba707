"""Import of rosinality/stylegan2-pytorch checkpoints.

tests/fixtures/rosinality_tiny.safetensors holds a narrowed (32 channels, style_dim 32,
8 mapping layers, 64 px, channel multiplier 1) Generator of that project's model.py with
seeded random weights, run on CPU: its state dict under `g_ema.`, latent_avg, z, w and the
images it rendered (const noise; truncation 0.6; style mixing at index 3). Its metadata
also holds the key layout of the full-width 256 px model. See tests/fixtures/README.md.
"""

import argparse
import json
import re
from pathlib import Path

import pytest
import torch
from safetensors import safe_open
from safetensors.torch import load_file

from ganstudio import checkpoint
from ganstudio.checkpoint import CheckpointError
from ganstudio.cli import main
from ganstudio.importers import convert_stylegan2_state, stylegan2_config, stylegan2_state_dict
from ganstudio.models.layers import fir_kernel, upsample2d
from ganstudio.models.stylegan import StyleGANConfig, StyleGANGenerator
from ganstudio.studio import Studio

FIXTURE = Path(__file__).parent / "fixtures" / "rosinality_tiny.safetensors"
ATOL = 1e-4


@pytest.fixture(scope="module")
def ref():
    tensors = load_file(FIXTURE)
    with safe_open(FIXTURE, "pt") as fh:
        meta = fh.metadata()
    state = {k[len("g_ema.") :]: v for k, v in tensors.items() if k.startswith("g_ema.")}
    return state, tensors, meta


def test_converted_generator_renders_the_original_images(ref):
    state, t, meta = ref
    assert (meta["size"], meta["channel_multiplier"], meta["inject_index"]) == ("64", "1", "3")
    G = convert_stylegan2_state(state, 64, channel_multiplier=None, latent_avg=t["latent_avg"])
    assert (G.resolution, G.z_dim, G.num_ws, G.config.mapping_layers) == (64, 32, 10, 8)
    assert not G.training
    with torch.no_grad():
        ws = G.mapping(t["z"])
        assert torch.allclose(ws[:, 0], t["w"], atol=1e-5)
        assert torch.allclose(G.synthesis(ws, noise_mode="const"), t["img_const"], atol=ATOL)
        assert torch.allclose(G(t["z"], psi=0.6), t["img_trunc"], atol=ATOL)
        mixed = torch.cat([ws[:, :3], G.mapping(t["z2"])[:, 3:]], dim=1)
        assert torch.allclose(G.synthesis(mixed), t["img_mix"], atol=ATOL)
        # the noise buffers matter: other noise gives other images
        assert not torch.allclose(G.synthesis(ws, noise_mode="none"), t["img_const"], atol=ATOL)


def test_cli_import_writes_a_checkpoint_the_studio_serves(ref, tmp_path, capsys):
    state, t, _ = ref
    pt = tmp_path / "model.pt"
    torch.save({"g_ema": state, "latent_avg": t["latent_avg"]}, pt)
    out = tmp_path / "checkpoints" / "tiny-ffhq.safetensors"
    code = main(["import", "stylegan2-pt", str(pt), "--size", "64", "--channel-multiplier", "auto", "--out", str(out)])
    assert code == 0, capsys.readouterr().err
    assert "tiny-ffhq.safetensors" in capsys.readouterr().out
    loaded = checkpoint.load(out)
    assert loaded.info.arch == "stylegan" and loaded.info.roles == ("G_ema",)
    assert loaded.info.meta["imported_from"] == "rosinality/stylegan2-pytorch"
    assert "latent_avg from the file" in loaded.info.notes
    G = loaded["G_ema"]
    assert torch.equal(G.w_avg, t["latent_avg"])
    with torch.no_grad():
        assert torch.allclose(G(t["z"], psi=0.6), t["img_trunc"], atol=ATOL)
    studio = Studio(tmp_path / "checkpoints", device="cpu")
    assert studio.model_names() == ["tiny-ffhq"]
    samples = studio.sample("tiny-ffhq", "0, 1", psi=0.7)
    assert [s.image.size for s in samples] == [(64, 64), (64, 64)]


def test_training_snapshot_with_args_and_without_latent_avg(ref, tmp_path):
    state, t, _ = ref
    pt = tmp_path / "010000.pt"
    torch.save(
        {"g": state, "d": {}, "g_ema": state, "g_optim": {}, "d_optim": {}, "ada_aug_p": 0.0,
         "args": argparse.Namespace(size=64, channel_multiplier=1, lr=0.002)},
        pt,
    )
    out = tmp_path / "snap.safetensors"
    args = ["import", "stylegan2-pt", str(pt), "--size", "64", "--channel-multiplier", "auto", "--out", str(out)]
    assert main(args) == 0
    loaded = checkpoint.load(out)
    assert "estimated" in loaded.info.notes
    # the reference latent_avg is the mean of 2000 mapped samples; ours of 10000 others
    assert torch.allclose(loaded["G_ema"].w_avg, t["latent_avg"], atol=0.15)
    with torch.no_grad():
        assert torch.allclose(loaded["G_ema"](t["z"]), t["img_const"], atol=ATOL)


def test_a_smaller_model_in_the_same_layout_converts(ref):
    """A 32 px generator in the rosinality layout is the 64 px one without its last level; in a
    skip architecture its image is the 64 px model's image minus the last toRGB, downscaled."""
    state, t, _ = ref
    last_level = ("convs.6.", "convs.7.", "to_rgbs.3.", "noises.noise_7", "noises.noise_8")
    state32 = {k: v for k, v in state.items() if not k.startswith(last_level)}
    G32 = convert_stylegan2_state(state32, 32, channel_multiplier=None, latent_avg=t["latent_avg"])
    G64 = convert_stylegan2_state(state, 64, channel_multiplier=None, latent_avg=t["latent_avg"])
    assert (G32.resolution, G32.num_ws) == (32, 8)
    assert torch.equal(G32.synthesis_net.blocks[3].conv1.conv.weight, state["convs.5.conv.weight"][0])
    assert torch.equal(G32.synthesis_net.blocks[3].conv0.noise_const, state["noises.noise_5"][0, 0])
    assert torch.equal(G32.synthesis_net.blocks[0].torgb.bias, state["to_rgb1.bias"].flatten())
    with torch.no_grad():
        img32 = G32(t["z"])
        assert img32.shape == (2, 3, 32, 32)
        skip64 = t["img_const"] - G64.synthesis_net.blocks[4].torgb(*_last_torgb_inputs(G64, t["z"]))
        assert torch.allclose(upsample2d(img32, fir_kernel(gain=4.0)), skip64, atol=ATOL)


def _last_torgb_inputs(G, z):
    seen = []
    hook = G.synthesis_net.blocks[-1].torgb.register_forward_hook(lambda m, inputs, out: seen.append(inputs))
    G(z)
    hook.remove()
    return seen[0]


@pytest.fixture(scope="module")
def full_layout(ref):
    """The full-width 256 px, channel multiplier 2 layout, as meta tensors (shapes, no data)."""
    layout = json.loads(ref[2]["layout_256_cm2"])
    return {k: torch.empty(shape, device="meta") for k, shape in layout.items()}


def test_full_width_layout_maps_onto_every_parameter(full_layout):
    config = stylegan2_config(full_layout, 256, channel_multiplier=2)
    assert config == StyleGANConfig(
        resolution=256, z_dim=512, w_dim=512, mapping_layers=8, mapping_lr_mul=0.01, channel_base=32768, channel_max=512
    )
    assert config.num_ws == 14
    converted = stylegan2_state_dict(full_layout, config)
    with torch.device("meta"):
        G = StyleGANGenerator(config)
    G.load_state_dict({**converted, "w_avg": torch.empty(512, device="meta")}, strict=True)


@pytest.mark.parametrize(
    "size, multiplier, edit, message",
    [
        (1024, 2, None, "weights are for a 256 px generator"),
        (128, 2, None, "weights are for a 256 px generator"),
        (256, 1, None, "do not fit --channel-multiplier 1; they match --channel-multiplier 2"),
        (256, 2, ("drop", "style.3.bias"), "missing style.3.bias"),
        (256, 2, ("add", "convs.0.extra"), "unexpected convs.0.extra"),
        (256, 2, ("shape", "convs.1.activate.bias"), r"wrong shape convs.1.activate.bias \[7\] \(expected \[512\]\)"),
    ],
)
def test_layout_mismatches_are_named(full_layout, size, multiplier, edit, message):
    state = dict(full_layout)
    if edit is not None:
        action, key = edit
        if action == "drop":
            del state[key]
        else:
            state[key] = torch.empty(7, device="meta")
    with pytest.raises(CheckpointError, match=message):
        stylegan2_config(state, size, channel_multiplier=multiplier)


def test_another_blur_kernel_is_refused(ref):
    state = dict(ref[0])
    state["convs.2.conv.blur.kernel"] = torch.ones(4, 4) / 4
    with pytest.raises(CheckpointError, match="convs.2.conv.blur.kernel"):
        convert_stylegan2_state(state, 64, channel_multiplier=None)


class _Sneaky:
    def __reduce__(self):
        return (print, ("unpickled code ran",))


@pytest.mark.parametrize(
    "content, message",
    [
        ([1, 2, 3], "expected a dict with a 'g_ema' state dict, got list"),
        ({"g": {}}, r"no 'g_ema' entry.*\(its keys: g\)"),
        ({"g_ema": {"input.input": torch.zeros(1)}}, "does not have the rosinality/stylegan2-pytorch Generator layout"),
        ({"g_ema": _Sneaky()}, r"refused by the weights-only loader.*\(found .*print\)"),
        (b"definitely not a checkpoint", "not a PyTorch checkpoint"),
        (None, "cannot read file"),
    ],
)
def test_files_that_are_not_rosinality_checkpoints(tmp_path, capsys, content, message):
    pt = tmp_path / "in.pt"
    if isinstance(content, bytes):
        pt.write_bytes(content)
    elif content is not None:
        torch.save(content, pt)
    code = main(["import", "stylegan2-pt", str(pt), "--size", "64", "--out", str(tmp_path / "out.safetensors")])
    captured = capsys.readouterr()
    assert code == 2
    assert "unpickled code ran" not in captured.out
    err = captured.err.strip()
    assert len(err.splitlines()) == 1 and "in.pt" in err
    assert re.search(message, err), err
    assert not (tmp_path / "out.safetensors").exists()


def test_cli_checks_its_arguments(ref, tmp_path, capsys):
    state, t, _ = ref
    pt = tmp_path / "model.pt"
    torch.save({"g_ema": state, "latent_avg": t["latent_avg"]}, pt)
    assert main(["import", "stylegan2-pt", str(pt), "--size", "64", "--out", str(tmp_path / "x.pt")]) == 2
    assert "must end in .safetensors" in capsys.readouterr().err
    # the narrowed test model does not have the standard widths of multiplier 2
    assert main(["import", "stylegan2-pt", str(pt), "--size", "64", "--out", str(tmp_path / "x.safetensors")]) == 2
    assert "do not fit --channel-multiplier 2" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["import", "stylegan2-pt", str(pt), "--size", "64", "--channel-multiplier", "0", "--out", "y.safetensors"])
