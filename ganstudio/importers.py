"""Bring community checkpoints into the studio.

`stylegan2-pt`: the rosinality/stylegan2-pytorch format, a `.pt` dict whose `g_ema` entry is a
state dict (training snapshots also hold `g`, `d`, optimiser states and `args`; converted
official models hold `latent_avg`). Its generator is the same network as ganstudio's
`stylegan` arch with equalized-lr weights stored the same way, so conversion is renaming and
reshaping only; every key and shape is checked against the layout implied by the file, and
against `--size` / `--channel-multiplier`, before anything is written.
"""

from __future__ import annotations

import argparse
import math
import os
import pickle
import re
from pathlib import Path
from typing import Any, Mapping

import torch

from . import checkpoint
from .checkpoint import CheckpointError
from .models.layers import fir_kernel
from .models.stylegan import StyleGANConfig, StyleGANGenerator

SOURCE = "rosinality/stylegan2-pytorch"
MAPPING_LR_MUL = 0.01  # the Generator's lr_mlp default; the file does not record it
W_AVG_SAMPLES = 10_000


def read_stylegan2_pt(path: str | os.PathLike) -> tuple[dict[str, torch.Tensor], torch.Tensor | None]:
    """The `g_ema` state dict and `latent_avg` (or None) of a rosinality `.pt` file.

    Loaded with `weights_only=True` only; argparse.Namespace (the `args` entry of training
    snapshots) is the one class allowed beyond tensors and containers.
    """
    path = Path(path)
    try:
        with torch.serialization.safe_globals([argparse.Namespace]):
            obj = torch.load(path, map_location="cpu", weights_only=True)
    except OSError as exc:
        raise CheckpointError(f"{path}: cannot read file ({exc.strerror or exc})") from None
    except pickle.UnpicklingError as exc:
        found = re.search(r"Unsupported global: GLOBAL (\S+)", str(exc))
        if found:
            raise CheckpointError(
                f"{path}: refused by the weights-only loader: it holds pickled Python objects, "
                f"not only tensors (found {found.group(1)})"
            ) from None
        reason = re.search(r"WeightsUnpickler error:\s*(\S[^\n]*)", str(exc))
        raise CheckpointError(
            f"{path}: not a PyTorch checkpoint the weights-only loader can read"
            f"{f' ({reason.group(1).strip()})' if reason else ''}"
        ) from None
    except Exception as exc:  # noqa: BLE001 - any decoder failure means "not a checkpoint"
        detail = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        reason = f"{type(exc).__name__}: {detail}" if detail else type(exc).__name__
        raise CheckpointError(f"{path}: not a PyTorch checkpoint ({reason})") from None
    if not isinstance(obj, Mapping):
        raise CheckpointError(
            f"{path}: not a {SOURCE} checkpoint (expected a dict with a 'g_ema' state dict, got {type(obj).__name__})"
        )
    if "g_ema" not in obj:
        keys = ", ".join(sorted(map(str, obj))[:8]) or "none"
        raise CheckpointError(f"{path}: no 'g_ema' entry, so not a {SOURCE} checkpoint (its keys: {keys})")
    state = obj["g_ema"]
    if not isinstance(state, Mapping) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise CheckpointError(f"{path}: 'g_ema' is not a state dict of tensors")
    latent_avg = obj.get("latent_avg")
    if latent_avg is not None and not isinstance(latent_avg, torch.Tensor):
        raise CheckpointError(f"{path}: 'latent_avg' is not a tensor")
    return dict(state), latent_avg


def rosinality_channels(size: int, channel_multiplier: int) -> dict[int, int]:
    """The channel widths rosinality's Generator uses at each resolution up to `size`."""
    widths = {4: 512, 8: 512, 16: 512, 32: 512}
    for i in range(6, 11):
        widths[2**i] = (2 ** (14 - i)) * channel_multiplier  # 64: 256*cm ... 1024: 16*cm
    return {2**i: widths[2**i] for i in range(2, int(math.log2(size)) + 1)}


def _layout(state: Mapping[str, torch.Tensor], where: str) -> tuple[int, int, int, dict[int, int]]:
    """(size, style_dim, n_mlp, channels per resolution) read off the tensors' shapes."""
    try:
        style_dim = state["style.1.weight"].shape[0]
        n_mlp = len({m.group(1) for k in state if (m := re.fullmatch(r"style\.(\d+)\.weight", k))})
        n_rgbs = len({m.group(1) for k in state if (m := re.match(r"to_rgbs\.(\d+)\.", k))})
        size = 2 ** (n_rgbs + 2)
        channels = {4: state["input.input"].shape[1]}
        for j in range(n_rgbs):
            channels[2 ** (j + 3)] = state[f"convs.{2 * j}.conv.weight"].shape[1]
    except (KeyError, IndexError) as exc:
        raise CheckpointError(f"{where}: 'g_ema' does not have the {SOURCE} Generator layout (missing {exc})") from None
    return size, style_dim, n_mlp, channels


def _expected_shapes(size: int, style_dim: int, n_mlp: int, ch: dict[int, int]) -> dict[str, tuple[int, ...]]:
    """Every key of rosinality's Generator state dict with its shape."""
    s = style_dim
    shapes: dict[str, tuple[int, ...]] = {}
    for i in range(1, n_mlp + 1):
        shapes[f"style.{i}.weight"] = (s, s)
        shapes[f"style.{i}.bias"] = (s,)

    def styled(prefix: str, cin: int, cout: int, k: int, up: bool = False, activate: bool = True) -> None:
        shapes[f"{prefix}.conv.weight"] = (1, cout, cin, k, k)
        shapes[f"{prefix}.conv.modulation.weight"] = (cin, s)
        shapes[f"{prefix}.conv.modulation.bias"] = (cin,)
        if up:
            shapes[f"{prefix}.conv.blur.kernel"] = (4, 4)
        if activate:
            shapes[f"{prefix}.noise.weight"] = (1,)
            shapes[f"{prefix}.activate.bias"] = (cout,)

    shapes["input.input"] = (1, ch[4], 4, 4)
    styled("conv1", ch[4], ch[4], 3)
    styled("to_rgb1", ch[4], 3, 1, activate=False)
    shapes["to_rgb1.bias"] = (1, 3, 1, 1)
    shapes["noises.noise_0"] = (1, 1, 4, 4)
    levels = int(math.log2(size)) - 2
    for j in range(levels):
        res, cin, cout = 2 ** (j + 3), ch[2 ** (j + 2)], ch[2 ** (j + 3)]
        styled(f"convs.{2 * j}", cin, cout, 3, up=True)
        styled(f"convs.{2 * j + 1}", cout, cout, 3)
        styled(f"to_rgbs.{j}", cout, 3, 1, activate=False)
        shapes[f"to_rgbs.{j}.bias"] = (1, 3, 1, 1)
        shapes[f"to_rgbs.{j}.upsample.kernel"] = (4, 4)
        shapes[f"noises.noise_{2 * j + 1}"] = (1, 1, res, res)
        shapes[f"noises.noise_{2 * j + 2}"] = (1, 1, res, res)
    return shapes


def _renames(size: int, n_mlp: int) -> dict[str, str]:
    """ganstudio key -> rosinality key, for every parameter and buffer of the `stylegan` arch."""
    names = {}
    for i in range(n_mlp):
        for p in ("weight", "bias"):
            names[f"mapping_net.layers.{i}.{p}"] = f"style.{i + 1}.{p}"

    def layer(ours: str, theirs: str, noise: str | None) -> None:
        names[f"{ours}.conv.weight"] = f"{theirs}.conv.weight"
        names[f"{ours}.conv.affine.weight"] = f"{theirs}.conv.modulation.weight"
        names[f"{ours}.conv.affine.bias"] = f"{theirs}.conv.modulation.bias"
        if noise is None:  # toRGB
            names[f"{ours}.bias"] = f"{theirs}.bias"
        else:
            names[f"{ours}.bias"] = f"{theirs}.activate.bias"
            names[f"{ours}.noise_strength"] = f"{theirs}.noise.weight"
            names[f"{ours}.noise_const"] = noise

    b = "synthesis_net.blocks"
    names[f"{b}.0.const"] = "input.input"
    layer(f"{b}.0.conv1", "conv1", "noises.noise_0")
    layer(f"{b}.0.torgb", "to_rgb1", None)
    for j in range(int(math.log2(size)) - 2):
        layer(f"{b}.{j + 1}.conv0", f"convs.{2 * j}", f"noises.noise_{2 * j + 1}")
        layer(f"{b}.{j + 1}.conv1", f"convs.{2 * j + 1}", f"noises.noise_{2 * j + 2}")
        layer(f"{b}.{j + 1}.torgb", f"to_rgbs.{j}", None)
    return names


def _listing(keys: list[str], limit: int = 5) -> str:
    more = f" and {len(keys) - limit} more" if len(keys) > limit else ""
    return ", ".join(keys[:limit]) + more


def stylegan2_config(
    state: Mapping[str, torch.Tensor], size: int, channel_multiplier: int | None = 2, where: str = "g_ema"
) -> StyleGANConfig:
    """Check a rosinality `g_ema` state dict key by key and return the equivalent `stylegan` config.

    `channel_multiplier=None` accepts whatever widths the tensors have (e.g. narrowed test
    models) as long as they form a StyleGAN2 channel schedule (constant, then halving).
    Only shapes are read, so a state dict of meta tensors can be checked too.
    """
    found_size, style_dim, n_mlp, channels = _layout(state, where)
    if found_size != size:
        raise CheckpointError(
            f"{where}: the weights are for a {found_size} px generator "
            f"({int(math.log2(found_size)) - 2} upsampling levels), not --size {size}"
        )
    if channel_multiplier is not None and channels != rosinality_channels(size, channel_multiplier):
        hint = next(
            (f"; they match --channel-multiplier {m}" for m in (1, 2, 4) if channels == rosinality_channels(size, m)),
            "",
        )
        widths = ", ".join(f"{r}px: {c}" for r, c in channels.items())
        raise CheckpointError(
            f"{where}: channel widths ({widths}) do not fit --channel-multiplier {channel_multiplier}{hint}"
        )
    expected = _expected_shapes(size, style_dim, n_mlp, channels)
    missing = sorted(set(expected) - set(state))
    unexpected = sorted(set(state) - set(expected))
    wrong = sorted(k for k in set(expected) & set(state) if tuple(state[k].shape) != expected[k])
    if missing or unexpected or wrong:
        parts = []
        if missing:
            parts.append(f"missing {_listing(missing)}")
        if unexpected:
            parts.append(f"unexpected {_listing(unexpected)}")
        if wrong:
            parts.append(
                "wrong shape " + _listing([f"{k} {list(state[k].shape)} (expected {list(expected[k])})" for k in wrong])
            )
        raise CheckpointError(f"{where}: does not match the {SOURCE} Generator layout: {'; '.join(parts)}")
    _check_fir_kernels(state, where)
    config = StyleGANConfig(
        resolution=size,
        z_dim=style_dim,
        w_dim=style_dim,
        mapping_layers=n_mlp,
        mapping_lr_mul=MAPPING_LR_MUL,
        channel_base=channels[size] * size,
        channel_max=channels[4],
    )
    if {r: config.channels(r) for r in channels} != channels:
        raise CheckpointError(f"{where}: channel widths {channels} are not a schedule ganstudio can express")
    return config


def stylegan2_state_dict(state: Mapping[str, torch.Tensor], config: StyleGANConfig) -> dict[str, torch.Tensor]:
    """The checked rosinality tensors renamed and reshaped for a `stylegan` generator (without w_avg)."""
    renames = _renames(config.resolution, config.mapping_layers)
    with torch.device("meta"):
        shapes = {k: v.shape for k, v in StyleGANGenerator(config).state_dict().items()}
    return {ours: state[theirs].to(torch.float32).reshape(shapes[ours]) for ours, theirs in renames.items()}


def convert_stylegan2_state(
    state: Mapping[str, torch.Tensor],
    size: int,
    channel_multiplier: int | None = 2,
    latent_avg: torch.Tensor | None = None,
    where: str = "g_ema",
) -> StyleGANGenerator:
    """A `stylegan` generator (eval mode) holding the weights of a rosinality `g_ema` state dict.
    Without `latent_avg`, w_avg is estimated from the mapping of 10,000 seeded z samples."""
    config = stylegan2_config(state, size, channel_multiplier, where)
    converted = stylegan2_state_dict(state, config)
    G = StyleGANGenerator(config)
    converted["w_avg"] = G.w_avg
    G.load_state_dict(converted, strict=True)
    with torch.no_grad():
        G.w_avg.copy_(_w_avg(G, latent_avg, where))
    return G.eval()


def _check_fir_kernels(state: Mapping[str, torch.Tensor], where: str) -> None:
    """The blur kernels live in the file; refuse any other filter than the [1, 3, 3, 1] one."""
    want = fir_kernel(gain=4.0)
    for key, value in state.items():
        if key.endswith((".blur.kernel", ".upsample.kernel")) and value.device.type != "meta":
            if not torch.allclose(value.to(torch.float32), want, atol=1e-6):
                raise CheckpointError(f"{where}: {key} is not the [1, 3, 3, 1] blur kernel this importer supports")


def _w_avg(G: StyleGANGenerator, latent_avg: torch.Tensor | None, where: str) -> torch.Tensor:
    if latent_avg is not None:
        if latent_avg.numel() != G.w_dim:
            raise CheckpointError(f"{where}: latent_avg has shape {list(latent_avg.shape)}, expected [{G.w_dim}]")
        return latent_avg.reshape(G.w_dim).to(torch.float32)
    z = torch.randn(W_AVG_SAMPLES, G.z_dim, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        return G.mapping_net(z).mean(dim=0)


def import_stylegan2_pt(
    in_path: str | os.PathLike,
    out_path: str | os.PathLike,
    size: int,
    channel_multiplier: int | None = 2,
) -> Path:
    """Convert a rosinality `.pt` file into a ganstudio checkpoint holding `G_ema`."""
    in_path = Path(in_path)
    state, latent_avg = read_stylegan2_pt(in_path)
    G = convert_stylegan2_state(state, size, channel_multiplier, latent_avg, where=f"{in_path}: g_ema")
    if latent_avg is not None:
        w_avg_note = "latent_avg from the file"
    else:
        w_avg_note = f"w_avg estimated from {W_AVG_SAMPLES} samples"
    meta: dict[str, Any] = {"imported_from": SOURCE, "source_file": in_path.name}
    return checkpoint.save(
        out_path,
        {"G_ema": G},
        notes=f"imported from {SOURCE} checkpoint {in_path.name} ({w_avg_note})",
        meta=meta,
    )
