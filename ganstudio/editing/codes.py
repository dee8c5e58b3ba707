"""Latent codes to compute directions from: encoded real images, or sampled w."""

from __future__ import annotations

import torch
from torch.utils.data import DataLoader, Dataset, Subset


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
