"""`mlp2d` and `mlp2d_d`: fully connected generator and discriminator for 2-D points.

The networks of the toy experiments (ring of 8 Gaussians, 5x5 grid, two moons, spiral):
widths and depths are options, so the playground can show what capacity does. They keep
the generator contract of the image models, `mapping(z, psi, cutoff, c) -> ws [B, 1, z_dim]`
and `synthesis(ws) -> points [B, out_dim]`, so the training recipes, snapshots, `ganstudio
export` and `ganstudio eval` treat them like any other generator. The mapping is the
identity (there is no w space); psi < 1 shrinks z towards the mean of N(0, I).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from ..registry import ARCHS
from .base import ConfigModule, Generator

ACTIVATIONS = {"relu": nn.ReLU, "leaky_relu": lambda: nn.LeakyReLU(0.2), "tanh": nn.Tanh, "elu": nn.ELU}


def mlp(sizes: list[int], activation: str) -> nn.Sequential:
    """Linear layers between consecutive sizes, the activation between them (none after the last)."""
    if activation not in ACTIVATIONS:
        raise ValueError(f"activation must be one of {', '.join(ACTIVATIONS)}, got {activation!r}")
    layers: list[nn.Module] = []
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(nn.Linear(a, b))
        if i < len(sizes) - 2:
            layers.append(ACTIVATIONS[activation]())
    return nn.Sequential(*layers)


def _check(width: int, depth: int, name: str) -> None:
    if not 1 <= int(width) <= 4096:
        raise ValueError(f"{name}: width must be between 1 and 4096, got {width}")
    if not 1 <= int(depth) <= 16:
        raise ValueError(f"{name}: depth (hidden layers) must be between 1 and 16, got {depth}")


@dataclass(frozen=True)
class MLP2DConfig:
    z_dim: int = 2
    width: int = 128  # units per hidden layer
    depth: int = 3  # hidden layers
    out_dim: int = 2
    activation: str = "relu"


@ARCHS.register("mlp2d")
class MLP2DGenerator(Generator):
    Config = MLP2DConfig
    tiny_config = dict(width=16, depth=2)
    discriminator = "mlp2d_d"
    num_ws = 1
    c_dim = 0

    def __init__(self, config: MLP2DConfig):
        super().__init__(config)
        c = config
        _check(c.width, c.depth, "mlp2d")
        if c.z_dim < 1 or c.out_dim < 1:
            raise ValueError(f"mlp2d: z_dim and out_dim must be positive, got {c.z_dim} and {c.out_dim}")
        self.z_dim = self.w_dim = c.z_dim
        self.net = mlp([c.z_dim] + [c.width] * c.depth + [c.out_dim], c.activation)

    def mapping(self, z: torch.Tensor, psi: float = 1.0, cutoff: int | None = None,
                c: torch.Tensor | None = None) -> torch.Tensor:
        return (z * psi if psi != 1.0 else z).unsqueeze(1)

    def synthesis(self, ws: torch.Tensor, noise_mode: str = "const") -> torch.Tensor:
        return self.net(ws[:, 0])


@dataclass(frozen=True)
class MLP2DDConfig:
    in_dim: int = 2
    width: int = 128
    depth: int = 3
    activation: str = "leaky_relu"
    pack: int = 1  # PacGAN: one decision per `pack` samples, their coordinates side by side
    minibatch: int = 0  # minibatch discrimination: kernels comparing each sample with the rest of its batch


MINIBATCH_KERNEL_DIM = 5  # C of Salimans et al.: each kernel compares samples in a 5-D projection


@ARCHS.register("mlp2d_d")
class MLP2DDiscriminator(ConfigModule):
    """Logits [B / pack] for points [B, in_dim]; `features` is the last hidden layer (feature
    matching). With pack m > 1 (PacGAN, Lin et al. 2018) D judges m samples of one kind at once,
    so a generator that puts all its samples on a few modes is caught by the lack of variety
    within a pack; the batch must be a multiple of m.

    With `minibatch` kernels (minibatch discrimination, Salimans et al. 2016) each decision also
    sees how close its sample lies to the others of its batch: every kernel projects the features
    to 5-D and adds, per sample, the mean of exp(-L1 distance) to the batch's other samples (1 for
    a batch of copies, near 0 for a varied one), so a collapsed batch is told apart from real data."""

    Config = MLP2DDConfig
    tiny_config = dict(width=16, depth=2)

    def __init__(self, config: MLP2DDConfig):
        super().__init__(config)
        c = config
        _check(c.width, c.depth, "mlp2d_d")
        if not 1 <= int(c.pack) <= 64:
            raise ValueError(f"mlp2d_d: pack must be between 1 and 64, got {c.pack}")
        if not 0 <= int(c.minibatch) <= 64:
            raise ValueError(f"mlp2d_d: minibatch kernels must be between 0 and 64, got {c.minibatch}")
        body = mlp([c.in_dim * c.pack] + [c.width] * c.depth, c.activation)
        self.body = nn.Sequential(*body, ACTIVATIONS[c.activation]())
        if c.minibatch:
            self.kernels = nn.Parameter(torch.randn(c.width, c.minibatch * MINIBATCH_KERNEL_DIM) * 0.1)
        self.out = nn.Linear(c.width + c.minibatch, 1)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        x, pack = x.flatten(1), self.config.pack
        if len(x) % pack:
            raise ValueError(f"mlp2d_d judges packs of {pack} samples; got a batch of {len(x)}")
        return self.body(x.reshape(len(x) // pack, -1))

    def forward(self, x: torch.Tensor, c: torch.Tensor | None = None) -> torch.Tensor:
        return self._decide(self.features(x), copies=False)

    def point_scores(self, x: torch.Tensor) -> torch.Tensor:
        """A logit per point [B] (the heat map): each point judged as a pack, and a batch, of copies
        of itself."""
        return self._decide(self.features(x.repeat_interleave(self.config.pack, dim=0)), copies=True)

    def _decide(self, features: torch.Tensor, copies: bool) -> torch.Tensor:
        if self.config.minibatch:
            features = torch.cat([features, self._closeness(features, copies)], 1)
        return self.out(features).squeeze(1)

    def _closeness(self, features: torch.Tensor, copies: bool) -> torch.Tensor:
        """[N, kernels]: per decision, its mean exp(-L1) closeness to the batch's other decisions."""
        n, kernels = len(features), self.config.minibatch
        if copies or n == 1:
            return features.new_ones(n, kernels)
        m = (features @ self.kernels).view(n, kernels, MINIBATCH_KERNEL_DIM).transpose(0, 1)  # [K, N, C]
        close = torch.exp(-torch.cdist(m, m, p=1))  # [K, N, N], 1 on the diagonal
        return ((close.sum(2) - 1) / (n - 1)).t()
