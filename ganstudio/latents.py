"""Latent codes from seeds, and interpolation between codes."""

from __future__ import annotations

from typing import Iterator

import torch

MAX_SEED = 2**32 - 1  # the seeds the studio offers, from the seed boxes, the CLI and recipe files alike


def z_from_seed(seed: int, z_dim: int) -> torch.Tensor:
    """The latent z for a seed: the same on every machine and run (CPU generator)."""
    if not 0 <= int(seed) <= MAX_SEED:
        raise ValueError(f"seed must be between 0 and {MAX_SEED}, got {seed}")
    gen = torch.Generator().manual_seed(int(seed))
    return torch.randn(z_dim, generator=gen)


def z_from_seeds(seeds: list[int] | tuple[int, ...], z_dim: int) -> torch.Tensor:
    return torch.stack([z_from_seed(s, z_dim) for s in seeds])


def seed_batches(first: int, n: int, batch_size: int) -> Iterator[list[int]]:
    """Seeds first..first+n-1 in consecutive lists of at most `batch_size`."""
    for start in range(first, first + n, batch_size):
        yield list(range(start, min(first + n, start + batch_size)))


def lerp(a: torch.Tensor, b: torch.Tensor, t: float) -> torch.Tensor:
    return a + (b - a) * t


def slerp(a: torch.Tensor, b: torch.Tensor, t: float, eps: float = 1e-7) -> torch.Tensor:
    """Spherical interpolation along the last dimension (keeps Gaussian z at a typical norm)."""
    a_n = a / a.norm(dim=-1, keepdim=True).clamp_min(eps)
    b_n = b / b.norm(dim=-1, keepdim=True).clamp_min(eps)
    dot = (a_n * b_n).sum(-1, keepdim=True).clamp(-1 + eps, 1 - eps)
    omega = torch.acos(dot)
    so = torch.sin(omega)
    return (torch.sin((1 - t) * omega) / so) * a + (torch.sin(t * omega) / so) * b
