"""`judge`: a small CNN attribute classifier used to *measure* generated images.

It is trained on real images only (see `ganstudio.metrics.judge`), never on samples, so it
can referee every model fairly. Two outputs matter:

- `forward(img) -> logits [B, num_labels]`: multi-label (sigmoid) for attribute data sets,
  one softmax over the labels for class data sets (`label_kind`);
- `features(img) -> [B, feature_dim]`: the penultimate embedding the head reads (normalised
  per vector), the feature space for Fréchet distance, KID and precision/recall on
  SynthFaces-like data.

Any input size from 32 to 128 px (or more) is resized to the judge's own `resolution` first,
so a 32 px model and a 64 px data set are judged in the same space.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from ..registry import ARCHS
from .base import ConfigModule

LABEL_KINDS = ("attributes", "class")


@dataclass(frozen=True)
class JudgeConfig:
    num_labels: int = 1
    label_kind: str = "attributes"
    resolution: int = 64
    channels: tuple[int, ...] = (16, 32, 64, 128)
    feature_dim: int = 128


@ARCHS.register("judge")
class Judge(ConfigModule):
    Config = JudgeConfig
    tiny_config = dict(num_labels=3, resolution=16, channels=(4, 8), feature_dim=8)

    def __init__(self, config: JudgeConfig):
        super().__init__(config)
        if config.label_kind not in LABEL_KINDS:
            raise ValueError(f"judge label_kind must be one of {', '.join(LABEL_KINDS)}, got '{config.label_kind}'")
        if config.num_labels < 1:
            raise ValueError(f"judge needs at least one label, got num_labels={config.num_labels}")
        side = config.resolution // 2 ** len(config.channels)
        if side < 1 or config.resolution % 2 ** len(config.channels):
            raise ValueError(
                f"judge resolution {config.resolution} must be divisible by 2**{len(config.channels)} (one halving per stage)"
            )
        self.resolution = config.resolution
        layers: list[nn.Module] = []
        c_in = 3
        for c_out in config.channels:
            layers += [
                nn.Conv2d(c_in, c_out, 3, padding=1),
                nn.GroupNorm(min(8, c_out), c_out),
                nn.LeakyReLU(0.2),
                nn.Conv2d(c_out, c_out, 3, stride=2, padding=1),
                nn.LeakyReLU(0.2),
            ]
            c_in = c_out
        self.trunk = nn.Sequential(*layers)
        # LayerNorm without affine parameters keeps every feature vector at zero mean and unit
        # variance, so kernels on the features (KID's (x.y/d + 1)^3) see values of order one.
        self.embed = nn.Sequential(
            nn.Flatten(), nn.Linear(c_in * side * side, config.feature_dim), nn.LeakyReLU(0.2),
            nn.LayerNorm(config.feature_dim, elementwise_affine=False),
        )
        self.head = nn.Linear(config.feature_dim, config.num_labels)

    def _resize(self, img: torch.Tensor) -> torch.Tensor:
        if img.shape[-1] != self.resolution or img.shape[-2] != self.resolution:
            img = F.interpolate(img, size=(self.resolution, self.resolution), mode="bilinear",
                                align_corners=False, antialias=img.shape[-1] > self.resolution)
        return img

    def features(self, img: torch.Tensor) -> torch.Tensor:
        """The penultimate embedding [B, feature_dim] of images in [-1, 1]."""
        return self.embed(self.trunk(self._resize(img)))

    def forward(self, img: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(img))

    def probs(self, img: torch.Tensor) -> torch.Tensor:
        """Per-label probabilities: sigmoid for attributes, softmax over classes."""
        return self.probs_from_logits(self(img))

    def probs_from_logits(self, logits: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(logits) if self.config.label_kind == "attributes" else logits.softmax(-1)
