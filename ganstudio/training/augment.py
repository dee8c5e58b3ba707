"""Differentiable augmentation for small data sets (DiffAugment, Zhao et al. 2020).

With few real images a discriminator memorises them and training collapses. Augmenting
*every* image the discriminator sees, real and generated, in both phases, with transforms
that gradients pass through, keeps D from memorising without teaching G to produce
augmented images. A policy is a comma-separated list of `color`, `translation`, `cutout`.
"""

from __future__ import annotations

from typing import Callable

import torch
import torch.nn.functional as F


def _color(x: torch.Tensor) -> torch.Tensor:
    """Random brightness, saturation and contrast per sample."""
    shape = (x.shape[0], 1, 1, 1)
    x = x + (torch.rand(shape, device=x.device, dtype=x.dtype) - 0.5)
    mean = x.mean(dim=1, keepdim=True)
    x = (x - mean) * (torch.rand(shape, device=x.device, dtype=x.dtype) * 2) + mean
    mean = x.mean(dim=(1, 2, 3), keepdim=True)
    return (x - mean) * (torch.rand(shape, device=x.device, dtype=x.dtype) + 0.5) + mean


def _translation(x: torch.Tensor, ratio: float = 0.125) -> torch.Tensor:
    """Shift each sample by up to `ratio` of its size, filling with zeros."""
    n, _, h, w = x.shape
    sy, sx = int(h * ratio + 0.5), int(w * ratio + 0.5)
    dy = torch.randint(-sy, sy + 1, (n, 1, 1), device=x.device)
    dx = torch.randint(-sx, sx + 1, (n, 1, 1), device=x.device)
    gy, gx = torch.meshgrid(torch.arange(h, device=x.device), torch.arange(w, device=x.device), indexing="ij")
    # Index into a copy padded by one zero pixel; out-of-range positions land on the padding.
    iy = (gy.unsqueeze(0) + dy + 1).clamp(0, h + 1)
    ix = (gx.unsqueeze(0) + dx + 1).clamp(0, w + 1)
    padded = F.pad(x, [1, 1, 1, 1]).permute(0, 2, 3, 1)
    batch = torch.arange(n, device=x.device).view(n, 1, 1)
    return padded[batch, iy, ix].permute(0, 3, 1, 2)  # NCHW view in channels_last memory


def _cutout(x: torch.Tensor, ratio: float = 0.5) -> torch.Tensor:
    """Zero a random square of `ratio` of the size in each sample."""
    n, _, h, w = x.shape
    ch, cw = int(h * ratio + 0.5), int(w * ratio + 0.5)
    oy = torch.randint(0, h + (1 - ch % 2), (n, 1, 1), device=x.device) - ch // 2
    ox = torch.randint(0, w + (1 - cw % 2), (n, 1, 1), device=x.device) - cw // 2
    gy = torch.arange(h, device=x.device).view(1, h, 1)
    gx = torch.arange(w, device=x.device).view(1, 1, w)
    inside = (gy >= oy) & (gy < oy + ch) & (gx >= ox) & (gx < ox + cw)
    return x * (~inside).unsqueeze(1).to(x.dtype)


def random_affine(x: torch.Tensor, degrees: float = 15.0, scale: float = 0.15, shift: float = 0.15) -> torch.Tensor:
    """Rotate by up to `degrees`, zoom by up to `scale` and shift by up to `shift` of the size,
    per sample, filling with the background (-1): a copy that keeps what an image shows (a digit
    stays that digit) and changes its pose, for a network that must read the one and not the other.
    Differentiable in x, so a generator's gradient passes through it."""
    n = x.shape[0]

    def uniform(limit: float) -> torch.Tensor:
        return (torch.rand(n, device=x.device) * 2 - 1) * limit

    angle, zoom = uniform(degrees * torch.pi / 180), 1 + uniform(scale)
    cos, sin = torch.cos(angle) / zoom, torch.sin(angle) / zoom
    theta = torch.stack([torch.stack([cos, -sin, uniform(shift)], 1), torch.stack([sin, cos, uniform(shift)], 1)], 1)
    grid = F.affine_grid(theta.to(x.dtype), list(x.shape), align_corners=False)
    return F.grid_sample(x + 1, grid, align_corners=False) - 1


def random_stroke(x: torch.Tensor) -> torch.Tensor:
    """Thicken or thin each sample's strokes by a pixel, or leave them, a third of the samples each
    (a 3x3 maximum or minimum: light ink on a dark background, as digits are): a copy that keeps the
    shape and changes the pen, for a network that must read the one and not the other. Differentiable."""
    pick = torch.randint(0, 3, (x.shape[0], 1, 1, 1), device=x.device)
    thick, thin = F.max_pool2d(x, 3, 1, 1), -F.max_pool2d(-x, 3, 1, 1)
    return torch.where(pick == 0, thin, torch.where(pick == 2, thick, x))


OPS: dict[str, Callable[[torch.Tensor], torch.Tensor]] = {
    "color": _color,
    "translation": _translation,
    "cutout": _cutout,
}


def parse_policy(policy: str) -> tuple[str, ...]:
    """'color,translation' -> ('color', 'translation'); an unknown name is an error naming it."""
    names = tuple(p.strip() for p in policy.split(",") if p.strip())
    for name in names:
        if name not in OPS:
            raise ValueError(f"augment: unknown transform '{name}'; known: {', '.join(OPS)}")
    return names


def diff_augment(x: torch.Tensor, policy: str | tuple[str, ...]) -> torch.Tensor:
    """Apply the policy's transforms in order; the identity for an empty policy."""
    names = parse_policy(policy) if isinstance(policy, str) else policy
    for name in names:
        x = OPS[name](x)
    return x
