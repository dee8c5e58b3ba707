"""`tiny` and `tiny_d`: the smallest generator and discriminator that honour the contracts.

They exist so tests, the CLI, the trainer and the studio can exercise the whole pipeline in
milliseconds; they are also the shortest readable examples of the contracts:

- generator: `mapping(z, psi, cutoff, c) -> ws [B, num_ws, w_dim]`,
  `synthesis(ws) -> [-1, 1] images`, optional condition `c [B, c_dim]`;
- discriminator: `forward(img, c) -> logits [B]`, `features(img) -> [B, F]`, and
  `heads(img, c) -> dict` with the optional class head (ACGAN) and Q head (InfoGAN).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from ..registry import ARCHS
from .base import ConfigModule, Generator
from .minibatch import MinibatchDiscrimination


@dataclass(frozen=True)
class TinyConfig:
    z_dim: int = 8
    w_dim: int = 8
    num_ws: int = 2
    resolution: int = 16
    hidden: int = 32
    c_dim: int = 0  # length of the condition vector c (0: unconditional)


@ARCHS.register("tiny")
class TinyGenerator(Generator):
    Config = TinyConfig
    tiny_config = dict(resolution=16, hidden=16)
    discriminator = "tiny_d"

    def __init__(self, config: TinyConfig):
        super().__init__(config)
        c = config
        self.z_dim, self.w_dim, self.num_ws, self.resolution = c.z_dim, c.w_dim, c.num_ws, c.resolution
        self.c_dim = c.c_dim
        self.mapping_net = nn.Sequential(
            nn.Linear(c.z_dim + c.c_dim, c.hidden), nn.LeakyReLU(0.2), nn.Linear(c.hidden, c.w_dim)
        )
        self.synth_net = nn.Sequential(
            nn.Linear(c.w_dim * c.num_ws, c.hidden), nn.LeakyReLU(0.2), nn.Linear(c.hidden, 3 * c.resolution**2)
        )
        self.register_buffer("w_avg", torch.zeros(c.w_dim))

    def mapping(
        self, z: torch.Tensor, psi: float = 1.0, cutoff: int | None = None, c: torch.Tensor | None = None
    ) -> torch.Tensor:
        if self.c_dim:
            # No condition (e.g. plain sampling in the studio) means the all-zero condition.
            c = z.new_zeros(z.shape[0], self.c_dim) if c is None else c.to(z.dtype)
            z = torch.cat([z, c], dim=1)
        w = self.mapping_net(z)
        ws = w.unsqueeze(1).repeat(1, self.num_ws, 1)
        if psi != 1.0:
            layers = slice(0, cutoff) if cutoff is not None else slice(None)
            ws[:, layers] = self.w_avg.lerp(ws[:, layers], psi)
        return ws

    def synthesis(self, ws: torch.Tensor, noise_mode: str = "const") -> torch.Tensor:
        x = self.synth_net(ws.flatten(1))
        return torch.tanh(x).view(-1, 3, self.resolution, self.resolution)

    def style_affines(self) -> list[torch.Tensor]:
        """The weights that read each w row ([out, w_dim] per row), for SeFa."""
        return list(self.synth_net[0].weight.split(self.w_dim, dim=1))


@dataclass(frozen=True)
class TinyDConfig:
    resolution: int = 16
    hidden: int = 32
    c_dim: int = 0  # projection conditioning on c [B, c_dim] (cGAN); 0: unconditional
    n_classes: int = 0  # auxiliary class head (ACGAN); 0: none
    q_categorical: tuple[int, ...] = ()  # InfoGAN categorical codes, one entry per code: its number of values
    q_continuous: int = 0  # InfoGAN continuous codes
    minibatch_kernels: int = 0  # minibatch discrimination features appended before the output


@ARCHS.register("tiny_d")
class TinyDiscriminator(ConfigModule):
    Config = TinyDConfig
    tiny_config = dict(resolution=16, hidden=16)

    def __init__(self, config: TinyDConfig):
        super().__init__(config)
        c = config
        self.resolution, self.c_dim = c.resolution, c.c_dim
        self.body = nn.Sequential(nn.Flatten(), nn.Linear(3 * c.resolution**2, c.hidden), nn.LeakyReLU(0.2))
        self.minibatch = MinibatchDiscrimination(c.hidden, c.minibatch_kernels) if c.minibatch_kernels else None
        features = c.hidden + c.minibatch_kernels
        self.out = nn.Linear(features, 1)
        self.embed = nn.Linear(c.c_dim, features, bias=False) if c.c_dim else None
        self.class_head = nn.Linear(features, c.n_classes) if c.n_classes else None
        q_size = sum(c.q_categorical) + 2 * c.q_continuous
        self.q_head = nn.Sequential(nn.Linear(features, c.hidden), nn.LeakyReLU(0.2), nn.Linear(c.hidden, q_size)) \
            if q_size else None

    def features(self, img: torch.Tensor) -> torch.Tensor:
        h = self.body(img)
        return self.minibatch(h) if self.minibatch is not None else h

    def _logits(self, h: torch.Tensor, c: torch.Tensor | None) -> torch.Tensor:
        logits = self.out(h).squeeze(1)
        if self.embed is not None:
            if c is None:
                raise ValueError(f"tiny_d was built with c_dim={self.c_dim} and needs a condition c")
            logits = logits + (self.embed(c.to(h.dtype)) * h).sum(1)  # projection discriminator
        return logits

    def forward(self, img: torch.Tensor, c: torch.Tensor | None = None) -> torch.Tensor:
        return self._logits(self.features(img), c)

    def heads(self, img: torch.Tensor, c: torch.Tensor | None = None) -> dict[str, torch.Tensor]:
        h = self.features(img)
        out = {"logits": self._logits(h, c), "features": h}
        if self.class_head is not None:
            out["class_logits"] = self.class_head(h)
        if self.q_head is not None:
            q = self.q_head(h)
            n_cat = sum(self.config.q_categorical)
            if n_cat:
                out["q_cat_logits"] = q[:, :n_cat]  # the codes' logits side by side
            if self.config.q_continuous:
                out["q_cont_mean"], out["q_cont_logvar"] = q[:, n_cat:].chunk(2, dim=1)
        return out
