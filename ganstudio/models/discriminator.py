"""`stylegan_d`: the StyleGAN2 residual discriminator, usable with any generator.

fromRGB (1x1) -> one residual block per resolution down to 4x4 (two 3x3 convs, the second
blurred and strided, plus a blurred strided 1x1 skip, summed and scaled by 1/sqrt 2) ->
minibatch standard deviation -> 3x3 conv -> fully connected -> features [B, F] -> heads.
It lives in its own module because nothing in it depends on the generator's design;
the `_d` suffix pairs it with the `stylegan` generator it was designed for.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import nn

from ..registry import ARCHS
from .base import ConfigModule
from .layers import DiscriminatorHeads, EqualConv2d, EqualLinear, minibatch_stddev

CONDITIONING = ("none", "projection")


@dataclass(frozen=True)
class ResNetDConfig:
    """`c_dim` with conditioning="projection" makes the real/fake logit depend on c (Miyato &
    Koyama); `n_classes` adds ACGAN class logits; `q_categorical` (sizes) and `q_continuous`
    (count) add the InfoGAN Q head. `spectral_norm` replaces equalized lr by spectral norm.
    `conv_clamp` clamps fromRGB, the blocks' 3x3 convolutions and the final conv to
    [-conv_clamp, conv_clamp] after their activation, as StyleGAN2-ADA's D does (imported ones
    need it; None, the default and what checkpoints without the field get, clamps nothing)."""

    resolution: int = 64
    channel_base: int = 2048
    channel_max: int = 128
    c_dim: int = 0
    conditioning: str = "none"
    mbstd_group: int = 4
    mbstd_features: int = 1
    spectral_norm: bool = False
    n_classes: int = 0
    q_categorical: tuple[int, ...] = ()
    q_continuous: int = 0
    conv_clamp: float | None = None

    def __post_init__(self):
        object.__setattr__(self, "q_categorical", tuple(self.q_categorical))
        r = self.resolution
        if not (isinstance(r, int) and 8 <= r <= 1024 and r & (r - 1) == 0):
            raise ValueError(f"stylegan_d resolution must be a power of two from 8 to 1024, got {r!r}")
        if self.conditioning not in CONDITIONING:
            known = ", ".join(CONDITIONING)
            raise ValueError(f"stylegan_d conditioning must be one of {known}, got {self.conditioning!r}")
        if (self.conditioning == "projection") != (self.c_dim > 0):
            raise ValueError("stylegan_d: conditioning='projection' needs c_dim > 0, and c_dim > 0 needs it")
        if self.channels(4) % self.mbstd_features:
            raise ValueError(
                f"stylegan_d: mbstd_features {self.mbstd_features} must divide the {self.channels(4)} channels at 4x4"
            )
        clamp = self.conv_clamp
        if clamp is not None and not (isinstance(clamp, (int, float)) and not isinstance(clamp, bool) and clamp > 0):
            raise ValueError(f"stylegan_d conv_clamp must be a positive number or null, got {clamp!r}")
        if self.channel_base // r < 1:
            raise ValueError(f"stylegan_d channel_base {self.channel_base} gives no channels at {r} px")

    def channels(self, res: int) -> int:
        return min(self.channel_base // res, self.channel_max)


class ResBlock(nn.Module):
    def __init__(self, in_channels: int, out_channels: int, spectral: bool, clamp: float | None = None):
        super().__init__()
        self.conv0 = EqualConv2d(in_channels, in_channels, 3, spectral=spectral, clamp=clamp)
        self.conv1 = EqualConv2d(in_channels, out_channels, 3, down=True, spectral=spectral, clamp=clamp)
        self.skip = EqualConv2d(
            in_channels, out_channels, 1, bias=False, activation=False, down=True, spectral=spectral
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return (self.conv1(self.conv0(x)) + self.skip(x)) * (1 / math.sqrt(2))


@ARCHS.register("stylegan_d")
class ResNetDiscriminator(ConfigModule):
    Config = ResNetDConfig
    tiny_config = dict(resolution=16, channel_base=256, channel_max=16)

    def __init__(self, config: ResNetDConfig):
        super().__init__(config)
        c, sn, clamp = config, config.spectral_norm, config.conv_clamp
        self.resolution, self.c_dim = c.resolution, c.c_dim
        self.from_rgb = EqualConv2d(3, c.channels(c.resolution), 1, spectral=sn, clamp=clamp)
        resolutions = [2**i for i in range(int(math.log2(c.resolution)), 2, -1)]
        self.blocks = nn.Sequential(*(ResBlock(c.channels(r), c.channels(r // 2), sn, clamp) for r in resolutions))
        ch = c.channels(4)
        self.final_conv = EqualConv2d(ch + c.mbstd_features, ch, 3, spectral=sn, clamp=clamp)
        self.final_fc = EqualLinear(ch * 16, ch, activation=True, spectral=sn)
        self.head = DiscriminatorHeads(
            ch,
            c_dim=c.c_dim,
            projection=c.conditioning == "projection",
            n_classes=c.n_classes,
            q_categorical=c.q_categorical,
            q_continuous=c.q_continuous,
            spectral=sn,
        )

    def features(self, img: torch.Tensor) -> torch.Tensor:
        """Penultimate features [B, F] (F = channels at 4x4), for feature matching and perceptual terms."""
        x = self.blocks(self.from_rgb(img))
        x = minibatch_stddev(x, self.config.mbstd_group, self.config.mbstd_features)
        return self.final_fc(self.final_conv(x).flatten(1))

    def heads(self, img: torch.Tensor, c: torch.Tensor | None = None) -> dict[str, torch.Tensor]:
        """logits [B], features [B, F], and class_logits / q_* where configured."""
        return self.head(self.features(img), c)

    def forward(self, img: torch.Tensor, c: torch.Tensor | None = None) -> torch.Tensor:
        return self.heads(img, c)["logits"]
