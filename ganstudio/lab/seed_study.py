"""Train and score one toy setting with several seeds: the mean and spread a paper's table reports.

One run of a 2-D GAN says little: whether it collapses onto 17 or 23 of the grid's 25 modes
depends on the seed. The PacGAN and VEEGAN tables give the mean over 10 runs, so a lab that
claims to reproduce them must too. Each seed trains the setting afresh (the same `Trainer` as
`ganstudio train toy`, in memory) for the same number of steps and is scored with
`ganstudio eval`'s protocol for 2-D models (`metrics.evaluate.evaluate_points`: modes reached,
covered, high-quality rate, reverse KL over 2,500 samples).
"""

from __future__ import annotations

import dataclasses
import time
from typing import Any, Callable, Iterator, Sequence

import numpy as np
from PIL import Image
from tqdm import tqdm

from ..data.toy2d import MIXTURES
from ..imaging import make_grid
from ..metrics.evaluate import POINTS_N, evaluate_points
from .toy import LabError, ToySettings, ToyTrainer, mixture_of

SUMMED = ("reached", "covered", "hq_rate", "kl_modes")  # the protocol's numbers, per seed and summarised
MAX_SEEDS = 100
STEP_CHUNK = 50  # steps between progress updates
MAX_COMPARED = 8  # presets side by side
MAX_COMPARE_STEPS = 20_000  # per preset, when one step count is given for all


def settings_for_data(settings: ToySettings, spec: str) -> ToySettings:
    """`settings` aimed at another built-in mixture (`toy:grid?sigma=0.05`): its target and shape."""
    name, shape = mixture_of(spec)
    if name is None:
        raise LabError(f"data '{spec}': seeds are trained on a built-in mixture (toy:{'|'.join(MIXTURES)})")
    return settings.replace(target=name, shape=shape).validate()


def _spread(values: list[float]) -> dict[str, float | None]:
    """Mean, std (None where a run has no finite value: reverse KL is infinite without HQ samples), min, max."""
    a = np.asarray(values, dtype=np.float64)
    std = None if not np.isfinite(a).all() else float(a.std(ddof=1)) if len(a) > 1 else 0.0
    return {"mean": float(a.mean()), "std": std,
            "min": float(a.min()), "max": float(a.max())}


def score_run(settings: ToySettings, steps: int, n: int = POINTS_N, progress: bool = False,
              label: str = "") -> tuple[dict[str, Any], Image.Image]:
    """Train `settings` (with its own seed) afresh for `steps` steps and score the run by the
    protocol: its row (seed, steps, the SUMMED figures, seconds, ...) and its plot over the data."""
    if steps < 1:
        raise LabError(f"steps must be at least 1, got {steps}")
    start = time.perf_counter()
    lab = ToyTrainer(settings.replace(run_steps=steps))
    with tqdm(total=steps, desc=label or f"seed {settings.seed}", unit="step", disable=not progress,
              leave=False) as bar:
        while lab.step_count < steps and not lab.diverged:
            chunk = min(STEP_CHUNK, steps - lab.step_count)
            lab.step(chunk)
            bar.update(chunk)
    result, plot = evaluate_points(lab.G, lab.dataset, n, seed=0, batch_size=n, device="cpu")
    modes = result.get("modes", {}).get("samples")
    if modes is None:
        raise LabError(f"target '{settings.target}' has no modes to count")
    row = {"seed": settings.seed, "steps": lab.step_count, "diverged": lab.diverged,
           "seconds": round(time.perf_counter() - start, 2), **{k: modes[k] for k in SUMMED},
           "modes": modes["modes"], "fd": result["fd"]["samples_vs_real"]}
    return row, plot


def score_seeds(settings: ToySettings, steps: int, seeds: Sequence[int], n: int = POINTS_N,
                progress: bool = True,
                on_seed: Callable[[dict], None] | None = None) -> tuple[dict[str, Any], Image.Image]:
    """Train `settings` for `steps` steps once per seed and score each run; the per-seed rows, their
    mean / std / min / max, and a sheet of every run's samples over the data."""
    seeds = list(seeds)
    if not 1 <= len(seeds) <= MAX_SEEDS:
        raise LabError(f"seeds: give 1 to {MAX_SEEDS}, got {len(seeds)}")
    settings = settings.validate()
    rows, plots = [], []
    for seed in seeds:
        row, plot = score_run(settings.replace(seed=seed), steps, n, progress)
        rows.append(row)
        plots.append((plot, f"seed {seed}: {row['reached']}/{row['modes']}, HQ {row['hq_rate']:.0%}"))
        if on_seed:
            on_seed(row)
    summary = {key: _spread([r[key] for r in rows]) for key in (*SUMMED, "seconds")}
    tiles = [p.resize((256, 256)) for p, _ in plots]
    sheet = make_grid(tiles, columns=min(5, len(tiles)), captions=[c for _, c in plots])
    return {"n": n, "steps": steps, "seeds": seeds, "settings": _settings_json(settings),
            "command": settings.command(steps), "runs": rows, "summary": summary}, sheet


def compare_presets(names: Sequence[str], seed: int = 0, steps: int | None = None, n: int = POINTS_N,
                    progress: bool = False) -> Iterator[tuple[str, dict[str, Any], Image.Image]]:
    """The lab's presets side by side: each trained afresh with the same seed (for its own step
    count, or `steps` for all), one after the other, scored alike; yields (name, row, plot) as
    each finishes, so a caller can show the comparison growing."""
    from .presets import PRESETS

    names = list(dict.fromkeys(names))
    if not 1 <= len(names) <= MAX_COMPARED:
        raise LabError(f"compare: pick 1 to {MAX_COMPARED} presets, got {len(names)}")
    unknown = [name for name in names if name not in PRESETS]
    if unknown:
        raise LabError(f"unknown preset {', '.join(map(repr, unknown))}; known: {', '.join(PRESETS)}")
    if steps is not None and not 1 <= steps <= MAX_COMPARE_STEPS:
        raise LabError(f"steps: 1 to {MAX_COMPARE_STEPS} (or none: each preset's own), got {steps}")
    for name in names:
        settings = PRESETS[name].settings.replace(seed=seed).validate()
        row, plot = score_run(settings, steps or PRESETS[name].steps, n, progress, label=name)
        yield name, {"preset": name, "target": settings.target, **row}, plot


def _settings_json(settings: ToySettings) -> dict[str, Any]:
    return {name: value for name, value in dataclasses.asdict(settings).items() if name != "seed"}


def render_seed_report(r: dict[str, Any], title: str) -> str:
    """The study as Markdown: the summary row a paper table would hold, then every seed."""
    s = r["summary"]
    modes = r["runs"][0]["modes"]
    def pm(key: str, fmt: str) -> str:
        std = s[key]["std"]
        return format(s[key]["mean"], fmt) + ("" if std is None else f" ± {format(std, fmt)}")

    lines = [f"# {title}", "",
             f"- {len(r['seeds'])} seeds ({', '.join(map(str, r['seeds']))}), {r['steps']} steps each, "
             f"{r['n']} samples per run", f"- one run: `{r['command']}` (with `--seed` per run)",
             "- protocol: a sample is high-quality (HQ) within 3 σ of its nearest mode; a mode is reached "
             "with at least one HQ sample (PacGAN's count); reverse KL of the HQ samples over the modes",
             "", "| modes reached (of {}) | HQ rate | reverse KL | modes covered (≥ 20 % of a fair share) "
             "| seconds per run |".format(modes), "| --- | --- | --- | --- | --- |",
             f"| {pm('reached', '.1f')} | {s['hq_rate']['mean']:.1%} ± {s['hq_rate']['std']:.1%} "
             f"| {pm('kl_modes', '.3f')} | {pm('covered', '.1f')} | {s['seconds']['mean']:.0f} |",
             "", "| seed | reached | HQ | reverse KL | covered | seconds |", "| --- | --- | --- | --- | --- | --- |"]
    lines += [f"| {row['seed']} | {row['reached']} | {row['hq_rate']:.1%} | {row['kl_modes']:.3f} | {row['covered']} "
              f"| {row['seconds']:.0f}{' (diverged)' if row['diverged'] else ''} |" for row in r["runs"]]
    return "\n".join(lines) + "\n"


def study_settings(model: str | None = None, preset: str | None = None, data: str | None = None,
                   steps: int | None = None, checkpoint_dirs: Sequence[str] = ()) -> tuple[ToySettings, int, str]:
    """What to train over the seeds: a toy checkpoint's settings and step count (`model`), or a
    lab preset's (`preset`), aimed at `data` when given; and a title naming it."""
    from ..options import open_model
    from .presets import PRESETS

    if (model is None) == (preset is None):
        raise LabError("seeds: name the setting to train, --model (a toy checkpoint) or --preset, not both")
    if preset is not None:
        if preset not in PRESETS:
            raise LabError(f"unknown preset '{preset}'; known: {', '.join(PRESETS)}")
        settings, default_steps, title = PRESETS[preset].settings, PRESETS[preset].steps, f"preset '{preset}'"
    else:
        catalogue, name = open_model(model, checkpoint_dirs, "cpu")
        info = catalogue.load(name).info
        settings, default_steps, title = ToySettings.of_checkpoint(info), info.step or 0, f"`{name}`'s settings"
    if data:
        settings = settings_for_data(settings, data)
    return settings, steps or default_steps, f"{title} on toy:{settings.target}, trained afresh per seed"
