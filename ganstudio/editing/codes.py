"""Latent codes to compute directions from: encoded real images, sampled w, or sampled w
labelled by a classifier that reads the generator's own images."""

from __future__ import annotations

from typing import Callable, Iterator

import torch
from torch.utils.data import DataLoader, Dataset, Subset

from ..latents import seed_batches, z_from_seeds
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
                 device: str | torch.device = "cpu") -> Iterator[tuple[torch.Tensor, torch.Tensor, torch.Tensor]]:
    """(z, w+, images) of the seeds first_seed..first_seed+n-1 in batches, drawn as the studio
    draws a seed (no condition, const noise)."""
    for seeds in seed_batches(first_seed, n, batch_size):
        z = z_from_seeds(seeds, G.z_dim).to(device)
        ws = G.mapping(z, psi=psi)
        yield z, ws, G.synthesis(ws, noise_mode="const")


@torch.inference_mode()
def labelled_samples(G, classify: Callable[[torch.Tensor], torch.Tensor], n: int, first_seed: int,
                     batch_size: int = 100, device: str | torch.device = "cpu",
                     progress=None) -> tuple[torch.Tensor, torch.Tensor]:
    """w of the samples with seeds first_seed.. (as the studio draws them) and 0/1 labels from
    `classify` (images in [-1, 1] -> [B, K] probabilities) on their images, [N, w_dim] and [N, K].

    Why: an encoder of real images can miss what the generator varies (here: mouths), so
    mean_diff / svm on its codes find no direction for it; the generator's own samples,
    labelled by a classifier that looks at them, do."""
    if getattr(G, "c_dim", 0):
        raise DirectionError("labelled samples need an unconditional generator; this one takes a condition")
    ws, labels = [], []
    for _, w, images in seed_samples(G, first_seed, n, batch_size, device=device):
        labels.append((classify(images.clamp(-1, 1)).float().cpu() > 0.5).float())
        ws.append(w[:, 0].float().cpu())
        if progress is not None:
            progress(len(w))
    return torch.cat(ws), torch.cat(labels)
