"""`ganstudio export`: a training snapshot -> the self-describing checkpoint the studio serves.

`average=K` exports the mean of the weights of the last K snapshots instead of the last one
alone. GAN training circles around a solution rather than settling on it; a uniform moving
average of the weights lands nearer the centre (Yazıcı et al., "The Unusual Effectiveness of
Averaging in GAN Training", ICLR 2019). It is what the recipes without an EMA twin (CycleGAN,
StarGAN) can have after the fact; the window is K times the snapshot interval.
"""

from __future__ import annotations

from pathlib import Path

import torch

from .. import checkpoint
from . import runs


def export_run(
    source: str | Path, out: str | Path, fp16: bool = False, include_g: bool = False, notes: str | None = None,
    average: int = 1,
) -> Path:
    """Write the recipe's export roles (G_ema and D for GANs, plus G if asked) from the
    latest snapshot of a run folder (or from a snapshot file) into one checkpoint; with
    `average` > 1, their weights averaged over that snapshot and the average - 1 before it."""
    if average < 1:
        raise runs.RunError(f"--average must be at least 1, got {average}")
    snapshot = runs.find_resume(source)
    info = _snapshot_info(snapshot)
    state = info.meta.get(runs.STATE_KEY)
    if not isinstance(state, dict) or "export" not in state:
        raise runs.RunError(f"{snapshot}: not a training snapshot (no {runs.STATE_KEY} in the header)")
    wanted = state["export"]["roles"] + (["G"] if include_g and "G" in info.networks else [])
    loaded = checkpoint.load(snapshot, roles=wanted)
    meta = {**state["export"]["meta"], "run": snapshot.parent.parent.name}
    if average > 1:
        earlier = averaging_window(snapshot, average)[:-1]
        meta["averaged_steps"] = _average_into(loaded.networks, earlier, wanted, info) + [info.step]
    trained = state["export"].get("trained") or {}  # snapshots before per-network lengths have none
    primary = trained.get(wanted[0], {"step": info.step, "kimg": info.kimg})
    return checkpoint.save(
        out,
        {role: loaded[role] for role in wanted},
        dataset=info.dataset,
        labels=state["export"]["labels"],
        step=primary["step"],  # the header's own length is the primary network's (G_ema's)
        kimg=primary["kimg"],
        notes=notes,
        meta=meta,
        dtype=torch.float16 if fp16 else None,
        trained=trained,
    )


def _snapshot_info(path: Path) -> checkpoint.CheckpointInfo:
    try:
        return checkpoint.read_info(path)
    except checkpoint.CheckpointError as exc:
        raise runs.RunError(str(exc)) from None


def averaging_window(snapshot: Path, k: int) -> list[Path]:
    """`snapshot` and the k - 1 snapshots before it in its run folder, oldest first."""
    earlier = sorted(p for p in runs.run_dir_of(snapshot).joinpath("snapshots").glob("snapshot-*.safetensors")
                     if p.name <= snapshot.name)
    if len(earlier) < k:
        raise runs.RunError(f"{snapshot}: --average {k} needs {k} snapshots up to this one, the run folder has "
                            f"{len(earlier)} (keep more with --set keep_snapshots=0)")
    return earlier[-k:]


def _average_into(networks: dict, earlier: list[Path], roles: list[str], info: checkpoint.CheckpointInfo) -> list[int]:
    """Replace every floating-point tensor of `networks` (the last snapshot's, already loaded)
    by its mean with the same tensor of the `earlier` snapshots, accumulated in float64;
    integer buffers (counters) keep the last value. Returns the earlier snapshots' steps."""
    tensors = {role: {k: v for k, v in networks[role].state_dict().items() if v.is_floating_point()} for role in roles}
    sums = {role: {k: v.double() for k, v in own.items()} for role, own in tensors.items()}
    steps = []
    for path in earlier:
        other = _snapshot_info(path)
        for role in roles:
            if other.networks.get(role) != info.networks[role]:
                raise runs.RunError(f"{path}: network '{role}' differs from the last snapshot's; "
                                    "only snapshots of one network can be averaged")
        steps.append(other.step)
        state = checkpoint.load(path, roles=roles)
        for role in roles:
            for key, value in state[role].state_dict().items():
                if key in sums[role]:
                    sums[role][key] += value.double()
    with torch.no_grad():
        for role in roles:
            for key, value in tensors[role].items():
                value.copy_(sums[role][key] / (len(earlier) + 1))
    return steps
