"""A 2-D GAN you can step, watch and measure: the playground's headless core.

    lab = ToyTrainer(PRESETS["mode collapse"].settings)    # ganstudio.lab.presets
    for _ in range(20):
        state = lab.step(100)                      # 100 training steps (k D steps + 1 G step each)
        print(state.step, state.covered, state.hq_rate, state.losses)
    lab.render().save("frame.png")                 # heat map of D, reals, samples, gradient arrows
    open("run.gif", "wb").write(lab.gif())         # every recorded frame

Training is the `toy` recipe run by the same `Trainer` as `ganstudio train toy` (in memory,
on the CPU, no run folder), so any objective in LOSSES, k discriminator steps per generator
step, separate learning rates and the optimiser all mean what they mean there;
`ToySettings.command()` is the equivalent command line.
"""

from __future__ import annotations

import dataclasses
import shlex
import threading
from dataclasses import dataclass, field
from typing import Any, Iterator

import torch
from PIL import Image

from ..data import open_dataset, parse_spec
from ..data.toy2d import MIXTURES, Toy2D, parse_points
from ..errors import UserError
from ..imaging import animation_bytes
from ..metrics.modes import mode_counter
from ..models.mlp2d import ACTIVATIONS
from ..plots import View
from ..registry import LOSSES
from ..training.train_config import OPTIMIZERS, TrainConfig
from ..training.loop import Trainer
from ..training.toy_pictures import render_frame

POINTS = "points"  # the target name for the user's own points
TARGETS = (*MIXTURES, POINTS)
LIVE = frozenset({"loss", "loss_args", "d_steps", "g_lr", "d_lr", "optimizer", "batch", "lr_decay",
                  "r1_gamma", "run_steps"})  # change without a reset
DATA_POINTS = 50_000  # points drawn from a built-in target
EVAL_SAMPLES = 2000  # samples behind the coverage numbers and pictures (fixed z per session)
MAX_USER_POINTS = 100_000
MAX_HISTORY = 4000  # loss rows kept; beyond, every other row is dropped (the whole run stays visible)
MAX_FRAMES = 200  # frames kept for the GIF, thinned the same way
FRAME_SIZE = 512
GIF_SIZE = 320


class LabError(UserError):
    """Settings or points the playground cannot use; the message names the field."""


def mixture_of(spec: str) -> tuple[str | None, dict[str, str]]:
    """The built-in mixture a data spec draws (None for any other data) and its shape options
    (`toy:grid?n=50000&sigma=0.05` -> "grid", {"sigma": "0.05"}: the count and seed are the run's)."""
    if not spec:
        return None, {}
    parsed = parse_spec(spec)
    if parsed.name != "toy" or parsed.arg not in MIXTURES:
        return None, {}
    return parsed.arg, {k: v for k, v in parsed.options.items() if k not in ("n", "seed")}


@dataclass(frozen=True)
class ToySettings:
    target: str = "ring"  # ring | grid | moons | spiral | points (the user's)
    loss: str = "nonsaturating"  # any LOSSES name
    d_steps: int = 1  # k: discriminator steps per generator step
    g_lr: float = 1e-3
    d_lr: float = 1e-3
    optimizer: str = "adam"  # adam | rmsprop | sgd (Adam's betas: the objective's, else (0.5, 0.999))
    batch: int = 256
    g_width: int = 128
    g_depth: int = 3
    d_width: int = 128
    d_depth: int = 3
    pack: int = 1  # PacGAN: samples D judges at once (1: the plain GAN)
    minibatch: int = 0  # minibatch discrimination: D's kernels comparing each sample with its batch (0: none)
    lr_decay: float = 0.0  # the last fraction of the run over which both lrs fall linearly to 0 (0: constant)
    r1_gamma: float = 0.0  # R1 (Mescheder et al. 2018): D's squared gradient on real points, times gamma / 2 (0: off)
    run_steps: int = 0  # the run's planned length, where the decay ends (0: open-ended, no decay)
    z_dim: int = 2
    activation: str = "relu"  # the generator's; D uses leaky ReLU
    seed: int = 0
    loss_args: dict = field(default_factory=dict)  # e.g. {"gp_lambda": 10} or {"clip": 0.01}
    shape: dict = field(default_factory=dict)  # the target's shape options, e.g. {"radius": 2, "sigma": 0.02}

    def validate(self) -> "ToySettings":
        def within(name: str, lo: float, hi: float) -> None:
            value = getattr(self, name)
            if not lo <= value <= hi:
                raise LabError(f"{name} must be between {lo:g} and {hi:g}, got {value:g}")

        if self.target not in TARGETS:
            raise LabError(f"target must be one of {', '.join(TARGETS)}, got {self.target!r}")
        if self.loss not in LOSSES:
            raise LabError(f"unknown objective {self.loss!r}; known: {', '.join(LOSSES.names())}")
        if self.optimizer not in OPTIMIZERS:
            raise LabError(f"optimizer must be one of {', '.join(OPTIMIZERS)}, got {self.optimizer!r}")
        if self.activation not in ACTIVATIONS:
            raise LabError(f"activation must be one of {', '.join(ACTIVATIONS)}, got {self.activation!r}")
        for name, lo, hi in (("d_steps", 1, 20), ("batch", 2, 4096), ("g_width", 1, 1024), ("d_width", 1, 1024),
                             ("g_depth", 1, 8), ("d_depth", 1, 8), ("z_dim", 1, 64), ("seed", 0, 2**31 - 1),
                             ("g_lr", 1e-7, 1.0), ("d_lr", 1e-7, 1.0), ("pack", 1, 16),
                             ("minibatch", 0, 64), ("lr_decay", 0.0, 0.99), ("r1_gamma", 0.0, 100.0),
                             ("run_steps", 0, 10**7)):
            within(name, lo, hi)
        if self.batch % self.pack:
            raise LabError(f"batch must be a multiple of pack ({self.pack}), got {self.batch}")
        try:
            LOSSES.get(self.loss)(**self.loss_args)
        except (TypeError, ValueError) as exc:
            raise LabError(f"options for {self.loss}: {exc}") from None
        return self

    def replace(self, **changes: Any) -> "ToySettings":
        return dataclasses.replace(self, **changes)

    def data_spec(self) -> str:
        """The data spec of the target as the playground draws it (your points: saved as points.csv)."""
        if self.target not in MIXTURES:
            return "toy:points.csv"
        return f"toy:{self.target}?n={DATA_POINTS}&seed={self.seed}" + "".join(f"&{k}={v}" for k, v in self.shape.items())

    def train_config(self) -> TrainConfig:
        """The TrainConfig of the `toy` recipe these settings describe (playground: CPU, in memory)."""
        return TrainConfig(
            recipe="toy", data=self.data_spec(), arch="mlp2d", d_arch="mlp2d_d",
            G={"z_dim": self.z_dim, "width": self.g_width, "depth": self.g_depth, "activation": self.activation},
            D={"width": self.d_width, "depth": self.d_depth, **({"pack": self.pack} if self.pack > 1 else {}),
               **({"minibatch": self.minibatch} if self.minibatch else {})},
            loss=self.loss, loss_args=dict(self.loss_args), batch=self.batch, optimizer=self.optimizer,
            lr=self.g_lr, g_lr=self.g_lr, d_lr=self.d_lr, d_steps=self.d_steps, seed=self.seed,
            device="cpu", amp="none", workers=0, log_every=10**9,
            kimg=self.run_steps * self.batch * self.d_steps / 1000 if self.run_steps else 1e9,
            lr_decay=self.lr_decay if self.run_steps else 0.0,
            r1_gamma=self.r1_gamma, r1_interval=1,  # every D step: the 2-D networks make it cheap
        )

    @classmethod
    def of_checkpoint(cls, info) -> "ToySettings":
        """The settings a `toy` checkpoint (ganstudio export of a toy run) was trained with."""
        toy = info.meta.get("toy")
        if not toy or "G" not in info.networks or "D" not in info.networks:
            raise LabError(f"{info.path.name}: not a 2-D model exported from `ganstudio train toy`")
        name, shape = mixture_of(info.dataset or "")
        if name is None:
            raise LabError(f"{info.path.name} was trained on '{info.dataset}'; the playground opens models of "
                           f"the built-in targets ({', '.join(MIXTURES)})")
        g, d = info.networks["G"].config, info.networks["D"].config
        return cls(target=name, shape=shape, loss=toy["loss"], loss_args=dict(toy["loss_args"]), d_steps=int(toy["d_steps"]),
                   g_lr=float(toy["g_lr"]), d_lr=float(toy["d_lr"]), optimizer=toy["optimizer"],
                   batch=int(toy["batch"]), seed=int(toy["seed"]), z_dim=int(g["z_dim"]), g_width=int(g["width"]),
                   g_depth=int(g["depth"]), activation=g["activation"], d_width=int(d["width"]),
                   d_depth=int(d["depth"]), pack=int(d.get("pack", 1)),
                   minibatch=int(d.get("minibatch", 0)), lr_decay=float(toy.get("lr_decay", 0.0)),
                   r1_gamma=float(toy.get("r1_gamma", 0.0)),
                   run_steps=int(info.step or 0) if toy.get("lr_decay") else 0).validate()

    def train_changes(self, steps: int) -> dict[str, Any]:
        """The config fields of a `ganstudio train toy` run that trains the same way for `steps`
        steps (what `--preset` starts from, and what `command` writes out)."""
        c = self.replace(run_steps=steps).train_config()
        return {"recipe": "toy", "data": c.data, "loss": c.loss, "batch": c.batch, "lr_decay": c.lr_decay,
                "r1_gamma": c.r1_gamma, "r1_interval": c.r1_interval,
                "kimg": round(steps * c.batch * c.d_steps / 1000, 3),  # the points D sees: k batches a step
                "seed": c.seed, "g_lr": c.g_lr, "d_lr": c.d_lr, "d_steps": c.d_steps, "optimizer": c.optimizer,
                "G": dict(c.G), "D": dict(c.D), "loss_args": dict(c.loss_args)}

    def command(self, steps: int = 2000) -> str:
        """The `ganstudio train toy` command line that trains the same way for `steps` steps."""
        ch = self.train_changes(steps)
        sets = [f"{k}={ch[k]}" for k in ("g_lr", "d_lr", "d_steps", "optimizer")]
        sets += [f"lr_decay={ch['lr_decay']}"] if ch["lr_decay"] else []
        sets += [f"r1_gamma={ch['r1_gamma']}", f"r1_interval={ch['r1_interval']}"] if ch["r1_gamma"] else []
        sets += [f"{net}.{k}={v}" for net in ("G", "D", "loss_args") for k, v in ch[net].items()]
        parts = ["ganstudio", "train", "toy", "--data", ch["data"], "--loss", ch["loss"], "--batch", str(ch["batch"]),
                 "--kimg", f"{ch['kimg']:g}", "--seed", str(ch["seed"]), "--set", *sets]
        return " ".join(shlex.quote(p) for p in parts)


@dataclass(frozen=True)
class ToyState:
    """Where a session stands. `covered`: modes with at least 20 % of a fair share of the
    high-quality samples (metrics/modes.py); `reached`: modes with any high-quality sample
    (its loosest reading). None for points without known modes."""

    step: int
    losses: dict[str, float]
    modes: int | None
    covered: int | None
    reached: int | None
    hq_rate: float | None
    kl_modes: float | None
    skipped: int
    diverged: bool

    @property
    def coverage(self) -> float | None:
        return None if not self.modes else self.covered / self.modes

    def summary(self) -> str:
        parts = [f"step {self.step}"]
        if self.modes:
            parts.append(f"modes covered {self.covered}/{self.modes} (reached {self.reached})")
            parts.append(f"high-quality samples {self.hq_rate:.1%}")
        parts += [f"{k} {v:.4g}" for k, v in self.losses.items()]
        if self.skipped:
            parts.append(f"{self.skipped} non-finite updates skipped")
        return " · ".join(parts)

    def to_json(self) -> dict[str, Any]:
        return {**dataclasses.asdict(self), "coverage": self.coverage}


def points_from_text(text: str, label: str = "points") -> Toy2D:
    """The user's points from CSV text ('x,y' a line); errors name the line."""
    try:
        return parse_points(text, label, max_points=MAX_USER_POINTS)
    except ValueError as exc:
        raise LabError(str(exc)) from None


class ToyTrainer:
    """One playground session: a 2-D GAN, its target, its history and recorded frames.

    Methods lock the session, so a stream and a single step never interleave."""

    def __init__(self, settings: ToySettings | None = None, points: Toy2D | None = None,
                 samples: int = EVAL_SAMPLES, size: int = FRAME_SIZE):
        self.lock = threading.RLock()
        self.samples_n, self.size = samples, size
        self.points = points
        self.reset(settings or ToySettings(), points)

    # ----- set-up -----------------------------------------------------------------------------
    def reset(self, settings: ToySettings | None = None, points: Toy2D | None = None) -> ToyState:
        """Start again (fresh networks) with these settings (default: the current ones)."""
        with self.lock:
            settings = (settings or self.settings).validate()
            if points is not None:
                self.points = points
            self.dataset = self._dataset(settings)
            self.settings = settings
            self.trainer = self._trainer(settings)
            self.step_count = 0
            self.history: list[dict[str, float]] = []
            self.coverage_history: list[dict[str, float]] = []
            self.frames: list[Image.Image] = []
            gen = torch.Generator().manual_seed(settings.seed + 1)
            self.z = torch.randn(self.samples_n, settings.z_dim, generator=gen)
            pick = torch.randperm(len(self.dataset), generator=gen)[: self.samples_n]
            self.real = self.dataset.points[pick]
            self.centres = self.dataset.centres
            self.view = View.around(self.real.numpy(), size=self.size)
            self.mode_counter = mode_counter(self.dataset)
            return self.state()

    @classmethod
    def open(cls, loaded) -> "ToyTrainer":
        """A session that continues a loaded toy checkpoint (ganstudio.checkpoint.load): its
        settings, its G and D, its step count; the optimiser starts afresh."""
        lab = cls(ToySettings.of_checkpoint(loaded.info))
        with lab.lock:
            for role in ("G", "D"):
                lab.trainer.nets[role].load_state_dict(loaded.networks[role].state_dict())
            lab.step_count = int(loaded.info.step or 0)
        return lab

    def _dataset(self, settings: ToySettings) -> Toy2D:
        if settings.target == POINTS:
            if self.points is None:
                raise LabError("target 'points': give your points first (CSV text, two numbers 'x,y' a line)")
            return self.points
        return open_dataset(settings.data_spec())

    def _trainer(self, settings: ToySettings) -> Trainer:
        return Trainer(settings.train_config(), self.dataset, out=None, progress=False)

    def apply(self, settings: ToySettings) -> str:
        """Use new settings: "unchanged"; "live" when only objective, k, learning rates,
        optimiser or batch changed (the networks and the step count carry over; optimiser
        state carries over when the optimiser and its betas stay); else "reset"."""
        with self.lock:
            settings = settings.validate()
            if settings == self.settings:
                return "unchanged"
            changed = {f.name for f in dataclasses.fields(settings)
                       if getattr(settings, f.name) != getattr(self.settings, f.name)}
            if not changed <= LIVE:
                self.reset(settings)
                return "reset"
            old = self.trainer
            new = self._trainer(settings)
            for role, net in new.nets.items():
                net.load_state_dict(old.nets[role].state_dict())
            new.nimg = old.nimg  # the lr schedule goes on from where the run is
            if (new.config.optimizer, new.config.betas) == (old.config.optimizer, old.config.betas):
                for name, opt in new.optimizers.items():
                    opt.load_state_dict(old.optimizers[name].state_dict())
            self.trainer, self.settings = new, settings
            return "live"

    # ----- training ---------------------------------------------------------------------------
    @property
    def G(self) -> torch.nn.Module:
        return self.trainer.nets["G"]

    @property
    def D(self) -> torch.nn.Module:
        return self.trainer.nets["D"]

    @property
    def diverged(self) -> bool:
        return self.trainer.bad_in_a_row >= self.trainer.config.max_nonfinite

    def step(self, n: int = 1) -> ToyState:
        """n training steps (each: k discriminator updates, then one generator update)."""
        with self.lock:
            for _ in range(int(n)):
                if self.diverged:
                    break
                self.trainer.step()
                self.step_count += 1
                losses = self.trainer.last_losses
                self.history.append({"step": self.step_count,
                                     **{k: float(losses[k]) for k in ("D/loss", "G/loss") if k in losses}})
            if len(self.history) > MAX_HISTORY:
                self.history = self.history[::2]
            return self.state()

    def run(self, steps: int, every: int = 25, heat: bool = True, arrows: int = 64,
            record: bool = True) -> Iterator[tuple[ToyState, Image.Image]]:
        """Train `steps` steps, yielding the state and a picture every `every` steps (and at
        the end); stops early if training diverged."""
        done = 0
        while done < steps and not self.diverged:
            chunk = min(every, steps - done)
            self.step(chunk)
            done += chunk
            yield self.snapshot(heat, arrows, record)

    # ----- measuring and drawing --------------------------------------------------------------
    @torch.no_grad()
    def generated(self) -> torch.Tensor:
        """G's samples for the session's fixed z [samples, 2]."""
        return self.G(self.z).float()

    def state(self) -> ToyState:
        with self.lock:
            last = self.trainer.last_losses
            losses = {k: float(v) for k, v in sorted(last.items()) if k.endswith("/loss") or k.endswith("/wdist")}
            stats = self.mode_counter(self.generated()) if self.mode_counter else None
            reached = stats.reached if stats else None
            new_step = not self.coverage_history or self.coverage_history[-1]["step"] != self.step_count
            if stats is not None and new_step:
                self.coverage_history.append({"step": self.step_count, "coverage": stats.covered / stats.modes,
                                              "reached": reached / stats.modes, "hq_rate": stats.hq_rate})
                if len(self.coverage_history) > MAX_HISTORY:
                    self.coverage_history = self.coverage_history[::2]
            return ToyState(
                step=self.step_count, losses=losses,
                modes=stats.modes if stats else None, covered=stats.covered if stats else None, reached=reached,
                hq_rate=stats.hq_rate if stats else None, kl_modes=stats.kl_modes if stats else None,
                skipped=self.trainer.skipped, diverged=self.diverged,
            )

    def render(self, heat: bool = True, arrows: int = 64) -> Image.Image:
        """Heat map of D, real points grey, samples red, centres blue, arrows of G's gradient."""
        with self.lock:
            return render_frame(self.D, self.trainer.recipe.objective, self.real, self.generated(), self.view,
                                self.centres, heat=heat, arrows=arrows,
                                probability=LOSSES.get(self.settings.loss).probability)

    def snapshot(self, heat: bool = True, arrows: int = 64, record: bool = True) -> tuple[ToyState, Image.Image]:
        """The state and its picture (also kept as a GIF frame when `record`)."""
        with self.lock:
            image = self.render(heat, arrows)
            if record:
                self.record(image)
            return self.state(), image

    def record(self, image: Image.Image) -> None:
        small = image.resize((GIF_SIZE, GIF_SIZE), Image.BILINEAR).quantize(colors=64)
        with self.lock:
            self.frames.append(small)
            if len(self.frames) > MAX_FRAMES:
                self.frames = self.frames[::2]

    def gif(self, fps: int = 10) -> bytes:
        """The recorded frames as a looping GIF (a frame of now when nothing was recorded)."""
        with self.lock:
            frames = list(self.frames) or [self.render().resize((GIF_SIZE, GIF_SIZE))]
        return animation_bytes([f.convert("RGB") for f in frames], "gif", fps=fps)
