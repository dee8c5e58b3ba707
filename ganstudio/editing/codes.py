"""Latent codes to compute directions from: encoded real images, sampled w, or sampled w
labelled by a classifier that reads the generator's own images."""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator, Protocol, Sequence

import torch
from torch.utils.data import DataLoader, Dataset, Subset

from ..latents import seed_batches, z_from_seeds
from ..registry import DIRECTIONS
from . import SAMPLES_FIRST_SEED
from .conditions import ConditionSpec
from .directions import DirectionError


@torch.inference_mode()
def encode_dataset(E, dataset: Dataset, n: int, batch_size: int = 64, device: str | torch.device = "cpu",
                   progress=None) -> tuple[torch.Tensor, torch.Tensor]:
    """En(x) for the first n labelled images, as [N, dim] codes (w+ rows averaged) and [N, K] labels."""
    subset = Subset(dataset, range(min(n, len(dataset))))
    codes, labels = [], []
    for batch in DataLoader(subset, batch_size=batch_size, shuffle=False):
        code = E(batch[0].to(device))
        codes.append((code.mean(1) if code.dim() == 3 else code).float().cpu())
        labels.append(batch[1].float())
        if progress is not None:
            progress(len(batch[0]))
    return torch.cat(codes), torch.cat(labels)


@torch.inference_mode()
def sampled_ws(G, n: int, seed: int = 0, batch_size: int = 256, device: str | torch.device = "cpu",
               conditions: torch.Tensor | None = None) -> torch.Tensor:
    """w = mapping(z) for n random z: the distribution GANSpace analyses. A conditional
    generator needs `conditions` [n, c_dim], one row per sample."""
    gen = torch.Generator().manual_seed(seed)
    out = []
    for start in range(0, n, batch_size):
        z = torch.randn(min(batch_size, n - start), G.z_dim, generator=gen).to(device)
        c = None if conditions is None else conditions[start:start + len(z)].to(device)
        out.append(G.mapping(z, c=c)[:, 0].float().cpu())
    return torch.cat(out)


def seed_samples(G, first_seed: int, n: int, batch_size: int = 64, psi: float = 1.0,
                 device: str | torch.device = "cpu", spec: ConditionSpec | None = None,
                 ) -> Iterator[tuple[torch.Tensor, torch.Tensor | None, torch.Tensor, torch.Tensor]]:
    """(z, c, w+, images) of the seeds first_seed..first_seed+n-1 in batches, drawn as the studio
    draws a seed (its own condition c when `spec` describes one, else None; const noise)."""
    for seeds in seed_batches(first_seed, n, batch_size):
        z = z_from_seeds(seeds, G.z_dim).to(device)
        c = None if spec is None else spec.seed_vectors(seeds).to(device)
        ws = G.mapping(z, psi=psi, c=c)
        yield z, c, ws, G.synthesis(ws, noise_mode="const")


@torch.inference_mode()
def labelled_samples(G, classify: Callable[[torch.Tensor], torch.Tensor], n: int, first_seed: int,
                     batch_size: int = 100, device: str | torch.device = "cpu",
                     progress=None, spec: ConditionSpec | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """w of the samples with seeds first_seed.. (as the studio draws them: a conditional G with
    each seed's condition from `spec`) and 0/1 labels from `classify` (images in [-1, 1] ->
    [B, K] probabilities) on their images, [N, w_dim] and [N, K].

    Why: an encoder of real images can miss what the generator varies (here: mouths), so
    mean_diff / svm on its codes find no direction for it; the generator's own samples,
    labelled by a classifier that looks at them, do."""
    if getattr(G, "c_dim", 0) and spec is None:
        raise DirectionError("labelled samples of a conditional generator need its conditions (the spec)")
    ws, labels = [], []
    for _, _, w, images in seed_samples(G, first_seed, n, batch_size, device=device, spec=spec):
        labels.append((classify(images.clamp(-1, 1)).float().cpu() > 0.5).float())
        ws.append(w[:, 0].float().cpu())
        if progress is not None:
            progress(len(w))
    return torch.cat(ws), torch.cat(labels)


class Labeller(Protocol):
    """A classifier of images (the metrics judge): what labelled samples need of it."""

    label_kind: str  # "attributes", "class" or "none"
    label_names: tuple[str, ...]

    def __call__(self, images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Features and label probabilities [B, K] for images in [-1, 1]."""
        ...


@dataclass(frozen=True)
class DirectionInputs:
    """What a direction method learns from: codes [N, dim], their 0/1 labels [N, K] and the
    labels' names (both None for unsupervised methods), the codes' space, and a line saying
    where they came from (it is stored with the set)."""

    codes: torch.Tensor
    labels: torch.Tensor | None
    names: list[str] | None
    space: str
    source: str


def direction_inputs(method: str, G, n: int, *, model: str, device: str | torch.device = "cpu",
                     seed: int | None = None, attributes: Sequence[str] | None = None, encoder=None,
                     data: str | None = None, labeller: str | os.PathLike | None = None,
                     open_labeller: Callable[[str | os.PathLike], Labeller] | None = None,
                     progress: Callable[..., contextlib.AbstractContextManager] | None = None,
                     spec: ConditionSpec | None = None) -> DirectionInputs:
    """The codes and labels `method` learns from; every choice is checked before an image is
    drawn, encoded or labelled. `spec`: what a conditional G is told besides z.

    The condition method gets the z and conditions of n seeds (from `seed`, default
    SAMPLES_FIRST_SEED) as the studio draws them. Unsupervised methods (pca, sefa) get n sampled
    w (seed `seed`, default 0). Supervised ones
    get the generator's own samples labelled by the classifier in the file `labeller` (opened by
    `open_labeller`, so that this layer needs no metrics; seeds from `seed`, default
    SAMPLES_FIRST_SEED), or else the first n images of the data set `data` encoded by `encoder`
    (the model's E); their labels limited to `attributes` (all when None). `model` names G's model
    in messages; `progress` makes a tqdm-like bar (total=, desc=, unit=) for the slow part.
    """
    if n < 1:
        raise DirectionError(f"--n must be at least 1, got {n}")
    supervised = DIRECTIONS.having(supervised=True)
    if method not in supervised:
        if data or labeller or attributes is not None:
            raise DirectionError(f"{method} is unsupervised; --data, --labeller and --attributes are for "
                                 f"{', '.join(supervised)}")
        if method in DIRECTIONS.having(conditional=True):
            return _seed_conditions(G, n, SAMPLES_FIRST_SEED if seed is None else seed, model, spec)
        seed = 0 if seed is None else seed
        conditions = spec.seed_vectors(list(range(seed, seed + n))) if spec is not None else None
        return DirectionInputs(sampled_ws(G, n, seed=seed, device=device, conditions=conditions), None, None, "w",
                               f"{n} sampled w (seed {seed})")
    if labeller:
        judge = open_labeller(labeller)
        if judge.label_kind != "attributes":
            raise DirectionError(f"--labeller {labeller}: it decides {judge.label_kind} labels; directions need "
                                 "attributes (a judge trained on attribute-labelled images)")
        columns, names = _chosen_labels(list(judge.label_names), attributes)
        first = SAMPLES_FIRST_SEED if seed is None else seed
        with _bar(progress, total=n, desc="label samples", unit="img") as update:
            codes, labels = labelled_samples(G, lambda images: judge(images)[1], n, first, device=device,
                                             progress=update, spec=spec)
        return DirectionInputs(codes, labels[:, columns], names, "w",
                               f"{n} samples (seeds {first}-{first + n - 1}) labelled by {Path(labeller).name}")
    if encoder is None:
        raise DirectionError(f"{method} needs the model's encoder (role E) and --data, or --labeller; "
                             f"'{model}' has no encoder")
    if not data:
        raise DirectionError(f"{method} needs labelled images (--data SPEC) or a classifier to label samples "
                             "(--labeller JUDGE)")
    from ..data import open_dataset

    dataset = open_dataset(data, resolution=G.resolution)
    columns, names = _chosen_labels(list(dataset.label_names), attributes)
    with _bar(progress, total=min(n, len(dataset)), desc="encode", unit="img") as update:
        codes, labels = encode_dataset(encoder, dataset, n, device=device, progress=update)
    space = "z" if getattr(encoder, "space", "w") == "z" else "w"
    return DirectionInputs(codes, labels[:, columns], names, space, f"{len(codes)} images of {data}, encoded")


def _seed_conditions(G, n: int, first: int, model: str, spec: ConditionSpec | None) -> DirectionInputs:
    """z and c of seeds first.. as the studio draws them, for the condition method."""
    if spec is None or spec.kind != "attributes":
        raise DirectionError(f"condition directions need a generator told attributes; '{model}' is "
                             f"{'not conditional' if spec is None else f'told {spec.kind}'}")
    seeds = list(range(first, first + n))
    return DirectionInputs(z_from_seeds(seeds, G.z_dim), spec.seed_vectors(seeds), list(spec.names), "w",
                           f"{n} seeds ({first}-{first + n - 1}) with their conditions, each attribute switched")


def _chosen_labels(names: list[str], attributes: Sequence[str] | None) -> tuple[list[int], list[str]]:
    """Columns and names of the chosen attributes among the labels (all of them for None)."""
    if attributes is None:
        return list(range(len(names))), names
    missing = [a for a in attributes if a not in names]
    if missing:
        raise DirectionError(f"--attributes: unknown {', '.join(missing)}; the labels are {', '.join(names)}")
    return [names.index(a) for a in attributes], list(attributes)


@contextlib.contextmanager
def _bar(progress, **kwargs) -> Iterator[Callable[[int], None] | None]:
    """The update function of a progress bar made by `progress`, or None without one."""
    if progress is None:
        yield None
        return
    with progress(**kwargs) as bar:
        yield bar.update
