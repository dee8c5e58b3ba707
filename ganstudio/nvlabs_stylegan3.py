"""The G_ema of NVlabs StyleGAN3 network pickles (configs T and R) as ganstudio's `stylegan3` arch.

The pickles are read as data by nvlabs_pickle (the same persistence layout as StyleGAN2-ADA);
a StyleGAN3 Generator is told apart by its synthesis network, which starts from Fourier
features (a `SynthesisInput`) instead of a 4x4 block. Its init kwargs carry the synthesis
settings flat beside z_dim and friends; the layer schedule is recomputed from them and checked
against the paddings and resampling factors each layer recorded, and every tensor (filters,
Fourier frequencies, magnitude averages included) is checked key by key and shape by shape.
fp16 settings only change precision, and the moving-average rates only training: the import
renders in float32 and keeps the averages as they are.
"""

from __future__ import annotations

import math
import re

import torch

from .checkpoint import CheckpointError
from .models.stylegan3 import StyleGAN3Config, StyleGAN3Generator, plan
from .nvlabs_pickle import PersistentRecord, _settings, check_layout, checked_init_kwargs

SOURCE = "NVlabs stylegan3"

_REQUIRED = ("z_dim", "c_dim", "w_dim", "img_resolution", "img_channels")
_MAPPING_DEFAULTS = {"num_layers": 2, "lr_multiplier": 0.01, "w_avg_beta": 0.998}
# SynthesisNetwork's and SynthesisLayer's settings (the Generator passes them on flat), upstream defaults
_SYNTHESIS_DEFAULTS = {
    "channel_base": 32768, "channel_max": 512, "num_layers": 14, "num_critical": 2, "first_cutoff": 2,
    "first_stopband": 2**2.1, "last_stopband_rel": 2**0.3, "margin_size": 10, "output_scale": 0.25,
    "num_fp16_res": 4, "conv_kernel": 3, "filter_size": 6, "lrelu_upsampling": 2, "use_radial_filters": False,
    "conv_clamp": 256, "magnitude_ema_beta": 0.999,
}


def _modules(record: PersistentRecord) -> dict:
    return dict(record.state.get("_modules") or {})


def is_stylegan3(G: PersistentRecord) -> bool:
    """Whether a Generator record is StyleGAN3's: its synthesis network has Fourier-feature input."""
    synthesis = _modules(G).get("synthesis")
    return isinstance(synthesis, PersistentRecord) and any(
        isinstance(m, PersistentRecord) and m.class_name == "SynthesisInput" for m in _modules(synthesis).values())


def stylegan3_config(G: PersistentRecord, where: str = "G_ema") -> StyleGAN3Config:
    """The `stylegan3` config of a StyleGAN3 Generator record, from its init kwargs."""
    kw = checked_init_kwargs(G, _REQUIRED, "StyleGAN3 Generator", where)
    mapping = _settings(kw.get("mapping_kwargs", {}), _MAPPING_DEFAULTS, "mapping_kwargs", where)
    rest = {k: v for k, v in kw.items() if k not in (*_REQUIRED, "mapping_kwargs")}
    s = _settings(rest, _SYNTHESIS_DEFAULTS, "the Generator's init kwargs", where)
    if kw["img_channels"] != 3:
        raise CheckpointError(f"{where}: not convertible to ganstudio's stylegan3 arch: "
                              f"{kw['img_channels']} image channels, only RGB (3) converts")
    clamp = s["conv_clamp"]
    try:
        return StyleGAN3Config(
            resolution=kw["img_resolution"], z_dim=kw["z_dim"], w_dim=kw["w_dim"], c_dim=kw["c_dim"],
            mapping_layers=mapping["num_layers"], mapping_lr_mul=float(mapping["lr_multiplier"]),
            channel_base=s["channel_base"], channel_max=s["channel_max"], num_layers=s["num_layers"],
            num_critical=s["num_critical"], first_cutoff=float(s["first_cutoff"]),
            first_stopband=float(s["first_stopband"]), last_stopband_rel=float(s["last_stopband_rel"]),
            margin_size=s["margin_size"], output_scale=float(s["output_scale"]), conv_kernel=s["conv_kernel"],
            filter_size=s["filter_size"], lrelu_upsampling=s["lrelu_upsampling"],
            radial_filters=bool(s["use_radial_filters"]), conv_clamp=None if clamp is None else float(clamp),
        )
    except (TypeError, ValueError) as exc:
        raise CheckpointError(f"{where}: not convertible to ganstudio's stylegan3 arch: {exc}") from None


def layer_names(config: StyleGAN3Config) -> list[str]:
    """Upstream's synthesis layer names: index, output size, output channels."""
    return [f"L{i}_{p.out_size}_{p.out_channels}" for i, p in enumerate(plan(config).layers)]


def sg3_key(ours: str, names: list[str]) -> str:
    """The StyleGAN3 Generator state-dict key of a `stylegan3` generator key."""
    if ours == "w_avg":
        return "mapping.w_avg"
    if found := re.fullmatch(r"mapping_net\.layers\.(\d+)\.(\w+)", ours):
        return f"mapping.fc{found[1]}.{found[2]}"
    if found := re.fullmatch(r"synthesis_net\.layers\.(\d+)\.(.+)", ours):
        return f"synthesis.{names[int(found[1])]}.{found[2]}"
    return ours.replace("mapping_net.", "mapping.", 1).replace("synthesis_net.", "synthesis.", 1)


def _check_schedule(G: PersistentRecord, config: StyleGAN3Config, where: str) -> None:
    """The recomputed schedule against what the pickle's layers recorded: a fork with another
    schedule could have the same tensor shapes and still pad or resample differently."""
    synthesis = _modules(G)["synthesis"]
    p = plan(config)
    fourier = _modules(synthesis)["input"].state
    if fourier.get("sampling_rate") != p.input_rate or not math.isclose(
            float(fourier.get("bandwidth", math.nan)), p.input_bandwidth, rel_tol=1e-9):
        raise CheckpointError(f"{where}: synthesis.input records sampling rate {fourier.get('sampling_rate')} and "
                              f"bandwidth {fourier.get('bandwidth')}; the config gives {p.input_rate} and "
                              f"{p.input_bandwidth:g}")
    layers = _modules(synthesis)
    for name, layer in zip(layer_names(config), p.layers):
        state = layers[name].state
        recorded = (list(state.get("padding") or ()), state.get("up_factor"), state.get("down_factor"))
        if recorded != (list(layer.padding) * 2, layer.up, layer.down):
            raise CheckpointError(
                f"{where}: synthesis.{name} records padding {recorded[0]}, up {recorded[1]}, down {recorded[2]}; "
                f"the config gives {list(layer.padding) * 2}, up {layer.up}, down {layer.down}")


def convert_stylegan3(G: PersistentRecord, where: str = "G_ema") -> StyleGAN3Generator:
    """A `stylegan3` generator (eval mode) holding every tensor of a StyleGAN3 G_ema, after
    checking every key and shape and the layer schedule."""
    config = stylegan3_config(G, where)
    theirs = G.state_dict()
    names = layer_names(config)
    with torch.device("meta"):
        ours = {k: tuple(v.shape) for k, v in StyleGAN3Generator(config).state_dict().items()}
    keys = {sg3_key(k, names): k for k in ours}
    check_layout(theirs, {key: ours[k] for key, k in keys.items()},
                 f"{where}: does not match the StyleGAN3 Generator layout")
    _check_schedule(G, config, where)
    model = StyleGAN3Generator(config)
    model.load_state_dict({k: theirs[key].to(torch.float32) for key, k in keys.items()}, strict=True)
    return model.eval()
