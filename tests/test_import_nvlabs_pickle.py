"""Import of NVlabs stylegan2-ada-pytorch network pickles, read as data (no code from them runs).

The pickles are written here in the layout torch_utils.persistence gives them: each network
reduces to `torch_utils.persistence._reconstruct_persistent_obj(meta)` with its module source,
class name and nn.Module attribute dict, settings in `dnnlib.util.EasyDict`s. Stand-ins carry
those names only while pickling. The source stored in them would create a marker file if it ever
ran. (The numerical match with the upstream code itself was checked by hand, outside the suite.)
"""

import math
import os
import pickle
import re
import sys
import types
from collections import OrderedDict

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from ganstudio import checkpoint
from ganstudio.checkpoint import CheckpointError
from ganstudio.cli import main
from ganstudio.models.stylegan import StyleGANConfig, StyleGANGenerator
from ganstudio.nvlabs_pickle import PersistentRecord, import_stylegan_pkl, read_network_pickle

TINY = dict(resolution=16, z_dim=16, w_dim=16, mapping_layers=2, channel_base=256, channel_max=16)


def _reconstruct_persistent_obj(meta):  # only its name goes into the pickle
    raise AssertionError("the importer must never call the pickled reconstructor")


class EasyDict(dict):
    pass


_reconstruct_persistent_obj.__module__ = "torch_utils.persistence"
EasyDict.__module__ = "dnnlib.util"


class _Persistent:
    """Pickles as a torch_utils.persistence object does: reconstructor, then one meta dict."""

    def __init__(self, class_name, state, source):
        self.class_name, self.state, self.source = class_name, state, source

    def __reduce__(self):
        meta = dict(type="class", version=6, module_src=self.source, class_name=self.class_name, state=self.state)
        return (_reconstruct_persistent_obj, (meta,))


class _Call:
    """Pickles as a call of `func(*args)`: the shape of a hostile payload."""

    def __init__(self, func, *args):
        self.func, self.args = func, args

    def __reduce__(self):
        return (self.func, self.args)


def _write(path, obj):
    """Pickle `obj` with the upstream names registered in sys.modules for the duration only."""
    persistence = types.ModuleType("torch_utils.persistence")
    persistence._reconstruct_persistent_obj = _reconstruct_persistent_obj
    util = types.ModuleType("dnnlib.util")
    util.EasyDict = EasyDict
    names = {"torch_utils": types.ModuleType("torch_utils"), "torch_utils.persistence": persistence,
             "dnnlib": types.ModuleType("dnnlib"), "dnnlib.util": util}
    with pytest.MonkeyPatch.context() as patch:
        for name, module in names.items():
            patch.setitem(sys.modules, name, module)
        path.write_bytes(pickle.dumps(obj))
    assert not set(names) & set(sys.modules)


def _model(**changes):
    """A tiny `stylegan` generator with every parameter and w_avg away from its initial value."""
    torch.manual_seed(0)
    G = StyleGANGenerator(StyleGANConfig(**{**TINY, **changes})).eval()
    with torch.no_grad():
        for name, value in G.named_parameters():
            if name.endswith(("bias", "noise_strength")):
                value.add_(torch.randn_like(value) * 0.3)
        G.w_avg.normal_()
    return G


def _ada_tensors(G):
    """G's tensors under the StyleGAN2-ADA Generator's names (spelled out here, apart from the
    importer), with ADA's [1, 3, 3, 1] resample-filter buffers in every block and styled conv."""
    s = G.state_dict()
    out = {"mapping.w_avg": s["w_avg"]}
    for i in range(G.config.mapping_layers):
        for p in ("weight", "bias"):
            out[f"mapping.fc{i}.{p}"] = s[f"mapping_net.layers.{i}.{p}"]
    taps = torch.tensor([1.0, 3.0, 3.0, 1.0])
    ada_filter = torch.outer(taps, taps) / 64
    for k, block in enumerate(G.synthesis_net.blocks):
        b = f"synthesis.b{4 * 2**k}"
        out[f"{b}.resample_filter"] = ada_filter
        if k == 0:
            out[f"{b}.const"] = block.const
        for name in ("conv0", "conv1", "torgb"):
            layer = getattr(block, name, None)
            if layer is None:
                continue
            out[f"{b}.{name}.weight"] = layer.conv.weight
            out[f"{b}.{name}.affine.weight"] = layer.conv.affine.weight
            out[f"{b}.{name}.affine.bias"] = layer.conv.affine.bias
            out[f"{b}.{name}.bias"] = layer.bias
            if name != "torgb":
                out[f"{b}.{name}.resample_filter"] = ada_filter
                out[f"{b}.{name}.noise_strength"] = layer.noise_strength
                out[f"{b}.{name}.noise_const"] = layer.noise_const
    return {k: v.detach().clone() for k, v in out.items()}


def _record(tensors, class_name, source, init_kwargs=None):
    """The nested persistent objects of an nn.Module holding `tensors` (flat state-dict keys)."""
    params, buffers, children = OrderedDict(), OrderedDict(), {}
    for key, value in tensors.items():
        head, _, rest = key.partition(".")
        if rest:
            children.setdefault(head, {})[rest] = value
        elif head in ("w_avg", "resample_filter", "noise_const"):
            buffers[head] = value
        else:
            params[head] = nn.Parameter(value, requires_grad=False)
    state = {
        "training": False, "_parameters": params, "_buffers": buffers, "_non_persistent_buffers_set": set(),
        "_modules": OrderedDict((k, _record(v, "Layer", source)) for k, v in children.items()),
        "_forward_hooks": OrderedDict(), "_init_args": (), "_init_kwargs": init_kwargs or {},
        "weight_gain": np.float64(0.25),  # ADA keeps numpy scalars among the attributes
    }
    return _Persistent(class_name, state, source)


def _init_kwargs(config, **synthesis):
    return {
        "z_dim": config.z_dim, "c_dim": config.c_dim, "w_dim": config.w_dim, "img_resolution": config.resolution,
        "img_channels": 3, "mapping_kwargs": EasyDict(num_layers=config.mapping_layers),
        "synthesis_kwargs": EasyDict(channel_base=config.channel_base, channel_max=config.channel_max,
                                     num_fp16_res=2, conv_clamp=config.conv_clamp, **synthesis),
    }


# A tiny StyleGAN2-ADA Discriminator: 16 px, channel_base 128, channel_max 16 (channels 8, 16, 16).
D_CHANNELS = {16: 8, 8: 16, 4: 16}
D_KWARGS = {"c_dim": 0, "img_resolution": 16, "img_channels": 3, "channel_base": 128, "channel_max": 16,
            "num_fp16_res": 2, "block_kwargs": EasyDict(freeze_layers=1), "mapping_kwargs": EasyDict(),
            "epilogue_kwargs": EasyDict(mbstd_group_size=2, mbstd_num_channels=2)}


def _ada_d_tensors(seed=0):
    """Random tensors under the names and shapes of D_KWARGS's Discriminator, with the [1, 3, 3, 1]
    resample-filter buffer in every block and every convolution."""
    gen = torch.Generator().manual_seed(seed)
    taps = torch.tensor([1.0, 3.0, 3.0, 1.0])
    ada_filter = torch.outer(taps, taps) / 64
    shapes = {}
    for res in (16, 8):
        c, out = D_CHANNELS[res], D_CHANNELS[res // 2]
        if res == 16:
            shapes["b16.fromrgb"] = (c, 3, 1, 1)
        shapes.update({f"b{res}.conv0": (c, c, 3, 3), f"b{res}.conv1": (out, c, 3, 3), f"b{res}.skip": (out, c, 1, 1)})
    shapes.update({"b4.conv": (16, 18, 3, 3), "b4.fc": (16, 16 * 16), "b4.out": (1, 16)})
    tensors = {"b16.resample_filter": ada_filter, "b8.resample_filter": ada_filter}
    for layer, shape in shapes.items():
        tensors[f"{layer}.weight"] = torch.randn(shape, generator=gen)
        if not layer.endswith("skip"):
            tensors[f"{layer}.bias"] = torch.randn(shape[0], generator=gen) * 0.3
        if len(shape) == 4:
            tensors[f"{layer}.resample_filter"] = ada_filter
    return tensors


def _ada_d_record(source, tensors=None, clamp=None, **changes):
    """The Discriminator record, each convolution with the conv_clamp attribute it keeps
    (the importer reads the clamp there: stylegan3's default of 256 is in no init kwargs)."""
    D = _record(_ada_d_tensors() if tensors is None else tensors, "Discriminator", source, {**D_KWARGS, **changes})
    for block in D.state["_modules"].values():
        for name, layer in block.state["_modules"].items():
            layer.state["conv_clamp"] = None if name == "skip" else clamp
    return D


def _ada_d_logits(t, img, clamp=None):
    """D_KWARGS's Discriminator evaluated plainly from its tensors, as stylegan2-ada-pytorch defines
    it: resample = pad by 1 (+ the conv's own padding), 4x4 filter, stride-2 conv; the resnet sum
    of conv1 and the linear skip, each times sqrt(1/2) (conv1's clamp scaled alike); minibatch
    stddev over groups of 2 in 2 channel groups; conv, fc, out."""
    def layer(x, name, act=True, down=False, gain=1.0, clamped=True):
        w = t[f"{name}.weight"]
        w = w / math.sqrt(w[0].numel())
        if w.ndim == 2:
            x = F.linear(x, w)
        elif down:
            p = w.shape[-1] // 2 + 1
            f = t[f"{name}.resample_filter"][None, None].repeat(x.shape[1], 1, 1, 1)
            x = F.conv2d(F.conv2d(F.pad(x, [p] * 4), f, groups=x.shape[1]), w, stride=2)
        else:
            x = F.conv2d(x, w, padding=w.shape[-1] // 2)
        if f"{name}.bias" in t:
            x = x + t[f"{name}.bias"].view(1, -1, *[1] * (x.ndim - 2))
        x = (F.leaky_relu(x, 0.2) * math.sqrt(2) if act else x) * gain
        return x.clamp(-clamp * gain, clamp * gain) if clamp is not None and clamped else x

    x = layer(img, "b16.fromrgb")
    for res in (16, 8):
        skip = layer(x, f"b{res}.skip", act=False, down=True, gain=math.sqrt(0.5), clamped=False)
        x = skip + layer(layer(x, f"b{res}.conv0"), f"b{res}.conv1", down=True, gain=math.sqrt(0.5))
    _, c, h, w = x.shape
    groups = x.reshape(2, -1, 2, c // 2, h, w)
    std = (groups - groups.mean(0)).square().mean(0).add(1e-8).sqrt().mean(dim=[2, 3, 4])  # [n/2, 2]
    x = torch.cat([x, std.reshape(-1, 2, 1, 1).repeat(2, 1, h, w)], dim=1)
    x = layer(layer(x, "b4.conv").flatten(1), "b4.fc", clamped=False)
    return layer(x, "b4.out", act=False, clamped=False).squeeze(1)


def _snapshot(tmp_path, G, tensors=None, init_kwargs=None, class_name="Generator", D="tiny"):
    """A network-snapshot pickle as the ADA training loop writes it, with G as G and G_ema, and
    D ("tiny": the 16 px Discriminator of D_KWARGS)."""
    source = f"open({str(tmp_path / 'SOURCE_RAN')!r}, 'w').close()"
    tensors = _ada_tensors(G) if tensors is None else tensors
    g_ema = _record(tensors, class_name, source, init_kwargs or _init_kwargs(G.config))
    g_ema.state["_buffers"]["scratch"] = torch.ones(2)  # a non-persistent buffer is no part of the state dict
    g_ema.state["_non_persistent_buffers_set"] = {"scratch"}
    D = _ada_d_record(source) if D == "tiny" else D
    data = {"training_set_kwargs": {"path": "faces.zip", "resolution": G.resolution},
            "G": g_ema, "D": D, "G_ema": g_ema, "augment_pipe": None}
    path = tmp_path / "network-snapshot-000120.pkl"
    _write(path, data)
    return path


def test_the_pickle_reads_as_data_records(tmp_path):
    path = _snapshot(tmp_path, _model())
    data = read_network_pickle(path)
    G = data["G_ema"]
    assert isinstance(G, PersistentRecord) and (G.class_name, G.version) == ("Generator", 6)
    assert data["G"] is G and data["D"].class_name == "Discriminator" and data["augment_pipe"] is None
    assert G.init_kwargs["synthesis_kwargs"] == {"channel_base": 256, "channel_max": 16, "num_fp16_res": 2,
                                                 "conv_clamp": None}
    state = G.state_dict()
    assert "scratch" not in state and state["mapping.w_avg"].shape == (16,)
    assert set(state) == set(_ada_tensors(_model()))
    assert not (tmp_path / "SOURCE_RAN").exists()


@pytest.mark.parametrize("clamp", [None, 0.5])
def test_imported_generator_is_the_original(tmp_path, clamp):
    original = _model(conv_clamp=clamp)
    out = import_stylegan_pkl(_snapshot(tmp_path, original), tmp_path / "ada.safetensors")
    loaded = checkpoint.load(out)
    assert loaded.info.meta["imported_from"] == "NVlabs stylegan2-ada-pytorch"
    assert loaded.info.meta["source_file"] == "network-snapshot-000120.pkl"
    G = loaded["G_ema"]
    assert G.config == original.config
    assert all(torch.equal(v, original.state_dict()[k]) for k, v in G.state_dict().items())
    z = torch.randn(3, 16, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        want = original(z, psi=0.7)
        assert torch.equal(G(z, psi=0.7), want)
        if clamp is not None:  # the clamp is carried over, and it bites: unclamped, the same weights differ
            assert not torch.allclose(_model()(z, psi=0.7), want)
    assert not (tmp_path / "SOURCE_RAN").exists()


def test_cli_imports_a_network_pickle(tmp_path, capsys):
    path = _snapshot(tmp_path, _model())
    out = tmp_path / "ada.safetensors"
    assert main(["import", "stylegan-pkl", str(path), "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "ada.safetensors (arch stylegan, roles G_ema, D, 16 px)" in printed and "note" not in printed
    assert checkpoint.read_info(out).roles == ("G_ema", "D")
    assert main(["import", "stylegan-pkl", str(path), "--size", "32", "--out", str(tmp_path / "b.safetensors")]) == 2
    assert "G_ema makes 16 px images, not --size 32" in capsys.readouterr().err
    assert main(["import", "stylegan2-pt", str(path), "--out", str(tmp_path / "c.safetensors")]) == 2
    assert "stylegan2-pt needs --size" in capsys.readouterr().err


def _hostile(marker):
    touch = f"touch {marker}"
    return {
        "os.system": (_Call(os.system, touch), rf"refused global {os.system.__module__}\.system"),
        "exec in a network": (
            _record({"w": torch.zeros(1)}, "Generator", "",
                    {"z_dim": _Call(exec, f"open({str(marker)!r}, 'w').close()")}),
            r"refused global builtins\.exec",
        ),
        "inside a tensor storage": (
            _Call(torch.storage._load_from_bytes, pickle.dumps(_Call(os.system, touch), protocol=2)),
            rf"weights-only loader refuses \(refused global {os.system.__module__}\.system\)",
        ),
    }


@pytest.mark.parametrize("case", ["os.system", "exec in a network", "inside a tensor storage"])
def test_hostile_pickles_are_refused_without_running(tmp_path, capsys, case):
    marker = tmp_path / "MARKER"
    payload, message = _hostile(marker)[case]
    path = tmp_path / "evil.pkl"
    _write(path, {"G_ema": payload})
    with pytest.raises(CheckpointError, match=message):
        read_network_pickle(path)
    assert main(["import", "stylegan-pkl", str(path), "--out", str(tmp_path / "out.safetensors")]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "evil.pkl" in err and re.search(message, err), err
    assert not marker.exists() and not (tmp_path / "out.safetensors").exists()


def _reshaped(tensors):
    tensors["synthesis.b8.conv0.weight"] = torch.zeros(16, 16, 1, 1)
    return tensors


@pytest.mark.parametrize(
    "tensors, kwargs, class_name, message",
    [
        (None, {"architecture": "resnet"}, "Generator", "synthesis architecture 'resnet': only 'skip'"),
        (None, {"magnitude_ema_beta": 0.99}, "Generator", "does not support: magnitude_ema_beta"),
        (None, {}, "Discriminator", "a Discriminator, not a StyleGAN2-ADA Generator"),
        (_reshaped, {}, "Generator",
         r"wrong shape synthesis\.b8\.conv0\.weight \[16, 16, 1, 1\] \(expected \[16, 16, 3, 3\]\)"),
        (lambda t: {k: v for k, v in t.items() if k != "mapping.w_avg"}, {}, "Generator", "missing mapping.w_avg"),
        (lambda t: {**t, "synthesis.b4.conv1.resample_filter": torch.full((4, 4), 1 / 16)}, {}, "Generator",
         r"synthesis\.b4\.conv1\.resample_filter is not the \[1, 3, 3, 1\] filter"),
    ],
)
def test_generators_that_do_not_convert_are_named(tmp_path, capsys, tensors, kwargs, class_name, message):
    G = _model()
    path = _snapshot(tmp_path, G, tensors(_ada_tensors(G)) if tensors else None,
                     _init_kwargs(G.config, **kwargs), class_name)
    assert main(["import", "stylegan-pkl", str(path), "--out", str(tmp_path / "out.safetensors")]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "network-snapshot-000120.pkl: G_ema" in err and re.search(message, err), err
    assert not (tmp_path / "out.safetensors").exists()


@pytest.mark.parametrize(
    "content, message",
    [(b"not a pickle at all", "not a network pickle"), ([1, 2], "a list, not a dict"),
     ({"G": None}, r"no 'G_ema' network.*\(its keys: G\)")],
)
def test_files_that_are_not_network_pickles(tmp_path, content, message):
    path = tmp_path / "x.pkl"
    path.write_bytes(content if isinstance(content, bytes) else pickle.dumps(content))
    with pytest.raises(CheckpointError, match=message):
        import_stylegan_pkl(path, tmp_path / "out.safetensors")


def test_stylegan2_of_the_stylegan3_repo_passes_its_settings_flat(tmp_path):
    """NVlabs/stylegan3's StyleGAN2 Generator takes the synthesis settings beside z_dim, not in a dict."""
    original = _model(conv_clamp=0.5)
    kw = _init_kwargs(original.config)
    kw.update(kw.pop("synthesis_kwargs"), fused_modconv_default="inference_only")
    out = import_stylegan_pkl(_snapshot(tmp_path, original, init_kwargs=kw), tmp_path / "flat.safetensors")
    G = checkpoint.load(out)["G_ema"]
    assert G.config == original.config
    z = torch.randn(2, 16, generator=torch.Generator().manual_seed(2))
    with torch.no_grad():
        assert torch.equal(G(z, psi=0.7), original(z, psi=0.7))
    path = _snapshot(tmp_path, original, init_kwargs={**kw, "bogus": 1})
    with pytest.raises(CheckpointError, match="the Generator's init kwargs has settings this importer does not "
                                              "support: bogus"):
        import_stylegan_pkl(path, tmp_path / "bogus.safetensors")


def test_a_clamp_the_kwargs_leave_out_is_read_from_the_layers(tmp_path):
    """NVlabs/stylegan3's StyleGAN2 layers clamp at 256 by default, and its train.py passes conv_clamp
    only to switch it off: the value the layers recorded is the one that holds."""
    original = _model(conv_clamp=0.5)
    kw = _init_kwargs(original.config)
    kw.update(kw.pop("synthesis_kwargs"))
    del kw["conv_clamp"]  # as that train.py leaves it
    record = _record(_ada_tensors(original), "Generator", "", kw)
    record.state["_modules"]["synthesis"].state["_modules"]["b4"].state["_modules"]["conv1"].state["conv_clamp"] = 0.5
    path = tmp_path / "network-snapshot.pkl"
    _write(path, {"G_ema": record})
    G = checkpoint.load(import_stylegan_pkl(path, tmp_path / "clamped.safetensors"))["G_ema"]
    assert G.config.conv_clamp == 0.5
    z = torch.randn(2, 16, generator=torch.Generator().manual_seed(2))
    with torch.no_grad():
        assert torch.equal(G(z, psi=0.7), original(z, psi=0.7))
