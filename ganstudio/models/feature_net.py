"""`feature_net`: a convolutional auto-encoder whose encoder gives multi-scale feature maps.

It exists for the projected discriminator (`projected_d`), which judges images in the feature
space of a frozen network, as Projected GAN does with an ImageNet network. Nothing pretrained
can be downloaded here, so the project trains its own on the real images, without labels
(`ganstudio features train`): it learns to restore images with patches blanked out, which
makes its features describe what a face is made of (where eyes and mouths go), not only pixels.
It is never the judge, which must stay independent of what it measures.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from ..registry import ARCHS
from .base import ConfigModule


@dataclass(frozen=True)
class FeatureNetConfig:
    """`channels`: one stage per entry, each halving the size (64 px -> 32, 16, 8, 4 px maps); by
    default the judge's widths, which read a face well."""

    resolution: int = 64
    channels: tuple[int, ...] = (16, 32, 64, 128)

    def __post_init__(self):
        object.__setattr__(self, "channels", tuple(self.channels))
        if not self.channels or self.resolution % 2 ** len(self.channels):
            raise ValueError(f"feature_net resolution {self.resolution} must be divisible by "
                             f"2**{len(self.channels)} (one halving per stage)")

    def sizes(self) -> list[int]:
        """The side of each stage's feature map."""
        return [self.resolution // 2 ** (i + 1) for i in range(len(self.channels))]


def _stage(c_in: int, c_out: int) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(c_in, c_out, 3, padding=1), nn.GroupNorm(min(8, c_out), c_out), nn.LeakyReLU(0.2),
        nn.Conv2d(c_out, c_out, 3, stride=2, padding=1), nn.LeakyReLU(0.2),
    )


@ARCHS.register("feature_net")
class FeatureNet(ConfigModule):
    Config = FeatureNetConfig
    tiny_config = dict(resolution=16, channels=(4, 8))

    def __init__(self, config: FeatureNetConfig):
        super().__init__(config)
        widths = (3, *config.channels)
        self.stages = nn.ModuleList(_stage(a, b) for a, b in zip(widths[:-1], widths[1:]))
        up: list[nn.Module] = []
        for c_in, c_out in zip(widths[:0:-1], (*widths[-2:0:-1], 32)):
            up += [nn.Upsample(scale_factor=2), nn.Conv2d(c_in, c_out, 3, padding=1), nn.LeakyReLU(0.2)]
        self.decoder = nn.Sequential(*up, nn.Conv2d(32, 3, 3, padding=1))

    def resize(self, img: torch.Tensor) -> torch.Tensor:
        """img at the network's own resolution."""
        r = self.config.resolution
        if img.shape[-2:] != (r, r):
            img = F.interpolate(img, size=(r, r), mode="bilinear", align_corners=False,
                                antialias=img.shape[-1] > r)
        return img

    def feature_maps(self, img: torch.Tensor) -> list[torch.Tensor]:
        """One map per stage, finest first, for images in [-1, 1] of any size (resized)."""
        maps, x = [], self.resize(img)
        for stage in self.stages:
            x = stage(x)
            maps.append(x)
        return maps

    def forward(self, img: torch.Tensor) -> torch.Tensor:
        """The reconstruction of img (what training asks of it)."""
        return self.decoder(self.feature_maps(img)[-1])
