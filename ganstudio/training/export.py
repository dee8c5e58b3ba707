"""`ganstudio export`: a training snapshot -> the self-describing checkpoint the studio serves."""

from __future__ import annotations

from pathlib import Path

import torch

from .. import checkpoint
from . import runs


def export_run(
    source: str | Path, out: str | Path, fp16: bool = False, include_g: bool = False, notes: str | None = None
) -> Path:
    """Write the recipe's export roles (G_ema and D for GANs, plus G if asked) from the
    latest snapshot of a run folder (or from a snapshot file) into one checkpoint."""
    snapshot = runs.find_resume(source)
    try:
        info = checkpoint.read_info(snapshot)
    except checkpoint.CheckpointError as exc:
        raise runs.RunError(str(exc)) from None
    state = info.meta.get(runs.STATE_KEY)
    if not isinstance(state, dict) or "export" not in state:
        raise runs.RunError(f"{snapshot}: not a training snapshot (no {runs.STATE_KEY} in the header)")
    wanted = state["export"]["roles"] + (["G"] if include_g and "G" in info.networks else [])
    loaded = checkpoint.load(snapshot, roles=wanted)
    meta = {**state["export"]["meta"], "run": snapshot.parent.parent.name}
    return checkpoint.save(
        out,
        {role: loaded[role] for role in wanted},
        dataset=info.dataset,
        labels=state["export"]["labels"],
        step=info.step,
        kimg=info.kimg,
        notes=notes,
        meta=meta,
        dtype=torch.float16 if fp16 else None,
    )
