"""Pictures of a 2-D GAN while it trains: D's output over the plane as a heat map, real points
grey, samples red, and arrows showing where the generator's loss pushes each sample. The
`toy` recipe's sample grid and the playground both draw with these (`ganstudio.plots` draws).
"""

from __future__ import annotations

from typing import Callable

import numpy as np
import torch
from PIL import Image

from ..plots import View, draw_arrows, heat_picture, scatter_plot
from .losses import GanBatch, Objective


@torch.no_grad()
def heat_map(D: Callable, view: View, res: int = 96, probability: bool = True) -> Image.Image:
    """D's output over the window: orange where D says "real", blue where it says "fake".
    With `probability`, sigmoid(logit) on a fixed 0..1 scale (D(x) = 0.5 is white); otherwise
    (critics, least squares, hinge) logits scaled by their 2nd-98th percentile range."""
    device = next(D.parameters()).device
    scores = getattr(D, "point_scores", D)  # a packing D scores a point as a pack of its copies
    logits = scores(view.grid(res).to(device)).float().cpu().view(res, res)
    if probability:
        value = torch.sigmoid(logits).numpy()
    else:
        lo, hi = np.percentile(logits.numpy(), [2, 98])
        value = np.clip((logits.numpy() - lo) / (hi - lo or 1.0), 0.0, 1.0)
    return heat_picture(value, view.size)


def sample_gradients(D: Callable, objective: Objective, fake: torch.Tensor, real: torch.Tensor | None) -> torch.Tensor:
    """-d(generator loss)/d(sample) for each sample [N, 2]: the direction G's loss moves it."""
    with torch.enable_grad():
        x = fake.detach().float().requires_grad_(True)
        loss = objective.g_loss(GanBatch(D, x, real=None if real is None else real.detach().float()))["loss"]
        (grad,) = torch.autograd.grad(loss, x)
    return -grad


def render_frame(D: Callable, objective: Objective, real: torch.Tensor, fake: torch.Tensor, view: View,
                 centres=None, heat: bool = True, arrows: int = 64, probability: bool = True) -> Image.Image:
    """One picture: heat map of D (optional), real points grey, samples red, mixture centres
    blue, and arrows on the first `arrows` samples (0: none)."""
    background = heat_map(D, view, probability=probability) if heat else None
    image = scatter_plot(real.cpu().numpy(), fake.detach().cpu().numpy(), centres, size=view.size,
                         view=view.plot, background=background)
    if arrows > 0 and len(fake):
        device = next(D.parameters()).device
        pack = getattr(getattr(D, "config", None), "pack", 1)
        chosen = fake[: max(pack, arrows - arrows % pack)].to(device)  # whole packs for a packing D
        grads = sample_gradients(D, objective, chosen, real[: len(chosen)].to(device))
        draw_arrows(image, view, chosen.detach().cpu().numpy(), grads.cpu().numpy())
    return image
