"""Import of NVlabs StyleGAN3 network pickles (configs T and R), read as data.

The pickles are written in the record layout of test_import_nvlabs_pickle, with the tensors and
layer attributes of a tiny StyleGAN3 Generator: LAYERS is the table upstream's SynthesisNetwork
builds for that config (read off it once by hand), so the importer's own schedule is checked
against it. Images are checked against `_render`, a direct float64 evaluation of the generator
from the pickled tensors, written here without any of ganstudio's code: sample positions,
convolution orientation, gains and the order of bias, activation and clamp are spelled out.
(The match with the upstream code itself, at 64 and 1024 px, was checked by hand.)
"""

import math
import re
from collections import OrderedDict

import numpy as np
import pytest
import torch
from numpy.lib.stride_tricks import sliding_window_view
from torch import nn

from ganstudio import checkpoint
from ganstudio.cli import main
from ganstudio.config_io import ConfigError
from ganstudio.nvlabs_pickle import import_stylegan_pkl, read_network_pickle
from ganstudio.training.recipes import build_arch
from tests.test_import_nvlabs_pickle import EasyDict, _Call, _Persistent, _write

Z, RES = 8, 32
# name, in/out channels, in/out size, kernel (T), up, down, padding (T), padding (R); input: 8 channels,
# 20 px, sampling rate 16, bandwidth 2. Filters have 6 taps per unit of factor; R's two
# non-critical layers downsample with a 2-D (radial) filter and all its kernels are 1x1.
LAYERS = [
    ("L0_20_8", 8, 8, 20, 20, 3, 2, 2, (9, 8), (11, 10)),
    ("L1_36_8", 8, 8, 20, 36, 3, 4, 2, (10, 7), (14, 11)),
    ("L2_36_4", 8, 4, 36, 36, 3, 2, 2, (9, 8), (11, 10)),
    ("L3_32_4", 4, 4, 36, 32, 3, 2, 2, (5, 4), (7, 6)),
    ("L4_32_3", 4, 3, 32, 32, 1, 1, 1, (0, 0), (0, 0)),
]


def _layers(cfg):
    """LAYERS for config 'T' or 'R': (name, cin, cout, in_size, out_size, kernel, up, down, padding, radial)."""
    return [(name, cin, cout, si, so, 1 if cfg == "R" else k, up, down, pr if cfg == "R" else pt,
             cfg == "R" and i < 2) for i, (name, cin, cout, si, so, k, up, down, pt, pr) in enumerate(LAYERS)]


def _tensors(cfg, seed=0):
    """The Generator's tensors under upstream's names, all away from their initial values;
    filters are lopsided, so flipping one (correlating instead of convolving) shows."""
    g = torch.Generator().manual_seed(seed)

    def rand(*shape, scale=1.0, shift=0.0):
        return torch.randn(*shape, generator=g) * scale + shift

    def lowpass(n, radial=False):
        f = torch.rand((n, n) if radial else (n,), generator=g) + 0.5
        return f / f.sum()

    a = 0.4
    t = {"mapping.w_avg": rand(Z), "synthesis.input.weight": rand(8, 8),
         "synthesis.input.affine.weight": rand(4, Z, scale=0.5),
         "synthesis.input.affine.bias": torch.tensor([1.0, 0.2, 0.1, -0.3]),
         "synthesis.input.transform": torch.tensor([[math.cos(a), math.sin(a), 0.3], [-math.sin(a), math.cos(a), 0.1],
                                                    [0.0, 0.0, 1.0]]),
         "synthesis.input.freqs": rand(8, 2, scale=2.0), "synthesis.input.phases": torch.rand(8, generator=g) - 0.5}
    for i in range(2):
        t[f"mapping.fc{i}.weight"], t[f"mapping.fc{i}.bias"] = rand(Z, Z, scale=100), rand(Z, scale=10)
    for name, cin, cout, _, _, k, up, down, _, radial in _layers(cfg):
        p = f"synthesis.{name}."
        t.update({p + "affine.weight": rand(cin, Z), p + "affine.bias": rand(cin, scale=0.2, shift=1.0),
                  p + "weight": rand(cout, cin, k, k), p + "bias": rand(cout, scale=0.3),
                  p + "magnitude_ema": torch.rand([], generator=g) * 2 + 0.5})
        if up > 1:
            t[p + "up_filter"], t[p + "down_filter"] = lowpass(6 * up), lowpass(6 * down, radial)
    return t


def _init_kwargs(cfg, **changes):
    kw = {"z_dim": Z, "w_dim": Z, "mapping_kwargs": EasyDict(num_layers=2), "channel_base": 128, "channel_max": 8,
          "num_layers": 4, "margin_size": 2, "magnitude_ema_beta": 0.998, "c_dim": 0, "img_resolution": RES,
          "img_channels": 3, "conv_clamp": 0.5}
    if cfg == "R":  # (upstream's R also doubles the widths; here they stay as small as T's)
        kw.update(conv_kernel=1, use_radial_filters=True, conv_clamp=None)
    return {**kw, **changes}


def _module(params, buffers, children, source, class_name, extra=None):
    state = {"training": False, "_parameters": OrderedDict((k, nn.Parameter(v, requires_grad=False))
                                                            for k, v in params.items()),
             "_buffers": OrderedDict(buffers), "_non_persistent_buffers_set": set(), "_modules": OrderedDict(children),
             "_init_args": (), "_init_kwargs": {}, **(extra or {})}
    return _Persistent(class_name, state, source)


def _generator_record(cfg, tensors, init_kwargs, source, attributes=None):
    """Nested records as upstream's Generator pickles: buffers None where a layer has no filter,
    layer sizes as numpy arrays, sampling rate and bandwidth as numpy scalars."""
    def fc(prefix):
        return _module({"weight": tensors[prefix + "weight"], "bias": tensors[prefix + "bias"]}, {}, {}, source,
                       "FullyConnectedLayer", {"weight_gain": np.float64(0.25)})

    mapping = _module({}, {"w_avg": tensors["mapping.w_avg"]}, {f"fc{i}": fc(f"mapping.fc{i}.") for i in range(2)},
                      source, "MappingNetwork")
    i = "synthesis.input."
    children = {"input": _module(
        {"weight": tensors[i + "weight"]}, {k: tensors[i + k] for k in ("transform", "freqs", "phases")},
        {"affine": fc(i + "affine.")}, source, "SynthesisInput",
        {"size": np.array([20, 20]), "sampling_rate": np.float64(16), "bandwidth": np.float64(2)})}
    for name, _, _, si, so, _, up, down, pad, _ in _layers(cfg):
        p = f"synthesis.{name}."
        buffers = {k: tensors.get(p + k) for k in ("magnitude_ema", "up_filter", "down_filter")}
        extra = {"in_size": np.array([si, si]), "out_size": np.array([so, so]), "padding": [*pad, *pad],
                 "up_factor": up, "down_factor": down, **(attributes or {}).get(name, {})}
        children[name] = _module({"weight": tensors[p + "weight"], "bias": tensors[p + "bias"]},
                                 buffers, {"affine": fc(p + "affine.")}, source, "SynthesisLayer", extra)
    synthesis = _module({}, {}, children, source, "SynthesisNetwork", {"layer_names": [n[0] for n in LAYERS]})
    G = _module({}, {}, {"synthesis": synthesis, "mapping": mapping}, source, "Generator")
    G.state["_init_kwargs"] = init_kwargs
    return G


def _snapshot(tmp_path, cfg, tensors=None, init_kwargs=None, attributes=None):
    source = f"open({str(tmp_path / 'SOURCE_RAN')!r}, 'w').close()"
    tensors = _tensors(cfg) if tensors is None else tensors
    G = _generator_record(cfg, tensors, init_kwargs or _init_kwargs(cfg), source, attributes)
    path = tmp_path / "network-snapshot-000200.pkl"
    _write(path, {"G": G, "D": None, "G_ema": G, "augment_pipe": None, "training_set_kwargs": {"resolution": RES}})
    return path


# ----- the independent evaluation ----------------------------------------------------------------

def _lrelu(x):
    return np.where(x >= 0, x, 0.2 * x) * math.sqrt(2)


def _dense(t, prefix, x, lr=1.0):
    w, b = t[prefix + "weight"], t[prefix + "bias"]
    return x @ (w * lr / math.sqrt(w.shape[1])).T + b * lr


def _convolve_valid(x, f):
    """True 2-D convolution of every channel of x [C, H, W] with f [k, k] where f fits."""
    return np.einsum("chwij,ij->chw", sliding_window_view(x, f.shape, axis=(1, 2)), f[::-1, ::-1])


def _render(t, cfg, z, psi, clamp):
    """float64 images [B, 3, RES, RES] of the generator whose tensors are `t`."""
    t = {k: v.double().numpy() for k, v in t.items()}
    x = z.double().numpy()
    x = x / np.sqrt((x**2).mean(1, keepdims=True) + 1e-8)
    for i in range(2):
        x = _lrelu(_dense(t, f"mapping.fc{i}.", x, lr=0.01))
    w = t["mapping.w_avg"] + psi * (x - t["mapping.w_avg"])
    return np.stack([_render_one(t, cfg, wi, clamp) for wi in w])


def _render_one(t, cfg, w, clamp):
    i = "synthesis.input."
    c, s, tx, ty = (r := _dense(t, i + "affine.", w)) / math.hypot(r[0], r[1])
    # an image position p (pixel centres, in sampling periods, centred) is read at m @ p
    m = np.array([[c, -s, 0], [s, c, 0], [0, 0, 1]]) @ np.array([[1, 0, -tx], [0, 1, -ty], [0, 0, 1]]) \
        @ t[i + "transform"]
    coords = (np.arange(20) + 0.5 - 10) / 16
    px, py = np.meshgrid(coords, coords)  # px varies along the width
    qx, qy = (m[0, 0] * px + m[0, 1] * py + m[0, 2]), (m[1, 0] * px + m[1, 1] * py + m[1, 2])
    freqs, phases = t[i + "freqs"], t[i + "phases"]
    seen = np.linalg.norm(freqs @ m[:2, :2], axis=1)  # each frequency as it appears in the image
    fade = np.clip(1 - (seen - 2) / (16 / 2 - 2), 0, 1)
    feats = np.stack([a * np.sin(2 * np.pi * (f[0] * qx + f[1] * qy + ph)) for f, ph, a in zip(freqs, phases, fade)])
    x = np.einsum("oc,chw->ohw", t[i + "weight"] / math.sqrt(8), feats)
    for row, (name, cin, cout, _, _, k, up, down, (lo, hi), radial) in enumerate(_layers(cfg), start=1):
        p = f"synthesis.{name}."
        torgb = row == len(LAYERS)
        styles = _dense(t, p + "affine.", w)
        weight = t[p + "weight"]
        if torgb:
            styles = styles / math.sqrt(cin * k * k)
        else:
            weight = weight / np.sqrt((weight**2).mean(axis=(1, 2, 3), keepdims=True))
            styles = styles / np.sqrt((styles**2).mean())
        weight = weight * styles[None, :, None, None]
        if not torgb:
            weight = weight / np.sqrt((weight**2).sum(axis=(1, 2, 3), keepdims=True) + 1e-8)
        weight = weight / np.sqrt(t[p + "magnitude_ema"])
        padded = np.pad(x, ((0, 0), (k - 1, k - 1), (k - 1, k - 1)))  # a correlation, as conv2d is
        x = np.einsum("chwij,ocij->ohw", sliding_window_view(padded, (k, k), axis=(1, 2)), weight)
        x = x + t[p + "bias"][:, None, None]
        big = np.zeros((cout, x.shape[1] * up, x.shape[2] * up))
        big[:, ::up, ::up] = x
        big = np.pad(big, ((0, 0), (max(lo, 0), max(hi, 0)), (max(lo, 0), max(hi, 0))))
        big = big[:, max(-lo, 0): big.shape[1] - max(-hi, 0), max(-lo, 0): big.shape[2] - max(-hi, 0)]
        if up > 1:
            big = _convolve_valid(big, np.outer(t[p + "up_filter"], t[p + "up_filter"]) * up**2)
        if not torgb:
            big = _lrelu(big)
        if clamp is not None:
            big = np.clip(big, -clamp, clamp)
        if down > 1:
            fd = t[p + "down_filter"]
            big = _convolve_valid(big, fd if radial else np.outer(fd, fd))[:, ::down, ::down]
        x = big
    return x * 0.25


# ----- tests -------------------------------------------------------------------------------------

def _z(n=3):
    return torch.randn(n, Z, generator=torch.Generator().manual_seed(1))


@pytest.mark.parametrize("cfg", ["T", "R"])
def test_stylegan3_pickle_renders_as_the_direct_evaluation(tmp_path, cfg):
    tensors = _tensors(cfg)
    path = _snapshot(tmp_path, cfg, tensors)
    loaded = checkpoint.load(import_stylegan_pkl(path, tmp_path / "sg3.safetensors"))
    assert (loaded.info.arch, loaded.info.meta["imported_from"]) == ("stylegan3", "NVlabs stylegan3")
    G = loaded["G_ema"]
    clamp = _init_kwargs(cfg)["conv_clamp"]
    assert (G.num_ws, G.resolution, G.config.conv_kernel, G.config.radial_filters, G.config.conv_clamp) == \
        (6, RES, 1 if cfg == "R" else 3, cfg == "R", clamp)
    z = _z()
    with torch.no_grad():
        for psi in (1.0, 0.7):
            want = _render(tensors, cfg, z, psi, clamp)
            got = G(z, psi=psi).double().numpy()
            assert got.shape == (3, 3, RES, RES) and np.abs(want).max() > 0.05
            assert np.abs(got - want).max() < 1e-5 * np.abs(want).max(), (psi, np.abs(got - want).max())
        ws = G.mapping(z, psi=0.7)
        assert torch.equal(G.synthesis(ws, noise_mode="random"), G.synthesis(ws, noise_mode="none"))
        assert torch.allclose(G.synthesis(ws[1:2]), G.synthesis(ws)[1:2], atol=1e-6)  # no batch statistics
    if clamp is not None:  # the clamp is carried over, and it bites
        assert np.abs(_render(tensors, cfg, z, 1.0, None) - _render(tensors, cfg, z, 1.0, clamp)).max() > 1e-3
    assert not (tmp_path / "SOURCE_RAN").exists()


def test_the_pickle_keeps_layer_sizes_as_numpy_arrays(tmp_path):
    layer = read_network_pickle(_snapshot(tmp_path, "T"))["G_ema"].state["_modules"]["synthesis"].state["_modules"]
    assert layer["L1_36_8"].state["out_size"].tolist() == [36, 36] and layer["L4_32_3"].state["_buffers"]["up_filter"] \
        is None


def test_cli_names_the_stylegan3_arch(tmp_path, capsys):
    out = tmp_path / "sg3.safetensors"
    assert main(["import", "stylegan-pkl", str(_snapshot(tmp_path, "R")), "--out", str(out)]) == 0
    assert "sg3.safetensors (arch stylegan3, role G_ema, 32 px)" in capsys.readouterr().out


def test_a_numpy_rebuild_of_anything_but_an_array_is_refused(tmp_path):
    path = tmp_path / "evil.pkl"
    _write(path, {"G_ema": _Call(np.zeros(1).__reduce__()[0], dict, (0,), b"b")})
    with pytest.raises(checkpoint.CheckpointError, match="refused numpy array rebuild of dict"):
        read_network_pickle(path)


def _without(key):
    return lambda t: {k: v for k, v in t.items() if k != key}


@pytest.mark.parametrize(
    "tensors, kwargs, attributes, message",
    [
        (None, {"use_noise": True}, None, "does not support: use_noise"),
        (None, {"img_channels": 1}, None, "1 image channels, only RGB"),
        (None, {"num_critical": 0}, None, "num_critical must be from 1"),
        (_without("synthesis.L2_36_4.magnitude_ema"), {}, None, r"missing synthesis\.L2_36_4\.magnitude_ema"),
        (lambda t: {**t, "synthesis.L0_20_8.down_filter": torch.ones(12, 12) / 144}, {}, None,
         r"wrong shape synthesis\.L0_20_8\.down_filter \[12, 12\] \(expected \[12\]\)"),
        (None, {}, {"L3_32_4": {"padding": [4, 5, 4, 5]}}, r"synthesis\.L3_32_4 records padding \[4, 5, 4, 5\]"),
    ],
)
def test_stylegan3_generators_that_do_not_convert_are_named(tmp_path, capsys, tensors, kwargs, attributes, message):
    path = _snapshot(tmp_path, "T", tensors(_tensors("T")) if tensors else None, _init_kwargs("T", **kwargs),
                     attributes)
    assert main(["import", "stylegan-pkl", str(path), "--out", str(tmp_path / "out.safetensors")]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "network-snapshot-000200.pkl: G_ema" in err and re.search(message, err), err
    assert not (tmp_path / "out.safetensors").exists()


def test_stylegan3_is_not_trainable():
    with pytest.raises(ConfigError, match="arch 'stylegan3' renders imported networks only"):
        build_arch("stylegan3", {}, {}, {"resolution": 32}, "gan")


def test_every_studio_operation_works_on_an_imported_stylegan3(tmp_path):
    """What the tabs call, on an imported StyleGAN3 (G_ema only): SeFa sliders computed from its
    style affines, sampling, mixing, walks, edits (a dragged slider's frame is the full one: no
    lower-level image), inversion method 1 and traversals."""
    from PIL import Image

    from ganstudio.editing.inversion import InversionSettings
    from ganstudio.inspection import Inspector
    from ganstudio.studio import Studio

    models = tmp_path / "models"
    models.mkdir()
    import_stylegan_pkl(_snapshot(tmp_path, "T"), models / "sg3.safetensors")
    assert main(["directions", "compute", "--model", str(models / "sg3.safetensors"), "--method", "sefa",
                 "--components", "3"]) == 0
    studio = Studio(models)
    [sample] = studio.sample("sg3", [3], psi=0.7)
    assert sample.image.size == (RES, RES)
    grid = studio.mix("sg3", [1, 2], [3], layers=(0, 3))
    assert len(grid) == 2 and grid[0][0].image.tobytes() != sample.image.tobytes()
    assert len(studio.walk("sg3", [1, 2], frames_per_step=2)) >= 2
    base = studio.seed_recipe("sg3", 3)
    edited = studio.edit(base, "sefa", {"SeFa0": 3.0})
    assert edited.image.tobytes() != studio.render(base).image.tobytes()
    assert studio.edit(base, "sefa", {"SeFa0": 3.0}, preview=True).image.tobytes() == edited.image.tobytes()
    photo = Image.new("RGB", (40, 40), (90, 60, 40))
    steps = list(studio.invert("sg3", photo, InversionSettings(method=1, space="w+", steps=3, lambda_code=0.1)))
    assert steps[-1][0].done and steps[-1][1].to_dict()["code"]
    traversal = Inspector(studio).traverse("sg3", "sefa/SeFa0", seeds="0-1", steps=3)
    assert [len(row) for row in traversal.images] == [3, 3]
