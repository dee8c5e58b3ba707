"""The `D` of NVlabs network pickles as ganstudio's `stylegan_d` arch, read as data.

stylegan2-ada-pytorch's Discriminator, which NVlabs/stylegan3 reuses for every config, is in its
default 'resnet' architecture ganstudio's ResNetDiscriminator layer for layer: fromRGB on the
first block only; per block conv0, a blurred stride-2 conv1 and a blurred stride-2 1x1 skip
without bias, both scaled by sqrt(0.5) (ours sums first, then scales); minibatch stddev, conv, fc
and out at 4x4. Weights are stored with equalized lr as ours are, so conversion is renaming. The
minibatch groups agree whenever the batch divides by the group size (upstream needs that).

Refused (the import then goes on with G_ema alone): the 'orig' and 'skip' architectures, whose
layers ours lack; conditional discriminators, whose label runs through a mapping network and is
dotted with a cmap_dim-wide output, which our projection head (a linear projection of c added to
one logit) does not compute; a minibatch stddev over the whole batch or none; other activations
and resample filters.
"""

from __future__ import annotations

import re

import torch

from .checkpoint import CheckpointError
from .models.discriminator import ResNetDConfig, ResNetDiscriminator
from .models.layers import FIR_TAPS
from .nvlabs_pickle import PersistentRecord, _settings, checked_init_kwargs, load_renamed, recorded_clamp

_D_REQUIRED = ("c_dim", "img_resolution", "img_channels")
# conv_clamp is read from the layers instead (see recorded_clamp); num_fp16_res, fp16_channels_last
# and freeze_layers change precision and training only; cmap_dim and mapping_kwargs only matter
# for the conditional discriminators that are refused.
_D_DEFAULTS = {"architecture": "resnet", "channel_base": 32768, "channel_max": 512, "num_fp16_res": 0,
               "conv_clamp": None, "cmap_dim": None, "block_kwargs": {}, "mapping_kwargs": {},
               "epilogue_kwargs": {}}
_BLOCK_DEFAULTS = {"activation": "lrelu", "resample_filter": list(FIR_TAPS), "fp16_channels_last": False,
                   "freeze_layers": 0}
_EPILOGUE_DEFAULTS = {"mbstd_group_size": 4, "mbstd_num_channels": 1, "activation": "lrelu"}
# Our key prefixes at 4x4 and theirs (the epilogue b4).
_EPILOGUE_KEYS = {"final_conv.": "b4.conv.", "final_fc.": "b4.fc.", "head.out.": "b4.out."}


def stylegan_ada_d_config(D: PersistentRecord, where: str = "D") -> ResNetDConfig:
    """The `stylegan_d` config equivalent to a StyleGAN2-ADA Discriminator record, or a
    CheckpointError saying why there is none."""
    if D.class_name != "Discriminator":
        raise CheckpointError(f"{where}: a {D.class_name}, not a StyleGAN2-ADA Discriminator")
    kw = checked_init_kwargs(D, _D_REQUIRED, "StyleGAN2-ADA Discriminator", where)
    rest = {k: v for k, v in kw.items() if k not in _D_REQUIRED}
    settings = _settings(rest, _D_DEFAULTS, "the Discriminator's init kwargs", where)
    block = _settings(settings["block_kwargs"], _BLOCK_DEFAULTS, "block_kwargs", where)
    epilogue = _settings(settings["epilogue_kwargs"], _EPILOGUE_DEFAULTS, "epilogue_kwargs", where)
    group, features = epilogue["mbstd_group_size"], epilogue["mbstd_num_channels"]
    refusals = [
        (settings["architecture"] != "resnet",
         f"architecture {settings['architecture']!r}: only 'resnet' (the default) converts"),
        (kw["c_dim"] != 0,
         (f"conditional (c_dim {kw['c_dim']}): its label is mapped by a mapping network and dotted with a "
          f"cmap_dim-wide output, which stylegan_d's projection head does not compute")),
        (kw["img_channels"] != 3, f"{kw['img_channels']} image channels: only RGB (3) converts"),
        ((block["activation"], epilogue["activation"]) != ("lrelu", "lrelu"),
         f"activation {block['activation']!r}/{epilogue['activation']!r}: only 'lrelu' converts"),
        (list(block["resample_filter"]) != list(FIR_TAPS),
         f"resample_filter {list(block['resample_filter'])}: only [1, 3, 3, 1] converts"),
        (group is None, "mbstd_group_size None (the whole batch as one group): only a fixed group size converts"),
        (features == 0, "no minibatch stddev (mbstd_num_channels 0): stylegan_d always has one"),
    ]
    for refused, reason in refusals:
        if refused:
            raise CheckpointError(f"{where}: not convertible to ganstudio's stylegan_d arch: {reason}")
    try:
        return ResNetDConfig(
            resolution=kw["img_resolution"],
            channel_base=settings["channel_base"],
            channel_max=settings["channel_max"],
            mbstd_group=int(group),
            mbstd_features=int(features),
            conv_clamp=recorded_clamp(D, ("b4", "conv"), where, required=True),
        )
    except (TypeError, ValueError) as exc:
        raise CheckpointError(f"{where}: not convertible to ganstudio's stylegan_d arch: {exc}") from None


def ada_d_key(ours: str, resolution: int) -> str:
    """The StyleGAN2-ADA Discriminator state-dict key of a `stylegan_d` key."""
    if ours.startswith("from_rgb."):
        return f"b{resolution}.fromrgb.{ours.removeprefix('from_rgb.')}"
    if found := re.fullmatch(r"blocks\.(\d+)\.(.+)", ours):
        return f"b{resolution >> int(found[1])}.{found[2]}"
    for prefix, theirs in _EPILOGUE_KEYS.items():
        if ours.startswith(prefix):
            return theirs + ours.removeprefix(prefix)
    raise KeyError(ours)


def _ada_d_layout(config: ResNetDConfig) -> tuple[dict[str, str], dict[str, tuple[int, ...]]]:
    """(ADA key -> our key, ADA key -> shape), the shapes including the resample-filter buffers
    that every block and every convolution of theirs holds and ours do not store."""
    with torch.device("meta"):
        ours = {k: tuple(v.shape) for k, v in ResNetDiscriminator(config).state_dict().items()}
    names = {ada_d_key(k, config.resolution): k for k in ours}
    shapes = {theirs: ours[k] for theirs, k in names.items()}
    taps = (len(FIR_TAPS), len(FIR_TAPS))
    for theirs, k in names.items():
        if len(ours[k]) == 4:  # a convolution weight
            shapes[theirs.removesuffix("weight") + "resample_filter"] = taps
            if found := re.fullmatch(r"(b\d+)\.conv0\.weight", theirs):
                shapes[f"{found[1]}.resample_filter"] = taps
    return names, shapes


def convert_d(D: PersistentRecord, where: str = "D") -> ResNetDiscriminator:
    """A `stylegan_d` discriminator (eval mode) holding a StyleGAN2-ADA D's weights, after checking
    its settings, every key and shape, and every resample filter."""
    config = stylegan_ada_d_config(D, where)
    names, expected = _ada_d_layout(config)
    return load_renamed(ResNetDiscriminator(config), D, names, expected, where, "StyleGAN2-ADA Discriminator")
