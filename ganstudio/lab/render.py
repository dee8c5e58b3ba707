"""Pictures of a 2-D GAN: real points vs samples, D's output over the plane as a heat map,
and arrows showing where the generator's loss pushes each sample. PIL only.

Every picture of one session uses one fixed `View` (the target's window), so frames of an
animation line up. The point drawing is `metrics.evaluate.scatter_plot`'s.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np
import torch
from PIL import Image, ImageDraw

from ..metrics.evaluate import plot_view, scatter_plot
from ..training.losses import GanBatch, Objective

LOW, MID, HIGH = np.array([190, 210, 245]), np.array([255, 255, 255]), np.array([250, 215, 175])
ARROW = (0, 120, 60)


@dataclass(frozen=True)
class View:
    """A square window on the plane: its centre, side length and size in pixels."""

    centre: tuple[float, float]
    span: float
    size: int = 512

    @classmethod
    def around(cls, *arrays, size: int = 512, zoom: float = 1.25) -> "View":
        """The window of `plot_view` around the points, widened by `zoom` so samples may stray."""
        mid, span = plot_view(*arrays)
        return cls((float(mid[0]), float(mid[1])), span * zoom, size)

    @property
    def plot(self) -> tuple[np.ndarray, float]:
        """As `scatter_plot` takes it."""
        return np.asarray(self.centre), self.span

    def grid(self, res: int) -> torch.Tensor:
        """Points [res*res, 2] at the centres of a res x res raster, top row first."""
        step = self.span / res
        offsets = (torch.arange(res, dtype=torch.float32) + 0.5) * step - self.span / 2
        xs = offsets + self.centre[0]
        ys = self.centre[1] - offsets
        gy, gx = torch.meshgrid(ys, xs, indexing="ij")
        return torch.stack([gx.reshape(-1), gy.reshape(-1)], 1)

    def pixels(self, points: np.ndarray) -> np.ndarray:
        p = (np.asarray(points, dtype=np.float64)[:, :2] - np.asarray(self.centre)) / self.span * self.size
        return np.stack([p[:, 0] + self.size / 2, self.size / 2 - p[:, 1]], 1)


@torch.no_grad()
def heat_map(D: Callable, view: View, res: int = 96, probability: bool = True) -> Image.Image:
    """D's output over the window: orange where D says "real", blue where it says "fake".
    With `probability`, sigmoid(logit) on a fixed 0..1 scale (D(x) = 0.5 is white); otherwise
    (critics, least squares, hinge) logits scaled by their 2nd-98th percentile range."""
    device = next(D.parameters()).device
    logits = D(view.grid(res).to(device)).float().cpu().view(res, res)
    if probability:
        value = torch.sigmoid(logits).numpy()
    else:
        lo, hi = np.percentile(logits.numpy(), [2, 98])
        value = np.clip((logits.numpy() - lo) / (hi - lo or 1.0), 0.0, 1.0)
    t = value[..., None]
    colour = np.where(t < 0.5, LOW + (MID - LOW) * (t * 2), MID + (HIGH - MID) * (t * 2 - 1))
    return Image.fromarray(colour.round().astype(np.uint8), "RGB").resize((view.size, view.size), Image.BILINEAR)


def sample_gradients(D: Callable, objective: Objective, fake: torch.Tensor, real: torch.Tensor | None) -> torch.Tensor:
    """-d(generator loss)/d(sample) for each sample [N, 2]: the direction G's loss moves it."""
    with torch.enable_grad():
        x = fake.detach().float().requires_grad_(True)
        loss = objective.g_loss(GanBatch(D, x, real=None if real is None else real.detach().float()))["loss"]
        (grad,) = torch.autograd.grad(loss, x)
    return -grad


def draw_arrows(image: Image.Image, view: View, points: np.ndarray, directions: np.ndarray,
                length: float = 0.06) -> Image.Image:
    """Arrows from points along directions, scaled together: the 90th-percentile gradient is
    `length` of the window long, longer ones are capped at twice that."""
    norms = np.linalg.norm(directions, axis=1)
    scale = float(np.percentile(norms, 90)) if len(norms) else 0.0
    if not scale > 0 or not np.isfinite(scale):
        return image
    start = view.pixels(points)
    d = directions / scale * length * view.size
    cap = 2 * length * view.size
    d *= np.minimum(1.0, cap / np.maximum(np.linalg.norm(d, axis=1), 1e-12))[:, None]
    end = start + np.stack([d[:, 0], -d[:, 1]], 1)
    draw = ImageDraw.Draw(image)
    for (x0, y0), (x1, y1) in zip(start, end):
        draw.line((x0, y0, x1, y1), fill=ARROW, width=2)
        dx, dy = x1 - x0, y1 - y0
        norm = float(np.hypot(dx, dy))
        if norm > 3:  # a small head, two strokes back from the tip
            ux, uy = dx / norm, dy / norm
            for sx, sy in ((-uy, ux), (uy, -ux)):
                draw.line((x1, y1, x1 - 5 * ux + 3 * sx, y1 - 5 * uy + 3 * sy), fill=ARROW, width=2)
    return image


def render_frame(D: Callable, objective: Objective, real: torch.Tensor, fake: torch.Tensor, view: View,
                 centres=None, heat: bool = True, arrows: int = 64, probability: bool = True) -> Image.Image:
    """One picture: heat map of D (optional), real points grey, samples red, mixture centres
    blue, and arrows on the first `arrows` samples (0: none)."""
    background = heat_map(D, view, probability=probability) if heat else None
    image = scatter_plot(real.cpu().numpy(), fake.detach().cpu().numpy(), centres, size=view.size,
                         view=view.plot, background=background)
    if arrows > 0 and len(fake):
        device = next(D.parameters()).device
        chosen = fake[:arrows].to(device)
        grads = sample_gradients(D, objective, chosen, real[: len(chosen)].to(device))
        draw_arrows(image, view, chosen.detach().cpu().numpy(), grads.cpu().numpy())
    return image
