"""`dcgan` and `dcgan_d`: the baseline of the lecture notes (Radford et al.), with the
conditional variants built on it.

Generator: z (+ a learned embedding of the label vector c) -> 4x4 by a transposed conv, then
stride-2 transposed convs with batch norm and ReLU doubling the size, tanh at the end.
Discriminator: stride-2 convs with leaky ReLU (batch norm after the first), flattened 4x4
features, then the shared heads: real/fake logit (optionally projected on c), ACGAN class
logits, InfoGAN Q outputs. Label conditioning of D is by projection or by concatenating c
to the image as constant planes.

To serve the studio like a style generator, the DCGAN generator has one "w" row:
w = z (or [z, embed(c)]), num_ws = 1, and w_avg is the mean of z, zero. Truncation pulls only
the z part towards it; the label part is never truncated.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn
from torch.nn.utils import parametrizations

from ..registry import ARCHS
from .base import ConfigModule, Generator
from .layers import DiscriminatorHeads, truncate

NOISE_MODES = ("random", "const", "none")
D_CONDITIONING = ("none", "projection", "concat")


def _check_resolution(arch: str, r: object) -> None:
    if not (isinstance(r, int) and 16 <= r <= 256 and r & (r - 1) == 0):
        raise ValueError(f"{arch} resolution must be a power of two from 16 to 256, got {r!r}")


def _width(base: int, resolution: int, res: int) -> int:
    """Feature maps at `res`: doubling per halving of size from `base` at resolution/2, at most 8x."""
    return base * min(resolution // (2 * res), 8)


def _dcgan_init(module: nn.Module) -> None:
    """The DCGAN paper's initialisation: N(0, 0.02) convolutions, N(1, 0.02) batch-norm scales."""
    for m in module.modules():
        if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d)):
            nn.init.normal_(m.weight, 0.0, 0.02)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, nn.BatchNorm2d):
            nn.init.normal_(m.weight, 1.0, 0.02)
            nn.init.zeros_(m.bias)


@dataclass(frozen=True)
class DCGANConfig:
    resolution: int = 64
    z_dim: int = 100
    c_dim: int = 0
    c_embed_dim: int = 32
    ngf: int = 64

    def __post_init__(self):
        _check_resolution("dcgan", self.resolution)
        if self.z_dim < 1 or self.ngf < 1 or self.c_dim < 0 or (self.c_dim and self.c_embed_dim < 1):
            raise ValueError(f"dcgan: z_dim, ngf (and c_embed_dim when c_dim > 0) must be positive: {self}")


@ARCHS.register("dcgan")
class DCGANGenerator(Generator):
    Config = DCGANConfig
    tiny_config = dict(resolution=16, z_dim=8, ngf=8)
    discriminator = "dcgan_d"
    train_defaults = {"lr": 2e-4, "betas": (0.5, 0.999)}

    def __init__(self, config: DCGANConfig):
        super().__init__(config)
        c = config
        self.z_dim, self.c_dim, self.resolution, self.num_ws = c.z_dim, c.c_dim, c.resolution, 1
        self.w_dim = c.z_dim + (c.c_embed_dim if c.c_dim else 0)
        self.embed = nn.Linear(c.c_dim, c.c_embed_dim, bias=False) if c.c_dim else None
        ch = _width(c.ngf, c.resolution, 4)
        layers: list[nn.Module] = [
            nn.ConvTranspose2d(self.w_dim, ch, 4, 1, 0, bias=False), nn.BatchNorm2d(ch), nn.ReLU()
        ]
        res = 4
        while res < c.resolution // 2:
            res *= 2
            out = _width(c.ngf, c.resolution, res)
            layers += [nn.ConvTranspose2d(ch, out, 4, 2, 1, bias=False), nn.BatchNorm2d(out), nn.ReLU()]
            ch = out
        layers += [nn.ConvTranspose2d(ch, 3, 4, 2, 1), nn.Tanh()]
        self.net = nn.Sequential(*layers)
        self.register_buffer("w_avg", torch.zeros(self.w_dim))
        _dcgan_init(self)

    def mapping(
        self, z: torch.Tensor, psi: float = 1.0, cutoff: int | None = None, c: torch.Tensor | None = None
    ) -> torch.Tensor:
        """w [B, 1, w_dim] = [z truncated towards 0 by psi, embed(c)]."""
        # A copy, so callers that edit ws in place never write into their z.
        w = truncate(z.unsqueeze(1).clone(), self.w_avg[: self.z_dim], psi, cutoff)
        if self.embed is not None:
            if c is None:
                raise ValueError("this generator is conditional: pass c [B, c_dim]")
            w = torch.cat([w, self.embed(c.to(z.dtype)).unsqueeze(1)], dim=2)
        return w

    def synthesis(self, ws: torch.Tensor, noise_mode: str = "const") -> torch.Tensor:
        """Images [B, 3, R, R] in [-1, 1]; DCGAN has no noise inputs, so noise_mode changes nothing."""
        if noise_mode not in NOISE_MODES:
            raise ValueError(f"noise_mode must be one of {', '.join(NOISE_MODES)}, got {noise_mode!r}")
        if ws.ndim != 3 or ws.shape[1:] != (1, self.w_dim):
            raise ValueError(f"ws must be [B, 1, {self.w_dim}], got {list(ws.shape)}")
        return self.net(ws[:, 0, :, None, None])


@dataclass(frozen=True)
class DCGANDConfig:
    """`batch_norm=False` for gradient-penalty objectives (WGAN-GP penalises per-sample gradients,
    which batch statistics mix); `spectral_norm` normalises every conv and linear weight."""

    resolution: int = 64
    ndf: int = 64
    c_dim: int = 0
    conditioning: str = "none"
    batch_norm: bool = True
    spectral_norm: bool = False
    n_classes: int = 0
    q_categorical: tuple[int, ...] = ()
    q_continuous: int = 0

    def __post_init__(self):
        object.__setattr__(self, "q_categorical", tuple(self.q_categorical))
        _check_resolution("dcgan_d", self.resolution)
        if self.conditioning not in D_CONDITIONING:
            known = ", ".join(D_CONDITIONING)
            raise ValueError(f"dcgan_d conditioning must be one of {known}, got {self.conditioning!r}")
        if (self.conditioning != "none") != (self.c_dim > 0):
            raise ValueError("dcgan_d: conditioning 'projection' or 'concat' needs c_dim > 0, and c_dim > 0 needs one")
        if self.ndf < 1:
            raise ValueError(f"dcgan_d ndf must be positive, got {self.ndf}")


@ARCHS.register("dcgan_d")
class DCGANDiscriminator(ConfigModule):
    Config = DCGANDConfig
    tiny_config = dict(resolution=16, ndf=8)

    def __init__(self, config: DCGANDConfig):
        super().__init__(config)
        c = config
        self.resolution, self.c_dim = c.resolution, c.c_dim
        in_ch = 3 + (c.c_dim if c.conditioning == "concat" else 0)
        ch = _width(c.ndf, c.resolution, c.resolution // 2)
        layers: list[nn.Module] = [nn.Conv2d(in_ch, ch, 4, 2, 1), nn.LeakyReLU(0.2)]
        res = c.resolution // 2
        while res > 4:
            res //= 2
            out = _width(c.ndf, c.resolution, res)
            layers.append(nn.Conv2d(ch, out, 4, 2, 1, bias=not c.batch_norm))
            if c.batch_norm:
                layers.append(nn.BatchNorm2d(out))
            layers.append(nn.LeakyReLU(0.2))
            ch = out
        self.net = nn.Sequential(*layers)
        self.head = DiscriminatorHeads(
            ch * 16,
            c_dim=c.c_dim,
            projection=c.conditioning == "projection",
            n_classes=c.n_classes,
            q_categorical=c.q_categorical,
            q_continuous=c.q_continuous,
            spectral=c.spectral_norm,
        )
        _dcgan_init(self.net)
        if c.spectral_norm:  # after the initialisation, which writes the raw weights
            for m in self.net:
                if isinstance(m, nn.Conv2d):
                    parametrizations.spectral_norm(m)

    def features(self, img: torch.Tensor, c: torch.Tensor | None = None) -> torch.Tensor:
        """Flattened 4x4 feature maps [B, 16 * channels]; c is needed only for concat conditioning."""
        if self.config.conditioning == "concat":
            if c is None:
                raise ValueError("this discriminator is conditional (concat): pass c [B, c_dim]")
            planes = c.to(img.dtype)[:, :, None, None].expand(-1, -1, *img.shape[2:])
            img = torch.cat([img, planes], dim=1)
        return self.net(img).flatten(1)

    def heads(self, img: torch.Tensor, c: torch.Tensor | None = None) -> dict[str, torch.Tensor]:
        """logits [B], features, and class_logits / q_* where configured."""
        return self.head(self.features(img, c), c)

    def forward(self, img: torch.Tensor, c: torch.Tensor | None = None) -> torch.Tensor:
        return self.heads(img, c)["logits"]
