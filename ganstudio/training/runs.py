"""Run folders on disk: where a training run keeps everything it writes.

    runs/00003-synthfaces64-stylegan/
        config.json            the resolved TrainConfig (+ data set description)
        stats.jsonl            one JSON object per log tick (losses, img/s, sec/kimg, timing, skips)
        samples/reals.png      a grid of training images
        samples/fakes-000120.png   G_ema on fixed seeds at every snapshot (step in the name)
        snapshots/snapshot-000120.safetensors   networks + optimiser/RNG/step state
        latest                 the path of the newest complete snapshot, relative to the run

A snapshot is ONE safetensors file written atomically by `ganstudio.checkpoint.save`: its
networks (G_ema first, so it is also a checkpoint the studio can open), the optimiser
tensors under `extra.`, and the rest of the training state as JSON in the header. `latest`
is replaced atomically only after the snapshot is complete, so an interrupted write never
leaves a run pointing at a broken file.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any, Mapping

import torch
from torch import nn

from .. import checkpoint
from ..checkpoint import atomic_write_bytes
from ..config_io import to_dict
from ..errors import UserError

RUN_NAME = re.compile(r"^(\d{5})-")
LATEST = "latest"
STATE_KEY = "train_state"


class RunError(UserError):
    """A run folder or snapshot that cannot be used; the message names the path."""


def slug(text: str) -> str:
    """'synthfaces:64?n=20' -> 'synthfaces64'; 'folder:/data/cats' -> 'folder-cats'."""
    name, _, arg = text.split("?", 1)[0].partition(":")
    if "/" in arg or "\\" in arg:
        arg = "-" + Path(arg.rstrip("/\\")).name
    return re.sub(r"[^A-Za-z0-9_.-]+", "", name + arg) or "data"


def new_run_dir(out: str | Path, data: str, arch: str) -> Path:
    """Create the next numbered run folder under `out`."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    while True:
        numbers = [int(m.group(1)) for p in out.iterdir() if (m := RUN_NAME.match(p.name))]
        path = out / f"{max(numbers, default=-1) + 1:05d}-{slug(data)}-{slug(arch)}"
        try:
            path.mkdir()
            return path
        except FileExistsError:  # another run took the number first
            continue


def write_json(path: Path, data: Mapping[str, Any]) -> None:
    atomic_write_bytes(path, (json.dumps(data, indent=2) + "\n").encode())


def read_config(run_dir: Path) -> dict[str, Any]:
    path = run_dir / "config.json"
    try:
        return json.loads(path.read_text())
    except FileNotFoundError:
        raise RunError(f"{run_dir}: not a run folder (no config.json)") from None
    except json.JSONDecodeError as exc:
        raise RunError(f"{path}: not valid JSON ({exc})") from None


def describe_network(net: nn.Module) -> dict[str, Any]:
    """Arch, config and size of a network, for config.json and --dry-run."""
    return {"arch": checkpoint.arch_of(net), "config": to_dict(net.config),
            "parameters": sum(p.numel() for p in net.parameters())}


def load_weights(net: nn.Module, weights: Mapping[str, torch.Tensor], what: str) -> None:
    """`net.load_state_dict(weights, strict=True)`, or a RunError that starts with `what` and
    names the first mismatch (torch's own first line only names the class)."""
    try:
        net.load_state_dict(weights, strict=True)
    except RuntimeError as exc:
        lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
        raise RunError(f"{what}: {lines[1] if len(lines) > 1 else lines[0]}") from None


def snapshot_path(run_dir: Path, step: int) -> Path:
    return run_dir / "snapshots" / f"snapshot-{step:06d}.safetensors"


def set_latest(run_dir: Path, snapshot: Path) -> None:
    atomic_write_bytes(run_dir / LATEST, (snapshot.relative_to(run_dir).as_posix() + "\n").encode())


def latest_snapshot(run_dir: Path) -> Path | None:
    pointer = run_dir / LATEST
    if not pointer.is_file():
        return None
    target = run_dir / pointer.read_text().strip()
    if not target.is_file():
        raise RunError(f"{pointer}: points at {target}, which does not exist")
    return target


def find_resume(spec: str | Path, out: str | Path | None = None) -> Path:
    """The snapshot to resume from: 'latest' (the newest run under `out` that has one),
    a run folder (its latest snapshot) or a snapshot file."""
    if str(spec) == "latest":
        if out is None or not Path(out).is_dir():
            raise RunError(f"--resume latest: no runs folder {out}")
        runs = sorted((p for p in Path(out).iterdir() if RUN_NAME.match(p.name) and (p / LATEST).is_file()),
                      key=lambda p: p.name)
        if not runs:
            raise RunError(f"--resume latest: no run under {out} has a snapshot yet")
        return latest_snapshot(runs[-1])
    path = Path(spec)
    if path.is_dir():
        snap = latest_snapshot(path)
        if snap is None:
            raise RunError(f"{path}: this run has no snapshot to resume from")
        return snap
    if path.is_file():
        return path
    raise RunError(f"--resume {spec}: no such run folder or snapshot")


def run_dir_of(snapshot: Path) -> Path:
    if snapshot.parent.name != "snapshots" or not (snapshot.parent.parent / "config.json").is_file():
        raise RunError(f"{snapshot}: not inside a run folder's snapshots/ (no config.json beside it)")
    return snapshot.parent.parent


def save_snapshot(
    path: Path,
    networks: Mapping[str, nn.Module],
    tensors: Mapping[str, torch.Tensor],
    state: Mapping[str, Any],
    **info: Any,
) -> Path:
    """One atomic file: networks, state tensors under `extra.`, state JSON in the header."""
    return checkpoint.save(path, networks, extra=tensors, meta={STATE_KEY: state}, **info)


def load_snapshot(path: Path) -> tuple[checkpoint.CheckpointInfo, dict[str, torch.Tensor], dict[str, Any]]:
    """Header info, every tensor by its stored name (state tensors under `extra.`), and the
    training state JSON."""
    from safetensors.torch import load_file

    try:
        info = checkpoint.read_info(path)
        tensors = load_file(str(path), device="cpu")
    except checkpoint.CheckpointError as exc:
        raise RunError(str(exc)) from None
    except Exception as exc:  # safetensors raises its own error types for damaged files
        raise RunError(f"{path}: cannot read snapshot ({exc})") from None
    state = info.meta.get(STATE_KEY)
    if not isinstance(state, dict):
        raise RunError(f"{path}: a checkpoint but not a training snapshot (no {STATE_KEY} in the header)")
    return info, tensors, state


def prune_snapshots(run_dir: Path, keep: int) -> None:
    """Delete all but the newest `keep` snapshots, never the one `latest` points at."""
    if keep <= 0:
        return
    current = latest_snapshot(run_dir)
    snaps = sorted((run_dir / "snapshots").glob("snapshot-*.safetensors"))
    for old in snaps[:-keep]:
        if current is None or old.resolve() != current.resolve():
            old.unlink(missing_ok=True)


class StatsLog:
    """stats.jsonl always; TensorBoard events too when tensorboard is installed."""

    def __init__(self, run_dir: Path):
        self.path = run_dir / "stats.jsonl"
        self.tb = None
        try:
            from torch.utils.tensorboard import SummaryWriter
        except ImportError:  # tensorboard is optional
            return
        self.tb = SummaryWriter(str(run_dir / "tensorboard"))

    def write(self, record: Mapping[str, Any]) -> None:
        with open(self.path, "a", encoding="utf-8") as fh:
            fh.write(json.dumps(record) + "\n")
        if self.tb is not None:
            step = int(record["step"])
            for name, value in _scalars(record):
                self.tb.add_scalar(name, value, step)
            self.tb.flush()

    def close(self) -> None:
        if self.tb is not None:
            self.tb.close()


def _scalars(record: Mapping[str, Any], prefix: str = ""):
    for key, value in record.items():
        if isinstance(value, Mapping):
            yield from _scalars(value, f"{prefix}{key}/")
        elif isinstance(value, (int, float)) and not isinstance(value, bool) and key != "step":
            yield f"{prefix}{key}", value


def recover_run(run_dir: Path, step: int) -> None:
    """Tidy what a hard kill (kill -9, power loss) leaves in a run folder, before resuming it at `step`.

    Removes the temporary files of atomic writes cut short (a half-written snapshot can be as
    large as the model), and drops the stats lines past `step`: the run usually logged steps
    after its last snapshot, resuming repeats them, and the folder keeps one history, not two.
    """
    run_dir = Path(run_dir)
    for leftover in [*run_dir.glob(".*.tmp"), *run_dir.glob("*/.*.tmp")]:
        leftover.unlink(missing_ok=True)
    path = run_dir / "stats.jsonl"
    if not path.is_file():
        return
    lines = [line for line in path.read_text(encoding="utf-8").splitlines(keepends=True) if line.strip()]
    kept = []
    for line in lines:
        try:
            if int(json.loads(line)["step"]) <= step and line.endswith("\n"):
                kept.append(line)
        except (ValueError, KeyError, TypeError):
            continue  # a line torn by the kill
    if len(kept) != len(lines):
        atomic_write_bytes(path, "".join(kept).encode("utf-8"))


def read_stats(run_dir: Path) -> list[dict[str, Any]]:
    path = Path(run_dir) / "stats.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()] if path.is_file() else []
