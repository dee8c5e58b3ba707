"""`--init CHECKPOINT`: start a new run from an exported model's weights instead of random ones.

This is fine-tuning (a model trained further, on its own data or on a user's) and transfer,
as StyleGAN2-ADA's `--resume=network.pkl` does. Unlike `--resume`, nothing of the old run
comes along: optimizer moments, step and image counts, the data order and the random streams
all start fresh, which is all an exported checkpoint can give (it keeps weights only).

Only the networks the recipe trains take weights; frozen ones (the encoder recipe's G_ema
and D, which come from `--generator`) stay as the recipe built them. An export usually
holds G_ema but not G, so a trained role and its EMA twin stand in for each other.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Iterable, Mapping

from torch import nn

from .. import checkpoint
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
    for role, net in targets.items():
        stand_in = follows.get(role) or twin_of.get(role)
        source_role = next((r for r in (role, stand_in) if r in source.networks), None)
        if source_role is None:
            continue
        load_weights(net, source.networks[source_role].state_dict(),
                     f"--init {path}: its '{source_role}' does not fit this run's '{role}' "
                     "(it needs the same arch and --set G.* / D.* options)")
        filled[role] = source_role
    if not filled:
        raise RunError(f"--init {path}: has none of the networks this run trains ({', '.join(targets)}); "
                       f"it has {', '.join(source.networks)}")
    return {"path": str(path), "sha256": _sha256(path), "roles": filled,
            "fresh": sorted(set(targets) - set(filled))}


def _sha256(path: Path) -> str:
    with path.open("rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()
