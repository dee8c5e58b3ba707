"""TrainConfig: everything that defines a training run, stored as the run's config.json.

Fields left as None are resolved by `resolve()` (from the chosen objective's prescriptions,
the data set and the machine) so that config.json and `--dry-run` always show the values
actually used.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from typing import Any, Mapping

import torch

from .. import models  # noqa: F401  (importing the package fills ARCHS, whose archs carry their training defaults)
from ..config_io import ConfigError, from_dict, to_dict
from ..registry import ARCHS


@dataclass(frozen=True)
class TrainConfig:
    recipe: str = "gan"  # RECIPES name: gan, cgan, acgan, infogan, ...
    data: str = ""  # the data spec, e.g. "synthfaces:64" (recorded in checkpoints)
    arch: str = "stylegan"  # generator (ARCHS name): stylegan, dcgan, tiny, ...
    d_arch: str | None = None  # discriminator; None: the generator arch's usual partner
    d_features: str = ""  # projected_d: the feature network it judges in (`ganstudio features train`)
    resolution: int | None = None  # None: the data set's
    G: dict = field(default_factory=dict)  # more generator config keys (`--set G.w_dim=64`)
    D: dict = field(default_factory=dict)  # more discriminator config keys
    loss: str = "nonsaturating"  # LOSSES name
    loss_args: dict = field(default_factory=dict)  # objective options (`--set loss_args.gp_lambda=5`)
    kimg: float = 100.0  # length: thousands of real images shown to the discriminator
    batch: int = 32  # global batch, split evenly over the processes
    optimizer: str | None = None  # adam | rmsprop | sgd; None: the objective's choice (else adam)
    lr: float | None = None  # learning rate of both players unless g_lr / d_lr say otherwise
    g_lr: float | None = None
    d_lr: float | None = None
    betas: tuple[float, float] | None = None  # Adam betas
    d_steps: int | None = None  # k discriminator steps per generator step (WGAN's n_critic)
    r1_gamma: float | None = None  # R1 weight (0: off); None: the arch preset's, else 0
    r1_interval: int = 16  # lazy R1: every N discriminator steps, scaled by N
    ema_kimg: float = 10.0  # half-life of the generator EMA, in thousands of images
    ema_rampup: float | None = 0.05  # early on the half-life is at most this fraction of images seen
    w_avg_beta: float = 0.995  # decay of the tracked mean w (truncation centre)
    style_mixing: float | None = None  # probability of mixing two latents at a random layer cutoff
    augment: str = ""  # differentiable augmentation policy, e.g. "color,translation,cutout"
    info_cat: tuple[int, ...] = (10,)  # infogan: categorical codes and their sizes
    info_cont: int = 2  # infogan: continuous codes, uniform in [-1, 1]
    info_lambda: float = 1.0  # infogan: weight of the mutual-information term
    info_learn_std: bool = False  # infogan: Q predicts the continuous codes' variance too (else fixed at 1)
    info_cont_weight: float = 1.0  # infogan: the continuous codes' share of the term (the paper uses less than 1)
    info_invariant: bool = False  # infogan: Q reads the categorical codes from a turned, zoomed, shifted copy
    info_cluster: float = 0.0  # infogan: weight of Q reading real images and turned copies alike, all c1 values used
    info_stroke: bool = False  # infogan: Q's copy (info_invariant, info_cluster) also gets a thicker or thinner pen
    ac_weight: float = 1.0  # acgan: weight of the class terms
    cgan_class_weight: float = 0.0  # cgan: weight of an attribute head on D, learnt on real faces' labels,
    # whose reading of G's fakes must match the c they were drawn for (0: projection only)
    E: dict = field(default_factory=dict)  # aegan: encoder config keys (`--set E.channel_base=1024`)
    ae_pixel: float = 1.0  # aegan: weight of |G(E(x)) - x| (L1 over a 4-level image pyramid)
    ae_latent: float = 1.0  # aegan: weight of |E(G(w)) - w|^2 on the generator's own samples
    ae_labels: float = 0.0  # aegan: weight of the encoder's attribute head on labelled reals (0: no labels)
    ae_prior: float = 0.0  # aegan: weight of matching the mapping's w to E's codes of real images, unit by unit
    ae_edit: float = 0.0  # aegan: weight of the slider term: a step along w unit i flips label i for ae_labeller
    ae_labeller: str | None = None  # aegan: attribute classifier trained on real images (ganstudio judge train)
    ae_edit_step: float = 2.0  # aegan: the slider term's step along a unit, in that unit's std over the batch
    lr_decay: float = 0.0  # the last fraction of the run (by kimg) over which every lr falls linearly to 0
    ae_interval: int = 4  # aegan: the autoencoding terms every N generator steps, scaled by N (lazy, as R1)
    e_lr: float | None = None  # aegan: the encoder's learning rate (None: g_lr / 5; its layers are not equalized)
    amp: str = "auto"  # bf16 | none | auto (bf16 on GPUs that support it)
    channels_last: bool | None = None  # None: on GPUs and AVX-512 CPUs (see _channels_last_pays)
    compile: bool = False  # torch.compile the networks' forward passes
    seed: int = 0
    snapshot_kimg: float = 4.0  # snapshot (and sample grid) interval
    keep_snapshots: int = 5  # older snapshots are deleted (0: keep all)
    log_every: int = 50  # steps between stats.jsonl lines
    grid: int = 16  # fixed seeds 0..grid-1 for the sample grids
    workers: int = 1  # DataLoader worker processes
    max_nonfinite: int = 8  # stop after this many steps in a row with non-finite losses
    device: str = "auto"
    generator: str = ""  # encoder recipe: the checkpoint whose latent space the encoder learns
    init: str = ""  # a checkpoint whose weights the trained networks start from (warm_start.py); "": random
    exclusive_groups: list | None = None  # stargan: attribute groups with exactly one member set; None: hair colours

    def to_json(self) -> dict[str, Any]:
        return to_dict(self)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> "TrainConfig":
        cfg = from_dict(cls, data)
        if cfg.betas is not None:  # JSON lists back to the tuple the field holds
            cfg = dataclasses.replace(cfg, betas=tuple(cfg.betas))
        return cfg


OPTIMIZERS = ("adam", "rmsprop", "sgd")  # sgd: plain gradient descent, no momentum
GENERAL = {"optimizer": "adam", "lr": 2e-4, "betas": (0.5, 0.999), "d_steps": 1, "style_mixing": 0.0, "r1_gamma": 0.0}

# Options that may change when a run is resumed: how long it runs and what it logs keep the
# continuation exact; new loss weights, learning rates (the optimizers keep their moments) and
# EMA half-life fine-tune it, e.g. a lower lr once the curve only wanders (config.json records
# each change).
RESUMABLE = frozenset({"kimg", "snapshot_kimg", "keep_snapshots", "log_every", "workers", "max_nonfinite", "loss_args",
                       "lr", "g_lr", "d_lr", "e_lr", "ema_kimg"})


def parse_set(items: list[str]) -> dict[str, Any]:
    """`--set key=value` pairs into a nested dict: values are JSON when they parse, else
    strings; `G.w_dim=64` goes into the G dict."""
    out: dict[str, Any] = {}
    for item in items:
        key, sep, raw = item.partition("=")
        key = key.strip()
        if not sep or not key:
            raise ConfigError(f"--set expects key=value, got '{item}'")
        try:
            value = json.loads(raw)
        except json.JSONDecodeError:
            value = raw
        head, dot, rest = key.partition(".")
        if dot:
            if not rest:
                raise ConfigError(f"--set: '{key}' has an empty sub-key")
            out.setdefault(head, {})
            if not isinstance(out[head], dict):
                raise ConfigError(f"--set: '{head}' is given both as a value and with sub-keys")
            out[head][rest] = value
        else:
            out[key] = value
    return out


def merge(config: TrainConfig, changes: Mapping[str, Any]) -> TrainConfig:
    """A copy with changes applied; dict fields (G, D, loss_args) are updated key by key."""
    data = config.to_json()
    for key, value in changes.items():
        if isinstance(value, dict) and isinstance(data.get(key), dict):
            data[key] = {**data[key], **value}
        else:
            data[key] = value
    return TrainConfig.from_json(data)


def resolve(
    config: TrainConfig, objective_defaults: Mapping[str, Any], device: torch.device, resolution: int | None = None
) -> TrainConfig:
    """Fill every None: from the user's value, else the objective's prescription (WGAN's
    RMSProp and n_critic), else the arch preset, else the general default."""
    preset = ARCHS.get(config.arch).train_defaults if config.arch in ARCHS else {}

    def pick(name: str) -> Any:
        value = getattr(config, name)
        if value is not None:
            return value
        return objective_defaults.get(name, preset.get(name, GENERAL[name]))

    optimizer = pick("optimizer")
    if optimizer not in OPTIMIZERS:
        raise ConfigError(f"optimizer must be one of {', '.join(OPTIMIZERS)}, got '{optimizer}'")
    lr, betas = pick("lr"), pick("betas")
    r1_gamma = pick("r1_gamma")
    if r1_gamma == "auto":
        r1_gamma = 0.0002 * (config.resolution or resolution or 64) ** 2 / config.batch
    amp = config.amp
    if amp == "auto":
        amp = "bf16" if device.type == "cuda" and torch.cuda.is_bf16_supported() else "none"
    if amp not in ("bf16", "none"):
        raise ConfigError(f"amp must be 'bf16', 'none' or 'auto', got '{config.amp}'")
    resolved = dataclasses.replace(
        config,
        optimizer=optimizer,
        lr=lr,
        g_lr=config.g_lr if config.g_lr is not None else lr,
        d_lr=config.d_lr if config.d_lr is not None else lr,
        betas=tuple(betas),
        d_steps=pick("d_steps"),
        style_mixing=pick("style_mixing"),
        r1_gamma=r1_gamma,
        amp=amp,
        channels_last=config.channels_last if config.channels_last is not None else _channels_last_pays(device),
    )
    _check(resolved)
    return resolved


def _channels_last_pays(device: torch.device) -> bool:
    """NHWC memory for conv nets: faster on GPUs, and on CPUs whose oneDNN kernels use AVX-512
    (benchmarks/train_throughput.py on a 2-core AVX-512 Xeon: stylegan 64 px 64 -> 83 img/s,
    dcgan 32 px 356 -> 427 img/s); not assumed on other CPUs, where it was not measured."""
    if device.type == "cuda":
        return True
    return device.type == "cpu" and torch.backends.cpu.get_cpu_capability().startswith("AVX512")


def _check(cfg: TrainConfig) -> None:
    positive = {"kimg": cfg.kimg, "batch": cfg.batch, "d_steps": cfg.d_steps, "r1_interval": cfg.r1_interval,
                "snapshot_kimg": cfg.snapshot_kimg, "log_every": cfg.log_every, "max_nonfinite": cfg.max_nonfinite,
                "lr": cfg.lr, "g_lr": cfg.g_lr, "d_lr": cfg.d_lr}
    for name, value in positive.items():
        if not value > 0:
            raise ConfigError(f"{name} must be positive, got {value}")
    if not 0.0 <= cfg.lr_decay < 1.0:
        raise ConfigError(f"lr_decay is the last fraction of the run, from 0 (none) to below 1, got {cfg.lr_decay}")
    if cfg.ae_interval < 1:
        raise ConfigError(f"ae_interval must be at least 1, got {cfg.ae_interval}")
    for name in ("r1_gamma", "info_lambda", "info_cont_weight", "info_cluster", "ae_pixel", "ae_latent", "ae_labels",
                 "ae_prior", "ae_edit"):
        if getattr(cfg, name) < 0:
            raise ConfigError(f"{name} must not be negative, got {getattr(cfg, name)}")
    if cfg.info_stroke and not (cfg.info_invariant or cfg.info_cluster > 0):
        raise ConfigError("info_stroke changes the copy Q reads c1 from, which only info_invariant=true or "
                          "info_cluster > 0 makes; set one of them")
    if not 0.0 <= cfg.style_mixing <= 1.0:
        raise ConfigError(f"style_mixing is a probability, got {cfg.style_mixing}")
    for name in ("G", "D", "E", "loss_args"):
        if not isinstance(getattr(cfg, name), dict):
            raise ConfigError(f"{name} must be a JSON object of config keys")
