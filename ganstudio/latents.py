"""Latent codes from seeds, and interpolation between codes."""

from __future__ import annotations

from typing import Iterable, Iterator

import torch

from .errors import StudioError

MAX_SEED = 2**32 - 1  # the seeds the studio offers, from the seed boxes, the CLI and recipe files alike
MAX_SEEDS_PER_CALL = 64


def z_from_seed(seed: int, z_dim: int) -> torch.Tensor:
    """The latent z for a seed: the same on every machine and run (CPU generator)."""
    if not 0 <= int(seed) <= MAX_SEED:
        raise ValueError(f"seed must be between 0 and {MAX_SEED}, got {seed}")
    gen = torch.Generator().manual_seed(int(seed))
    return torch.randn(z_dim, generator=gen)


def parse_seeds(text: str | int | Iterable[int]) -> list[int]:
    """Seeds from '1, 2, 5-8' (ranges allowed) or an int or a list; clear error otherwise."""
    if isinstance(text, int):
        seeds = [text]
    elif isinstance(text, str):
        seeds = []
        for part in text.replace(";", ",").split(","):
            part = part.strip()
            if not part:
                continue
            try:
                if "-" in part:
                    lo, hi = part.split("-", 1)
                    lo_i, hi_i = int(lo), int(hi)
                    if hi_i < lo_i or hi_i - lo_i >= MAX_SEEDS_PER_CALL:
                        raise StudioError(f"seed range '{part}' must be ascending and at most {MAX_SEEDS_PER_CALL} long")
                    seeds.extend(range(lo_i, hi_i + 1))
                else:
                    seeds.append(int(part))
            except ValueError:
                raise StudioError(f"seeds: '{part}' is not a whole number or a range like 3-7") from None
    else:
        seeds = [int(s) for s in text]
    if not seeds:
        raise StudioError("seeds: give at least one seed, e.g. '0, 1, 2' or '10-17'")
    if len(seeds) > MAX_SEEDS_PER_CALL:
        raise StudioError(f"seeds: at most {MAX_SEEDS_PER_CALL} at a time, got {len(seeds)}")
    for s in seeds:
        if not 0 <= s <= MAX_SEED:
            raise StudioError(f"seeds: {s} is out of range (0 to {MAX_SEED})")
    return seeds


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
