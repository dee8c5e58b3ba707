"""Turning tensors or arrays into checked 2-D arrays, once, for every metric."""

from __future__ import annotations

import numpy as np
import torch


def as_float64(x, name: str) -> np.ndarray:
    """A [N, d] float64 numpy array from a tensor/array, with a clear error otherwise."""
    if isinstance(x, torch.Tensor):
        x = x.detach().cpu().double().numpy()
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 2:
        raise ValueError(f"{name} must be a 2-D array [N, d], got shape {tuple(x.shape)}")
    if not np.isfinite(x).all():
        raise ValueError(f"{name} contains NaN or infinite values")
    return x


def as_tensor(x, name: str, dtype: torch.dtype = torch.float32) -> torch.Tensor:
    """A [N, d] CPU tensor from a tensor/array, with a clear error otherwise."""
    t = x.detach().cpu() if isinstance(x, torch.Tensor) else torch.from_numpy(np.asarray(x))
    t = t.to(dtype)
    if t.dim() != 2:
        raise ValueError(f"{name} must be a 2-D array [N, d], got shape {tuple(t.shape)}")
    if not torch.isfinite(t).all():
        raise ValueError(f"{name} contains NaN or infinite values")
    return t
