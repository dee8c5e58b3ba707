"""`encoder`: a ResNet image -> latent code (z, w or w+) network, trained against a frozen generator.

It predicts an offset from the generator's mean code (`center`, copied from G's w_avg
when training starts), which makes the untrained encoder already land on average faces
and speeds up training. w+ output adds a small per-row correction to one shared w.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import nn
import torch.nn.functional as F

from ..registry import ARCHS
from .base import ConfigModule


@dataclass(frozen=True)
class EncoderConfig:
    resolution: int = 64
    code_dim: int = 512  # w_dim (or z_dim when space = "z")
    space: str = "w+"  # "z", "w" or "w+"
    num_ws: int = 10  # rows of a w+ code
    channel_base: int = 2048
    channel_max: int = 256
    blocks_per_level: int = 1


class _ResBlock(nn.Module):
    """Pre-activation residual block that halves the resolution."""

    def __init__(self, cin: int, cout: int):
        super().__init__()
        self.norm1 = nn.GroupNorm(min(8, cin), cin)
        self.conv1 = nn.Conv2d(cin, cout, 3, padding=1)
        self.norm2 = nn.GroupNorm(min(8, cout), cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, padding=1)
        self.skip = nn.Conv2d(cin, cout, 1, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.conv1(F.leaky_relu(self.norm1(x), 0.2))
        h = self.conv2(F.leaky_relu(self.norm2(h), 0.2))
        return F.avg_pool2d(h + self.skip(x), 2) / math.sqrt(2)


class _Block(nn.Module):
    """A resolution-preserving residual block (for deeper levels)."""

    def __init__(self, ch: int):
        super().__init__()
        self.body = nn.Sequential(
            nn.GroupNorm(min(8, ch), ch), nn.LeakyReLU(0.2), nn.Conv2d(ch, ch, 3, padding=1),
            nn.GroupNorm(min(8, ch), ch), nn.LeakyReLU(0.2), nn.Conv2d(ch, ch, 3, padding=1),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return (x + self.body(x)) / math.sqrt(2)


@ARCHS.register("encoder")
class Encoder(ConfigModule):
    Config = EncoderConfig
    tiny_config = dict(resolution=16, code_dim=8, num_ws=4, channel_base=64, channel_max=16)
    train_defaults = {"lr": 3e-4, "betas": (0.9, 0.999)}

    def __init__(self, config: EncoderConfig):
        super().__init__(config)
        c = config
        if c.space not in ("z", "w", "w+"):
            raise ValueError(f"encoder space must be z, w or w+, got '{c.space}'")
        levels = int(math.log2(c.resolution)) - 2
        if 2 ** (levels + 2) != c.resolution or levels < 1:
            raise ValueError(f"encoder resolution must be a power of two >= 8, got {c.resolution}")
        self.space, self.resolution, self.num_ws = c.space, c.resolution, c.num_ws
        def channels(res: int) -> int:
            return min(c.channel_base // res, c.channel_max)

        self.stem = nn.Conv2d(3, channels(c.resolution), 3, padding=1)
        layers: list[nn.Module] = []
        res = c.resolution
        while res > 4:
            layers += [_Block(channels(res)) for _ in range(c.blocks_per_level - 1)]
            layers.append(_ResBlock(channels(res), channels(res // 2)))
            res //= 2
        self.body = nn.Sequential(*layers)
        hidden = max(c.code_dim, 64)
        self.hidden = nn.Sequential(nn.Flatten(), nn.LeakyReLU(0.2), nn.Linear(channels(4) * 16, hidden), nn.LeakyReLU(0.2))
        self.head = nn.Linear(hidden, c.code_dim)
        self.rows = nn.Linear(hidden, c.num_ws * c.code_dim) if c.space == "w+" else None
        if self.rows is not None:
            nn.init.zeros_(self.rows.weight)
            nn.init.zeros_(self.rows.bias)
        self.register_buffer("center", torch.zeros(c.code_dim))

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        h = self.hidden(self.body(self.stem(image)))
        code = self.center + self.head(h)
        if self.rows is None:
            return code
        deltas = self.rows(h).view(-1, self.num_ws, self.config.code_dim)
        return code.unsqueeze(1) + deltas
