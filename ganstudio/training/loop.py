"""The training loop: runs a recipe's phases and owns everything around them.

Per training step, each phase of the recipe runs `repeat` times (k discriminator steps per
generator step): draw a batch (or reuse the previous phase's), run the phase under autocast,
back-propagate, average gradients over processes, and step that phase's optimiser — unless
the loss or a gradient is not finite, in which case the update is skipped and counted.
After the step the EMA twins follow their networks. Around the steps: progress bar and
stats on rank 0, snapshots at every `snapshot_kimg` (atomic, with a `latest` pointer),
sample grids from fixed seeds, exact resume, and a clean stop on SIGINT/SIGTERM.

Exactness of resume: every random draw comes from the torch/numpy/python RNGs (saved per
process) or from the data order (a seeded sampler whose position is saved); the DataLoader
gets its own generator so creating it consumes nothing. Data sets that draw random numbers
inside DataLoader worker processes are the one exception (use workers=0 to rule it out).
"""

from __future__ import annotations

import copy
import json
import signal
import sys
import threading
import time
from collections import defaultdict
from contextlib import nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator, Mapping

import torch
from torch import nn
from torch.utils.data import DataLoader, Dataset, DistributedSampler, Sampler, default_collate

from .. import __version__
from ..config_io import ConfigError
from ..checkpoint import atomic_write_bytes
from ..imaging import make_grid, png_bytes, to_pils
from ..registry import LOSSES
from . import distributed as dist
from . import runs
from .train_config import RESUMABLE, TrainConfig, merge, resolve
from ..registry import RECIPES
from .recipes import Phase, Recipe, StepContext, describe_dataset
from .state import load_optimizer_state, optimizer_state, rng_state, seed_everything, set_rng_state
from .warm_start import init_from_checkpoint

SIGNAL_EXIT = {signal.SIGINT: 130, signal.SIGTERM: 143}


class TrainingError(RuntimeError):
    """A run that cannot go on; the message says why and what was kept."""


@dataclass(frozen=True)
class RunResult:
    exit_code: int  # 0 finished, 130 stopped by SIGINT, 143 by SIGTERM
    reason: str  # "finished" | "SIGINT" | "SIGTERM"
    step: int
    kimg: float
    snapshot: Path | None
    run_dir: Path | None


class ResumableSampler(Sampler[int]):
    """An endless stream of this process's indices: epoch e is DistributedSampler's order
    for (seed, e), so processes see disjoint shards; `start` skips what was already used."""

    def __init__(self, dataset: Dataset, rank: int, world: int, seed: int, start: int = 0):
        self.dataset, self.rank, self.world, self.seed, self.start = dataset, rank, world, seed, start

    def __iter__(self) -> Iterator[int]:
        order = DistributedSampler(self.dataset, num_replicas=self.world, rank=self.rank, shuffle=True, seed=self.seed)
        epoch, skip = divmod(self.start, len(order))
        while True:
            order.set_epoch(epoch)
            for i, index in enumerate(order):
                if i >= skip:
                    yield index
            skip, epoch = 0, epoch + 1


class Trainer:
    """Train `config.recipe` on `dataset`, writing a run folder under `out`.

    `Trainer(config, dataset, out)` starts a new numbered run; `Trainer.resume(snapshot,
    dataset)` continues one exactly. `run()` trains to `config.kimg` and returns a RunResult;
    `step()` does one training step (benchmarks and tests drive it directly).
    """

    def __init__(
        self,
        config: TrainConfig,
        dataset: Dataset,
        out: str | Path | None = "runs",
        *,
        snapshot: Path | None = None,
        progress: bool = True,
    ):
        self.dist = dist.init_from_env(config.device)
        self.device = self.dist.device
        self.dataset = dataset
        self.data = describe_dataset(dataset, config.data or type(dataset).__name__)
        objective = LOSSES.get(config.loss)
        self.config = config = resolve(config, objective.defaults, self.device, self.data.resolution)
        if config.batch % self.dist.world:
            raise ConfigError(f"batch {config.batch} does not split evenly over {self.dist.world} processes")
        self.batch_per_rank = config.batch // self.dist.world
        self.recipe: Recipe = RECIPES.get(config.recipe)(config, self.data)
        self.progress = progress and self.dist.main

        seed_everything(config.seed, self.device)  # identical initial weights on every process
        self.nets: dict[str, nn.Module] = {}
        networks = self.recipe.networks()
        if snapshot is None:
            self.recipe.start_weights(networks)
        for role, net in networks.items():
            net = net.to(self.device)
            if config.channels_last:
                net = net.to(memory_format=torch.channels_last)
            dist.broadcast_module(net)
            self.nets[role] = net.train()
        self.ema = {twin: copy.deepcopy(self.nets[src]).eval().requires_grad_(False)
                    for twin, src in self.recipe.ema.items()}
        self._params = {role: list(net.parameters()) for role, net in self.nets.items()}
        self.phases: list[Phase] = self.recipe.phases()
        self.optimizers = {p.name: self._optimizer(p) for p in self.phases}
        seed_everything((config.seed * 1_000_003 + self.dist.rank + 1) % 2**63, self.device)

        self.step_count = 0
        self.nimg = 0
        self.skipped = 0
        self.bad_in_a_row = 0
        self.data_position = 0  # items this process has drawn from its sampler
        self.train_seconds = 0.0
        self.phase_steps = {p.name: 0 for p in self.phases}
        self.last_losses: dict[str, torch.Tensor] = {}  # "D/loss", ... of the latest finite updates
        self._loader: Iterator | None = None
        self._batch: Any = None
        self._signal: int | None = None
        self._interval = _Interval()

        self.init_record: dict | None = None
        if snapshot is None and config.init:
            trained = [role for phase in self.phases for role in phase.roles]
            self.init_record = init_from_checkpoint(config.init, self.nets, self.recipe.ema, trained, self.ema)
            fresh = f"; random: {', '.join(self.init_record['fresh'])}" if self.init_record["fresh"] else ""
            _note(self.dist.main, f"init from {config.init}: " + ", ".join(
                f"{role} <- {src}" for role, src in self.init_record["roles"].items()) + fresh)
        if snapshot is not None:
            snapshot_run = runs.run_dir_of(Path(snapshot))
            self.init_record = runs.read_config(snapshot_run).get("init")
            self.run_dir = snapshot_run if out is not None else None
            self._load(Path(snapshot))
            if self.run_dir is not None and self.dist.main:
                runs.recover_run(self.run_dir, self.step_count)  # after a kill -9: partial files, stats past it
        else:
            self.run_dir = self._new_run(Path(out)) if out is not None else None
        if config.compile:
            for net in self.nets.values():
                _compile(net)

    @classmethod
    def resume(
        cls, snapshot: str | Path, dataset: Dataset, changes: Mapping[str, Any] | None = None, progress: bool = True
    ) -> "Trainer":
        """Continue the run a snapshot belongs to, with its own config.json; only options in
        RESUMABLE (e.g. kimg) may change."""
        snapshot = Path(snapshot)
        saved = runs.read_config(runs.run_dir_of(snapshot))["config"]
        changes = dict(changes or {})
        config = TrainConfig.from_json(saved)
        locked = sorted(k for k, v in changes.items() if k not in RESUMABLE and saved.get(k) != v)
        if locked:
            raise ConfigError(
                f"cannot change {', '.join(locked)} when resuming (only {', '.join(sorted(RESUMABLE))}); "
                "start a new run instead"
            )
        trainer = cls(merge(config, changes), dataset, out=snapshot.parent.parent, snapshot=snapshot, progress=progress)
        changed = {k: v for k, v in changes.items() if saved.get(k) != v}
        if changed and trainer.dist.main:  # config.json keeps saying what the run does now, and what changed when
            run_dir = runs.run_dir_of(snapshot)
            record = runs.read_config(run_dir)
            record["config"] = trainer.config.to_json()
            record.setdefault("resumes", []).append(
                {"snapshot": snapshot.name, "kimg": round(trainer.nimg / 1000, 3), "changes": changed})
            runs.write_json(run_dir / "config.json", record)
        return trainer

    # ----- set-up ----------------------------------------------------------------------------
    def _optimizer(self, phase: Phase) -> torch.optim.Optimizer:
        """One parameter group at the phase's lr, plus one per role that `role_lr` gives another;
        each group keeps its base lr so a schedule can scale them all."""
        shared = [p for role in phase.roles if role not in phase.role_lr for p in self.nets[role].parameters()]
        groups = [{"params": shared, "lr": phase.lr, "base_lr": phase.lr}] if shared else []
        for role, lr in phase.role_lr.items():
            groups.append({"params": list(self.nets[role].parameters()), "lr": lr, "base_lr": lr})
        if self.config.optimizer == "rmsprop":
            return torch.optim.RMSprop(groups, lr=phase.lr)
        if self.config.optimizer == "sgd":
            return torch.optim.SGD(groups, lr=phase.lr)
        return torch.optim.Adam(groups, lr=phase.lr, betas=tuple(self.config.betas))

    def _new_run(self, out: Path) -> Path:
        path = ""
        if self.dist.main:
            run_dir = runs.new_run_dir(out, self.config.data or self.data.name, self.config.arch)
            runs.write_json(run_dir / "config.json", {
                "config": self.config.to_json(),
                "data": {"name": self.data.name, "resolution": self.data.resolution, "size": len(self.dataset),
                         "label_names": list(self.data.label_names), "label_kind": self.data.label_kind},
                "networks": {role: runs.describe_network(net) for role, net in self.nets.items()},
                "world": self.dist.world,
                "ganstudio_version": __version__,
                **({"init": self.init_record} if self.init_record else {}),
            })
            path = str(run_dir)
        return Path(dist.broadcast_str(path, self.device))

    def _data(self) -> Iterator:
        if self._loader is None:
            sampler = ResumableSampler(self.dataset, self.dist.rank, self.dist.world, self.config.seed,
                                       self.data_position)
            generator = torch.Generator().manual_seed(self.config.seed + self.data_position)
            loader = DataLoader(
                self.dataset, batch_size=self.batch_per_rank, sampler=sampler, drop_last=True,
                num_workers=self.config.workers, persistent_workers=self.config.workers > 0,
                pin_memory=self.device.type == "cuda", generator=generator,
            )
            self._loader = iter(loader)
        return self._loader

    def _next_batch(self) -> Any:
        start = time.perf_counter()
        batch = _to_device(next(self._data()), self.device, self.config.channels_last)
        self.data_position += self.batch_per_rank
        self.nimg += self.config.batch
        self._interval.data_s += time.perf_counter() - start
        return batch

    # ----- one training step ----------------------------------------------------------------
    def step(self) -> None:
        start = time.perf_counter()
        all_finite = True
        self._batch = None
        factor = self.recipe.lr_factor(self.nimg)
        for phase in self.phases:
            for group in self.optimizers[phase.name].param_groups:
                group["lr"] = group.get("base_lr", phase.lr) * factor  # snapshots before role_lr lack it
        for phase in self.phases:
            for _ in range(phase.repeat):
                if phase.fresh_data or self._batch is None:
                    self._batch = self._next_batch()
                all_finite &= self._update(phase)
        self.step_count += 1
        self._update_ema()
        self.bad_in_a_row = 0 if all_finite else self.bad_in_a_row + 1
        self.train_seconds += time.perf_counter() - start

    def _autocast(self):
        if self.config.amp == "bf16":
            return torch.autocast(self.device.type, dtype=torch.bfloat16)
        return nullcontext()

    def _update(self, phase: Phase) -> bool:
        for role, params in self._params.items():
            for p in params:
                p.requires_grad_(role in phase.roles)
        opt = self.optimizers[phase.name]
        opt.zero_grad(set_to_none=True)
        ctx = StepContext(self.step_count, self.phase_steps[phase.name], dist.all_mean)
        with self._autocast():
            losses = phase.run(self.nets, self._batch, ctx)
        loss = losses["loss"].float()
        loss.backward()
        params = [p for group in opt.param_groups for p in group["params"]]
        finite = dist.reduce_gradients(params, loss)
        self.phase_steps[phase.name] += 1
        if not finite:
            opt.zero_grad(set_to_none=True)
            self.skipped += 1
            self._interval.nonfinite.add(phase.name)
            return False
        opt.step()
        if phase.after_update is not None:
            phase.after_update(self.nets)
        self._interval.add(phase.name, losses)
        self.last_losses.update({f"{phase.name}/{k}": v.detach() for k, v in losses.items()})
        return True

    @torch.no_grad()
    def _update_ema(self) -> None:
        c = self.config
        half_life = c.ema_kimg * 1000
        if c.ema_rampup is not None:
            half_life = min(half_life, self.nimg * c.ema_rampup)
        beta = 0.5 ** (c.batch / max(half_life, 1e-8))
        for twin, src in self.recipe.ema.items():
            ema, net = self.ema[twin], self.nets[src]
            torch._foreach_lerp_(list(ema.parameters()), list(net.parameters()), 1.0 - beta)  # one fused op
            for b_ema, b in zip(ema.buffers(), net.buffers()):
                b_ema.copy_(b)

    # ----- the run --------------------------------------------------------------------------
    def run(self) -> RunResult:
        c = self.config
        total = int(c.kimg * 1000)
        snap_every = int(c.snapshot_kimg * 1000)
        last_snapshot: Path | None = runs.latest_snapshot(self.run_dir) if self.run_dir else None
        bar = _progress(self.progress, total, self.nimg)
        restore = self._install_signal_handlers()
        try:
            if self.step_count == 0 and self.run_dir is not None:
                self._write_reals()
            self._interval.reset(self)  # the first line's img/s counts from here, not from 0 kimg on a resume
            while self.nimg < total:
                before = self.nimg
                self.step()
                bar.total = max(bar.total, self.nimg)  # the last batch may run past kimg; say so
                bar.update(self.nimg - before)
                if self.bad_in_a_row >= c.max_nonfinite:
                    self._log(bar)
                    raise TrainingError(self._diverged_message(last_snapshot))
                stop = dist.any_true(self._signal is not None, self.device)
                done = self.nimg >= total
                if self.step_count % c.log_every == 0 or done or stop:
                    self._log(bar)
                if before // snap_every != self.nimg // snap_every or done or stop:
                    last_snapshot = self.save_snapshot()
                if stop:
                    signum = self._signal or signal.SIGTERM
                    name = signal.Signals(signum).name
                    _note(self.dist.main, f"{name}: stopped after step {self.step_count}, saved {last_snapshot}")
                    return RunResult(SIGNAL_EXIT.get(signum, 128 + signum), name, self.step_count,
                                     self.nimg / 1000, last_snapshot, self.run_dir)
            return RunResult(0, "finished", self.step_count, self.nimg / 1000, last_snapshot, self.run_dir)
        finally:
            restore()
            bar.close()
            self._interval.close()

    def _diverged_message(self, last_snapshot: Path | None) -> str:
        phases = ", ".join(sorted(self._interval.last_nonfinite)) or "?"
        kept = f"the last good snapshot is {last_snapshot}" if last_snapshot else "no snapshot had been written yet"
        return (
            f"training stopped at step {self.step_count} ({self.nimg / 1000:.2f} kimg): {self.bad_in_a_row} steps "
            f"in a row had non-finite losses or gradients (phase {phases}); those updates were skipped and "
            f"{kept}. Lower the learning rate or check the data, then resume from it."
        )

    def _install_signal_handlers(self):
        if threading.current_thread() is not threading.main_thread():
            return lambda: None

        def handler(signum, frame):
            if self._signal is not None and signum == signal.SIGINT:
                raise KeyboardInterrupt  # a second Ctrl-C: stop now, without saving
            self._signal = signum
            _note(self.dist.main, f"{signal.Signals(signum).name}: finishing this step, then saving")

        old = {s: signal.signal(s, handler) for s in SIGNAL_EXIT}
        return lambda: [signal.signal(s, h) for s, h in old.items()]

    # ----- logging, samples and snapshots ---------------------------------------------------
    def _log(self, bar) -> None:
        record = self._interval.collect(self)
        if not self.dist.main:
            return
        bar.set_postfix_str(
            f"{record['img_per_s']:.0f} img/s "
            + " ".join(f"{k}={v:.3g}" for k, v in record["losses"].items() if k.endswith("/loss"))
            + (f" skipped={self.skipped}" if self.skipped else ""),
            refresh=False,
        )
        if self.run_dir is not None:
            self._interval.stats_log(self.run_dir).write(record)

    def _write_reals(self) -> None:
        if not self.dist.main:
            return
        n = self.config.grid
        items = [self.dataset[i] for i in range(min(n, len(self.dataset)))]
        self._write_grid(self.run_dir / "samples" / "reals.png", self.recipe.reals(default_collate(items)))

    def _write_grid(self, path: Path, images: torch.Tensor) -> None:
        if images.dim() != 4:  # not images (e.g. 2-D points): the recipe has to plot them itself
            return
        columns = max(1, int(len(images) ** 0.5 + 0.999))
        atomic_write_bytes(path, png_bytes(make_grid(to_pils(images), columns)))

    def save_snapshot(self) -> Path | None:
        """Write snapshot + sample grid and move `latest` (rank 0); every process takes part."""
        start = time.perf_counter()
        rngs = dist.gather_bytes(json.dumps(rng_state(self.device)).encode(), self.device)
        path = None
        if self.dist.main and self.run_dir is not None:
            tensors: dict[str, torch.Tensor] = {}
            optimizers = {}
            for name, opt in self.optimizers.items():
                t, meta = optimizer_state(opt, f"opt.{name}")
                tensors.update(t)
                optimizers[name] = meta
            tensors.update({f"recipe.{k}": v for k, v in self.recipe.state_tensors().items()})
            state = {
                "step": self.step_count, "nimg": self.nimg, "skipped": self.skipped, "bad_in_a_row": self.bad_in_a_row,
                "data_position": self.data_position, "train_seconds": self.train_seconds,
                "phase_steps": self.phase_steps, "optimizers": optimizers,
                "rng": [json.loads(r) for r in rngs], "world": self.dist.world,
                "export": {"roles": list(self.recipe.export_roles), "labels": list(self.recipe.labels()),
                           "meta": {**self.recipe.meta(), **self._init_meta()}, "trained": self._trained()},
            }
            path = runs.snapshot_path(self.run_dir, self.step_count)
            runs.save_snapshot(path, {**self.ema, **self.nets}, tensors, state, dataset=self.config.data or None,
                               labels=list(self.recipe.labels()), step=self.step_count, kimg=self.nimg / 1000)
            runs.set_latest(self.run_dir, path)
            runs.prune_snapshots(self.run_dir, self.config.keep_snapshots)
            grid_nets = {**self.nets, **self.ema}
            images = self.recipe.grid(grid_nets, list(range(self.config.grid)))
            self._write_grid(self.run_dir / "samples" / f"fakes-{self.step_count:06d}.png", images)
        dist.barrier()
        self._interval.snapshot_s += time.perf_counter() - start
        return path

    def _trained(self) -> dict[str, dict]:
        """Each exported network's training length: this run's, or what the recipe took over
        frozen from an earlier model (an encoder's generator)."""
        own = {"step": self.step_count, "kimg": round(self.nimg / 1000, 3)}
        inherited = self.recipe.inherited_training()
        return {role: inherited.get(role, own) for role in self.recipe.export_roles}

    def _init_meta(self) -> dict:
        """For the export's header: which checkpoint the run started from, if any (provenance)."""
        if not self.init_record:
            return {}
        return {"init": {key: self.init_record[key] for key in ("path", "sha256")}}

    def _load(self, path: Path) -> None:
        _, tensors, state = runs.load_snapshot(path)
        for role, net in {**self.ema, **self.nets}.items():
            prefix = f"{role}."
            weights = {k[len(prefix):]: v for k, v in tensors.items() if k.startswith(prefix)}
            if not weights:
                raise runs.RunError(f"{path}: has no '{role}' network, which recipe '{self.recipe.name}' trains")
            runs.load_weights(net, weights, f"{path}: '{role}' does not fit this run's config")
        extra = {k[len("extra."):]: v for k, v in tensors.items() if k.startswith("extra.")}
        for name, opt in self.optimizers.items():
            load_optimizer_state(opt, f"opt.{name}", extra, state["optimizers"][name])
        self.recipe.load_state_tensors({k[len("recipe."):]: v for k, v in extra.items() if k.startswith("recipe.")})
        self.step_count, self.nimg, self.skipped = state["step"], state["nimg"], state["skipped"]
        self.bad_in_a_row, self.data_position = state["bad_in_a_row"], state["data_position"]
        self.train_seconds = state["train_seconds"]
        self.phase_steps = dict(state["phase_steps"])
        if state["world"] == self.dist.world:
            set_rng_state(state["rng"][self.dist.rank], self.device)
        else:
            _note(self.dist.main, f"resuming {state['world']}-process state on {self.dist.world} processes: "
                  "random streams restart, so the continuation is not bit-exact")


class _Interval:
    """What happened since the last stats line: losses, timing, images, skipped phases."""

    def __init__(self):
        self._log: runs.StatsLog | None = None
        self.last_nonfinite: set[str] = set()
        self.reset(None)

    def reset(self, trainer: "Trainer | None") -> None:
        # a running sum per loss, on the device: no sync per step, and memory that stays flat however
        # long the interval (one stored scalar per step fragmented the heap: ~1 MB a step on CPU)
        self.loss_sums: dict[str, torch.Tensor] = {}
        self.loss_counts: dict[str, int] = defaultdict(int)
        self.data_s = self.snapshot_s = 0.0
        self.nonfinite: set[str] = set()
        self.wall = time.perf_counter()
        self.nimg = trainer.nimg if trainer else 0
        self.skipped = trainer.skipped if trainer else 0

    def add(self, phase: str, losses: Mapping[str, torch.Tensor]) -> None:
        for key, value in losses.items():
            name = f"{phase}/{key}"
            value = value.detach().float()  # never keep a graph alive
            self.loss_sums[name] = self.loss_sums.get(name, 0) + value  # a new tensor: never the loss itself
            self.loss_counts[name] += 1

    def collect(self, trainer: "Trainer") -> dict[str, Any]:
        wall = time.perf_counter() - self.wall
        images = trainer.nimg - self.nimg
        names = sorted(self.loss_sums)
        means = {}
        if names:
            values = torch.stack([(self.loss_sums[n] / self.loss_counts[n]).to(trainer.device) for n in names])
            means = dict(zip(names, dist.all_mean(values).tolist()))
        self.last_nonfinite = self.nonfinite
        record = {
            "step": trainer.step_count,
            "kimg": round(trainer.nimg / 1000, 4),
            "time_s": round(trainer.train_seconds, 3),
            "img_per_s": round(images / wall, 2) if wall > 0 else 0.0,
            "sec_per_kimg": round(wall / (images / 1000), 4) if images else None,
            "skipped": trainer.skipped,
            "skipped_interval": trainer.skipped - self.skipped,
            "losses": means,
            "timing": {"interval_s": round(wall, 4), "data_s": round(self.data_s, 4),
                       "snapshot_s": round(self.snapshot_s, 4)},
        }
        if trainer.device.type == "cuda":
            record["cuda_max_mem_gb"] = round(torch.cuda.max_memory_allocated(trainer.device) / 2**30, 3)
        self.reset(trainer)
        return record

    def stats_log(self, run_dir: Path) -> runs.StatsLog:
        if self._log is None:
            self._log = runs.StatsLog(run_dir)
        return self._log

    def close(self) -> None:
        if self._log is not None:
            self._log.close()
            self._log = None


def _progress(enabled: bool, total_images: int, initial_images: int):
    """A bar counting whole images, shown in kimg: counting in kimg summed float steps past the
    total (tqdm then warned 'clamping frac to range [0, 1]' and showed '<-00:00')."""
    from tqdm.auto import tqdm

    return tqdm(total=total_images, initial=initial_images, unit="kimg", unit_scale=1e-3, disable=not enabled,
                dynamic_ncols=True, file=sys.stderr,
                bar_format="{l_bar}{bar}| {n:.2f}/{total:.2f} kimg [{elapsed}<{remaining}{postfix}]")


def _note(main: bool, message: str) -> None:
    if main:
        print(f"ganstudio train: {message}", file=sys.stderr, flush=True)


def _to_device(batch: Any, device: torch.device, channels_last: bool) -> Any:
    if isinstance(batch, torch.Tensor):
        batch = batch.to(device, non_blocking=True)
        if channels_last and batch.dim() == 4 and batch.is_floating_point():
            batch = batch.contiguous(memory_format=torch.channels_last)
        return batch
    if isinstance(batch, (tuple, list)):
        return type(batch)(_to_device(b, device, channels_last) for b in batch)
    if isinstance(batch, dict):
        return {k: _to_device(v, device, channels_last) for k, v in batch.items()}
    return batch


def _compile(net: nn.Module) -> None:
    """Compile the methods the recipes call; the module (and its state_dict) stays the same."""
    for name in ("forward", "mapping", "synthesis", "heads", "features"):
        method = getattr(net, name, None)
        if callable(method):
            setattr(net, name, torch.compile(method))
