"""`tiny`: the smallest generator that honours the style-generator contract.

It exists so tests, the CLI and the studio can exercise the whole pipeline in
milliseconds; it is also the shortest readable example of the contract:
`mapping(z, psi, cutoff) -> ws [B, num_ws, w_dim]`, `synthesis(ws) -> [-1, 1] images`.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from ..registry import ARCHS
from .base import ConfigModule


@dataclass(frozen=True)
class TinyConfig:
    z_dim: int = 8
    w_dim: int = 8
    num_ws: int = 2
    resolution: int = 16
    hidden: int = 32


@ARCHS.register("tiny")
class TinyGenerator(ConfigModule):
    Config = TinyConfig

    def __init__(self, config: TinyConfig):
        super().__init__(config)
        c = config
        self.z_dim, self.w_dim, self.num_ws, self.resolution = c.z_dim, c.w_dim, c.num_ws, c.resolution
        self.mapping_net = nn.Sequential(nn.Linear(c.z_dim, c.hidden), nn.LeakyReLU(0.2), nn.Linear(c.hidden, c.w_dim))
        self.synth_net = nn.Sequential(
            nn.Linear(c.w_dim * c.num_ws, c.hidden), nn.LeakyReLU(0.2), nn.Linear(c.hidden, 3 * c.resolution**2)
        )
        self.register_buffer("w_avg", torch.zeros(c.w_dim))

    def mapping(self, z: torch.Tensor, psi: float = 1.0, cutoff: int | None = None) -> torch.Tensor:
        w = self.mapping_net(z)
        ws = w.unsqueeze(1).repeat(1, self.num_ws, 1)
        if psi != 1.0:
            layers = slice(0, cutoff) if cutoff is not None else slice(None)
            ws[:, layers] = self.w_avg.lerp(ws[:, layers], psi)
        return ws

    def synthesis(self, ws: torch.Tensor, noise_mode: str = "const") -> torch.Tensor:
        x = self.synth_net(ws.flatten(1))
        return torch.tanh(x).view(-1, 3, self.resolution, self.resolution)

    def forward(self, z: torch.Tensor, psi: float = 1.0, cutoff: int | None = None) -> torch.Tensor:
        return self.synthesis(self.mapping(z, psi, cutoff))

    def style_affines(self) -> list[torch.Tensor]:
        """The weights that read each w row ([out, w_dim] per row), for SeFa."""
        return list(self.synth_net[0].weight.split(self.w_dim, dim=1))
