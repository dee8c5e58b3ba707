"""Import of NVlabs stylegan2-ada-pytorch network pickles, read as data (no code from them runs).

The pickles are written here in the layout torch_utils.persistence gives them: each network
reduces to `torch_utils.persistence._reconstruct_persistent_obj(meta)` with its module source,
class name and nn.Module attribute dict, settings in `dnnlib.util.EasyDict`s. Stand-ins carry
those names only while pickling. The source stored in them would create a marker file if it ever
ran. (The numerical match with the upstream code itself was checked by hand, outside the suite.)
"""

import os
import pickle
import re
import sys
import types
from collections import OrderedDict

import numpy as np
import pytest
import torch
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


def _snapshot(tmp_path, G, tensors=None, init_kwargs=None, class_name="Generator"):
    """A network-snapshot pickle as the ADA training loop writes it, with G as G and G_ema."""
    source = f"open({str(tmp_path / 'SOURCE_RAN')!r}, 'w').close()"
    tensors = _ada_tensors(G) if tensors is None else tensors
    g_ema = _record(tensors, class_name, source, init_kwargs or _init_kwargs(G.config))
    g_ema.state["_buffers"]["scratch"] = torch.ones(2)  # a non-persistent buffer is no part of the state dict
    g_ema.state["_non_persistent_buffers_set"] = {"scratch"}
    D = _record({"b16.fromrgb.weight": torch.randn(16, 3, 1, 1)}, "Discriminator", source, {"c_dim": 0})
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
    assert "ada.safetensors (arch stylegan, role G_ema, 16 px)" in capsys.readouterr().out
    assert checkpoint.read_info(out).roles == ("G_ema",)
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
