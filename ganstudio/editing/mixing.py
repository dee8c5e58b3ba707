"""Style mixing and latent interpolation: pure functions on codes."""

from __future__ import annotations

import torch

from ..latents import lerp, slerp


def mix_styles(row_ws: torch.Tensor, col_ws: torch.Tensor, rows: slice) -> torch.Tensor:
    """The StyleGAN mixing grid: column codes take the row codes' styles in `rows`.

    row_ws [R, num_ws, w_dim], col_ws [C, num_ws, w_dim] -> [R, C, num_ws, w_dim].
    """
    grid = col_ws.unsqueeze(0).repeat(row_ws.shape[0], 1, 1, 1)
    grid[:, :, rows] = row_ws[:, None, rows]
    return grid


def interpolate(a: torch.Tensor, b: torch.Tensor, frames: int, space: str) -> torch.Tensor:
    """`frames` codes from a to b inclusive: slerp for Gaussian z, lerp for w (both standard)."""
    if frames < 2:
        raise ValueError("an interpolation needs at least 2 frames")
    fn = slerp if space == "z" else lerp
    return torch.stack([fn(a, b, t) for t in torch.linspace(0, 1, frames).tolist()])


def latent_walk(codes: torch.Tensor, frames_per_step: int, space: str) -> torch.Tensor:
    """A loop through the codes and back to the first, without repeating the joints."""
    if codes.shape[0] < 2:
        raise ValueError("a walk needs at least 2 codes")
    stops = torch.cat([codes, codes[:1]])
    parts = [interpolate(stops[i], stops[i + 1], frames_per_step + 1, space)[:-1] for i in range(len(codes))]
    return torch.cat(parts)
