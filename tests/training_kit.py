"""Tiny in-memory data sets and configs for the training tests (milliseconds per step)."""

from __future__ import annotations

import torch
from torch.utils.data import Dataset

from ganstudio.training.train_config import TrainConfig


class ToyImages(Dataset):
    """Random 'images' in [-1, 1] with labels, shaped like the data contract's items."""

    def __init__(self, n: int = 64, resolution: int = 16, labels: tuple[str, ...] = ("A", "B", "C"),
                 kind: str = "class", seed: int = 0):
        gen = torch.Generator().manual_seed(seed)
        self.images = torch.rand(n, 3, resolution, resolution, generator=gen) * 2 - 1
        self.resolution, self.label_names, self.label_kind = resolution, list(labels), kind if labels else "none"
        k = len(labels)
        if kind == "class" and k:
            self.labels = torch.nn.functional.one_hot(torch.arange(n) % k, k).float()
        else:
            self.labels = (torch.rand(n, k, generator=gen) > 0.5).float()

    def __len__(self) -> int:
        return len(self.images)

    def __getitem__(self, i: int):
        return self.images[i], self.labels[i]


def tiny_config(**changes) -> TrainConfig:
    base = dict(recipe="gan", data="toy16", arch="tiny", kimg=0.064, batch=8, workers=0, snapshot_kimg=0.032,
                log_every=2, grid=4, device="cpu", ema_kimg=0.01)
    base.update(changes)
    return TrainConfig(**base)
