"""`ganstudio eval`: measure a generator against real data, honestly.

N samples from the model's generator (G_ema when present; seeds base..base+N-1, so any image
on the contact sheet can be reproduced in the studio) are compared in a feature space (by
default the judge trained on the same data set, found by checkpoint header) with N real
images from the data spec (default: the data set named in the checkpoint header). A second, disjoint set of N real images gives the *real-vs-real*
baseline, so "FD <= 3x real-vs-real" can be read off directly; FD and KID depend on N, so
always compare at equal N.

Reported: Fréchet distance, KID, precision/recall/density/coverage (samples and baseline),
the sliced Wasserstein distance on Laplacian-pyramid patches per level (network-free; `swd.py`),
attribute frequencies of samples vs real (judge), how often the judge's verdicts survive
switching the generator's noise inputs off, the Inception Score where the extractor
gives class probabilities, DCI and MIG of the encoder's codes against ground-truth factors
when the checkpoint has an encoder `E` and the data set returns factors. For 2-D toy data
(items are points) it reports Fréchet distance and Gaussian MMD on the points and, when the
data set knows its structure (`nearest_mode`/`high_quality`/`num_modes`, or mixture
`centres` [K, 2] and `std`), mode coverage and the high-quality rate.

A generator that ships attribute directions also gets an `edits` section, and a translation
model (CycleGAN, StarGAN) only a `translation` section: does the judge see the attribute
change as asked, and the others stay (`ganstudio.metrics.edits`). Without a data spec, a
translation model is measured on held-out images: its data set on stream HELDOUT_STREAM,
when the data set has seeded streams.

Writes `metrics.json`, `report.md` and `contact_sheet.png` into the output folder.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any, Iterable, Iterator, Sequence

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image
from torch import nn
from torch.utils.data import DataLoader, Dataset, Subset

from .. import checkpoint
from ..catalogue import DEFAULT_CHECKPOINTS, GENERATOR_ROLES, model_kind, resolve_device
from ..errors import UserError
from ..checkpoint import Checkpoint
from ..data import DataSpecError, data_set_name, on_stream, parse_spec
from ..editing.conditions import ConditionSpec
from ..editing.layer_ranges import PRESETS
from ..imaging import make_grid, png_bytes, to_pils
from ..plots import scatter_plot
from ..latents import MAX_SEED, seed_batches, z_from_seeds
from ..options import open_model
from .disentanglement import dci, mig
from .edits import evaluate_condition_edits, evaluate_edits, evaluate_translation, render_section
from .features import Extractor, build_extractor, extract
from .frechet import frechet_distance
from .inception_score import inception_score
from .conditions import class_accuracy, code_class_match, render_accuracy
from .conditions import render_section as render_infogan
from .kid import kid
from .mmd import gaussian_mmd
from .modes import mode_counter
from .prdc import prdc
from .swd import MIN_LEVEL_RESOLUTION, PATCHES_PER_IMAGE, SWD_DESCRIPTORS, PyramidDescriptors, swd

DEFAULT_JUDGE = DEFAULT_CHECKPOINTS / "judge-synthfaces64.safetensors"
SHEET_IMAGES = 32
SEED_BASE = 1_000_000  # sample seeds start here, away from the small seeds people browse
IMAGES_N = 2000  # default samples (and real images per real set) for image models
POINTS_N = 2500  # ... and for 2-D models: the protocol of PacGAN and VEEGAN (modes, HQ rate, reverse KL)
CODE_N_PER_VALUE = 1000  # samples per value of an InfoGAN code, whatever n is: a matching steady to about 0.01
HELDOUT_STREAM = 1000  # the stream translation models are measured on when the data set has streams
GOALS = {"fd_ratio_max": 3.0, "precision_min": 0.75, "recall_min": 0.6, "attribute_diff_max": 0.05,
         "noise_off_min": 0.97, "noise_off_attribute_min": 0.95}
NOISE_OFF_SAMPLES = 500  # samples rendered again with the noise inputs off
CONDITION_EDITS_N = 500  # samples whose attributes an attribute-conditional generator is asked to switch


class EvalError(UserError):
    """An evaluation that cannot run as asked; the message says what to change."""


# ----- inputs -------------------------------------------------------------------------------------
def load_model(model: str, checkpoint_dirs: Sequence[str | Path] = (), device: str = "cpu") -> Checkpoint:
    """A checkpoint by file path, or by its studio name under the checkpoint folders."""
    catalogue, name = open_model(model, checkpoint_dirs, device)
    return catalogue.load(name)


def generator_of(ckpt: Checkpoint) -> nn.Module:
    for role in GENERATOR_ROLES:
        if role in ckpt.networks:
            return ckpt.networks[role].eval()
    raise EvalError(f"{ckpt.info.path}: holds no generator (roles: {', '.join(ckpt.networks)})")


def open_data(spec: str) -> Dataset:
    from ..data import open_dataset

    return open_dataset(spec)


def open_heldout(spec: str) -> tuple[str, Dataset]:
    """The data set of `spec` on a stream it was not trained on, where the data set draws from
    seeded streams (SynthFaces); else `spec` itself. A translation judged on its own training
    images would flatter it."""
    trained = parse_spec(spec).options.get("seed")
    heldout = on_stream(spec, HELDOUT_STREAM + (trained == str(HELDOUT_STREAM)))
    try:
        return heldout, open_data(heldout)
    except DataSpecError:  # no seeded streams: the refusal names the option
        return spec, open_data(spec)


def split_real(length: int, n: int, seed: int) -> tuple[list[int], list[int], int]:
    """Two disjoint seeded index sets of equal size (n, or half the data set if it is smaller)."""
    size = min(n, length // 2)
    if size < 2:
        raise EvalError(f"the data set has {length} items; evaluation needs at least 4")
    order = torch.randperm(length, generator=torch.Generator().manual_seed(seed)).tolist()
    return order[:size], order[size:2 * size], size


def _batches(dataset: Dataset, indices: list[int], batch_size: int) -> Iterator:
    yield from DataLoader(Subset(dataset, indices), batch_size=batch_size, shuffle=False)


@torch.inference_mode()
def generate(G: nn.Module, n: int, batch_size: int, psi: float = 1.0, seed_base: int = SEED_BASE,
             labels: torch.Tensor | None = None, device: torch.device | str = "cpu",
             codes: ConditionSpec | None = None, noise_mode: str = "const") -> Iterator[torch.Tensor]:
    """Batches of samples for seeds seed_base..seed_base+n-1, conditioned on `labels` rows if
    given, or on InfoGAN codes drawn as in training when `codes` describes them."""
    c_dim = int(getattr(G, "c_dim", 0) or 0)
    drawn = codes is not None and codes.kind == "codes"
    if c_dim and not drawn and (labels is None or labels.shape[1] != c_dim):
        have = "no labels" if labels is None else f"labels of size {labels.shape[1]}"
        raise EvalError(f"the generator is conditional (c_dim={c_dim}) but the data set gives {have}")
    for seeds in seed_batches(seed_base, n, batch_size):
        z = z_from_seeds(seeds, G.z_dim).to(device)
        if drawn:
            c = codes.random_vectors(seeds).to(device)
        else:
            c = labels[[(s - seed_base) % len(labels) for s in seeds]].to(device) if c_dim else None
        yield G.synthesis(G.mapping(z, psi=psi, c=c), noise_mode=noise_mode).float()


# ----- image evaluation ---------------------------------------------------------------------------
class _Collect:
    """Passes the images of a batch stream on, keeping what the report needs on the way:
    labels and factors (from (image, labels[, factors]) items), encoder codes and the first images."""

    def __init__(self, batches: Iterable, keep: int, encoder: nn.Module | None = None,
                 descriptors: PyramidDescriptors | None = None):
        self.batches, self.keep, self.encoder, self.descriptors = batches, keep, encoder, descriptors
        self.labels: list[torch.Tensor] = []
        self.factors: list[torch.Tensor] = []
        self.codes: list[torch.Tensor] = []
        self.sheet: list[torch.Tensor] = []

    def __iter__(self) -> Iterator[torch.Tensor]:
        for batch in self.batches:
            images = batch[0] if isinstance(batch, (list, tuple)) else batch
            if isinstance(batch, (list, tuple)) and len(batch) > 1:
                self.labels.append(batch[1].float())
                if len(batch) > 2:
                    self.factors.append(batch[2].float())
            images = images.float()
            if self.encoder is not None:
                self.codes.append(_encode(self.encoder, images))
            if self.descriptors is not None:
                self.descriptors.add(images)
            if sum(len(s) for s in self.sheet) < self.keep:
                self.sheet.append(images[: self.keep].cpu())
            yield images

    def cat(self, name: str) -> torch.Tensor | None:
        parts = getattr(self, name)
        return torch.cat(parts) if parts else None


@torch.inference_mode()
def _encode(E: nn.Module, images: torch.Tensor) -> torch.Tensor:
    res = getattr(E, "resolution", None)
    device = next(E.parameters()).device
    if res and images.shape[-1] != res:
        images = F.interpolate(images, size=(res, res), mode="bilinear", align_corners=False, antialias=True)
    codes = E(images.to(device)).float().cpu()
    return codes.mean(1) if codes.dim() == 3 else codes.flatten(1)  # w+ codes: mean over layers


def _frequencies(probs: torch.Tensor, kind: str) -> np.ndarray:
    if kind == "attributes":
        return (probs > 0.5).float().mean(0).numpy()
    return np.bincount(probs.argmax(1).numpy(), minlength=probs.shape[1]) / len(probs)


def _label_section(extractor: Extractor, fake_p, real_p, real_labels, data_names) -> dict | None:
    if fake_p is None or extractor.label_kind not in ("attributes", "class") or not extractor.label_names:
        return None
    names = list(extractor.label_names)
    samples, real = _frequencies(fake_p, extractor.label_kind), _frequencies(real_p, extractor.label_kind)
    section = {
        "kind": extractor.label_kind, "names": names,
        "samples": samples.round(4).tolist(), "real_judged": real.round(4).tolist(),
        "diff": (samples - real).round(4).tolist(), "max_abs_diff": float(np.abs(samples - real).max()),
    }
    if real_labels is not None and list(data_names) == names:
        section["real_labels"] = _frequencies(real_labels, extractor.label_kind).round(4).tolist()
    return section


def evaluate_images(G, ckpt: Checkpoint, dataset: Dataset, extractor: Extractor, n: int, seed: int, psi: float,
                    batch_size: int, k: int, kid_subsets: int, kid_subset_size: int, device,
                    swd_descriptors: int = SWD_DESCRIPTORS) -> tuple[dict, Image.Image]:
    timings: dict[str, float] = {}
    idx_a, idx_b, n = split_real(len(dataset), n, seed)
    encoder = ckpt.networks.get("E")

    t = time.perf_counter()
    pyramids = _pyramids(G, dataset, seed) if swd_descriptors > 0 else {}
    real_a = _Collect(_batches(dataset, idx_a, batch_size), SHEET_IMAGES, encoder, pyramids.get("real_a"))
    feat_a, prob_a = extract(extractor, real_a)
    feat_b, _ = extract(extractor, _Collect(_batches(dataset, idx_b, batch_size), 0, None, pyramids.get("real_b")))
    timings["real_features"] = time.perf_counter() - t

    t = time.perf_counter()
    spec = ConditionSpec.of(G, ckpt.info.meta, ckpt.info.labels)
    samples = generate(G, n, batch_size, psi, labels=real_a.cat("labels"), device=device, codes=spec)
    # clamped as a saved image would be
    fake = _Collect((images.clamp(-1, 1) for images in samples), SHEET_IMAGES, None, pyramids.get("fake"))
    feat_f, prob_f = extract(extractor, fake)
    timings["sample_features"] = time.perf_counter() - t

    t = time.perf_counter()
    fd, fd_base = frechet_distance(feat_f, feat_a), frechet_distance(feat_b, feat_a)
    kid_args = {"subsets": kid_subsets, "subset_size": kid_subset_size, "seed": seed}
    result: dict[str, Any] = {
        "n": n,
        "fd": {"samples_vs_real": fd, "real_vs_real": fd_base, "ratio": fd / fd_base if fd_base > 0 else None},
        "kid": {"samples_vs_real": kid(feat_f, feat_a, **kid_args).to_json(),
                "real_vs_real": kid(feat_b, feat_a, **kid_args).to_json()},
        "prdc": {"samples_vs_real": prdc(feat_a, feat_f, k=k).to_json(),
                 "real_vs_real": prdc(feat_a, feat_b, k=k).to_json()},
    }
    if pyramids:
        cap = {"seed": seed, "max_descriptors": swd_descriptors}
        result["swd"] = {"samples_vs_real": swd(pyramids["real_a"], pyramids["fake"], **cap).to_json(),
                         "real_vs_real": swd(pyramids["real_a"], pyramids["real_b"], **cap).to_json(),
                         "descriptors_per_level": min(swd_descriptors, n * PATCHES_PER_IMAGE)}
    labels = _label_section(extractor, prob_f, prob_a, real_a.cat("labels"), getattr(dataset, "label_names", []))
    if labels:
        result["labels"] = labels
        if labels["kind"] == "attributes" and (spec is None or spec.kind == "attributes"):
            result["noise_off"] = noise_off_agreement(G, extractor, prob_f[:NOISE_OFF_SAMPLES], psi, batch_size, device,
                                                      labels=real_a.cat("labels") if spec else None)
    if prob_f is not None and extractor.label_kind == "class" and n >= 10:
        result["inception_score"] = {"samples": inception_score(prob_f).to_json(),
                                     "real": inception_score(prob_a).to_json()}
    if spec is not None and spec.kind == "attributes" and extractor.label_kind == "attributes":
        columns = _columns(getattr(dataset, "label_names", []), spec.names)
        if columns is not None:
            result["condition_edits"] = evaluate_condition_edits(
                G, spec.names, extractor, real_a.cat("labels")[:, columns], n=min(n, CONDITION_EDITS_N), psi=psi,
                batch_size=batch_size, seed_base=SEED_BASE, device=device)
    if spec is not None and spec.kind == "class" and extractor.label_kind == "class":
        asked = real_a.cat("labels")[torch.arange(n) % len(real_a.cat("labels"))]  # as generate() cycles them
        result["conditioning"] = class_accuracy(prob_f, asked, list(spec.names), list(extractor.label_names))
    if spec is not None and spec.kind == "codes" and spec.categorical and extractor.label_kind == "class":
        result["infogan"] = code_class_match(G, spec, extractor, n_per_value=CODE_N_PER_VALUE, seed_base=seed,
                                             batch_size=batch_size, device=device)
    codes, factors = real_a.cat("codes"), real_a.cat("factors")
    if codes is not None and factors is not None:
        result["disentanglement"] = {"codes": "E(real images), w+ averaged over layers",
                                     "factors": list(getattr(dataset, "factor_names", []) or []),
                                     "dci": dci(codes, factors, seed=seed).to_json()}
        if codes.shape[1] >= 2:
            result["disentanglement"]["mig"] = mig(codes, factors).to_json()
    timings["metrics"] = time.perf_counter() - t
    result["goals"] = _goals(result)
    result["seconds"] = {key: round(v, 2) for key, v in timings.items()}
    fakes = torch.cat(fake.sheet)[:SHEET_IMAGES]
    reals = torch.cat(real_a.sheet)[:SHEET_IMAGES]
    return result, contact_sheet(fakes, reals)


def noise_off_agreement(G, extractor: Extractor, probs: torch.Tensor, psi: float, batch_size: int, device,
                        labels: torch.Tensor | None = None) -> dict:
    """How often the judge's attribute verdicts on samples stay the same when the generator's
    noise inputs are switched off (`probs`: its verdicts on the first samples, noise as drawn;
    `labels`: the conditions they were told, for an attribute-conditional G). Sliders and
    inversion act on w alone; a face whose eyes or smile come from the noise changes verdict
    here, and would not answer to them."""
    n = len(probs)
    quiet = (x.clamp(-1, 1) for x in generate(G, n, batch_size, psi, labels=labels, device=device,
                                              noise_mode="none"))
    _, quiet_probs = extract(extractor, quiet)
    same = ((probs > 0.5) == (quiet_probs > 0.5)).float()
    per = same.mean(0)
    return {"n": n, "agreement": round(float(same.mean()), 4),
            "per_attribute": dict(zip(extractor.label_names, (round(float(v), 4) for v in per))),
            "min": round(float(per.min()), 4)}


def _pyramids(G, dataset: Dataset, seed: int) -> dict[str, PyramidDescriptors]:
    """Patch collectors for the SWD of samples and both real sets, when the data set's images
    are the generator's size (at least 16 px); none otherwise."""
    resolution = getattr(G, "resolution", None)
    if not resolution or resolution < MIN_LEVEL_RESOLUTION or getattr(dataset, "resolution", None) != resolution:
        return {}
    return {name: PyramidDescriptors(resolution, seed=seed * 3 + i)
            for i, name in enumerate(("real_a", "real_b", "fake"))}


def _goals(result: dict) -> dict:
    goals = {}
    ratio = result["fd"]["ratio"]
    goals["fd_ratio"] = {"value": ratio, "target": f"<= {GOALS['fd_ratio_max']}",
                         "met": ratio is not None and ratio <= GOALS["fd_ratio_max"]}
    pr = result["prdc"]["samples_vs_real"]
    goals["precision"] = {"value": pr["precision"], "target": f">= {GOALS['precision_min']}",
                          "met": pr["precision"] >= GOALS["precision_min"]}
    goals["recall"] = {"value": pr["recall"], "target": f">= {GOALS['recall_min']}",
                       "met": pr["recall"] >= GOALS["recall_min"]}
    if "labels" in result and result["labels"]["kind"] == "attributes":
        labels, limit = result["labels"], GOALS["attribute_diff_max"]
        within = sum(abs(d) <= limit for d in labels["diff"])  # the goal is per attribute: say how many
        goals["attribute_frequencies"] = {"value": labels["max_abs_diff"], "target": f"<= {limit}",
                                          "met": labels["max_abs_diff"] <= limit,
                                          "within": within, "of": len(labels["diff"])}
    if "noise_off" in result:
        off = result["noise_off"]
        goals["noise_off"] = {"value": off["agreement"],
                              "target": f">= {GOALS['noise_off_min']}, every attribute >= {GOALS['noise_off_attribute_min']}",
                              "met": off["agreement"] >= GOALS["noise_off_min"]
                              and off["min"] >= GOALS["noise_off_attribute_min"]}
    if "condition_edits" in result:
        goals["condition_edits"] = _edit_goal(result["condition_edits"])
    return goals


def contact_sheet(fakes: torch.Tensor, reals: torch.Tensor, columns: int = 8) -> Image.Image:
    """Samples on top, real images below (resized to the samples' size), `columns` wide."""
    fake_pils = to_pils(fakes)
    size = fake_pils[0].size
    real_pils = [p if p.size == size else p.resize(size, Image.Resampling.LANCZOS) for p in to_pils(reals)]
    return make_grid(fake_pils + real_pils, columns=columns)


# ----- 2-D toy evaluation -------------------------------------------------------------------------
def _points(dataset: Dataset, indices: list[int]) -> torch.Tensor:
    return torch.stack([dataset[i].float().flatten() for i in indices])


def evaluate_points(G, dataset: Dataset, n: int, seed: int, batch_size: int, device) -> tuple[dict, Image.Image]:
    idx_a, idx_b, n = split_real(len(dataset), n, seed)
    real_a, real_b = _points(dataset, idx_a), _points(dataset, idx_b)
    fake = torch.cat([b.flatten(1).cpu() for b in generate(G, n, batch_size, 1.0, device=device)])
    if fake.shape[1] != real_a.shape[1]:
        raise EvalError(f"the generator makes {fake.shape[1]}-D points but the data set has {real_a.shape[1]}-D points")
    fd, fd_base = frechet_distance(fake, real_a), frechet_distance(real_b, real_a)
    result: dict[str, Any] = {
        "n": n,
        "fd": {"samples_vs_real": fd, "real_vs_real": fd_base, "ratio": fd / fd_base if fd_base > 0 else None},
        "mmd": {"samples_vs_real": gaussian_mmd(real_a, fake).to_json(),
                "real_vs_real": gaussian_mmd(real_a, real_b).to_json()},
    }
    modes = mode_counter(dataset)
    if modes is not None:
        result["modes"] = {"samples": modes(fake).to_json(), "real": modes(real_a).to_json()}
    return result, scatter_plot(real_a.numpy(), fake.numpy(), getattr(dataset, "centres", None))


# ----- driver -------------------------------------------------------------------------------------
def _is_points(dataset: Dataset) -> bool:
    item = dataset[0]
    return isinstance(item, torch.Tensor) and item.dim() == 1


def evaluate(
    model: str,
    out: str | Path,
    data: str | None = None,
    features: str = "judge",
    judge: str | Path | None = None,
    inception: str | Path | None = None,
    n: int | None = None,
    seed: int = 0,
    psi: float = 1.0,
    batch_size: int = 64,
    k: int = 5,
    kid_subsets: int = 100,
    kid_subset_size: int = 1000,
    swd_descriptors: int = SWD_DESCRIPTORS,
    device: str = "auto",
    checkpoint_dirs: Sequence[str | Path] = (),
    command: str | None = None,
    edits: bool = True,
    edit_n: int = 500,
    edit_alpha: float | None = None,
    edit_alphas: Sequence[float] = (),
    edit_layers: Sequence[str] = (),
    edit_seed: int | None = None,
    edit_sets: Sequence[str] = (),
) -> dict:
    """Evaluate `model` and write metrics.json, report.md and contact_sheet.png under `out`.

    A translation model (CycleGAN, StarGAN) is measured by what its translations do to `n` real
    images (`edits.evaluate_translation`); a generator with attribute directions also by what
    its edits do to `edit_n` samples from seed `edit_seed` (default SEED_BASE) on
    (`edits.evaluate_edits`), all its direction sets or those named in `edit_sets`, unless `edits`
    is False. `n` defaults to IMAGES_N, or POINTS_N for 2-D models."""
    if n is not None and n < 2:
        raise EvalError(f"n must be at least 2, got {n}")
    if swd_descriptors < 0:
        raise EvalError(f"swd descriptors must be 0 (skip) or more, got {swd_descriptors}")
    if edits and edit_n < 1:
        raise EvalError(f"edit n must be at least 1, got {edit_n}")
    edit_seed = SEED_BASE if edit_seed is None else edit_seed
    if edits and not 0 <= edit_seed <= MAX_SEED - edit_n + 1:
        raise EvalError(f"edit seed: {edit_seed} + {edit_n} samples leaves the seeds 0-{MAX_SEED}")
    unknown = [preset for preset in edit_layers if preset not in PRESETS]
    if unknown:
        raise EvalError(f"edit layers: unknown preset {', '.join(unknown)}; known: {', '.join(PRESETS)}")
    start = time.perf_counter()
    dev = resolve_device(device)
    catalogue, name = open_model(model, checkpoint_dirs, str(dev))
    ckpt = catalogue.load(name)
    translation = model_kind(ckpt.info) == "translation"
    G = None if translation else generator_of(ckpt)
    spec = data or ckpt.info.dataset
    if not spec:
        raise EvalError(f"{ckpt.info.path}: the header names no data set; pass --data SPEC")
    spec, dataset = open_heldout(spec) if translation and not data else (spec, open_data(spec))
    points = not translation and _is_points(dataset)  # read once: it draws the data set's first item
    n = n if n is not None else POINTS_N if points else IMAGES_N
    header = {"model": model, "checkpoint": str(ckpt.info.path), "arch": ckpt.info.arch, "data": spec,
              "seed": seed, **({} if translation else {"psi": psi}), "command": command}
    if translation:
        extractor, header["features"] = _judge_extractor("judge", judge, inception, spec, checkpoint_dirs, dev)
        section, sheet = evaluate_translation(catalogue.translator(name), dataset, extractor, n, seed, batch_size)
        result = {"n": section["n"], "translation": section, "goals": {"translation": _edit_goal(section)}}
    elif points:
        result, sheet = evaluate_points(G, dataset, n, seed, batch_size, dev)
        header["features"] = "raw 2-D points"
    else:
        extractor, header["features"] = _judge_extractor(features, judge, inception, spec, checkpoint_dirs, dev)
        sets = _chosen_sets(catalogue.directions(name), edit_sets) if edits else {}  # refused before any work
        result, sheet = evaluate_images(G, ckpt, dataset, extractor, n, seed, psi, batch_size, k,
                                         kid_subsets, kid_subset_size, dev, swd_descriptors)
        header["generator_hash"] = catalogue.generator_hash(name)  # what `ganstudio directions pick` checks
        if sets:
            referee = extractor if features == "judge" else \
                _judge_extractor("judge", judge, inception, spec, checkpoint_dirs, dev)[0]
            _add_edits(result, G, sets, referee, {"n": edit_n, "alpha": edit_alpha, "grid": edit_alphas,
                                                  "layers": edit_layers, "psi": psi, "batch_size": batch_size,
                                                  "seed_base": edit_seed, "device": dev,
                                                  "spec": ConditionSpec.of(G, ckpt.info.meta, ckpt.info.labels)})
    result = {**header, **result, "total_seconds": round(time.perf_counter() - start, 1)}
    write_outputs(Path(out), result, sheet)
    return result


def _columns(data_names: Sequence[str], wanted: Sequence[str]) -> list[int] | None:
    """Where each wanted label sits among the data set's, or None when one is missing."""
    data_names = list(data_names)
    return [data_names.index(name) for name in wanted] if all(n in data_names for n in wanted) else None


def _chosen_sets(sets: dict, names: Sequence[str]) -> dict:
    """The direction sets named (all when none are), or a one-line error naming those the model lacks."""
    unknown = [n for n in names if n not in sets]
    if unknown:
        raise EvalError(f"edit sets: the model has no {', '.join(unknown)}; it has {', '.join(sets) or 'none'}")
    return {n: ds for n, ds in sets.items() if n in names} if names else sets


def _judge_extractor(features: str, judge, inception, spec: str, checkpoint_dirs, device) -> tuple[Extractor, dict]:
    """The feature extractor, and how the result names it."""
    path = _extractor_path(features, judge, inception, spec, checkpoint_dirs)
    extractor = build_extractor(features, path, device)
    return extractor, {"name": features, "path": str(path), "dim": extractor.dim}


def _add_edits(result: dict, G: nn.Module, sets: dict, judge: Extractor, options: dict) -> None:
    """The edits section and its goal; a judge of classes (not attributes) cannot referee edits."""
    if judge.label_kind != "attributes":
        result["edits_skipped"] = f"the judge gives {judge.label_kind} labels, not attributes"
        return
    result["edits"] = evaluate_edits(G, sets, judge, **options)
    result["goals"]["edits"] = _edit_goal(result["edits"])


def _edit_goal(section: dict) -> dict:
    goal = section["goal"]
    return {"value": f"{goal['attributes_met']} of {goal['attributes']} attributes",
            "target": f"success >= {goal['success_min']} with preserved >= {goal['preserved_min']} (best method)",
            "met": goal["met"]}


def _extractor_path(features: str, judge, inception, spec: str, checkpoint_dirs: Sequence[str | Path]) -> Path:
    if features == "judge":
        path = Path(judge) if judge else find_judge(spec, checkpoint_dirs)
        if not path.is_file():
            raise EvalError(f"{path}: no judge checkpoint; train one with `ganstudio judge train --data SPEC "
                            f"--out {path}` or pass --judge PATH")
        return path
    if features == "inception":
        if not inception:
            raise EvalError("--features inception needs --inception PATH (Inception-v3 weights; never downloaded)")
        return Path(inception)
    path = judge or inception
    if not path:
        raise EvalError(f"feature extractor '{features}' needs a weights file (--judge or --inception)")
    return Path(path)


def find_judge(spec: str, checkpoint_dirs: Sequence[str | Path] = ()) -> Path:
    """The judge trained on the same kind of data (same data set name; the same spec first),
    found by header among the checkpoint folders; else the shipped SynthFaces judge."""
    found = []
    for folder in [*map(Path, checkpoint_dirs), DEFAULT_CHECKPOINTS]:
        for path in sorted(folder.rglob("*.safetensors")) if folder.is_dir() else []:
            try:
                info = checkpoint.read_info(path)
            except checkpoint.CheckpointError:
                continue
            if info.primary == "judge" and info.dataset and data_set_name(info.dataset) == data_set_name(spec):
                found.append((info.dataset != spec, path))
    return min(found)[1] if found else DEFAULT_JUDGE


def write_outputs(out: Path, result: dict, sheet: Image.Image) -> None:
    out.mkdir(parents=True, exist_ok=True)
    checkpoint.atomic_write_bytes(out / "metrics.json", (json.dumps(result, indent=2) + "\n").encode())
    checkpoint.atomic_write_bytes(out / "report.md", render_report(result).encode())
    checkpoint.atomic_write_bytes(out / "contact_sheet.png", png_bytes(sheet, {"ganstudio-eval": result["model"]}))


# ----- report -------------------------------------------------------------------------------------
def _f(value, digits: int = 4) -> str:
    if value is None:
        return "-"
    return f"{value:.{digits}g}" if isinstance(value, float) else str(value)


def render_report(r: dict) -> str:
    lines = [f"# Evaluation of `{r['model']}`", "",
             f"- checkpoint: `{r['checkpoint']}` ({r['arch']})", f"- data: `{r['data']}`",
             f"- features: {r['features'] if isinstance(r['features'], str) else r['features']['name']}"
             + (f" (`{r['features']['path']}`, {r['features']['dim']}-d)" if isinstance(r['features'], dict) else ""),
             (f"- N = {r['n']} real images, each translated towards every domain it is not in"
              if "translation" in r else
              f"- N = {r['n']} samples and N real images; the baseline compares two disjoint real sets of N"),
             f"- seed {r['seed']}" + (f", psi {r['psi']}" if "psi" in r else "") + f", {r['total_seconds']} s"]
    if r.get("command"):
        lines.append(f"- command: `{r['command']}`")
    if "fd" in r:
        lines += _distance_table(r)
    lines += _label_lines(r)
    if "conditioning" in r:
        lines += render_accuracy(r["conditioning"])
    if "infogan" in r:
        lines += render_infogan(r["infogan"])
    if "condition_edits" in r:
        e = r["condition_edits"]
        lines += render_section(e, f"Edits by switching one attribute of the condition (judge; z and the other "
                                   f"attributes kept; N = {e['n']} samples told real faces' labels, psi {e['psi']})")
    if "edits" in r:
        e = r["edits"]
        lines += render_section(e, f"Edits along directions (judge; α = {e['alpha']:g}, N = {e['n']} samples, "
                                   f"seeds {e['seeds'][0]}-{e['seeds'][1]}, psi {e['psi']})")
    if "translation" in r:
        t = r["translation"]
        ways = (f"; add = {t['domains'][0]} → {t['domains'][1]} (G_AB), remove = the reverse (G_BA)"
                if t["kind"] == "cyclegan" else "")
        lines += render_section(t, f"Translation ({t['kind']}, judge; N = {t['n']} real images{ways})")
    if "goals" in r:
        lines += ["", "## Quality goals (the targets for shipped models)", "", "| goal | value | target | met |",
                  "| --- | --- | --- | --- |"]
        for name, g in r["goals"].items():
            value = _f(g["value"]) + (f" ({g['within']} of {g['of']} within)" if "within" in g else "")
            lines.append(f"| {name} | {value} | {g['target']} | {'yes' if g['met'] else 'no'} |")
    sheet = ("samples (top rows) and real images (bottom rows)" if "prdc" in r
             else "real images (first column) translated into every domain" if "translation" in r
             else "real points grey, samples red, mixture centres blue")
    lines += ["", f"![contact sheet](contact_sheet.png) — {sheet}", ""]
    return "\n".join(lines)


def _distance_table(r: dict) -> list[str]:
    lines = ["", "| metric | samples vs real | real vs real |", "| --- | --- | --- |",
              f"| Fréchet distance | {_f(r['fd']['samples_vs_real'])} | {_f(r['fd']['real_vs_real'])} |"]
    if "kid" in r:
        a, b = r["kid"]["samples_vs_real"], r["kid"]["real_vs_real"]
        lines.append(f"| KID (x1000) | {a['mean'] * 1e3:.3f} ± {a['std'] * 1e3:.3f} | {b['mean'] * 1e3:.3f} ± {b['std'] * 1e3:.3f} |")
    if "prdc" in r:
        a, b = r["prdc"]["samples_vs_real"], r["prdc"]["real_vs_real"]
        for key in ("precision", "recall", "density", "coverage"):
            lines.append(f"| {key} (k={a['k']}) | {a[key]:.3f} | {b[key]:.3f} |")
    if "swd" in r:
        a, b = r["swd"]["samples_vs_real"], r["swd"]["real_vs_real"]
        for level in a["levels"]:
            lines.append(f"| SWD ×1000, {level} px level | {a['levels'][level]:.1f} | {b['levels'][level]:.1f} |")
        lines.append(f"| SWD ×1000, mean | {a['mean']:.1f} | {b['mean']:.1f} |")
    if "mmd" in r:
        lines.append(f"| Gaussian MMD² | {_f(r['mmd']['samples_vs_real']['mmd2'])} | {_f(r['mmd']['real_vs_real']['mmd2'])} |")
    if "inception_score" in r:
        a, b = r["inception_score"]["samples"], r["inception_score"]["real"]
        lines.append(f"| Inception Score | {a['mean']:.3f} ± {a['std']:.3f} | {b['mean']:.3f} ± {b['std']:.3f} |")
    if "modes" in r:
        a, b = r["modes"]["samples"], r["modes"]["real"]
        lines.append(f"| modes reached: ≥ 1 high-quality sample (of {a['modes']}; PacGAN's count) "
                     f"| {a['reached']} | {b['reached']} |")
        lines.append(f"| modes covered: ≥ {a['min_count']} high-quality samples (of {a['modes']}) "
                     f"| {a['covered']} | {b['covered']} |")
        lines.append(f"| high-quality rate (3 std) | {a['hq_rate']:.3f} | {b['hq_rate']:.3f} |")
        lines.append(f"| reverse KL, high-quality samples over modes vs uniform | {_f(a['kl_modes'])} "
                     f"| {_f(b['kl_modes'])} |")
    if r["fd"]["ratio"] is not None:
        lines += ["", f"FD ratio (samples / real-vs-real): **{r['fd']['ratio']:.2f}**"]
    return lines


def _label_lines(r: dict) -> list[str]:
    lines = []
    if "labels" in r:
        lab = r["labels"]
        has_truth = "real_labels" in lab
        lines += ["", f"## {'Attribute' if lab['kind'] == 'attributes' else 'Class'} frequencies (judge)", "",
                  "| label | samples | real (judged) | difference |" + (" real (labels) |" if has_truth else ""),
                  "| --- | --- | --- | --- |" + (" --- |" if has_truth else "")]
        for i, name in enumerate(lab["names"]):
            row = f"| {name} | {lab['samples'][i]:.3f} | {lab['real_judged'][i]:.3f} | {lab['diff'][i]:+.3f} |"
            lines.append(row + (f" {lab['real_labels'][i]:.3f} |" if has_truth else ""))
    if "noise_off" in r:
        off = r["noise_off"]
        lines += ["", f"## Verdicts with the noise inputs off ({off['n']} samples)", "",
                  f"The judge's attribute verdicts stay the same for {off['agreement']:.3f} of (sample, attribute) "
                  f"pairs; per attribute:", "",
                  "| attribute | unchanged |", "| --- | --- |"]
        lines += [f"| {name} | {value:.3f} |" for name, value in off["per_attribute"].items()]
    if "disentanglement" in r:
        d = r["disentanglement"]
        lines += ["", "## Disentanglement of the encoder's codes", "", f"codes: {d['codes']}", "",
                  f"- DCI ({d['dci']['regressor']}): disentanglement {d['dci']['disentanglement']:.3f}, "
                  f"completeness {d['dci']['completeness']:.3f}, informativeness (R²) {d['dci']['informativeness']:.3f}"]
        if "mig" in d:
            lines.append(f"- MIG: {d['mig']['mig']:.3f}")
    return lines
