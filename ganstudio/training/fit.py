"""Fitting one network to real data: the loop the judge and the feature network share.

Adam (0.9, 0.99) with a cosine decay of the learning rate to zero over `steps`, epochs drawn
from `loader` until the step count is reached, and a running mean of the loss logged every
`log_every` steps. What is learned is the caller's `loss_of` a batch."""

from __future__ import annotations

import math
from typing import Any, Callable, Iterable

import torch
from torch import nn


def fit(model: nn.Module, loader: Iterable[Any], steps: int, lr: float, loss_of: Callable[[Any], torch.Tensor],
        log: Callable[[str], None] | None = None, log_every: int = 100, what: str = "loss") -> None:
    opt = torch.optim.Adam(model.parameters(), lr=lr, betas=(0.9, 0.99))
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: 0.5 * (1 + math.cos(math.pi * min(s, steps) / steps)))
    step, running, window = 0, 0.0, 0
    while step < steps:
        for batch in loader:
            loss = loss_of(batch)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
            step, running, window = step + 1, running + loss.item(), window + 1
            if log and (step % log_every == 0 or step == steps):
                log(f"step {step}/{steps}  {what} {running / window:.4f}")
                running, window = 0.0, 0
            if step >= steps:
                break
