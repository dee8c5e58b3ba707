"""`ganstudio curve`: learning curves, every snapshot of one or more runs measured alike.

A single snapshot says little (GAN snapshots swing by a third from one to the next); a curve
over training says whether a recipe still improves, and comparing recipes needs them on the
same axes: training time (seconds of training steps, as the run recorded them) and kimg. Each
snapshot's G_ema draws N samples (seeds SEED_BASE..) that are compared with the same two real
sets by the same measures as `ganstudio eval`: judge-feature Fréchet distance as a multiple
of the real-vs-real distance, precision / recall, how many attribute frequencies are within
0.05 of the data's, and the sliced Wasserstein distance on Laplacian-pyramid patches (per
level; network-free). The real sets are measured once for all snapshots.

Writes `curve.json`, `curve.md` (one table per run) and `curve.png` (the charts) to --out.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

import torch
from torch.utils.data import Dataset

from .. import checkpoint
from ..errors import UserError
from ..imaging import png_bytes
from ..plots import line_chart, stack
from ..training import runs
from .evaluate import GOALS, SEED_BASE, _batches, _frequencies, _judge_extractor, generate, open_data, split_real
from .features import Extractor, extract
from .frechet import frechet_distance
from .prdc import prdc
from .swd import SWD_DESCRIPTORS, PyramidDescriptors, swd


class CurveError(UserError):
    """A run that cannot be measured as asked."""


@dataclass
class RealSets:
    """The two real sets every snapshot is compared with, measured once."""

    feat_a: torch.Tensor
    feat_b: torch.Tensor
    freq: Any  # attribute frequencies of set A as the judge reads them, or None
    pyramid_a: PyramidDescriptors
    baseline_fd: float
    baseline_swd: dict
    swd_descriptors: int
    labels: torch.Tensor | None = None  # set A's labels: what a conditional generator is told, as eval tells it


def measure_reals(dataset: Dataset, extractor: Extractor, n: int, seed: int, batch_size: int,
                  resolution: int, swd_descriptors: int = SWD_DESCRIPTORS) -> RealSets:
    idx_a, idx_b, n = split_real(len(dataset), n, seed)
    pyramid_a, pyramid_b = PyramidDescriptors(resolution, seed=seed), PyramidDescriptors(resolution, seed=seed + 1)
    labels_a: list[torch.Tensor] = []

    def images(indices: list[int], pyramid: PyramidDescriptors, labels: list[torch.Tensor] | None = None):
        for batch in _batches(dataset, indices, batch_size):
            x = (batch[0] if isinstance(batch, (list, tuple)) else batch).float()
            if labels is not None and isinstance(batch, (list, tuple)) and len(batch) > 1 and batch[1].numel():
                labels.append(batch[1].float())
            pyramid.add(x)
            yield x

    feat_a, prob_a = extract(extractor, images(idx_a, pyramid_a, labels_a))
    feat_b, _ = extract(extractor, images(idx_b, pyramid_b))
    freq = _frequencies(prob_a, "attributes") if prob_a is not None and extractor.label_kind == "attributes" else None
    return RealSets(feat_a, feat_b, freq, pyramid_a, frechet_distance(feat_b, feat_a),
                    swd(pyramid_a, pyramid_b, seed=seed, max_descriptors=swd_descriptors).to_json(), swd_descriptors,
                    torch.cat(labels_a) if labels_a else None)


def measure_generator(G, reals: RealSets, extractor: Extractor, n: int, seed: int, batch_size: int,
                      device) -> dict[str, Any]:
    """One point of a curve: the measures of G's samples against the real sets."""
    pyramid = PyramidDescriptors(G.resolution, seed=seed + 2)

    def samples():
        told = reals.labels if getattr(G, "c_dim", 0) else None
        for images in generate(G, n, batch_size, 1.0, seed_base=SEED_BASE, labels=told, device=device):
            images = images.clamp(-1, 1).cpu()
            pyramid.add(images)
            yield images

    feats, probs = extract(extractor, samples())
    fd = frechet_distance(feats, reals.feat_a)
    pr = prdc(reals.feat_a, feats, k=5)
    point = {"fd": round(fd, 3), "fd_ratio": round(fd / reals.baseline_fd, 2),
             "precision": round(pr.precision, 3), "recall": round(pr.recall, 3),
             "swd": swd(reals.pyramid_a, pyramid, seed=seed, max_descriptors=reals.swd_descriptors).to_json()}
    if reals.freq is not None and probs is not None:
        diff = abs(_frequencies(probs, "attributes") - reals.freq)
        point["attributes_within"] = int((diff <= GOALS["attribute_diff_max"]).sum())
        point["attributes_of"] = len(diff)
    return point


def train_minutes(path: Path) -> float:
    """Minutes of training behind a snapshot (the run's clock, resumes included)."""
    return _minutes(checkpoint.read_info(path))


def _minutes(info: checkpoint.CheckpointInfo) -> float:
    state = info.meta.get(runs.STATE_KEY) or {}
    return state.get("train_seconds", 0.0) / 60


def snapshots_of(run_dir: Path, every: int = 1, until_minutes: float | None = None) -> list[Path]:
    """Every `every`-th snapshot of a run folder, oldest first, always including the newest;
    with `until_minutes`, only those made within that much training (runs compared at one budget)."""
    found = sorted((run_dir / "snapshots").glob("snapshot-*.safetensors"))
    if until_minutes is not None:
        found = [path for path in found if train_minutes(path) <= until_minutes]
    if not found:
        budget = "" if until_minutes is None else f" within {until_minutes:g} minutes of training"
        raise CurveError(f"{run_dir}: no snapshots{budget} (is it a run folder from `ganstudio train`?)")
    chosen = found[::every]
    return chosen if chosen[-1] == found[-1] else chosen + [found[-1]]


def measure_run(run_dir: Path, reals: RealSets, extractor: Extractor, n: int, seed: int, batch_size: int,
                device, every: int = 1, until_minutes: float | None = None, log=print) -> list[dict[str, Any]]:
    points = []
    for path in snapshots_of(run_dir, every, until_minutes):
        info = checkpoint.read_info(path)
        loaded = checkpoint.load(path, roles=["G_ema"], device=device).networks
        point = {"snapshot": path.name, "step": info.step, "kimg": info.kimg, "train_minutes": round(_minutes(info), 2),
                 **measure_generator(loaded["G_ema"].eval(), reals, extractor, n, seed, batch_size, device)}
        points.append(point)
        log(json.dumps(point))
    return points


def curves(run_dirs: Sequence[str | Path], out: str | Path, names: Sequence[str] = (), data: str | None = None,
           judge: str | Path | None = None, n: int = 1000, seed: int = 0, every: int = 1, batch_size: int = 100,
           device: str = "cpu", checkpoint_dirs: Sequence[str | Path] = (), swd_descriptors: int = SWD_DESCRIPTORS,
           until_minutes: float | None = None, add: bool = False, log=print) -> dict[str, Any]:
    """Measure every run (up to `until_minutes` of training each, if given) and write curve.json,
    curve.md and curve.png under `out`. `add`: keep the runs `out` already holds (measured alike:
    the same data, N, seed, feature space and budget), so a new candidate joins a bake-off
    without measuring the old ones again; a run of the same name is measured anew."""
    run_dirs = [Path(r) for r in run_dirs]
    names = list(names) or [r.name for r in run_dirs]
    if len(names) != len(run_dirs):
        raise CurveError(f"--names gives {len(names)} names for {len(run_dirs)} runs")
    first = checkpoint.read_info(snapshots_of(run_dirs[0])[-1])
    spec = data or first.dataset
    if not spec:
        raise CurveError(f"{run_dirs[0]}: the snapshots name no data set; pass --data SPEC")
    start = time.perf_counter()
    extractor, features = _judge_extractor("judge", judge, None, spec, checkpoint_dirs, device)
    dataset = open_data(spec)
    G0 = checkpoint.load(snapshots_of(run_dirs[0])[-1], roles=["G_ema"]).networks["G_ema"]
    reals = measure_reals(dataset, extractor, n, seed, batch_size, G0.resolution, swd_descriptors)
    result = {"data": spec, "n": n, "seed": seed, "features": features, "until_minutes": until_minutes,
              "real_vs_real": {"fd": round(reals.baseline_fd, 3), "swd": reals.baseline_swd}, "runs": {}}
    if add:
        result["runs"] = {k: v for k, v in _measured_alike(Path(out), result).items() if k not in names}
    for name, run_dir in zip(names, run_dirs):
        result["runs"][name] = {"run": str(run_dir),
                                "points": measure_run(run_dir, reals, extractor, n, seed, batch_size, device,
                                                      every, until_minutes, log)}
    result["seconds"] = round(time.perf_counter() - start, 1)
    write_curves(Path(out), result)
    return result


def _measured_alike(out: Path, result: dict[str, Any]) -> dict[str, Any]:
    """The runs of out/curve.json, if it was measured as `result` is (else a CurveError naming what differs)."""
    path = out / "curve.json"
    if not path.is_file():
        return {}
    try:
        earlier = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise CurveError(f"{path}: cannot read it to add runs ({exc})") from None
    for key in ("data", "n", "seed", "features", "until_minutes"):
        if earlier.get(key) != result[key]:
            raise CurveError(f"{path} was measured with {key} {earlier.get(key)!r}, this run with {result[key]!r}; "
                             "measure all runs alike (drop --add to start a new curve)")
    return earlier.get("runs", {})


def charts(result: dict[str, Any], x: str = "train_minutes"):
    """The curve charts: FD ratio (log axis, goal line), precision, recall, SWD mean."""
    x_label = {"train_minutes": "minutes of training", "kimg": "kimg"}[x]

    def series(key, pick=lambda p, k: p.get(k)):
        return {name: [(p[x], pick(p, key)) for p in run["points"]] for name, run in result["runs"].items()}

    swd_base = result["real_vs_real"]["swd"]["mean"]
    return [
        line_chart(series("fd_ratio"), "FD / real-vs-real FD (judge features)", x_label, "ratio",
                   log_y=True, reference=("goal 3x", GOALS["fd_ratio_max"])),
        line_chart(series("precision"), "precision (k = 5)", x_label, "precision",
                   reference=("goal 0.75", GOALS["precision_min"])),
        line_chart(series("recall"), "recall (k = 5)", x_label, "recall", reference=("goal 0.6", GOALS["recall_min"])),
        line_chart(series("swd", lambda p, k: p[k]["mean"]), "SWD x1000 (mean of pyramid levels)", x_label, "SWD",
                   log_y=True, reference=("real vs real", swd_base)),
    ]


def write_curves(out: Path, result: dict[str, Any]) -> None:
    out.mkdir(parents=True, exist_ok=True)
    checkpoint.atomic_write_bytes(out / "curve.json", (json.dumps(result, indent=2) + "\n").encode())
    checkpoint.atomic_write_bytes(out / "curve.md", render_curves(result).encode())
    checkpoint.atomic_write_bytes(out / "curve.png", png_bytes(stack(charts(result))))


def render_curves(result: dict[str, Any]) -> str:
    base = result["real_vs_real"]
    levels = list(base["swd"]["levels"])
    lines = [f"# Learning curves ({result['data']}, N = {result['n']}, judge features)", "",
             f"Real vs real: FD {base['fd']:.3f}; SWD x1000 "
             + ", ".join(f"{lv} px {base['swd']['levels'][lv]:.1f}" for lv in levels), ""]
    if result.get("until_minutes") is not None:
        lines += [f"Every run up to {result['until_minutes']:g} minutes of training (one budget for all).", ""]
    for name, run in result["runs"].items():
        lines += [f"## {name}", "", f"`{run['run']}`", "",
                  "| kimg | minutes | FD (x real) | precision | recall | attributes within 0.05 | SWD "
                  + " / ".join(f"{lv}" for lv in levels) + " px |",
                  "| ---: | ---: | ---: | ---: | ---: | ---: | --- |"]
        for p in run["points"]:
            within = f"{p['attributes_within']} of {p['attributes_of']}" if "attributes_within" in p else "-"
            swd_levels = " / ".join(f"{p['swd']['levels'][lv]:.0f}" for lv in levels)
            lines.append(f"| {p['kimg']:g} | {p['train_minutes']:.1f} | {p['fd']:.2f} ({p['fd_ratio']:.1f}x) | "
                         f"{p['precision']:.3f} | {p['recall']:.3f} | {within} | {swd_levels} |")
        lines.append("")
    lines += ["![learning curves](curve.png)", ""]
    return "\n".join(lines)
