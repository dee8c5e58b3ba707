"""`--init CHECKPOINT`: start a new run from an exported model's weights instead of random ones.

This is fine-tuning (a model trained further, on its own data or on a user's) and transfer,
as StyleGAN2-ADA's `--resume=network.pkl` does. Unlike `--resume`, nothing of the old run
comes along: optimizer moments, step and image counts, the data order and the random streams
all start fresh, which is all an exported checkpoint can give (it keeps weights only).

Only the networks the recipe trains take weights; frozen ones (the encoder recipe's G_ema
and D, which come from `--generator`) stay as the recipe built them. An export usually
holds G_ema but not G, so a trained role and its EMA twin stand in for each other.

Two differences are allowed. Noise inputs: a run whose generator has fewer of them (e.g.
`--set G.noise_max_res=16`) starts from a model that had more, the surplus inputs dropped and
recorded, so the features those inputs painted have to come from w from then on. And the
learning-rate multiplier of equalized layers (e.g. `--set G.mapping_lr_mul=0.1`): such a layer
stores its weights divided by the multiplier, so they are rescaled to compute the same function
and only the speed at which they learn changes. And a discriminator head the source lacks
(e.g. the class head `--set cgan_class_weight=1` adds to a cgan's D) starts fresh, recorded.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Iterable, Mapping

import torch
from torch import nn

from .. import checkpoint
from ..models.layers import EqualLinear
from .runs import RunError, load_weights


def init_from_checkpoint(
    path: str | Path,
    nets: Mapping[str, nn.Module],
    ema: Mapping[str, str],
    trained: Iterable[str],
    twins: Mapping[str, nn.Module],
) -> dict:
    """Load `path`'s weights into the `trained` roles of `nets` and into their EMA `twins`
    (twin role -> module; `ema` maps twin role -> the role it follows). Returns what to
    record in config.json: the file, its sha256, and which checkpoint role filled each role."""
    path = Path(path)
    try:
        source = checkpoint.load(path)
    except checkpoint.CheckpointError as exc:
        raise RunError(f"--init: {exc}") from None
    follows = dict(ema)
    twin_of = {src: twin for twin, src in follows.items()}
    targets = {role: nets[role] for role in trained}
    targets.update({twin: twins[twin] for twin, src in follows.items() if src in targets})
    filled: dict[str, str] = {}
    dropped: dict[str, list[str]] = {}
    new_heads: dict[str, list[str]] = {}
    for role, net in targets.items():
        stand_in = follows.get(role) or twin_of.get(role)
        source_role = next((r for r in (role, stand_in) if r in source.networks), None)
        if source_role is None:
            continue
        weights, surplus = without_surplus_noise(source.networks[source_role].state_dict(), net.state_dict())
        weights = with_target_lr_mul(weights, source.networks[source_role], net)
        weights, fresh_heads = with_fresh_heads(weights, net.state_dict())
        load_weights(net, weights, f"--init {path}: its '{source_role}' does not fit this run's '{role}' "
                                   "(it needs the same arch and --set G.* / D.* options)")
        filled[role] = source_role
        if surplus:
            dropped[role] = surplus
        if fresh_heads:
            new_heads[role] = fresh_heads
    if not filled:
        raise RunError(f"--init {path}: has none of the networks this run trains ({', '.join(targets)}); "
                       f"it has {', '.join(source.networks)}")
    return {"path": str(path), "sha256": _sha256(path), "roles": filled,
            "fresh": sorted(set(targets) - set(filled)), **({"dropped_noise_inputs": dropped} if dropped else {}),
            **({"fresh_heads": new_heads} if new_heads else {})}


NOISE_INPUT_KEYS = (".noise_strength", ".noise_const")


def without_surplus_noise(weights: Mapping[str, torch.Tensor], target: Mapping[str, torch.Tensor]
                          ) -> tuple[dict[str, torch.Tensor], list[str]]:
    """`weights` less the noise inputs `target` does not have, and the names of those dropped."""
    surplus = sorted(k for k in weights if k not in target and k.endswith(NOISE_INPUT_KEYS))
    return {k: v for k, v in weights.items() if k not in surplus}, surplus


# A discriminator's optional outputs: the class head and InfoGAN's Q head (DiscriminatorHeads's, the tiny D's).
OPTIONAL_HEAD_PREFIXES = ("head.classify.", "head.q.", "class_head.", "q_head.")


def with_fresh_heads(weights: Mapping[str, torch.Tensor], target: Mapping[str, torch.Tensor]
                     ) -> tuple[dict[str, torch.Tensor], list[str]]:
    """`weights` plus `target`'s own (fresh) values for the optional heads `weights` lacks, and
    the names of those keys."""
    fresh = sorted(k for k in target if k not in weights and k.startswith(OPTIONAL_HEAD_PREFIXES))
    return {**weights, **{k: target[k] for k in fresh}}, fresh


def with_target_lr_mul(weights: Mapping[str, torch.Tensor], source: nn.Module, target: nn.Module
                       ) -> dict[str, torch.Tensor]:
    """`weights` (of `source`) with every equalized linear layer's weight and bias rescaled by
    source lr_mul / target lr_mul where the two modules differ: the same layer outputs."""
    weights = dict(weights)
    theirs = dict(source.named_modules())
    for name, layer in target.named_modules():
        old = theirs.get(name)
        if isinstance(layer, EqualLinear) and isinstance(old, EqualLinear) and old.lr_mul != layer.lr_mul:
            for key in (f"{name}.weight", f"{name}.bias"):
                if key in weights:
                    weights[key] = weights[key] * (old.lr_mul / layer.lr_mul)
    return weights


def _sha256(path: Path) -> str:
    with path.open("rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()
